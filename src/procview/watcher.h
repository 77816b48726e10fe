// The view's watcher: the small process that outlives a crash of the server. When the
// server dies while the container runs, it detaches the view's binds in the container's
// mount namespace, so the real /proc files show again, and answers the sysinfo
// notifications itself with "continue" (the kernel's numbers), so sysinfo never fails.
#pragma once

#include <sys/types.h>

#include <string>

#include "sys/fd.h"

namespace guise::procview {

struct Watch {
  pid_t server = 0;
  pid_t init = 0;
  sys::Fd server_peer;  // the server's socket: the init's pid and the notify fd go there
  sys::Fd listener;     // the seccomp listener socket, or none
  std::string listener_path;
};

[[noreturn]] void run_watcher(Watch w);

// Detaches every bind of the view in the mount namespace of `init` (a child process
// does it, so the watcher stays in the host's namespace). Used after the server died.
void detach_view(pid_t init);

}  // namespace guise::procview
