// config.json as `guise-oci create` reads it: parsed and validated. What is refused is
// refused with one line; what is accepted writes back out (as `guise-oci` stores and
// engines read it) to a config.json that parses again to the same document.
#include <cstddef>
#include <cstdint>

#include "fuzz_check.h"
#include "oci/parse.h"
#include "oci/write.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace guise;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto spec = oci::parse_spec(text, "config.json");
  if (!spec) {
    fuzz::check_error_line(spec.error().message());
    return 0;
  }
  std::string written = oci::spec_json(*spec);
  auto again = oci::parse_spec(written, "config.json");
  if (!again) fuzz::fail("an accepted config does not parse once written", again.error().message());
  fuzz::check(oci::spec_json(*again) == written, "an accepted config changes when written and read again",
              written);
  return 0;
}
