// v2 pids controller.
#include "cgroups/v2.h"
#include "cgroups/values.h"

namespace guise::cgroups::v2 {

Result<void> apply_pids(const std::string& dir, const oci::Resources& r) {
  if (!r.pids_limit) return Ok();
  return write(dir, "pids.max", pids_max(*r.pids_limit), "linux.resources.pids.limit");
}

}  // namespace guise::cgroups::v2
