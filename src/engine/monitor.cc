#include "engine/monitor.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <memory>
#include <optional>
#include <nlohmann/json.hpp>

#include "cgroups/cgroup.h"
#include "engine/container.h"
#include "engine/events.h"
#include "engine/monitor_attach.h"
#include "engine/monitor_health.h"
#include "engine/monitor_logs.h"
#include "engine/monitor_restart.h"
#include "engine/monitor_cleanup.h"
#include "engine/exit_cause.h"
#include "engine/kernel_log.h"
#include "engine/monitor_exit_facts.h"
#include "engine/start_failure.h"
#include "oci/parse.h"
#include "sys/idle_memory.h"
#include "engine/oci_runtime.h"
#include "runtime/runtime.h"
#include "sys/clock.h"
#include "sys/syscalls.h"

namespace guise::engine {
namespace {

constexpr int kInitReportFd = 3;  // where guise-init writes "PID SIGNAL\n" (preserve_fds=1)
constexpr size_t kMaxInitDeaths = 64;

enum class Source : uint32_t { kSignal, kPidfd, kStdout, kStderr, kPty, kInitReport, kListen, kClient, kOom, kTimer,
                               kHealthOut };

uint64_t tag(Source s, int fd) { return (uint64_t(s) << 32) | uint32_t(fd); }

int64_t mono_ns() {
  struct timespec ts {};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

struct timespec wall_now() {
  struct timespec ts {};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return ts;
}

// Keeps fd 3 taken (by /dev/null, close-on-exec) so that nothing the monitor opens lands
// there: with --init the report pipe is put on it just for the container's start.
void reserve_init_report_fd() {
  int null = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (null >= 0 && null != kInitReportFd) {
    ::dup3(null, kInitReportFd, O_CLOEXEC);
    ::close(null);
  }
}

void set_nonblock(int fd) { ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK); }

// One start of the container: what lives from run_container() to the init's exit.
struct Run {
  runtime::Created created;
  sys::Fd out, err, in, pty, init_report;
  std::unique_ptr<cgroups::OomWatch> oom;
  int oom_events = 0;
  int64_t started_ns = 0;
  bool exited = false;
  int wait_status = 0;
  std::string init_report_buf;
  size_t deaths_before = 0;  // state_.init_deaths from earlier runs
  KernelLog kmsg;            // from this run's start: whom an OOM kill hit, what seccomp killed for
  int64_t usage_at_oom = -1, cache_at_oom = -1;
};

class Monitor {
 public:
  Monitor(MonitorConfig cfg, ContainerPaths paths) : cfg_(std::move(cfg)), paths_(std::move(paths)) {
    g_.root = cfg_.runtime_root.empty() ? runtime::default_state_root() : cfg_.runtime_root;
    g_.rootless = runtime::unprivileged();
    policy_ = {cfg_.restart_policy, cfg_.restart_max_retries};
  }

  Result<void> prepare();
  Result<void> start_run();
  // After a start: keeps of the container's spec only what its removal needs. The seccomp
  // rules (docker's profile: some 350 syscall names) were most of a monitor's heap.
  void keep_only_what_removal_needs();
  // `run` in the foreground: the first attach client, before the process starts.
  Result<void> await_first_client(int timeout_ms);
  int loop();
  pid_t pid() const { return state_.pid; }
  // The start failed: why, looked up in the rootfs, recorded, and said in one plain line.
  Error record_start_failure(const Error& e);
  const MonitorConfig& config() const { return cfg_; }

 private:
  Result<void> open_stdio(runtime::CreateOptions& co, sys::Fd& out_w, sys::Fd& err_w, sys::Fd& in_r,
                          sys::Fd& report_w);
  Result<void> block_signals();
  void with_signals_unblocked_prelude();
  void watch(Source s, int fd);
  void unwatch(int fd);
  void dispatch(uint64_t data, uint32_t events);
  void on_signal();
  void reap_children();
  void on_output(Source s, sys::Fd& fd);
  void on_init_report();
  void on_oom();
  void on_client(int fd);
  void on_frame(AttachFrame type, std::string_view payload);
  void write_input(std::string_view data);
  void on_timer();
  void arm_timer();
  void start_health_probe();
  void on_health_reaped(int wait_status);
  void finish_run();
  void record_exit(Run& r);
  std::optional<ProgramContext> program() const;
  void end(bool remove);
  void save_state();
  bool stop_requested() const;
  void event(const std::string& action, std::map<std::string, std::string> extra = {});
  void die_event();

