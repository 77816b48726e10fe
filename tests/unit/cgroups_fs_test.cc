// cgroupfs helpers exercised on an ordinary temporary directory (no root needed):
// error text, mkdir -p and its undo, recursive removal, recursive cgroup.procs.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>

#include "cgroups/fs.h"

namespace guise::cgroups {
namespace {

class CgroupsFs : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/guise-cgroups-fs-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    root_ = tmpl;
  }
  void TearDown() override { (void)std::system(("rm -rf " + root_).c_str()); }
  static bool is_dir(const std::string& p) {
    struct stat st;
    return ::stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
  }
  static void put(const std::string& path, const std::string& text) { std::ofstream(path) << text; }
  std::string root_;
};

TEST(CgroupsFsPure, ParseFlatKeyed) {
  auto m = fs::parse_flat_keyed("usage_usec 1200\nuser_usec 1000\nbad line here\nnr_periods 7\n\nempty \n");
  EXPECT_EQ(m.size(), 3u);
  EXPECT_EQ(m["usage_usec"], 1200u);
  EXPECT_EQ(m["user_usec"], 1000u);
  EXPECT_EQ(m["nr_periods"], 7u);
}

TEST_F(CgroupsFs, WriteErrorNamesFieldValueAndFile) {
  auto r = fs::write(root_ + "/missing", "memory.limit_in_bytes", "1000", "linux.resources.memory.limit");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().errnum, ENOENT);
  EXPECT_EQ(r.error().message(), "linux.resources.memory.limit: write 1000 to " + root_ +
                                     "/missing/memory.limit_in_bytes: No such file or directory");
}

TEST_F(CgroupsFs, WriteAndRead) {
  put(root_ + "/pids.max", "");
  ASSERT_TRUE(fs::write(root_, "pids.max", "32", "f").ok());
  EXPECT_EQ(*fs::read(root_, "pids.max"), "32");
  EXPECT_EQ(*fs::read_u64(root_, "pids.max"), 32u);
  put(root_ + "/memory.max", "max\n");
  EXPECT_EQ(*fs::read_u64(root_, "memory.max"), UINT64_MAX);
  put(root_ + "/junk", "12ab\n");
  EXPECT_FALSE(fs::read_u64(root_, "junk").ok());
  EXPECT_TRUE(fs::exists(root_, "junk"));
  EXPECT_FALSE(fs::exists(root_, "nope"));
}

TEST_F(CgroupsFs, MakeDirsRecordsWhatItMadeAndUndoes) {
  ASSERT_TRUE(is_dir(root_));
  std::vector<std::string> made;
  ASSERT_TRUE(fs::make_dirs(root_ + "/a/b/c", made).ok());
  EXPECT_EQ(made, (std::vector<std::string>{root_ + "/a", root_ + "/a/b", root_ + "/a/b/c"}));
  std::vector<std::string> again;
  ASSERT_TRUE(fs::make_dirs(root_ + "/a/b/d", again).ok());
  EXPECT_EQ(again, (std::vector<std::string>{root_ + "/a/b/d"}));
  fs::remove_made(again);
  EXPECT_FALSE(is_dir(root_ + "/a/b/d"));
  EXPECT_TRUE(is_dir(root_ + "/a/b/c"));
  fs::remove_made(made);
  EXPECT_FALSE(is_dir(root_ + "/a"));
}

TEST_F(CgroupsFs, MakeDirsFailsWithThePath) {
  put(root_ + "/file", "");
  std::vector<std::string> made;
  auto r = fs::make_dirs(root_ + "/file/sub", made);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().path, root_ + "/file/sub");
  EXPECT_EQ(r.error().errnum, ENOTDIR);
  EXPECT_TRUE(made.empty());
}

TEST_F(CgroupsFs, ProcsBelowWalksChildCgroups) {
  std::vector<std::string> made;
  ASSERT_TRUE(fs::make_dirs(root_ + "/ctr/child/grand", made).ok());
  put(root_ + "/ctr/cgroup.procs", "10\n11\n");
  put(root_ + "/ctr/child/cgroup.procs", "");
  put(root_ + "/ctr/child/grand/cgroup.procs", "12\n");
  auto pids = fs::procs_below(root_ + "/ctr");
  ASSERT_TRUE(pids.ok()) << pids.error().message();
  std::sort(pids->begin(), pids->end());
  EXPECT_EQ(*pids, (std::vector<pid_t>{10, 11, 12}));
}

TEST_F(CgroupsFs, RemoveTreeChildrenFirstAndMissingIsFine) {
  std::vector<std::string> made;
  ASSERT_TRUE(fs::make_dirs(root_ + "/ctr/x/y", made).ok());
  ASSERT_TRUE(fs::make_dirs(root_ + "/ctr/z", made).ok());
  EXPECT_TRUE(fs::remove_tree(root_ + "/ctr").ok());
  EXPECT_FALSE(is_dir(root_ + "/ctr"));
  EXPECT_TRUE(fs::remove_tree(root_ + "/ctr").ok());
}

TEST(CgroupsFsPure, WaitForTimesOut) {
  int calls = 0;
  auto r = fs::wait_for([&]() -> Result<bool> { return ++calls >= 3; }, "three calls");
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(calls, 3);
  r = fs::wait_for([]() -> Result<bool> { return false; }, "freezing /x", std::chrono::milliseconds(20));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().errnum, ETIMEDOUT);
  EXPECT_NE(r.error().message().find("freezing /x"), std::string::npos);
}

}  // namespace
}  // namespace guise::cgroups
