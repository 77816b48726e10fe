// A container that joins another's namespaces (--network/--pid/--ipc/--uts container:NAME,
// a pod's member joining its infra) holds /proc/PID/ns/TYPE paths in its spec. Before each
// start they are aimed anew at that container's process of now, as docker resolves
// container:NAME at each start, and the monitor is told which processes they name
// (MonitorConfig::joined), so that a restart by policy never joins a PID the kernel has
// since given to another process.
#pragma once

#include <string>

#include "engine/container_store.h"
#include "sys/result.h"

namespace guise::cli {

// A pod's member that is not running starts its infra: before the member's own lock, as
// the infra's lock comes first.
Result<void> start_infra_of_member(engine::ContainerStore& cs, const std::string& id);

// Under the member's lock, once it is known not to run: its spec's namespace paths aimed
// at the processes to join now, and its monitor config told which they are. Nothing for
// a container that joins nobody; wrong_state, naming the flag, when one to join is not
// running.
Result<void> aim_joined_namespaces(engine::ContainerStore& cs, const std::string& id);

}  // namespace guise::cli
