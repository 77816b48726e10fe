#include "engine/container.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "engine/exit_facts_json.h"
#include "sys/fd.h"
#include "sys/syscalls.h"

namespace guise::engine {

using nlohmann::json;
using nlohmann::ordered_json;

namespace {

// Copies j[key] into `out` when present; a value of the wrong type is the file's fault.
template <class T>
Result<void> take(const json& j, const char* key, T& out, const char* file) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return Ok();
  try {
    out = it->get<T>();
  } catch (const json::exception&) {
    return sys::user_error(std::string(file) + ": field " + key + " has the wrong type");
  }
  return Ok();
}

Result<json> parse_object(const std::string& text, const char* file) {
  auto j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return sys::user_error(std::string(file) + ": not a JSON object");
  return j;
}

}  // namespace

Result<std::string> monitor_config_json(const MonitorConfig& c) {
  if (c.id.empty()) return sys::user_error("monitor config: no container id");
  ordered_json j;
  j["id"] = c.id;
  j["store_root"] = c.store_root;
  j["runtime_root"] = c.runtime_root;
  j["runtime"] = c.runtime;
  j["tty"] = c.tty;
  j["open_stdin"] = c.open_stdin;
  j["stdin_once"] = c.stdin_once;
  j["log_driver"] = c.log_driver;
  j["log_max_size"] = c.log_max_size;
  j["log_max_file"] = c.log_max_file;
  j["restart_policy"] = c.restart_policy;
  j["restart_max_retries"] = c.restart_max_retries;
  j["auto_remove"] = c.auto_remove;
  j["health_cmd"] = c.health_cmd;
  j["health_interval_ns"] = c.health_interval_ns;
  j["health_timeout_ns"] = c.health_timeout_ns;
  j["health_start_period_ns"] = c.health_start_period_ns;
  j["health_retries"] = c.health_retries;
  j["init"] = c.init;
  j["wait_for_attach"] = c.wait_for_attach;
  if (!c.exit_command.empty()) j["exit_command"] = c.exit_command;
  if (!c.joined.empty()) {
    nlohmann::json joined = nlohmann::json::array();
    for (const auto& p : c.joined) joined.push_back({{"pid", p.pid}, {"start_time", p.start_time}});
    j["joined"] = joined;
  }
  return j.dump();
}

std::vector<JoinedProcess> joined_processes(const std::vector<std::string>& namespace_paths) {
  std::vector<JoinedProcess> out;
  for (const auto& path : namespace_paths) {
    unsigned long pid = 0;
    char type[16];
    if (std::sscanf(path.c_str(), "/proc/%lu/ns/%15s", &pid, type) != 2 || pid == 0) continue;
    bool seen = false;
    for (const auto& j : out) seen = seen || j.pid == static_cast<pid_t>(pid);
    if (seen) continue;
    auto start = sys::process_start_time(static_cast<pid_t>(pid));
    out.push_back({static_cast<pid_t>(pid), start ? *start : 0});
  }
  return out;
}

Result<void> check_joined(const std::vector<JoinedProcess>& joined) {
  for (const auto& j : joined) {
    auto now = sys::process_start_time(j.pid);
    if (!now || *now != j.start_time || j.start_time == 0)
      return sys::wrong_state("the container whose namespaces this one joins (pid " + std::to_string(j.pid) +
                              ") has exited since: start it (or the pod) again, then this one");
  }
  return Ok();
}

