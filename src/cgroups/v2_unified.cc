// linux.resources.unified: raw "file": "value" pairs written as given, after a check
// that each key names a file of this cgroup and nothing else.
#include "cgroups/v2.h"
#include "cgroups/values.h"

namespace guise::cgroups::v2 {

Result<void> apply_unified(const std::string& dir, const oci::Resources& r) {
  for (const auto& [key, value] : r.unified) {
    std::string field = "linux.resources.unified[\"" + key + "\"]";
    GUISE_TRY(check_unified_key(key), field);
    GUISE_TRY(write(dir, key, value, field));
  }
  return Ok();
}

}  // namespace guise::cgroups::v2
