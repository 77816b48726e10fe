// One interface over the host's cgroup hierarchy (v1, hybrid or v2), detected
// once. Callers never branch on the version.
#pragma once

#include <sys/types.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "cgroups/entry.h"
#include "cgroups/stats.h"
#include "oci/spec.h"
#include "sys/result.h"

namespace guise::cgroups {

// Notices OOM events in a cgroup: an eventfd registered on memory.oom_control (v1), an
// inotify watch on memory.events (v2).
class OomWatch {
 public:
  virtual ~OomWatch() = default;
  // Readable (POLLIN) when the kernel may have recorded an OOM.
  virtual int fd() const = 0;
  // How many OOM events happened since the last call (or since the watch began): drains
  // fd() and reads the kernel's counters, so a kill whose notification has not arrived
  // yet is counted too. 0 after a spurious wake-up or once the cgroup is gone.
  virtual Result<uint64_t> take() = 0;
};

class Cgroup {
 public:
  virtual ~Cgroup() = default;

  // Where this cgroup lives, as saved in the container's state and given back to open().
  // Keys are hierarchy names ("memory", "cpu", ..., "unified"), values absolute directories.
  virtual std::map<std::string, std::string> paths() const = 0;

  // Writes every limit in linux.resources; an error names the field and the file.
  virtual Result<void> apply(const oci::Resources& resources) = 0;

  // True on a cgroup v2 host: the container's /sys/fs/cgroup is a cgroup2 mount.
  virtual bool is_v2() const = 0;

  // How a new process enters this cgroup without being migrated (entry.h): the
  // cgroup2 directory to clone3(CLONE_INTO_CGROUP) into (-1: none; valid while this
  // object lives), and the v1 `tasks` files it writes itself into.
  virtual int clone_into_fd() const = 0;
  virtual Result<TaskFiles> open_task_files() const = 0;

  // Makes what create(..., defer_v1) left for later: the v1 directories.
  virtual Result<void> complete() { return Ok(); }

  virtual Result<std::vector<pid_t>> pids() const = 0;
  virtual Result<void> kill_all(int signal) = 0;
  virtual Result<void> freeze() = 0;  // returns once frozen
  virtual Result<void> thaw() = 0;
  virtual Result<bool> frozen() const = 0;

  // Kills what is left, removes the directories (retrying while the kernel holds them).
  virtual Result<void> destroy() = 0;

  // Usage counters for `events --stats` (added with the drivers; see stats.h).
  virtual Result<Stats> stats() const = 0;

  // For `events`: OOM notification (a memory controller is needed).
  virtual Result<std::unique_ptr<OomWatch>> watch_oom() const {
    return sys::user_error("this cgroup cannot report OOM events");
  }
};

// Makes the container's cgroup. cgroups_path: linux.cgroupsPath ("" for the default,
// named after id, below the runtime's own cgroup; relative is below the runtime's own
// cgroup; absolute is below the hierarchy root). With defer_v1, the v1 hierarchies'
// directories (a mkdir in each, the costly part on a v1 or hybrid host) are left to
// complete(), so that `create` makes them while the init builds its rootfs; what a clone
// needs (the cgroup2 directory) is made either way.
Result<std::unique_ptr<Cgroup>> create(const std::string& cgroups_path, const std::string& id,
                                       bool defer_v1 = false);

// The paths() create(cgroups_path, id) gives its cgroup, made or not. `create` records
// them before it makes anything, so that a runtime killed at any point leaves a state
// from which `delete --force` finds and removes the directories.
Result<std::map<std::string, std::string>> planned_paths(const std::string& cgroups_path, const std::string& id);

// Reopens a cgroup made by create() from its saved paths(); makes nothing.
Result<std::unique_ptr<Cgroup>> open(const std::map<std::string, std::string>& paths);

}  // namespace guise::cgroups
