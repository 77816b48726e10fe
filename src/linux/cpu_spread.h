// The runtime and the container's init work side by side after the clone (the runtime
// on the cgroup, limits and state; the init on its namespaces and rootfs). A new task
// is often queued on its parent's CPU, and then waits there until the parent blocks:
// about a millisecond, measured with `perf sched timehist` on this 2-core VM. So the
// runtime moves the init off its own CPU for the set-up, and the init takes back the
// runtime's CPU set before it joins its cgroup (which may narrow it, as it would have).
#pragma once

#include <sched.h>
#include <sys/types.h>

namespace guise::linux {

class CpuSpread {
 public:
  // Records the runtime's CPU set; before the clone, so the child has it too.
  static CpuSpread record();
  // Runtime, right after the clone: the child to the allowed CPUs other than this one's.
  void move_child(pid_t child) const;
  // Init: back to the recorded set (a no-op where nothing was recorded).
  void restore() const;

 private:
  cpu_set_t cpus_{};
  bool valid_ = false;
};

}  // namespace guise::linux
