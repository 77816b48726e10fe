#include "runtime/container_cgroup.h"

#include "cgroups/none.h"

namespace guise::runtime {

Result<std::unique_ptr<cgroups::Cgroup>> container_cgroup(const ContainerState& s) {
  if (s.cgroup_paths.empty()) return cgroups::no_cgroup(s.pid);
  return cgroups::open(s.cgroup_paths);
}

}  // namespace guise::runtime
