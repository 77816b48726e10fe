// exec's sub-cgroups: which directories the process joins, and what is refused.
#include "runtime/sub_cgroup.h"

#include <gtest/gtest.h>

#include "cli/oci/exec_flags.h"

using namespace guise;

namespace {

const std::map<std::string, std::string> kV1 = {
    {"cpu", "/cg/cpu,cpuacct/c"}, {"cpuacct", "/cg/cpu,cpuacct/c"}, {"memory", "/cg/memory/c"},
    {"pids", "/cg/pids/c"},       {"unified", "/cg/unified/c"}};

std::string error_of(const std::map<std::string, std::string>& container, const std::map<std::string, std::string>& sub) {
  auto r = runtime::sub_cgroup_paths(container, sub);
  return r.ok() ? "(ok)" : r.error().message();
}

}  // namespace

TEST(SubCgroup, NoneKeepsTheContainersCgroup) {
  EXPECT_EQ(runtime::sub_cgroup_paths(kV1, {}).value(), kV1);
}

TEST(SubCgroup, OnePathForEveryHierarchy) {
  auto r = runtime::sub_cgroup_paths(kV1, {{"", "a/b"}}).value();
  EXPECT_EQ(r.at("cpu"), "/cg/cpu,cpuacct/c/a/b");
  EXPECT_EQ(r.at("memory"), "/cg/memory/c/a/b");
  EXPECT_EQ(r.at("unified"), "/cg/unified/c/a/b");
  EXPECT_EQ(runtime::sub_cgroup_paths({{"unified", "/cg/c"}}, {{"", "/x/./y/"}}).value().at("unified"), "/cg/c/x/y");
}

TEST(SubCgroup, PerControllerMovesItsCoMountedControllersToo) {
  auto r = runtime::sub_cgroup_paths(kV1, {{"cpu", "s"}, {"memory", "m"}}).value();
  EXPECT_EQ(r.at("cpu"), "/cg/cpu,cpuacct/c/s");
  EXPECT_EQ(r.at("cpuacct"), "/cg/cpu,cpuacct/c/s");
  EXPECT_EQ(r.at("memory"), "/cg/memory/c/m");
  EXPECT_EQ(r.at("pids"), "/cg/pids/c");
  EXPECT_EQ(r.at("unified"), "/cg/unified/c");
}

TEST(SubCgroup, MayNotLeaveTheContainersCgroup) {
  EXPECT_EQ(error_of(kV1, {{"", "../x"}}), "sub-cgroup ../x: is not a sub cgroup path (it leaves the container's cgroup)");
  EXPECT_EQ(error_of(kV1, {{"memory", "a/../../c2"}}),
            "sub-cgroup a/../../c2: is not a sub cgroup path (it leaves the container's cgroup)");
  EXPECT_EQ(runtime::sub_cgroup_paths(kV1, {{"memory", "a/../b"}}).value().at("memory"), "/cg/memory/c/b");
}

TEST(SubCgroup, UnknownControllerIsNamed) {
  EXPECT_EQ(error_of(kV1, {{"rdma", "x"}}), "sub-cgroup rdma:x: unknown controller rdma in the container's cgroup");
  EXPECT_EQ(error_of({{"unified", "/cg/c"}}, {{"memory", "x"}}),
            "sub-cgroup memory:x: unknown controller memory in the container's cgroup");
  EXPECT_EQ(error_of(kV1, {{"unified", "x"}}), "sub-cgroup unified:x: unknown controller unified in the container's cgroup");
}

TEST(SubCgroup, CoMountedControllersCannotDisagree) {
  EXPECT_EQ(error_of(kV1, {{"cpu", "a"}, {"cpuacct", "b"}}),
            "sub-cgroup cpuacct:b: cpuacct shares its hierarchy with a controller given a");
  EXPECT_TRUE(runtime::sub_cgroup_paths(kV1, {{"cpu", "a"}, {"cpuacct", "a"}}).ok());
}

TEST(ExecCgroupFlag, RuncsForms) {
  using M = std::map<std::string, std::string>;
  EXPECT_EQ(cli::parse_sub_cgroups({}).value(), M{});
  EXPECT_EQ(cli::parse_sub_cgroups({"sub"}).value(), (M{{"", "sub"}}));
  EXPECT_EQ(cli::parse_sub_cgroups({"memory:m", "cpu,cpuacct:c"}).value(),
            (M{{"memory", "m"}, {"cpu", "c"}, {"cpuacct", "c"}}));
  EXPECT_EQ(cli::parse_sub_cgroups({":all"}).value(), (M{{"", "all"}}));
}

TEST(ExecCgroupFlag, RuncsErrors) {
  EXPECT_EQ(cli::parse_sub_cgroups({"a", "memory:m"}).error().message(),
            "invalid --cgroup argument: a (missing <controller>: prefix)");
  EXPECT_EQ(cli::parse_sub_cgroups({"a:b:c"}).error().message(), "invalid --cgroup argument: a:b:c");
}
