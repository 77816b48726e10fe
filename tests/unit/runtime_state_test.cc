// Container ids, the state directory under --root, and what `state` prints.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>

#include "runtime/state.h"
#include "sys/clock.h"

namespace guise::runtime {
namespace {

namespace fs = std::filesystem;

std::string id_error(const std::string& id) {
  auto r = validate_id(id);
  return r.ok() ? "(ok)" : r.error().message();
}

TEST(RuntimeState, ValidIds) {
  for (const char* id : {"abc-1_2.3+x", "a", "ABC", "0", "x..y", "...", ".hidden", "a-"}) {
    SCOPED_TRACE(id);
    EXPECT_TRUE(validate_id(id).ok()) << id_error(id);
  }
  EXPECT_TRUE(validate_id(std::string(1024, 'a')).ok());
}

TEST(RuntimeState, InvalidIdsAreRejectedWithTheirMessage) {
  EXPECT_EQ(id_error(""), "container id cannot be empty");
  EXPECT_EQ(id_error("."), "invalid container id \".\"");
  EXPECT_EQ(id_error(".."), "invalid container id \"..\"");
  const std::string allowed = ": only letters, digits, '_', '+', '-' and '.' are allowed";
  EXPECT_EQ(id_error("a/b"), "invalid container id \"a/b\"" + allowed);
  EXPECT_EQ(id_error("a b"), "invalid container id \"a b\"" + allowed);
  EXPECT_EQ(id_error("../x"), "invalid container id \"../x\"" + allowed);
  EXPECT_EQ(id_error("a\nb"), "invalid container id \"a\nb\"" + allowed);
  EXPECT_EQ(id_error("caf\xc3\xa9"), "invalid container id \"caf\xc3\xa9\"" + allowed);
  EXPECT_EQ(id_error(std::string(1025, 'a')), "invalid container id: longer than 1024 characters");
  EXPECT_EQ(validate_id("a:b").error().errnum, 0);
}

TEST(RuntimeState, StatusNames) {
  EXPECT_STREQ(status_name(Status::kCreating), "creating");
  EXPECT_STREQ(status_name(Status::kCreated), "created");
  EXPECT_STREQ(status_name(Status::kRunning), "running");
  EXPECT_STREQ(status_name(Status::kPaused), "paused");
  EXPECT_STREQ(status_name(Status::kStopped), "stopped");
}

ContainerState sample() {
  ContainerState s;
  s.id = "abc";
  s.bundle = "/bundles/abc";
  s.rootfs = "/bundles/abc/rootfs";
  s.pid = 4242;
  s.created = "2024-05-01T10:20:30.123456789Z";
  return s;
}

TEST(RuntimeState, StateJsonShapeAndKeyOrder) {
  EXPECT_EQ(state_json(sample(), Status::kRunning, false),
            "{\"ociVersion\":\"1.2.0\",\"id\":\"abc\",\"pid\":4242,\"status\":\"running\","
            "\"bundle\":\"/bundles/abc\",\"rootfs\":\"/bundles/abc/rootfs\","
            "\"created\":\"2024-05-01T10:20:30.123456789Z\",\"owner\":\"\"}");
}

TEST(RuntimeState, StateJsonIsIndentedLikeRunc) {
  EXPECT_EQ(state_json(sample(), Status::kCreated),
            "{\n"
            "  \"ociVersion\": \"1.2.0\",\n"
            "  \"id\": \"abc\",\n"
            "  \"pid\": 4242,\n"
            "  \"status\": \"created\",\n"
            "  \"bundle\": \"/bundles/abc\",\n"
            "  \"rootfs\": \"/bundles/abc/rootfs\",\n"
            "  \"created\": \"2024-05-01T10:20:30.123456789Z\",\n"
            "  \"owner\": \"\"\n"
            "}");
}

TEST(RuntimeState, StateJsonAnnotationsOnlyWhenPresent) {
  auto s = sample();
  s.annotations = {{"org.b", "2"}, {"org.a", "1"}};
  EXPECT_EQ(state_json(s, Status::kPaused, false),
            "{\"ociVersion\":\"1.2.0\",\"id\":\"abc\",\"pid\":4242,\"status\":\"paused\","
            "\"bundle\":\"/bundles/abc\",\"rootfs\":\"/bundles/abc/rootfs\","
            "\"created\":\"2024-05-01T10:20:30.123456789Z\","
            "\"annotations\":{\"org.a\":\"1\",\"org.b\":\"2\"},\"owner\":\"\"}");  // runc's order
}

TEST(RuntimeState, StoppedContainerShowsPidZero) {
  auto j = state_json(sample(), Status::kStopped, false);
  EXPECT_NE(j.find("\"pid\":0,\"status\":\"stopped\""), std::string::npos) << j;
  EXPECT_EQ(j.find("4242"), std::string::npos) << j;
}

TEST(RuntimeState, StateJsonEscapesStrings) {
  auto s = sample();
  s.bundle = "/b/with \"quote\"\\";
  auto j = state_json(s, Status::kCreated, false);
  EXPECT_NE(j.find("\"bundle\":\"/b/with \\\"quote\\\"\\\\\""), std::string::npos) << j;
}

TEST(RuntimeState, NowIsRfc3339WithNanosecondsInUtc) {
  std::string now = sys::now_rfc3339();
  EXPECT_TRUE(std::regex_match(now, std::regex(R"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{9}Z)"))) << now;
  EXPECT_GE(now.substr(0, 4), "2024");
  EXPECT_LE(sys::now_rfc3339().substr(0, 19), sys::now_rfc3339().substr(0, 19));  // later calls do not go back
}

class RuntimeStateDir : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "guise-state-test-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    base_ = tmpl;
    root_ = base_ + "/root";  // created by StateDir::create
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(base_, ec);
  }
  std::string base_, root_;
};

