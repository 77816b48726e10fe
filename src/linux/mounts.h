// Builds the container's root filesystem in the child's new mount namespace.
// Every mount lands on an fd resolved inside the rootfs (move_mount to the fd),
// never on a path re-resolved later: a racing symlink swap cannot redirect it.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "linux/mount_plan.h"
#include "sys/fd.h"
#include "sys/result.h"

namespace guise::linux {

struct MountContext {
  // The container's cgroup directories per hierarchy (cgroups::Cgroup::paths()),
  // bind-mounted for a "cgroup" mount.
  std::map<std::string, std::string> cgroup_paths;
  bool cgroup_v2 = false;
  bool in_user_namespace = false;
  // Opens a bind source that the init's user namespace may not reach (a directory only
  // the host's root may traverse) from outside it: the runtime's O_PATH fd on it, in the
  // init's mount namespace. Unset where the runtime could not do better.
  std::function<Result<sys::Fd>(const std::string& source)> open_source;
};

// How the init takes the rootfs as its root.
enum class RootEntry {
  kPivot,   // pivot_root in its own mount namespace, the old root detached
  kMove,    // --no-pivot: MS_MOVE onto "/" and chroot, the old root's procfs and sysfs hidden
  kChroot,  // no mount namespace of its own: chroot, nothing else in the namespace changes
};

// Host mounts must never receive the container's: "/" becomes rslave (or rprivate
// when the config asks for private propagation) before anything is mounted.
Result<void> isolate_mount_propagation(const std::string& rootfs_propagation);

// Bind-mounts the rootfs onto itself (pivot_root needs a mount point); returns an
// O_PATH fd on the new mount's root. `private_tree`: the bind is made private before it
// is attached, so nothing mounted inside it reaches a namespace that is not the
// container's (where the container has no mount namespace of its own).
Result<sys::Fd> mount_rootfs(const std::string& rootfs, bool private_tree = false);

// Returns the mount it attached when step.readonly_later (an invalid Fd otherwise).
Result<sys::Fd> apply_mount(int root, const MountStep& step, const MountContext& ctx);

// The mounts whose "ro" waited for what is made inside them (MountStep::readonly_later).
struct ReadonlyLater {
  sys::Fd mount;
  std::string destination;
};
Result<void> make_readonly(const std::vector<ReadonlyLater>& mounts);

// Takes the rootfs (`root`, mounted at `rootfs`) as the root and working directory.
Result<void> enter_rootfs(int root, RootEntry how, const std::string& rootfs);

// After entering: rootfsPropagation for "/" and root.readonly.
Result<void> finish_root(const std::string& rootfs_propagation, bool readonly);

}  // namespace guise::linux
