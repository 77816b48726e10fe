#include "cgroups/kill.h"

#include <signal.h>

#include <algorithm>
#include <cerrno>
#include <set>

namespace guise::cgroups {

namespace {

Result<void> signal_pids(const std::vector<pid_t>& pids, int signal) {
  for (pid_t pid : pids)
    if (::kill(pid, signal) < 0 && errno != ESRCH)
      return sys::sys_error("kill " + std::to_string(signal), "pid " + std::to_string(pid));
  return Ok();
}

// Without a freezer a fork can slip past one pass; repeat while new pids appear.
Result<void> signal_in_rounds(Cgroup& cgroup, int signal) {
  std::set<pid_t> seen;
  for (int round = 0; round < 20; ++round) {
    auto pids = GUISE_TRY(cgroup.pids());
    std::vector<pid_t> fresh;
    for (pid_t pid : pids)
      if (seen.insert(pid).second) fresh.push_back(pid);
    if (fresh.empty()) return Ok();
    GUISE_TRY(signal_pids(fresh, signal));
  }
  return Ok();
}

}  // namespace

Result<void> signal_all(Cgroup& cgroup, int signal, bool can_freeze) {
  if (!can_freeze) return signal_in_rounds(cgroup, signal);
  bool was_frozen = GUISE_TRY(cgroup.frozen());
  if (!was_frozen && !cgroup.freeze().ok()) {
    // A task stuck in the kernel can keep the freezer from finishing; signal anyway.
    (void)cgroup.thaw();
    return signal_in_rounds(cgroup, signal);
  }
  auto pids = cgroup.pids();
  Result<void> sent = pids.ok() ? signal_pids(*pids, signal) : Result<void>(pids.error());
  if (!was_frozen || signal == SIGKILL) GUISE_TRY(cgroup.thaw(), "thawing after signalling");
  return sent;
}

}  // namespace guise::cgroups
