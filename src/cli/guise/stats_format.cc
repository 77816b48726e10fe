#include "cli/guise/stats_format.h"

#include <time.h>

#include <cctype>
#include <cstdio>
#include <cstdlib>

#include "cli/common/duration.h"
#include "cli/guise/human.h"

namespace guise::cli {

using nlohmann::json;

const char* const kStatsTable =
    "table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t"
    "{{.PIDs}} / {{.PIDsLimit}}\t{{.CPUThrottled}}\t{{.ThrottledTime}}\t{{.PSI}}\t{{.MemHighEvents}}\t{{.OOMKills}}";

const std::vector<std::pair<std::string, std::string>>& stats_headers() {
  static const std::vector<std::pair<std::string, std::string>> h = {
      {"ID", "CONTAINER ID"},        {"Name", "NAME"},           {"CPUPerc", "CPU %"},
      {"MemUsage", "MEM USAGE / LIMIT"}, {"MemPerc", "MEM %"},   {"NetIO", "NET I/O"},
      {"BlockIO", "BLOCK I/O"},      {"PIDs", "PIDS"},           {"PIDsLimit", "MAX"},
      {"CPUThrottled", "THROTTLED"}, {"ThrottledTime", "THR TIME"}, {"PSI", "PSI CPU/MEM/IO"},
      {"MemHighEvents", "MEM.HIGH"}, {"OOMKills", "OOM"},        {"Container", "CONTAINER"},
      {"CPUPressure", "CPU PSI"},    {"MemPressure", "MEM PSI"}, {"IOPressure", "IO PSI"},
      {"Periods", "PERIODS"},        {"ThrottledPeriods", "THR PERIODS"},
      {"ThrottledPeriodsTotal", "THR PERIODS TOTAL"}};
  return h;
}

namespace {

std::string percent(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f%%", v);
  return buf;
}

std::string decimal(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

json pressure_json(const std::optional<cgroups::Pressure>& p) {
  if (!p) return nullptr;
  json j = {{"some", p->some.avg10}};
  j["full"] = p->full ? json(p->full->avg10) : json(nullptr);
  return j;
}

std::string pressure_text(const std::optional<cgroups::Pressure>& p) {
  if (!p) return "--";
  return percent(p->some.avg10) + " / " + (p->full ? percent(p->full->avg10) : std::string("--"));
}

}  // namespace

std::string short_duration(uint64_t ns) {
  char buf[32];
  if (ns == 0) return "0s";
  if (ns < 1'000'000) std::snprintf(buf, sizeof buf, "%.3gus", double(ns) / 1e3);
  else if (ns < 1'000'000'000) std::snprintf(buf, sizeof buf, "%.3gms", double(ns) / 1e6);
  else std::snprintf(buf, sizeof buf, "%.3gs", double(ns) / 1e9);
  return buf;
}

json stats_row_json(const engine::StatsRow& r, const StatsNames& n) {
  json j = {{"BlockIO", human_size(int64_t(r.block_read)) + " / " + human_size(int64_t(r.block_write))},
            {"CPUPerc", percent(r.cpu_percent)},
            {"Container", n.container},
            {"ID", n.id},
            {"MemPerc", percent(r.mem_percent)},
            {"MemUsage", binary_size(r.mem_usage) + " / " + binary_size(r.mem_limit)},
            {"Name", n.name},
            {"NetIO", human_size(int64_t(r.net_rx)) + " / " + human_size(int64_t(r.net_tx))},
            {"PIDs", std::to_string(r.pids)}};
  j["PIDsLimit"] = r.pids_limit ? std::to_string(r.pids_limit) : "max";
  j["CPUThrottled"] = r.periods ? percent(r.throttled_percent()) : "--";
  j["ThrottledTime"] = short_duration(r.throttled_ns);
  j["Periods"] = r.periods;
  j["ThrottledPeriods"] = r.throttled_periods;
  j["ThrottledPeriodsTotal"] = r.throttled_periods_total;
  if (r.pressure) {
    const auto& p = *r.pressure;
    auto some = [](const std::optional<cgroups::Pressure>& x) { return x ? decimal(x->some.avg10) : std::string("--"); };
    j["CPUPressure"] = pressure_text(p.cpu);
    j["MemPressure"] = pressure_text(p.memory);
    j["IOPressure"] = pressure_text(p.io);
    j["PSI"] = some(p.cpu) + " / " + some(p.memory) + " / " + some(p.io);
    j["Pressure"] = {{"cpu", pressure_json(p.cpu)}, {"memory", pressure_json(p.memory)}, {"io", pressure_json(p.io)}};
  } else {
    j["CPUPressure"] = j["MemPressure"] = j["IOPressure"] = j["PSI"] = "--";
    j["Pressure"] = nullptr;
  }
  j["MemHighEvents"] = r.mem_high_events ? std::to_string(*r.mem_high_events) : "--";
  j["OOMKills"] = std::to_string(r.oom_kills);
  return j;
}

Result<int64_t> parse_event_time(std::string_view text, int64_t now_ns, std::string_view flag) {
  std::string s(text);
  auto bad = [&] {
    return sys::user_error(std::string(flag) + " \"" + s +
                           "\": not a time (RFC 3339 like 2026-12-05T08:00:00Z, Unix seconds, or a duration like 10m)");
  };
  if (s.empty()) return bad();
  // Unix seconds, with an optional fraction.
  if (s.find_first_not_of("0123456789.") == std::string::npos) {
    auto dot = s.find('.');
    if (dot == 0 || s.find('.', dot == std::string::npos ? 0 : dot + 1) != std::string::npos) return bad();
    int64_t secs = std::strtoll(s.substr(0, dot).c_str(), nullptr, 10);
    int64_t frac = 0;
    if (dot != std::string::npos) {
      std::string f = s.substr(dot + 1, 9);
      f.append(9 - f.size(), '0');
      frac = std::strtoll(f.c_str(), nullptr, 10);
    }
    return secs * 1'000'000'000 + frac;
  }
  // A date, with or without a time of day.
  if (s.size() >= 10 && std::isdigit((unsigned char)s[0]) && s[4] == '-' && s[7] == '-') {
    struct tm tm {};
    const char* rest = ::strptime(s.c_str(), "%Y-%m-%d", &tm);
    if (!rest) return bad();
    int64_t frac = 0, offset = 0;
    if (*rest == 'T' || *rest == ' ') {
      rest = ::strptime(rest + 1, "%H:%M", &tm);
      if (!rest) return bad();
      if (*rest == ':') {
        rest = ::strptime(rest + 1, "%S", &tm);
        if (!rest) return bad();
      }
      if (*rest == '.') {
        std::string f;
        for (++rest; std::isdigit((unsigned char)*rest); ++rest)
          if (f.size() < 9) f += *rest;
        f.append(9 - f.size(), '0');
        frac = std::strtoll(f.c_str(), nullptr, 10);
      }
    }
    if (*rest == 'Z') {
      ++rest;
    } else if (*rest == '+' || *rest == '-') {
      int hh = 0, mm = 0;
      if (std::sscanf(rest + 1, "%2d:%2d", &hh, &mm) != 2) return bad();
      offset = (*rest == '+' ? 1 : -1) * (hh * 3600 + mm * 60);
      rest += 6;
    }
    if (*rest != '\0') return bad();
    // docker reads a time without a zone as UTC here (the host's zone in docker).
    return (int64_t(::timegm(&tm)) - offset) * 1'000'000'000 + frac;
  }
  auto d = parse_duration(s);
  if (!d.ok()) return bad();
  return now_ns - d->count();
}

}  // namespace guise::cli
