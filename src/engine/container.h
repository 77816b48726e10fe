// A container of the engine, on disk: what `guise` (the CLI) and `guise-monitor` (one per
// container) share. Three files, each with one writer, each replaced whole by rename, so
// a reader never takes a lock and never sees half of one:
//   containers/ID/record.json   the CLI's: docker's Config and HostConfig, name, image
//   containers/ID/monitor.json  the CLI's: what the monitor needs to run the container
//   containers/ID/state.json    the monitor's: status, pid, exit code, OOM kills, times
// Beside them: bundle/config.json (the OCI spec the engine built), ctr.log (the log),
// attach (the monitor's socket: attach, stdin, resize), monitor.pid, lock (writers' flock), and
// stopping (made by `stop`/`kill` before they signal: the restart policy then does not restart;
// one "SIGNAL BY" line per request, BY being stop, stop-timeout, kill or rm, read by the
// monitor at the exit for `why`).
// Names are reserved by O_EXCL on container-names/NAME (holding the id).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "sys/result.h"

namespace guise::engine {

struct ContainerPaths {
  std::string dir;  // STORE/containers/ID
  explicit ContainerPaths(const std::string& store_root, const std::string& id)
      : dir(store_root + "/containers/" + id) {}
  std::string record() const { return dir + "/record.json"; }
  std::string monitor_config() const { return dir + "/monitor.json"; }
  std::string state() const { return dir + "/state.json"; }
  std::string bundle() const { return dir + "/bundle"; }
  std::string log() const { return dir + "/ctr.log"; }
  std::string attach_socket() const { return dir + "/attach"; }
  std::string monitor_pid() const { return dir + "/monitor.pid"; }
  std::string lock() const { return dir + "/lock"; }
  // A pod's infra: the pod's /dev/shm, a tmpfs mounted here from its create to its removal.
  std::string shm() const { return dir + "/shm"; }
};

// A process whose namespaces the container's spec joins by /proc/PID/ns/TYPE (another
// container's init: --network container:NAME, a pod's infra), and its start time when the
// spec was written: a PID the kernel has since given to another process must not be joined.
struct JoinedProcess {
  pid_t pid = 0;
  uint64_t start_time = 0;  // /proc/PID/stat's starttime
};

// Those of `namespace_paths` that are /proc/PID/ns/TYPE, with their start times now; a
// process already gone gets 0, which never matches.
std::vector<JoinedProcess> joined_processes(const std::vector<std::string>& namespace_paths);
// wrong_state when one of them has exited (or its PID is another process's) since.
Result<void> check_joined(const std::vector<JoinedProcess>& joined);

// Everything the monitor needs, written by the CLI before it starts the monitor.
struct MonitorConfig {
  std::string id;
  std::string store_root;    // the image store: rootfs/ID is removed with --rm
  std::string runtime_root;  // runtime::Globals::root for this store
  std::string runtime;       // "" = the guise library in process; else an OCI runtime binary (runc, crun, PATH)
  bool tty = false;          // process.terminal: the monitor holds the pty master
  bool open_stdin = false;   // -i: stdin stays open for attach clients
  bool stdin_once = false;   // close the container's stdin when the first attach client detaches
  std::string log_driver = "json-file";  // json-file, k8s-file, none
  int64_t log_max_size = 0;              // bytes; 0 = no rotation
  int log_max_file = 1;
  std::string restart_policy = "no";  // no, on-failure, always, unless-stopped
  int restart_max_retries = 0;        // on-failure:N
  bool auto_remove = false;           // --rm
  std::vector<std::string> health_cmd;  // docker's Test: ["CMD", ...] or ["CMD-SHELL", "..."]; empty = none
  int64_t health_interval_ns = 30'000'000'000, health_timeout_ns = 30'000'000'000;
  int64_t health_start_period_ns = 0;
  int health_retries = 3;
  bool init = false;  // --init: guise-init is PID 1 and reports its children's deaths on fd 3
  // `run` in the foreground: the container is created, and its process started only once
  // the first attach client is connected, so no output is missed.
  bool wait_for_attach = false;
  // Started once the container has stopped for good (no restart follows): what the engine
  // must undo then (its network: namespace, veths, published ports), as podman's conmon
  // runs its exit command. Not waited for. Empty: nothing to run.
  std::vector<std::string> exit_command;
  // Checked before each start of the container, a restart by policy included (the CLI
  // refreshes both the spec's paths and these before a start it makes).
  std::vector<JoinedProcess> joined;
};

struct HealthLogEntry {
  std::string start, end;  // RFC 3339 nano
  int exit_code = 0;
  std::string output;
};

struct ChildDeath {  // reported by guise-init: a process in the container killed by a signal
  pid_t pid = 0;
  int signal = 0;
};

// Why the program could not start, found by looking into the container's rootfs
// (start_failure.h). kind: not-found, directory, not-executable, noexec-mount, wrong-arch,
// no-interpreter, crlf-shebang, no-loader, no-library, or exec (none of these).
struct StartFailure {
  std::string kind;
  std::string program;   // as process.args[0] named it
  std::string path;      // where it was looked for or found, inside the rootfs
  std::string searched;  // not-found: the PATH searched
  std::string detail;    // the interpreter, loader or library missing; the ELF's architecture; the mount
  std::string error;     // the runtime's own error line
};

struct OomVictim {  // from the kernel log's "oom-kill:" line, where it could be read
  pid_t pid = 0;    // in the host's pid namespace
  std::string name;
};

struct StopRequest {  // one line of containers/ID/stopping
  int signal = 0;
  std::string by;  // stop, kill, stop-timeout (stop's SIGKILL once the timeout elapsed), rm
};

// What the monitor recorded when the container's process ended, before its cgroup went:
// the evidence `guise why` reasons from (exit_cause.h). A number the monitor could not
// learn is -1.
struct ExitFacts {
  std::string cgroup;  // "v1", "v2", "" (the runtime kept the cgroup to itself: no counters)
  bool init = false;   // --init: PID 1 is guise-init and the program its child
  int exit_code = 0;
  int signal = 0;       // the signal that ended the program (with --init: the child guise-init reported)
  int64_t ran_ms = 0;
  // Memory: the limit (0: none), the highest usage ("peak_source": max_usage_in_bytes on
  // v1, memory.peak on v2, "sampled" where the kernel keeps no peak: the highest seen at
  // OOM events and at exit), the page cache at exit and at the first OOM.
  int oom_kills = 0;              // in the container's cgroup during this run, whoever they hit
  bool main_oom_killed = false;   // the program itself (PID 1, or guise-init's child) was among them
  std::vector<OomVictim> oom_victims;
  int64_t memory_limit = -1, memory_peak = -1, memory_cache = -1;
  std::string memory_peak_source;
  int64_t usage_at_oom = -1, cache_at_oom = -1;
  // Pids: the limit (0: none) and how often a fork failed on it (pids.events "max").
  int64_t pids_limit = -1, pids_limit_hits = -1;
  // What `stop`, `kill` or `rm -f` asked for (containers/ID/stopping), in order.
  std::vector<StopRequest> stop_requests;
  bool stop_timeout_elapsed = false;  // stop's SIGKILL followed its timeout
  // SIGSYS: the syscall the seccomp filter killed it for, from the kernel's audit line
  // ("audit: type=1326 ... syscall=N"); -1 when the kernel did not tell.
  int seccomp_syscall = -1;
  std::vector<ChildDeath> child_deaths;  // with --init, this run's
  std::optional<StartFailure> start;     // the program could not start
};

// The monitor's account. Status words are docker's.
struct ContainerStateFile {
  std::string status = "created";  // created, running, paused, restarting, exited, dead
  pid_t pid = 0;                   // the container's init, in the host's pid namespace; 0 when not running
  pid_t monitor_pid = 0;
  int exit_code = 0;
  bool oom_killed = false;  // an OOM kill happened in the container during its last run, whoever it hit
  int oom_kills = 0;        // OOM kills in the container's cgroup over all its runs, whoever they hit
  std::string error;        // why it could not start, or why the monitor gave up
  std::string started_at, finished_at;  // RFC 3339 nano; "0001-01-01T00:00:00Z" when never
  int restart_count = 0;
  std::string health_status;  // "", starting, healthy, unhealthy
  int health_failing_streak = 0;
  std::vector<HealthLogEntry> health_log;  // the last five, as docker keeps them
  std::vector<ChildDeath> init_deaths;     // with --init
  int exit_signal = 0;                     // the signal that ended PID 1, 0 when it exited
  // The last exit, explained: a slug (exit_cause.h: oom, oom-child, stop-timeout, stopped,
  // pids-limit, seccomp, exec, killed, signal, exited; "" before the first exit) and
  // the facts behind it.
  std::string exit_cause;
  std::optional<ExitFacts> exit_facts;
};

Result<std::string> monitor_config_json(const MonitorConfig& c);
Result<MonitorConfig> parse_monitor_config(const std::string& json);
std::string state_json(const ContainerStateFile& s);
Result<ContainerStateFile> parse_state(const std::string& json);
// Reads STORE/containers/ID/state.json; a missing file is the state of a container
// whose monitor has not written yet ("created").
Result<ContainerStateFile> read_state(const ContainerPaths& p);
// Whether a write must survive a power cut (fsync of the file and of its directory), or
// only be whole when read (rename alone). Volatile: a monitor's pid, and every file of a
// --rm container, which ends with the run; a crash before its end leaves a container
// that the store collects anyway. The fsyncs were a quarter of `run --rm` under I/O load.
enum class Sync { kDurable, kVolatile };
// Temp file in the same directory, (fsync,) rename (, fsync of the directory).
Result<void> write_file_atomic(const std::string& path, const std::string& data, Sync sync = Sync::kDurable);

// The attach socket's protocol (SOCK_SEQPACKET, one frame per packet): the first byte
// says what follows. From the monitor: output on a stream, and the exit. From a client:
// input, end of input, a terminal size.
enum class AttachFrame : uint8_t {
  kStdout = 1,
  kStderr = 2,
  kExit = 3,    // followed by the state.json text at exit
  kStdin = 10,
  kStdinEOF = 11,
  kResize = 12,  // followed by "ROWS COLS"
};

}  // namespace guise::engine
