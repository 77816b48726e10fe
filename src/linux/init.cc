#include "linux/init.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdio>
#include <optional>

#include <nlohmann/json.hpp>

#include "cgroups/entry.h"
#include "linux/capabilities.h"
#include "linux/console.h"
#include "linux/devices.h"
#include "linux/exec_trampoline.h"
#include "linux/hooks.h"
#include "linux/keyring.h"
#include "linux/lsm_labels.h"
#include "linux/masks.h"
#include "linux/mounts.h"
#include "linux/paths.h"
#include "linux/process.h"
#include "linux/procfs.h"
#include "linux/seccomp_setup.h"
#include "linux/shared_root.h"
#include "linux/terminal.h"

namespace guise::linux {

namespace {

struct Init {
  const InitConfig& c;
  const oci::Spec& spec;
  const oci::Process& proc;
  Channel& parent;
  std::string state_json;  // the state the createContainer/startContainer hooks read
  ProcFs procfs;           // the runtime's own procfs: every write to /proc goes through it
  PreparedSeccomp seccomp;
  ExecLabel label;
  ExecTrampoline trampoline;  // CVE-2019-5736: the user's program is exec'd through it
  bool started = false;    // past `start`: errors go to the container's stderr
  std::vector<Frame> early;  // the runtime's frames that came before they were needed
  bool cgroup_joined = false;
  int exec_report = -1;    // for the trampoline: where a failed exec's errno goes
  CapSets caps;            // the process's, as configured
  std::vector<ReadonlyLater> readonly_later;  // "ro" mounts made writable until the rootfs is complete
};

std::string state_field(const std::string& state_json, const char* key) {
  auto j = nlohmann::json::parse(state_json, nullptr, false);
  if (!j.is_object() || !j.contains(key) || !j[key].is_string()) return {};
  return j[key].get<std::string>();
}

// Done while the host's filesystem is still in view (before any namespace is
// joined or the rootfs entered): nothing here is reachable from the container.
Result<void> prepare_confinement(Init& in) {
  const auto& linux = *in.spec.linux;
  if (in.proc.capabilities)
    in.caps = GUISE_TRY(plan_capabilities(*in.proc.capabilities, "process.capabilities"));
  GUISE_TRY(check_lsm(in.proc, linux.mount_label));
  in.seccomp = GUISE_TRY(PreparedSeccomp::prepare(linux.seccomp, in.c.seccomp_cache_dir));
  return Ok();
}

// A private procfs, made while the host's /proc is still fully visible (a user
// namespace may not make one once /proc is masked). Best effort: see below.
void open_private_procfs(Init& in) {
  auto priv = ProcFs::open_private();
  if (priv.ok()) in.procfs = std::move(priv).take();
}

// Where a private one was refused, the container's /proc, checked to be a procfs
// root of this pid namespace, and only when something is to be written.
Result<void> open_process_procfs(Init& in) {
  if (!in.procfs.valid()) {
    bool needed = !in.spec.linux->sysctl.empty() || in.proc.oom_score_adj || ExecLabel::wanted(in.proc);
    if (!needed) return Ok();
    in.procfs = GUISE_TRY(ProcFs::open_mounted("/proc"));
  }
  in.label = GUISE_TRY(ExecLabel::prepare(in.proc, in.procfs));
  return Ok();
}

// The runtime sends, in this order: kIdsMapped (for a user namespace made by the clone),
// kCgroup, kGo, without waiting; the init takes each when it needs it. A kIdsMapped
// asked for later (kMapIds) may find kCgroup and kGo ahead of it.
Result<Frame> take(Init& in, Msg want) {
  for (auto it = in.early.begin(); it != in.early.end(); ++it) {
    if (it->type != want) continue;
    Frame f = std::move(*it);
    in.early.erase(it);
    return f;
  }
  for (;;) {
    Frame f = GUISE_TRY(in.parent.recv());
    if (f.type == want) return f;
    if (f.type == Msg::kError) return std::move(f.error);
    if (f.type != Msg::kCgroup && f.type != Msg::kGo)
      return sys::user_error(std::string("protocol: expected ") + msg_name(want) + " from the runtime, got " +
                             msg_name(f.type));
    in.early.push_back(std::move(f));
  }
}

// The runtime's go-ahead: the cgroup limits are in place; it carries the container's state.
Result<void> wait_for_runtime(Init& in) {
  if (in.state_json.empty()) in.state_json = GUISE_TRY(take(in, Msg::kGo)).text;
  return Ok();
}

bool shares_mount_namespace(const Init& in) { return !in.c.ns.new_mount; }

// Into the cgroup (entry.h) once the runtime has made it and written its device rules
// (kCgroup, with the v1 tasks files), before the first thing that needs it: the
// /sys/fs/cgroup mount, a mount of a block device or the device nodes (both checked
// against the device rules), a cgroup namespace.
Result<void> join_cgroup(Init& in) {
  if (in.cgroup_joined) return Ok();
  Frame f = GUISE_TRY(take(in, Msg::kCgroup));
  cgroups::TaskFiles tasks;
  tasks.fds = std::move(f.fds);
  for (size_t start = 0; start < f.text.size();) {
    size_t nl = f.text.find('\n', start);
    if (nl == std::string::npos) nl = f.text.size();
    tasks.paths.push_back(f.text.substr(start, nl - start));
    start = nl + 1;
  }
  in.c.cpus.restore();
  GUISE_TRY(cgroups::enter_self(tasks));
  in.cgroup_joined = true;
  // The container sees this cgroup as its root.
  if (in.c.ns.new_cgroup && ::unshare(CLONE_NEWCGROUP) < 0) return sys::sys_error("unshare cgroup namespace");
  return Ok();
}

bool needs_cgroup(const MountStep& step) {
  if (step.fstype == "cgroup" || step.fstype == "cgroup2") return true;
  return !step.bind && step.source.rfind("/dev/", 0) == 0;  // a block device
}

Result<void> enter_namespaces(Init& in) {
  const NamespacePlan& ns = in.c.ns;
  GUISE_TRY(join_namespaces(ns.child_joins));
  if (ns.late_user) {
    if (::unshare(CLONE_NEWUSER) < 0) return sys::sys_error("unshare user namespace");
    GUISE_TRY(in.parent.send(Msg::kMapIds));
    GUISE_TRY(take(in, Msg::kIdsMapped));
  }
  // Nothing in the container may open this process's /proc/PID/exe. Set only now:
  // a non-dumpable process's /proc files belong to root, and an unprivileged parent
  // must still write uid_map/gid_map above. No other process is in the container yet.
  ::prctl(PR_SET_DUMPABLE, 0);
  if (ns.new_user) {
    // Root inside the new namespace (the host uid is unmapped there): files made
    // from here on are owned by the container's root.
    if (::setresgid(0, 0, 0) < 0) return sys::sys_error("setgid 0 in the user namespace");
    if (::setresuid(0, 0, 0) < 0) return sys::sys_error("setuid 0 in the user namespace");
  }
  if (ns.late_flags && ::unshare(static_cast<int>(ns.late_flags)) < 0) return sys::sys_error("unshare namespaces");
  // Joining a mount namespace moved the working directory to its root: relative
  // mount sources are the bundle's.
  bool joined_mount = false;
  for (const auto& j : ns.child_joins) joined_mount = joined_mount || j.type == oci::NamespaceType::kMount;
  if (joined_mount && ::chdir(in.c.bundle.c_str()) < 0)
    return sys::sys_error("chdir to the bundle in the joined mount namespace", in.c.bundle);
  return Ok();  // the cgroup namespace comes with the cgroup (join_cgroup)
}

// A mount namespace that is not the container's own shows the rootfs bind to others:
// the runtime records it (and detaches it with the container) before anything is
// mounted in it.
Result<sys::Fd> mount_shared_rootfs(Init& in) {
  GUISE_TRY(wait_for_runtime(in));
  sys::Fd root = GUISE_TRY(mount_rootfs(in.c.rootfs, /*private_tree=*/true));
  uint64_t id = GUISE_TRY(mount_id_of(root.get()));
  GUISE_TRY(in.parent.send(Msg::kRootfsMount, std::to_string(id)));
  return root;
}

// A bind source out of the user namespace's reach, asked of the runtime (mounts.h).
Result<sys::Fd> open_source_outside(Init& in, const std::string& source) {
  GUISE_TRY(in.parent.send(Msg::kMountSource, source[0] == '/' ? source : in.c.bundle + "/" + source));
  Frame f = GUISE_TRY(take(in, Msg::kMountSource));
  if (f.fds.size() != 1) return sys::user_error("protocol: the runtime sent no fd for mount source " + source);
  return std::move(f.fds[0]);
}

// linux.mountLabel: the SELinux context of the filesystems the runtime makes (as
// runc labels them); check_lsm has refused it unless SELinux is enabled.
MountStep with_mount_label(MountStep step, const std::string& label) {
  if (label.empty() || step.bind) return step;
  if (step.fstype == "tmpfs" || step.fstype == "devpts" || step.fstype == "mqueue")
    step.fs_params.emplace_back("context", "\"" + label + "\"");
  return step;
}

Result<sys::Fd> prepare_rootfs(Init& in) {
  const auto& linux = *in.spec.linux;
  sys::Fd root;
  if (shares_mount_namespace(in)) {
    root = GUISE_TRY(mount_shared_rootfs(in));
  } else {
    GUISE_TRY(isolate_mount_propagation(linux.rootfs_propagation));
    root = GUISE_TRY(mount_rootfs(in.c.rootfs));
  }
  const auto& steps = in.c.mounts;
  MountContext ctx{in.c.cgroup_paths, in.c.cgroup_v2, in.c.ns.new_user || !in.c.ns.child_joins.empty(), {}};
  if (in.c.ns.new_user || in.c.ns.late_user)
    ctx.open_source = [&in](const std::string& source) { return open_source_outside(in, source); };
  bool dev_is_bind = false, has_devpts = false;
  for (size_t i = 0; i < steps.size(); ++i) {
    if (needs_cgroup(steps[i])) GUISE_TRY(join_cgroup(in), "joining cgroup");
    MountStep step = with_mount_label(steps[i], linux.mount_label);
    std::string where = "mounts[" + std::to_string(i) + "] " + steps[i].destination;
    sys::Fd mounted = GUISE_TRY(apply_mount(root.get(), step, ctx), where);
    if (mounted.valid()) in.readonly_later.push_back({std::move(mounted), steps[i].destination});
    if (steps[i].destination == "/dev" && steps[i].bind) dev_is_bind = true;
    if (steps[i].destination == "/dev/pts" && steps[i].fstype == "devpts") has_devpts = true;
  }
  GUISE_TRY(join_cgroup(in), "joining cgroup");
  bool in_userns = in.c.ns.new_user || in.c.ns.late_user;
  GUISE_TRY(create_devices(root.get(), plan_devices(linux.devices, dev_is_bind), in_userns));
  if (!dev_is_bind) GUISE_TRY(create_dev_symlinks(root.get(), has_devpts), "creating /dev symlinks");
  // The terminal's mountpoint, made while /dev may still be written (runc makes it then too).
  if (in.proc.terminal && !dev_is_bind)
    GUISE_TRY(make_mount_target(root.get(), "/dev/console", true), "process.terminal");
  return root;
}

Result<void> run_creation_hooks(Init& in, int root) {
  if (in.c.run_parent_hooks) {
    GUISE_TRY(in.parent.send(Msg::kRunHooks));
    GUISE_TRY(in.parent.expect(Msg::kHooksDone));
  }
  if (!in.spec.hooks || in.spec.hooks->create_container.empty()) return Ok();
  // In the container's root, as runc runs them.
  if (::fchdir(root) < 0) return sys::sys_error("chdir to the rootfs for the createContainer hooks", in.c.rootfs);
  return run_hooks(in.spec.hooks->create_container, "createContainer", in.state_json);
}

RootEntry root_entry(const Init& in) {
  if (shares_mount_namespace(in)) return RootEntry::kChroot;
  return in.c.no_pivot ? RootEntry::kMove : RootEntry::kPivot;
}

Result<void> configure_system(Init& in) {
  const auto& linux = *in.spec.linux;
  // Sysctls go in before /proc/sys is made read-only, as runc orders it.
  GUISE_TRY(set_hostname(in.spec.hostname, in.spec.domainname));
  if (const oci::Namespace* net = in.spec.find_namespace(oci::NamespaceType::kNetwork); net && net->path.empty())
    GUISE_TRY(bring_up_loopback());
  if (!linux.sysctl.empty()) GUISE_TRY(apply_sysctl(in.procfs, linux.sysctl));
  GUISE_TRY(mask_paths(linux.masked_paths), "linux.maskedPaths");
  GUISE_TRY(make_paths_readonly(linux.readonly_paths), "linux.readonlyPaths");
  GUISE_TRY(make_readonly(in.readonly_later), "mounts");
  in.readonly_later.clear();
  GUISE_TRY(finish_root(linux.rootfs_propagation, in.spec.root->readonly));
  return Ok();
}

Result<void> configure_process(Init& in) {
  const auto& p = in.proc;
  GUISE_TRY(apply_rlimits(p.rlimits));
  if (p.oom_score_adj) GUISE_TRY(apply_oom_score_adj(in.procfs, *p.oom_score_adj), "process.oomScoreAdj");
  if (in.spec.linux->personality) GUISE_TRY(apply_personality(*in.spec.linux->personality), "linux.personality");
  if (p.io_priority) GUISE_TRY(apply_io_priority(*p.io_priority));
  if (p.scheduler) GUISE_TRY(apply_scheduler(*p.scheduler));
  if (p.terminal) {
    Pty pty = GUISE_TRY(open_pty(p.console_size), "process.terminal");
    GUISE_TRY(mount_console(pty.peer.get()), "process.terminal");
    GUISE_TRY(give_terminal_to(pty.peer.get(), p.user.uid), "process.terminal");
    GUISE_TRY(in.parent.send(Msg::kPtyMaster, {}, {pty.master.get()}));
    GUISE_TRY(become_terminal_owner(pty.peer.get()), "process.terminal");
  } else {
    GUISE_TRY(give_stdio_to(p.user.uid), "process.user");
    // A session of its own either way, as runc's init: nothing of the caller's session
    // (its terminal's hangup) reaches the container, and criu can dump the tree whole.
    if (::setsid() < 0) return sys::sys_error("setsid");
  }
  if (!in.c.no_new_keyring) GUISE_TRY(join_container_keyring(state_field(in.state_json, "id")));
  return Ok();
}

// Without no_new_privileges, loading the filter needs CAP_SYS_ADMIN, which the
// configured sets may not keep: it is held past the user switch, and the exec drops
// it (holding_for_seccomp), so the filter still comes last.
Result<void> become_container_user(Init& in) {
  const auto& p = in.proc;
  bool hold = in.seccomp.active() && !p.no_new_privileges;
  return become_user_at(p.user, hold ? holding_for_seccomp(in.caps) : in.caps, p.cwd);
}

// Where the trampoline reports a failed exec (exec_trampoline.h): for `start`, a dup
// of exec.done, which it watches (hung up when the program is exec'd, the errno when
// that fails); for `run`, a pipe to the runtime. Not close-on-exec, above the preserved
// fds; -1 where no fd fits.
Result<int> open_exec_report(Init& in) {
  int lowest = 3 + in.c.preserve_fds;
  if (in.c.start_at_once) return ExecTrampoline::send_report_pipe(in.parent, lowest);
  if (in.c.exec_done < 0) return -1;
  return ExecTrampoline::report_fd(in.c.exec_done, lowest);
}

// The last steps of the setup, in this order: the label applies at exec; the filter
// comes after everything the runtime itself still does but the wait for `start` and
// the startContainer hooks, which run under it.
Result<void> confine(Init& in) {
  if (in.proc.no_new_privileges) GUISE_TRY(set_no_new_privileges());
  GUISE_TRY(close_fds_on_exec(in.c.preserve_fds));
  // An LSM label takes effect at the next exec and must land on the program itself.
  if (!ExecLabel::wanted(in.proc)) in.trampoline = ExecTrampoline::make();
  // After the close-on-exec sweep: this one must survive the exec into the trampoline.
  if (in.trampoline.valid() && ExecTrampoline::can_report(in.spec.linux->seccomp))
    in.exec_report = GUISE_TRY(open_exec_report(in));
  GUISE_TRY(in.label.apply());
  GUISE_TRY(in.seccomp.install(in.proc.no_new_privileges, in.state_json, 0));
  return Ok();
}

// Blocks until `start` writes a byte to exec.fifo. The fd is open for writing too,
// so the read waits for the byte instead of finding no writer: under the seccomp
// filter, this takes read alone (runc's init takes open and write).
Result<void> wait_for_start(int fifo) {
  char byte;
  for (;;) {
    ssize_t r = ::read(fifo, &byte, 1);
    if (r == 1) return Ok();
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return sys::sys_error("read exec.fifo");
    return sys::user_error("exec.fifo: end of file while waiting for start");
  }
}

Result<void> build_container(Init& in) {
  for (int fd : in.c.close_in_child) ::close(fd);
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // a runtime killed mid-create takes its half-made child along
  if (::chdir(in.c.bundle.c_str()) < 0) return sys::sys_error("chdir to bundle", in.c.bundle);
  GUISE_TRY(prepare_confinement(in), "preparing confinement");
  // The runtime works alongside (its cgroup, limits and state), and this process takes
  // each of its messages where it is first needed (take()).
  if (in.c.ns.new_user && !in.c.ns.late_user) GUISE_TRY(take(in, Msg::kIdsMapped));
  GUISE_TRY(enter_namespaces(in), "entering namespaces");
  open_private_procfs(in);
  sys::Fd root = GUISE_TRY(prepare_rootfs(in), "preparing rootfs");
  GUISE_TRY(wait_for_runtime(in));
  GUISE_TRY(run_creation_hooks(in, root.get()));
  GUISE_TRY(enter_rootfs(root.get(), root_entry(in), in.c.rootfs), "entering rootfs");
  root.reset();
  GUISE_TRY(open_process_procfs(in), "opening procfs");
  GUISE_TRY(configure_system(in), "configuring the container");
  GUISE_TRY(configure_process(in), "configuring the process");
  GUISE_TRY(become_container_user(in));
  auto env = with_home(in.proc.env, in.proc.user.uid);
  std::string program = GUISE_TRY(resolve_executable(in.proc.args.front(), env), "process.args");
  ::prctl(PR_SET_PDEATHSIG, 0);  // set up: from here the container outlives `create`
  if (sys::log_enabled(sys::LogLevel::kDebug))
    sys::debug("container init: set up in " + in.c.rootfs + "; the process will be " + program);
  // As runc orders it, the filter is in before `start` is awaited, and the
  // startContainer hooks run under it. Both report ready before the filter, so a
  // profile that denies the channel's sendmsg still starts. `create` hears of a filter
  // that cannot be loaded before it returns (it waits for this end to close); `run`
  // goes straight on, its channel held open to the exec (close-on-exec) to tell it
  // when the exec happened, and carries an error (and, after kReady, the exec report)
  // until then. After `start` an error is the container's.
  if (in.c.start_at_once) {
    GUISE_TRY(in.parent.send(Msg::kReady));
    GUISE_TRY(confine(in));
  } else {
    GUISE_TRY(in.parent.send(Msg::kReady));
    GUISE_TRY(confine(in));  // a failure still reaches `create`: the channel is open
    in.parent.close();
    GUISE_TRY(wait_for_start(in.c.start_fifo));
    ::close(in.c.start_fifo);
  }
  in.started = !in.c.start_at_once;
  if (in.spec.hooks) GUISE_TRY(run_hooks(in.spec.hooks->start_container, "startContainer", in.state_json));
  return exec_process(program, in.proc.args, env, in.trampoline.fd(), in.exec_report);
}

}  // namespace

void container_init(const InitConfig& config, Channel& parent) {
  route_log_to(parent);
  Init in{config, *config.spec, *config.spec->process, parent, {}};
  Result<void> r = build_container(in);
  // Once started, as after runc's `start`, a failure is the container's to report: on
  // its stderr, with exit status 127.
  if (!in.started && parent.fd() >= 0) {
    (void)parent.send_error(r.error());
  } else {
    sys::log(sys::LogLevel::kError, r.error().message());
  }
  ::_exit(127);
}

}  // namespace guise::linux
