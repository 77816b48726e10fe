// ChildProcess: the owner of one child process. Killed (SIGKILL) and reaped when the
// owner goes out of scope, unless waited for or released, so no failure path leaves
// a process behind: the container's init until create succeeds, an exec'd process,
// a hook, ps(1), newuidmap.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "sys/fd.h"
#include "sys/result.h"

namespace guise::sys {

class ChildProcess {
 public:
  ChildProcess() = default;
  ChildProcess(pid_t pid, Fd pidfd) noexcept : pid_(pid), pidfd_(std::move(pidfd)) {}
  ChildProcess(ChildProcess&& o) noexcept : pid_(std::exchange(o.pid_, 0)), pidfd_(std::move(o.pidfd_)) {}
  ChildProcess& operator=(ChildProcess&& o) noexcept {
    if (this != &o) {
      kill_and_reap();
      pid_ = std::exchange(o.pid_, 0);
      pidfd_ = std::move(o.pidfd_);
    }
    return *this;
  }
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  ~ChildProcess() { kill_and_reap(); }

  pid_t pid() const noexcept { return pid_; }
  int pidfd() const noexcept { return pidfd_.get(); }
  bool valid() const noexcept { return pid_ > 0; }

  // Waits for the exit; the raw wait status. The process is no longer owned after.
  Result<int> wait();
  // As wait(), but gives up after timeout_ms (nullopt: still running, still owned).
  Result<std::optional<int>> wait_for(int timeout_ms);
  // Hands the process on: nobody kills it here.
  pid_t release() noexcept {
    pidfd_.reset();
    return std::exchange(pid_, 0);
  }
  // Hands on the pidfd too.
  Fd release_pidfd() noexcept { return std::move(pidfd_); }

 private:
  void kill_and_reap() noexcept;
  pid_t pid_ = 0;
  Fd pidfd_;
};

// The exit code a shell would report: the code, or 128+signal when killed.
int exit_code(int wait_status);

struct SpawnOptions {
  int stdin_fd = -1;   // -1: inherited
  int stdout_fd = -1;  // -1: inherited
  int stderr_fd = -1;  // -1: inherited
  const std::vector<std::string>* env = nullptr;  // nullptr: inherited
  bool search_path = false;                       // execvp's PATH search for argv[0]
  // Every fd above 2 closed at exec, CLOEXEC or not: for a daemon that outlives the call
  // (pasta, fuse-overlayfs), which must not hold a caller's pipe open.
  bool only_stdio = false;
};

// fork + exec of argv, as a ChildProcess. An exec that fails makes the child exit 127.
Result<ChildProcess> spawn(const std::string& path, const std::vector<std::string>& argv, const SpawnOptions& o = {});

}  // namespace guise::sys