  MonitorConfig cfg_;
  ContainerPaths paths_;
  runtime::Globals g_;
  std::unique_ptr<OciRuntime> runtime_;  // the library, or the binary --runtime named
  RestartPolicy policy_;
  RestartBackoff backoff_;
  ContainerStateFile state_;
  std::unique_ptr<LogWriter> log_;
  std::optional<AttachServer> attach_;
  sys::Fd epoll_, sigfd_, timer_;
  sigset_t blocked_{};
  std::optional<Run> run_;
  std::optional<HealthProbe> probe_;
  int64_t next_health_ns_ = 0, probe_deadline_ns_ = 0, restart_at_ns_ = 0;
  bool probe_timed_out_ = false;
  bool terminating_ = false;  // SIGTERM: kill the container, no restart
  // The pinned network namespace the container runs in (its nsfs inode), told to the exit
  // command: a cleanup that comes after the container was started again leaves the new
  // namespace alone.
  uint64_t netns_inode_ = 0;
  bool done_ = false;
  bool remove_at_end_ = false;
  // The container's name and image as last read from its record, for the events logged
  // after --rm took the record away.
  std::string name_, image_;
};

Result<void> Monitor::prepare() {
  runtime_ = GUISE_TRY(runtime_for(cfg_.runtime, g_));
  state_.monitor_pid = ::getpid();
  state_.started_at = state_.finished_at = "0001-01-01T00:00:00Z";
  log_ = GUISE_TRY(
      LogWriter::open({cfg_.log_driver, paths_.log(), cfg_.log_max_size, cfg_.log_max_file, !cfg_.auto_remove}));
  attach_ = GUISE_TRY(AttachServer::listen(paths_.attach_socket()));
  epoll_.reset(::epoll_create1(EPOLL_CLOEXEC));
  if (!epoll_.valid()) return sys::sys_error("epoll_create1");
  timer_.reset(::timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK));
  if (!timer_.valid()) return sys::sys_error("timerfd_create");
  ::sigemptyset(&blocked_);
  for (int s : {SIGCHLD, SIGTERM, SIGINT, SIGHUP, SIGPIPE}) ::sigaddset(&blocked_, s);
  sigfd_.reset(::signalfd(-1, &blocked_, SFD_CLOEXEC | SFD_NONBLOCK));
  if (!sigfd_.valid()) return sys::sys_error("signalfd");
  watch(Source::kSignal, sigfd_.get());
  watch(Source::kTimer, timer_.get());
  watch(Source::kListen, attach_->listen_fd());
  return Ok();
}

void Monitor::watch(Source s, int fd) {
  struct epoll_event ev {};
  ev.events = EPOLLIN;
  ev.data.u64 = tag(s, fd);
  ::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &ev);
}

void Monitor::unwatch(int fd) { ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, fd, nullptr); }

Result<void> Monitor::block_signals() {
  if (::sigprocmask(SIG_BLOCK, &blocked_, nullptr) < 0) return sys::sys_error("sigprocmask");
  return Ok();
}

// Runtime calls that fork must not hand the container a blocked signal mask; what is
// pending is taken first so that nothing (a SIGPIPE from a write) is delivered for real.
void Monitor::with_signals_unblocked_prelude() {
  on_signal();
  ::sigprocmask(SIG_UNBLOCK, &blocked_, nullptr);
}

