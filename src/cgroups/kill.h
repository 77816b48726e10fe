// Signalling every process of a cgroup without racing its forks, for both drivers.
#pragma once

#include "cgroups/cgroup.h"

namespace guise::cgroups {

// Freezes the cgroup (when `can_freeze`), signals each pid, and thaws it again unless it
// was frozen before (SIGKILL always thaws: frozen v1 tasks die only once thawed). With no
// freezer it signals in rounds until no new pid turns up.
Result<void> signal_all(Cgroup& cgroup, int signal, bool can_freeze);

}  // namespace guise::cgroups
