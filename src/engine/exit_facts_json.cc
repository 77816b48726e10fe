// state.json's "exit_facts" object, in and out (container.h: ExitFacts). Unknown numbers
// are written as -1 and read back as such; a missing field keeps its default.
#include <nlohmann/json.hpp>

#include "engine/container.h"
#include "engine/exit_facts_json.h"

namespace guise::engine {

using nlohmann::json;
using nlohmann::ordered_json;

namespace {

template <class T>
void get(const json& j, const char* key, T& out) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return;
  try {
    out = it->get<T>();
  } catch (const json::exception&) {
    // A field of the wrong type is left at its default: facts are evidence, not config.
  }
}

}  // namespace

ordered_json exit_facts_json(const ExitFacts& f) {
  ordered_json j;
  j["cgroup"] = f.cgroup;
  j["init"] = f.init;
  j["exit_code"] = f.exit_code;
  j["signal"] = f.signal;
  j["ran_ms"] = f.ran_ms;
  j["oom_kills"] = f.oom_kills;
  j["main_oom_killed"] = f.main_oom_killed;
  auto victims = ordered_json::array();
  for (const auto& v : f.oom_victims) victims.push_back({{"pid", v.pid}, {"name", v.name}});
  j["oom_victims"] = std::move(victims);
  j["memory_limit"] = f.memory_limit;
  j["memory_peak"] = f.memory_peak;
  j["memory_peak_source"] = f.memory_peak_source;
  j["memory_cache"] = f.memory_cache;
  j["usage_at_oom"] = f.usage_at_oom;
  j["cache_at_oom"] = f.cache_at_oom;
  j["pids_limit"] = f.pids_limit;
  j["pids_limit_hits"] = f.pids_limit_hits;
  auto stops = ordered_json::array();
  for (const auto& s : f.stop_requests) stops.push_back({{"signal", s.signal}, {"by", s.by}});
  j["stop_requests"] = std::move(stops);
  j["stop_timeout_elapsed"] = f.stop_timeout_elapsed;
  j["seccomp_syscall"] = f.seccomp_syscall;
  auto deaths = ordered_json::array();
  for (const auto& d : f.child_deaths) deaths.push_back({{"pid", d.pid}, {"signal", d.signal}});
  j["child_deaths"] = std::move(deaths);
  if (f.start) {
    j["start"] = {{"kind", f.start->kind},         {"program", f.start->program}, {"path", f.start->path},
                  {"searched", f.start->searched}, {"detail", f.start->detail},   {"error", f.start->error}};
  }
  return j;
}

ExitFacts parse_exit_facts(const json& j) {
  ExitFacts f;
  if (!j.is_object()) return f;
  get(j, "cgroup", f.cgroup);
  get(j, "init", f.init);
  get(j, "exit_code", f.exit_code);
  get(j, "signal", f.signal);
  get(j, "ran_ms", f.ran_ms);
  get(j, "oom_kills", f.oom_kills);
  get(j, "main_oom_killed", f.main_oom_killed);
  if (auto it = j.find("oom_victims"); it != j.end() && it->is_array())
    for (const auto& e : *it) {
      OomVictim v;
      if (!e.is_object()) continue;
      get(e, "pid", v.pid);
      get(e, "name", v.name);
      f.oom_victims.push_back(std::move(v));
    }
  get(j, "memory_limit", f.memory_limit);
  get(j, "memory_peak", f.memory_peak);
  get(j, "memory_peak_source", f.memory_peak_source);
  get(j, "memory_cache", f.memory_cache);
  get(j, "usage_at_oom", f.usage_at_oom);
  get(j, "cache_at_oom", f.cache_at_oom);
  get(j, "pids_limit", f.pids_limit);
  get(j, "pids_limit_hits", f.pids_limit_hits);
  if (auto it = j.find("stop_requests"); it != j.end() && it->is_array())
    for (const auto& e : *it) {
      StopRequest s;
      if (!e.is_object()) continue;
      get(e, "signal", s.signal);
      get(e, "by", s.by);
      f.stop_requests.push_back(std::move(s));
    }
  get(j, "stop_timeout_elapsed", f.stop_timeout_elapsed);
  get(j, "seccomp_syscall", f.seccomp_syscall);
  if (auto it = j.find("child_deaths"); it != j.end() && it->is_array())
    for (const auto& e : *it) {
      ChildDeath d;
      if (!e.is_object()) continue;
      get(e, "pid", d.pid);
      get(e, "signal", d.signal);
      f.child_deaths.push_back(d);
    }
  if (auto it = j.find("start"); it != j.end() && it->is_object()) {
    StartFailure s;
    get(*it, "kind", s.kind);
    get(*it, "program", s.program);
    get(*it, "path", s.path);
    get(*it, "searched", s.searched);
    get(*it, "detail", s.detail);
    get(*it, "error", s.error);
    f.start = std::move(s);
  }
  return f;
}

}  // namespace guise::engine