Result<void> Monitor::open_stdio(runtime::CreateOptions& co, sys::Fd& out_w, sys::Fd& err_w, sys::Fd& in_r,
                                 sys::Fd& report_w) {
  Run& r = *run_;
  if (cfg_.tty) {
    co.keep_terminal_master = true;
  } else {
    int p[2];
    if (::pipe2(p, O_CLOEXEC) < 0) return sys::sys_error("pipe for stdout");
    r.out.reset(p[0]), out_w.reset(p[1]);
    if (::pipe2(p, O_CLOEXEC) < 0) return sys::sys_error("pipe for stderr");
    r.err.reset(p[0]), err_w.reset(p[1]);
    if (cfg_.open_stdin) {
      if (::pipe2(p, O_CLOEXEC) < 0) return sys::sys_error("pipe for stdin");
      in_r.reset(p[0]), r.in.reset(p[1]);
    } else {
      in_r.reset(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    }
    co.stdio = {in_r.get(), out_w.get(), err_w.get()};
  }
  if (cfg_.init) {
    int p[2];
    if (::pipe2(p, O_CLOEXEC) < 0) return sys::sys_error("pipe for the init's reports");
    r.init_report.reset(p[0]), report_w.reset(p[1]);
    // fd 3 was reserved at start-up; the container gets the pipe there, without close-on-exec.
    if (::dup2(report_w.get(), kInitReportFd) < 0) return sys::sys_error("dup2 onto fd 3");
    co.preserve_fds = 1;
  }
  return Ok();
}

Result<void> Monitor::start_run() {
  // A PID in the spec's /proc/PID/ns paths that is no longer the process it was would put
  // the container in a stranger's namespaces (the host's, even).
  GUISE_TRY(check_joined(cfg_.joined), "starting container " + cfg_.id);
  run_.emplace();
  runtime::CreateOptions co;
  co.id = cfg_.id;
  co.bundle = paths_.bundle();
  sys::Fd out_w, err_w, in_r, report_w;
  auto opened = open_stdio(co, out_w, err_w, in_r, report_w);
  if (!opened.ok()) {
    run_.reset();
    return std::move(opened.error());
  }
  if (!cfg_.exit_command.empty() && netns_inode_ == 0) {
    struct stat st {};
    if (::stat((cfg_.store_root + "/netns/" + cfg_.id).c_str(), &st) == 0 ||
        // pasta's or slirp4netns's pin (user_mode_netns_path, in a library the monitor does not link)
        ::stat((cfg_.store_root + "/user-netns/" + cfg_.id).c_str(), &st) == 0)
      netns_inode_ = st.st_ino;
  }
  run_->deaths_before = state_.init_deaths.size();
  run_->kmsg = KernelLog::open();
  with_signals_unblocked_prelude();
  auto created = runtime_->start(co);
  (void)block_signals();
  if (cfg_.init) reserve_init_report_fd();
  if (!created.ok()) {
    run_.reset();
    return std::move(created.error()).with_context("starting container " + cfg_.id);
  }
  Run& r = *run_;
  r.created = std::move(created).take();
  r.started_ns = mono_ns();
  if (r.created.terminal_master.valid()) r.pty = std::move(r.created.terminal_master);
  for (auto* fd : {&r.out, &r.err, &r.pty, &r.init_report}) set_nonblock(fd->get());
  if (r.out.valid()) watch(Source::kStdout, r.out.get());
  if (r.err.valid()) watch(Source::kStderr, r.err.get());
  if (r.pty.valid()) watch(Source::kPty, r.pty.get());
  if (r.init_report.valid()) watch(Source::kInitReport, r.init_report.get());
  watch(Source::kPidfd, r.created.pidfd.get());
  if (r.created.cgroup) {
    auto oom = r.created.cgroup->watch_oom();  // without a memory controller: no OOM to tell
    if (oom.ok()) {
      r.oom = std::move(oom).take();
      watch(Source::kOom, r.oom->fd());
    }
  }
  state_.status = "running";
  state_.pid = r.created.pid;
  state_.started_at = sys::now_rfc3339();
  state_.finished_at = "0001-01-01T00:00:00Z";
  state_.exit_code = 0;
  state_.exit_signal = 0;
  state_.oom_killed = false;
  state_.error.clear();
  if (!cfg_.health_cmd.empty() && cfg_.health_cmd[0] != "NONE") {
    state_.health_status = "starting";
    state_.health_failing_streak = 0;
    next_health_ns_ = r.started_ns + cfg_.health_interval_ns;
  }
  save_state();
  event("start");
  // A SIGTERM taken while the runtime ran: the container is not to run on.
  if (terminating_) (void)runtime_->kill(cfg_.id, SIGKILL, false);
  reap_children();  // a SIGCHLD that came while it was not blocked
  arm_timer();
  return Ok();
}

Result<void> Monitor::await_first_client(int timeout_ms) {
  pollfd p{attach_->listen_fd(), POLLIN, 0};
  int n;
  while ((n = ::poll(&p, 1, timeout_ms)) < 0 && errno == EINTR) {
  }
  if (n <= 0) return sys::user_error("no attach client came within " + std::to_string(timeout_ms / 1000) + " s");
  int c = attach_->accept_client();
  if (c < 0) return sys::sys_error("accept an attach client");
  watch(Source::kClient, c);
  return Ok();
}

void Monitor::keep_only_what_removal_needs() {
  if (!run_ || !run_->created.spec || !run_->created.spec->linux || !run_->created.spec->linux->seccomp) return;
  auto slim = std::make_shared<oci::Spec>(*run_->created.spec);
  slim->linux->seccomp.reset();
  run_->created.spec = std::move(slim);
}

void Monitor::save_state() {
  auto r = write_file_atomic(paths_.state(), state_json(state_), cfg_.auto_remove ? Sync::kVolatile : Sync::kDurable);
  (void)r;  // nobody to tell; the next write tries again
}

void Monitor::event(const std::string& action, std::map<std::string, std::string> extra) {
  if (auto text = sys::read_file(paths_.record()); text.ok()) {
    auto r = nlohmann::json::parse(*text, nullptr, false);
    if (r.is_object()) {
      name_ = r.value("name", name_);
      image_ = r.value("image", image_);
    }
  }
  if (!name_.empty()) extra.emplace("name", name_);
  if (!image_.empty()) extra.emplace("image", image_);
  Event e;
  e.action = action;
  e.id = cfg_.id;
  e.attributes = std::move(extra);
  (void)append_event(cfg_.store_root, std::move(e));
}

// docker's die event (exitCode), with the cause when the state names one (exit_cause).
void Monitor::die_event() {
  std::map<std::string, std::string> extra{{"exitCode", std::to_string(state_.exit_code)}};
  if (!state_.exit_cause.empty()) extra["cause"] = state_.exit_cause;
  if (state_.exit_signal) extra["signal"] = std::to_string(state_.exit_signal);
  event("die", std::move(extra));
}

bool Monitor::stop_requested() const {
  return terminating_ || ::access((paths_.dir + "/stopping").c_str(), F_OK) == 0;
}

void Monitor::dispatch(uint64_t data, uint32_t events) {
  auto s = Source(data >> 32);
  int fd = int(data & 0xffffffff);
  switch (s) {
    case Source::kSignal: on_signal(); break;
    case Source::kPidfd: reap_children(); break;
    case Source::kStdout: if (run_) on_output(s, run_->out); break;
    case Source::kStderr: if (run_) on_output(s, run_->err); break;
    case Source::kPty: if (run_) on_output(s, run_->pty); break;
    case Source::kInitReport: on_init_report(); break;
    case Source::kOom: on_oom(); break;
    case Source::kTimer: on_timer(); break;
    case Source::kListen: {
      int c = attach_->accept_client();
      if (c >= 0) watch(Source::kClient, c);
      break;
    }
    case Source::kClient: on_client(fd); break;
    case Source::kHealthOut:
      if (probe_ && !probe_->read_output()) unwatch(fd);
      break;
  }
  (void)events;
}

void Monitor::on_signal() {
  struct signalfd_siginfo si;
  while (::read(sigfd_.get(), &si, sizeof si) == sizeof si) {
    if (si.ssi_signo == SIGCHLD) {
      reap_children();
    } else if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT) {
      terminating_ = true;
      if (run_ && !run_->exited) (void)runtime_->kill(cfg_.id, SIGKILL, false);
      if (!run_ && restart_at_ns_) {  // waiting to restart: stay stopped
        restart_at_ns_ = 0;
        state_.status = "exited";
        end(cfg_.auto_remove);
      }
    }
  }
}

