// What a restore prepares on the host before criu runs: the fds criu inherits, the
// cgroup it restores into, and the root it restores onto.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "cgroups/layout.h"
#include "oci/spec.h"
#include "runtime/criu_args.h"
#include "sys/fd.h"
#include "sys/result.h"

namespace guise::runtime {

// The restored cgroup is the one made for the container now (it may be elsewhere than
// the dumped one: a relative cgroupsPath below another runtime cgroup): criu's
// --cgroup-root per hierarchy, from Cgroup::paths() and where each hierarchy is mounted.
std::vector<std::string> criu_cgroup_roots(const cgroups::Layout& layout,
                                           const std::map<std::string, std::string>& paths);

// Fds criu is to inherit, held open (not close-on-exec) until it has run.
struct RestoreFds {
  std::vector<sys::Fd> held;
};
// Fills plan.inherit_fds and plan.join_ns: the dumped stdio pipes become this
// process's fds 0-2 (descriptors.json, runc's rule), a network or pid namespace joined
// by path is handed over by fd, any other joined namespace is joined by path.
Result<RestoreFds> plan_restore_fds(const oci::Spec& spec, CriuPlan& plan);

// The rootfs bound on a directory of its own, in a mount namespace private to this
// process (criu wants its root to be a mount whose parent is not overmounted), with
// the mountpoints made that are missing from it outside a tmpfs (criu restores those).
class RootMount {
 public:
  static Result<RootMount> make(const std::string& rootfs, const std::string& at, const std::vector<oci::Mount>& mounts);
  RootMount(RootMount&& o) noexcept : path_(std::exchange(o.path_, "")) {}
  RootMount& operator=(RootMount&&) = delete;
  ~RootMount() { remove(); }
  const std::string& path() const { return path_; }
  void remove();  // unmount and rmdir; best effort

 private:
  explicit RootMount(std::string path) : path_(std::move(path)) {}
  std::string path_;
};

}  // namespace guise::runtime
