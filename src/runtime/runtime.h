// The runtime's one seam: what a container goes through, over oci:: types, for both
// faces (guise-oci's runc command line, and the guise engine). Nothing here knows a
// command-line flag, prints, or knows there is an engine; errors carry a kind
// (sys::ErrorKind) so callers decide without matching message text, and warnings go
// to the log sink (sys/log.h) that each face installs.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "cgroups/stats.h"
#include "oci/spec.h"
#include "sys/child_process.h"
#include "sys/fd.h"
#include "sys/result.h"

namespace guise::cgroups {
class Cgroup;
}

namespace guise::runtime {

struct Globals {
  std::string root = "/run/guise";  // where container state lives
  bool rootless = false;            // cgroups are optional, maps may need newuidmap
};

// /run/guise for root; $XDG_RUNTIME_DIR/guise for everyone else (runc's choice).
std::string default_state_root();
// What "rootless" means when nobody said: not root, or root only inside a user namespace.
bool unprivileged();

enum class Status { kCreating, kCreated, kRunning, kPaused, kStopped };
const char* status_name(Status s);  // the OCI state's words: "created", "running", ...

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
  // Without a mount namespace of its own: the id of its rootfs bind (linux/shared_root.h),
  // which `delete` detaches; 0 otherwise.
  uint64_t rootfs_mount = 0;
};

// A container as it is now: its saved state, and its status looked at now.
struct ContainerInfo {
  ContainerState state;
  Status status = Status::kStopped;
};

// The OCI state document (runc's shape: ociVersion, id, pid, status, bundle, rootfs,
// created, annotations when present, owner), indented like runc's when pretty.
std::string state_json(const ContainerState& s, Status status, bool pretty = true);

// Standard input, output and error for a container's process; -1 keeps the caller's.
// Ignored where the process has a terminal (the pty is its stdio).
struct Stdio {
  int in = -1, out = -1, err = -1;
};

struct CreateOptions {
  std::string id;
  std::string bundle;  // "" = current directory
  Stdio stdio;
  std::string pid_file;        // absolute; written once the init is set up (run: once it has exec'd)
  std::string console_socket;  // AF_UNIX socket that receives the terminal's master end
  bool no_pivot = false;
  bool no_new_keyring = false;
  int preserve_fds = 0;               // fds 3..3+N-1 pass to the container
  bool keep_terminal_master = false;  // the caller proxies the terminal itself (Created::terminal_master)
  // The init starts the user's process as soon as it is ready: no exec.fifo, no second
  // call to start(). Never observable as "created".
  bool start_at_once = false;
};

struct Created {
  pid_t pid = 0;
  sys::Fd pidfd;
  sys::Fd terminal_master;  // with keep_terminal_master
  // What create knew, for remove_created() without reading the state back.
  ContainerState state;
  std::shared_ptr<const oci::Spec> spec;
  std::shared_ptr<cgroups::Cgroup> cgroup;
};

Result<Created> create_container(const Globals& g, const CreateOptions& o);
Result<void> start_container(const Globals& g, const std::string& id);
// create with start_at_once; the user's process has been exec'd when it returns.
Result<Created> run_container(const Globals& g, CreateOptions o);

Result<ContainerInfo> container_state(const Globals& g, const std::string& id);
std::vector<ContainerInfo> list_containers(const Globals& g);

// `all`: every process in the container's cgroup, not only its init.
Result<void> kill_container(const Globals& g, const std::string& id, int signal, bool all);
Result<void> pause_container(const Globals& g, const std::string& id);   // returns once frozen
Result<void> resume_container(const Globals& g, const std::string& id);
// Stops what is left (with force), runs poststop hooks, removes the cgroup and the state.
// A missing container is an error of kind kNotFound.
Result<void> remove_container(const Globals& g, const std::string& id, bool force);
// The same, once the init that create_container() returned has exited.
Result<void> remove_created(const Globals& g, Created& c);

Result<std::vector<pid_t>> container_pids(const Globals& g, const std::string& id);

