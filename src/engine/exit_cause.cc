#include "engine/exit_cause.h"

#include <signal.h>

#include <cctype>
#include <cstdio>
#include <cstring>

#include "engine/exit_facts_json.h"
#include "engine/program_file.h"

namespace guise::engine {

namespace {

bool requested(const ExitFacts& f, const char* by) {
  for (const auto& r : f.stop_requests)
    if (r.by == by) return true;
  return false;
}

const StopRequest* request_with(const ExitFacts& f, int signal) {
  for (const auto& r : f.stop_requests)
    if (r.signal == signal) return &r;
  return nullptr;
}

bool fault(int sig) {
  return sig == SIGSEGV || sig == SIGBUS || sig == SIGILL || sig == SIGFPE || sig == SIGABRT || sig == SIGTRAP;
}

std::string program_name(const ExitFacts& f) { return f.init ? "the program (guise-init's child)" : "PID 1"; }

// "code 137 = 128 + SIGKILL"
std::string exit_words(const ExitFacts& f) {
  std::string s = "exit code " + std::to_string(f.exit_code);
  if (f.signal) s += ", " + signal_name(f.signal);
  return s;
}

std::string memory_evidence(const ExitFacts& f) {
  std::string s;
  if (f.memory_limit > 0) s += "memory limit " + human_bytes(f.memory_limit);
  else if (f.memory_limit == 0) s += "no memory limit of its own (a limit above the container's cgroup was reached)";
  if (f.memory_peak > 0) {
    if (!s.empty()) s += ", ";
    s += (f.memory_peak_source == "sampled" ? "highest usage seen " : "peak usage ") + human_bytes(f.memory_peak);
  }
  int64_t cache = f.cache_at_oom >= 0 ? f.cache_at_oom : f.memory_cache;
  if (cache >= 0 && !f.cgroup.empty()) {
    if (!s.empty()) s += ", ";
    s += "page cache " + human_bytes(cache) + (f.cache_at_oom >= 0 ? " at the OOM kill" : " at the exit");
    int64_t usage = f.usage_at_oom > 0 ? f.usage_at_oom : f.memory_peak;
    if (usage > 0 && cache <= usage) s += " (" + std::to_string(cache * 100 / usage) + "% of the usage)";
  }
  if (s.empty()) s = "no memory counters were recorded";
  return s;
}

std::string victims(const ExitFacts& f) {
  std::string s;
  for (const auto& v : f.oom_victims) {
    if (!s.empty()) s += ", ";
    s += (v.name.empty() ? "a process" : v.name) + " (host pid " + std::to_string(v.pid) + ")";
  }
  return s;
}

std::string oom_count(const ExitFacts& f) {
  return std::to_string(f.oom_kills) + " OOM kill" + (f.oom_kills == 1 ? "" : "s") + " in this run";
}

std::string memory_advice(const ExitFacts& f) {
  std::string s = "Raise the limit with --memory";
  if (f.memory_limit > 0) s += " (above " + human_bytes(f.memory_limit) + ")";
  s += " or make the program need less";
  int64_t cache = f.cache_at_oom >= 0 ? f.cache_at_oom : f.memory_cache;
  int64_t usage = f.usage_at_oom > 0 ? f.usage_at_oom : f.memory_peak;
  if (cache > 0 && usage > 0 && cache * 4 >= usage)
    s += "; much of it was page cache, which counts toward the limit: files written or read in the container "
         "(a tmpfs, logs) fill it";
  return s + ".";
}

Diagnosis start_failure(const StartFailure& s, const ExitFacts& f) {
  Diagnosis d;
  d.cause = "exec";
  std::string what = s.path.empty() ? s.program : s.path;
  std::string code = " (exit code " + std::to_string(f.exit_code) + ")";
  if (s.kind == "not-found") {
    if (!s.searched.empty()) {
      d.summary = "The program \"" + s.program + "\" could not start: executable file not found in $PATH in the image" +
                  code + ".";
      d.evidence = "No file named " + s.program + " in any directory of the PATH searched: " + s.searched + ".";
    } else {
      d.summary = "The program " + what + " could not start: no such file in the image" + code + ".";
      d.evidence = what + " does not exist inside the container's root (nor in a volume mounted there).";
    }
    d.advice = "Check the command's spelling and that the image installs it; give its full path, or set PATH "
               "with -e PATH=....";
  } else if (s.kind == "directory") {
    d.summary = "The program " + what + " could not start: it is a directory" + code + ".";
    d.evidence = what + " is a directory, not a file to run.";
    d.advice = "Name the program inside it as the command.";
  } else if (s.kind == "not-executable") {
    d.summary = "The program " + what + " could not start: it is not executable" + code + ".";
    d.evidence = what + (s.detail.empty() ? " has no execute permission (no x bit in its mode)." : " is " + s.detail + ".");
    d.advice = "Make it executable in the image (chmod +x " + what + "), or run it through its interpreter (sh " +
               what + ").";
  } else if (s.kind == "noexec-mount") {
    d.summary = "The program " + what + " could not start: it lies on a mount that forbids running programs (noexec)" +
                code + ".";
    d.evidence = "The mount at " + s.detail + " has the noexec option; the kernel refuses execve there (EACCES).";
    d.advice = "Mount " + s.detail + " without noexec, or copy the program to a place it may run from.";
  } else if (s.kind == "wrong-arch") {
    d.summary = "The program " + what + " could not start: it is built for " + s.detail + ", this host is " +
                elf_machine_name(host_elf_machine()) + code + ".";
    d.evidence = "Its ELF header names the machine " + s.detail + "; the kernel answered \"exec format error\".";
    d.advice = "Use an image built for " + elf_machine_name(host_elf_machine()) +
               " (a multi-platform image, or --platform when building), or register qemu-user through binfmt_misc.";
  } else if (s.kind == "crlf-shebang") {
    std::string shown = s.detail;
    while (!shown.empty() && shown.back() == '\r') shown.pop_back();
    d.summary = "The script " + what + " could not start: it has Windows line endings (CRLF)" + code + ".";
    d.evidence = "Its first line asks for the interpreter \"" + shown +
                 "\\r\" (with a carriage return at the end), and no file of that name exists.";
    d.advice = "Convert the script to Unix line endings (dos2unix " + what + ", or sed -i 's/\\r$//' " + what +
               ") in the image, and keep it so with a .gitattributes rule (*.sh text eol=lf).";
  } else if (s.kind == "no-interpreter") {
    d.summary = "The script " + what + " could not start: its interpreter " + s.detail + " does not exist in the image" +
                code + ".";
    d.evidence = "Its first line is #!" + s.detail + "; no such file inside the container's root.";
    d.advice = "Install " + s.detail + " in the image, or change the script's first line to an interpreter it has "
               "(#!/bin/sh).";
  } else if (s.kind == "no-loader") {
    d.summary = "The program " + what + " could not start: it is dynamically linked and its loader " + s.detail +
                " is missing from the image" + code + ".";
    d.evidence = "Its ELF header asks for the interpreter (PT_INTERP) " + s.detail +
                 "; there is no such file, so the kernel answered \"no such file or directory\" for a file that exists.";
    d.advice = "Build it statically, or use an image with the C library it was linked against (a glibc binary "
               "does not run on an Alpine/musl or scratch image).";
  } else if (s.kind == "no-library") {
    d.summary = "The program " + what + " could not start: the shared library " + s.detail +
                " it needs is missing from the image" + code + ".";
    d.evidence = "Its dynamic section lists " + s.detail +
                 " (DT_NEEDED), found in none of the image's library directories (/lib, /usr/lib, /lib64 and their "
                 "multiarch subdirectories, and its run path).";
    d.advice = "Install the package that provides " + s.detail + " in the image, or link the program statically.";
  } else {
    d.summary = "The program " + (what.empty() ? std::string("of the container") : what) + " could not start" + code +
                ".";
    d.evidence = s.error.empty() ? "The runtime gave no reason." : "The runtime said: " + s.error;
    d.advice = "Check the command and the image.";
  }
  return d;
}

std::string lower(std::string s) {
  for (auto& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

bool is_eperm_line(const std::string& line) {
  std::string l = lower(line);
  return l.find("operation not permitted") != std::string::npos || l.find("eperm") != std::string::npos ||
         l.find("are you root") != std::string::npos;
}

std::string capability_for(const std::string& line) {
  if (!is_eperm_line(line)) return {};
  std::string l = lower(line);
  // Words of the failing operation, as tools print them, and the capability it needs.
  static const std::pair<const char*, const char*> kWords[] = {
      {"rtnetlink", "NET_ADMIN"},     {"iptables", "NET_ADMIN"},   {"nft", "NET_ADMIN"},
      {"siocs", "NET_ADMIN"},         {"ifconfig", "NET_ADMIN"},   {"ip:", "NET_ADMIN"},
      {"route", "NET_ADMIN"},         {"mount", "SYS_ADMIN"},      {"sethostname", "SYS_ADMIN"},
      {"hostname", "SYS_ADMIN"},      {"unshare", "SYS_ADMIN"},    {"setns", "SYS_ADMIN"},
      {"swapon", "SYS_ADMIN"},        {"settimeofday", "SYS_TIME"}, {"set date", "SYS_TIME"},
      {"clock_settime", "SYS_TIME"},  {"stime", "SYS_TIME"},       {"setpriority", "SYS_NICE"},
      {"nice", "SYS_NICE"},           {"sched_set", "SYS_NICE"},   {"ptrace", "SYS_PTRACE"},
      {"reboot", "SYS_BOOT"},         {"init_module", "SYS_MODULE"}, {"insmod", "SYS_MODULE"},
      {"modprobe", "SYS_MODULE"},     {"mknod", "MKNOD"},          {"chown", "CHOWN"},
      {"setrlimit", "SYS_RESOURCE"},  {"ulimit", "SYS_RESOURCE"},  {"raw socket", "NET_RAW"},
      {"ping", "NET_RAW"},            {"bind", "NET_BIND_SERVICE"}, {"setuid", "SETUID"},
      {"setgid", "SETGID"},           {"kill", "KILL"},            {"chroot", "SYS_CHROOT"},
  };
  for (const auto& [word, cap] : kWords)
    if (l.find(word) != std::string::npos) return cap;
  return {};
}

std::string human_bytes(int64_t n) {
  static const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = double(n);
  int u = 0;
  while (v >= 1024 && u < 4) v /= 1024, ++u;
  char buf[32];
  if (u == 0 || v >= 100 || v == double(int64_t(v))) std::snprintf(buf, sizeof buf, "%.0f %s", v, units[u]);
  else std::snprintf(buf, sizeof buf, "%.1f %s", v, units[u]);
  return buf;
}

std::string signal_name(int sig) {
  if (sig <= 0) return "";
  const char* abbrev = sigabbrev_np(sig);
  return abbrev ? std::string("SIG") + abbrev : "signal " + std::to_string(sig);
}

std::string classify_exit(const ExitFacts& f) {
  if (f.start) return "exec";
  int sig = f.signal;
  bool stop_kill = false;
  for (const auto& r : f.stop_requests) stop_kill = stop_kill || r.signal == SIGKILL;
  if (sig == SIGKILL) {
    if (f.oom_kills > 0 && (f.main_oom_killed || !stop_kill)) return "oom";
    if (f.stop_timeout_elapsed) return "stop-timeout";
    if (stop_kill) return requested(f, "stop") && !requested(f, "kill") && !requested(f, "rm") ? "stopped" : "killed";
    return "signal";
  }
  if (sig == SIGSYS) return "seccomp";
  if (sig != 0) {
    if (const StopRequest* r = request_with(f, sig)) return r->by == "stop" ? "stopped" : "killed";
    return "signal";
  }
  if (f.oom_kills > 0) return "oom-child";
  if (f.pids_limit_hits > 0) return "pids-limit";
  if (!f.stop_requests.empty()) return "stopped";
  return "exited";
}

Diagnosis diagnose(const WhyInput& in) {
  const ContainerStateFile& s = in.state;
  Diagnosis d;
  if (in.status == "running" || in.status == "paused" || in.status == "restarting") {
    d.cause = "running";
    d.summary = "The container is " + in.status + "; it has not exited" +
                (s.exit_facts ? std::string(" since its last restart") : std::string()) + ".";
    d.evidence = "PID 1 is host pid " + std::to_string(s.pid) + ", started at " + s.started_at + "; " +
                 std::to_string(s.oom_kills) + " OOM kill" + (s.oom_kills == 1 ? "" : "s") + " in it so far.";
    if (s.exit_facts) {
      Diagnosis last = diagnose({s, "exited", {}, in.syscall_name});
      d.evidence += " Its last exit before this run: " + last.summary;
    }
    return d;
  }
  if (in.status == "dead") {
    d.cause = "dead";
    d.summary = "The container's monitor is gone while the container ran, so nothing recorded how it ended.";
    d.evidence = "state.json still says running, with PID 1 as host pid " + std::to_string(s.pid) +
                 "; its monitor (pid " + std::to_string(s.monitor_pid) + ") is not alive.";
    d.advice = "Remove it with `guise rm -f` and run it again; a monitor killed from outside (an OOM of the host, "
               "kill -9) leaves this.";
    return d;
  }
  if (!s.exit_facts) {
    d.cause = "created";
    if (!s.error.empty()) {
      d.summary = "The container could not start.";
      d.evidence = "The engine said: " + s.error;
      d.advice = "Fix what the error names, then `guise start` it.";
    } else {
      d.summary = "The container was created but has never run, so there is no exit to explain.";
      d.advice = "Start it with `guise start`.";
    }
    return d;
  }
  const ExitFacts& f = *s.exit_facts;
  if (f.start) return start_failure(*f.start, f);
  d.cause = s.exit_cause.empty() ? classify_exit(f) : s.exit_cause;
  std::string who = program_name(f);
  if (d.cause == "oom") {
    d.summary = "The container ran out of memory: the kernel's OOM killer killed " + who + " (" + exit_words(f) + ").";
    d.evidence = "Memory: " + memory_evidence(f) + "; " + oom_count(f);
    if (!f.oom_victims.empty()) d.evidence += ", killed: " + victims(f);
    d.evidence += ".";
    d.advice = memory_advice(f);
  } else if (d.cause == "oom-child") {
    std::string v = f.oom_victims.empty() ? "a process in the container other than " + who : victims(f);
    d.summary = "The OOM killer killed " + v + ", while " + who + " lived on and then exited by itself with code " +
                std::to_string(f.exit_code) + ".";
    d.evidence = "Memory: " + memory_evidence(f) + "; " + oom_count(f) + ".";
    if (f.init && !f.child_deaths.empty()) {
      d.evidence += " guise-init saw";
      for (const auto& c : f.child_deaths)
        d.evidence += " pid " + std::to_string(c.pid) + " die of " + signal_name(c.signal) + ";";
      d.evidence.back() = '.';
    }
    d.advice = memory_advice(f) + (f.exit_code == 0 ? " The exit code alone (0) hides this kill." : "");
  } else if (d.cause == "stop-timeout") {
    int first = f.stop_requests.empty() ? SIGTERM : f.stop_requests.front().signal;
    d.summary = "The container was stopped and killed: `guise stop` sent " + signal_name(first) + ", " + who +
                " did not exit within the stop timeout, and SIGKILL followed (" + exit_words(f) + ").";
    d.evidence = "Signals asked for:";
    for (const auto& r : f.stop_requests) d.evidence += " " + signal_name(r.signal) + " by " + r.by + ",";
    d.evidence.back() = ';';
    d.evidence += " no OOM kill in this run; it ran " + std::to_string(f.ran_ms / 1000) + " s.";
    d.advice = "Make the program exit on " + signal_name(first) +
               " (a shell or a program as PID 1 gets no default action for it: it must handle it; --init forwards it "
               "to a program that does), or give it longer with --stop-timeout or `guise stop -t`.";
  } else if (d.cause == "stopped") {
    d.summary = "The container was stopped by `guise stop`, and " + who + " ended on its signal (" + exit_words(f) +
                ").";
    d.evidence = "No OOM kill in this run.";
  } else if (d.cause == "killed") {
    const StopRequest* r = request_with(f, f.signal);
    std::string by = !r ? "`guise kill`" : r->by == "rm" ? "`guise rm -f`" : r->by == "monitor" ? "guise-monitor (told to end)"
                                                                                         : "`guise kill`";
    d.summary = by + " sent " + signal_name(f.signal) + " and " + who + " died of it (" + exit_words(f) + ").";
    d.evidence = "No OOM kill in this run; the signal was asked for through guise.";
  } else if (d.cause == "seccomp") {
    d.summary = who + " was killed by SIGSYS: the container's seccomp filter forbids a syscall it made (" +
                exit_words(f) + ").";
    if (f.seccomp_syscall >= 0)
      d.evidence = "The kernel's audit record names syscall " + std::to_string(f.seccomp_syscall) +
                   (in.syscall_name.empty() ? "" : " (" + in.syscall_name + ")") + ".";
    else
      d.evidence = "The kernel did not say which syscall (no audit record for it could be read from the kernel log).";
    d.advice = "Allow " + (in.syscall_name.empty() ? std::string("that syscall") : in.syscall_name) +
               " in the seccomp profile given with --security-opt seccomp=..., or make the program avoid it.";
  } else if (d.cause == "pids-limit") {
    d.summary = "The container hit its process limit: forks failed with EAGAIN, and " + who +
                " exited with code " + std::to_string(f.exit_code) + ".";
    d.evidence = "pids limit " + std::to_string(f.pids_limit) + "; the kernel refused " +
                 std::to_string(f.pids_limit_hits) + " fork" + (f.pids_limit_hits == 1 ? "" : "s") +
                 " on it (pids.events max).";
    d.advice = "Raise --pids-limit (above " + std::to_string(f.pids_limit) +
               "), or find what forks so many processes (a fork bomb, a pool without a bound).";
  } else if (d.cause == "signal") {
    d.summary = who + " was killed by " + signal_name(f.signal) +
                (f.signal == SIGKILL ? " from outside guise, not by the OOM killer" : "") + " (" + exit_words(f) + ").";
    if (f.signal == SIGKILL)
      d.evidence = "No OOM kill in this run, and no stop or kill was asked for through guise: the signal came from "
                   "outside, as the host's kill or a supervisor sends it.";
    else if (fault(f.signal))
      d.evidence = "A fault signal: the program crashed (" + std::string(strsignal(f.signal)) + ").";
    else
      d.evidence = "Not through guise (no stop or kill was asked for): from outside, or from the program itself.";
    d.advice = fault(f.signal) ? "Debug the crash: its log, a core dump (--ulimit core=-1)." :
                                 "Find who sends the signal on the host.";
  } else {  // exited
    d.summary = who + " exited by itself with code " + std::to_string(f.exit_code) + " after " +
                std::to_string(f.ran_ms / 1000) + "." + std::to_string(f.ran_ms % 1000 / 100) + " s.";
    d.evidence = "No OOM kill, no signal, no stop or kill asked for";
    if (f.pids_limit_hits == 0 && f.pids_limit > 0) d.evidence += ", the pids limit never hit";
    d.evidence += ".";
    if (f.exit_code != 0) d.advice = "Its own output says why: see the last lines of its log.";
    d.log_tail = in.log_tail;
    for (auto it = in.log_tail.rbegin(); f.exit_code != 0 && it != in.log_tail.rend(); ++it) {
      if (!is_eperm_line(*it)) continue;
      d.eperm_line = *it;
      d.capability = capability_for(*it);
      d.evidence += " Its log shows an operation refused with EPERM: \"" + *it + "\"";
      if (!d.capability.empty()) {
        d.evidence += ", which needs CAP_" + d.capability + ", not among the container's capabilities.";
        d.advice = "If the program is meant to do that, give it the capability: --cap-add " + d.capability +
                   " (containers get docker's default set only).";
      } else {
        d.evidence += ": an operation that needs a capability the container does not hold, or one its seccomp "
                      "profile refuses.";
        d.advice = "Find the operation in its log; add the capability it needs with --cap-add.";
      }
      break;
    }
  }
  if (f.pids_limit_hits > 0 && d.cause != "pids-limit")
    d.evidence += " Forks also failed " + std::to_string(f.pids_limit_hits) + " time(s) on the pids limit of " +
                  std::to_string(f.pids_limit) + ".";
  return d;
}

std::string Diagnosis::paragraph() const {
  std::string p = summary;
  if (!evidence.empty()) p += " " + evidence;
  if (!advice.empty()) p += " " + advice;
  return p;
}

nlohmann::ordered_json diagnosis_json(const Diagnosis& d, const WhyInput& in) {
  nlohmann::ordered_json j;
  j["cause"] = d.cause;
  j["status"] = in.status;
  j["summary"] = d.summary;
  j["evidence"] = d.evidence;
  j["advice"] = d.advice;
  j["explanation"] = d.paragraph();
  j["exit_code"] = in.state.exit_code;
  j["oom_killed"] = in.state.oom_killed;
  if (in.state.exit_facts) {
    j["facts"] = exit_facts_json(*in.state.exit_facts);
    if (!in.syscall_name.empty()) j["facts"]["seccomp_syscall_name"] = in.syscall_name;
  }
  j["log_tail"] = d.log_tail;
  if (!d.eperm_line.empty()) {
    j["eperm_line"] = d.eperm_line;
    j["capability"] = d.capability;
  }
  return j;
}

}  // namespace guise::engine
