// A container joining its pod: at create (`run --pod`) and at each start.
#include <fcntl.h>
#include <unistd.h>

#include "cli/guise/container_common.h"
#include "cli/guise/container_network.h"
#include "cli/guise/pod_common.h"
#include "engine/events.h"
#include "oci/parse.h"
#include "sys/log.h"
#include "oci/write.h"
#include "sys/syscalls.h"

namespace guise::cli {

namespace {

// What the infra's HostConfig says of a namespace the pod shares: its members join the
// infra's, or the host's where the infra has the host's (hostNetwork, hostPID, hostIPC).
std::string member_mode(const engine::ContainerRecord& infra, const char* key) {
  std::string mode = infra.host_config.value(key, "");
  return mode == "host" ? "host" : "container:" + infra.id;
}

Result<void> refuse_pod_decided(const engine::PodRecord& pod, const RunFlags& f) {
  // podman's words ("... must be defined when the pod is created"), and the namespace why.
  auto refuse = [&](const std::string& flag, const std::string& what, const std::string& ns) {
    return sys::user_error(flag + ": " + what + " must be defined when the pod is created: pod " + pod.name +
                           " shares its " + ns + " namespace");
  };
  if (pod.shares("net")) {
    if (!f.publish.empty() || f.publish_all) return refuse("-p, --publish", "published ports", "network");
    if (f.network != "default") return refuse("--network", "the network", "network");
    if (!f.dns.empty()) return refuse("--dns", "DNS servers", "network");
    if (!f.add_host.empty()) return refuse("--add-host", "hosts", "network");
    if (!f.mac_address.empty() || !f.ip.empty() || !f.ip6.empty() || !f.network_alias.empty())
      return refuse("--ip, --ip6, --mac-address, --network-alias", "addresses and aliases", "network");
  }
  if (pod.shares("uts")) {
    if (!f.hostname.empty()) return refuse("-h, --hostname", "the hostname", "UTS");
    if (!f.uts.empty()) return refuse("--uts", "the UTS namespace", "UTS");
  }
  if (pod.shares("pid") && !f.pid.empty()) return refuse("--pid", "the PID namespace", "PID");
  if (pod.shares("ipc") && !f.ipc.empty()) return refuse("--ipc", "the IPC namespace", "IPC");
  return Ok();
}

Result<engine::ContainerView> running_infra(engine::ContainerStore& cs, const engine::PodRecord& pod) {
  auto v = GUISE_TRY(engine::view_container(cs, pod.infra_id), "the infra container of pod " + pod.name);
  if (v.init_alive()) return v;
  if (v.running())  // its monitor gone, or restarting: not a process to join, nor one to start
    return sys::wrong_state("the infra container of pod " + pod.name + " is " + v.status() +
                            ": start the pod again (guise pod stop, then pod start), or remove it");
  ::unlink((cs.paths(pod.infra_id).dir + "/stopping").c_str());
  GUISE_TRY(start_container(cs, pod.infra_id), "starting the infra container of pod " + pod.name);
  v = GUISE_TRY(engine::view_container(cs, pod.infra_id));
  if (!v.init_alive())
    return sys::wrong_state("the infra container of pod " + pod.name + " exited at once: " + v.state.error);
  return v;
}

}  // namespace

Result<engine::PodStore> open_pods(Context& ctx) {
  auto pods = GUISE_TRY(engine::PodStore::open(store_root(ctx)));
  auto abandoned = pods.abandoned_ids();
  if (!abandoned || abandoned->empty()) return pods;  // the common case: one readdir
  auto cs = GUISE_TRY(open_containers(ctx));
  auto ids = GUISE_TRY(cs.list_ids());
  for (const auto& pod : *abandoned) {
    sys::debug("removing pod " + pod + ", left half-made by a pod create that was killed");
    for (const auto& id : ids)
      if (auto rec = cs.read_record(id); rec && rec->pod == pod) (void)remove_container_fully(ctx, cs, id, true);
    pods.remove_abandoned(pod);
  }
  return pods;
}

Result<void> check_pod_flags(Context& ctx, const RunFlags& flags) {
  auto pods = GUISE_TRY(open_pods(ctx));
  auto pod = GUISE_TRY(pods.read(GUISE_TRY(pods.resolve(flags.pod))));
  return refuse_pod_decided(pod, flags);
}

Result<PodJoin> join_pod(Context& ctx, engine::ContainerStore& cs, const RunFlags& flags, engine::RunRequest& req) {
  auto pods = GUISE_TRY(open_pods(ctx));
  PodJoin join;
  join.pod_id = GUISE_TRY(pods.resolve(flags.pod));
  join.held = GUISE_TRY(pods.lock(join.pod_id));
  auto pod = GUISE_TRY(pods.read(join.pod_id));
  GUISE_TRY(refuse_pod_decided(pod, flags));
  auto infra = GUISE_TRY(running_infra(cs, pod));
  join.infra_id = pod.infra_id;
  join.shares_network = pod.shares("net");
  join.shares_shm = pod.shares("ipc") && infra.record.host_config.value("IpcMode", "") != "host" &&
                    ::access(cs.paths(pod.infra_id).shm().c_str(), F_OK) == 0;
  auto& h = req.host;
  if (pod.shares("net")) h.network_mode = member_mode(infra.record, "NetworkMode");
  if (pod.shares("pid")) h.pid_mode = member_mode(infra.record, "PidMode");
  if (pod.shares("ipc")) h.ipc_mode = member_mode(infra.record, "IpcMode");
  if (pod.shares("uts")) {
    h.uts_mode = member_mode(infra.record, "UTSMode");
    req.config.hostname = infra.record.config.value("Hostname", pod.hostname);
  }
  return join;
}

Result<void> start_pod_infra_of(engine::ContainerStore& cs, const engine::ContainerRecord& rec) {
  if (rec.pod.empty()) return Ok();
  auto pods = GUISE_TRY(engine::PodStore::open(cs.root()));
  auto pod = pods.read(rec.pod);
  if (!pod) return sys::not_found("container " + rec.name + " is in pod " + rec.pod + ", which no longer exists");
  if (pod->infra_id == rec.id) return Ok();
  GUISE_TRY(running_infra(cs, *pod));
  return Ok();
}

void record_pod_event(const std::string& store_root, const engine::PodRecord& pod, const std::string& action) {
  engine::Event e;
  e.type = "pod";
  e.action = action;
  e.id = pod.id;
  e.attributes = {{"name", pod.name}};
  (void)engine::append_event(store_root, std::move(e));
}

bool is_pod_infra(const engine::ContainerStore& cs, const std::string& id) {
  auto rec = cs.read_record(id);
  if (!rec || rec->pod.empty()) return false;
  auto pods = engine::PodStore::open(cs.root());
  if (!pods) return false;
  auto pod = pods->read(rec->pod);
  return pod && pod->infra_id == id;
}

Result<void> refuse_infra_removal(const engine::ContainerStore& cs, const std::string& id) {
  if (!is_pod_infra(cs, id)) return Ok();
  auto rec = GUISE_TRY(cs.read_record(id));
  return sys::wrong_state("container " + id + " is the infra container of pod " + rec.pod +
                          " and cannot be removed without removing the pod");
}

}  // namespace guise::cli
