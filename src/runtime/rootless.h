// Running guise-oci without privilege (runc's --rootless): uid/gid maps written
// directly for the caller's own ids or through newuidmap/newgidmap for subordinate
// ranges, a state root of the user's own, and containers without a cgroup when none
// is delegated to the user.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>

#include "cgroups/cgroup.h"
#include "oci/spec.h"
#include "sys/result.h"

namespace guise::runtime {

// --rootless true|false|auto; auto: not root, or root only inside a user namespace.
bool rootless_mode(const std::string& flag);

// /run/guise for root; $XDG_RUNTIME_DIR/guise for everyone else (runc's choice).
std::string default_state_root();

// Writes the child's maps: directly when privileged or when each map is the caller's
// own id alone; otherwise with the setuid helpers newuidmap/newgidmap.
Result<void> write_id_mappings(pid_t pid, const oci::Linux& linux);

// A container with no cgroup of its own (rootless, nothing delegated): its init is
// the only process it can name; freezing and limits are refused with the reason.
std::unique_ptr<cgroups::Cgroup> no_cgroup(pid_t init_pid);

}  // namespace guise::runtime
