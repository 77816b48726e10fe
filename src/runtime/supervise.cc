// supervise: a caller waiting in the foreground on a container's process.
#include "runtime/runtime.h"

#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "sys/log.h"

namespace guise::runtime {

namespace {

// Puts the caller's terminal in raw mode while a container's terminal is proxied.
class RawTerminal {
 public:
  RawTerminal() {
    if (::isatty(0) && ::tcgetattr(0, &saved_) == 0) {
      struct termios raw = saved_;
      ::cfmakeraw(&raw);
      active_ = ::tcsetattr(0, TCSANOW, &raw) == 0;
    }
  }
  ~RawTerminal() {
    if (active_) ::tcsetattr(0, TCSANOW, &saved_);
  }

 private:
  struct termios saved_ {};
  bool active_ = false;
};

bool copy_once(int from, int to) {
  char buf[16384];
  ssize_t n = ::read(from, buf, sizeof buf);
  if (n <= 0) return false;
  ssize_t off = 0;
  while (off < n) {
    ssize_t w = ::write(to, buf + off, static_cast<size_t>(n - off));
    if (w < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    off += w;
  }
  return true;
}

}  // namespace

// Forwards every signal the runtime receives to the container, as runc does, and
// proxies the terminal, until the container's init exits.
Result<int> supervise(pid_t pid, int pidfd, int terminal_master) {
  sigset_t all;
  sigfillset(&all);
  sigdelset(&all, SIGCHLD);
  sigdelset(&all, SIGSEGV);
  sigdelset(&all, SIGBUS);
  sigdelset(&all, SIGILL);
  sigdelset(&all, SIGFPE);
  sigset_t old;
  ::sigprocmask(SIG_BLOCK, &all, &old);
  sys::Fd sigfd(::signalfd(-1, &all, SFD_CLOEXEC));
  if (!sigfd.valid()) return sys::sys_error("signalfd");
  std::optional<RawTerminal> raw;
  int master = terminal_master;
  if (master >= 0) raw.emplace();
  bool stdin_open = master >= 0;
  for (;;) {
    struct pollfd fds[4] = {{pidfd, POLLIN, 0}, {sigfd.get(), POLLIN, 0},
                            {master, POLLIN, 0}, {stdin_open ? 0 : -1, POLLIN, 0}};
    int n = ::poll(fds, 4, -1);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return sys::sys_error("poll");
    if (fds[1].revents & POLLIN) {
      struct signalfd_siginfo si {};
      if (::read(sigfd.get(), &si, sizeof si) == sizeof si) ::kill(pid, static_cast<int>(si.ssi_signo));
    }
    if (master >= 0 && (fds[2].revents & (POLLIN | POLLHUP))) {
      if (!copy_once(master, 1)) master = -1;
    }
    if (stdin_open && (fds[3].revents & (POLLIN | POLLHUP))) {
      if (!copy_once(0, terminal_master)) stdin_open = false;
    }
    if (fds[0].revents & POLLIN) {
      while (master >= 0 && copy_once(master, 1)) {
      }
      int status = 0;
      while (::waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) return sys::sys_error("wait for container init");
      ::sigprocmask(SIG_SETMASK, &old, nullptr);
      sys::debug("process " + std::to_string(pid) + " exited: exit code " + std::to_string(sys::exit_code(status)));
      return sys::exit_code(status);
    }
  }
}

}  // namespace guise::runtime
