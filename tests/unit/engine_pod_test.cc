// Pods: --share as podman reads it, podman's pod status from its containers', the record
// kept whole, names, lookups by name, id and prefix, and the lock of a removed pod.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "engine/container.h"
#include "engine/pod_store.h"
#include "engine/pod_view.h"
#include "sys/syscalls.h"

namespace guise::engine {
namespace {

namespace fs = std::filesystem;
using Names = std::vector<std::string>;

TEST(PodShare, PodmansDefaultSortedAndAdded) {
  EXPECT_EQ(parse_pod_share("ipc,net,uts").take(), (Names{"ipc", "net", "uts"}));
  EXPECT_EQ(parse_pod_share("uts,net,net").take(), (Names{"net", "uts"}));
  EXPECT_EQ(parse_pod_share("+pid").take(), (Names{"ipc", "net", "pid", "uts"}));
  EXPECT_EQ(parse_pod_share("network").take(), (Names{"net"}));
  EXPECT_EQ(parse_pod_share("").take(), Names{});
  EXPECT_EQ(parse_pod_share("none").take(), Names{});
}

TEST(PodShare, AnUnknownNamespaceIsNamed) {
  auto r = parse_pod_share("net,mnt");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message(), "--share: \"mnt\" is not a namespace a pod can share (ipc, net, pid, uts)");
  EXPECT_FALSE(parse_pod_share("user").ok());
  EXPECT_FALSE(parse_pod_share("cgroup").ok());
}

TEST(PodStatus, AsPodmanTellsIt) {
  EXPECT_EQ(pod_status({}), "Created");
  EXPECT_EQ(pod_status({"created", "created"}), "Created");
  EXPECT_EQ(pod_status({"running", "running"}), "Running");
  EXPECT_EQ(pod_status({"running", "paused"}), "Running");
  EXPECT_EQ(pod_status({"running", "exited"}), "Degraded");
  EXPECT_EQ(pod_status({"running", "created"}), "Degraded");
  EXPECT_EQ(pod_status({"exited", "created"}), "Exited");
  EXPECT_EQ(pod_status({"exited", "exited"}), "Exited");
}

class PodStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/guise-pods-XXXXXX";
    root_ = ::mkdtemp(tmpl);
    pods_.emplace(PodStore::open(root_).take());
  }
  void TearDown() override { fs::remove_all(root_); }
  PodRecord make(const std::string& id, const std::string& name) {
    PodRecord r;
    r.id = id;
    r.name = name;
    r.hostname = name;
    r.share = {"ipc", "net", "uts"};
    r.infra_id = std::string(64, 'f');
    r.labels = {{"app", "web"}};
    EXPECT_TRUE(pods_->begin_create(id).ok());
    EXPECT_TRUE(pods_->reserve_name(name, id).ok());
    EXPECT_TRUE(pods_->write(r).ok());
    return r;
  }
  std::string root_;
  std::optional<PodStore> pods_;
};

const std::string kA = "ab" + std::string(62, 'a');
const std::string kB = "ac" + std::string(62, 'b');

TEST_F(PodStoreTest, TheRecordComesBackWhole) {
  PodRecord r = make(kA, "web");
  PodRecord back = pods_->read(kA).take();
  EXPECT_EQ(pod_record_to_json(back), pod_record_to_json(r));
  EXPECT_TRUE(back.shares("net"));
  EXPECT_FALSE(back.shares("pid"));
}

TEST_F(PodStoreTest, ResolvedByNameIdAndUniquePrefix) {
  make(kA, "web");
  make(kB, "db");
  EXPECT_EQ(pods_->resolve("web").take(), kA);
  EXPECT_EQ(pods_->resolve(kB).take(), kB);
  EXPECT_EQ(pods_->resolve("ac").take(), kB);
  auto ambiguous = pods_->resolve("a");
  ASSERT_FALSE(ambiguous.ok());
  auto missing = pods_->resolve("nope");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().message(), "no pod with name or ID nope found");
  EXPECT_TRUE(missing.error().is(sys::ErrorKind::kNotFound));
}

TEST_F(PodStoreTest, ANameIsTakenOnceAndFreedWithItsPod) {
  PodRecord r = make(kA, "web");
  auto again = pods_->reserve_name("web", kB);
  ASSERT_FALSE(again.ok());
  EXPECT_TRUE(again.error().is(sys::ErrorKind::kAlreadyExists));
  ASSERT_TRUE(pods_->remove(r).ok());
  EXPECT_FALSE(fs::exists(root_ + "/pods/" + kA));
  EXPECT_FALSE(pods_->resolve("web").ok());
  EXPECT_TRUE(pods_->reserve_name("web", kB).ok());
}

TEST_F(PodStoreTest, TheLockOfARemovedPodIsNotFound) {
  PodRecord r = make(kA, "web");
  { EXPECT_TRUE(pods_->lock(kA).ok()); }
  ASSERT_TRUE(pods_->remove(r).ok());
  auto lock = pods_->lock(kA);
  ASSERT_FALSE(lock.ok());
  EXPECT_TRUE(lock.error().is(sys::ErrorKind::kNotFound));
  EXPECT_EQ(pods_->list_ids().take(), Names{});
}

TEST_F(PodStoreTest, AHalfMadePodIsNotListed) {
  ASSERT_TRUE(pods_->begin_create(kA).ok());  // a `pod create` killed before its record
  EXPECT_EQ(pods_->list_ids().take(), Names{});
  EXPECT_FALSE(pods_->resolve(kA).ok());
}

}  // namespace
}  // namespace guise::engine

namespace guise::engine {
namespace {

// What the monitor checks before it starts a container that joins another's namespaces.
TEST(JoinedProcesses, OnlyProcPidPathsOncePerProcess) {
  std::string me = "/proc/" + std::to_string(::getpid()) + "/ns/";
  auto joined = joined_processes({"", "/var/lib/guise/netns/abc", me + "net", me + "ipc", "/proc/self/ns/uts"});
  ASSERT_EQ(joined.size(), 1u);
  EXPECT_EQ(joined[0].pid, ::getpid());
  EXPECT_EQ(joined[0].start_time, sys::process_start_time(::getpid()).take());
  EXPECT_TRUE(check_joined(joined).ok());
}

TEST(JoinedProcesses, APidThatIsAnotherProcessNowIsRefused) {
  auto joined = joined_processes({"/proc/" + std::to_string(::getpid()) + "/ns/net"});
  joined[0].start_time += 1;  // as if the PID had been given to a newer process
  auto r = check_joined(joined);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.error().is(sys::ErrorKind::kWrongState));
  EXPECT_NE(r.error().message().find("(pid " + std::to_string(::getpid()) + ") has exited since"), std::string::npos);
  // A process gone when the spec was written is never joined either.
  EXPECT_FALSE(check_joined({{::getpid(), 0}}).ok());
}

}  // namespace
}  // namespace guise::engine
