// v2 rdma controller.
#include "cgroups/v2.h"
#include "cgroups/values.h"

namespace guise::cgroups::v2 {

Result<void> apply_rdma(const std::string& dir, const oci::Resources& r) {
  for (const auto& [device, limit] : r.rdma) {
    std::string line = rdma_line(device, limit);
    if (!line.empty()) GUISE_TRY(write(dir, "rdma.max", line, "linux.resources.rdma"));
  }
  return Ok();
}

}  // namespace guise::cgroups::v2
