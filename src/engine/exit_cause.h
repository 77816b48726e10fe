// `guise why`: the cause of a container's last exit, told from the facts its monitor
// recorded (container.h: ExitFacts). Pure: no files, no kernel; unit-tested.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/container.h"

namespace guise::engine {

// The slug state.json keeps as exit_cause (and `events` reports for a die):
//   exec          the program could not start (facts.start says why)
//   oom           the program (PID 1, or guise-init's child) was killed by the OOM killer
//   oom-child     another process was OOM-killed; the program went on and exited by itself
//   stop-timeout  `stop` sent its signal, the program ignored it, SIGKILL followed the timeout
//   stopped       the program ended on `stop`'s signal (or exited on it)
//   killed        `kill` or `rm -f` sent the signal that ended it
//   seccomp       killed by SIGSYS: a seccomp filter forbade a syscall
//   pids-limit    it exited after forks failed on the pids limit
//   signal        another signal ended it: from outside guise, or its own crash
//   exited        it exited by itself with its code
std::string classify_exit(const ExitFacts& f);

struct Diagnosis {
  std::string cause;    // the slug above; "running", "created" (never started)
  std::string summary;  // one sentence: what happened
  std::string evidence; // the numbers behind it
  std::string advice;   // what to do about it; "" when nothing went wrong
  std::vector<std::string> log_tail;  // for an exit by itself with a code
  // An exit by itself after the log showed EPERM ("Operation not permitted") from an
  // operation that needs a capability: that line, and the capability its words point at
  // ("" when they name none guise knows).
  std::string eperm_line, capability;
  std::string paragraph() const;
};

struct WhyInput {
  ContainerStateFile state;
  std::string status;                 // docker's, as `inspect` shows it now
  std::vector<std::string> log_tail;  // the last lines of the container's log
  std::string syscall_name;           // facts.seccomp_syscall by name, where known
};
Diagnosis diagnose(const WhyInput& in);
nlohmann::ordered_json diagnosis_json(const Diagnosis& d, const WhyInput& in);

// The capability an EPERM line's words point at: "NET_ADMIN" for "ip: RTNETLINK answers:
// Operation not permitted"; "" for a line that is no EPERM or names nothing known.
bool is_eperm_line(const std::string& line);
std::string capability_for(const std::string& line);

// "256 MiB", "1.5 GiB", "812 KiB".
std::string human_bytes(int64_t n);
// "SIGKILL"; "signal 64" for one without a name.
std::string signal_name(int sig);

}  // namespace guise::engine