void Monitor::reap_children() {
  for (;;) {
    int status = 0;
    pid_t pid = ::waitpid(-1, &status, WNOHANG);
    if (pid <= 0) break;
    if (run_ && pid == run_->created.pid) {
      run_->exited = true;
      run_->wait_status = status;
    } else if (probe_ && pid == probe_->pid()) {
      on_health_reaped(status);
    }
    // Anything else is an orphan handed to this subreaper: reaping it is all there is to do.
  }
}

void Monitor::on_output(Source s, sys::Fd& fd) {
  static char buf[32 * 1024];
  for (int rounds = 0; rounds < 8 && fd.valid(); ++rounds) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return;
    if (n <= 0) {  // EOF; EIO on a pty whose last slave end closed
      unwatch(fd.get());
      fd.reset();
      return;
    }
    std::string_view data(buf, n);
    LogStream stream = s == Source::kStderr ? LogStream::kStderr : LogStream::kStdout;
    (void)log_->write(stream, data, wall_now());
    attach_->broadcast(stream == LogStream::kStderr ? AttachFrame::kStderr : AttachFrame::kStdout, data);
  }
}

void Monitor::on_init_report() {
  char buf[4096];
  ssize_t n = ::read(run_->init_report.get(), buf, sizeof buf);
  if (n <= 0) {
    if (n < 0 && errno == EAGAIN) return;
    unwatch(run_->init_report.get());
    run_->init_report.reset();
    return;
  }
  std::string& b = run_->init_report_buf;
  b.append(buf, n);
  bool changed = false;
  for (size_t nl; (nl = b.find('\n')) != std::string::npos; b.erase(0, nl + 1)) {
    ChildDeath d;
    if (std::sscanf(b.c_str(), "%d %d", &d.pid, &d.signal) != 2) continue;
    if (state_.init_deaths.size() >= kMaxInitDeaths) state_.init_deaths.erase(state_.init_deaths.begin());
    state_.init_deaths.push_back(d);
    changed = true;
  }
  if (b.size() > 256) b.clear();  // not the init's protocol
  if (changed) save_state();
}

