// A container's state directory under --root: state.json, config.json (a copy, for
// exec and poststop hooks), exec.fifo while created, and a lock.
#pragma once

#include <sys/types.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "runtime/runtime.h"
#include "sys/fd.h"
#include "sys/result.h"

namespace guise::runtime {

// Rejects "", ".", "..", and anything with '/' or characters runc refuses.
Result<void> validate_id(const std::string& id);

class StateDir {
 public:
  // Makes root/id; "container with id X already exists" when taken. Locked.
  static Result<StateDir> create(const std::string& root, const std::string& id);
  // Opens root/id; "container X does not exist" when missing. Locked.
  static Result<StateDir> open(const std::string& root, const std::string& id);

  const std::string& path() const { return path_; }
  std::string fifo_path() const { return path_ + "/exec.fifo"; }
  // Held open for writing by the init until it execs: its hangup tells `start` the
  // user's process is running (so poststart hooks follow it, as the spec orders).
  std::string exec_done_path() const { return path_ + "/exec.done"; }
  std::string config_path() const { return path_ + "/config.json"; }

  Result<void> save(const ContainerState& s) const;  // atomically, by rename
  Result<ContainerState> load() const;
  void remove();  // the whole directory; best effort
  int lock_fd() const { return lock_.get(); }  // a child must close it, or it holds the lock

 private:
  StateDir(std::string path, sys::Fd lock) : path_(std::move(path)), lock_(std::move(lock)) {}
  std::string path_;
  sys::Fd lock_;  // flock(LOCK_EX) on the directory: one command per container at a time
};

// The ids under root, sorted.
std::vector<std::string> list_ids(const std::string& root);

// The state of a container whose init is `pid` now: its start time (which tells it from
// a later process with the same pid) and the creation time read here. For create and
// restore alike.
ContainerState state_of_new_init(const std::string& id, const std::string& bundle, const std::string& rootfs,
                                 const oci::Spec& spec, pid_t pid, std::map<std::string, std::string> cgroup_paths,
                                 bool own_pid_namespace, bool started);

// Writes the pid to `path` ("" writes nothing) whole, by rename: a reader never sees it half.
Result<void> write_pid_file(const std::string& path, pid_t pid);

// The container's current status, looked at now (the process may have exited).
Status current_status(const ContainerState& s, const std::string& state_dir);

// The state directory opened and its state loaded, for the commands that act on a
// container; `allowed` lists the statuses the command accepts, else a kWrongState error.
struct Opened {
  StateDir dir;
  ContainerState state;
  Status status;
};
Result<Opened> open_container(const std::string& root, const std::string& id);

}  // namespace guise::runtime
