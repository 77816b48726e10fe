#include "linux/terminal.h"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include <cstring>

#include "sys/unix_socket.h"

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

Result<void> give_terminal_to(int peer, uid_t uid) {
  struct stat st {};
  if (::fstat(peer, &st) < 0) return sys::sys_error("stat the terminal");
  if (st.st_uid == uid) return Ok();
  if (::fchown(peer, uid, st.st_gid) < 0 && errno != EINVAL && errno != EPERM && errno != EROFS)
    return sys::sys_error("chown the terminal to uid " + std::to_string(uid));
  return Ok();
}

Result<void> give_stdio_to(uid_t uid) {
  for (int fd = 0; fd < 3; ++fd) {
    struct stat st {};
    if (::fstat(fd, &st) < 0) continue;  // closed: nothing to give
    if (st.st_uid == uid) continue;
    if (S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3)) continue;  // /dev/null is everyone's
    if (::fchown(fd, uid, static_cast<gid_t>(-1)) < 0 && errno != EINVAL && errno != EPERM && errno != EROFS)
      return sys::sys_error("chown fd " + std::to_string(fd) + " to uid " + std::to_string(uid));
  }
  return Ok();
}

Result<void> become_terminal_owner(int peer) {
  if (::setsid() < 0) return sys::sys_error("setsid");
  if (::ioctl(peer, TIOCSCTTY, 0) < 0) return sys::sys_error("set controlling terminal");
  for (int fd = 0; fd < 3; ++fd)
    if (::dup3(peer, fd, 0) < 0) return sys::sys_error("dup terminal to fd " + std::to_string(fd));
  return Ok();
}

Result<void> send_to_console_socket(const std::string& socket_path, int master) {
  sys::Fd sock = GUISE_TRY(sys::connect_unix(socket_path, "console socket"));
  // runc sends the pty's name as the payload; engines read only the fd.
  return sys::send_with_fd(sock.get(), "/dev/ptmx", master, "console socket " + socket_path);
}

}  // namespace guise::linux