void Monitor::on_oom() {
  if (!run_ || !run_->oom) return;
  auto n = run_->oom->take();
  if (n.ok() && *n > 0) {
    if (run_->oom_events == 0 && run_->created.cgroup)
      sample_memory(*run_->created.cgroup, run_->usage_at_oom, run_->cache_at_oom);
    run_->oom_events += int(*n);
    state_.oom_kills += int(*n);
    save_state();
    event("oom");
  }
}

void Monitor::on_client(int fd) {
  if (!attach_->read_client(fd, [this](AttachFrame t, std::string_view p) { on_frame(t, p); })) {
    unwatch(fd);
    attach_->drop_client(fd);
  }
}

void Monitor::write_input(std::string_view data) {
  if (!run_) return;
  int fd = run_->pty.valid() ? run_->pty.get() : run_->in.get();
  if (fd < 0) return;
  set_nonblock(fd);
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n > 0) {
      data.remove_prefix(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    struct pollfd p {fd, POLLOUT, 0};
    // A container that does not read its input holds the loop up for a second at most.
    if (n < 0 && errno == EAGAIN && ::poll(&p, 1, 1000) > 0) continue;
    return;
  }
}

void Monitor::on_frame(AttachFrame type, std::string_view payload) {
  switch (type) {
    case AttachFrame::kStdin: write_input(payload); break;
    case AttachFrame::kStdinEOF:
      if (run_ && cfg_.stdin_once && run_->in.valid()) run_->in.reset();
      break;
    case AttachFrame::kResize:
      if (run_ && run_->pty.valid()) {
        struct winsize ws {};
        unsigned rows = 0, cols = 0;
        if (std::sscanf(std::string(payload).c_str(), "%u %u", &rows, &cols) == 2) {
          ws.ws_row = uint16_t(rows), ws.ws_col = uint16_t(cols);
          ::ioctl(run_->pty.get(), TIOCSWINSZ, &ws);
        }
      }
      break;
    default: break;  // frames the monitor sends are not for clients to send
  }
}

