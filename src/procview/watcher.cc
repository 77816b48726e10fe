#include "procview/watcher.h"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <vector>

#include "procview/files.h"
#include "procview/sysinfo_agent.h"
#include "procview/wire.h"
#include "sys/syscalls.h"

namespace guise::procview {

namespace {

constexpr long kFuseSuperMagic = 0x65735546;

// Still the view here: a FUSE file, or one whose server is gone (ENOTCONN).
bool is_view(const char* path) {
  struct statfs fs {};
  if (::statfs(path, &fs) == 0) return fs.f_type == kFuseSuperMagic;
  return errno == ENOTCONN;
}

// One connection to the seccomp listener: the init's (or an exec's) message and its
// notify fd. A connection that sends nothing is `exec` checking the view is there.
sys::Fd accept_notify_fd(Watch& w) {
  sys::Fd conn(::accept4(w.listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
  if (!conn.valid()) return sys::Fd();
  auto m = recv_message(conn.get());
  if (!m.ok() || m->fds.empty()) return sys::Fd();
  return std::move(m->fds[0]);
}

[[noreturn]] void finish(Watch& w) {
  if (w.server > 0) {
    ::kill(w.server, SIGKILL);
    ::waitpid(w.server, nullptr, 0);
  }
  if (!w.listener_path.empty()) ::unlink(w.listener_path.c_str());
  ::_exit(0);
}

}  // namespace

void detach_view(pid_t init) {
  pid_t child = ::fork();
  if (child < 0) return;
  if (child == 0) {
    std::string proc = "/proc/" + std::to_string(init);
    sys::Fd ns(::open((proc + "/ns/mnt").c_str(), O_RDONLY | O_CLOEXEC));
    sys::Fd root(::open((proc + "/root").c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!ns.valid() || !root.valid() || ::setns(ns.get(), CLONE_NEWNS) < 0 || ::fchdir(root.get()) < 0) ::_exit(1);
    for (const auto& e : kFiles) {
      std::string rel = std::string(e.destination + 1);  // relative to the container's root
      for (int i = 0; i < 4 && is_view(rel.c_str()); ++i)
        if (::umount2(rel.c_str(), MNT_DETACH) < 0) break;
    }
    ::_exit(0);
  }
  ::waitpid(child, nullptr, 0);
}

void run_watcher(Watch w) {
  sys::Fd init_fd, server_fd;
  std::vector<sys::Fd> notify;  // one per filter: the init's, each exec's
  if (auto fd = sys::pidfd_open(w.init); fd.ok()) init_fd = std::move(fd).take();
  else finish(w);
  if (auto fd = sys::pidfd_open(w.server); fd.ok()) server_fd = std::move(fd).take();
  bool server_alive = server_fd.valid();
  (void)send_message(w.server_peer.get(), "pid " + std::to_string(w.init));
  for (;;) {
    std::vector<pollfd> p = {{init_fd.get(), POLLIN, 0}, {server_alive ? server_fd.get() : -1, POLLIN, 0},
                             {w.listener.get(), POLLIN, 0}};
    for (const auto& n : notify) p.push_back({server_alive ? -1 : n.get(), POLLIN, 0});
    if (::poll(p.data(), p.size(), -1) < 0) continue;
    if (p[0].revents) finish(w);  // the container's init has exited: the view goes with it
    if (p[1].revents) {
      // The server died under a running container: the real files show again.
      ::waitpid(w.server, nullptr, 0);
      w.server = 0;
      server_alive = false;
      detach_view(w.init);
      w.server_peer.reset();
    }
    if (p[2].revents) {
      sys::Fd n = accept_notify_fd(w);
      if (n.valid()) {
        // The server answers while it lives; this copy keeps the filter's listener open
        // after it, so sysinfo never returns ENOSYS.
        if (server_alive) (void)send_message(w.server_peer.get(), "notify", {n.get()});
        notify.push_back(std::move(n));
      }
    }
    for (size_t i = 3; i < p.size(); ++i) {
      if (p[i].revents & POLLIN) (void)answer_notification(p[i].fd, nullptr);
      else if (p[i].revents & (POLLHUP | POLLERR)) notify[i - 3].reset();  // no process left under it
    }
    notify.erase(std::remove_if(notify.begin(), notify.end(), [](const sys::Fd& f) { return !f.valid(); }),
                 notify.end());
  }
}

}  // namespace guise::procview
