// The cgroup a saved container lives in, reopened from its state; a container made
// without one (rootless) gets the stand-in that names only its init.
#pragma once

#include <memory>

#include "cgroups/cgroup.h"
#include "runtime/runtime.h"

namespace guise::runtime {

Result<std::unique_ptr<cgroups::Cgroup>> container_cgroup(const ContainerState& s);

}  // namespace guise::runtime
