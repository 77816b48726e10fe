// Builds the container's root filesystem in the child's new mount namespace.
// Every mount lands on an fd resolved inside the rootfs (move_mount to the fd),
// never on a path re-resolved later: a racing symlink swap cannot redirect it.
#pragma once

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
};

// Host mounts must never receive the container's: "/" becomes rslave (or rprivate
// when the config asks for private propagation) before anything is mounted.
Result<void> isolate_mount_propagation(const std::string& rootfs_propagation);

// Bind-mounts the rootfs onto itself (pivot_root needs a mount point); returns an
// O_PATH fd on the new mount's root.
Result<sys::Fd> mount_rootfs(const std::string& rootfs);

Result<void> apply_mount(int root, const MountStep& step, const MountContext& ctx);

// pivot_root into the rootfs and detach the old root; or, with no_pivot, MS_MOVE + chroot.
Result<void> enter_rootfs(int root, bool no_pivot);

// After entering: rootfsPropagation for "/" and root.readonly.
Result<void> finish_root(const std::string& rootfs_propagation, bool readonly);

}  // namespace guise::linux
