#include "cli/common/duration.h"

#include <cctype>
#include <cstdlib>
#include <utility>

namespace guise::cli {

namespace {

// One digit run with an optional fraction, then a unit; repeated ("1h2m3.5s").
Result<std::chrono::nanoseconds> parse_duration_body(const std::string& text) {
  static const std::pair<const char*, double> kUnits[] = {{"ns", 1},     {"us", 1e3},   {"\xC2\xB5s", 1e3},
                                                          {"\xCE\xBCs", 1e3}, {"ms", 1e6}, {"s", 1e9},
                                                          {"m", 60e9},   {"h", 3600e9}};
  double total = 0;
  size_t i = 0;
  auto bad = [&] { return sys::user_error("invalid duration \"" + text + "\" (like 5s, 500ms, 1m30s)"); };
  if (text == "0") return std::chrono::nanoseconds(0);
  if (text.empty()) return bad();
  while (i < text.size()) {
    size_t start = i;
    while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.')) ++i;
    if (i == start) return bad();
    double value = std::strtod(text.substr(start, i - start).c_str(), nullptr);
    size_t unit_start = i;
    while (i < text.size() && !std::isdigit(static_cast<unsigned char>(text[i])) && text[i] != '.') ++i;
    std::string unit = text.substr(unit_start, i - unit_start);
    bool known = false;
    for (const auto& [name, scale] : kUnits)
      if (unit == name) {
        total += value * scale;
        known = true;
      }
    if (!known) return bad();
  }
  return std::chrono::nanoseconds(static_cast<int64_t>(total));
}

}  // namespace

Result<std::chrono::nanoseconds> parse_duration(const std::string& text) {
  std::string body = text;
  if (!body.empty() && (body[0] == '+' || body[0] == '-')) {
    if (body[0] == '-') return sys::user_error("duration interval must be greater than 0");
    body.erase(0, 1);
  }
  return parse_duration_body(body);
}

}  // namespace guise::cli
