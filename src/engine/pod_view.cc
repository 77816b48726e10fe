#include "engine/pod_view.h"

#include <algorithm>

namespace guise::engine {

using nlohmann::json;

std::string pod_status(const std::vector<std::string>& statuses) {
  size_t running = 0, created = 0;
  for (const auto& s : statuses) {
    if (s == "running" || s == "paused" || s == "restarting") ++running;
    else if (s == "created") ++created;
  }
  if (statuses.empty() || created == statuses.size()) return "Created";
  if (running == statuses.size()) return "Running";
  if (running > 0) return "Degraded";
  return "Exited";
}

std::string PodView::status() const {
  std::vector<std::string> s;
  for (const auto& c : containers) s.push_back(c.status());
  return pod_status(s);
}

bool PodView::any_running() const {
  return std::any_of(containers.begin(), containers.end(), [](const ContainerView& c) { return c.running(); });
}

Result<PodView> view_pod(const PodStore& pods, const ContainerStore& cs, const std::string& id,
                         const std::vector<std::string>& containers) {
  PodView v;
  v.record = GUISE_TRY(pods.read(id));
  for (const auto& cid : containers) {
    auto c = view_container(cs, cid);
    if (!c || c->record.pod != id) continue;  // another pod's, none, or removed meanwhile
    v.containers.push_back(std::move(*c));
  }
  const std::string& infra = v.record.infra_id;
  std::sort(v.containers.begin(), v.containers.end(), [&](const ContainerView& a, const ContainerView& b) {
    if ((a.record.id == infra) != (b.record.id == infra)) return a.record.id == infra;
    return a.record.created < b.record.created;
  });
  return v;
}

json pod_inspect_json(const PodView& v) {
  const PodRecord& r = v.record;
  json members = json::array();
  json infra_config = json::object();
  for (const auto& c : v.containers) {
    members.push_back({{"Id", c.record.id}, {"Name", c.record.name}, {"State", c.status()}});
    if (c.record.id != r.infra_id) continue;
    const json& h = c.record.host_config;
    std::string mode = h.value("NetworkMode", "bridge");
    infra_config = {{"PortBindings", h.value("PortBindings", json::object())},
                    {"HostNetwork", mode == "host"},
                    {"Networks", mode == "host" || mode == "none" ? json::array() : json::array({mode})},
                    {"pid_ns", h.value("PidMode", "")},
                    {"ipc_ns", h.value("IpcMode", "")},
                    {"uts_ns", h.value("UTSMode", "")}};
  }
  return {{"Id", r.id},
          {"Name", r.name},
          {"Created", r.created},
          {"State", v.status()},
          {"Hostname", r.hostname},
          {"Labels", r.labels},
          {"CreateInfra", true},
          {"InfraContainerID", r.infra_id},
          {"InfraConfig", infra_config},
          {"SharedNamespaces", r.share},
          {"NumContainers", v.containers.size()},
          {"Containers", members}};
}

}  // namespace guise::engine
