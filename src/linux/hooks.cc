#include "linux/hooks.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sys/child_process.h"
#include "sys/fd.h"
#include "sys/syscalls.h"

namespace guise::linux {

namespace {

Result<void> run_hook(const oci::Hook& hook, const std::string& name, const std::string& state_json) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) < 0) return sys::sys_error("pipe for", name);
  sys::Fd read_end(fds[0]), write_end(fds[1]);
  sys::SpawnOptions so;
  so.stdin_fd = read_end.get();
  so.env = &hook.env;
  sys::ChildProcess child = GUISE_TRY(sys::spawn(hook.path, hook.args, so), name);
  read_end.reset();
  ::signal(SIGPIPE, SIG_IGN);  // a hook that does not read its stdin is not an error
  (void)sys::write_all(write_end.get(), state_json, "hook stdin");
  write_end.reset();

  int status = 0;
  if (hook.timeout) {
    auto done = GUISE_TRY(child.wait_for(*hook.timeout * 1000), "wait for " + name);
    // Not done in time: the child's owner kills and reaps it.
    if (!done) return sys::user_error(name + ": killed after timeout " + std::to_string(*hook.timeout) + "s");
    status = *done;
  } else {
    status = GUISE_TRY(child.wait(), name);
  }
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
