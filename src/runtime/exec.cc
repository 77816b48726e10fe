// exec: a new process in a running container's namespaces, cgroup and confinement.
// The parent's half: checks and prepares everything it can from the host, clones the
// child (linux/exec_child.h) and answers it until it has exec'd.
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroups/cgroup.h"
#include "linux/capabilities.h"
#include "linux/channel.h"
#include "linux/exec_child.h"
#include "linux/exec_trampoline.h"
#include "linux/lsm_labels.h"
#include "linux/namespaces.h"
#include "linux/seccomp_setup.h"
#include "runtime/proc_view.h"
#include "linux/shared_root.h"
#include "linux/terminal.h"
#include "oci/parse.h"
#include "runtime/runtime.h"
#include "runtime/state.h"
#include "runtime/sub_cgroup.h"
#include "sys/fault.h"
#include "sys/log.h"
#include "sys/syscalls.h"

namespace guise::runtime {

namespace {

// Until exec succeeds the child may send its terminal, the trampoline's report pipe or
// an error; the end of stream (its end is close-on-exec) means it has exec'd the
// trampoline, whose report then says whether the program was exec'd.
Result<sys::Fd> await_exec(linux::Channel& ch, sys::ChildProcess& child, const oci::Process& proc,
                           const ExecOptions& o) {
  sys::Fd report, master;
  for (;;) {
    auto f = GUISE_TRY(ch.recv_or_end());
    if (!f) break;
    linux::Frame& frame = *f;
    if (frame.type == linux::Msg::kExecReport && frame.fds.size() == 1) {
      report = std::move(frame.fds[0]);
    } else if (frame.type == linux::Msg::kError) {
      (void)child.wait();
      return std::move(frame.error);
    } else if (frame.type == linux::Msg::kPtyMaster && !frame.fds.empty()) {
      if (!o.console_socket.empty())
        GUISE_TRY(linux::send_to_console_socket(o.console_socket, frame.fds[0].get()), "console socket");
      else if (o.keep_terminal_master)
        master = std::move(frame.fds[0]);
    }
  }
  int err = report.valid() ? linux::ExecTrampoline::read_report(report.get()) : 0;
  if (err) {
    (void)child.wait();
    return sys::sys_error_n(err, "exec", proc.args.front());
  }
  return master;
}

// The container's cgroup, or the sub-cgroups asked for: each must exist (opening
// a missing cgroup2 directory would leave the process in the runtime's own cgroup).
Result<std::map<std::string, std::string>> joined_cgroup(const ContainerState& st, const ExecOptions& o) {
  if (o.sub_cgroups.empty()) return st.cgroup_paths;
  auto paths = GUISE_TRY(sub_cgroup_paths(st.cgroup_paths, o.sub_cgroups));
  for (const auto& [key, dir] : paths) {
    struct stat sb {};
    if (::stat(dir.c_str(), &sb) < 0) return sys::sys_error("sub-cgroup", dir);
    if (!S_ISDIR(sb.st_mode)) return sys::sys_error_n(ENOTDIR, "sub-cgroup", dir);
  }
  return paths;
}

}  // namespace

Result<ExecStarted> exec_process(const Globals& g, const std::string& id, const oci::Process& proc,
                                 const ExecOptions& o) {
  ContainerState st;
  oci::Spec spec;
  {
    auto [dir, state, status] = GUISE_TRY(open_container(g.root, id));
    if (status == Status::kStopped) return sys::wrong_state("cannot exec in a stopped container");
    if (status == Status::kPaused && !o.ignore_paused) return sys::wrong_state("cannot exec in a paused container");
    auto text = GUISE_TRY(sys::read_file(dir.config_path()));
    spec = GUISE_TRY(oci::parse_spec(text, "config.json"));
    route_exec_sysinfo(spec, dir.path());
    st = std::move(state);
  }
  if (proc.args.empty()) return sys::user_error("process.args: a command to run is required");
  if (proc.terminal && o.console_socket.empty() && !o.keep_terminal_master)
    return sys::user_error("process.terminal is true: a console socket is required to receive the terminal");
  // Everything that can be checked or read from the host is, before the clone.
  linux::CapSets caps = proc.capabilities ? GUISE_TRY(linux::plan_capabilities(*proc.capabilities, "process.capabilities"))
                                          : linux::CapSets{};
  GUISE_TRY(linux::check_lsm(proc, ""));
  linux::PreparedSeccomp seccomp = GUISE_TRY(linux::PreparedSeccomp::prepare(
      spec.linux ? spec.linux->seccomp : std::nullopt, linux::kSeccompCacheDir));
  std::string state_text = state_json(st, Status::kRunning, false);
  sys::Fd pidfd = GUISE_TRY(sys::pidfd_open(st.pid));
  uint64_t join = linux::namespaces_to_join(st.pid);
  // Without a mount namespace of its own the container's root is its init's chroot,
  // which joining namespaces does not give: the child takes it from the init.
  sys::Fd container_root;
  if (!linux::has_own_mount_namespace(spec)) {
    std::string path = "/proc/" + std::to_string(st.pid) + "/root";
    container_root.reset(::open(path.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!container_root.valid()) return sys::sys_error("open the container's root", path);
  }
  auto cgroup = GUISE_TRY(cgroups::open(GUISE_TRY(joined_cgroup(st, o))));
  cgroups::TaskFiles tasks = GUISE_TRY(cgroup->open_task_files(), "joining the container's cgroup");

  GUISE_FAULT_POINT("exec: cgroup joined");
  auto [parent_end, child_end] = GUISE_TRY(linux::Channel::pair());
  int child_pidfd = -1;
  pid_t pid;
  {
    auto scope = GUISE_TRY(linux::ChildNamespaceScope::join_process(pidfd.get(), join));
    sys::CloneArgs args;
    args.flags = CLONE_PIDFD;
    args.pidfd = &child_pidfd;
    if (cgroup->clone_into_fd() >= 0) {
      args.flags |= CLONE_INTO_CGROUP;
      args.cgroup_fd = cgroup->clone_into_fd();
    }
    pid = GUISE_TRY(sys::clone3(args), "starting exec process");
    if (pid == 0) {
      parent_end.close();
      linux::ExecChildConfig c{proc, pidfd.get(), join, o.preserve_fds, st.id, state_text, seccomp, caps, tasks,
                               linux::ExecTrampoline::can_report(spec.linux ? spec.linux->seccomp : std::nullopt),
                               {o.stdio.in, o.stdio.out, o.stdio.err}, container_root.get()};
      linux::exec_child(c, child_end);
    }
  }
  sys::ChildProcess child(pid, sys::Fd(child_pidfd));
  sys::debug("exec: " + proc.args.front() + " in container " + st.id + " is pid " + std::to_string(pid) +
             "; waiting for it to exec");
  seccomp = linux::PreparedSeccomp();  // the listener's socket is the child's alone now
  child_end.close();
  tasks = cgroups::TaskFiles();  // the child joins through its copies
  GUISE_FAULT_POINT("exec: process cloned");
  GUISE_TRY(parent_end.send(linux::Msg::kIdsMapped, std::to_string(pid)));
  ExecStarted started;
  started.terminal_master = GUISE_TRY(await_exec(parent_end, child, proc, o));
  GUISE_FAULT_POINT("exec: process started");
  GUISE_TRY(write_pid_file(o.pid_file, pid));
  started.process = std::move(child);
  return started;
}

}  // namespace guise::runtime
