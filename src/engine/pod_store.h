// The engine's pods on disk, podman's model: a pod is a record and an infra container
// (guise-init -P) whose namespaces its members join. Layout:
//   pods/ID/record.json   the pod, replaced whole by rename
//   pods/ID/lock          held by a command that changes what the pod is (create, run
//                         --pod, start, stop, rm), so they take turns; always taken before
//                         any of its containers' locks
//   pod-names/NAME        reserved by link(2) without replace, holding the id
// Membership is not kept here: a container's record names its pod, so a member is found by
// reading the containers, and a killed command never leaves a list that disagrees.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/container.h"
#include "sys/file_lock.h"
#include "sys/result.h"

namespace guise::engine {

// The namespaces a pod's members may share with its infra, in podman's words.
inline constexpr const char* kPodNamespaces[] = {"ipc", "net", "pid", "uts"};

struct PodRecord {
  std::string id;
  std::string name;
  std::string created;  // RFC 3339 nano
  std::string hostname;
  std::vector<std::string> share;  // sorted, each one of kPodNamespaces
  std::string infra_id;
  nlohmann::json labels = nlohmann::json::object();
  bool shares(const std::string& ns) const;
};

nlohmann::json pod_record_to_json(const PodRecord& r);
Result<PodRecord> pod_record_from_json(const nlohmann::json& j);

// --share: "ipc,net,uts" (podman's default), "" (none), "none"; a leading "+" adds to the
// default. Sorted, without duplicates; an unknown name is an error naming it.
Result<std::vector<std::string>> parse_pod_share(const std::string& text);

class PodStore {
 public:
  static Result<PodStore> open(const std::string& store_root);
  std::string dir(const std::string& id) const { return root_ + "/pods/" + id; }

  // already_exists when taken (podman's words).
  Result<void> reserve_name(const std::string& name, const std::string& id);
  void release_name(const std::string& name, const std::string& id);
  // A name, a full id or a unique prefix; not_found "no pod with name or ID TEXT found".
  Result<std::string> resolve(const std::string& text) const;

  Result<PodRecord> read(const std::string& id) const;
  // pods/ID made if missing.
  Result<void> write(const PodRecord& r);
  Result<std::vector<std::string>> list_ids() const;  // those with a record
  // pods/ID made, its lock held: what `pod create` holds until the record is written.
  Result<sys::FileLock> begin_create(const std::string& id);
  // The pod's lock; not_found when the pod was removed while it was awaited.
  Result<sys::FileLock> lock(const std::string& id) const;
  // The record first (from then on the pod does not exist), then the directory and name.
  Result<void> remove(const PodRecord& r);

  // pods/ID without a record whose maker is gone (its lock is free, or was never made and
  // the directory is older than a few seconds): what a killed `pod create` left.
  Result<std::vector<std::string>> abandoned_ids() const;
  // Such a pod's directory and every name that names it.
  void remove_abandoned(const std::string& id);

 private:
  explicit PodStore(std::string root) : root_(std::move(root)) {}
  std::string root_;
};

}  // namespace guise::engine
