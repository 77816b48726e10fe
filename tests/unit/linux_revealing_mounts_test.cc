// --no-pivot: which of the old root's mounts would let a nested user namespace mount a
// fresh procfs or sysfs (linux/revealing_mounts.h).
#include <gtest/gtest.h>

#include "linux/revealing_mounts.h"

namespace guise::linux {
namespace {

const char kMountinfo[] =
    "22 1 0:21 / / rw,relatime shared:1 - ext4 /dev/vda1 rw\n"
    "23 22 0:22 / /proc rw,nosuid,nodev,noexec,relatime shared:12 - proc proc rw\n"
    "24 22 0:23 / /sys rw,nosuid,nodev,noexec,relatime shared:2 - sysfs sysfs rw\n"
    "25 24 0:24 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw\n"
    "26 23 0:25 / /proc/sys/fs/binfmt_misc rw,relatime shared:13 - binfmt_misc binfmt_misc rw\n"
    "27 22 0:22 /1/net /run/netns/a rw shared:14 - proc proc rw\n"
    "28 22 0:26 / /run/x\\040y/proc rw - proc proc rw\n"
    "29 22 0:27 / /b/rootfs rw - ext4 /dev/vdb rw\n"
    "30 29 0:28 / /b/rootfs/proc rw - proc proc rw\n"
    "31 29 0:29 / /b/rootfs/sys ro - sysfs sysfs ro\n"
    "32 22 0:30 / /b/rootfs2/proc rw - proc proc rw\n";

TEST(LinuxRevealingMounts, WholeProcAndSysfsOutsideTheRootfsInOrder) {
  EXPECT_EQ(revealing_mounts(kMountinfo, "/b/rootfs"),
            (std::vector<std::string>{"/proc", "/sys", "/run/x y/proc", "/b/rootfs2/proc"}));
}

TEST(LinuxRevealingMounts, APartOfProcfsIsNotTheWhole) {
  for (const auto& m : revealing_mounts(kMountinfo, "/b/rootfs")) EXPECT_NE(m, "/run/netns/a");
}

TEST(LinuxRevealingMounts, MalformedLinesAreSkipped) {
  EXPECT_TRUE(revealing_mounts("garbage\n23 22 0:22 / - proc\n\n", "/r").empty());
  EXPECT_EQ(revealing_mounts("23 1 0:22 / /proc rw - proc proc rw", "/r"), (std::vector<std::string>{"/proc"}));
}

}  // namespace
}  // namespace guise::linux
