#include "engine/monitor_attach.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

namespace guise::engine {

Result<AttachServer> AttachServer::listen(const std::string& path) {
  auto slash = path.rfind('/');
  if (slash == std::string::npos) return sys::user_error("attach socket path " + path + " is not absolute");
  std::string dir = path.substr(0, slash), name = path.substr(slash + 1);
  sys::Fd dfd(::open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!dfd.valid()) return sys::sys_error("open", dir);
  AttachServer s;
  s.path_ = path;
  s.listen_.reset(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!s.listen_.valid()) return sys::sys_error("socket for", path);
  struct sockaddr_un addr {};
  addr.sun_family = AF_UNIX;
  std::string via = "/proc/self/fd/" + std::to_string(dfd.get()) + "/" + name;
  if (via.size() >= sizeof addr.sun_path) return sys::user_error("attach socket name " + name + " is too long");
  std::memcpy(addr.sun_path, via.c_str(), via.size() + 1);
  ::unlink(path.c_str());  // one left by a monitor that was killed
  if (::bind(s.listen_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0)
    return sys::sys_error("bind attach socket", path);
  ::chmod(path.c_str(), 0600);
  if (::listen(s.listen_.get(), 16) < 0) return sys::sys_error("listen on", path);
  return s;
}

int AttachServer::accept_client() {
  int fd = ::accept4(listen_.get(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
  if (fd < 0) return -1;
  clients_.emplace_back(fd);
  client_fds_.push_back(fd);
  return fd;
}

bool AttachServer::read_client(int fd, const OnFrame& on_frame) {
  static char buf[kMaxAttachFrame];
  for (;;) {
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return true;
    if (n <= 0) return false;
    on_frame(static_cast<AttachFrame>(buf[0]), std::string_view(buf + 1, n - 1));
  }
}

void AttachServer::drop_client(int fd) {
  client_fds_.erase(std::remove(client_fds_.begin(), client_fds_.end(), fd), client_fds_.end());
  clients_.erase(std::remove_if(clients_.begin(), clients_.end(), [fd](const sys::Fd& c) { return c.get() == fd; }),
                 clients_.end());
}

namespace {

bool send_frame(int fd, const std::string& frame) {
  for (int tries = 0; tries < 2; ++tries) {
    ssize_t n = ::send(fd, frame.data(), frame.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n >= 0) return true;
    if (errno == EINTR) continue;
    if (errno != EAGAIN) return false;
    // A slow reader holds up the output for at most a second, then loses its attach.
    struct pollfd p {fd, POLLOUT, 0};
    if (::poll(&p, 1, 1000) <= 0) return false;
  }
  return false;
}

}  // namespace

void AttachServer::broadcast(AttachFrame type, std::string_view payload) {
  if (clients_.empty()) return;
  std::string frame(1, static_cast<char>(type));
  frame.append(payload);
  std::vector<int> gone;
  for (const auto& c : clients_)
    if (!send_frame(c.get(), frame)) gone.push_back(c.get());
  for (int fd : gone) drop_client(fd);
}

void AttachServer::close() {
  // A socket closed with frames still unread (a resize sent as the container exited)
  // resets the connection, and the peer's next recv fails with ECONNRESET instead of
  // returning the exit frame already queued for it: read what is pending first.
  static char buf[kMaxAttachFrame];
  for (const auto& c : clients_)
    while (::recv(c.get(), buf, sizeof buf, MSG_DONTWAIT) > 0) {
    }
  clients_.clear();
  client_fds_.clear();
  if (listen_.valid()) {
    listen_.reset();
    ::unlink(path_.c_str());
  }
}

AttachServer::~AttachServer() {
  if (listen_.valid()) ::unlink(path_.c_str());
}

}  // namespace guise::engine
