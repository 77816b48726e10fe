// A container as `ps`, `inspect` and `wait` see it: the CLI's record and the monitor's
// state, read without locks, with the live facts only the kernel knows (paused, whether
// the monitor still runs) looked up now.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "engine/container_store.h"

namespace guise::engine {

struct ContainerView {
  ContainerRecord record;
  ContainerStateFile state;
  bool paused = false;
  bool monitor_alive = false;
  // docker's State.Status: created, running, paused, restarting, exited, dead.
  std::string status() const;
  bool running() const { return state.status == "running" || state.status == "restarting"; }
  // The container's init lives as state.pid now: its monitor runs and is that pid's parent.
  // A pid the kernel has given to another process since (the init died, its monitor was
  // killed before it recorded so) has another parent. What joining its namespaces needs:
  // never another process's, which may be the host's.
  bool init_alive() const;
};

Result<ContainerView> view_container(const ContainerStore& store, const std::string& id);

// docker inspect's object for a container.
nlohmann::json container_inspect_json(const ContainerView& v, const ContainerStore& store);

}  // namespace guise::engine
