#include "cli/guise/joined_namespaces.h"

#include "cli/guise/pod_common.h"
#include "engine/container_view.h"
#include "oci/parse.h"
#include "oci/write.h"
#include "sys/syscalls.h"

namespace guise::cli {

namespace {

struct JoinableNamespace {
  oci::NamespaceType type;
  const char* proc_name;  // /proc/PID/ns/NAME
  const char* mode_key;   // in docker's HostConfig
  const char* flag;
};

constexpr JoinableNamespace kJoinable[] = {
    {oci::NamespaceType::kNetwork, "net", "NetworkMode", "--network"},
    {oci::NamespaceType::kPid, "pid", "PidMode", "--pid"},
    {oci::NamespaceType::kIpc, "ipc", "IpcMode", "--ipc"},
    {oci::NamespaceType::kUts, "uts", "UTSMode", "--uts"},
};

// /proc/PID/ns/NAME of the running container `mode` (container:NAME) names.
Result<std::string> path_of(const engine::ContainerStore& cs, const std::string& mode, const JoinableNamespace& j) {
  std::string other = mode.substr(std::string("container:").size());
  auto where = std::string(j.flag) + " " + mode;
  std::string id = GUISE_TRY(cs.resolve(other), where);
  auto v = GUISE_TRY(engine::view_container(cs, id), where);
  if (!v.init_alive()) return sys::wrong_state(where + ": cannot join container " + other + ": it is not running");
  return "/proc/" + std::to_string(v.state.pid) + "/ns/" + j.proc_name;
}

bool joins_namespaces(const engine::ContainerRecord& rec) {
  bool joins = false;
  for (const auto& j : kJoinable) joins = joins || rec.host_config.value(j.mode_key, "").rfind("container:", 0) == 0;
  return joins;
}

}  // namespace

Result<void> start_infra_of_member(engine::ContainerStore& cs, const std::string& id) {
  if (GUISE_TRY(engine::view_container(cs, id)).running()) return Ok();  // start does nothing to it
  auto rec = GUISE_TRY(cs.read_record(id));
  if (!joins_namespaces(rec)) return Ok();
  return start_pod_infra_of(cs, rec);
}

Result<void> aim_joined_namespaces(engine::ContainerStore& cs, const std::string& id) {
  auto rec = GUISE_TRY(cs.read_record(id));
  if (!joins_namespaces(rec)) return Ok();
  std::string config = cs.paths(id).bundle() + "/config.json";
  auto spec = GUISE_TRY(oci::parse_spec(GUISE_TRY(sys::read_file(config)), config));
  if (!spec.linux) return Ok();
  bool changed = false;
  std::vector<std::string> ns_paths;
  for (auto& n : spec.linux->namespaces) {
    for (const auto& j : kJoinable) {
      std::string mode = rec.host_config.value(j.mode_key, "");
      if (n.type != j.type || mode.rfind("container:", 0) != 0) continue;
      std::string now = GUISE_TRY(path_of(cs, mode, j));
      changed = changed || n.path != now;
      n.path = now;
    }
    ns_paths.push_back(n.path);
  }
  if (changed) GUISE_TRY(engine::write_file_atomic(config, oci::spec_json(spec)));
  // What the monitor checks before each start: these processes, as they are now.
  std::string mc_path = cs.paths(id).monitor_config();
  auto mc = GUISE_TRY(engine::parse_monitor_config(GUISE_TRY(sys::read_file(mc_path))));
  mc.joined = engine::joined_processes(ns_paths);
  return engine::write_file_atomic(mc_path, GUISE_TRY(engine::monitor_config_json(mc)));
}

}  // namespace guise::cli
