// start, state, list, kill, delete, ps, pause and resume.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>

#include "cgroups/cgroup.h"
#include "linux/exec_trampoline.h"
#include "linux/hooks.h"
#include "linux/shared_root.h"
#include "oci/parse.h"
#include "runtime/container_cgroup.h"
#include "runtime/runtime.h"
#include "runtime/proc_view.h"
#include "runtime/state.h"
#include "sys/fault.h"
#include "sys/log.h"
#include "sys/syscalls.h"

namespace guise::runtime {

namespace {

bool init_alive(const ContainerState& s) {
  if (s.pid <= 0) return false;
  auto text = sys::read_file("/proc/" + std::to_string(s.pid) + "/stat");
  if (!text.ok()) return false;
  auto close = text.value().rfind(')');
  if (close == std::string::npos || close + 2 >= text.value().size()) return false;
  char state = text.value()[close + 2];
  if (state == 'Z' || state == 'X') return false;
  auto start = sys::process_start_time(s.pid);
  return start.ok() && (s.pid_start_time == 0 || start.value() == s.pid_start_time);
}

Result<oci::Spec> stored_spec(const StateDir& dir) {
  auto text = GUISE_TRY(sys::read_file(dir.config_path()));
  return oci::parse_spec(text, "config.json");
}

void warn(const Error& e) { sys::warn(e.message()); }

// The init is gone: what is left in its cgroup and the cgroup itself, the poststop
// hooks, the state directory.
Result<void> remove_stopped(StateDir& dir, const ContainerState& st, cgroups::Cgroup* cg, const oci::Spec* spec) {
  GUISE_FAULT_POINT("delete: init gone");
  Result<void> destroyed;
  if (cg) destroyed = cg->destroy();
  GUISE_FAULT_POINT("delete: cgroup destroyed");
  if (st.rootfs_mount) {
    const oci::Namespace* mnt = spec ? spec->find_namespace(oci::NamespaceType::kMount) : nullptr;
    auto r = linux::detach_shared_root(mnt ? mnt->path : std::string(), st.rootfs, st.rootfs_mount);
    if (!r.ok()) warn(r.error());
  }
  if (spec && spec->hooks) {
    auto r = linux::run_hooks(spec->hooks->poststop, "poststop", state_json(st, Status::kStopped, false));
    if (!r.ok()) warn(r.error());
  }
  remove_proc_view(dir.path());
  GUISE_FAULT_POINT("delete: state to remove");
  dir.remove();
  return destroyed;
}

// Waits up to `ms` for the init to be gone.
void wait_gone(const ContainerState& s, int ms) {
  auto pidfd = sys::pidfd_open(s.pid);
  if (!pidfd.ok()) return;
  struct pollfd p {pidfd.value().get(), POLLIN, 0};
  ::poll(&p, 1, ms);
}

}  // namespace

Status current_status(const ContainerState& s, const std::string& state_dir) {
  if (!init_alive(s)) return Status::kStopped;
  if (::access((state_dir + "/exec.fifo").c_str(), F_OK) == 0) return Status::kCreated;
  auto cg = container_cgroup(s);
  if (cg.ok()) {
    auto frozen = cg.value()->frozen();
    if (frozen.ok() && frozen.value()) return Status::kPaused;
  }
  return Status::kRunning;
}

Result<Opened> open_container(const std::string& root, const std::string& id) {
  StateDir dir = GUISE_TRY(StateDir::open(root, id));
  ContainerState st = GUISE_TRY(dir.load());
  Status status = current_status(st, dir.path());
  return Opened{std::move(dir), std::move(st), status};
}

Result<void> start_container(const Globals& g, const std::string& id) {
  auto [dir, st, status] = GUISE_TRY(open_container(g.root, id));
  if (status == Status::kStopped) return sys::wrong_state("cannot start a container that has stopped");
  if (status != Status::kCreated) return sys::wrong_state("cannot start an already running container");
  sys::debug("start: container " + id + ": releasing its init, pid " + std::to_string(st.pid) + ", through exec.fifo");
  sys::Fd exec_done(::open(dir.exec_done_path().c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
  sys::Fd fifo(::open(dir.fifo_path().c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC));
  if (!fifo.valid()) {
    if (errno == ENXIO) return sys::wrong_state("cannot start container " + id + ": its init process has exited");
    return sys::sys_error("open", dir.fifo_path());
  }
  GUISE_TRY(sys::write_all(fifo.get(), "0", "exec.fifo"));
  fifo.reset();
  ::unlink(dir.fifo_path().c_str());
  if (exec_done.valid()) {
    // Hangs up when the user's process is exec'd, or carries the errno of the exec
    // that failed (the trampoline's report, exec_trampoline.h), or hangs up on the
    // init's death.
    struct pollfd p {exec_done.get(), POLLIN, 0};
    while (::poll(&p, 1, -1) < 0 && errno == EINTR) {
    }
    int err = linux::ExecTrampoline::read_report(exec_done.get());
    ::unlink(dir.exec_done_path().c_str());
    if (err) {
      auto spec = stored_spec(dir);
      std::string program = spec.ok() && spec->process && !spec->process->args.empty() ? spec->process->args[0] : "";
      return sys::sys_error_n(err, "exec", program);
    }
  }
  st.started = true;
  GUISE_TRY(dir.save(st));
  auto spec = stored_spec(dir);
  if (spec.ok() && spec.value().hooks) {
    auto r = linux::run_hooks(spec.value().hooks->poststart, "poststart", state_json(st, Status::kRunning, false));
    if (!r.ok()) warn(r.error());
  }
  return Ok();
}

Result<ContainerInfo> container_state(const Globals& g, const std::string& id) {
  auto [dir, st, status] = GUISE_TRY(open_container(g.root, id));
  sys::debug("state: container " + id + " is " + status_name(status) + ", init pid " + std::to_string(st.pid));
  return ContainerInfo{std::move(st), status};
}

std::vector<ContainerInfo> list_containers(const Globals& g) {
  std::vector<ContainerInfo> out;
  for (const auto& id : list_ids(g.root)) {
    auto dir = StateDir::open(g.root, id);
    if (!dir.ok()) continue;
    auto st = dir.value().load();
    if (!st.ok()) continue;
    Status status = current_status(st.value(), dir.value().path());
    out.push_back({std::move(st).take(), status});
  }
  return out;
}

Result<void> kill_container(const Globals& g, const std::string& id, int signal, bool all) {
  auto [dir, st, status] = GUISE_TRY(open_container(g.root, id));
  if (status == Status::kStopped && !all) return sys::wrong_state("container not running");
  sys::debug("kill: signal " + std::to_string(signal) + " to " +
             (all ? "every process of container " + id : "container " + id + "'s init, pid " + std::to_string(st.pid)) +
             (signal == 0 ? " (no signal: a check that it is alive)" : ""));
  if (all) {
    auto cg = GUISE_TRY(container_cgroup(st));
    return cg->kill_all(signal);
  }
  sys::Fd pidfd = GUISE_TRY(sys::pidfd_open(st.pid));
  if (::syscall(SYS_pidfd_send_signal, pidfd.get(), signal, nullptr, 0) < 0) {
    if (errno == ESRCH) return sys::wrong_state("container not running");
    return sys::sys_error("signal container init", std::to_string(st.pid));
  }
  return Ok();
}

Result<void> remove_container(const Globals& g, const std::string& id, bool force) {
  auto opened = StateDir::open(g.root, id);
  if (!opened.ok()) return std::move(opened.error());
  StateDir dir = std::move(opened).take();
  auto loaded = dir.load();
  if (!loaded.ok()) {
    // A half-made container (create was killed): nothing to stop, only remove.
    dir.remove();
    return Ok();
  }
  ContainerState st = std::move(loaded).take();
  Status status = current_status(st, dir.path());
  sys::debug("delete: container " + id + " (" + status_name(status) + "): removing its cgroup and state");
  if ((status == Status::kRunning || status == Status::kPaused) && !force)
    return sys::wrong_state("cannot delete container " + id + " that is not stopped: " + status_name(status));
  auto cg = container_cgroup(st);
  if (status != Status::kStopped) {
    if (cg.ok() && !st.own_pid_namespace) (void)cg.value()->kill_all(SIGKILL);
    ::kill(st.pid, SIGKILL);
    if (status == Status::kPaused && cg.ok()) (void)cg.value()->thaw();
    wait_gone(st, 5000);
  }
  auto spec = stored_spec(dir);
  return remove_stopped(dir, st, cg.ok() ? cg.value().get() : nullptr, spec.ok() ? &spec.value() : nullptr);
}

Result<void> remove_created(const Globals& g, Created& c) {
  auto opened = StateDir::open(g.root, c.state.id);
  if (!opened.ok()) {
    if (opened.error().is(sys::ErrorKind::kNotFound)) return Ok();  // removed by another call while it ran
    return std::move(opened.error());
  }
  return remove_stopped(opened.value(), c.state, c.cgroup.get(), c.spec.get());
}

Result<std::vector<pid_t>> container_pids(const Globals& g, const std::string& id) {
  auto [dir, st, status] = GUISE_TRY(open_container(g.root, id));
  auto cg = GUISE_TRY(container_cgroup(st));
  sys::debug("ps: listing the processes in container " + id + "'s cgroup");
  return cg->pids();
}

Result<oci::Process> container_process(const Globals& g, const std::string& id) {
  auto [dir, st, status] = GUISE_TRY(open_container(g.root, id));
  oci::Spec spec = GUISE_TRY(stored_spec(dir));
  if (!spec.process) return sys::user_error("config.json: process: missing from the container's config");
  return *spec.process;
}

Result<cgroups::Stats> container_stats(const Globals& g, const std::string& id) {
  ContainerState st;
  {
    auto [dir, state, status] = GUISE_TRY(open_container(g.root, id));
    if (status == Status::kStopped) return sys::wrong_state("container with id " + id + " is not running");
    st = std::move(state);
  }
  auto cg = GUISE_TRY(container_cgroup(st));
  sys::debug("stats: reading container " + id + "'s cgroup counters");
  return cg->stats();
}

Result<void> pause_container(const Globals& g, const std::string& id) {
  auto [dir, st, status] = GUISE_TRY(open_container(g.root, id));
  if (status != Status::kRunning && status != Status::kCreated)
    return sys::wrong_state(std::string("container not running: ") + status_name(status));
  auto cg = GUISE_TRY(container_cgroup(st));
  sys::debug("pause: freezing container " + id + "'s cgroup");
  return cg->freeze();
}

Result<void> resume_container(const Globals& g, const std::string& id) {
  auto [dir, st, status] = GUISE_TRY(open_container(g.root, id));
  if (status != Status::kPaused) return sys::wrong_state("container not paused");
  auto cg = GUISE_TRY(container_cgroup(st));
  sys::debug("resume: thawing container " + id + "'s cgroup");
  return cg->thaw();
}

}  // namespace guise::runtime
