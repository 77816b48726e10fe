#include "linux/hooks.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sys/fd.h"
#include "sys/syscalls.h"

namespace guise::linux {

namespace {

Result<void> run_hook(const oci::Hook& hook, const std::string& name, const std::string& state_json) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) < 0) return sys::sys_error("pipe for", name);
  sys::Fd read_end(fds[0]), write_end(fds[1]);
  std::vector<std::string> args = hook.args.empty() ? std::vector<std::string>{hook.path} : hook.args;
  std::vector<char*> argv, envp;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env = hook.env;
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);

  pid_t pid = ::fork();
  if (pid < 0) return sys::sys_error("fork for", name);
  if (pid == 0) {
    ::dup2(read_end.get(), 0);
    ::signal(SIGPIPE, SIG_DFL);
    ::execve(hook.path.c_str(), argv.data(), envp.data());
    ::_exit(127);
  }
  read_end.reset();
  auto pidfd = sys::pidfd_open(pid);
  ::signal(SIGPIPE, SIG_IGN);  // a hook that does not read its stdin is not an error
  (void)sys::write_all(write_end.get(), state_json, "hook stdin");
  write_end.reset();

  if (hook.timeout && pidfd.ok()) {
    struct pollfd p {pidfd.value().get(), POLLIN, 0};
    int n;
    do n = ::poll(&p, 1, *hook.timeout * 1000);
    while (n < 0 && errno == EINTR);
    if (n == 0) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
      return sys::user_error(name + ": killed after timeout " + std::to_string(*hook.timeout) + "s");
    }
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) return sys::sys_error("wait for", name);
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return Ok();
  if (WIFEXITED(status) && WEXITSTATUS(status) == 127 && ::access(hook.path.c_str(), X_OK) != 0)
    return sys::sys_error(name + ": exec", hook.path);
  if (WIFSIGNALED(status)) return sys::user_error(name + ": killed by signal " + std::to_string(WTERMSIG(status)));
  return sys::user_error(name + ": exit status " + std::to_string(WEXITSTATUS(status)));
}

}  // namespace

Result<void> run_hooks(const std::vector<oci::Hook>& hooks, const char* kind, const std::string& state_json) {
  for (size_t i = 0; i < hooks.size(); ++i) {
    std::string name = std::string(kind) + " hook[" + std::to_string(i) + "] " + hooks[i].path;
    GUISE_TRY(run_hook(hooks[i], name, state_json));
  }
  return Ok();
}

}  // namespace guise::linux
