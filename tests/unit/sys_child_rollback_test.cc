// Owners: a child process dies with its owner unless released; a rollback keeps the
// original error and adds each failed undo step to it.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sys/child_process.h"
#include "sys/rollback.h"

namespace guise::sys {
namespace {

bool alive(pid_t pid) { return ::kill(pid, 0) == 0; }

TEST(SysChildProcess, KilledAndReapedWhenItsOwnerGoes) {
  pid_t pid;
  {
    auto child = spawn("/bin/sleep", {"sleep", "30"});
    ASSERT_TRUE(child.ok()) << child.error().message();
    pid = child->pid();
    ASSERT_TRUE(alive(pid));
  }
  EXPECT_FALSE(alive(pid));  // killed and reaped: not even a zombie is left
  EXPECT_EQ(::waitpid(pid, nullptr, WNOHANG), -1);
}

TEST(SysChildProcess, ReleasedLivesOn) {
  pid_t pid;
  {
    auto child = spawn("/bin/sleep", {"sleep", "30"});
    ASSERT_TRUE(child.ok());
    pid = child->release();
  }
  EXPECT_TRUE(alive(pid));
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
}

TEST(SysChildProcess, WaitGivesTheStatusAndAFailedExecIs127) {
  auto ok = spawn("/bin/sh", {"sh", "-c", "exit 3"});
  ASSERT_TRUE(ok.ok());
  auto status = ok->wait();
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(exit_code(*status), 3);
  auto missing = spawn("/no/such/program", {});
  ASSERT_TRUE(missing.ok());
  EXPECT_EQ(exit_code(*missing->wait()), 127);
}

TEST(SysChildProcess, WaitForTimesOutAndKeepsOwning) {
  auto child = spawn("/bin/sleep", {"sleep", "30"});
  ASSERT_TRUE(child.ok());
  auto r = child->wait_for(20);
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_FALSE(*r);
  EXPECT_TRUE(child->valid());
}

TEST(SysRollback, UnwindKeepsTheOriginalAndAddsFailedUndos) {
  std::vector<int> order;
  Error original = user_error("mount proc on /x/proc");
  {
    Rollback undo;
    undo.add([&] { order.push_back(1); });
    undo.add([&]() -> Result<void> {
      order.push_back(2);
      return sys_error_n(EBUSY, "rmdir", "/sys/fs/cgroup/pids/c1");
    });
    undo.add([&]() -> Result<void> {
      order.push_back(3);
      return Ok();
    });
    undo.unwind(original);
  }
  EXPECT_EQ(order, (std::vector<int>{3, 2, 1}));  // in reverse, each once
  EXPECT_EQ(original.kind, ErrorKind::kInvalid);
  EXPECT_EQ(original.message(),
            "mount proc on /x/proc; and while undoing: rmdir /sys/fs/cgroup/pids/c1: Device or resource busy");
}

TEST(SysRollback, CommitKeepsEverything) {
  int undone = 0;
  {
    Rollback undo;
    undo.add([&] { ++undone; });
    undo.commit();
  }
  EXPECT_EQ(undone, 0);
}

TEST(SysError, KindsSayWhatHappened) {
  EXPECT_TRUE(not_found("container x does not exist").is(ErrorKind::kNotFound));
  EXPECT_TRUE(already_exists("container with id x already exists").is(ErrorKind::kAlreadyExists));
  EXPECT_TRUE(wrong_state("container not running").is(ErrorKind::kWrongState));
  EXPECT_TRUE(user_error("bad").is(ErrorKind::kInvalid));
  errno = ENOENT;
  EXPECT_TRUE(sys_error("open", "/x").is(ErrorKind::kSystem));
  EXPECT_STREQ(kind_name(ErrorKind::kNotFound), "not found");
}

}  // namespace
}  // namespace guise::sys