TEST_F(RuntimeStateDir, CreateMakesTheRootAndTheContainerDirectory) {
  auto d = StateDir::create(root_, "abc");
  ASSERT_TRUE(d.ok()) << d.error().message();
  EXPECT_EQ(d.value().path(), root_ + "/abc");
  EXPECT_EQ(d.value().fifo_path(), root_ + "/abc/exec.fifo");
  EXPECT_EQ(d.value().config_path(), root_ + "/abc/config.json");
  EXPECT_TRUE(fs::is_directory(root_ + "/abc"));
  EXPECT_GE(d.value().lock_fd(), 0);
  struct stat st {};
  ASSERT_EQ(::stat((root_ + "/abc").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777 & ~0711u, 0u);  // nobody else may write or list it
}

TEST_F(RuntimeStateDir, CreateTwiceSaysTheIdIsTaken) {
  auto a = StateDir::create(root_, "abc");
  ASSERT_TRUE(a.ok()) << a.error().message();
  auto b = StateDir::create(root_, "abc");
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.error().errnum, 0);
  EXPECT_EQ(b.error().message(), "container with id abc already exists");
}

TEST_F(RuntimeStateDir, CreateRejectsABadIdWithoutTouchingTheRoot) {
  auto r = StateDir::create(root_, "../escape");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message().rfind("invalid container id \"../escape\"", 0), 0u) << r.error().message();
  EXPECT_FALSE(fs::exists(base_ + "/escape"));
  EXPECT_FALSE(fs::exists(root_));
}

TEST_F(RuntimeStateDir, OpenMissingSaysItDoesNotExist) {
  auto r = StateDir::open(root_, "nope");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().errnum, 0);
  EXPECT_EQ(r.error().message(), "container nope does not exist");
  EXPECT_FALSE(StateDir::open(root_, "a/b").ok());
}

