#include "image/digest.h"

#include "sys/sha256.h"
#include "sys/text.h"

namespace guise::image {

Result<Digest> parse_digest(std::string_view text) {
  auto colon = text.find(':');
  auto bad = [&](const std::string& why) {
    return sys::user_error("invalid digest \"" + sys::printable(text) + "\": " + why);
  };
  if (colon == std::string_view::npos) return bad("expected ALGORITHM:HEX");
  Digest d{std::string(text.substr(0, colon)), std::string(text.substr(colon + 1))};
  size_t want = d.algorithm == "sha256" ? 64 : d.algorithm == "sha512" ? 128 : 0;
  if (!want) return bad("unsupported algorithm \"" + sys::printable(d.algorithm, 40) + "\" (sha256 or sha512)");
  if (d.hex.size() != want) return bad(std::to_string(want) + " hex digits expected");
  for (char c : d.hex)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return bad("not lower-case hex");
  return d;
}

Digest sha256_of(std::string_view data) { return Digest{"sha256", sys::sha256_hex(data)}; }

}  // namespace guise::image
