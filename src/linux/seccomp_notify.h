// SCMP_ACT_NOTIFY: the filter's listener fd is handed to the agent at
// linux.seccomp.listenerPath with the process's state, as the runtime-spec defines
// it (config-linux.md "seccomp", runtime.md "container process state"):
//   {"ociVersion", "fds": ["seccompFd"], "pid", "metadata", "state": {...}}
// with the fd passed by SCM_RIGHTS alongside.
#pragma once

#include <sys/types.h>

#include <string>

#include "sys/fd.h"
#include "sys/result.h"

namespace guise::linux {

// The message for the agent: `state_json` is the OCI state of the container (its
// pid the init's), `pid` the process that installed the filter (as the host sees
// it; 0 for the init itself).
Result<std::string> listener_message(const std::string& state_json, pid_t pid, const std::string& metadata);

class SeccompListener {
 public:
  SeccompListener() = default;
  // Connects while the host's filesystem is still in view (before pivot_root or
  // setns into the container's mount namespace); the socket is kept until the
  // filter is installed.
  static Result<SeccompListener> connect(const std::string& path);
  bool valid() const { return sock_.valid(); }
  // Sends the message and the notify fd, then closes both ends of our side.
  Result<void> send(sys::Fd notify_fd, const std::string& message);

 private:
  sys::Fd sock_;
  std::string path_;
};

}  // namespace guise::linux
