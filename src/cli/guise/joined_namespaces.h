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

// Nothing for a running container or one that joins nobody. A pod's member starts its
// infra first. wrong_state, naming the flag, when a container to join is not running.
Result<void> prepare_joined_namespaces(engine::ContainerStore& cs, const std::string& id);

}  // namespace guise::cli
