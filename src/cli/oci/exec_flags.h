// `exec`'s process, as runc 1.1 takes it: a process.json (-p), or the container's own
// process with the flags' changes (args, -t, -e, --cwd, -u UID[:GID], -g, -c CAP,
// --no-new-privs, --apparmor, --process-label).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "oci/spec.h"
#include "sys/result.h"

namespace guise::cli {

struct ExecFlags {
  std::string process_file;  // --process: a process.json replacing everything below
  std::vector<std::string> args;
  bool tty = false;
  std::vector<std::string> env;
  std::string cwd;
  std::string user;  // "UID[:GID]"
  std::vector<uint32_t> additional_gids;
  std::vector<std::string> caps;
  bool no_new_privs = false;
  std::string apparmor_profile;  // --apparmor: replaces process.apparmorProfile
  std::string process_label;     // --process-label: replaces process.selinuxLabel
};

// `base` is the container's process (config.json); errors name the flag.
Result<oci::Process> exec_process_from_flags(const oci::Process& base, const ExecFlags& o);

// "-g 1,2 -g 3" -> {1, 2, 3}; an error names the value that is not a gid.
Result<std::vector<uint32_t>> parse_gid_lists(const std::vector<std::string>& lists);

// runc's --cgroup [CONTROLLER[,CONTROLLER...]:]PATH, repeatable -> ExecOptions::sub_cgroups
// (key "" for a PATH without controllers, which must then be the only one).
Result<std::map<std::string, std::string>> parse_sub_cgroups(const std::vector<std::string>& args);

}  // namespace guise::cli