void Monitor::arm_timer() {
  int64_t next = 0;
  for (int64_t t : {next_health_ns_, probe_deadline_ns_, restart_at_ns_})
    if (t > 0 && (next == 0 || t < next)) next = t;
  struct itimerspec its {};
  if (next > 0) {
    its.it_value.tv_sec = next / 1'000'000'000;
    its.it_value.tv_nsec = next % 1'000'000'000;
  }
  ::timerfd_settime(timer_.get(), TFD_TIMER_ABSTIME, &its, nullptr);
}

void Monitor::on_timer() {
  uint64_t ticks;
  (void)!::read(timer_.get(), &ticks, sizeof ticks);
  int64_t now = mono_ns();
  if (restart_at_ns_ && now >= restart_at_ns_) {
    restart_at_ns_ = 0;
    auto started = start_run();
    if (!started.ok()) {
      state_.status = "exited";
      (void)record_start_failure(started.error());
      end(cfg_.auto_remove);
      return;
    }
  }
  if (probe_ && probe_deadline_ns_ && now >= probe_deadline_ns_) {
    probe_deadline_ns_ = 0;
    probe_timed_out_ = true;
    probe_->kill();
  }
  if (!probe_ && next_health_ns_ && now >= next_health_ns_ && run_ && !run_->exited) start_health_probe();
  arm_timer();
}

void Monitor::start_health_probe() {
  next_health_ns_ = 0;
  auto started = [&]() -> Result<HealthProbe> {
    auto argv = GUISE_TRY(health_argv(cfg_.health_cmd));
    with_signals_unblocked_prelude();
    auto probe = HealthProbe::start(g_, cfg_.id, argv);
    (void)block_signals();
    return probe;
  }();
  if (!started.ok()) {
    HealthLogEntry e{sys::now_rfc3339(), sys::now_rfc3339(), -1, started.error().message()};
    record_health(state_, std::move(e), mono_ns() - run_->started_ns, cfg_.health_start_period_ns,
                  cfg_.health_retries);
    save_state();
    next_health_ns_ = mono_ns() + cfg_.health_interval_ns;
    return;
  }
  probe_.emplace(std::move(started).take());
  probe_timed_out_ = false;
  probe_deadline_ns_ = mono_ns() + cfg_.health_timeout_ns;
  watch(Source::kHealthOut, probe_->output_fd());
  reap_children();  // a probe quick enough to be gone already
}

void Monitor::on_health_reaped(int wait_status) {
  int fd = probe_->output_fd();
  if (fd >= 0) unwatch(fd);
  HealthLogEntry e = probe_->finish(wait_status, probe_timed_out_, cfg_.health_timeout_ns);
  probe_.reset();
  probe_deadline_ns_ = 0;
  if (run_ && !run_->exited) {
    record_health(state_, std::move(e), mono_ns() - run_->started_ns, cfg_.health_start_period_ns,
                  cfg_.health_retries);
    save_state();
    next_health_ns_ = mono_ns() + cfg_.health_interval_ns;
  }
  arm_timer();
}

// The init is gone: take what is left of its output, record how it ended, and decide
// whether it runs again.
void Monitor::finish_run() {
  Run& r = *run_;
  if (r.out.valid()) on_output(Source::kStdout, r.out);
  if (r.err.valid()) on_output(Source::kStderr, r.err);
  if (r.pty.valid()) on_output(Source::kPty, r.pty);
  if (r.init_report.valid()) on_init_report();
  (void)log_->flush(wall_now());
  on_oom();  // a kill counted before its notification came through
  if (probe_) {
    probe_->kill();
    int st = 0;
    ::waitpid(probe_->pid(), &st, 0);
    on_health_reaped(st);
  }
  next_health_ns_ = 0;
  int st = r.wait_status;
  state_.exit_code = sys::exit_code(st);
  state_.exit_signal = WIFSIGNALED(st) ? WTERMSIG(st) : 0;
  state_.oom_killed = r.oom_events > 0;
  state_.finished_at = sys::now_rfc3339();
  int64_t ran = mono_ns() - r.started_ns;
  record_exit(r);
  state_.pid = 0;
  for (auto* fd : {&r.out, &r.err, &r.pty, &r.init_report})
    if (fd->valid()) unwatch(fd->get());
  unwatch(r.created.pidfd.get());
  if (r.oom) unwatch(r.oom->fd());
  auto removed = runtime_->finish(r.created);
  if (!removed.ok()) state_.error = removed.error().message();
  run_.reset();

  backoff_.set_restarts(state_.restart_count);
  if (backoff_.should_restart(policy_, state_.exit_code, stop_requested(), std::chrono::nanoseconds(ran))) {
    state_.status = "restarting";
    state_.restart_count = backoff_.restarts();
    save_state();
    die_event();
    event("restart");
    restart_at_ns_ = mono_ns() + std::chrono::nanoseconds(backoff_.delay()).count();
    arm_timer();
    return;
  }
  state_.status = "exited";
  die_event();  // before end() tells attached clients: a `run` that returns finds it logged
  end(cfg_.auto_remove);
}

