#include "engine/container_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>

#include "engine/name_file.h"
#include "sys/syscalls.h"
#include "sys/text.h"

namespace guise::engine {

using nlohmann::json;

namespace {

Result<void> make_dir(const std::string& path) {
  if (::mkdir(path.c_str(), 0700) < 0 && errno != EEXIST) return sys::sys_error("mkdir", path);
  return Ok();
}

}  // namespace

json record_to_json(const ContainerRecord& r) {
  json j{{"id", r.id},       {"name", r.name},     {"created", r.created},         {"image", r.image},
              {"image_id", r.image_id}, {"path", r.path}, {"args", r.args},            {"config", r.config},
              {"host_config", r.host_config}, {"mounts", r.mounts}, {"rootfs", r.rootfs}, {"runtime", r.runtime},
              {"endpoint", r.endpoint}};
  if (!r.pod.empty()) j["pod"] = r.pod;
  return j;
}

Result<ContainerRecord> record_from_json(const json& j) {
  if (!j.is_object()) return sys::user_error("container record: not a JSON object");
  ContainerRecord r;
  try {
    r.id = j.at("id").get<std::string>();
    r.name = j.value("name", "");
    r.created = j.value("created", "");
    r.image = j.value("image", "");
    r.image_id = j.value("image_id", "");
    r.path = j.value("path", "");
    if (j.contains("args")) r.args = j["args"].get<std::vector<std::string>>();
    r.config = j.value("config", json::object());
    r.host_config = j.value("host_config", json::object());
    r.mounts = j.value("mounts", json::array());
    r.endpoint = j.value("endpoint", json::object());
    r.rootfs = j.value("rootfs", "");
    r.runtime = j.value("runtime", "");
    r.pod = j.value("pod", "");
  } catch (const json::exception& e) {
    return sys::user_error(std::string("container record: ") + e.what());
  }
  return r;
}

Result<ContainerStore> ContainerStore::open(const std::string& store_root) {
  GUISE_TRY(make_dir(store_root));
  GUISE_TRY(make_dir(store_root + "/containers"));
  GUISE_TRY(make_dir(store_root + "/container-names"));
  return ContainerStore(store_root);
}

std::string ContainerStore::new_id() { return sys::random_hex(32); }

std::string ContainerStore::random_name() {
  // A few of docker's words (moby pkg/namesgenerator); the pair is what people recognise.
  static const char* const kLeft[] = {"admiring", "brave",   "clever",  "eager",   "focused", "gallant",
                                      "happy",    "jolly",   "keen",    "lucid",   "modest",  "nifty",
                                      "quirky",   "serene",  "trusting", "vibrant", "wizardly", "zealous"};
  static const char* const kRight[] = {"albattani", "babbage", "curie",   "darwin",   "einstein", "feynman",
                                       "goldberg",  "hopper",  "kepler",  "lovelace", "meitner",  "noether",
                                       "pasteur",   "ritchie", "shannon", "turing",   "wozniak",  "yonath"};
  std::string r = sys::random_hex(4);
  unsigned v = static_cast<unsigned>(std::stoul(r, nullptr, 16));
  return std::string(kLeft[v % std::size(kLeft)]) + "_" + kRight[(v / 97) % std::size(kRight)];
}

bool ContainerStore::valid_name(const std::string& n) {
  if (n.size() < 2 || n.size() > 128) return false;
  auto alnum = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; };
  if (!alnum(n[0])) return false;
  for (char c : n)
    if (!alnum(c) && c != '_' && c != '.' && c != '-') return false;
  return true;
}

Result<void> ContainerStore::reserve_name(const std::string& name, const std::string& id) {
  // A name whose container is gone entirely (a `rm` killed between the two) is free.
  auto gone = [&](const std::string& owner) { return ::access(paths(owner).dir.c_str(), F_OK) != 0 && errno == ENOENT; };
  if (GUISE_TRY(take_name_file(root_ + "/container-names", name, id, gone, "container"))) return Ok();
  auto owner = sys::read_file(root_ + "/container-names/" + name);
  return sys::already_exists("Conflict. The container name \"/" + name + "\" is already in use by container \"" +
                             (owner ? *owner : std::string("?")) +
                             "\". You have to remove (or rename) that container to be able to reuse that name.");
}

void ContainerStore::release_name(const std::string& name, const std::string& id) {
  release_name_file(root_ + "/container-names", name, id);
}

Result<std::string> ContainerStore::resolve(const std::string& text) const {
  auto missing = [&] { return sys::not_found("No such container: " + text); };
  if (text.empty()) return missing();
  std::string t = text[0] == '/' ? text.substr(1) : text;
  if (valid_name(t) || t.size() == 1) {
    auto owner = sys::read_file(root_ + "/container-names/" + t);
    if (owner && ::access((root_ + "/containers/" + *owner + "/record.json").c_str(), F_OK) == 0) return *owner;
  }
  bool hex = !t.empty() && t.find_first_not_of("0123456789abcdef") == std::string::npos;
  if (!hex) return missing();
  std::string found =
      GUISE_TRY(id_by_prefix(GUISE_TRY(list_ids()), t, "multiple containers found with provided prefix: " + t));
  if (found.empty()) return missing();
  return found;
}

