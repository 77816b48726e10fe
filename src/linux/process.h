// The container process's own attributes: identity, limits, environment, and the
// final exec. Called in the child, in this order, by init.cc and exec.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "linux/capabilities.h"
#include "oci/spec.h"
#include "sys/result.h"

namespace guise::linux {

Result<void> set_hostname(const std::string& hostname, const std::string& domainname);
// Writes /proc/sys/<name with dots as slashes>, after checking /proc is procfs.
Result<void> apply_sysctl(const std::map<std::string, std::string>& sysctl);
Result<void> apply_rlimits(const std::vector<oci::Rlimit>& rlimits);
Result<void> apply_oom_score_adj(int adj);
Result<void> apply_personality(const oci::Personality& p);
Result<void> apply_io_priority(const oci::IoPriority& p);
Result<void> apply_scheduler(const oci::Scheduler& s);

// Drops the bounding set, switches to the user (groups, gid, uid) keeping only the
// configured capabilities, then sets umask.
Result<void> become_user(const oci::User& user, const CapSets& caps);

Result<void> set_no_new_privileges();

// Keeps fds 0..2+preserve, marks all others close-on-exec so exec drops them.
Result<void> close_fds_on_exec(int preserve_fds);

// Resolves args[0] with the process's PATH (as seen in the container) and execs.
// Only returns on failure.
Error exec_process(const std::vector<std::string>& args, const std::vector<std::string>& env);

// rlimit "RLIMIT_NOFILE" -> RLIMIT_NOFILE; -1 when unknown.
int rlimit_resource(const std::string& name);

}  // namespace guise::linux
