#include "linux/seccomp_notify.h"

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
  struct sockaddr_un addr {};
  addr.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof addr.sun_path)
    return sys::user_error("linux.seccomp.listenerPath: \"" + path + "\" is empty or too long for a unix socket");
  std::memcpy(addr.sun_path, path.c_str(), path.size());
  l.sock_.reset(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!l.sock_.valid()) return sys::sys_error("socket for linux.seccomp.listenerPath");
  if (::connect(l.sock_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0)
    return sys::sys_error("connect to linux.seccomp.listenerPath", path);
  return l;
}

Result<void> SeccompListener::send(sys::Fd notify_fd, const std::string& message) {
  if (!sock_.valid()) return sys::user_error("internal: seccomp listener not connected");
  struct iovec iov {const_cast<char*>(message.data()), message.size()};
  struct msghdr msg {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  struct cmsghdr* c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  int fd = notify_fd.get();
  std::memcpy(CMSG_DATA(c), &fd, sizeof fd);
  ssize_t n;
  do n = ::sendmsg(sock_.get(), &msg, MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  if (n < 0) return sys::sys_error("send the seccomp notify fd to", path_);
  if (static_cast<size_t>(n) != message.size())
    return sys::user_error("send the seccomp notify fd to " + path_ + ": short write");
  sock_.reset();
  return Ok();
}

}  // namespace guise::linux
