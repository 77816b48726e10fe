// v1 pids controller.
#include "cgroups/fs.h"
#include "cgroups/v1.h"
#include "cgroups/values.h"

namespace guise::cgroups::v1 {

Result<void> apply_pids(const Dirs& dirs, const oci::Resources& r) {
  if (!r.pids_limit) return Ok();
  std::string dir = GUISE_TRY(dirs.need("pids", "linux.resources.pids.limit"));
  return fs::write(dir, "pids.max", pids_max(*r.pids_limit), "linux.resources.pids.limit");
}

}  // namespace guise::cgroups::v1
