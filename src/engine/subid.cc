#include "engine/subid.h"

#include <pwd.h>

#include <charconv>

#include "sys/syscalls.h"

namespace guise::engine {

namespace {

bool read_u32(std::string_view s, uint32_t& out) {
  if (s.empty()) return false;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && end == s.data() + s.size();
}

}  // namespace

std::vector<SubIdRange> parse_subids(std::string_view text, std::string_view name, uint32_t id) {
  std::vector<SubIdRange> out;
  std::string id_text = std::to_string(id);
  while (!text.empty()) {
    size_t eol = text.find('\n');
    std::string_view line = text.substr(0, eol);
    text.remove_prefix(eol == std::string_view::npos ? text.size() : eol + 1);
    if (line.empty() || line.front() == '#') continue;
    size_t a = line.find(':');
    size_t b = a == std::string_view::npos ? a : line.find(':', a + 1);
    if (b == std::string_view::npos) continue;
    std::string_view who = line.substr(0, a);
    if (who != name && who != id_text) continue;
    SubIdRange r;
    if (!read_u32(line.substr(a + 1, b - a - 1), r.start) || !read_u32(line.substr(b + 1), r.count)) continue;
    if (r.count == 0 || uint64_t{r.start} + r.count > UINT32_MAX) continue;
    out.push_back(r);
  }
  return out;
}

std::vector<SubIdRange> read_subids(const std::string& path, uid_t id) {
  auto text = sys::read_file(path);
  if (!text) return {};
  const passwd* pw = ::getpwuid(id);
  return parse_subids(*text, pw ? pw->pw_name : "", id);
}

uint64_t subid_total(const std::vector<SubIdRange>& ranges) {
  uint64_t n = 0;
  for (const auto& r : ranges) n += r.count;
  return n;
}

std::vector<oci::IdMapping> rootless_id_map(uint32_t own, const std::vector<SubIdRange>& ranges) {
  std::vector<oci::IdMapping> map = {{0, own, 1}};
  uint64_t next = 1;
  for (const auto& r : ranges) {
    if (next + r.count > UINT32_MAX) break;
    map.push_back({static_cast<uint32_t>(next), r.start, r.count});
    next += r.count;
  }
  return map;
}

}  // namespace guise::engine
