// v2 cpuset controller.
#include "cgroups/v2.h"

namespace guise::cgroups::v2 {

Result<void> apply_cpuset(const std::string& dir, const oci::Resources& r) {
  if (!r.cpu) return Ok();
  if (!r.cpu->cpus.empty()) GUISE_TRY(write(dir, "cpuset.cpus", r.cpu->cpus, "linux.resources.cpu.cpus"));
  if (!r.cpu->mems.empty()) GUISE_TRY(write(dir, "cpuset.mems", r.cpu->mems, "linux.resources.cpu.mems"));
  return Ok();
}

}  // namespace guise::cgroups::v2
