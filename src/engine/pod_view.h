// A pod as `pod ps`, `pod inspect` and `pod rm` see it: its record, its infra and members
// (the containers whose record names the pod), read without locks, and podman's status.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/container_view.h"
#include "engine/pod_store.h"

namespace guise::engine {

struct PodView {
  PodRecord record;
  std::vector<ContainerView> containers;  // the infra first, then the members, oldest first
  // podman's: Created (none ever started), Running (all run), Degraded (some run), Exited.
  std::string status() const;
  bool any_running() const;
};

// From the statuses of a pod's containers (docker's words, as ContainerView::status).
std::string pod_status(const std::vector<std::string>& container_statuses);

// `containers`: the ids of every container in the store (ContainerStore::list_ids).
Result<PodView> view_pod(const PodStore& pods, const ContainerStore& cs, const std::string& id,
                         const std::vector<std::string>& containers);

// podman pod inspect's object: Id, Name, Created, State, Hostname, SharedNamespaces,
// InfraContainerID, InfraConfig (PortBindings, HostNetwork, Networks), NumContainers,
// Containers [{Id, Name, State}], Labels.
nlohmann::json pod_inspect_json(const PodView& v);

}  // namespace guise::engine
