// v1 rdma controller (same rdma.max format as v2).
#include "cgroups/fs.h"
#include "cgroups/v1.h"
#include "cgroups/values.h"

namespace guise::cgroups::v1 {

Result<void> apply_rdma(const Dirs& dirs, const oci::Resources& r) {
  if (r.rdma.empty()) return Ok();
  constexpr const char* kField = "linux.resources.rdma";
  std::string dir = GUISE_TRY(dirs.need("rdma", kField));
  for (const auto& [device, limit] : r.rdma) {
    std::string line = rdma_line(device, limit);
    if (!line.empty()) GUISE_TRY(fs::write(dir, "rdma.max", line, kField));
  }
  return Ok();
}

}  // namespace guise::cgroups::v1
