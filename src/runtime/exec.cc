#include "runtime/exec.h"
#include "sys/syscalls.h"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <cstdlib>

#include "cgroups/cgroup.h"
#include "linux/capabilities.h"
#include "linux/channel.h"
#include "linux/exec_trampoline.h"
#include "linux/keyring.h"
#include "linux/lsm_labels.h"
#include "linux/namespaces.h"
#include "linux/process.h"
#include "linux/procfs.h"
#include "linux/seccomp_setup.h"
#include "linux/terminal.h"
#include "oci/parse.h"
#include "runtime/run.h"
#include "sys/syscalls.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

namespace guise::runtime {

namespace {

Result<oci::Process> build_process(const oci::Spec& spec, const ExecOptions& o) {
  if (!o.process_file.empty()) {
    auto text = GUISE_TRY(sys::read_file(o.process_file), "--process");
    return oci::parse_process(text, o.process_file);
  }
  if (o.args.empty()) return sys::user_error("exec: a command to run is required (args or --process)");
  oci::Process p = *spec.process;
  p.args = o.args;
  p.terminal = o.tty;
  for (const auto& e : o.env) {
    auto key = e.substr(0, e.find('='));
    std::erase_if(p.env, [&](const std::string& x) { return x.substr(0, x.find('=')) == key; });
    p.env.push_back(e);
  }
  if (!o.cwd.empty()) p.cwd = o.cwd;
  if (!o.user.empty()) {
    auto colon = o.user.find(':');
    char* end = nullptr;
    std::string uid = o.user.substr(0, colon);
    p.user.uid = static_cast<uint32_t>(std::strtoul(uid.c_str(), &end, 10));
    if (uid.empty() || *end) return sys::user_error("--user: expected UID[:GID], got \"" + o.user + "\"");
    if (colon != std::string::npos) {
      std::string gid = o.user.substr(colon + 1);
      p.user.gid = static_cast<uint32_t>(std::strtoul(gid.c_str(), &end, 10));
      if (gid.empty() || *end) return sys::user_error("--user: expected UID[:GID], got \"" + o.user + "\"");
    }
  }
  if (!o.additional_gids.empty()) p.user.additional_gids = o.additional_gids;
  if (!o.caps.empty()) {
    if (!p.capabilities) p.capabilities.emplace();
    for (const auto& c : o.caps) {
      std::string name = c.rfind("CAP_", 0) == 0 ? c : "CAP_" + c;
      for (auto& ch : name) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
      if (!linux::capability_number(name)) return sys::user_error("--cap: unknown capability \"" + c + "\"");
      // As runc 1.1.5 adds them: not to inheritable (CVE-2022-29162), so ambient
      // only takes where the process's inheritable set already has the capability.
      for (auto* set : {&p.capabilities->bounding, &p.capabilities->effective, &p.capabilities->permitted,
                        &p.capabilities->ambient})
        set->push_back(name);
    }
  }
  if (o.no_new_privs) p.no_new_privileges = true;
  // Applied, or refused by name where the LSM is not enabled: never dropped.
  if (!o.apparmor_profile.empty()) p.apparmor_profile = o.apparmor_profile;
  if (!o.process_label.empty()) p.selinux_label = o.process_label;
  return p;
}

// The namespaces of the container init that differ from ours: those are joined.
uint64_t namespaces_to_join(pid_t pid) {
  static const std::pair<const char*, uint64_t> kinds[] = {
      {"user", CLONE_NEWUSER}, {"mnt", CLONE_NEWNS},   {"net", CLONE_NEWNET},       {"ipc", CLONE_NEWIPC},
      {"uts", CLONE_NEWUTS},   {"pid", CLONE_NEWPID}, {"cgroup", CLONE_NEWCGROUP}, {"time", CLONE_NEWTIME}};
  uint64_t flags = 0;
  for (const auto& [name, flag] : kinds) {
    struct stat theirs {}, ours {};
    std::string path = "/proc/" + std::to_string(pid) + "/ns/" + name;
    if (::stat(path.c_str(), &theirs) < 0) continue;
    if (::stat((std::string("/proc/self/ns/") + name).c_str(), &ours) < 0) continue;
    if (theirs.st_ino != ours.st_ino || theirs.st_dev != ours.st_dev) flags |= flag;
  }
  return flags;
}

struct ExecChild {
  const oci::Process& proc;
  int pidfd;
  uint64_t join_flags;
  int preserve_fds;
  const std::string& container_id;
  const std::string& state_json;  // the container's, for a seccomp listener
  linux::PreparedSeccomp& seccomp;
  const linux::CapSets& caps;
  cgroups::TaskFiles& cgroup_tasks;
  bool report_exec;  // the seccomp profile lets the trampoline report (exec_trampoline.h)
};

// Done before joining anything, through the host's view: the process's own
// limits and the attr file its label goes to.
Result<linux::ExecLabel> prepare_own_attributes(const oci::Process& p) {
  GUISE_TRY(linux::apply_rlimits(p.rlimits));
  if (!p.oom_score_adj && !linux::ExecLabel::wanted(p)) return linux::ExecLabel();
  auto procfs = linux::ProcFs::open_private();
  if (p.oom_score_adj) {
    // Without a private procfs (an unprivileged runtime), the host's /proc: this
    // process has not joined the container's mount namespace yet.
    auto r = procfs.ok() ? linux::apply_oom_score_adj(procfs.value(), *p.oom_score_adj)
                         : sys::write_file("/proc/self/oom_score_adj", std::to_string(*p.oom_score_adj));
    if (!r.ok()) return std::move(r.error()).with_context("process.oomScoreAdj");
  }
  if (!linux::ExecLabel::wanted(p)) return linux::ExecLabel();
  if (!procfs.ok()) return std::move(procfs.error()).with_context("opening procfs");
  return linux::ExecLabel::prepare(p, procfs.value());
}

Result<void> exec_child(const ExecChild& c, linux::Channel& parent) {
  GUISE_TRY(cgroups::enter_self(c.cgroup_tasks), "joining the container's cgroup");
  ::prctl(PR_SET_DUMPABLE, 0);  // the container must not reach the runtime binary via /proc/PID/exe
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  linux::Frame go = GUISE_TRY(parent.expect(linux::Msg::kIdsMapped));
  pid_t host_pid = static_cast<pid_t>(std::atol(go.text.c_str()));
  const auto& p = c.proc;
  linux::ExecLabel label = GUISE_TRY(prepare_own_attributes(p));
  uint64_t flags = c.join_flags & ~static_cast<uint64_t>(CLONE_NEWPID | CLONE_NEWTIME);
  if (flags && ::setns(c.pidfd, static_cast<int>(flags)) < 0) return sys::sys_error("join the container's namespaces");
  ::close(c.pidfd);
  // Not the caller's session keyring: the container's (runc's "_ses.<id>").
  GUISE_TRY(linux::join_container_keyring(c.container_id));
  if (p.terminal) {
    linux::Pty pty = GUISE_TRY(linux::open_pty(p.console_size), "process.terminal");
    GUISE_TRY(parent.send(linux::Msg::kPtyMaster, {}, {pty.master.get()}));
    GUISE_TRY(linux::become_terminal_owner(pty.peer.get()));
  } else if (::setsid() < 0) {
    // Not a session leader is fine; the process just shares the caller's session.
  }
  // Without no_new_privileges, CAP_SYS_ADMIN is held to load the filter; exec drops it.
  bool hold = c.seccomp.active() && !p.no_new_privileges;
  GUISE_TRY(linux::become_user(p.user, hold ? linux::holding_for_seccomp(c.caps) : c.caps), "process.user");
  GUISE_TRY(linux::enter_cwd(p.cwd));
  auto env = linux::with_home(p.env, p.user.uid);
  std::string program = GUISE_TRY(linux::resolve_executable(p.args.front(), env));
  ::prctl(PR_SET_PDEATHSIG, 0);
  if (p.no_new_privileges) GUISE_TRY(linux::set_no_new_privileges());
  GUISE_TRY(linux::close_fds_on_exec(c.preserve_fds));
  // CVE-2019-5736: never exec the program while /proc/self/exe is the runtime binary.
  linux::ExecTrampoline trampoline = linux::ExecLabel::wanted(p) ? linux::ExecTrampoline() : linux::ExecTrampoline::make();
  int report = trampoline.valid() && c.report_exec
                   ? GUISE_TRY(linux::ExecTrampoline::send_report_pipe(parent, 3 + c.preserve_fds))
                   : -1;
  GUISE_TRY(label.apply());
  GUISE_TRY(c.seccomp.install(p.no_new_privileges, c.state_json, host_pid));
  return linux::exec_process(program, p.args, env, trampoline.fd(), report);
}

// Restores the caller's pid/time namespace for children once the clone is made.
class ForChildren {
 public:
  ForChildren(int pidfd, uint64_t flags) {
    if (flags & CLONE_NEWPID) own_pid_.reset(::open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC));
    if (flags & CLONE_NEWTIME) own_time_.reset(::open("/proc/self/ns/time", O_RDONLY | O_CLOEXEC));
    uint64_t f = flags & (CLONE_NEWPID | CLONE_NEWTIME);
    ok_ = f == 0 || ::setns(pidfd, static_cast<int>(f)) == 0;
  }
  ~ForChildren() {
    if (own_pid_.valid()) (void)::setns(own_pid_.get(), CLONE_NEWPID);
    if (own_time_.valid()) (void)::setns(own_time_.get(), CLONE_NEWTIME);
  }
  bool ok() const { return ok_; }