// The process config.json gave the container: what an exec starts from.
Result<oci::Process> container_process(const Globals& g, const std::string& id);

struct ExecOptions {
  Stdio stdio;
  std::string console_socket;         // with process.terminal: receives the master end
  std::string pid_file;               // absolute
  int preserve_fds = 0;
  bool keep_terminal_master = false;  // the caller proxies the terminal itself
  // Exec in a paused container too: the process starts frozen with it, and
  // exec_process() returns once the container is resumed (as runc does).
  bool ignore_paused = false;
  // Sub-cgroups of the container's cgroup to run the process in, each relative to it
  // and made beforehand. Key: a controller ("memory"; co-mounted ones move together),
  // or "" for every hierarchy (on cgroup v2 the only one).
  std::map<std::string, std::string> sub_cgroups;
};
struct ExecStarted {
  sys::ChildProcess process;  // already exec'd; killed and reaped if dropped unreleased
  sys::Fd terminal_master;    // with keep_terminal_master
};
// A new process in the container's namespaces, cgroup and confinement.
Result<ExecStarted> exec_process(const Globals& g, const std::string& id, const oci::Process& process,
                                 const ExecOptions& o);

// Applies `change` over the resources the container has now (fields absent in it stay).
Result<void> update_resources(const Globals& g, const std::string& id, const oci::Resources& change);
// `stored` with each field set in `change` replacing it (maps merge key by key).
oci::Resources merge_resources(oci::Resources stored, const oci::Resources& change);

Result<cgroups::Stats> container_stats(const Globals& g, const std::string& id);

struct WatchCallbacks {
  std::function<void()> on_oom;                                      // once per OOM kill
  std::function<void(const cgroups::Stats&)> on_stats;               // every stats_interval
  std::chrono::nanoseconds stats_interval = std::chrono::seconds(5);
};
// Calls back until the container's init exits; a stats read that fails skips a tick.
Result<void> watch_container(const Globals& g, const std::string& id, const WatchCallbacks& cb);

// Checkpoint and restore through CRIU (the `criu` binary, run as a child). Before a
// checkpoint touches the container, `criu check` must pass: where CRIU cannot work on
// this kernel the error carries CRIU's own reason and the container runs on untouched.
struct CriuFlags {
  std::string criu = "criu";  // the binary: a path, or a name looked up in PATH
  std::string image_path;     // absolute
  std::string work_path;      // absolute; "" = image_path (where criu's log goes)
  bool tcp_established = false;
  bool ext_unix_sk = false;
  bool shell_job = false;
  bool file_locks = false;
  std::string manage_cgroups_mode;  // "" (criu's default, soft), "soft", "full", "strict"
};
struct CheckpointOptions : CriuFlags {
  bool leave_running = false;  // else the container is stopped and deleted once dumped
};
// The images go to image_path (made when missing), with descriptors.json (the init's
// stdio, as runc writes it) for restore.
Result<void> checkpoint_container(const Globals& g, const std::string& id, const CheckpointOptions& o);

struct RestoreOptions : CriuFlags {
  std::string id;
  std::string bundle;          // "" = current directory
  std::string pid_file;        // absolute; written once the restored init runs
  std::string console_socket;  // with process.terminal: receives the new terminal's master end
};
// A container from a checkpoint of it: the state directory and cgroup are made anew,
// criu restores the process tree (stdio pipes that were dumped are replaced by this
// process's own fds 0-2, as runc does); a failure leaves nothing behind. The restored
// init is a child of the caller.
Result<Created> restore_container(const Globals& g, const RestoreOptions& o);

// The OCI features document: what this build and this kernel support.
std::string features_json();

// Forwards every signal the caller receives to `pid` and proxies `terminal_master`
// (-1: none) to stdio until the process exits; returns its exit code (128+signal when
// killed). For callers that wait in the foreground, as `run` and `exec` do.
Result<int> supervise(pid_t pid, int pidfd, int terminal_master);

}  // namespace guise::runtime
