// The engine's containers on disk (container.h has the files of one): ids, names, the
// CLI's record, and lookups as docker does them (a name, a full id, or an unambiguous
// id prefix). Names are reserved by O_EXCL on container-names/NAME, so two `run --name x`
// at once cannot both get it; a record is replaced whole by rename.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/container.h"
#include "sys/file_lock.h"
#include "sys/result.h"

namespace guise::engine {

// What `create` decided; docker's Config and HostConfig kept in docker's JSON shape.
struct ContainerRecord {
  std::string id;
  std::string name;     // without docker's leading '/'
  std::string created;  // RFC 3339 nano
  std::string image;    // as the user named it
  std::string image_id; // "sha256:..."
  std::string path;     // the process's executable, as docker's Path
  std::vector<std::string> args;
  nlohmann::json config = nlohmann::json::object();       // docker's Config
  nlohmann::json host_config = nlohmann::json::object();  // docker's HostConfig
  nlohmann::json mounts = nlohmann::json::array();        // docker's Mounts
  nlohmann::json endpoint = nlohmann::json::object();     // --ip, --ip6, --network-alias (EndpointConfig)
  std::string rootfs;   // the overlay's merged dir
  std::string runtime;  // "guise" or a binary
  std::string pod;      // the pod's id (pod_store.h) when the container is in one, its infra included
};

nlohmann::json record_to_json(const ContainerRecord& r);
Result<ContainerRecord> record_from_json(const nlohmann::json& j);

class ContainerStore {
 public:
  static Result<ContainerStore> open(const std::string& store_root);
  const std::string& root() const { return root_; }
  ContainerPaths paths(const std::string& id) const { return ContainerPaths(root_, id); }
  std::string runtime_root() const { return root_ + "/runtime"; }

  static std::string new_id();         // 64 random hex digits
  static std::string random_name();    // docker's adjective_surname
  static bool valid_name(const std::string& name);  // [a-zA-Z0-9][a-zA-Z0-9_.-]+

  // already_exists in docker's words when taken.
  Result<void> reserve_name(const std::string& name, const std::string& id);
  // Removes the name only while it still names `id`.
  void release_name(const std::string& name, const std::string& id);
  // A name, a full id or a unique prefix → the id. not_found "No such container: TEXT".
  Result<std::string> resolve(const std::string& text) const;

  Result<ContainerRecord> read_record(const std::string& id) const;
  Result<void> write_record(const ContainerRecord& r, Sync sync = Sync::kDurable);
  Result<std::vector<std::string>> list_ids() const;  // those with a record

  // containers/ID made and its lock held before anything else of the container exists
  // (name, rootfs): until its record is written, a directory whose lock nobody holds is
  // what a killed `create` left, and abandoned_ids() finds it.
  Result<sys::FileLock> begin_create(const std::string& id);
  // Directories without a record whose creator is gone (their lock is free, or was never
  // made and the directory is older than a few seconds).
  Result<std::vector<std::string>> abandoned_ids() const;
  // Every name that still names `id`.
  void release_names_of(const std::string& id);
  // containers/ID gone whole (the caller has stopped it and removed its rootfs); a pod's
  // /dev/shm (ContainerPaths::shm) unmounted first. Renamed out of the way first, so a monitor still writing its state meets no half-removed
  // directory; a directory already gone is no error.
  Result<void> remove_dir(const std::string& id);
  // The container's lock (containers/ID/lock), held by a command that changes what the
  // container is (start, rm) so that such commands on one container take turns; not_found
  // "No such container" when the container was removed before the lock came.
  Result<sys::FileLock> lock_container(const std::string& id) const;

 private:
  explicit ContainerStore(std::string root) : root_(std::move(root)) {}
  std::string root_;
};

}  // namespace guise::engine