 private:
  sys::Fd own_pid_, own_time_;
  bool ok_ = false;
};

}  // namespace

Result<int> exec_in_container(const Globals& g, const ExecOptions& o) {
  ContainerState st;
  oci::Spec spec;
  {
    StateDir dir = GUISE_TRY(StateDir::open(g.root, o.id));
    st = GUISE_TRY(dir.load());
    Status status = current_status(st, dir.path());
    if (status == Status::kStopped) return sys::user_error("cannot exec in a stopped container");
    if (status == Status::kPaused) return sys::user_error("cannot exec in a paused container");
    auto text = GUISE_TRY(sys::read_file(dir.config_path()));
    spec = GUISE_TRY(oci::parse_spec(text, "config.json"));
  }
  oci::Process proc = GUISE_TRY(build_process(spec, o));
  if (proc.terminal && o.console_socket.empty() && o.detach)
    return sys::user_error("exec --tty --detach needs --console-socket to receive the terminal");
  // Everything that can be checked or read from the host is, before the clone.
  linux::CapSets caps = proc.capabilities ? GUISE_TRY(linux::plan_capabilities(*proc.capabilities, "process.capabilities"))
                                          : linux::CapSets{};
  GUISE_TRY(linux::check_lsm(proc, ""));
  linux::PreparedSeccomp seccomp = GUISE_TRY(linux::PreparedSeccomp::prepare(
      spec.linux ? spec.linux->seccomp : std::nullopt, linux::kSeccompCacheDir));
  std::string state_text = state_json(st, Status::kRunning, false);
  sys::Fd pidfd = GUISE_TRY(sys::pidfd_open(st.pid));
  uint64_t join = namespaces_to_join(st.pid);
  auto cgroup = GUISE_TRY(cgroups::open(st.cgroup_paths));
  cgroups::TaskFiles tasks = GUISE_TRY(cgroup->open_task_files(), "joining the container's cgroup");

  auto [parent_end, child_end] = GUISE_TRY(linux::Channel::pair());
  int child_pidfd = -1;
  pid_t pid;
  {
    ForChildren scope(pidfd.get(), join);
    if (!scope.ok()) return sys::sys_error("join the container's pid namespace");
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
      ExecChild c{proc, pidfd.get(), join, o.preserve_fds, st.id, state_text, seccomp, caps, tasks,
                  linux::ExecTrampoline::can_report(spec.linux ? spec.linux->seccomp : std::nullopt)};
      Error e = exec_child(c, child_end).error();
      (void)child_end.send_error(e);
      ::_exit(127);
    }
  }
  seccomp = linux::PreparedSeccomp();  // the listener's socket is the child's alone now
  Created created;
  created.pid = pid;
  created.pidfd.reset(child_pidfd);
  child_end.close();
  auto fail = [&](Error e) -> Result<int> {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    return e;
  };
  tasks = cgroups::TaskFiles();  // the child joins through its copies
  if (auto r = parent_end.send(linux::Msg::kIdsMapped, std::to_string(pid)); !r.ok()) return fail(std::move(r.error()));
  // Until exec succeeds the child may send its terminal, the trampoline's report pipe
  // or an error; the end of stream (its end is close-on-exec) means it has exec'd the
  // trampoline, whose report then says whether the program was exec'd.
  sys::Fd report;
  for (;;) {
    auto f = parent_end.recv_or_end();
    if (!f.ok()) return fail(std::move(f.error()));
    if (!f.value()) {
      int err = report.valid() ? linux::ExecTrampoline::read_report(report.get()) : 0;
      if (err) {
        ::waitpid(pid, nullptr, 0);
        return sys::sys_error_n(err, "exec", proc.args.front());
      }
      break;
    }
    if (f.value()->type == linux::Msg::kExecReport && f.value()->fds.size() == 1) {
      report = std::move(f.value()->fds[0]);
      continue;
    }
    linux::Frame& frame = *f.value();
    if (frame.type == linux::Msg::kError) {
      int status = 0;
      ::waitpid(pid, &status, 0);
      return std::move(frame.error);
    }
    if (frame.type == linux::Msg::kPtyMaster && !frame.fds.empty()) {
      if (!o.console_socket.empty()) {
        auto r = linux::send_to_console_socket(o.console_socket, frame.fds[0].get());
        if (!r.ok()) return fail(std::move(r.error()));
      } else {
        created.terminal_master = std::move(frame.fds[0]);
      }
    }
  }
  if (!o.pid_file.empty()) {
    std::string tmp = o.pid_file + ".guise-tmp";
    GUISE_TRY(sys::write_file(tmp, std::to_string(pid), O_CREAT | O_TRUNC, 0644), "--pid-file");
    if (::rename(tmp.c_str(), o.pid_file.c_str()) < 0) return sys::sys_error("--pid-file: rename to", o.pid_file);
  }
  if (o.detach) return 0;
  return supervise(created);
}

}  // namespace guise::runtime
