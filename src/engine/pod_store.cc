#include "engine/pod_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ctime>

#include <algorithm>
#include <filesystem>

#include "engine/container_store.h"
#include "engine/name_file.h"
#include "sys/syscalls.h"

namespace guise::engine {

using nlohmann::json;

namespace {

Result<void> make_dir(const std::string& path) {
  if (::mkdir(path.c_str(), 0700) < 0 && errno != EEXIST) return sys::sys_error("mkdir", path);
  return Ok();
}

bool known_namespace(const std::string& ns) {
  return std::any_of(std::begin(kPodNamespaces), std::end(kPodNamespaces), [&](const char* n) { return ns == n; });
}

}  // namespace

bool PodRecord::shares(const std::string& ns) const { return std::find(share.begin(), share.end(), ns) != share.end(); }

json pod_record_to_json(const PodRecord& r) {
  return json{{"id", r.id},       {"name", r.name},         {"created", r.created}, {"hostname", r.hostname},
              {"share", r.share}, {"infra_id", r.infra_id}, {"labels", r.labels}};
}

Result<PodRecord> pod_record_from_json(const json& j) {
  if (!j.is_object()) return sys::user_error("pod record: not a JSON object");
  PodRecord r;
  try {
    r.id = j.at("id").get<std::string>();
    r.name = j.value("name", "");
    r.created = j.value("created", "");
    r.hostname = j.value("hostname", "");
    if (j.contains("share")) r.share = j["share"].get<std::vector<std::string>>();
    r.infra_id = j.value("infra_id", "");
    r.labels = j.value("labels", json::object());
  } catch (const json::exception& e) {
    return sys::user_error(std::string("pod record: ") + e.what());
  }
  return r;
}

Result<std::vector<std::string>> parse_pod_share(const std::string& text) {
  std::vector<std::string> out;
  std::string rest = text;
  if (!rest.empty() && rest[0] == '+') {
    out = {"ipc", "net", "uts"};
    rest = rest.substr(1);
  }
  if (rest == "none") return std::vector<std::string>{};
  size_t start = 0;
  while (start < rest.size()) {
    size_t comma = rest.find(',', start);
    std::string ns = rest.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (ns == "network") ns = "net";
    if (!known_namespace(ns))
      return sys::user_error("--share: \"" + ns + "\" is not a namespace a pod can share (ipc, net, pid, uts)");
    out.push_back(ns);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

Result<PodStore> PodStore::open(const std::string& store_root) {
  GUISE_TRY(make_dir(store_root));
  GUISE_TRY(make_dir(store_root + "/pods"));
  GUISE_TRY(make_dir(store_root + "/pod-names"));
  return PodStore(store_root);
}

Result<void> PodStore::reserve_name(const std::string& name, const std::string& id) {
  // A name whose pod is gone (a `pod rm` killed between record and name) is free.
  auto gone = [&](const std::string& owner) {
    return ::access((dir(owner) + "/record.json").c_str(), F_OK) != 0 && errno == ENOENT &&
           ::access(dir(owner).c_str(), F_OK) != 0;
  };
  if (GUISE_TRY(take_name_file(root_ + "/pod-names", name, id, gone, "pod"))) return Ok();
  return sys::already_exists("pod name \"" + name + "\" is in use: pod already exists");
}

void PodStore::release_name(const std::string& name, const std::string& id) {
  release_name_file(root_ + "/pod-names", name, id);
}

Result<std::string> PodStore::resolve(const std::string& text) const {
  auto missing = [&] { return sys::not_found("no pod with name or ID " + text + " found"); };
  if (text.empty()) return missing();
  if (ContainerStore::valid_name(text)) {
    auto owner = sys::read_file(root_ + "/pod-names/" + text);
    if (owner && ::access((dir(*owner) + "/record.json").c_str(), F_OK) == 0) return *owner;
  }
  if (text.find_first_not_of("0123456789abcdef") != std::string::npos) return missing();
  std::string found =
      GUISE_TRY(id_by_prefix(GUISE_TRY(list_ids()), text, "more than one pod matches the ID prefix " + text));
  if (found.empty()) return missing();
  return found;
}

Result<PodRecord> PodStore::read(const std::string& id) const {
  auto text = sys::read_file(dir(id) + "/record.json");
  if (!text) {
    if (text.error().errnum == ENOENT) return sys::not_found("no pod with name or ID " + id + " found");
    return std::move(text.error());
  }
  json j = json::parse(*text, nullptr, false);
  if (j.is_discarded()) return sys::user_error("pod " + id + ": record.json is not valid JSON");
  return pod_record_from_json(j);
}

Result<void> PodStore::write(const PodRecord& r) {
  GUISE_TRY(make_dir(dir(r.id)));
  return write_file_atomic(dir(r.id) + "/record.json", pod_record_to_json(r).dump(2));
}

Result<std::vector<std::string>> PodStore::list_ids() const { return ids_with_records(root_ + "/pods"); }

Result<sys::FileLock> PodStore::begin_create(const std::string& id) {
  if (::mkdir(dir(id).c_str(), 0700) < 0) return sys::sys_error("mkdir", dir(id));
  return sys::FileLock::acquire(dir(id) + "/lock");
}

Result<sys::FileLock> PodStore::lock(const std::string& id) const {
  auto missing = [&] { return sys::not_found("no pod with name or ID " + id + " found"); };
  auto held = sys::FileLock::acquire(dir(id) + "/lock");
  if (!held) return held.error().errnum == ENOENT ? missing() : std::move(held.error());
  // Removed while we waited: the lock was the removed directory's.
  if (::access((dir(id) + "/record.json").c_str(), F_OK) != 0) return missing();
  return held;
}

Result<void> PodStore::remove(const PodRecord& r) {
  std::string record = dir(r.id) + "/record.json";
  if (::unlink(record.c_str()) < 0 && errno != ENOENT) return sys::sys_error("remove", record);
  release_name(r.name, r.id);
  std::error_code ec;
  std::filesystem::remove_all(dir(r.id), ec);
  if (ec) return sys::sys_error_n(ec.value(), "remove", dir(r.id));
  return Ok();
}

Result<std::vector<std::string>> PodStore::abandoned_ids() const {
  std::vector<std::string> out;
  std::string pods = root_ + "/pods";
  DIR* d = ::opendir(pods.c_str());
  if (!d) return sys::sys_error("opendir", pods);
  std::vector<std::string> candidates;
  while (auto* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n.size() == 64 && ::access((pods + "/" + n + "/record.json").c_str(), F_OK) != 0) candidates.push_back(n);
  }
  ::closedir(d);
  for (const auto& id : candidates) {
    std::string lock_path = dir(id) + "/lock";
    struct stat st {};
    if (::stat(lock_path.c_str(), &st) != 0) {
      // Made, its lock not yet: abandoned only once older than any create takes to lock.
      if (::stat(dir(id).c_str(), &st) == 0 && ::time(nullptr) - st.st_mtime > 10) out.push_back(id);
      continue;
    }
    auto lock = sys::FileLock::try_acquire(lock_path);
    // The record may have come while we looked: its maker finished.
    if (lock && lock->held() && ::access((dir(id) + "/record.json").c_str(), F_OK) != 0) out.push_back(id);
  }
  return out;
}

void PodStore::remove_abandoned(const std::string& id) {
  std::string names = root_ + "/pod-names";
  if (DIR* d = ::opendir(names.c_str())) {
    std::vector<std::string> all;
    while (auto* e = ::readdir(d))
      if (e->d_name[0] != '.') all.push_back(e->d_name);
    ::closedir(d);
    for (const auto& n : all) release_name(n, id);
  }
  ::unlink((names + "/." + id + ".tmp").c_str());
  std::error_code ec;
  std::filesystem::remove_all(dir(id), ec);
}

}  // namespace guise::engine
