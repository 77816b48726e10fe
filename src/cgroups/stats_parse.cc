#include "cgroups/stats_parse.h"

#include <cstdlib>

#include "cgroups/fs.h"

namespace guise::cgroups {

namespace {

std::vector<std::string_view> split_any(std::string_view s, std::string_view seps) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t end = s.find_first_of(seps, start);
    if (end == std::string_view::npos) end = s.size();
    if (end > start) out.push_back(s.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

bool to_u64(std::string_view s, uint64_t& out) {
  if (s.empty()) return false;
  std::string text(s);
  char* end = nullptr;
  unsigned long long v = std::strtoull(text.c_str(), &end, 10);
  if (*end != '\0' || text[0] == '-') return false;
  out = v;
  return true;
}

bool parse_dev(std::string_view s, uint64_t& major, uint64_t& minor) {
  auto colon = s.find(':');
  return colon != std::string_view::npos && to_u64(s.substr(0, colon), major) && to_u64(s.substr(colon + 1), minor);
}

}  // namespace

std::vector<uint16_t> parse_id_list(std::string_view text) {
  std::vector<uint16_t> out;
  for (auto part : split_any(text, ",\n ")) {
    auto dash = part.find('-');
    uint64_t lo = 0, hi = 0;
    if (dash == std::string_view::npos) {
      if (!to_u64(part, lo)) continue;
      hi = lo;
    } else if (!to_u64(part.substr(0, dash), lo) || !to_u64(part.substr(dash + 1), hi)) {
      continue;
    }
    for (uint64_t i = lo; i <= hi && i <= UINT16_MAX; ++i) out.push_back(static_cast<uint16_t>(i));
  }
  return out;
}

std::vector<uint64_t> parse_number_list(std::string_view text) {
  std::vector<uint64_t> out;
  for (auto word : split_any(text, " \n\t")) {
    uint64_t v = 0;
    if (to_u64(word, v)) out.push_back(v);
  }
  return out;
}

std::vector<BlkioEntry> parse_blkio_v1(std::string_view text) {
  std::vector<BlkioEntry> out;
  for (auto line : split_any(text, "\n")) {
    auto f = split_any(line, " ");
    BlkioEntry e;
    if (f.size() != 3 || !parse_dev(f[0], e.major, e.minor) || !to_u64(f[2], e.value)) continue;
    e.op = std::string(f[1]);
    out.push_back(std::move(e));
  }
  return out;
}

BlkioStats parse_io_stat(std::string_view text) {
  BlkioStats s;
  for (auto line : split_any(text, "\n")) {
    auto f = split_any(line, " ");
    uint64_t major = 0, minor = 0;
    if (f.empty() || !parse_dev(f[0], major, minor)) continue;
    for (size_t i = 1; i < f.size(); ++i) {
      auto eq = f[i].find('=');
      if (eq == std::string_view::npos) continue;
      auto key = f[i].substr(0, eq);
      uint64_t v = 0;
      if (!to_u64(f[i].substr(eq + 1), v)) continue;
      if (key == "rbytes") s.service_bytes.push_back({major, minor, "Read", v});
      else if (key == "wbytes") s.service_bytes.push_back({major, minor, "Write", v});
      else if (key == "rios") s.serviced.push_back({major, minor, "Read", v});
      else if (key == "wios") s.serviced.push_back({major, minor, "Write", v});
    }
  }
  return s;
}

std::string hugetlb_size_of(std::string_view name) {
  constexpr std::string_view kPrefix = "hugetlb.";
  if (!name.starts_with(kPrefix)) return "";
  name.remove_prefix(kPrefix.size());
  auto dot = name.find('.');
  if (dot == std::string_view::npos || dot == 0) return "";
  std::string size(name.substr(0, dot));
  if (!size.ends_with("B")) return "";
  return size;
}

namespace {

bool parse_pressure_line(std::string_view line, PressureLine& out) {
  bool any = false;
  for (auto field : split_any(line, " ")) {
    auto eq = field.find('=');
    if (eq == std::string_view::npos) continue;
    auto key = field.substr(0, eq);
    std::string value(field.substr(eq + 1));
    char* end = nullptr;
    if (key == "total") {
      uint64_t v = 0;
      if (to_u64(value, v)) out.total_us = v, any = true;
      continue;
    }
    double d = std::strtod(value.c_str(), &end);
    if (end == value.c_str() || *end != '\0') continue;
    if (key == "avg10") out.avg10 = d, any = true;
    else if (key == "avg60") out.avg60 = d, any = true;
    else if (key == "avg300") out.avg300 = d, any = true;
  }
  return any;
}

}  // namespace

std::optional<Pressure> parse_pressure(std::string_view text) {
  std::optional<Pressure> out;
  for (auto line : split_any(text, "\n")) {
    PressureLine l;
    if (line.starts_with("some ") && parse_pressure_line(line.substr(5), l)) {
      if (!out) out.emplace();
      out->some = l;
    } else if (line.starts_with("full ") && parse_pressure_line(line.substr(5), l)) {
      if (!out) out.emplace();
      out->full = l;
    }
  }
  if (out && text.find("some ") == std::string_view::npos) return std::nullopt;
  return out;
}

std::optional<PressureStats> read_pressure(const std::string& dir) {
  PressureStats s;
  bool any = false;
  auto one = [&](const char* file, std::optional<Pressure>& into) {
    if (!fs::exists(dir, file)) return;
    auto text = fs::read(dir, file);
    if (!text.ok()) return;  // EOPNOTSUPP with psi=0: not there, whatever the file says
    into = parse_pressure(*text);
    any = any || into.has_value();
  };
  one("cpu.pressure", s.cpu);
  one("memory.pressure", s.memory);
  one("io.pressure", s.io);
  if (!any) return std::nullopt;
  return s;
}

}  // namespace guise::cgroups
