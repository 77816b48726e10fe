#include "cli/guise/human.h"

#include <cstdio>
#include <ctime>

namespace guise::cli {

std::string human_size(int64_t bytes) {
  static const char* const kUnits[] = {"B", "kB", "MB", "GB", "TB", "PB"};
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1000 && u < 5) {
    v /= 1000;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3g%s", v, kUnits[u]);
  return buf;
}

std::string binary_size(uint64_t bytes) {
  static const char* const kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1024 && u < 6) {
    v /= 1024;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4g%s", v, kUnits[u]);
  return buf;
}

std::string human_duration(int64_t s) {
  auto n = [](int64_t v, const char* unit) { return std::to_string(v) + " " + unit; };
  if (s < 1) return "Less than a second";
  if (s == 1) return "1 second";
  if (s < 60) return n(s, "seconds");
  int64_t minutes = s / 60;
  if (minutes == 1) return "About a minute";
  if (minutes < 60) return n(minutes, "minutes");
  int64_t hours = static_cast<int64_t>(static_cast<double>(s) / 3600 + 0.5);
  if (hours == 1) return "About an hour";
  if (hours < 48) return n(hours, "hours");
  if (hours < 24 * 7 * 2) return n(hours / 24, "days");
  if (hours < 24 * 30 * 2) return n(hours / 24 / 7, "weeks");
  if (hours < 24 * 365 * 2) return n(hours / 24 / 30, "months");
  return n(s / 3600 / 24 / 365, "years");
}

std::optional<int64_t> parse_rfc3339(std::string_view t) {
  struct tm tm {};
  std::string s(t);
  const char* rest = ::strptime(s.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
  if (!rest) return std::nullopt;
  if (*rest == '.')
    for (++rest; *rest >= '0' && *rest <= '9'; ++rest) {
    }
  int64_t offset = 0;
  if (*rest == '+' || *rest == '-') {
    int hh = 0, mm = 0;
    if (std::sscanf(rest + 1, "%2d:%2d", &hh, &mm) < 1) return std::nullopt;
    offset = (*rest == '+' ? 1 : -1) * (hh * 3600 + mm * 60);
  }
  return static_cast<int64_t>(::timegm(&tm)) - offset;
}

std::string since(std::string_view rfc3339, int64_t now) {
  auto t = parse_rfc3339(rfc3339);
  if (!t) return "N/A";
  return human_duration(now - *t) + " ago";
}

std::string created_at(std::string_view rfc3339) {
  auto t = parse_rfc3339(rfc3339);
  if (!t) return "";
  time_t tt = static_cast<time_t>(*t);
  struct tm tm {};
  ::gmtime_r(&tt, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S +0000 UTC", &tm);
  return buf;
}

}  // namespace guise::cli