TEST_F(RuntimeStateDir, SaveThenOpenAndLoadRoundTrips) {
  ContainerState s = sample();
  s.pid_start_time = 987654321;
  s.annotations = {{"k", "v"}, {"org.opencontainers.x", "y z"}};
  s.cgroup_paths = {{"", "/sys/fs/cgroup/guise/abc"}};
  s.own_pid_namespace = true;
  s.started = true;
  s.rootfs_mount = (uint64_t{1} << 40) + 7;  // a kernel's unique mount id is 64-bit
  {
    auto d = StateDir::create(root_, "abc");
    ASSERT_TRUE(d.ok()) << d.error().message();
    auto saved = d.value().save(s);
    ASSERT_TRUE(saved.ok()) << saved.error().message();
  }  // the lock is released here; open would wait on it otherwise
  struct stat st {};
  ASSERT_EQ(::stat((root_ + "/abc/state.json").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);  // annotations may hold secrets
  EXPECT_FALSE(fs::exists(root_ + "/abc/.state.json.tmp"));

  auto d = StateDir::open(root_, "abc");
  ASSERT_TRUE(d.ok()) << d.error().message();
  auto l = d.value().load();
  ASSERT_TRUE(l.ok()) << l.error().message();
  const ContainerState& g = l.value();
  EXPECT_EQ(g.id, s.id);
  EXPECT_EQ(g.bundle, s.bundle);
  EXPECT_EQ(g.rootfs, s.rootfs);
  EXPECT_EQ(g.pid, s.pid);
  EXPECT_EQ(g.pid_start_time, s.pid_start_time);
  EXPECT_EQ(g.created, s.created);
  EXPECT_EQ(g.annotations, s.annotations);
  EXPECT_EQ(g.cgroup_paths, s.cgroup_paths);
  EXPECT_EQ(g.rootfs_mount, s.rootfs_mount);
  EXPECT_TRUE(g.own_pid_namespace);
  EXPECT_TRUE(g.started);
}

TEST_F(RuntimeStateDir, SaveReplacesThePreviousState) {
  auto d = StateDir::create(root_, "abc");
  ASSERT_TRUE(d.ok());
  auto s = sample();
  ASSERT_TRUE(d.value().save(s).ok());
  s.pid = 7;
  ASSERT_TRUE(d.value().save(s).ok());
  auto l = d.value().load();
  ASSERT_TRUE(l.ok());
  EXPECT_EQ(l.value().pid, 7);
}

TEST_F(RuntimeStateDir, LoadWithoutStateFileSaysItDoesNotExist) {
  auto d = StateDir::create(root_, "half");
  ASSERT_TRUE(d.ok());
  auto l = d.value().load();
  ASSERT_FALSE(l.ok());
  EXPECT_EQ(l.error().message(), "container half does not exist");
}

TEST_F(RuntimeStateDir, CorruptStateFileIsNamed) {
  auto d = StateDir::create(root_, "abc");
  ASSERT_TRUE(d.ok());
  std::ofstream(root_ + "/abc/state.json") << "{not json";
  auto l = d.value().load();
  ASSERT_FALSE(l.ok());
  EXPECT_EQ(l.error().message(), "corrupt state file " + root_ + "/abc/state.json");
}

TEST_F(RuntimeStateDir, RemoveDeletesEverything) {
  {
    auto d = StateDir::create(root_, "abc");
    ASSERT_TRUE(d.ok());
    ASSERT_TRUE(d.value().save(sample()).ok());
    std::ofstream(d.value().config_path()) << "{}";
    d.value().remove();
  }
  EXPECT_FALSE(fs::exists(root_ + "/abc"));
  auto r = StateDir::open(root_, "abc");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message(), "container abc does not exist");
  // The id is free again.
  EXPECT_TRUE(StateDir::create(root_, "abc").ok());
}

TEST_F(RuntimeStateDir, ListIdsIsSortedAndSkipsOtherEntries) {
  EXPECT_TRUE(list_ids(root_).empty());  // no root yet
  for (const char* id : {"zeta", "alpha", "Mid", "b-2"}) ASSERT_TRUE(StateDir::create(root_, id).ok()) << id;
  std::ofstream(root_ + "/not-a-container") << "x";
  fs::create_directory(root_ + "/.hidden");
  EXPECT_EQ(list_ids(root_), (std::vector<std::string>{"Mid", "alpha", "b-2", "zeta"}));
}

}  // namespace
}  // namespace guise::runtime
