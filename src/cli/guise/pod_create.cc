// `pod create`: a pod record and its infra container, podman's way. The infra is created,
// not started (the first `run --pod` or `pod start` starts it): a real container whose
// rootfs is an empty directory and whose one process is the host's guise-init, bound in
// read-only as under --init and run as `guise-init -P`. No pause image is built, pulled or
// kept: nothing to garbage-collect, nothing to go stale when guise is upgraded, and
// nothing in the infra's rootfs that a process of the pod could change.
//
// The infra holds what the pod decides: its network and published ports, hostname, and
// the host's namespaces where asked (--network host, --pid host, --ipc host, --uts host:
// Kubernetes' hostNetwork, hostPID, hostIPC).
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>

#include "cli/guise/container_common.h"
#include "cli/guise/container_create.h"
#include "cli/guise/pod_commands.h"
#include "engine/attach.h"
#include "sys/clock.h"

namespace guise::cli {

namespace {

// --pid/--ipc/--uts of the pod: the host's namespace (which the members then share), or the
// pod's own.
Result<std::string> host_or_private(const std::string& value, const std::string& flag) {
  if (value.empty() || value == "private") return std::string();
  if (value == "host") return value;
  return sys::user_error(flag + ": \"" + value + "\" is not a namespace mode for a pod (host or private)");
}

void add_shared(std::vector<std::string>& share, const std::string& ns) {
  if (std::find(share.begin(), share.end(), ns) == share.end()) share.push_back(ns);
  std::sort(share.begin(), share.end());
}

}  // namespace

Result<std::string> create_pod(Context& ctx, const PodCreateFlags& f) {
  auto pods = GUISE_TRY(open_pods(ctx));
  auto cs = GUISE_TRY(open_containers(ctx));
  auto store = GUISE_TRY(ctx.open_store());
  engine::PodRecord pod;
  pod.share = GUISE_TRY(engine::parse_pod_share(f.share));
  std::string pid = GUISE_TRY(host_or_private(f.pid, "--pid"));
  std::string ipc = GUISE_TRY(host_or_private(f.ipc, "--ipc"));
  std::string uts = GUISE_TRY(host_or_private(f.uts, "--uts"));
  if (!pid.empty()) add_shared(pod.share, "pid");
  if (!ipc.empty()) add_shared(pod.share, "ipc");
  if (!uts.empty()) add_shared(pod.share, "uts");
  if (f.network.rfind("container:", 0) == 0)
    return sys::user_error("--network " + f.network + ": a pod cannot join another container's network");
  if (!uts.empty() && !f.hostname.empty()) return sys::user_error("--hostname: cannot set a hostname with --uts host");
  for (const auto& l : f.labels) {
    auto eq = l.find('=');
    pod.labels[l.substr(0, eq)] = eq == std::string::npos ? "" : l.substr(eq + 1);
  }
  pod.id = engine::ContainerStore::new_id();
  pod.name = f.name.empty() ? engine::ContainerStore::random_name() : f.name;
  if (!engine::ContainerStore::valid_name(pod.name))
    return sys::user_error("--name: invalid pod name \"" + pod.name + "\": only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed");
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  pod.hostname = !uts.empty() ? host : f.hostname.empty() ? pod.name : f.hostname;
  pod.created = sys::now_rfc3339();

  // The infra's request, through run's own flag checks: -p, --network, --dns, --add-host
  // are refused here in run's words, before anything is made.
  RunFlags rf;
  rf.name = pod.id.substr(0, 12) + "-infra";
  rf.publish = f.publish;
  rf.network = f.network;
  rf.hostname = uts.empty() ? pod.hostname : "";
  rf.pid = pid;
  rf.ipc = ipc;
  rf.uts = uts;
  rf.dns = f.dns;
  rf.add_host = f.add_host;
  // On a user network the pod answers to its name, as under podman: every member's server
  // is reached at NAME by the network's other containers.
  const std::string& n = f.network;
  if (n != "default" && n != "bridge" && n != "host" && n != "none") rf.network_alias = {pod.name};
  rf.init = true;
  rf.detach = true;
  rf.log_driver = "none";
  engine::RunRequest req = GUISE_TRY(to_run_request(rf, {"guise-pause", "-P"}));
  req.config.image.clear();  // no image: CreateInput::image stays empty
  CreateInput in;
  in.pod_id = pod.id;
  in.process_args = {"/run/guise-init", "-P"};
  in.pod_shm = ipc.empty();  // with the host's IPC namespace, the host's /dev/shm is everyone's

  auto held = GUISE_TRY(pods.begin_create(pod.id));
  struct Undo {
    engine::PodStore& pods;
    engine::PodRecord& pod;
    bool named = false, done = false;
    ~Undo() {
      if (done) return;
      if (named) pods.release_name(pod.name, pod.id);
      (void)pods.remove(pod);
    }
  } undo{pods, pod};
  GUISE_TRY(pods.reserve_name(pod.name, pod.id));
  undo.named = true;
  auto infra = GUISE_TRY(create_container(ctx, std::move(req), in, store, cs, false), "creating the infra container");
  pod.infra_id = infra.id;
  if (auto w = pods.write(pod); !w) {
    (void)remove_container_fully(ctx, cs, infra.id, true);
    return std::move(w.error());
  }
  undo.done = true;
  record_pod_event(cs.root(), pod, "create");
  return pod.id;
}

}  // namespace guise::cli