Result<MonitorConfig> parse_monitor_config(const std::string& text) {
  constexpr const char* kFile = "monitor.json";
  auto j = GUISE_TRY(parse_object(text, kFile));
  MonitorConfig c;
  GUISE_TRY(take(j, "id", c.id, kFile));
  GUISE_TRY(take(j, "store_root", c.store_root, kFile));
  GUISE_TRY(take(j, "runtime_root", c.runtime_root, kFile));
  GUISE_TRY(take(j, "runtime", c.runtime, kFile));
  GUISE_TRY(take(j, "tty", c.tty, kFile));
  GUISE_TRY(take(j, "open_stdin", c.open_stdin, kFile));
  GUISE_TRY(take(j, "stdin_once", c.stdin_once, kFile));
  GUISE_TRY(take(j, "log_driver", c.log_driver, kFile));
  GUISE_TRY(take(j, "log_max_size", c.log_max_size, kFile));
  GUISE_TRY(take(j, "log_max_file", c.log_max_file, kFile));
  GUISE_TRY(take(j, "restart_policy", c.restart_policy, kFile));
  GUISE_TRY(take(j, "restart_max_retries", c.restart_max_retries, kFile));
  GUISE_TRY(take(j, "auto_remove", c.auto_remove, kFile));
  GUISE_TRY(take(j, "health_cmd", c.health_cmd, kFile));
  GUISE_TRY(take(j, "health_interval_ns", c.health_interval_ns, kFile));
  GUISE_TRY(take(j, "health_timeout_ns", c.health_timeout_ns, kFile));
  GUISE_TRY(take(j, "health_start_period_ns", c.health_start_period_ns, kFile));
  GUISE_TRY(take(j, "health_retries", c.health_retries, kFile));
  GUISE_TRY(take(j, "init", c.init, kFile));
  GUISE_TRY(take(j, "wait_for_attach", c.wait_for_attach, kFile));
  if (j.contains("exit_command") && j["exit_command"].is_array())
    for (const auto& a : j["exit_command"])
      if (a.is_string()) c.exit_command.push_back(a.get<std::string>());
  if (j.contains("joined") && j["joined"].is_array())
    for (const auto& p : j["joined"]) {
      if (!p.is_object() || !p.contains("pid") || !p["pid"].is_number_integer() || !p.contains("start_time") ||
          !p["start_time"].is_number_unsigned())
        return sys::user_error("monitor.json: joined: each entry needs pid and start_time");
      c.joined.push_back({p["pid"].get<pid_t>(), p["start_time"].get<uint64_t>()});
    }
  if (c.id.empty()) return sys::user_error("monitor.json: no container id");
  if (c.log_driver != "json-file" && c.log_driver != "k8s-file" && c.log_driver != "none")
    return sys::user_error("monitor.json: unknown log driver " + c.log_driver);
  if (c.restart_policy != "no" && c.restart_policy != "always" && c.restart_policy != "unless-stopped" &&
      c.restart_policy != "on-failure")
    return sys::user_error("monitor.json: unknown restart policy " + c.restart_policy);
  if (c.log_max_size < 0 || c.log_max_file < 1) return sys::user_error("monitor.json: bad log rotation limits");
  return c;
}

std::string state_json(const ContainerStateFile& s) {
  ordered_json j;
  j["status"] = s.status;
  j["pid"] = s.pid;
  j["monitor_pid"] = s.monitor_pid;
  j["exit_code"] = s.exit_code;
  j["exit_signal"] = s.exit_signal;
  j["oom_killed"] = s.oom_killed;
  j["oom_kills"] = s.oom_kills;
  j["error"] = s.error;
  j["started_at"] = s.started_at;
  j["finished_at"] = s.finished_at;
  j["restart_count"] = s.restart_count;
  j["health_status"] = s.health_status;
  j["health_failing_streak"] = s.health_failing_streak;
  auto log = ordered_json::array();
  for (const auto& e : s.health_log)
    log.push_back({{"start", e.start}, {"end", e.end}, {"exit_code", e.exit_code}, {"output", e.output}});
  j["health_log"] = std::move(log);
  auto deaths = ordered_json::array();
  for (const auto& d : s.init_deaths) deaths.push_back({{"pid", d.pid}, {"signal", d.signal}});
  j["init_deaths"] = std::move(deaths);
  j["exit_cause"] = s.exit_cause;
  if (s.exit_facts) j["exit_facts"] = exit_facts_json(*s.exit_facts);
  // Output and health output may hold any bytes: replace what is not UTF-8 rather than fail.
  return j.dump(-1, ' ', false, ordered_json::error_handler_t::replace);
}

