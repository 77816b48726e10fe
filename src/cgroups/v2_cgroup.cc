// The v2 driver: creation (enabling controllers top-down, as runc does), joining,
// killing (cgroup.kill when the kernel has it) and removal.
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <sstream>

#include "cgroups/fs.h"
#include "cgroups/kill.h"
#include "cgroups/path.h"
#include "cgroups/v2.h"
#include "sys/rollback.h"

namespace guise::cgroups::v2 {

namespace {

std::vector<std::string> words(const std::string& text) {
  std::istringstream in(text);
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

// Enables in `dir` every controller its parent offers that is not yet enabled. A cgroup
// holding processes (other than the root) is left alone: domain controllers would fail
// with EBUSY, and threaded ones alone would make it a thread root whose new children are
// "domain invalid". apply() then reports the controller missing on the file it needs.
void enable_controllers(const std::string& dir, bool is_root) {
  if (!is_root) {
    auto procs = fs::read(dir, "cgroup.procs");
    if (!procs.ok() || !procs->empty()) return;
  }
  auto available = fs::read(dir, "cgroup.controllers");
  auto enabled = fs::read(dir, "cgroup.subtree_control");
  if (!available.ok() || !enabled.ok()) return;
  auto on = words(*enabled);
  for (const auto& c : words(*available))
    if (std::find(on.begin(), on.end(), c) == on.end()) (void)fs::write(dir, "cgroup.subtree_control", "+" + c, "");
}

// mkdir -p from `base` down to `dir`, enabling controllers in each level above `dir`.
Result<void> make_cgroup(const std::string& root, const std::string& base, const std::string& dir,
                         std::vector<std::string>& made) {
  GUISE_TRY(fs::make_dirs(base, made));
  std::string current = base;
  enable_controllers(current, current == root);
  std::string rest = dir.substr(base == "/" ? 1 : base.size() + 1);
  for (size_t start = 0; start <= rest.size();) {
    auto slash = rest.find('/', start);
    current += "/" + rest.substr(start, slash - start);
    GUISE_TRY(fs::make_dirs(current, made));
    if (slash == std::string::npos) break;
    enable_controllers(current, false);
    start = slash + 1;
  }
  return Ok();
}

Result<void> check_type(const std::string& dir) {
  auto type = fs::read(dir, "cgroup.type");
  if (type.ok() && *type == "domain invalid")
    return sys::user_error("cgroup " + dir +
                           " is \"domain invalid\": a cgroup above it holds processes while controllers are "
                           "enabled below it");
  return Ok();
}

sys::Fd open_dir(const std::string& dir) { return sys::Fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)); }

}  // namespace

Result<void> write(const std::string& dir, std::string_view file, std::string_view value, std::string_view field) {
  auto done = fs::write(dir, file, value, field);
  if (done.ok() || done.error().errnum != ENOENT) return done;
  std::string controller(file.substr(0, file.find('.')));
  auto available = fs::read(dir, "cgroup.controllers");
  if (!available.ok()) return done;
  auto have = words(*available);
  if (std::find(have.begin(), have.end(), controller) != have.end()) return done;
  Error e = done.error();
  e.context.insert(e.context.begin(), "the " + controller + " controller is not enabled for this cgroup");
  return e;
}

Result<std::unique_ptr<Cgroup>> create(const Hierarchy& h, const std::string& cgroups_path, const std::string& id) {
  std::string dir = GUISE_TRY(container_dir(h, cgroups_path, id));
  auto own = own_dir(h);
  std::string root = clean_path(h.mountpoint);
  std::string base = own.ok() && is_path_below(dir, *own) ? *own : root;
  std::vector<std::string> made;
  sys::Rollback undo;
  undo.add([&made] { fs::remove_made(made); });
  GUISE_TRY(make_cgroup(root, base, dir, made));
  GUISE_TRY(check_type(dir));
  GUISE_TRY(refuse_frozen(dir));
  sys::Fd fd = open_dir(dir);
  if (!fd.valid()) return sys::sys_error("open", dir);
  GUISE_TRY(fs::check_cgroupfs(fd.get(), dir, true));
  undo.commit();
  return std::unique_ptr<Cgroup>(new V2Cgroup(dir, std::move(fd)));
}

std::unique_ptr<Cgroup> open(const std::string& dir) { return std::make_unique<V2Cgroup>(dir, open_dir(dir)); }

Result<void> V2Cgroup::apply(const oci::Resources& r) {
  GUISE_TRY(apply_cpuset(dir_, r));
  GUISE_TRY(apply_memory(dir_, r));
  GUISE_TRY(apply_cpu(dir_, r));
  GUISE_TRY(apply_pids(dir_, r));
  GUISE_TRY(apply_io(dir_, r));
  GUISE_TRY(apply_hugetlb(dir_, r));
  GUISE_TRY(apply_rdma(dir_, r));
  if (r.network && (r.network->class_id || !r.network->priorities.empty()))
    return sys::user_error("linux.resources.network: net_cls and net_prio do not exist on cgroup v2");
  GUISE_TRY(apply_devices(dir_fd_.get(), dir_, r));
  return apply_unified(dir_, r);  // last: it may override any file written above
}



Result<std::vector<pid_t>> V2Cgroup::pids() const { return fs::procs_below(dir_); }

Result<void> V2Cgroup::kill_all(int signal) {
  if (signal == SIGKILL && fs::exists(dir_, "cgroup.kill")) return fs::write(dir_, "cgroup.kill", "1", "killing");
  return signal_all(*this, signal, fs::exists(dir_, "cgroup.freeze"));
}

Result<void> V2Cgroup::destroy() {
  Result<void> killed;
  dir_fd_.reset();
  // Usually empty by now (the init is reaped): one rmdir says so without a read.
  if (::rmdir(dir_.c_str()) == 0 || errno == ENOENT) return Ok();
  auto left = pids();
  if (left.ok() && !left->empty()) killed = kill_all(SIGKILL);
  GUISE_TRY(fs::remove_tree(dir_));
  return killed;
}

}  // namespace guise::cgroups::v2
