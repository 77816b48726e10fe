// The container process's own attributes: identity, limits, environment, and the
// final exec. Called in the child, in this order, by init.cc and exec.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "linux/capabilities.h"
#include "linux/procfs.h"
#include "oci/spec.h"
#include "sys/result.h"

namespace guise::linux {

// linux.sysctl may only name a namespaced setting whose namespace the container has
// to itself (net.* needs a network namespace, IPC ones an ipc namespace, ...), or the
// write would land on the host; as runc validates it.
Result<void> check_sysctl_namespaces(const oci::Spec& spec);

Result<void> set_hostname(const std::string& hostname, const std::string& domainname);
// In a network namespace the runtime made itself (no path given), the loopback starts
// down; crun brings it up, and so does this: a container without a network still talks
// to 127.0.0.1. A namespace joined by path (CNI, the engine's network layer) is left alone.
Result<void> bring_up_loopback();
// Writes /proc/sys/<name with dots as slashes> through the runtime's own procfs.
Result<void> apply_sysctl(const ProcFs& proc, const std::map<std::string, std::string>& sysctl);
Result<void> apply_rlimits(const std::vector<oci::Rlimit>& rlimits);
Result<void> apply_oom_score_adj(const ProcFs& proc, int adj);
Result<void> apply_personality(const oci::Personality& p);
Result<void> apply_io_priority(const oci::IoPriority& p);
Result<void> apply_scheduler(const oci::Scheduler& s);

// Drops the bounding set, switches to the user (groups, gid, uid) keeping only the
// configured capabilities, then sets umask.
Result<void> become_user(const oci::User& user, const CapSets& caps);

Result<void> set_no_new_privileges();

// chdir to process.cwd resolved inside the root (no magic links: a cwd such as
// /proc/self/fd/N cannot reach a directory fd the runtime still holds), then checks
// that the kernel places the cwd under the root (CVE-2024-21626).
Result<void> enter_cwd(const std::string& cwd);

// become_user and enter_cwd in runc's order: the cwd is entered while still privileged
// (a directory the runtime may enter and the user may not), and where that is refused,
// again as the user (a directory only the user may enter).
Result<void> become_user_at(const oci::User& user, const CapSets& caps, const std::string& cwd);

// Keeps fds 0..2+preserve, marks all others close-on-exec so exec drops them.
Result<void> close_fds_on_exec(int preserve_fds);

// env plus HOME from the container's /etc/passwd for uid ("/" when absent), unless
// env sets HOME already: what runc gives a process.
std::vector<std::string> with_home(std::vector<std::string> env, uint32_t uid);

// args[0] as exec will run it: itself when it names a path, else the first
// executable along the process's PATH (as the container sees it). Resolved before
// the seccomp filter, which may deny access(2); an error names what is missing.
Result<std::string> resolve_executable(const std::string& file, const std::vector<std::string>& env);

// Execs `path` with args and env, through `trampoline` (an ExecTrampoline fd, see
// exec_trampoline.h) when >= 0, which reports a failed exec on `report_fd` (-1: none).
// Only returns on failure.
Error exec_process(const std::string& path, const std::vector<std::string>& args,
                   const std::vector<std::string>& env, int trampoline = -1, int report_fd = -1);

// rlimit "RLIMIT_NOFILE" -> RLIMIT_NOFILE; -1 when unknown.
int rlimit_resource(const std::string& name);

}  // namespace guise::linux
