// Checks on where a mount lands, made on the fds the mount uses: a symlink or a
// racing swap in the rootfs must not put procfs or sysfs somewhere else, nor put
// something else over /proc (CVE-2019-16884, CVE-2019-19921, CVE-2023-27561,
// CVE-2023-28642). These are runc 1.1.5's rules, checked on resolved inodes.
#pragma once

#include "linux/mount_plan.h"
#include "sys/result.h"

namespace guise::linux {

// Before resolving the target: proc and sysfs go on a plain directory, never on a
// symlink the image planted; only procfs goes on /proc itself.
Result<void> check_mount_destination(int root, const MountStep& step);

// On the resolved target: nothing but procfs lands inside a procfs, except the
// files that lxcfs emulates.
Result<void> check_mount_target(int target, const MountStep& step);

// After attaching: a proc or sysfs mount is what the destination now shows.
Result<void> check_mounted(int root, const MountStep& step);

}  // namespace guise::linux
