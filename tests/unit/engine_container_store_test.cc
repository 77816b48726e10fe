// The container store's crash safety: a name is never reserved empty, a name whose
// container is gone is free, and a directory without a record counts as abandoned only
// once its creator (who holds its lock) is gone.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include "engine/container_store.h"
#include "sys/syscalls.h"

namespace guise::engine {
namespace {

namespace fs = std::filesystem;

class ContainerStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/guise-cs-XXXXXX";
    root_ = ::mkdtemp(tmpl);
    cs_.emplace(ContainerStore::open(root_).take());
  }
  void TearDown() override { fs::remove_all(root_); }
  std::string root_;
  std::optional<ContainerStore> cs_;
};

const std::string kA(64, 'a');
const std::string kB(64, 'b');

TEST_F(ContainerStoreTest, AReservedNameAlwaysNamesItsContainer) {
  ASSERT_TRUE(cs_->begin_create(kA).ok());
  ASSERT_TRUE(cs_->reserve_name("web", kA).ok());
  EXPECT_EQ(sys::read_file(root_ + "/container-names/web").take(), kA);
  auto taken = cs_->reserve_name("web", kB);
  ASSERT_FALSE(taken.ok());
  EXPECT_NE(taken.error().message().find("is already in use by container \"" + kA + "\""), std::string::npos);
  // No temp file of either reservation stays.
  for (const auto& e : fs::directory_iterator(root_ + "/container-names"))
    EXPECT_EQ(e.path().filename().string(), "web");
}

TEST_F(ContainerStoreTest, ANameWhoseContainerIsGoneIsFree) {
  ASSERT_TRUE(cs_->reserve_name("web", kA).ok());  // no containers/A at all
  ASSERT_TRUE(cs_->reserve_name("web", kB).ok());
  EXPECT_EQ(sys::read_file(root_ + "/container-names/web").take(), kB);
}

TEST_F(ContainerStoreTest, AHalfMadeContainerIsAbandonedOnlyOnceItsCreatorIsGone) {
  {
    auto creating = cs_->begin_create(kA);
    ASSERT_TRUE(creating.ok());
    // Held here: another process's scan must not take it. (flock is per open file, so a
    // child tests it as another command would.)
    pid_t child = ::fork();
    if (child == 0) {
      auto ids = cs_->abandoned_ids();
      ::_exit(ids.ok() && ids->empty() ? 0 : 1);
    }
    int status = 0;
    ::waitpid(child, &status, 0);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  auto ids = cs_->abandoned_ids();
  ASSERT_TRUE(ids.ok());
  ASSERT_EQ(ids->size(), 1u);
  EXPECT_EQ((*ids)[0], kA);
  ASSERT_TRUE(cs_->reserve_name("web", kA).ok());
  cs_->release_names_of(kA);
  EXPECT_FALSE(fs::exists(root_ + "/container-names/web"));
}

TEST_F(ContainerStoreTest, AContainerWithARecordIsNeverAbandoned) {
  { ASSERT_TRUE(cs_->begin_create(kA).ok()); }
  ContainerRecord r;
  r.id = kA;
  r.name = "web";
  ASSERT_TRUE(cs_->write_record(r).ok());
  auto ids = cs_->abandoned_ids();
  ASSERT_TRUE(ids.ok());
  EXPECT_TRUE(ids->empty());
}

}  // namespace
}  // namespace guise::engine
