// The runtime's side of the /proc view: starts guise-procview for one container and
// hands back one detached bind per file (files.h) for the init to attach.
#pragma once

#include <sys/types.h>

#include <map>
#include <string>
#include <vector>

#include "sys/fd.h"
#include "sys/result.h"

namespace guise::procview {

struct LaunchConfig {
  std::string binary;                           // guise-procview
  bool v2 = false;
  std::map<std::string, std::string> cgroups;   // cgroups::Cgroup::paths()
  std::string listen;                           // the seccomp listener path, or ""
  int listen_owner = -1;                        // its owner: the host uid of the container's root
};

class Launched {
 public:
  std::vector<sys::Fd> trees;  // kFiles order
  pid_t watcher = 0, server = 0;
  sys::Fd ctl;
  // The container's init is made: the view follows it from now on. Closing without
  // this (the destructor) tells the view there is no container, and it ends.
  Result<void> follow(pid_t init);
};

Result<Launched> launch(const LaunchConfig& c);

// Whether this host can serve the view: /dev/fuse and the fuse filesystem. "" when it
// can; else the reason, for a warning.
std::string unavailable_reason();

}  // namespace guise::procview
