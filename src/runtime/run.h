// run: create + start, then (in the foreground) forward signals, proxy the
// terminal, wait, and delete. Returns the exit code runc would.
#pragma once

#include "runtime/container.h"

namespace guise::runtime {

struct RunOptions {
  CreateOptions create;
  bool detach = false;
  bool keep = false;
};

// The container's exit status, or 128+signal when it was killed.
Result<int> run_container(const Globals& g, RunOptions o);

// Forwards signals to c.pid and proxies c.terminal_master until the process exits;
// returns its exit code (128+signal when killed).
Result<int> supervise(const Created& c);

}  // namespace guise::runtime
