#include "sys/child_process.h"

#include <linux/close_range.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sys/syscalls.h"

namespace guise::sys {

void ChildProcess::kill_and_reap() noexcept {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  while (::waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
  }
  pid_ = 0;
  pidfd_.reset();
}

Result<int> ChildProcess::wait() {
  if (pid_ <= 0) return sys::user_error("wait: no child process");
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0)
    if (errno != EINTR) return sys::sys_error("wait for process", std::to_string(pid_));
  pid_ = 0;
  pidfd_.reset();
  return status;
}

Result<std::optional<int>> ChildProcess::wait_for(int timeout_ms) {
  if (pid_ <= 0) return sys::user_error("wait: no child process");
  if (!pidfd_.valid()) {
    auto fd = sys::pidfd_open(pid_);
    if (!fd.ok()) return std::move(fd.error());
    pidfd_ = std::move(fd).take();
  }
  struct pollfd p {pidfd_.get(), POLLIN, 0};
  int n;
  do n = ::poll(&p, 1, timeout_ms);
  while (n < 0 && errno == EINTR);
  if (n < 0) return sys::sys_error("poll", "pidfd");
  if (n == 0) return std::optional<int>();
  auto status = wait();
  if (!status.ok()) return std::move(status.error());
  return std::optional<int>(status.value());
}

int exit_code(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 255;
}

Result<ChildProcess> spawn(const std::string& path, const std::vector<std::string>& args, const SpawnOptions& o) {
  std::vector<std::string> argv_store = args.empty() ? std::vector<std::string>{path} : args;
  std::vector<char*> argv;
  for (auto& a : argv_store) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env_store = o.env ? *o.env : std::vector<std::string>{};
  std::vector<char*> envp;
  for (auto& e : env_store) envp.push_back(e.data());
  envp.push_back(nullptr);
  pid_t pid = ::fork();
  if (pid < 0) return sys::sys_error("fork for", path);
  if (pid == 0) {
    if (o.stdin_fd >= 0) ::dup2(o.stdin_fd, 0);
    if (o.stdout_fd >= 0) ::dup2(o.stdout_fd, 1);
    if (o.stderr_fd >= 0) ::dup2(o.stderr_fd, 2);
    ::signal(SIGPIPE, SIG_DFL);
    if (o.only_stdio) ::syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC);
    if (o.search_path && !o.env)
      ::execvp(path.c_str(), argv.data());
    else if (o.env)
      ::execve(path.c_str(), argv.data(), envp.data());
    else
      ::execv(path.c_str(), argv.data());
    ::_exit(127);
  }
  auto pidfd = sys::pidfd_open(pid);
  return ChildProcess(pid, pidfd.ok() ? std::move(pidfd).take() : Fd());
}

}  // namespace guise::sys
