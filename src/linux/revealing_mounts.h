// --no-pivot leaves the old root's mounts in the container's mount namespace, hidden
// under the moved rootfs but still counted by the kernel: a fully visible procfs or
// sysfs there lets a nested user namespace mount a fresh one (the kernel allows that
// only where one is already visible whole). Those are detached, or covered where they
// cannot be, before the rootfs moves on top, as runc does.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "sys/result.h"

namespace guise::linux {

// Pure: the mountpoints of the procfs and sysfs mounts that show their filesystem from
// its root, outside `rootfs`, in mountinfo order (a parent before what is below it).
std::vector<std::string> revealing_mounts(std::string_view mountinfo, const std::string& rootfs);

// In the container's own mount namespace (its "/" already rslave or rprivate, so
// nothing reaches the host): detaches each revealing mount, or mounts an empty
// read-only tmpfs over one it may not detach (locked by a user namespace).
Result<void> hide_revealing_mounts(const std::string& rootfs);

}  // namespace guise::linux
