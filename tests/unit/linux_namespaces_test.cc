// linux.namespaces -> how each namespace comes to be: made by clone3, joined by
// setns, or made by the child in stages.
#include <gtest/gtest.h>
#include <sched.h>

#include "linux/namespaces.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

namespace guise::linux {
namespace {

using oci::NamespaceType;
using T = NamespaceType;

oci::Spec spec_with(std::vector<oci::Namespace> namespaces) {
  oci::Spec s;
  s.linux.emplace();
  s.linux->namespaces = std::move(namespaces);
  return s;
}

std::vector<std::string> joins(const NamespacePlan& p) {
  std::vector<std::string> out;
  for (const auto& j : p.child_joins) out.push_back(std::string(oci::namespace_type_name(j.type)) + "=" + j.path);
  return out;
}

TEST(LinuxNamespaces, CloneFlagOfEachType) {
  EXPECT_EQ(clone_flag(T::kPid), uint64_t{CLONE_NEWPID});
  EXPECT_EQ(clone_flag(T::kNetwork), uint64_t{CLONE_NEWNET});
  EXPECT_EQ(clone_flag(T::kMount), uint64_t{CLONE_NEWNS});
  EXPECT_EQ(clone_flag(T::kIpc), uint64_t{CLONE_NEWIPC});
  EXPECT_EQ(clone_flag(T::kUts), uint64_t{CLONE_NEWUTS});
  EXPECT_EQ(clone_flag(T::kUser), uint64_t{CLONE_NEWUSER});
  EXPECT_EQ(clone_flag(T::kCgroup), uint64_t{CLONE_NEWCGROUP});
  EXPECT_EQ(clone_flag(T::kTime), uint64_t{CLONE_NEWTIME});
}

TEST(LinuxNamespaces, NoLinuxSectionIsAnEmptyPlan) {
  auto p = plan_namespaces(oci::Spec{});
  EXPECT_EQ(p.clone_flags, 0u);
  EXPECT_TRUE(p.child_joins.empty());
  EXPECT_FALSE(p.late_user);
  EXPECT_FALSE(p.new_user);
  EXPECT_FALSE(p.new_cgroup);
}

TEST(LinuxNamespaces, AllNewWithoutUserPidByCloneTheRestByTheChild) {
  auto p = plan_namespaces(spec_with({{T::kPid, ""}, {T::kNetwork, ""}, {T::kIpc, ""}, {T::kUts, ""}, {T::kMount, ""}}));
  EXPECT_EQ(p.clone_flags, uint64_t{CLONE_NEWPID});
  EXPECT_EQ(p.late_flags, uint64_t{CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWNS});
  EXPECT_FALSE(p.late_user);
  EXPECT_FALSE(p.new_user);
  EXPECT_TRUE(p.new_mount);
  EXPECT_TRUE(p.child_joins.empty());
  EXPECT_TRUE(p.join_pid.empty());
}

TEST(LinuxNamespaces, CloneMakesOnlyUserAndPidTheChildUnsharesTheRest) {
  // The rest is made by the child, inside the new user namespace, while the runtime
  // works on the cgroup: a network namespace is half a millisecond of clone3.
  auto p = plan_namespaces(spec_with(
      {{T::kPid, ""}, {T::kNetwork, ""}, {T::kIpc, ""}, {T::kUts, ""}, {T::kMount, ""}, {T::kUser, ""}}));
  EXPECT_EQ(p.clone_flags, uint64_t{CLONE_NEWUSER | CLONE_NEWPID});
  EXPECT_EQ(p.late_flags, uint64_t{CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWNS});
  EXPECT_TRUE(p.new_user);
  EXPECT_FALSE(p.late_user);

  auto q = plan_namespaces(spec_with({{T::kPid, ""}, {T::kNetwork, ""}, {T::kMount, ""}}));
  EXPECT_EQ(q.clone_flags, uint64_t{CLONE_NEWPID});
  EXPECT_EQ(q.late_flags, uint64_t{CLONE_NEWNET | CLONE_NEWNS});
}

TEST(LinuxNamespaces, NewCgroupIsNeverMadeByClone) {
  // The child unshares it once the parent has put it in its cgroup.
  auto p = plan_namespaces(spec_with({{T::kMount, ""}, {T::kCgroup, ""}}));
  EXPECT_TRUE(p.new_cgroup);
  EXPECT_EQ(p.clone_flags & CLONE_NEWCGROUP, 0u);
  EXPECT_EQ(p.late_flags & CLONE_NEWCGROUP, 0u);
  EXPECT_EQ(p.clone_flags, 0u);
  EXPECT_EQ(p.late_flags, uint64_t{CLONE_NEWNS});

  auto u = plan_namespaces(spec_with({{T::kUser, ""}, {T::kCgroup, ""}, {T::kNetwork, "/proc/1/ns/net"}}));
  EXPECT_TRUE(u.new_cgroup);
  EXPECT_EQ(u.clone_flags & CLONE_NEWCGROUP, 0u);
  EXPECT_EQ(u.late_flags & CLONE_NEWCGROUP, 0u);
}

TEST(LinuxNamespaces, JoinedCgroupIsJoinedByTheChild) {
  auto p = plan_namespaces(spec_with({{T::kCgroup, "/proc/1/ns/cgroup"}}));
  EXPECT_FALSE(p.new_cgroup);
  EXPECT_EQ(joins(p), (std::vector<std::string>{"cgroup=/proc/1/ns/cgroup"}));
}

TEST(LinuxNamespaces, NewTimeIsMadeForTheChildNotByClone) {
  auto p = plan_namespaces(spec_with({{T::kTime, ""}}));
  EXPECT_TRUE(p.new_time);
  EXPECT_TRUE(p.join_time.empty());
  EXPECT_EQ(p.clone_flags, 0u);
}

TEST(LinuxNamespaces, JoinedPidAndTimeAreEnteredByTheParent) {
  auto p = plan_namespaces(spec_with({{T::kPid, "/proc/42/ns/pid"}, {T::kTime, "/proc/42/ns/time"}, {T::kMount, ""}}));
  EXPECT_EQ(p.join_pid, "/proc/42/ns/pid");
  EXPECT_EQ(p.join_time, "/proc/42/ns/time");
  EXPECT_FALSE(p.new_time);
  EXPECT_EQ(p.clone_flags & CLONE_NEWPID, 0u);
  EXPECT_TRUE(p.child_joins.empty());  // not joined by the child
  EXPECT_EQ(p.clone_flags, 0u);
  EXPECT_EQ(p.late_flags, uint64_t{CLONE_NEWNS});
}

TEST(LinuxNamespaces, JoinedPidWithNewUserIsNotStaged) {
  auto p = plan_namespaces(spec_with({{T::kPid, "/proc/42/ns/pid"}, {T::kUser, ""}, {T::kMount, ""}}));
  EXPECT_FALSE(p.late_user);
  EXPECT_EQ(p.clone_flags, uint64_t{CLONE_NEWUSER});
  EXPECT_EQ(p.late_flags, uint64_t{CLONE_NEWNS});
}

TEST(LinuxNamespaces, JoinedNamespacesAreJoinedByTheChildInConfigOrder) {
  auto p = plan_namespaces(spec_with({{T::kNetwork, "/run/netns/a"}, {T::kIpc, "/proc/7/ns/ipc"}, {T::kUts, ""},
                                      {T::kMount, ""}}));
  EXPECT_EQ(joins(p), (std::vector<std::string>{"network=/run/netns/a", "ipc=/proc/7/ns/ipc"}));
  EXPECT_EQ(p.clone_flags, 0u);
  EXPECT_EQ(p.late_flags, uint64_t{CLONE_NEWUTS | CLONE_NEWNS});
  EXPECT_FALSE(p.late_user);
}

TEST(LinuxNamespaces, JoinedNetworkWithNewUserIsStaged) {
  // The child joins the network namespace while still privileged, then unshares
  // the user namespace, then the other new namespaces, which that user ns owns.
  auto p = plan_namespaces(spec_with({{T::kPid, ""}, {T::kNetwork, "/run/netns/a"}, {T::kIpc, ""}, {T::kUts, ""},
                                      {T::kMount, ""}, {T::kUser, ""}}));
  EXPECT_TRUE(p.new_user);
  EXPECT_TRUE(p.late_user);
  EXPECT_EQ(p.late_flags, uint64_t{CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWNS});
  EXPECT_EQ(p.clone_flags & CLONE_NEWUSER, 0u);
  EXPECT_EQ(p.clone_flags & (CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWNS | CLONE_NEWNET), 0u);
  EXPECT_EQ(joins(p), (std::vector<std::string>{"network=/run/netns/a"}));
}

TEST(LinuxNamespaces, JoinedUserComesFirstInChildJoins) {
  auto p = plan_namespaces(spec_with({{T::kNetwork, "/proc/9/ns/net"}, {T::kIpc, "/proc/9/ns/ipc"},
                                      {T::kUser, "/proc/9/ns/user"}, {T::kCgroup, "/proc/9/ns/cgroup"}}));
  EXPECT_EQ(joins(p), (std::vector<std::string>{"user=/proc/9/ns/user", "network=/proc/9/ns/net",
                                                "ipc=/proc/9/ns/ipc", "cgroup=/proc/9/ns/cgroup"}));
  EXPECT_FALSE(p.new_user);
  EXPECT_FALSE(p.late_user);
}

// A joined user namespace must own the container's new namespaces: they wait in
// late_flags and are unshared after the child has joined it (as runc orders it);
// made by clone3 they would belong to the host's and the container's root could
// not mount or set its hostname.
TEST(LinuxNamespaces, JoinedUserOwnsTheNewNamespaces) {
  auto p = plan_namespaces(spec_with({{T::kUser, "/proc/9/ns/user"}, {T::kMount, ""}, {T::kUts, ""}, {T::kIpc, ""}}));
  EXPECT_EQ(joins(p), (std::vector<std::string>{"user=/proc/9/ns/user"}));
  EXPECT_EQ(p.clone_flags & (CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC), 0u);
  EXPECT_EQ(p.late_flags, uint64_t{CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC});
}

// A new pid namespace cannot be given to a user namespace made (or joined) after the
// clone without one more fork; rather than make a pid namespace whose /proc cannot be
// mounted, the plan is refused with a message that names the combination.
TEST(LinuxNamespaces, StagedUserWithNewPidNamespaceIsRefused) {
  auto staged = spec_with({{T::kPid, ""}, {T::kNetwork, "/run/netns/a"}, {T::kMount, ""}, {T::kUser, ""}});
  auto p = plan_namespaces(staged);
  ASSERT_TRUE(p.late_user);
  auto r = check_namespace_plan(p, staged);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("a new pid namespace together with"), std::string::npos);
  auto joined = spec_with({{T::kPid, ""}, {T::kUser, "/proc/9/ns/user"}, {T::kMount, ""}});
  EXPECT_FALSE(check_namespace_plan(plan_namespaces(joined), joined).ok());
  auto plain = spec_with({{T::kPid, ""}, {T::kUser, ""}, {T::kMount, ""}});
  EXPECT_TRUE(check_namespace_plan(plan_namespaces(plain), plain).ok());
}

// Without a mount namespace of its own (none, or one joined) the container's root is
// built in a namespace its user namespace has no say in: refused where one is wanted.
TEST(LinuxNamespaces, UserNamespaceWithoutAMountNamespaceItMayMountInIsRefused) {
  const std::string want = "a user namespace needs a mount namespace it may mount in";
  for (auto ns : std::vector<std::vector<oci::Namespace>>{{{T::kPid, ""}, {T::kUser, ""}},
                                                          {{T::kUser, ""}, {T::kMount, "/run/mnt"}},
                                                          {{T::kUser, "/proc/9/ns/user"}}}) {
    auto spec = spec_with(ns);
    auto r = check_namespace_plan(plan_namespaces(spec), spec);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().message().find(want), std::string::npos) << r.error().message();
  }
  for (auto ns : std::vector<std::vector<oci::Namespace>>{{{T::kPid, ""}},
                                                          {{T::kPid, ""}, {T::kMount, "/proc/9/ns/mnt"}},
                                                          {{T::kUser, "/proc/9/ns/user"}, {T::kMount, "/proc/9/ns/mnt"}}}) {
    auto spec = spec_with(ns);
    auto r = check_namespace_plan(plan_namespaces(spec), spec);
    EXPECT_TRUE(r.ok()) << r.error().message();
    EXPECT_FALSE(plan_namespaces(spec).new_mount);
  }
}

}  // namespace
}  // namespace guise::linux
