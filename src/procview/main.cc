// guise-procview: the cgroup-true /proc view of one container (README "The /proc view").
// Started by the runtime with a SOCK_SEQPACKET socket as its stdin; it says its
// configuration there, gets back the binds to attach, then the init's pid:
//   runtime -> "v2=0\nmemory=DIR\ncpu=DIR\ncpuacct=DIR\ncpuset=DIR\nunified=DIR\nlisten=PATH"
//   view    -> "ok WATCHER_PID SERVER_PID" + one bind per file (files.h), or "error TEXT"
//   runtime -> "pid INIT_PID" (or it closes the socket: the container was not made)
// It leaves its first process at once (the runtime reaps it), so the watcher and the
// server belong to no one's wait loop.
#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <linux/close_range.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <sstream>

#include "procview/server.h"
#include "procview/trees.h"
#include "procview/watcher.h"
#include "procview/wire.h"
#include "sys/idle_memory.h"

using namespace guise;
using namespace guise::procview;

namespace {

struct Config {
  Source src;
  std::string listen;
  int owner = -1;
};

Config parse_config(const std::string& text) {
  Config c;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    size_t eq = line.find('=');
    if (eq == std::string::npos) continue;
    std::string k = line.substr(0, eq), v = line.substr(eq + 1);
    if (k == "v2") c.src.v2 = v == "1";
    else if (k == "memory") c.src.memory = v;
    else if (k == "cpu") c.src.cpu = v;
    else if (k == "cpuacct") c.src.cpuacct = v;
    else if (k == "cpuset") c.src.cpuset = v;
    else if (k == "unified") c.src.unified = v;
    else if (k == "listen") c.listen = v;
    else if (k == "owner") c.owner = std::atoi(v.c_str());
  }
  return c;
}

Result<sys::Fd> listen_at(const std::string& path, int owner) {
  sys::Fd s(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!s.valid()) return sys::sys_error("socket");
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) return sys::user_error("seccomp listener path too long: " + path);
  std::memcpy(addr.sun_path, path.c_str(), path.size());
  ::unlink(path.c_str());
  if (::bind(s.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0) return sys::sys_error("bind", path);
  // In a user namespace the init connects as host root before its ids are mapped, or as
  // the mapped root after: no one owner fits both, so such a socket is open to all (in a
  // directory nobody can list; a stranger's connection can only have its own processes'
  // sysinfo answered).
  if (::chmod(path.c_str(), owner > 0 ? 0666 : 0600) < 0) return sys::sys_error("chmod", path);
  if (::listen(s.get(), 1) < 0) return sys::sys_error("listen", path);
  return s;
}

struct Started {
  Watch watch;
  std::vector<sys::Fd> trees;
};

Result<Started> start(const Config& c, int ctl) {
  Started st;
  sys::Fd fuse(::open("/dev/fuse", O_RDWR | O_CLOEXEC));
  if (!fuse.valid()) return sys::sys_error("open", "/dev/fuse");
  sys::Fd mnt = GUISE_TRY(mount_fuse(fuse.get()));
  if (!c.listen.empty()) {
    st.watch.listener = GUISE_TRY(listen_at(c.listen, c.owner));
    st.watch.listener_path = c.listen;
  }
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) return sys::sys_error("socketpair");
  sys::Fd mine(sv[0]), theirs(sv[1]);
  pid_t server = ::fork();
  if (server < 0) return sys::sys_error("fork");
  if (server == 0) {
    mine.reset();
    mnt.reset();
    ::close(ctl);
    st.watch.listener.reset();
    run_server(c.src, std::move(fuse), std::move(theirs));
  }
  st.watch.server = server;
  st.watch.server_peer = std::move(mine);
  fuse.reset();  // the server's alone: its death ends the filesystem
  auto trees = file_trees(mnt.get());
  if (!trees.ok()) {
    ::kill(server, SIGKILL);
    if (!c.listen.empty()) ::unlink(c.listen.c_str());
    return std::move(trees.error());
  }
  st.trees = std::move(trees).take();
  return st;
}

}  // namespace

int main() {
  ::signal(SIGPIPE, SIG_IGN);
  // Nothing the runtime's process held open (a container's output pipe, a lock) may
  // live on in a process that outlasts it: the socket on stdin alone is kept, as fd 3.
  if (::dup3(0, 3, O_CLOEXEC) < 0) return 2;
  ::close_range(4, ~0U, 0);
  sys::Fd ctl(3);
  int null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  for (int fd = 0; fd < 3; ++fd) ::dup2(null, fd);
  ::close(null);
  auto first = recv_message(ctl.get());
  if (!first.ok() || first->text.empty()) return 2;
  Config c = parse_config(first->text);

  pid_t watcher = ::fork();
  if (watcher < 0) return 1;
  if (watcher > 0) ::_exit(0);
  ::setsid();
  if (::chdir("/") < 0) return 1;  // holding no directory of the caller's busy

  auto started = start(c, ctl.get());
  if (!started.ok()) {
    (void)send_message(ctl.get(), "error " + started.error().message());
    ::_exit(1);
  }
  Watch w = std::move(started->watch);
  std::vector<int> fds;
  for (const auto& t : started->trees) fds.push_back(t.get());
  std::string ok = "ok " + std::to_string(::getpid()) + " " + std::to_string(w.server);
  auto sent = send_message(ctl.get(), ok, fds);
  started->trees.clear();
  auto pid = sent.ok() ? recv_message(ctl.get()) : Result<Message>(sent.error());
  if (!pid.ok() || pid->text.rfind("pid ", 0) != 0) {
    // No container after all: nothing to serve.
    ::kill(w.server, SIGKILL);
    if (!w.listener_path.empty()) ::unlink(w.listener_path.c_str());
    ::_exit(0);
  }
  ctl.reset();
  w.init = static_cast<pid_t>(std::atoi(pid->text.c_str() + 4));
  sys::give_back_idle_memory();  // what the set-up needed alone: this process stays as long as the container
  run_watcher(std::move(w));
}