std::optional<ProgramContext> Monitor::program() const {
  auto text = sys::read_file(paths_.bundle() + "/config.json");
  if (!text.ok()) return std::nullopt;
  auto spec = oci::parse_spec(*text);
  if (!spec.ok()) return std::nullopt;
  auto p = program_context(*spec, paths_.bundle());
  // --init: [guise-init, "--", program...]; the program is what could not start.
  if (p && cfg_.init && p->args.size() > 2 && p->args[1] == "--") p->args.erase(p->args.begin(), p->args.begin() + 2);
  return p;
}

// Before the runtime removes the cgroup: its counters, the stop requests, the kernel's
// word on OOM victims and seccomp kills; and for a program that exited 127 or 126 at
// once, whether its loader or a library was missing (the exec itself worked).
void Monitor::record_exit(Run& r) {
  RunEvidence ev;
  ev.cgroup = r.created.cgroup.get();
  ev.pid1 = r.created.pid;
  ev.init = cfg_.init;
  ev.exit_code = state_.exit_code;
  ev.exit_signal = state_.exit_signal;
  ev.oom_events = r.oom_events;
  ev.ran_ms = (mono_ns() - r.started_ns) / 1'000'000;
  if (r.deaths_before < state_.init_deaths.size())
    ev.child_deaths.assign(state_.init_deaths.begin() + long(r.deaths_before), state_.init_deaths.end());
  ev.kmsg = &r.kmsg;
  ev.usage_at_oom = r.usage_at_oom;
  ev.cache_at_oom = r.cache_at_oom;
  ev.monitor_killed = terminating_;
  ExitFacts f = collect_exit_facts(ev, paths_.dir);
  // A runtime binary (runc, crun) execs the program after `start` returned: a failed exec
  // is its init exiting 1 at once.
  bool runtime_exec = !runtime_->in_process() && f.exit_code == 1 && f.ran_ms < 5000;
  if (f.signal == 0 && (f.exit_code == 126 || f.exit_code == 127 || runtime_exec) && f.stop_requests.empty())
    if (auto p = program())
      if (auto why = diagnose_start(*p, 0, "", true)) f.start = std::move(why);
  state_.exit_cause = classify_exit(f);
  state_.exit_facts = std::move(f);
}

Error Monitor::record_start_failure(const Error& e) {
  ExitFacts f;
  f.init = cfg_.init;
  auto p = program();
  f.start = p ? diagnose_start(*p, e.errnum, e.message()) : std::nullopt;
  // The program's failure, or the engine's (a runtime that refused the bundle): only the
  // first is the container's exit; the second stays the engine's error alone.
  bool exec_error = e.op == "exec" || e.message().find("executable file not found") != std::string::npos;
  if (!exec_error && (!f.start || f.start->kind == "exec")) {
    state_.error = e.message();
    save_state();
    return e;
  }
  if (!f.start) f.start = StartFailure{"exec", "", "", "", "", e.message()};
  f.exit_code = start_failure_exit_code(*f.start);
  state_.exit_code = f.exit_code;
  state_.exit_signal = 0;
  state_.exit_cause = "exec";
  state_.exit_facts = f;
  WhyInput in{state_, "exited", {}, {}};
  Diagnosis d = diagnose(in);
  // The runtime's own words stay where nothing in the rootfs explained them better.
  state_.error = f.start->kind == "exec" ? e.message() : d.summary + " " + d.evidence;
  state_.finished_at = sys::now_rfc3339();
  save_state();
  Error plain = e;
  if (f.start->kind != "exec") plain = sys::user_error(state_.error);
  return plain;
}

