// The monitor's side of `guise why`: the facts of a run gathered while its cgroup still
// exists (the runtime removes it right after), and of a start that failed.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>
#include <vector>

#include "cgroups/cgroup.h"
#include "engine/container.h"
#include "engine/kernel_log.h"

namespace guise::engine {

// What the monitor watched during one run.
struct RunEvidence {
  const cgroups::Cgroup* cgroup = nullptr;  // null: the runtime kept it to itself
  pid_t pid1 = 0;                           // in the host's pid namespace
  bool init = false;
  int exit_code = 0, exit_signal = 0;       // PID 1's
  int oom_events = 0;
  int64_t ran_ms = 0;
  std::vector<ChildDeath> child_deaths;     // guise-init's reports during this run
  KernelLog* kmsg = nullptr;
  int64_t usage_at_oom = -1, cache_at_oom = -1, sampled_peak = 0;
  bool monitor_killed = false;              // the monitor itself was told to end the container
};

// containers/ID/stopping: "SIGNAL BY" lines, as signal_container() appends them.
std::vector<StopRequest> parse_stop_requests(std::string_view text);

ExitFacts collect_exit_facts(const RunEvidence& ev, const std::string& container_dir);

// The memory in use and its page cache now, for the snapshot at the first OOM event.
void sample_memory(const cgroups::Cgroup& cgroup, int64_t& usage, int64_t& cache);

}  // namespace guise::engine
