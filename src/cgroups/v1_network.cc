// v1 net_cls and net_prio controllers (the only place linux.resources.network exists).
#include "cgroups/fs.h"
#include "cgroups/v1.h"

namespace guise::cgroups::v1 {

Result<void> apply_network(const Dirs& dirs, const oci::Resources& r) {
  if (!r.network) return Ok();
  if (r.network->class_id) {
    constexpr const char* kField = "linux.resources.network.classID";
    std::string dir = GUISE_TRY(dirs.need("net_cls", kField));
    GUISE_TRY(fs::write(dir, "net_cls.classid", std::to_string(*r.network->class_id), kField));
  }
  if (!r.network->priorities.empty()) {
    constexpr const char* kField = "linux.resources.network.priorities";
    std::string dir = GUISE_TRY(dirs.need("net_prio", kField));
    for (const auto& [ifname, prio] : r.network->priorities)
      GUISE_TRY(fs::write(dir, "net_prio.ifpriomap", ifname + " " + std::to_string(prio), kField));
  }
  return Ok();
}

}  // namespace guise::cgroups::v1