Result<ContainerRecord> ContainerStore::read_record(const std::string& id) const {
  auto text = sys::read_file(paths(id).record());
  if (!text) {
    if (text.error().errnum == ENOENT) return sys::not_found("No such container: " + id);
    return std::move(text.error());
  }
  json j = json::parse(*text, nullptr, false);
  if (j.is_discarded()) return sys::user_error("container " + id + ": record.json is not valid JSON");
  return record_from_json(j);
}

Result<void> ContainerStore::write_record(const ContainerRecord& r, Sync sync) {
  GUISE_TRY(make_dir(paths(r.id).dir));
  return write_file_atomic(paths(r.id).record(), record_to_json(r).dump(2), sync);
}

Result<std::vector<std::string>> ContainerStore::list_ids() const { return ids_with_records(root_ + "/containers"); }

namespace {

// containers/.new-PID-STARTTIME-ID (a directory being made) and .removed-PID-STARTTIME-ID
// (one being removed): named after the process at work on them, so that what a killed
// one left is told apart from one still at work (a lock file would be taken by whoever
// flocks it first, not by whoever made it).
std::string worker_name(const char* kind, const std::string& id) {
  pid_t me = ::getpid();
  auto start = sys::process_start_time(me);
  return std::string(kind) + std::to_string(me) + "-" + std::to_string(start ? *start : 0) + "-" + id;
}

bool worker_gone(const std::string& name) {
  unsigned long pid = 0;
  unsigned long long start = 0;
  if (std::sscanf(name.c_str(), ".new-%lu-%llu-", &pid, &start) != 2 &&
      std::sscanf(name.c_str(), ".removed-%lu-%llu-", &pid, &start) != 2)
    return false;
  auto now = sys::process_start_time(static_cast<pid_t>(pid));
  return !now || *now != start;
}

}  // namespace

Result<sys::FileLock> ContainerStore::begin_create(const std::string& id) {
  // Made under a staging name with its lock taken, then renamed: containers/ID never
  // exists without its lock held by its maker until the record is written.
  std::string dir = paths(id).dir;
  std::string staging = root_ + "/containers/" + worker_name(".new-", id);
  if (::mkdir(staging.c_str(), 0700) < 0) return sys::sys_error("mkdir", staging);
  auto lock = sys::FileLock::acquire(staging + "/lock");
  if (lock && ::rename(staging.c_str(), dir.c_str()) < 0) lock = sys::sys_error("rename", staging);
  if (!lock) {
    ::unlink((staging + "/lock").c_str());
    ::rmdir(staging.c_str());
  }
  return lock;
}

Result<std::vector<std::string>> ContainerStore::abandoned_ids() const {
  std::vector<std::string> out;
  std::string dir = root_ + "/containers";
  DIR* d = ::opendir(dir.c_str());
  if (!d) return sys::sys_error("opendir", dir);
  std::vector<std::string> staging;
  while (auto* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n.rfind(".new-", 0) == 0 || n.rfind(".removed-", 0) == 0) staging.push_back(n);
    if (n.size() != 64) continue;
    ContainerPaths p = paths(n);
    if (::access(p.record().c_str(), F_OK) == 0) continue;
    auto lock = sys::FileLock::try_acquire(p.lock());
    // The record may have come while we looked: its maker finished.
    if (lock && lock->held() && ::access(p.record().c_str(), F_OK) != 0) out.push_back(n);
  }
  ::closedir(d);
  for (const auto& n : staging)
    if (worker_gone(n)) {
      std::error_code ec;
      std::filesystem::remove_all(dir + "/" + n, ec);
    }
  return out;
}

void ContainerStore::release_names_of(const std::string& id) {
  std::string dir = root_ + "/container-names";
  DIR* d = ::opendir(dir.c_str());
  if (!d) return;
  std::vector<std::string> names;
  while (auto* e = ::readdir(d))
    if (e->d_name[0] != '.') names.push_back(e->d_name);
  ::closedir(d);
  for (const auto& n : names) release_name(n, id);
  ::unlink((dir + "/." + id + ".tmp").c_str());
}

Result<void> ContainerStore::remove_dir(const std::string& id) {
  // Detached: a container still holding it keeps its own reference until it goes.
  std::string shm = paths(id).shm();
  if (::access(shm.c_str(), F_OK) == 0 && ::umount2(shm.c_str(), MNT_DETACH) < 0 && errno != EINVAL)
    return sys::sys_error("unmount", shm);
  std::string doomed = root_ + "/containers/" + worker_name(".removed-", id);
  if (::rename(paths(id).dir.c_str(), doomed.c_str()) < 0) {
    if (errno == ENOENT) return Ok();
    return sys::sys_error("remove", paths(id).dir);
  }
  std::error_code ec;
  std::filesystem::remove_all(doomed, ec);
  if (ec) return sys::sys_error_n(ec.value(), "remove", doomed);
  return Ok();
}

Result<sys::FileLock> ContainerStore::lock_container(const std::string& id) const {
  auto missing = [&] { return sys::not_found("No such container: " + id); };
  auto lock = sys::FileLock::acquire(paths(id).lock());
  if (!lock) return lock.error().errnum == ENOENT ? missing() : std::move(lock.error());
  // Removed while we waited: the lock was the removed directory's.
  if (::access(paths(id).record().c_str(), F_OK) != 0) return missing();
  return lock;
}

}  // namespace guise::engine
