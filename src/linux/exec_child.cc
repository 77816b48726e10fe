#include "linux/exec_child.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>

#include "linux/exec_trampoline.h"
#include "linux/keyring.h"
#include "linux/lsm_labels.h"
#include "linux/process.h"
#include "linux/procfs.h"
#include "linux/terminal.h"
#include "sys/syscalls.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

namespace guise::linux {

namespace {

// The namespaces of the container init that differ from ours: those are joined.
uint64_t namespaces_to_join_impl(pid_t pid) {
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

// Done before joining anything, through the host's view: the process's own
// limits and the attr file its label goes to.
Result<ExecLabel> prepare_own_attributes(const oci::Process& p) {
  GUISE_TRY(apply_rlimits(p.rlimits));
  if (!p.oom_score_adj && !ExecLabel::wanted(p)) return ExecLabel();
  auto procfs = ProcFs::open_private();
  if (p.oom_score_adj) {
    // Without a private procfs (an unprivileged runtime), the host's /proc: this
    // process has not joined the container's mount namespace yet.
    auto r = procfs.ok() ? apply_oom_score_adj(procfs.value(), *p.oom_score_adj)
                         : sys::write_file("/proc/self/oom_score_adj", std::to_string(*p.oom_score_adj));
    if (!r.ok()) return std::move(r.error()).with_context("process.oomScoreAdj");
  }
  if (!ExecLabel::wanted(p)) return ExecLabel();
  if (!procfs.ok()) return std::move(procfs.error()).with_context("opening procfs");
  return ExecLabel::prepare(p, procfs.value());
}

Result<void> exec_steps(const ExecChildConfig& c, Channel& parent) {
  GUISE_TRY(cgroups::enter_self(c.cgroup_tasks), "joining the container's cgroup");
  ::prctl(PR_SET_DUMPABLE, 0);  // the container must not reach the runtime binary via /proc/PID/exe
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  Frame go = GUISE_TRY(parent.expect(Msg::kIdsMapped));
  pid_t host_pid = static_cast<pid_t>(std::atol(go.text.c_str()));
  const auto& p = c.proc;
  ExecLabel label = GUISE_TRY(prepare_own_attributes(p));
  uint64_t flags = c.join_flags & ~static_cast<uint64_t>(CLONE_NEWPID | CLONE_NEWTIME);
  if (flags && ::setns(c.container_pidfd, static_cast<int>(flags)) < 0)
    return sys::sys_error("join the container's namespaces");
  ::close(c.container_pidfd);
  if (c.container_root >= 0) {
    if (::fchdir(c.container_root) < 0 || ::chroot(".") < 0) return sys::sys_error("enter the container's root");
    ::close(c.container_root);
  }
  // Not the caller's session keyring: the container's (runc's "_ses.<id>").
  GUISE_TRY(join_container_keyring(c.container_id));
  if (p.terminal) {
    Pty pty = GUISE_TRY(open_pty(p.console_size), "process.terminal");
    GUISE_TRY(give_terminal_to(pty.peer.get(), p.user.uid), "process.terminal");
    GUISE_TRY(parent.send(Msg::kPtyMaster, {}, {pty.master.get()}));
    GUISE_TRY(become_terminal_owner(pty.peer.get()));
  } else {
    for (int i = 0; i < 3; ++i)
      if (c.stdio[i] >= 0 && c.stdio[i] != i && ::dup2(c.stdio[i], i) < 0) return sys::sys_error("dup2", "stdio");
    GUISE_TRY(give_stdio_to(p.user.uid), "process.user");
    // Not a session leader is fine; the process just shares the caller's session.
    (void)::setsid();
  }
  // Without no_new_privileges, CAP_SYS_ADMIN is held to load the filter; exec drops it.
  bool hold = c.seccomp.active() && !p.no_new_privileges;
  GUISE_TRY(become_user_at(p.user, hold ? holding_for_seccomp(c.caps) : c.caps, p.cwd));
  auto env = with_home(p.env, p.user.uid);
  std::string program = GUISE_TRY(resolve_executable(p.args.front(), env));
  ::prctl(PR_SET_PDEATHSIG, 0);
  if (p.no_new_privileges) GUISE_TRY(set_no_new_privileges());
  GUISE_TRY(close_fds_on_exec(c.preserve_fds));
  // CVE-2019-5736: never exec the program while /proc/self/exe is the runtime binary.
  ExecTrampoline trampoline = ExecLabel::wanted(p) ? ExecTrampoline() : ExecTrampoline::make();
  int report = trampoline.valid() && c.report_exec
                   ? GUISE_TRY(ExecTrampoline::send_report_pipe(parent, 3 + c.preserve_fds))
                   : -1;
  GUISE_TRY(label.apply());
  GUISE_TRY(c.seccomp.install(p.no_new_privileges, c.state_json, host_pid));
  return exec_process(program, p.args, env, trampoline.fd(), report);
}

}  // namespace

uint64_t namespaces_to_join(pid_t pid) { return namespaces_to_join_impl(pid); }

void exec_child(const ExecChildConfig& c, Channel& parent) {
  route_log_to(parent);
  Error e = exec_steps(c, parent).error();
  (void)parent.send_error(e);
  ::_exit(127);
}

}  // namespace guise::linux
