// restore: a container made again from criu's images of it. The runtime makes what
// create would (the state directory, the cgroup with its limits), criu restores the
// process tree into them, and the state is saved with the restored init's pid.
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <climits>
#include <cstdlib>

#include "cgroups/cgroup.h"
#include "cgroups/layout.h"
#include "linux/devices.h"
#include "linux/terminal.h"
#include "oci/parse.h"
#include "runtime/criu.h"
#include "runtime/criu_args.h"
#include "runtime/criu_restore.h"
#include "runtime/runtime.h"
#include "runtime/state.h"
#include "sys/child_process.h"
#include "sys/rollback.h"
#include "sys/syscalls.h"

namespace guise::runtime {

namespace {

struct Bundle {
  std::string dir, rootfs, config_text;
  oci::Spec spec;
};

Result<Bundle> load_bundle(const std::string& path) {
  Bundle b;
  char buf[PATH_MAX];
  if (!::realpath(path.empty() ? "." : path.c_str(), buf)) return sys::sys_error("bundle", path.empty() ? "." : path);
  b.dir = buf;
  auto text = sys::read_file(b.dir + "/config.json");
  if (!text.ok() && text.error().errnum == ENOENT)
    return sys::user_error("JSON specification file " + b.dir + "/config.json not found");
  b.config_text = GUISE_TRY(std::move(text));
  b.spec = GUISE_TRY(oci::parse_spec(b.config_text, "config.json"));
  if (!b.spec.process) return sys::user_error("config.json: process: required to restore a container");
  if (!b.spec.root) return sys::user_error("config.json: root: required");
  if (!b.spec.linux) return sys::user_error("config.json: linux: required on Linux");
  std::string rootfs = b.spec.root->path[0] == '/' ? b.spec.root->path : b.dir + "/" + b.spec.root->path;
  if (!::realpath(rootfs.c_str(), buf)) return sys::user_error("rootfs (" + rootfs + ") does not exist");
  b.rootfs = buf;
  return b;
}

// The limits, as create writes them, before anything of the container runs in it.
Result<std::unique_ptr<cgroups::Cgroup>> make_cgroup(const oci::Spec& spec, const std::string& id) {
  auto cgroup = GUISE_TRY(cgroups::create(spec.linux->cgroups_path, id));
  oci::Resources resources = spec.linux->resources.value_or(oci::Resources{});
  oci::Resources device_rules;
  device_rules.devices = linux::effective_device_rules(resources.devices, spec.linux->devices);
  resources.devices.clear();
  GUISE_TRY(cgroup->apply(device_rules));
  GUISE_TRY(cgroup->apply(resources));
  return cgroup;
}

Result<pid_t> read_pid(const std::string& path) {
  std::string text = GUISE_TRY(sys::read_file(path), "criu's pid file");
  char* end = nullptr;
  long pid = std::strtol(text.c_str(), &end, 10);
  if (pid <= 0 || end == text.c_str()) return sys::user_error("criu's pid file " + path + ": no pid in it");
  return static_cast<pid_t>(pid);
}

// The file an fd is open on, as /proc names it ("/dev/pts/3").
Result<std::string> fd_target(int fd) {
  char buf[PATH_MAX];
  std::string link = sys::fd_path(fd);
  ssize_t n = ::readlink(link.c_str(), buf, sizeof buf - 1);
  if (n <= 0) return sys::sys_error("readlink", link);
  return std::string(buf, n);
}

struct Made {
  std::optional<StateDir> dir;
  std::unique_ptr<cgroups::Cgroup> cgroup;
};

// What is checked before anything is made: the terminal's socket, criu itself (its
// reason where it cannot work here), the images. Returns the criu binary.
Result<std::string> check_request(const Bundle& b, const RestoreOptions& o) {
  bool terminal = b.spec.process->terminal;
  if (terminal && o.console_socket.empty())
    return sys::user_error("process.terminal is true: a console socket is required to receive the terminal");
  if (!terminal && !o.console_socket.empty())
    return sys::user_error("a console socket was given but process.terminal is false");
  std::string criu = GUISE_TRY(find_criu(o.criu));
  GUISE_TRY(check_criu(criu));
  struct stat st {};
  if (::stat(o.image_path.c_str(), &st) < 0) return sys::sys_error("image path", o.image_path);
  return criu;
}

Result<CriuPlan> plan_restore(const Bundle& b, const RestoreOptions& o, const StateDir& dir,
                              const cgroups::Cgroup& cgroup) {
  CriuPlan plan;
  plan.flags = o;
  plan.images = o.image_path;
  plan.work = o.work_path.empty() ? o.image_path : o.work_path;
  GUISE_TRY(make_criu_dir(plan.work, "work path"));
  plan.log_file = "restore.log";
  plan.pid_file = dir.path() + "/criu.pid";
  plan.config_file = criu_config_file(b.spec);
  plan.external_mounts = external_mounts(b.spec, b.dir, true);
  cgroups::Layout layout = GUISE_TRY(cgroups::host_layout(), "detecting the cgroup hierarchy");
  plan.cgroup_roots = criu_cgroup_roots(layout, cgroup.paths());
  return plan;
}

// A new terminal in place of the dumped one (dumped as a shell job's): criu hands it
// over from its own stdin, and binds its peer on /dev/console; the master goes to the
// console socket.
Result<linux::Pty> new_terminal(const oci::Spec& spec, const std::string& console_socket, CriuPlan& plan) {
  linux::Pty pty = GUISE_TRY(linux::open_pty(spec.process->console_size), "process.terminal");
  plan.flags.shell_job = true;
  plan.external_mounts.emplace_back("/dev/console", GUISE_TRY(fd_target(pty.peer.get()), "process.terminal"));
  GUISE_TRY(linux::send_to_console_socket(console_socket, pty.master.get()), "console socket");
  return pty;
}

ContainerState restored_state(const Bundle& b, const std::string& id, pid_t pid, const cgroups::Cgroup& cgroup) {
  const oci::Namespace* pid_ns = b.spec.find_namespace(oci::NamespaceType::kPid);
  return state_of_new_init(id, b.dir, b.rootfs, b.spec, pid, cgroup.paths(), pid_ns && pid_ns->path.empty(),
                           /*started=*/true);
}

Result<Created> restore_steps(const Globals& g, const RestoreOptions& o, Made& made, sys::Rollback& undo) {
  Bundle b = GUISE_TRY(load_bundle(o.bundle));
  std::string criu = GUISE_TRY(check_request(b, o));
  made.dir.emplace(GUISE_TRY(StateDir::create(g.root, o.id)));
  StateDir& dir = *made.dir;
  undo.add([&dir] { dir.remove(); });
  GUISE_TRY(sys::write_file(dir.config_path(), b.config_text, O_CREAT | O_TRUNC, 0600));
  made.cgroup = GUISE_TRY(make_cgroup(b.spec, o.id));
  auto& cgroup = made.cgroup;
  undo.add([&cgroup]() -> Result<void> { return cgroup->destroy(); });

  CriuPlan plan = GUISE_TRY(plan_restore(b, o, dir, *cgroup));
  RestoreFds fds = GUISE_TRY(plan_restore_fds(b.spec, plan));
  std::optional<linux::Pty> pty;
  if (b.spec.process->terminal) pty = GUISE_TRY(new_terminal(b.spec, o.console_socket, plan));
  RootMount root = GUISE_TRY(RootMount::make(b.rootfs, dir.path() + "/criu-root", b.spec.mounts));
  plan.root = root.path();
  CriuRun run{criu, restore_args(plan), plan.work + "/" + plan.log_file};
  if (pty) run.stdin_fd = pty->peer.get();
  run.capture_output = false;  // criu's fds 0-2 are what dumped pipes are restored as
  GUISE_TRY(run_criu(run, "restore"));
  root.remove();
  pid_t pid = GUISE_TRY(read_pid(plan.pid_file));
  ::unlink(plan.pid_file.c_str());
  sys::ChildProcess init(pid, GUISE_TRY(sys::pidfd_open(pid)));  // the restored init: criu's sibling

  ContainerState st = restored_state(b, o.id, pid, *cgroup);
  GUISE_TRY(dir.save(st));
  GUISE_TRY(write_pid_file(o.pid_file, pid));
  undo.commit();
  Created created;
  created.pidfd = init.release_pidfd();
  created.pid = init.release();
  created.state = std::move(st);
  created.spec = std::make_shared<const oci::Spec>(std::move(b.spec));
  created.cgroup = std::move(made.cgroup);
  return created;
}

}  // namespace

Result<Created> restore_container(const Globals& g, const RestoreOptions& o) {
  if (o.image_path.empty()) return sys::user_error("restore: an image path is required");
  Made made;
  sys::Rollback undo;
  auto created = restore_steps(g, o, made, undo);
  if (!created.ok()) {
    created.error().context.push_back("restore");
    undo.unwind(created.error());
  }
  return created;
}

}  // namespace guise::runtime
