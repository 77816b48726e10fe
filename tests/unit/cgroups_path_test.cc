// linux.cgroupsPath resolution in one hierarchy, for every form the spec allows.
#include <gtest/gtest.h>

#include "cgroups/path.h"

namespace guise::cgroups {
namespace {

Hierarchy memory_at(std::string own, std::string root = "/") {
  Hierarchy h;
  h.controllers = {"memory"};
  h.mountpoint = "/sys/fs/cgroup/memory";
  h.mount_root = std::move(root);
  h.own_path = std::move(own);
  return h;
}

std::string dir(const Hierarchy& h, std::string_view path, std::string_view id = "ctr") {
  auto r = container_dir(h, path, id);
  return r.ok() ? *r : "error: " + r.error().message();
}

TEST(CgroupsPath, CleanPath) {
  EXPECT_EQ(clean_path("/a//b/./c/"), "/a/b/c");
  EXPECT_EQ(clean_path("/a/../../b"), "/b");
  EXPECT_EQ(clean_path("a/b"), "/a/b");
  EXPECT_EQ(clean_path(""), "/");
  EXPECT_EQ(clean_path("/.."), "/");
}

TEST(CgroupsPath, IsPathBelow) {
  EXPECT_TRUE(is_path_below("/a/b", "/a"));
  EXPECT_TRUE(is_path_below("/a", "/a"));
  EXPECT_TRUE(is_path_below("/a", "/"));
  EXPECT_TRUE(is_path_below("/a/b", "/a/"));
  EXPECT_FALSE(is_path_below("/ab", "/a"));
  EXPECT_FALSE(is_path_below("/a", "/a/b"));
}

TEST(CgroupsPath, EmptyIsIdBelowOwnCgroup) {
  EXPECT_EQ(dir(memory_at("/process_api/609d"), ""), "/sys/fs/cgroup/memory/process_api/609d/ctr");
  EXPECT_EQ(dir(memory_at("/"), ""), "/sys/fs/cgroup/memory/ctr");
}

TEST(CgroupsPath, RelativeIsBelowOwnCgroup) {
  EXPECT_EQ(dir(memory_at("/user.slice"), "pod1/ctr"), "/sys/fs/cgroup/memory/user.slice/pod1/ctr");
  EXPECT_EQ(dir(memory_at("/user.slice"), "./pod1//ctr/"), "/sys/fs/cgroup/memory/user.slice/pod1/ctr");
}

TEST(CgroupsPath, RelativeCannotClimbAboveOwnCgroup) {
  EXPECT_EQ(dir(memory_at("/user.slice"), "../../etc"), "/sys/fs/cgroup/memory/user.slice/etc");
  EXPECT_EQ(dir(memory_at("/user.slice"), "a/../../../b"), "/sys/fs/cgroup/memory/user.slice/b");
}

TEST(CgroupsPath, RelativeNamingOwnCgroupIsRefused) {
  EXPECT_NE(dir(memory_at("/user.slice"), ".").find("own cgroup"), std::string::npos);
  EXPECT_NE(dir(memory_at("/user.slice"), "a/..").find("own cgroup"), std::string::npos);
}

TEST(CgroupsPath, AbsoluteIsBelowHierarchyRoot) {
  EXPECT_EQ(dir(memory_at("/user.slice"), "/machine/ctr"), "/sys/fs/cgroup/memory/machine/ctr");
  EXPECT_EQ(dir(memory_at("/user.slice"), "/../../machine"), "/sys/fs/cgroup/memory/machine");
}

TEST(CgroupsPath, AbsoluteRootIsRefused) {
  EXPECT_NE(dir(memory_at("/"), "/").find("root of the hierarchy"), std::string::npos);
  EXPECT_NE(dir(memory_at("/"), "/a/..").find("root of the hierarchy"), std::string::npos);
}

TEST(CgroupsPath, DefaultNeedsAUsableId) {
  EXPECT_NE(dir(memory_at("/"), "", "").find("cannot name a cgroup"), std::string::npos);
  EXPECT_NE(dir(memory_at("/"), "", "..").find("cannot name a cgroup"), std::string::npos);
  EXPECT_NE(dir(memory_at("/"), "", "a/b").find("cannot name a cgroup"), std::string::npos);
  EXPECT_EQ(dir(memory_at("/"), "x", ".."), "/sys/fs/cgroup/memory/x");  // id unused
}

TEST(CgroupsPath, V2UnifiedHierarchy) {
  Hierarchy h;
  h.mountpoint = "/sys/fs/cgroup";
  h.own_path = "/user.slice/user-0.slice/session-1.scope";
  EXPECT_EQ(dir(h, ""), "/sys/fs/cgroup/user.slice/user-0.slice/session-1.scope/ctr");
  EXPECT_EQ(dir(h, "/system.slice/ctr"), "/sys/fs/cgroup/system.slice/ctr");
}

TEST(CgroupsPath, MountShowingASubtree) {
  // A container without a cgroup namespace: /docker/abc of the hierarchy is mounted
  // at /sys/fs/cgroup/memory, and /proc/self/cgroup says /docker/abc/sub.
  auto h = memory_at("/docker/abc/sub", "/docker/abc");
  EXPECT_EQ(dir(h, ""), "/sys/fs/cgroup/memory/sub/ctr");
  EXPECT_EQ(*own_dir(h), "/sys/fs/cgroup/memory/sub");
  EXPECT_EQ(*own_dir(memory_at("/docker/abc", "/docker/abc")), "/sys/fs/cgroup/memory");
}

TEST(CgroupsPath, OwnCgroupNotVisibleIsAnError) {
  EXPECT_NE(dir(memory_at("/other", "/docker/abc"), "").find("not visible"), std::string::npos);
  EXPECT_NE(dir(memory_at("/../.."), "").find("not visible"), std::string::npos);  // outside our cgroupns
  EXPECT_EQ(dir(memory_at("/../..", "/"), "/abs"), "/sys/fs/cgroup/memory/abs");   // absolute needs no own
}

}  // namespace
}  // namespace guise::cgroups
