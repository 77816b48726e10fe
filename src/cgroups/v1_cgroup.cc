// The v1 driver: a directory per mounted hierarchy (named ones, and the cgroup2 mount
// of a hybrid host, are joined but carry no limits, as runc does).
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>

#include "cgroups/fs.h"
#include "cgroups/kill.h"
#include "cgroups/path.h"
#include "cgroups/v1.h"
#include "cgroups/v2.h"
#include "sys/rollback.h"

namespace guise::cgroups::v1 {

Dirs::Dirs(std::map<std::string, std::string> by_key) : by_key_(std::move(by_key)) {}

const std::string* Dirs::find(std::string_view controller) const {
  auto it = by_key_.find(std::string(controller));
  return it == by_key_.end() ? nullptr : &it->second;
}

Result<std::string> Dirs::need(std::string_view controller, std::string_view field) const {
  if (auto* dir = find(controller)) return *dir;
  return sys::user_error(std::string(field) + ": the " + std::string(controller) +
                         " cgroup controller is not mounted on this host");
}

std::vector<std::string> Dirs::unique() const {
  std::vector<std::string> out;
  for (const auto& [key, dir] : by_key_)
    if (std::find(out.begin(), out.end(), dir) == out.end()) out.push_back(dir);
  return out;
}

namespace {

// Where pids are counted: any hierarchy holds every process, these are the likeliest.
const std::string* procs_dir(const Dirs& dirs) {
  for (const char* key : {"pids", "memory", "freezer", "cpu", "devices", "name=systemd"})
    if (auto* dir = dirs.find(key)) return dir;
  return dirs.map().empty() ? nullptr : &dirs.map().begin()->second;
}

Result<Dirs> resolve_dirs(const Layout& layout, const std::string& cgroups_path, const std::string& id) {
  std::map<std::string, std::string> by_key;
  for (const auto& h : layout.v1) {
    std::string dir = GUISE_TRY(container_dir(h, cgroups_path, id), "in " + h.mountpoint);
    for (const auto& c : h.controllers) by_key[c] = dir;
  }
  if (layout.mode == Mode::kHybrid && layout.unified)
    by_key["unified"] = GUISE_TRY(container_dir(*layout.unified, cgroups_path, id), "in " + layout.unified->mountpoint);
  return Dirs(std::move(by_key));
}

}  // namespace

V1Cgroup::V1Cgroup(Dirs dirs, bool made) : dirs_(std::move(dirs)), made_(made) {
  if (const std::string* unified = dirs_.find("unified"))
    unified_fd_.reset(::open(unified->c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
}

Result<std::map<std::string, std::string>> planned_paths(const Layout& layout, const std::string& cgroups_path,
                                                         const std::string& id) {
  return GUISE_TRY(resolve_dirs(layout, cgroups_path, id)).map();
}

Result<std::unique_ptr<Cgroup>> create(const Layout& layout, const std::string& cgroups_path, const std::string& id,
                                       bool defer_v1) {
  Dirs dirs = GUISE_TRY(resolve_dirs(layout, cgroups_path, id));
  // Before anything is made, as runc checks: the init would wait in the freezer forever.
  const Hierarchy* freezer = layout.find_v1("freezer");
  if (freezer) GUISE_TRY(refuse_frozen(*dirs.find("freezer"), clean_path(freezer->mountpoint)));
  std::vector<std::string> made;
  sys::Rollback undo;
  undo.add([&made] { fs::remove_made(made); });
  const std::string* unified = dirs.find("unified");
  if (unified) {
    GUISE_TRY(fs::make_dirs(*unified, made));
    GUISE_TRY(v2::refuse_frozen(*unified));
  }
  auto cgroup = std::make_unique<V1Cgroup>(std::move(dirs), false);
  if (unified && cgroup->clone_into_fd() < 0) return sys::sys_error("open", *unified);
  if (unified) GUISE_TRY(fs::check_cgroupfs(cgroup->clone_into_fd(), *unified, true));
  if (!defer_v1) GUISE_TRY(cgroup->complete());
  undo.commit();
  return std::unique_ptr<Cgroup>(std::move(cgroup));
}

Result<void> V1Cgroup::complete() {
  if (made_) return Ok();
  const std::string* unified = dirs_.find("unified");
  std::vector<std::string> made;
  sys::Rollback undo;
  undo.add([&made] { fs::remove_made(made); });
  for (const auto& dir : dirs_.unique())
    if (!unified || dir != *unified) GUISE_TRY(fs::make_dirs(dir, made));
  if (auto* cpuset = dirs_.find("cpuset")) GUISE_TRY(inherit_cpuset(*cpuset));
  undo.commit();
  made_ = true;
  return Ok();
}

Result<void> V1Cgroup::apply(const oci::Resources& r) {
  GUISE_TRY(apply_cpuset(dirs_, r));
  GUISE_TRY(apply_devices(dirs_, r));
  GUISE_TRY(apply_memory(dirs_, r));
  GUISE_TRY(apply_cpu(dirs_, r));
  GUISE_TRY(apply_pids(dirs_, r));
  GUISE_TRY(apply_blkio(dirs_, r));
  GUISE_TRY(apply_hugetlb(dirs_, r));
  GUISE_TRY(apply_network(dirs_, r));
  GUISE_TRY(apply_rdma(dirs_, r));
  if (!r.unified.empty())
    return sys::user_error(
        "linux.resources.unified: invalid configuration: cannot use unified on cgroup v1 (needs a cgroup v2 host)");
  return Ok();
}

Result<TaskFiles> V1Cgroup::open_task_files() const {
  TaskFiles files;
  const std::string* unified = dirs_.find("unified");
  for (const auto& dir : dirs_.unique())
    if (!unified || dir != *unified) GUISE_TRY(add_tasks_file(files, dir));
  return files;
}

Result<std::vector<pid_t>> V1Cgroup::pids() const {
  const std::string* dir = procs_dir(dirs_);
  if (!dir) return std::vector<pid_t>{};
  return fs::procs_below(*dir);
}

Result<void> V1Cgroup::kill_all(int signal) { return signal_all(*this, signal, dirs_.find("freezer") != nullptr); }

Result<void> V1Cgroup::freeze() { return v1::freeze(GUISE_TRY(dirs_.need("freezer", "pausing"))); }

Result<void> V1Cgroup::thaw() { return v1::thaw(GUISE_TRY(dirs_.need("freezer", "resuming"))); }

Result<bool> V1Cgroup::frozen() const {
  const std::string* dir = dirs_.find("freezer");
  if (!dir) return false;
  return v1::frozen(*dir);
}

Result<void> V1Cgroup::destroy() {
  Result<void> first;
  // Usually empty by now (the init is reaped): one rmdir says so without a read.
  const std::string* probe = procs_dir(dirs_);
  bool empty = probe && (::rmdir(probe->c_str()) == 0 || errno == ENOENT);
  auto left = empty ? Result<std::vector<pid_t>>(std::vector<pid_t>{}) : pids();
  if (left.ok() && !left->empty()) first = kill_all(SIGKILL);
  for (const auto& dir : dirs_.unique()) {
    auto removed = fs::remove_tree(dir);
    if (!removed.ok() && first.ok()) first = removed;
  }
  return first;
}

Result<Stats> V1Cgroup::stats() const { return read_stats(dirs_); }

Result<std::unique_ptr<OomWatch>> V1Cgroup::watch_oom() const {
  return v1::watch_oom(GUISE_TRY(dirs_.need("memory", "OOM notification")));
}

}  // namespace guise::cgroups::v1
