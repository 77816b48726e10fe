#include "sys/unix_socket.h"

#include <sys/socket.h>
#include <sys/un.h>

#include <cstring>

namespace guise::sys {

Result<Fd> connect_unix(const std::string& path, const std::string& what) {
  struct sockaddr_un addr {};
  addr.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof addr.sun_path)
    return user_error(what + ": \"" + path + "\" is empty or too long for a unix socket");
  std::memcpy(addr.sun_path, path.c_str(), path.size());
  Fd sock(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!sock.valid()) return sys_error("socket for " + what);
  if (::connect(sock.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0)
    return sys_error("connect to " + what, path);
  return sock;
}

Result<void> send_with_fd(int sock, std::string_view data, int fd, const std::string& what) {
  struct iovec iov {const_cast<char*>(data.data()), data.size()};
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
  std::memcpy(CMSG_DATA(c), &fd, sizeof fd);
  ssize_t n;
  do n = ::sendmsg(sock, &msg, MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  if (n < 0) return sys_error("send to " + what);
  if (static_cast<size_t>(n) != data.size()) return user_error("send to " + what + ": short write");
  return Ok();
}

}  // namespace guise::sys