Result<ContainerStateFile> parse_state(const std::string& text) {
  constexpr const char* kFile = "state.json";
  auto j = GUISE_TRY(parse_object(text, kFile));
  ContainerStateFile s;
  GUISE_TRY(take(j, "status", s.status, kFile));
  GUISE_TRY(take(j, "pid", s.pid, kFile));
  GUISE_TRY(take(j, "monitor_pid", s.monitor_pid, kFile));
  GUISE_TRY(take(j, "exit_code", s.exit_code, kFile));
  GUISE_TRY(take(j, "exit_signal", s.exit_signal, kFile));
  GUISE_TRY(take(j, "oom_killed", s.oom_killed, kFile));
  GUISE_TRY(take(j, "oom_kills", s.oom_kills, kFile));
  GUISE_TRY(take(j, "error", s.error, kFile));
  GUISE_TRY(take(j, "started_at", s.started_at, kFile));
  GUISE_TRY(take(j, "finished_at", s.finished_at, kFile));
  GUISE_TRY(take(j, "restart_count", s.restart_count, kFile));
  GUISE_TRY(take(j, "health_status", s.health_status, kFile));
  GUISE_TRY(take(j, "health_failing_streak", s.health_failing_streak, kFile));
  if (auto it = j.find("health_log"); it != j.end() && it->is_array()) {
    for (const auto& e : *it) {
      if (!e.is_object()) return sys::user_error("state.json: a health_log entry is not an object");
      HealthLogEntry h;
      GUISE_TRY(take(e, "start", h.start, kFile));
      GUISE_TRY(take(e, "end", h.end, kFile));
      GUISE_TRY(take(e, "exit_code", h.exit_code, kFile));
      GUISE_TRY(take(e, "output", h.output, kFile));
      s.health_log.push_back(std::move(h));
    }
  }
  if (auto it = j.find("init_deaths"); it != j.end() && it->is_array()) {
    for (const auto& e : *it) {
      if (!e.is_object()) return sys::user_error("state.json: an init_deaths entry is not an object");
      ChildDeath d;
      GUISE_TRY(take(e, "pid", d.pid, kFile));
      GUISE_TRY(take(e, "signal", d.signal, kFile));
      s.init_deaths.push_back(d);
    }
  }
  GUISE_TRY(take(j, "exit_cause", s.exit_cause, kFile));
  if (auto it = j.find("exit_facts"); it != j.end() && it->is_object()) s.exit_facts = parse_exit_facts(*it);
  return s;
}

Result<ContainerStateFile> read_state(const ContainerPaths& p) {
  auto text = sys::read_file(p.state());
  if (!text.ok()) {
    if (text.error().errnum == ENOENT) return ContainerStateFile{};
    return std::move(text.error());
  }
  return GUISE_TRY(parse_state(*text), "reading " + p.state());
}

Result<void> write_file_atomic(const std::string& path, const std::string& data, Sync sync) {
  auto slash = path.rfind('/');
  std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
  std::string tmp = dir + "/." + path.substr(slash == std::string::npos ? 0 : slash + 1) + ".tmp." +
                    std::to_string(::getpid());
  sys::Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (!fd.valid()) return sys::sys_error("create", tmp);
  auto written = sys::write_all(fd.get(), data, "write");
  if (written.ok() && sync == Sync::kDurable && ::fsync(fd.get()) < 0) written = sys::sys_error("fsync", tmp);
  if (written.ok() && ::rename(tmp.c_str(), path.c_str()) < 0) written = sys::sys_error("rename onto", path);
  if (!written.ok()) {
    ::unlink(tmp.c_str());
    return written;
  }
  if (sync == Sync::kVolatile) return Ok();
  sys::Fd d(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!d.valid() || ::fsync(d.get()) < 0) return sys::sys_error("fsync", dir);
  return Ok();
}

}  // namespace guise::engine
