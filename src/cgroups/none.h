// The cgroup of a container that has none (rootless, and no cgroup is delegated to the
// user): its init is the only process it can name; limits, freezing and stats are
// refused with the reason, and device rules are moot (an unprivileged container cannot
// mknod).
#pragma once

#include <sys/types.h>

#include <memory>

#include "cgroups/cgroup.h"

namespace guise::cgroups {

std::unique_ptr<Cgroup> no_cgroup(pid_t init_pid);

}  // namespace guise::cgroups
