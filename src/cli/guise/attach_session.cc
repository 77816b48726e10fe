#include "cli/guise/attach_session.h"

#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <termios.h>
#include <unistd.h>

#include <cstdio>
#include <nlohmann/json.hpp>

namespace guise::cli {

namespace {

// The terminal back as it was, however the session ends.
struct RawTerminal {
  termios saved{};
  bool active = false;
  void enter() {
    if (!::isatty(STDIN_FILENO) || ::tcgetattr(STDIN_FILENO, &saved) < 0) return;
    termios raw = saved;
    ::cfmakeraw(&raw);
    // cfmakeraw clears OPOST too: the container's own pty already turned \n into \r\n.
    active = ::tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0;
  }
  ~RawTerminal() {
    if (active) ::tcsetattr(STDIN_FILENO, TCSANOW, &saved);
  }
};

Result<void> send_size(const engine::AttachClient& c) {
  winsize ws{};
  if (::ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) < 0 && ::ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) < 0) return Ok();
  return c.send(engine::AttachFrame::kResize, std::to_string(ws.ws_row) + " " + std::to_string(ws.ws_col));
}

void write_all(int fd, const std::string& data) {
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    off += static_cast<size_t>(n);
  }
}

}  // namespace

Result<std::string> parse_detach_keys(const std::string& text) {
  std::string out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    std::string key = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (key.size() == 1) {
      out += key;
    } else if (key.size() == 6 && key.rfind("ctrl-", 0) == 0) {
      char c = key[5];
      if (c >= 'a' && c <= 'z') out += static_cast<char>(c - 'a' + 1);
      else if (c == '@') out += '\0';
      else if (c == '[') out += '\x1b';
      else if (c == '\\') out += '\x1c';
      else if (c == ']') out += '\x1d';
      else if (c == '^') out += '\x1e';
      else if (c == '_') out += '\x1f';
      else return sys::user_error("--detach-keys: invalid key: " + key);
    } else {
      return sys::user_error("--detach-keys: invalid key: " + key);
    }
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

Result<int> attach_session(const engine::AttachClient& client, const AttachOptions& o) {
  // Signals arrive on a signalfd so they are handled in the loop, not in a handler.
  sigset_t set;
  sigemptyset(&set);
  for (int s : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH}) sigaddset(&set, s);
  sigset_t old;
  ::sigprocmask(SIG_BLOCK, &set, &old);
  sys::Fd sfd(::signalfd(-1, &set, SFD_CLOEXEC));
  RawTerminal raw;
  if (o.tty) {
    raw.enter();
    (void)send_size(client);
  }
  bool stdin_live = o.stdin_open;
  int code = -1;
  size_t matched = 0;  // how much of the detach sequence the last keys were
  for (;;) {
    pollfd fds[3] = {{client.fd(), POLLIN, 0}, {sfd.get(), POLLIN, 0}, {stdin_live ? STDIN_FILENO : -1, POLLIN, 0}};
    if (::poll(fds, 3, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (fds[1].revents & POLLIN) {
      signalfd_siginfo si{};
      if (::read(sfd.get(), &si, sizeof si) == sizeof si) {
        if (si.ssi_signo == SIGWINCH) {
          if (o.tty) (void)send_size(client);
        } else if (o.proxy_signals && o.send_signal && !o.tty) {
          o.send_signal(static_cast<int>(si.ssi_signo));
        } else if (o.tty && o.send_signal && si.ssi_signo != SIGINT && si.ssi_signo != SIGQUIT) {
          o.send_signal(static_cast<int>(si.ssi_signo));
        }
      }
    }
    if (fds[2].revents & (POLLIN | POLLHUP | POLLERR)) {
      char buf[32768];
      ssize_t n = ::read(STDIN_FILENO, buf, sizeof buf);
      if (n > 0 && o.tty && !o.detach_keys.empty()) {
        // Keys that may begin the detach sequence are held back until it is clear they do not.
        std::string forward;
        bool detach = false;
        for (ssize_t i = 0; i < n && !detach; ++i) {
          if (buf[i] == o.detach_keys[matched]) {
            if (++matched == o.detach_keys.size()) detach = true;
          } else {
            forward.append(o.detach_keys, 0, matched);
            matched = buf[i] == o.detach_keys[0] ? 1 : 0;
            if (!matched) forward += buf[i];
          }
        }
        if (!forward.empty()) (void)client.send(engine::AttachFrame::kStdin, forward);
        if (detach) {
          code = kDetached;
          break;
        }
      } else if (n > 0) {
        (void)client.send(engine::AttachFrame::kStdin, std::string_view(buf, static_cast<size_t>(n)));
      } else if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN)) {
        (void)client.send(engine::AttachFrame::kStdinEOF);
        stdin_live = false;
      }
    }
    if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      auto frame = client.receive();
      if (!frame || !*frame) break;
      auto& [kind, data] = **frame;
      if (kind == engine::AttachFrame::kStdout) {
        write_all(STDOUT_FILENO, data);
      } else if (kind == engine::AttachFrame::kStderr) {
        write_all(STDERR_FILENO, data);
      } else if (kind == engine::AttachFrame::kExit) {
        auto j = nlohmann::json::parse(data, nullptr, false);
        code = j.is_object() ? j.value("exit_code", 0) : 0;
        break;
      }
    }
  }
  ::sigprocmask(SIG_SETMASK, &old, nullptr);
  if (code == kDetached) return code;
  if (code < 0) return sys::Error{0, "the container's monitor went away before reporting its exit", {}, {}, sys::ErrorKind::kSystem, {}};
  return code;
}

}  // namespace guise::cli
