// How a new process gets into its container's cgroup without anybody migrating it.
//
// Moving another process (its pid written to cgroup.procs or tasks) takes the kernel's
// global cgroup_threadgroup_rwsem for writing, and taking that waits for an RCU grace
// period: about 5 ms on a quiet 2-core VM, more than the whole rest of `create`. Two
// ways avoid it:
//   - cgroup2 (a v2 host, and the cgroup2 mount of a hybrid one): clone3 with
//     CLONE_INTO_CGROUP (Cgroup::clone_into_fd()), so the process is born there;
//   - v1 hierarchies: the process writes "0" to each `tasks` file itself. A single
//     thread moving itself skips the global lock (Linux 6.1, "cgroup: Optimize single
//     thread migration"; an older kernel takes it, which is only slower).
// The runtime opens the files (Cgroup::open_task_files()). The kernel checks a v1 write
// against the credentials the file was opened with, so a process already in a new user
// namespace can still use them; they are close-on-exec and closed once written.
#pragma once

#include <string>
#include <vector>

#include "sys/fd.h"
#include "sys/result.h"

namespace guise::cgroups {

struct TaskFiles {
  std::vector<sys::Fd> fds;        // v1 `tasks` files, opened O_WRONLY
  std::vector<std::string> paths;  // the same files, for error messages
};

// Opens dir/tasks into `files` (the v1 drivers' open_task_files()).
Result<void> add_tasks_file(TaskFiles& files, const std::string& dir);

// Run by the new process itself: moves it into every hierarchy of `files`, closing them.
Result<void> enter_self(TaskFiles& files);

}  // namespace guise::cgroups
