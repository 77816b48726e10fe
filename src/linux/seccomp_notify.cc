#include "linux/seccomp_notify.h"

#include "sys/unix_socket.h"

#include <sys/socket.h>
#include <sys/un.h>

#include <cstring>
#include <nlohmann/json.hpp>

#include "oci/spec.h"

namespace guise::linux {

Result<std::string> listener_message(const std::string& state_json, pid_t pid, const std::string& metadata) {
  auto state = nlohmann::ordered_json::parse(state_json, nullptr, false);
  if (state.is_discarded() || !state.is_object())
    return sys::user_error("internal: the container state for the seccomp listener is not a JSON object");
  nlohmann::ordered_json msg;
  msg["ociVersion"] = oci::kSpecVersion;
  msg["fds"] = {"seccompFd"};
  // 0: the process is the container's init, whose pid the state already names.
  if (pid == 0 && state.contains("pid") && state["pid"].is_number_integer()) pid = state["pid"].get<pid_t>();
  msg["pid"] = pid;
  msg["metadata"] = metadata;
  msg["state"] = std::move(state);
  return msg.dump();
}

Result<SeccompListener> SeccompListener::connect(const std::string& path) {
  SeccompListener l;
  l.path_ = path;
  l.sock_ = GUISE_TRY(sys::connect_unix(path, "linux.seccomp.listenerPath"));
  return l;
}

Result<void> SeccompListener::send(sys::Fd notify_fd, const std::string& message) {
  if (!sock_.valid()) return sys::user_error("internal: seccomp listener not connected");
  GUISE_TRY(sys::send_with_fd(sock_.get(), message, notify_fd.get(), "linux.seccomp.listenerPath " + path_),
            "sending the seccomp notify fd");
  sock_.reset();
  return Ok();
}

}  // namespace guise::linux
