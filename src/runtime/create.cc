// create: config.json -> a container whose init waits on exec.fifo for `start`.
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <climits>
#include <cstdlib>

#include "cgroups/cgroup.h"
#include "cgroups/none.h"
#include "linux/capabilities.h"
#include "linux/channel.h"
#include "linux/devices.h"
#include "linux/exec_trampoline.h"
#include "linux/hooks.h"
#include "linux/idmap.h"
#include "linux/mount_plan.h"
#include "linux/init.h"
#include "linux/namespaces.h"
#include "linux/paths.h"
#include "linux/process.h"
#include "linux/shared_root.h"
#include "linux/terminal.h"
#include "oci/parse.h"
#include "runtime/proc_view.h"
#include "runtime/runtime.h"
#include "runtime/state.h"
#include "sys/child_process.h"
#include "sys/fault.h"
#include "sys/log.h"
#include "sys/rollback.h"
#include "sys/syscalls.h"

namespace guise::runtime {

namespace {

Result<std::string> absolute(const std::string& path, const char* what) {
  char buf[PATH_MAX];
  if (!::realpath(path.empty() ? "." : path.c_str(), buf)) return sys::sys_error(what, path.empty() ? "." : path);
  return std::string(buf);
}

// Whether the host offers Intel RDT: resctrl mounted where runc looks for it.
bool has_resctrl() {
  constexpr long kResctrlMagic = 0x7655821;  // RDTGROUP_SUPER_MAGIC
  struct statfs fs {};
  return ::statfs("/sys/fs/resctrl", &fs) == 0 && static_cast<long>(fs.f_type) == kResctrlMagic;
}

Result<oci::Spec> load_spec(const std::string& bundle, std::string& text) {
  std::string path = bundle + "/config.json";
  auto read = sys::read_file(path);
  if (!read.ok()) {
    if (read.error().errnum == ENOENT) return sys::user_error("JSON specification file " + path + " not found");
    return std::move(read.error());
  }
  text = std::move(read).take();
  oci::Spec spec = GUISE_TRY(oci::parse_spec(text, "config.json"));
  if (!spec.process) return sys::user_error("config.json: process: required to create a container");
  if (!spec.root) return sys::user_error("config.json: root: required");
  if (!spec.linux) return sys::user_error("config.json: linux: required on Linux");
  GUISE_TRY(linux::check_sysctl_namespaces(spec));
  GUISE_TRY(linux::check_shared_root(spec));
  // Named here, before anything is made, rather than by the init failing late.
  if (spec.process->capabilities)
    GUISE_TRY(linux::plan_capabilities(*spec.process->capabilities, "config.json: process.capabilities"));
  if (spec.linux->intel_rdt && !has_resctrl())
    return sys::user_error("config.json: linux.intelRdt: Intel RDT is not available on this host "
                           "(no resctrl filesystem at /sys/fs/resctrl)");
  return spec;
}

// A bind source the init cannot reach from its user namespace, opened where it will
// be mounted: through the init's root, in its mount namespace (an fd from any other
// namespace could not be bound there), with the runtime's own rights.
Result<sys::Fd> open_mount_source(pid_t pid, const std::string& source) {
  std::string root_path = "/proc/" + std::to_string(pid) + "/root";
  sys::Fd root(::open(root_path.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!root.valid()) return sys::sys_error("open the container init's root", root_path);
  return linux::open_in_root(root.get(), source);
}

// The init may ask for a source only as its config names it for a bind mount: the
// privileged runtime opens nothing else on its behalf, whatever the request says.
bool is_bind_source_of(const oci::Spec& spec, const std::string& bundle, const std::string& wanted) {
  for (const auto& m : spec.mounts) {
    bool bind = m.type == "bind";
    for (const auto& o : m.options) bind = bind || o == "bind" || o == "rbind";
    if (!bind || m.source.empty()) continue;
    if ((m.source[0] == '/' ? m.source : bundle + "/" + m.source) == wanted) return true;
  }
  return false;
}

// The rootfs bind of a container without a mount namespace of its own, from the id
// its init reports until `delete` (or the rollback of a failed create) detaches it.
struct SharedRoot {
  std::string ns_path;  // linux.namespaces' mount path; "" for the runtime's own
  std::string rootfs;
  uint64_t mount = 0;
};

// The parent's half of the protocol: answer the init's requests until it is ready.
Result<sys::Fd> serve_init(linux::Channel& ch, pid_t pid, const oci::Spec& spec, const ContainerState& st,
                           const CreateOptions& o, SharedRoot& shared) {
  std::string creating = state_json(st, Status::kCreating, false);
  GUISE_TRY(ch.send(linux::Msg::kGo, creating));
  sys::Fd master;
  for (;;) {
    linux::Frame f = GUISE_TRY(ch.recv());
    switch (f.type) {
      case linux::Msg::kMapIds:
        GUISE_TRY(linux::write_id_mappings(pid, *spec.linux));
        GUISE_TRY(ch.send(linux::Msg::kIdsMapped));
        break;
      case linux::Msg::kRunHooks:
        GUISE_TRY(linux::run_hooks(spec.hooks->prestart, "prestart", creating));
        GUISE_TRY(linux::run_hooks(spec.hooks->create_runtime, "createRuntime", creating));
        GUISE_TRY(ch.send(linux::Msg::kHooksDone));
        break;
      case linux::Msg::kMountSource: {
        if (!is_bind_source_of(spec, st.bundle, f.text))
          return sys::user_error("protocol: the container init asked for " + f.text.substr(0, 200) +
                                 ", which is no bind source of its config");
        auto opened = open_mount_source(pid, f.text);
        if (!opened.ok()) {
          GUISE_TRY(ch.send_error(opened.error()));
          break;
        }
        GUISE_TRY(ch.send(linux::Msg::kMountSource, {}, {opened.value().get()}));
        break;
      }
      case linux::Msg::kRootfsMount:
        shared.mount = std::strtoull(f.text.c_str(), nullptr, 10);
        break;
      case linux::Msg::kPtyMaster:
        if (f.fds.empty()) return sys::user_error("protocol: terminal master missing");
        if (!o.console_socket.empty())
          GUISE_TRY(linux::send_to_console_socket(o.console_socket, f.fds[0].get()), "console socket");
        else
          master = std::move(f.fds[0]);
        break;
      case linux::Msg::kReady:
        return master;
      case linux::Msg::kError:
        return std::move(f.error);
      default:
        return sys::user_error(std::string("protocol: unexpected ") + linux::msg_name(f.type) + " from container init");
    }
  }
}

// The cgroup, made and limited while the init builds its rootfs (it has begun with its
// namespaces and mounts): the v1 directories and the device rules, then the tasks files
// the init writes itself into (entry.h) before the first thing that needs the cgroup (its
// /sys/fs/cgroup, a block device mount, its device nodes), then the other limits. The
// init waits for the go-ahead after them (serve_init) before it reports ready, and
// nothing of the user's runs before that.
Result<void> set_up_cgroup(cgroups::Cgroup& cgroup, const oci::Spec& spec, linux::Channel& ch) {
  GUISE_TRY(cgroup.complete());
  oci::Resources resources = spec.linux->resources.value_or(oci::Resources{});
  oci::Resources device_rules;
  device_rules.devices = linux::effective_device_rules(resources.devices, spec.linux->devices);
  resources.devices.clear();
  GUISE_TRY(cgroup.apply(device_rules));
  cgroups::TaskFiles tasks = GUISE_TRY(cgroup.open_task_files(), "joining cgroup");
  std::string paths;
  std::vector<int> fds;
  for (size_t i = 0; i < tasks.fds.size(); ++i) {
    paths += (i ? "\n" : "") + tasks.paths[i];
    fds.push_back(tasks.fds[i].get());
  }
  GUISE_TRY(ch.send(linux::Msg::kCgroup, paths, fds));
  return cgroup.apply(resources);
}

// `run`: returns once the init has exec'd the user's program. Its end of the channel
// is close-on-exec, so the end of stream is its exec (of the trampoline, or its death
// trying, which it reports on its own stderr); the trampoline then reports a failed
// exec of the program on the pipe the init sent (kExecReport): one byte, the errno.
Result<void> await_exec(linux::Channel& ch, const std::string& program) {
  sys::Fd report;
  for (;;) {
    auto f = GUISE_TRY(ch.recv_or_end());
    if (!f) break;
    if (f->type == linux::Msg::kError) return std::move(f->error);
    if (f->type != linux::Msg::kExecReport || f->fds.size() != 1)
      return sys::user_error(std::string("protocol: unexpected ") + linux::msg_name(f->type) + " from container init");
    report = std::move(f->fds[0]);
  }
  int err = report.valid() ? linux::ExecTrampoline::read_report(report.get()) : 0;
  if (err) return sys::sys_error_n(err, "exec", program);
  return Ok();
}

// runc's warning (a container whose cgroup already holds processes shares it with them).
void warn_if_occupied(const cgroups::Cgroup& cgroup) {
  auto pids = cgroup.pids();
  if (pids.ok() && !pids->empty())
    sys::warn("container's cgroup is not empty: " + std::to_string(pids->size()) + " process(es) found");
}

// What create makes on the host, owned here so that the rollback (which refers to it)
// runs before it goes.
struct Made {
  std::optional<StateDir> dir;
  std::unique_ptr<cgroups::Cgroup> cgroup;
  SharedRoot shared_root;
};

// Puts the caller's stdio choices in place in the init, before it builds anything.
void take_stdio(const Stdio& s) {
  if (s.in >= 0 && s.in != 0) ::dup2(s.in, 0);
  if (s.out >= 0 && s.out != 1) ::dup2(s.out, 1);
  if (s.err >= 0 && s.err != 2) ::dup2(s.err, 2);
}

// The bundle's config, checked against what the caller asked for; its absolute rootfs.
Result<std::string> check_bundle(const std::string& bundle, const oci::Spec& spec, const CreateOptions& o) {
  std::string rootfs = spec.root->path[0] == '/' ? spec.root->path : bundle + "/" + spec.root->path;
  struct stat st_root {};
  if (::stat(rootfs.c_str(), &st_root) < 0 || !S_ISDIR(st_root.st_mode))
    return sys::user_error("rootfs (" + rootfs + ") does not exist");
  rootfs = GUISE_TRY(absolute(rootfs, "rootfs"));
  if (spec.process->terminal && o.console_socket.empty() && !o.keep_terminal_master)
    return sys::user_error("process.terminal is true: a console socket is required to receive the terminal");
  if (!spec.process->terminal && !o.console_socket.empty())
    return sys::user_error("a console socket was given but process.terminal is false");
  return rootfs;
}

// The fifos of a container that waits for `start`: exec.fifo, opened read and write
// (with a writer of its own, the init's blocking read waits for `start`'s byte, and is
// all it needs under the seccomp filter), and exec.done, which the exec closes.
struct StartFifos {
  sys::Fd fifo, exec_done;
};
Result<StartFifos> make_start_fifos(const StateDir& dir) {
  StartFifos f;
  if (::mkfifo(dir.fifo_path().c_str(), 0622) < 0) return sys::sys_error("mkfifo", dir.fifo_path());
  f.fifo.reset(::open(dir.fifo_path().c_str(), O_RDWR | O_CLOEXEC));
  if (!f.fifo.valid()) return sys::sys_error("open", dir.fifo_path());
  if (::mkfifo(dir.exec_done_path().c_str(), 0600) < 0) return sys::sys_error("mkfifo", dir.exec_done_path());
  f.exec_done.reset(::open(dir.exec_done_path().c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC));
  if (!f.exec_done.valid()) return sys::sys_error("open", dir.exec_done_path());
  return f;
}

// The v1 directories are made after the clone (complete()), except for an unprivileged
// user: a refused mkdir here means running without a cgroup (as runc).
Result<void> make_cgroup(const Globals& g, const oci::Spec& spec, const std::string& id, Made& made,
                         sys::Rollback& undo) {
  auto made_cgroup = cgroups::create(spec.linux->cgroups_path, id, /*defer_v1=*/!g.rootless);
  if (made_cgroup.ok()) {
    made.cgroup = std::move(made_cgroup).take();
  } else if (g.rootless && (made_cgroup.error().errnum == EACCES || made_cgroup.error().errnum == EPERM ||
                            made_cgroup.error().errnum == EROFS)) {
    made.cgroup = cgroups::no_cgroup(0);  // as runc: an unprivileged user without a delegated cgroup runs without one
  } else {
    return std::move(made_cgroup.error());
  }
  undo.add([&made]() -> Result<void> { return made.cgroup->destroy(); });
  warn_if_occupied(*made.cgroup);
  return Ok();
}

void log_ignored_mount_options(const std::vector<linux::MountStep>& mounts) {
  if (!sys::log_enabled(sys::LogLevel::kDebug)) return;
  for (size_t i = 0; i < mounts.size(); ++i) {
    const auto& m = mounts[i];
    if (m.ignored_options.empty()) continue;
    std::string names;
    for (const auto& opt : m.ignored_options) names += (names.empty() ? "" : ", ") + opt;
    sys::debug("config.json: mounts[" + std::to_string(i) + "] " + m.destination +
               ": a bind mount takes no filesystem options; ignoring " + names);
  }
}

// Idmapped bind mounts are cloned and idmapped here, before the init exists; the trees
// are held until the init has attached them.
Result<std::vector<sys::Fd>> make_idmapped_trees(std::vector<linux::MountStep>& mounts, const std::string& bundle) {
  std::vector<sys::Fd> trees;
  for (size_t i = 0; i < mounts.size(); ++i) {
    auto& m = mounts[i];
    if (m.uid_mappings.empty() && m.gid_mappings.empty()) continue;
    std::string source = m.source[0] == '/' ? m.source : bundle + "/" + m.source;
    trees.push_back(GUISE_TRY(linux::make_idmapped_tree(source, m.recursive, m.uid_mappings, m.gid_mappings),
                              "mounts[" + std::to_string(i) + "] " + m.destination));
    m.premade_tree = trees.back().get();
  }
  return trees;
}

// What the init is told; the fds it names (fifos, trees, the state lock) stay open here.
linux::InitConfig init_config(const Globals& g, const CreateOptions& o, const oci::Spec& spec,
                              const std::string& bundle, const std::string& rootfs, const StartFifos& fifos,
                              const cgroups::Cgroup& cgroup, const StateDir& dir) {
  linux::InitConfig ic;
  ic.spec = &spec;
  ic.ns = linux::plan_namespaces(spec);
  ic.rootfs = rootfs;
  ic.start_fifo = fifos.fifo.get();
  ic.exec_done = fifos.exec_done.get();
  ic.start_at_once = o.start_at_once;
  ic.cpus = linux::CpuSpread::record();
  ic.no_pivot = o.no_pivot;
  ic.no_new_keyring = o.no_new_keyring;
  ic.preserve_fds = o.preserve_fds;
  ic.cgroup_paths = cgroup.paths();
  ic.cgroup_v2 = cgroup.is_v2();
  ic.run_parent_hooks = spec.hooks && (!spec.hooks->prestart.empty() || !spec.hooks->create_runtime.empty());
  ic.bundle = bundle;
  ic.close_in_child = {dir.lock_fd()};
  // Root shares one cache of compiled seccomp programs; a rootless user keeps its own
  // beside its state (a dot-name, so `list` does not take it for a container).
  if (g.rootless && ::geteuid() != 0) ic.seccomp_cache_dir = g.root + "/.seccomp-cache";
  return ic;
}

// clone3 of the init, in its pid (and user) namespace and, on cgroup v2, straight into
// its cgroup; the child never returns from here.
Result<sys::ChildProcess> clone_init(const linux::InitConfig& ic, const oci::Spec& spec, const cgroups::Cgroup& cgroup,
                                     const Stdio& stdio, linux::Channel& parent_end, linux::Channel& child_end) {
  int pidfd = -1;
  auto scope = GUISE_TRY(linux::ChildNamespaceScope::enter(ic.ns, spec));
  sys::CloneArgs args;
  args.flags = ic.ns.clone_flags | CLONE_PIDFD;
  args.pidfd = &pidfd;
  if (cgroup.clone_into_fd() >= 0) {
    args.flags |= CLONE_INTO_CGROUP;
    args.cgroup_fd = cgroup.clone_into_fd();
  }
  pid_t pid = GUISE_TRY(sys::clone3(args), "starting container init");
  if (pid == 0) {
    parent_end.close();
    take_stdio(stdio);
    linux::container_init(ic, child_end);
  }
  return sys::ChildProcess(pid, sys::Fd(pidfd));
}

// `run`: marked started and saved before the go-ahead, after which the init runs
// straight on to the user's process; no command sees it before create ends (the state
// directory is locked).
ContainerState initial_state(const CreateOptions& o, const oci::Spec& spec, const std::string& bundle,
                             const std::string& rootfs, pid_t pid, const cgroups::Cgroup& cgroup, bool own_pid_ns) {
  return state_of_new_init(o.id, bundle, rootfs, spec, pid, cgroup.paths(), own_pid_ns, o.start_at_once);
}

// A container without a mount namespace of its own leaves its rootfs bind where
// others see it: the rollback detaches it (and `delete`, from the state).
void track_shared_root(const oci::Spec& spec, const std::string& rootfs, Made& made, sys::Rollback& undo) {
  const oci::Namespace* mnt = spec.find_namespace(oci::NamespaceType::kMount);
  made.shared_root = {mnt ? mnt->path : std::string(), rootfs, 0};
  undo.add([&made]() -> Result<void> {
    const SharedRoot& r = made.shared_root;
    return linux::detach_shared_root(r.ns_path, r.rootfs, r.mount);
  });
}

Result<Created> create_steps(const Globals& g, const CreateOptions& o, Made& made, sys::Rollback& undo) {
  std::string bundle = GUISE_TRY(absolute(o.bundle, "bundle"));
  sys::debug(std::string(o.start_at_once ? "run" : "create") + ": container " + o.id + " from bundle " + bundle);
  std::string config_text;
  oci::Spec spec = GUISE_TRY(load_spec(bundle, config_text));
  std::string rootfs = GUISE_TRY(check_bundle(bundle, spec, o));

  made.dir.emplace(GUISE_TRY(StateDir::create(g.root, o.id)));
  StateDir& dir = *made.dir;
  undo.add([&dir] { dir.remove(); });
  GUISE_FAULT_POINT("create: state directory made");
  GUISE_TRY(sys::write_file(dir.config_path(), config_text, O_CREAT | O_TRUNC, 0600));
  // From here on a runtime killed at any moment leaves a state `delete --force` undoes:
  // the cgroup's directories are recorded before they are made, the init's pid as soon
  // as it exists (below).
  ContainerState partial = state_of_new_init(o.id, bundle, rootfs, spec, 0, {}, false, false);
  if (auto planned = cgroups::planned_paths(spec.linux->cgroups_path, o.id); planned.ok())
    partial.cgroup_paths = std::move(planned).take();
  GUISE_TRY(dir.save(partial));
  GUISE_FAULT_POINT("create: partial state saved");
  StartFifos fifos;
  if (!o.start_at_once) fifos = GUISE_TRY(make_start_fifos(dir));
  GUISE_TRY(make_cgroup(g, spec, o.id, made, undo));
  GUISE_FAULT_POINT("create: cgroup made");
  cgroups::Cgroup& cgroup = *made.cgroup;

  std::optional<procview::Launched> view;
  if (GUISE_TRY(wants_proc_view(spec))) view = start_proc_view(spec, cgroup, dir.path());

  linux::InitConfig ic = init_config(g, o, spec, bundle, rootfs, fifos, cgroup, dir);
  ic.mounts = GUISE_TRY(linux::plan_mounts(spec.mounts), "config.json");
  if (view)
    for (auto& step : view_mounts(spec, *view)) ic.mounts.push_back(std::move(step));
  log_ignored_mount_options(ic.mounts);
  std::vector<sys::Fd> idmapped = GUISE_TRY(make_idmapped_trees(ic.mounts, bundle));
  GUISE_TRY(linux::check_namespace_plan(ic.ns, spec));

  auto [parent_end, child_end] = GUISE_TRY(linux::Channel::pair());
  sys::ChildProcess child = GUISE_TRY(clone_init(ic, spec, cgroup, o.stdio, parent_end, child_end));
  pid_t pid = child.pid();
  sys::debug("container " + o.id + ": init is pid " + std::to_string(pid) + "; joining its cgroup, answering it");
  GUISE_TRY(dir.save(initial_state(o, spec, bundle, rootfs, pid, cgroup, false)));
  GUISE_FAULT_POINT("create: init cloned");
  ic.cpus.move_child(pid);
  child_end.close();
  if (view) {
    view->trees.clear();  // the init holds its own copies
    if (auto r = view->follow(pid); !r.ok()) sys::warn("the /proc view: " + r.error().message());
  }
  fifos.fifo.reset();  // the init holds its own copies now
  fifos.exec_done.reset();
  if (ic.ns.new_user && !ic.ns.late_user) {
    GUISE_TRY(linux::write_id_mappings(pid, *spec.linux));
    GUISE_TRY(parent_end.send(linux::Msg::kIdsMapped));
  }
  GUISE_TRY(set_up_cgroup(cgroup, spec, parent_end));
  GUISE_FAULT_POINT("create: cgroup set up");

  ContainerState st = initial_state(o, spec, bundle, rootfs, pid, cgroup, ic.ns.clone_flags & CLONE_NEWPID);
  if (o.start_at_once) GUISE_TRY(dir.save(st));
  if (!ic.ns.new_mount) track_shared_root(spec, rootfs, made, undo);
  sys::Fd master = GUISE_TRY(serve_init(parent_end, pid, spec, st, o, made.shared_root));
  GUISE_FAULT_POINT("create: init ready");
  st.rootfs_mount = made.shared_root.mount;
  if (o.start_at_once) {
    if (st.rootfs_mount) GUISE_TRY(dir.save(st));  // for the `delete` that detaches it
    GUISE_TRY(await_exec(parent_end, spec.process->args.front()));
    // Only now: the pid is the user's process, in every namespace and cgroup.
    GUISE_TRY(write_pid_file(o.pid_file, pid));
  } else {
    // The init loads its seccomp filter after reporting ready (runc's order, so a profile
    // that denies the channel's own sendmsg still starts), then closes its end: an
    // error before the close is a filter that could not be loaded.
    GUISE_TRY(parent_end.wait_closed(), "loading the seccomp filter");
    GUISE_FAULT_POINT("create: seccomp loaded");
    GUISE_TRY(dir.save(st));
    GUISE_TRY(write_pid_file(o.pid_file, pid));
  }
  undo.commit();
  Created created;
  created.pidfd = child.release_pidfd();
  created.pid = child.release();
  created.terminal_master = std::move(master);
  if (o.start_at_once && spec.hooks && !spec.hooks->poststart.empty()) {
    auto r = linux::run_hooks(spec.hooks->poststart, "poststart", state_json(st, Status::kRunning, false));
    if (!r.ok()) sys::warn(r.error().message());
  }
  created.state = std::move(st);
  created.spec = std::make_shared<const oci::Spec>(std::move(spec));
  created.cgroup = std::move(made.cgroup);
  return created;
}

}  // namespace

Result<Created> create_container(const Globals& g, const CreateOptions& o) {
  Made made;
  sys::Rollback undo;
  auto created = create_steps(g, o, made, undo);
  if (!created.ok()) undo.unwind(created.error());
  return created;
}

Result<Created> run_container(const Globals& g, CreateOptions o) {
  o.start_at_once = true;
  return create_container(g, o);
}

}  // namespace guise::runtime
