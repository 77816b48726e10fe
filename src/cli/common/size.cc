#include "cli/common/size.h"

#include <cctype>
#include <cmath>
#include <cstdlib>

namespace guise::cli {

Result<int64_t> parse_ram_bytes(const std::string& text, const std::string& flag) {
  if (text == "-1") return int64_t{-1};
  auto bad = [&] { return sys::user_error("invalid value for " + flag + ": \"" + text + "\" is not a size like 64m or 1g"); };
  size_t i = 0;
  while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.')) ++i;
  if (i == 0 || !std::isdigit(static_cast<unsigned char>(text[0]))) return bad();
  char* end = nullptr;
  std::string number = text.substr(0, i);
  double value = std::strtod(number.c_str(), &end);
  if (*end) return bad();
  std::string unit = text.substr(i);
  if (!unit.empty() && unit[0] == ' ') unit.erase(0, 1);
  for (char& c : unit) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  double scale = 1;
  size_t u = 0;
  if (u < unit.size()) {
    const std::string prefixes = "kmgtp";
    auto p = prefixes.find(unit[u]);
    if (p != std::string::npos) {
      scale = std::pow(1024.0, static_cast<double>(p + 1));
      ++u;
    }
  }
  if (u < unit.size() && unit[u] == 'i') ++u;
  if (u < unit.size() && unit[u] == 'b') ++u;
  if (u != unit.size()) return bad();
  double bytes = value * scale;
  if (bytes >= 9.2e18) return bad();
  return static_cast<int64_t>(bytes);
}

}  // namespace guise::cli
