#include "linux/terminal.h"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include <cstring>

namespace guise::linux {

Result<Pty> open_pty(const std::optional<oci::ConsoleSize>& size) {
  Pty pty;
  pty.master.reset(::open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC));
  if (!pty.master.valid()) return sys::sys_error("open", "/dev/ptmx");
  int unlock = 0;
  if (::ioctl(pty.master.get(), TIOCSPTLCK, &unlock) < 0) return sys::sys_error("unlock pty");
  pty.peer.reset(::ioctl(pty.master.get(), TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC));
  if (!pty.peer.valid()) return sys::sys_error("open pty peer");
  if (size && (size->height || size->width)) {
    struct winsize ws {};
    ws.ws_row = static_cast<unsigned short>(size->height);
    ws.ws_col = static_cast<unsigned short>(size->width);
    if (::ioctl(pty.master.get(), TIOCSWINSZ, &ws) < 0) return sys::sys_error("set console size");
  }
  return pty;
}

Result<void> become_terminal_owner(int peer) {
  if (::setsid() < 0) return sys::sys_error("setsid");
  if (::ioctl(peer, TIOCSCTTY, 0) < 0) return sys::sys_error("set controlling terminal");
  for (int fd = 0; fd < 3; ++fd)
    if (::dup3(peer, fd, 0) < 0) return sys::sys_error("dup terminal to fd " + std::to_string(fd));
  return Ok();
}

Result<void> send_to_console_socket(const std::string& socket_path, int master) {
  sys::Fd sock(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!sock.valid()) return sys::sys_error("socket");
  struct sockaddr_un addr {};
  addr.sun_family = AF_UNIX;
  if (socket_path.size() >= sizeof addr.sun_path) return sys::user_error("--console-socket: path too long: " + socket_path);
  std::memcpy(addr.sun_path, socket_path.c_str(), socket_path.size());
  if (::connect(sock.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0)
    return sys::sys_error("connect to console socket", socket_path);
  char name[64] = "/dev/ptmx";
  struct iovec iov {name, std::strlen(name)};
  struct msghdr msg {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int))];
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  struct cmsghdr* c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  std::memcpy(CMSG_DATA(c), &master, sizeof master);
  if (::sendmsg(sock.get(), &msg, MSG_NOSIGNAL) < 0) return sys::sys_error("send pty to console socket", socket_path);
  return Ok();
}

}  // namespace guise::linux
