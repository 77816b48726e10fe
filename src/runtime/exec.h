// exec: a new process in a running container's namespaces, cgroup and confinement.
#pragma once

#include <string>
#include <vector>

#include "runtime/container.h"

namespace guise::runtime {

struct ExecOptions {
  std::string id;
  std::string process_file;  // --process: a process.json replacing everything below
  std::vector<std::string> args;
  bool tty = false;
  std::string console_socket;
  bool detach = false;
  std::string pid_file;
  std::vector<std::string> env;
  std::string cwd;
  std::string user;  // "UID[:GID]"
  std::vector<uint32_t> additional_gids;
  std::vector<std::string> caps;
  bool no_new_privs = false;
  int preserve_fds = 0;
  std::string apparmor_profile;  // --apparmor: replaces process.apparmorProfile
  std::string process_label;     // --process-label: replaces process.selinuxLabel
};

// The process's exit code (128+signal when killed); 0 at once with --detach.
Result<int> exec_in_container(const Globals& g, const ExecOptions& o);

}  // namespace guise::runtime
