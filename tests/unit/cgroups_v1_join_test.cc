// What a new process needs before it may join a v1 cgroup, on ordinary temporary
// directories standing in for cgroupfs (no root needed): cpuset values in every level
// down to the container's (a pre-made parent can be as empty as a new leaf), and no
// frozen freezer, its own or above it.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <fstream>
#include <sstream>

#include "cgroups/v1.h"

namespace guise::cgroups::v1 {
namespace {

class V1Join : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/guise-v1-join-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    root_ = tmpl;
  }
  void TearDown() override { (void)std::system(("rm -rf " + root_).c_str()); }

  std::string dir(const std::string& rel) {
    std::string path = root_ + "/" + rel;
    ::mkdir(path.c_str(), 0755);
    return path;
  }
  void put(const std::string& rel, const std::string& text) { std::ofstream(root_ + "/" + rel) << text; }
  std::string get(const std::string& rel) {
    std::ifstream in(root_ + "/" + rel);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }
  void cpuset(const std::string& rel, const std::string& cpus, const std::string& mems) {
    dir(rel);
    put(rel + "/cpuset.cpus", cpus);
    put(rel + "/cpuset.mems", mems);
  }

  std::string root_;
};

TEST_F(V1Join, EmptyPremadeParentsGetTheNearestAncestorsCpuset) {
  cpuset("cpuset", "0-3\n", "0\n");
  cpuset("cpuset/kubepods", "2-3\n", "0\n");
  cpuset("cpuset/kubepods/pod", "", "");        // made by someone else, never filled
  cpuset("cpuset/kubepods/pod/slice", "", "");  // likewise
  cpuset("cpuset/kubepods/pod/slice/ctr", "", "");
  ASSERT_TRUE(inherit_cpuset(root_ + "/cpuset/kubepods/pod/slice/ctr").ok());
  for (const char* rel : {"cpuset/kubepods/pod", "cpuset/kubepods/pod/slice", "cpuset/kubepods/pod/slice/ctr"}) {
    EXPECT_EQ(get(std::string(rel) + "/cpuset.cpus"), "2-3") << rel;
    EXPECT_EQ(get(std::string(rel) + "/cpuset.mems"), "0") << rel;
  }
  EXPECT_EQ(get("cpuset/kubepods/cpuset.cpus"), "2-3\n");  // not rewritten
}

TEST_F(V1Join, ValuesAlreadyThereAreKept) {
  cpuset("cpuset", "0-3\n", "0\n");
  cpuset("cpuset/pod", "1\n", "");
  cpuset("cpuset/pod/ctr", "", "");
  ASSERT_TRUE(inherit_cpuset(root_ + "/cpuset/pod/ctr").ok());
  EXPECT_EQ(get("cpuset/pod/cpuset.cpus"), "1\n");
  EXPECT_EQ(get("cpuset/pod/ctr/cpuset.cpus"), "1");
  EXPECT_EQ(get("cpuset/pod/cpuset.mems"), "0");
  EXPECT_EQ(get("cpuset/pod/ctr/cpuset.mems"), "0");
}

TEST_F(V1Join, NothingToInheritIsLeftForJoiningToReport) {
  dir("cpuset");
  cpuset("cpuset/pod", "", "");
  cpuset("cpuset/pod/ctr", "", "");
  ASSERT_TRUE(inherit_cpuset(root_ + "/cpuset/pod/ctr").ok());
  EXPECT_EQ(get("cpuset/pod/ctr/cpuset.cpus"), "");
}

TEST_F(V1Join, AFrozenCgroupIsRefusedWithRuncsWords) {
  dir("freezer");
  dir("freezer/pod");
  put("freezer/pod/freezer.state", "THAWED\n");
  dir("freezer/pod/ctr");
  put("freezer/pod/ctr/freezer.state", "FROZEN\n");
  auto r = refuse_frozen(root_ + "/freezer/pod/ctr", root_ + "/freezer");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message(),
            "linux.cgroupsPath: container's cgroup unexpectedly frozen (" + root_ + "/freezer/pod/ctr is FROZEN)");
  put("freezer/pod/ctr/freezer.state", "THAWED\n");
  EXPECT_TRUE(refuse_frozen(root_ + "/freezer/pod/ctr", root_ + "/freezer").ok());
}

TEST_F(V1Join, ACgroupNotMadeYetIsRefusedBelowAFrozenOne) {
  dir("freezer");
  dir("freezer/pod");
  put("freezer/pod/freezer.state", "FREEZING\n");
  auto r = refuse_frozen(root_ + "/freezer/pod/a/ctr", root_ + "/freezer");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message(), "linux.cgroupsPath: container's cgroup unexpectedly frozen (" + root_ +
                                     "/freezer/pod, above " + root_ + "/freezer/pod/a/ctr, is FREEZING)");
  put("freezer/pod/freezer.state", "THAWED\n");
  EXPECT_TRUE(refuse_frozen(root_ + "/freezer/pod/a/ctr", root_ + "/freezer").ok());
  // The hierarchy's root has no freezer.state; the climb ends there.
  EXPECT_TRUE(refuse_frozen(root_ + "/freezer/other/ctr", root_ + "/freezer").ok());
}

}  // namespace
}  // namespace guise::cgroups::v1
