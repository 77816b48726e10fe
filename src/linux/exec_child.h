// exec's child: the process that joins a running container's namespaces, cgroup and
// confinement and execs the new process in it. The container init's sibling: both
// run runtime code after clone3 and speak the one channel protocol (channel.h).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>

#include "cgroups/entry.h"
#include "linux/capabilities.h"
#include "linux/channel.h"
#include "linux/seccomp_setup.h"
#include "oci/spec.h"

namespace guise::linux {

struct ExecChildConfig {
  const oci::Process& proc;
  int container_pidfd;  // the container's init, whose namespaces are joined
  uint64_t join_flags;  // the init's namespaces that differ from the runtime's (namespaces_to_join)
  int preserve_fds;
  const std::string& container_id;
  const std::string& state_json;  // the container's, for a seccomp listener
  PreparedSeccomp& seccomp;
  const CapSets& caps;
  cgroups::TaskFiles& cgroup_tasks;
  bool report_exec;  // the seccomp profile lets the trampoline report (exec_trampoline.h)
  int stdio[3] = {-1, -1, -1};  // dup'd onto 0-2 first where >= 0 (no terminal)
  int container_root = -1;  // the init's root, chrooted into after joining (no own mount namespace)
};

// The namespaces of process `pid` that differ from the caller's: those an exec joins.
uint64_t namespaces_to_join(pid_t pid);

// Never returns: execs the process, or reports the error to the parent and exits 127.
[[noreturn]] void exec_child(const ExecChildConfig& c, Channel& parent);

}  // namespace guise::linux
