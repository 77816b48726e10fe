// A container's state directory under --root: state.json, config.json (a copy, for
// exec and poststop hooks), exec.fifo while created, and a lock.
#pragma once

#include <sys/types.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "sys/fd.h"
#include "sys/result.h"

namespace guise::runtime {

enum class Status { kCreating, kCreated, kRunning, kPaused, kStopped };
const char* status_name(Status s);

struct ContainerState {
  std::string id;
  std::string bundle;  // absolute
  std::string rootfs;  // absolute
  pid_t pid = 0;
  uint64_t pid_start_time = 0;  // tells the init from a process that reused its pid
  std::string created;          // RFC 3339 with nanoseconds, UTC
  std::map<std::string, std::string> annotations;
  std::map<std::string, std::string> cgroup_paths;
  bool own_pid_namespace = false;
  bool started = false;
};

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

// The OCI state as `state` prints it (runc's shape: ociVersion, id, pid, status,
// bundle, rootfs, created, owner, annotations when present), indented like runc.
std::string state_json(const ContainerState& s, Status status, bool pretty = true);

std::string now_rfc3339();

}  // namespace guise::runtime
