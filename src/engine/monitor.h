// guise-monitor: one small process per container, the parent of its init. It starts the
// container through the runtime, tells the CLI how that went on the sync fd, then runs
// one epoll loop (no threads) until the container is gone for good: output to the log
// and to attach clients, input from them, the init's reports (--init), OOM events,
// health checks, the exit status, --restart, --rm. state.json is its record of all that.
#pragma once

#include <string>

namespace guise::engine {

struct MonitorArgs {
  std::string store_root;
  std::string id;
  int sync_fd = -1;
};

// Runs in the process that is to be the monitor (already detached from the CLI);
// returns its exit status: 0 once the container ended (whatever its code), non-zero
// when it could not be started (after the error went to the sync fd).
int run_monitor(const MonitorArgs& a);

}  // namespace guise::engine
