#include "runtime/container_cgroup.h"

#include "runtime/rootless.h"

namespace guise::runtime {

Result<std::unique_ptr<cgroups::Cgroup>> container_cgroup(const ContainerState& s) {
  if (s.cgroup_paths.empty()) return no_cgroup(s.pid);
  return cgroups::open(s.cgroup_paths);
}

}  // namespace guise::runtime
