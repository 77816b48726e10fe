// Host hierarchy detection from /proc/self/mountinfo and /proc/self/cgroup text.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "cgroups/layout.h"

namespace guise::cgroups {
namespace {

// This machine: v1 controllers one per mount, named systemd, cgroup2 at .../unified.
constexpr const char* kHybridMountinfo =
    "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
    "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
    "33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct\n"
    "34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset\n"
    "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
    "36 31 0:33 / /sys/fs/cgroup/devices rw,relatime - cgroup cgroup rw,devices\n"
    "37 31 0:34 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer\n"
    "38 31 0:35 / /sys/fs/cgroup/blkio rw,relatime - cgroup cgroup rw,blkio\n"
    "39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids\n"
    "40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd\n"
    "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";
constexpr const char* kHybridCgroup =
    "9:name=systemd:/\n8:pids:/\n7:blkio:/\n6:freezer:/\n5:devices:/\n"
    "4:memory:/process_api/609dcb9a0237f9b41b21b98f6f502b1d\n3:cpuset:/\n2:cpuacct:/\n1:cpu:/\n0::/\n";

TEST(CgroupsLayout, HybridHost) {
  auto layout = parse_layout(kHybridMountinfo, kHybridCgroup);
  ASSERT_TRUE(layout.ok()) << layout.error().message();
  EXPECT_EQ(layout->mode, Mode::kHybrid);
  EXPECT_EQ(layout->v1.size(), 9u);
  const Hierarchy* memory = layout->find_v1("memory");
  ASSERT_NE(memory, nullptr);
  EXPECT_EQ(memory->mountpoint, "/sys/fs/cgroup/memory");
  EXPECT_EQ(memory->own_path, "/process_api/609dcb9a0237f9b41b21b98f6f502b1d");
  ASSERT_NE(layout->find_v1("name=systemd"), nullptr);
  EXPECT_EQ(layout->find_v1("name=systemd")->mountpoint, "/sys/fs/cgroup/systemd");
  ASSERT_TRUE(layout->unified);
  EXPECT_EQ(layout->unified->mountpoint, "/sys/fs/cgroup/unified");
  EXPECT_EQ(layout->unified->own_path, "/");
  EXPECT_EQ(layout->find_v1("net_cls"), nullptr);
}

TEST(CgroupsLayout, V1WithCoMountedControllers) {
  const char* mountinfo =
      "24 22 0:21 / /sys/fs/cgroup rw shared:2 - tmpfs tmpfs ro,mode=755\n"
      "25 24 0:22 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid shared:3 - cgroup cgroup rw,cpu,cpuacct\n"
      "26 24 0:23 / /sys/fs/cgroup/net_cls,net_prio rw shared:4 - cgroup cgroup rw,net_cls,net_prio\n"
      "27 24 0:24 / /sys/fs/cgroup/systemd rw shared:5 - cgroup cgroup rw,xattr,name=systemd\n"
      "28 24 0:25 / /sys/fs/cgroup/memory rw shared:6 - cgroup cgroup rw,memory\n";
  const char* cgroup = "4:memory:/a\n3:net_cls,net_prio:/\n2:cpu,cpuacct:/b\n1:name=systemd:/c\n0::/c\n";
  auto layout = parse_layout(mountinfo, cgroup);
  ASSERT_TRUE(layout.ok()) << layout.error().message();
  EXPECT_EQ(layout->mode, Mode::kV1);
  EXPECT_FALSE(layout->unified);
  ASSERT_NE(layout->find_v1("cpuacct"), nullptr);
  EXPECT_EQ(layout->find_v1("cpuacct"), layout->find_v1("cpu"));
  EXPECT_EQ(layout->find_v1("cpu")->mountpoint, "/sys/fs/cgroup/cpu,cpuacct");
  EXPECT_EQ(layout->find_v1("cpu")->own_path, "/b");
  EXPECT_EQ(layout->find_v1("net_prio")->mountpoint, "/sys/fs/cgroup/net_cls,net_prio");
}

TEST(CgroupsLayout, UnifiedHost) {
  const char* mountinfo =
      "30 23 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 "
      "rw,nsdelegate,memory_recursiveprot\n";
  auto layout = parse_layout(mountinfo, "0::/user.slice/user-1000.slice/session-2.scope\n");
  ASSERT_TRUE(layout.ok()) << layout.error().message();
  EXPECT_EQ(layout->mode, Mode::kV2);
  EXPECT_TRUE(layout->v1.empty());
  ASSERT_TRUE(layout->unified);
  EXPECT_EQ(layout->unified->mountpoint, "/sys/fs/cgroup");
  EXPECT_EQ(layout->unified->own_path, "/user.slice/user-1000.slice/session-2.scope");
}

TEST(CgroupsLayout, UnifiedHostWithANamedV1Hierarchy) {
  // Some hosts keep a name=systemd v1 hierarchy for old containers; it carries no controller.
  const char* mountinfo =
      "30 23 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n"
      "31 30 0:27 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,name=systemd\n";
  auto layout = parse_layout(mountinfo, "1:name=systemd:/\n0::/\n");
  ASSERT_TRUE(layout.ok()) << layout.error().message();
  EXPECT_EQ(layout->mode, Mode::kV2);
  EXPECT_TRUE(layout->v1.empty());
}

TEST(CgroupsLayout, PrefersTheMountThatShowsOurCgroup) {
  // The same memory hierarchy seen twice: a container's subtree bind mount, and the host's.
  const char* mountinfo =
      "50 40 0:32 /docker/abc /run/ctr/rootfs/sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n"
      "35 31 0:32 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n";
  auto layout = parse_layout(mountinfo, "4:memory:/user.slice\n");
  ASSERT_TRUE(layout.ok()) << layout.error().message();
  EXPECT_EQ(layout->find_v1("memory")->mountpoint, "/sys/fs/cgroup/memory");
  EXPECT_EQ(layout->find_v1("memory")->mount_root, "/");
}

TEST(CgroupsLayout, InsideAContainerWithoutCgroupNamespace) {
  const char* mountinfo = "35 31 0:32 /docker/abc /sys/fs/cgroup/memory ro - cgroup cgroup rw,memory\n";
  auto layout = parse_layout(mountinfo, "4:memory:/docker/abc\n");
  ASSERT_TRUE(layout.ok()) << layout.error().message();
  EXPECT_EQ(layout->find_v1("memory")->mount_root, "/docker/abc");
}

TEST(CgroupsLayout, EscapedMountpoint) {
  const char* mountinfo = "30 23 0:26 / /mnt/cg\\040two rw - cgroup2 cgroup2 rw\n";
  auto layout = parse_layout(mountinfo, "0::/\n");
  ASSERT_TRUE(layout.ok()) << layout.error().message();
  EXPECT_EQ(layout->unified->mountpoint, "/mnt/cg two");
}

TEST(CgroupsLayout, UnmountedHierarchiesAreLeftOut) {
  const char* mountinfo = "35 31 0:32 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n";
  auto layout = parse_layout(mountinfo, "5:net_cls:/\n4:memory:/\n0::/\n");
  ASSERT_TRUE(layout.ok()) << layout.error().message();
  EXPECT_EQ(layout->mode, Mode::kV1);  // cgroup2 exists in the kernel but is not mounted
  EXPECT_EQ(layout->v1.size(), 1u);
}

TEST(CgroupsLayout, AHiddenCgroup2MountIsNotTaken) {
  // mountinfo still lists the cgroup2 mount at .../unified, but a tmpfs over it (or its
  // own mountpoint under a later /sys/fs/cgroup) is what the path shows: a v1 host then.
  std::vector<std::string> asked;
  auto layout = parse_layout(kHybridMountinfo, kHybridCgroup, [&](const std::string& mountpoint, bool v2) {
    asked.push_back(mountpoint + (v2 ? " v2" : " v1"));
    return mountpoint != "/sys/fs/cgroup/unified";
  });
  ASSERT_TRUE(layout.ok()) << layout.error().message();
  EXPECT_EQ(layout->mode, Mode::kV1);
  EXPECT_FALSE(layout->unified);
  EXPECT_EQ(layout->v1.size(), 9u);
  EXPECT_NE(std::find(asked.begin(), asked.end(), "/sys/fs/cgroup/unified v2"), asked.end());
  EXPECT_NE(std::find(asked.begin(), asked.end(), "/sys/fs/cgroup/memory v1"), asked.end());
}

TEST(CgroupsLayout, AHiddenMountGivesWayToAnotherOfTheSameHierarchy) {
  const char* mountinfo =
      "35 31 0:32 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n"
      "60 50 0:32 / /mnt/memory rw - cgroup cgroup rw,memory\n";
  auto layout = parse_layout(mountinfo, "4:memory:/\n",
                             [](const std::string& mountpoint, bool) { return mountpoint == "/mnt/memory"; });
  ASSERT_TRUE(layout.ok()) << layout.error().message();
  EXPECT_EQ(layout->find_v1("memory")->mountpoint, "/mnt/memory");
}

TEST(CgroupsLayout, OfMountsStackedOnOneMountpointTheLastIsOnTop) {
  const char* mountinfo =
      "41 31 0:38 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n"
      "90 41 0:38 /shown /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n";
  auto layout = parse_layout(mountinfo, "0::/shown/x\n");
  ASSERT_TRUE(layout.ok()) << layout.error().message();
  EXPECT_EQ(layout->unified->mount_root, "/shown");
}

TEST(CgroupsLayout, EveryMountHiddenIsAnError) {
  auto layout = parse_layout(kHybridMountinfo, kHybridCgroup, [](const std::string&, bool) { return false; });
  ASSERT_FALSE(layout.ok());
  EXPECT_NE(layout.error().message().find("no cgroup hierarchy is mounted"), std::string::npos);
}

TEST(CgroupsLayout, NothingMountedIsAnError) {
  auto layout = parse_layout("31 23 0:28 / /sys/fs/cgroup rw - tmpfs tmpfs rw\n", "0::/\n");
  ASSERT_FALSE(layout.ok());
  EXPECT_NE(layout.error().message().find("no cgroup hierarchy is mounted"), std::string::npos);
}

TEST(CgroupsLayout, MalformedProcSelfCgroup) { EXPECT_FALSE(parse_layout(kHybridMountinfo, "garbage\n").ok()); }

TEST(CgroupsLayout, ModeNames) {
  EXPECT_STREQ(mode_name(Mode::kV1), "v1");
  EXPECT_STREQ(mode_name(Mode::kHybrid), "hybrid");
  EXPECT_STREQ(mode_name(Mode::kV2), "v2");
}

}  // namespace
}  // namespace guise::cgroups
