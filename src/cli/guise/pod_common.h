// What the container commands need of pods: joining one at create (`run --pod`), a
// member's start (the infra first, the namespaces it joins re-aimed at the infra's
// process of now), and the infra kept from removal while its pod exists.
#pragma once

#include <string>

#include "cli/guise/context.h"
#include "cli/guise/run_flags.h"
#include "engine/container_store.h"
#include "engine/pod_store.h"
#include "sys/file_lock.h"

namespace CLI {
class App;
}

namespace guise::cli {

// The pod store; what a killed `pod create` left (a directory without a record, and the
// infra it may have made) is removed first.
Result<engine::PodStore> open_pods(Context& ctx);

struct PodJoin {
  sys::FileLock held;  // the pod's lock, until the member's record is written
  std::string pod_id, infra_id;
  bool shares_network = false;
  bool shares_shm = false;  // the pod's own IPC namespace shared: its /dev/shm too
};

// --pod NAME: refuses what the pod decides (-p, --network, --hostname, --pid, --ipc, --uts
// where the pod shares that namespace) in podman's words, naming the flag; starts the
// infra when it is not running; points each shared namespace of `req` at the infra
// (container:INFRA, or host where the infra uses the host's) and gives it the pod's
// hostname.
// The same refusals alone, without the lock or the infra: what `run --pod` checks before
// it looks for the image, so a bad command line changes nothing of the pod.
Result<void> check_pod_flags(Context& ctx, const RunFlags& flags);
Result<PodJoin> join_pod(Context& ctx, engine::ContainerStore& cs, const RunFlags& flags, engine::RunRequest& req);

// Before a start of a pod's member: its infra, started if need be (the member's namespace
// paths are then aimed at it by prepare_joined_namespaces).
Result<void> start_pod_infra_of(engine::ContainerStore& cs, const engine::ContainerRecord& rec);

// already in podman's words when `id` is the infra of a pod that still exists.
Result<void> refuse_infra_removal(const engine::ContainerStore& cs, const std::string& id);
// Whether `id` is the infra of an existing pod (prune passes over it).
bool is_pod_infra(const engine::ContainerStore& cs, const std::string& id);

// podman's pod events in the engine's log (type pod: create, start, stop, kill, remove),
// named; a failure to log is not the command's.
void record_pod_event(const std::string& store_root, const engine::PodRecord& pod, const std::string& action);

void register_pod_commands(CLI::App& app, Context& ctx);

}  // namespace guise::cli
