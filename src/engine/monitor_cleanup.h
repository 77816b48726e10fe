// --rm: what is left of a container once it has exited and the runtime has removed its
// own part: the rootfs in the image store, containers/ID, and its name.
#pragma once

#include <string>
#include <vector>

#include "runtime/runtime.h"
#include "sys/result.h"

namespace guise::engine {

// Each step runs even when one before it failed; the first failure is returned.
Result<void> remove_container_files(const std::string& store_root, const std::string& id, const runtime::Globals& g);

// Starts `argv` (the monitor config's exit_command) in a session of its own, without
// waiting for it; the monitor's own signal mask is not passed on.
void run_exit_command(const std::vector<std::string>& argv);

}  // namespace guise::engine