void Monitor::end(bool remove) {
  if (!cfg_.exit_command.empty()) {
    std::vector<std::string> argv = cfg_.exit_command;
    if (netns_inode_) argv.insert(argv.end(), {"--netns-inode", std::to_string(netns_inode_)});
    run_exit_command(argv);
  }
  save_state();
  attach_->broadcast(AttachFrame::kExit, state_json(state_));
  attach_->close();
  ::unlink((paths_.dir + "/stopping").c_str());
  ::unlink(paths_.monitor_pid().c_str());
  remove_at_end_ = remove;
  done_ = true;
}

int Monitor::loop() {
  struct epoll_event evs[16];
  while (!done_) {
    int n = ::epoll_wait(epoll_.get(), evs, 16, -1);
    if (n < 0 && errno != EINTR) return 1;
    for (int i = 0; i < n && !done_; ++i) dispatch(evs[i].data.u64, evs[i].events);
    if (run_ && run_->exited) finish_run();
  }
  if (remove_at_end_) {
    event("destroy");  // the record is still there to name it
    (void)remove_container_files(cfg_.store_root, cfg_.id, g_);
  }
  return 0;
}

// One line to the CLI; the last one closes the fd (the CLI reads until it sees pid or error).
void tell_cli(int sync_fd, const std::string& line, bool last = true) {
  if (sync_fd < 0) return;
  (void)sys::write_all(sync_fd, line + "\n", "write to the sync fd");
  if (last) ::close(sync_fd);
}

}  // namespace

int run_monitor(const MonitorArgs& args) {
  MonitorArgs a = args;
  if (a.sync_fd == kInitReportFd) {
    a.sync_fd = ::fcntl(a.sync_fd, F_DUPFD_CLOEXEC, 10);
    ::close(kInitReportFd);
  }
  reserve_init_report_fd();
  ContainerPaths paths(a.store_root, a.id);
  auto fail = [&](const Error& e) {
    tell_cli(a.sync_fd, nlohmann::json{{"error", e.message()}}.dump(-1, ' ', false,
                                                                      nlohmann::json::error_handler_t::replace));
    return 1;
  };
  // A pid means nothing after a reboot: whole is enough.
  (void)write_file_atomic(paths.monitor_pid(), std::to_string(::getpid()) + "\n", Sync::kVolatile);
  auto text = sys::read_file(paths.monitor_config());
  if (!text.ok()) return fail(text.error());
  auto cfg = parse_monitor_config(*text);
  if (!cfg.ok()) return fail(cfg.error());
  if (cfg->id != a.id) return fail(sys::user_error("monitor.json is for container " + cfg->id + ", not " + a.id));
  if (cfg->store_root.empty()) cfg->store_root = a.store_root;
  Monitor m(std::move(cfg).take(), paths);
  auto prepared = m.prepare();
  if (!prepared.ok()) {
    ::unlink(paths.monitor_pid().c_str());
    return fail(prepared.error());
  }
  if (m.config().wait_for_attach) {
    tell_cli(a.sync_fd, "{\"listening\":true}", false);
    auto attached = m.await_first_client(30000);
    if (!attached.ok()) {
      ::unlink(paths.monitor_pid().c_str());
      return fail(attached.error());
    }
  }
  auto started = m.start_run();
  if (!started.ok()) {
    Error plain = m.record_start_failure(started.error());
    ::unlink(paths.monitor_pid().c_str());
    return fail(plain);
  }
  tell_cli(a.sync_fd, "{\"pid\":" + std::to_string(m.pid()) + "}");
  // The start's parsing (the spec, the config, the runtime's work) left freed heap and a
  // deep stack behind, dirty for as long as the container runs: given back, they were
  // half of what a monitor kept (bench/results/ENGINE.md, 100 containers).
  m.keep_only_what_removal_needs();
  sys::give_back_idle_memory();
  return m.loop();
}

}  // namespace guise::engine
