// The lifecycle commands, as the OCI runtime spec defines them. The CLI only parses
// flags and formats output; everything a container goes through is here.
#pragma once

#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cgroups/cgroup.h"
#include "oci/spec.h"
#include "runtime/state.h"
#include "sys/fd.h"
#include "sys/result.h"

namespace guise::runtime {

struct Globals {
  std::string root = "/run/guise";
  bool rootless = false;  // --rootless, resolved: cgroups are optional, maps may need newuidmap
};

struct CreateOptions {
  std::string id;
  std::string bundle;  // "" = current directory
  std::string pid_file;
  std::string console_socket;
  bool no_pivot = false;
  bool no_new_keyring = false;
  int preserve_fds = 0;
  bool keep_terminal_master = false;  // `run` in the foreground proxies the terminal itself
  // `run`: the init starts as soon as it is ready: no exec.fifo, no second command
  // reading the state back. Never observable as "created".
  bool start_at_once = false;
};

struct Created {
  pid_t pid = 0;
  sys::Fd pidfd;
  sys::Fd terminal_master;  // with keep_terminal_master
  // What create knew, for `run` to delete the container without reading it back.
  ContainerState state;
  std::shared_ptr<const oci::Spec> spec;
  std::unique_ptr<cgroups::Cgroup> cgroup;
};

Result<Created> create_container(const Globals& g, const CreateOptions& o);
Result<void> start_container(const Globals& g, const std::string& id);

// The container's current status, looked at now (the process may have exited).
Status current_status(const ContainerState& s, const std::string& state_dir);

Result<std::string> container_state(const Globals& g, const std::string& id);

struct ListEntry {
  ContainerState state;
  Status status;
};
std::vector<ListEntry> list_containers(const Globals& g);

Result<void> kill_container(const Globals& g, const std::string& id, int signal, bool all);
Result<void> delete_container(const Globals& g, const std::string& id, bool force);
// `run`'s delete, once the init it created has exited: from what create kept.
Result<void> delete_created(const Globals& g, Created& c);
Result<std::vector<pid_t>> container_pids(const Globals& g, const std::string& id);
Result<void> pause_container(const Globals& g, const std::string& id);
Result<void> resume_container(const Globals& g, const std::string& id);

// "KILL", "SIGKILL", "9" -> 9; error naming the signal otherwise.
Result<int> parse_signal(const std::string& text);

}  // namespace guise::runtime

namespace guise::runtime {
// `ps` without --format json: runs ps(1) with the given arguments and keeps the
// header and the lines whose PID column is one of the container's, as runc does.
Result<std::string> ps_table(const std::vector<pid_t>& pids, const std::vector<std::string>& ps_args);
}  // namespace guise::runtime
