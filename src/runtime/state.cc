#include "runtime/state.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "oci/spec.h"
#include "sys/clock.h"
#include "sys/syscalls.h"

namespace guise::runtime {

using nlohmann::ordered_json;

const char* status_name(Status s) {
  switch (s) {
    case Status::kCreating: return "creating";
    case Status::kCreated: return "created";
    case Status::kRunning: return "running";
    case Status::kPaused: return "paused";
    case Status::kStopped: return "stopped";
  }
  return "unknown";
}

Result<void> validate_id(const std::string& id) {
  if (id.empty()) return sys::user_error("container id cannot be empty");
  if (id == "." || id == "..") return sys::user_error("invalid container id \"" + id + "\"");
  for (char c : id) {
    bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '+' || c == '-' || c == '.';
    if (!ok)
      return sys::user_error("invalid container id \"" + id + "\": only letters, digits, '_', '+', '-' and '.' are allowed");
  }
  if (id.size() > 1024) return sys::user_error("invalid container id: longer than 1024 characters");
  return Ok();
}

static Result<sys::Fd> lock_dir(const std::string& path) {
  sys::Fd fd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid()) return sys::sys_error("open state directory", path);
  while (::flock(fd.get(), LOCK_EX) < 0)
    if (errno != EINTR) return sys::sys_error("lock state directory", path);
  return fd;
}

Result<StateDir> StateDir::create(const std::string& root, const std::string& id) {
  GUISE_TRY(validate_id(id));
  // mkdir -p with runc's mode: engines pass roots whose parents may not exist yet
  // (containerd's /run/containerd/runc/NAMESPACE), as may $XDG_RUNTIME_DIR/guise.
  for (size_t slash = root.find('/', 1); slash != std::string::npos; slash = root.find('/', slash + 1))
    ::mkdir(root.substr(0, slash).c_str(), 0700);
  if (::mkdir(root.c_str(), 0700) < 0 && errno != EEXIST) return sys::sys_error("create state root", root);
  std::string path = root + "/" + id;
  if (::mkdir(path.c_str(), 0711) < 0) {
    if (errno == EEXIST) return sys::already_exists("container with id " + id + " already exists");
    return sys::sys_error("create state directory", path);
  }
  auto lock = lock_dir(path);
  if (!lock.ok()) {
    ::rmdir(path.c_str());
    return std::move(lock.error());
  }
  return StateDir(path, std::move(lock).take());
}

Result<StateDir> StateDir::open(const std::string& root, const std::string& id) {
  GUISE_TRY(validate_id(id));
  std::string path = root + "/" + id;
  struct stat st {};
  if (::stat(path.c_str(), &st) < 0) {
    if (errno == ENOENT) return sys::not_found("container " + id + " does not exist");
    return sys::sys_error("stat", path);
  }
  sys::Fd lock = GUISE_TRY(lock_dir(path));
  // Deleted by another command while we waited for the lock.
  if (::fstat(lock.get(), &st) < 0 || st.st_nlink == 0) return sys::not_found("container " + id + " does not exist");
  return StateDir(path, std::move(lock));
}

Result<void> StateDir::save(const ContainerState& s) const {
  ordered_json j;
  j["id"] = s.id;
  j["bundle"] = s.bundle;
  j["rootfs"] = s.rootfs;
  j["pid"] = s.pid;
  j["pid_start_time"] = s.pid_start_time;
  j["created"] = s.created;
  j["annotations"] = s.annotations;
  j["cgroup_paths"] = s.cgroup_paths;
  j["own_pid_namespace"] = s.own_pid_namespace;
  j["started"] = s.started;
  if (s.rootfs_mount) j["rootfs_mount"] = s.rootfs_mount;
  std::string tmp = path_ + "/.state.json.tmp";
  GUISE_TRY(sys::write_file(tmp, j.dump(), O_CREAT | O_TRUNC, 0600));
  if (::rename(tmp.c_str(), (path_ + "/state.json").c_str()) < 0) return sys::sys_error("save state", path_);
  return Ok();
}

