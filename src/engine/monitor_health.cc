#include "engine/monitor_health.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include "sys/child_process.h"
#include "sys/clock.h"

namespace guise::engine {

Result<std::vector<std::string>> health_argv(const std::vector<std::string>& test) {
  if (test.empty()) return sys::user_error("health check: no test");
  if (test[0] == "CMD-SHELL") {
    if (test.size() != 2) return sys::user_error("health check: CMD-SHELL takes one command line");
    return std::vector<std::string>{"/bin/sh", "-c", test[1]};
  }
  if (test[0] == "CMD") {
    if (test.size() < 2) return sys::user_error("health check: CMD without a command");
    return std::vector<std::string>(test.begin() + 1, test.end());
  }
  return sys::user_error("health check: unknown test type " + test[0]);
}

void record_health(ContainerStateFile& s, HealthLogEntry result, int64_t since_start_ns, int64_t start_period_ns,
                   int retries) {
  if (result.exit_code == 0) {
    s.health_failing_streak = 0;
    s.health_status = "healthy";
  } else {
    // Never healthy yet and still in the start period: the failure is not held against it.
    bool counts = !(s.health_status == "starting" && since_start_ns < start_period_ns);
    if (counts) {
      ++s.health_failing_streak;
      if (s.health_failing_streak >= retries) s.health_status = "unhealthy";
    }
  }
  s.health_log.push_back(std::move(result));
  while (s.health_log.size() > kHealthLogEntries) s.health_log.erase(s.health_log.begin());
}

Result<HealthProbe> HealthProbe::start(const runtime::Globals& g, const std::string& id,
                                       const std::vector<std::string>& argv) {
  oci::Process p = GUISE_TRY(runtime::container_process(g, id), "health check");
  p.args = argv;
  p.terminal = false;
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) < 0) return sys::sys_error("pipe for a health check");
  sys::Fd rd(fds[0]), wr(fds[1]);
  sys::Fd null(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  runtime::ExecOptions eo;
  eo.stdio = {null.get(), wr.get(), wr.get()};
  HealthProbe probe;
  probe.start_ = sys::now_rfc3339();
  auto started = GUISE_TRY(runtime::exec_process(g, id, p, eo), "health check");
  wr.reset();
  ::fcntl(rd.get(), F_SETFL, O_NONBLOCK);
  probe.out_ = std::move(rd);
  // The monitor's loop reaps every child; it owns this one's pid from here.
  probe.pid_ = started.process.release();
  return probe;
}

bool HealthProbe::read_output() {
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(out_.get(), buf, sizeof buf);
    if (n > 0) {
      size_t room = kMaxHealthOutput - std::min(kMaxHealthOutput, output_.size());
      output_.append(buf, std::min<size_t>(room, n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return true;
    out_.reset();
    return false;
  }
}

HealthLogEntry HealthProbe::finish(int wait_status, bool timed_out, int64_t timeout_ns) {
  if (out_.valid()) read_output();
  HealthLogEntry e;
  e.start = start_;
  e.end = sys::now_rfc3339();
  if (timed_out) {
    e.exit_code = -1;
    e.output = "Health check exceeded timeout (" + std::to_string(timeout_ns / 1'000'000'000) + "s)";
  } else {
    e.exit_code = sys::exit_code(wait_status);
    e.output = output_;
  }
  out_.reset();
  return e;
}

void HealthProbe::kill() {
  if (pid_ > 0) ::kill(pid_, SIGKILL);
}

}  // namespace guise::engine
