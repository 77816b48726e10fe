// Health checks as docker runs them (moby daemon/health.go): the test runs in the
// container every interval through the runtime's exec; it passes on exit 0; a failure
// counts towards `retries` unless the container is still starting and within its start
// period; the last five results are kept. One probe at a time, driven by the monitor's
// loop: its pid is reaped there, its output read from output_fd().
#pragma once

#include <time.h>

#include <string>
#include <vector>

#include "engine/container.h"
#include "runtime/runtime.h"
#include "sys/fd.h"
#include "sys/result.h"

namespace guise::engine {

inline constexpr size_t kMaxHealthOutput = 4096;  // docker's maxOutputLen
inline constexpr size_t kHealthLogEntries = 5;

// docker's Test → argv: ["CMD", args...] or ["CMD-SHELL", "text"] (run by /bin/sh -c).
Result<std::vector<std::string>> health_argv(const std::vector<std::string>& test);

// Applies one probe's result to the state; `since_start`: from the container's start to
// the probe's start.
void record_health(ContainerStateFile& s, HealthLogEntry result, int64_t since_start_ns, int64_t start_period_ns,
                   int retries);

class HealthProbe {
 public:
  static Result<HealthProbe> start(const runtime::Globals& g, const std::string& id,
                                   const std::vector<std::string>& argv);
  pid_t pid() const { return pid_; }
  int output_fd() const { return out_.get(); }
  // Reads what is there; false at end of output.
  bool read_output();
  // The result once the process has been reaped with `wait_status` (or timed out: -1).
  HealthLogEntry finish(int wait_status, bool timed_out, int64_t timeout_ns);
  // Kills the probe (timeout, shutdown); the caller still reaps it.
  void kill();

  HealthProbe(HealthProbe&&) = default;
  HealthProbe& operator=(HealthProbe&&) = default;

 private:
  HealthProbe() = default;
  pid_t pid_ = 0;
  sys::Fd out_;
  std::string start_, output_;
};

}  // namespace guise::engine