Result<ContainerState> StateDir::load() const {
  std::string path = path_ + "/state.json";
  auto text = sys::read_file(path);
  if (!text.ok()) {
    if (text.error().errnum == ENOENT)
      return sys::not_found("container " + path_.substr(path_.rfind('/') + 1) + " does not exist");
    return std::move(text.error());
  }
  auto j = nlohmann::json::parse(text.value(), nullptr, false);
  if (j.is_discarded()) return sys::user_error("corrupt state file " + path);
  ContainerState s;
  s.id = j.value("id", "");
  s.bundle = j.value("bundle", "");
  s.rootfs = j.value("rootfs", "");
  s.pid = j.value("pid", 0);
  s.pid_start_time = j.value("pid_start_time", uint64_t{0});
  s.created = j.value("created", "");
  s.annotations = j.value("annotations", std::map<std::string, std::string>{});
  s.cgroup_paths = j.value("cgroup_paths", std::map<std::string, std::string>{});
  s.own_pid_namespace = j.value("own_pid_namespace", false);
  s.started = j.value("started", false);
  s.rootfs_mount = j.value("rootfs_mount", uint64_t{0});
  return s;
}

void StateDir::remove() {
  // Plain files, unlinked through the directory fd already held; std::filesystem's
  // remove_all stats every entry first, which costs more than the unlinks.
  int fd = ::fcntl(lock_.get(), F_DUPFD_CLOEXEC, 0);
  if (DIR* d = fd >= 0 ? ::fdopendir(fd) : nullptr) {
    while (struct dirent* e = ::readdir(d)) {
      std::string_view name = e->d_name;
      if (name != "." && name != "..") ::unlinkat(::dirfd(d), e->d_name, 0);
    }
    ::closedir(d);
  } else if (fd >= 0) {
    ::close(fd);
  }
  if (::rmdir(path_.c_str()) == 0) return;
  std::error_code ec;  // something other than a plain file was left: the general way
  std::filesystem::remove_all(path_, ec);
}

std::vector<std::string> list_ids(const std::string& root) {
  std::vector<std::string> ids;
  DIR* d = ::opendir(root.c_str());
  if (!d) return ids;
  while (struct dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name == "." || name == ".." || name[0] == '.') continue;
    if (e->d_type == DT_DIR || e->d_type == DT_UNKNOWN) ids.push_back(name);
  }
  ::closedir(d);
  std::sort(ids.begin(), ids.end());
  return ids;
}

std::string state_json(const ContainerState& s, Status status, bool pretty) {
  ordered_json j;
  j["ociVersion"] = oci::kSpecVersion;
  j["id"] = s.id;
  j["pid"] = status == Status::kStopped ? 0 : s.pid;
  j["status"] = status_name(status);
  j["bundle"] = s.bundle;
  j["rootfs"] = s.rootfs;
  j["created"] = s.created;
  if (!s.annotations.empty()) j["annotations"] = s.annotations;
  j["owner"] = "";  // runc's state leaves it empty; list fills it in
  return pretty ? j.dump(2) : j.dump();
}

ContainerState state_of_new_init(const std::string& id, const std::string& bundle, const std::string& rootfs,
                                 const oci::Spec& spec, pid_t pid, std::map<std::string, std::string> cgroup_paths,
                                 bool own_pid_namespace, bool started) {
  ContainerState st;
  st.id = id;
  st.bundle = bundle;
  st.rootfs = rootfs;
  st.pid = pid;
  auto start_time = sys::process_start_time(pid);
  st.pid_start_time = start_time.ok() ? *start_time : 0;
  st.created = sys::now_rfc3339();
  st.annotations = spec.annotations;
  st.cgroup_paths = std::move(cgroup_paths);
  st.own_pid_namespace = own_pid_namespace;
  st.started = started;
  return st;
}

Result<void> write_pid_file(const std::string& path, pid_t pid) {
  if (path.empty()) return Ok();
  std::string tmp = path + ".guise-tmp";
  GUISE_TRY(sys::write_file(tmp, std::to_string(pid), O_CREAT | O_TRUNC, 0644), "pid file");
  if (::rename(tmp.c_str(), path.c_str()) < 0) return sys::sys_error("pid file: rename to", path);
  return Ok();
}

}  // namespace guise::runtime
