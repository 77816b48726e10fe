// process.json as `guise-oci exec --process` reads it, and a resources object as
// `guise-oci update -r` reads it (each input is tried as both): refused with one line,
// or accepted and written back to a document that parses again to the same.
#include <cstddef>
#include <cstdint>

#include "fuzz_check.h"
#include "oci/parse.h"
#include "oci/write.h"

namespace {

template <typename Parse, typename Write>
void round_trip(std::string_view text, const std::string& origin, Parse parse, Write write) {
  using namespace guise;
  auto value = parse(text, origin);
  if (!value) {
    fuzz::check_error_line(value.error().message());
    return;
  }
  std::string written = write(*value);
  auto again = parse(written, origin);
  if (!again) fuzz::fail("an accepted " + origin + " does not parse once written", again.error().message());
  fuzz::check(write(*again) == written, "an accepted " + origin + " changes when written and read again", written);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace guise;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  round_trip(text, "process.json", oci::parse_process, oci::process_json);
  round_trip(text, "resources.json", oci::parse_resources, oci::resources_json);
  return 0;
}
