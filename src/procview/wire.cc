#include "procview/wire.h"

#include <sys/socket.h>

#include <cerrno>
#include <cstring>

namespace guise::procview {

namespace {
constexpr size_t kMaxFds = 16;
constexpr size_t kMaxText = 64 * 1024;
}  // namespace

Result<void> send_message(int sock, std::string_view text, const std::vector<int>& fds) {
  if (fds.size() > kMaxFds) return sys::user_error("internal: too many fds for one message");
  iovec iov{const_cast<char*>(text.empty() ? "" : text.data()), text.size()};
  char one = 0;
  if (text.empty()) iov = {&one, 1};  // a datagram of 0 bytes would read as the end
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxFds)];
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  if (!fds.empty()) {
    msg.msg_control = control;
    msg.msg_controllen = CMSG_SPACE(sizeof(int) * fds.size());
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
    std::memcpy(CMSG_DATA(c), fds.data(), sizeof(int) * fds.size());
  }
  for (;;) {
    if (::sendmsg(sock, &msg, MSG_NOSIGNAL) >= 0) return Ok();
    if (errno != EINTR) return sys::sys_error("send to the /proc view");
  }
}

Result<Message> recv_message(int sock) {
  std::string buf(kMaxText, '\0');
  iovec iov{buf.data(), buf.size()};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxFds)];
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ssize_t n;
  do n = ::recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
  while (n < 0 && errno == EINTR);
  if (n < 0) return sys::sys_error("receive from the /proc view");
  Message m;
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < count; ++i) {
      int fd;
      std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
      m.fds.emplace_back(fd);
    }
  }
  m.text.assign(buf.data(), static_cast<size_t>(n));
  if (m.text == std::string(1, '\0')) m.text.clear();
  return m;
}

}  // namespace guise::procview
