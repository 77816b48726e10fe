// The container's init: the child of clone3, still running runtime code, that
// builds the container around itself and then execs the user's process.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "linux/channel.h"
#include "linux/cpu_spread.h"
#include "linux/mount_plan.h"
#include "linux/namespaces.h"
#include "linux/seccomp_cache.h"
#include "oci/spec.h"

namespace guise::linux {

struct InitConfig {
  const oci::Spec* spec = nullptr;
  std::vector<MountStep> mounts;  // planned from spec->mounts by the runtime
  NamespacePlan ns;
  std::string rootfs;  // absolute host path
  std::string bundle;  // absolute; relative mount sources are resolved from it
  int start_fifo = -1;  // exec.fifo opened O_RDWR (blocking): a byte arrives on `start`
  int exec_done = -1;   // exec.done opened O_RDWR|O_CLOEXEC: closed by the exec itself
  bool start_at_once = false;  // `run`: no fifos; the init starts as soon as it is ready
  CpuSpread cpus;              // the runtime's CPU set, taken back before the cgroup join
  bool no_pivot = false;
  bool no_new_keyring = false;
  int preserve_fds = 0;
  std::map<std::string, std::string> cgroup_paths;
  bool cgroup_v2 = false;
  bool run_parent_hooks = false;
  std::vector<int> close_in_child;  // the runtime's fds the container must not hold (state lock)
  // Compiled seccomp programs by content (seccomp_cache.h); "" turns the cache off.
  std::string seccomp_cache_dir = kSeccompCacheDir;
};

// Never returns: execs the user's process, or reports the error to the parent and exits.
[[noreturn]] void container_init(const InitConfig& config, Channel& parent);

}  // namespace guise::linux
