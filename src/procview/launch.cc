#include "procview/launch.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>

#include "procview/files.h"
#include "procview/wire.h"
#include "sys/child_process.h"
#include "sys/syscalls.h"

namespace guise::procview {

std::string unavailable_reason() {
  struct stat st {};
  if (::stat("/dev/fuse", &st) < 0 || !S_ISCHR(st.st_mode)) return "no /dev/fuse";
  auto fs = sys::read_file("/proc/filesystems");
  if (!fs.ok() || fs.value().find("\tfuse\n") == std::string::npos) return "no fuse filesystem in the kernel";
  return {};
}

Result<Launched> launch(const LaunchConfig& c) {
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) return sys::sys_error("socketpair");
  sys::Fd mine(sv[0]), theirs(sv[1]);
  sys::SpawnOptions o;
  o.stdin_fd = theirs.get();
  sys::ChildProcess first = GUISE_TRY(sys::spawn(c.binary, {c.binary}, o), "starting " + c.binary);
  theirs.reset();
  std::string config = std::string("v2=") + (c.v2 ? "1" : "0") + "\n";
  for (const auto& [names, dir] : c.cgroups) {
    // A hierarchy's key names its controllers ("cpu,cpuacct" where they share one).
    size_t at = 0;
    while (at <= names.size()) {
      size_t comma = std::min(names.find(',', at), names.size());
      std::string name = names.substr(at, comma - at);
      if (name == "memory" || name == "cpu" || name == "cpuacct" || name == "cpuset" || (c.v2 && name == "unified"))
        config += name + "=" + dir + "\n";
      at = comma + 1;
    }
  }
  if (!c.listen.empty()) config += "listen=" + c.listen + "\nowner=" + std::to_string(c.listen_owner) + "\n";
  GUISE_TRY(send_message(mine.get(), config));
  auto reply = recv_message(mine.get());
  (void)first.wait();  // it leaves at once, the watcher daemonized behind it
  Message m = GUISE_TRY(std::move(reply), "starting the /proc view");
  if (m.text.rfind("error ", 0) == 0) return sys::user_error("starting the /proc view: " + m.text.substr(6));
  if (m.text.rfind("ok ", 0) != 0 || m.fds.size() != std::size(kFiles))
    return sys::user_error("starting the /proc view: " + c.binary + " did not answer");
  Launched l;
  char* end = nullptr;
  l.watcher = static_cast<pid_t>(std::strtol(m.text.c_str() + 3, &end, 10));
  l.server = static_cast<pid_t>(std::strtol(end, nullptr, 10));
  l.trees = std::move(m.fds);
  l.ctl = std::move(mine);
  return l;
}

Result<void> Launched::follow(pid_t init) {
  GUISE_TRY(send_message(ctl.get(), "pid " + std::to_string(init)));
  ctl.reset();
  return Ok();
}

}  // namespace guise::procview
