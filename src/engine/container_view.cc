#include "engine/container_view.h"

#include <signal.h>
#include <set>
#include <dirent.h>
#include <unistd.h>

#include <cstdlib>
#include <ctime>

#include "engine/oci_runtime.h"
#include "runtime/runtime.h"
#include "sys/syscalls.h"

namespace guise::engine {

using nlohmann::json;

namespace {

constexpr const char* kZeroTime = "0001-01-01T00:00:00Z";

std::optional<int64_t> seconds_of(const std::string& t) {
  struct tm tm {};
  if (t.empty() || !::strptime(t.c_str(), "%Y-%m-%dT%H:%M:%S", &tm)) return std::nullopt;
  return static_cast<int64_t>(::timegm(&tm));
}

// go-units HumanDuration, as `docker ps` prints ages.
std::string human(int64_t s) {
  auto n = [](int64_t v, const char* unit) { return std::to_string(v) + " " + unit; };
  if (s < 1) return "Less than a second";
  if (s == 1) return "1 second";
  if (s < 60) return n(s, "seconds");
  int64_t minutes = s / 60;
  if (minutes == 1) return "About a minute";
  if (minutes < 60) return n(minutes, "minutes");
  int64_t hours = static_cast<int64_t>(static_cast<double>(s) / 3600 + 0.5);
  if (hours == 1) return "About an hour";
  if (hours < 48) return n(hours, "hours");
  if (hours < 24 * 7 * 2) return n(hours / 24, "days");
  if (hours < 24 * 30 * 2) return n(hours / 24 / 7, "weeks");
  if (hours < 24 * 365 * 2) return n(hours / 24 / 30, "months");
  return n(s / 3600 / 24 / 365, "years");
}

}  // namespace

std::string ContainerView::status() const {
  if (state.status == "running" && paused) return "paused";
  if (state.status == "running" && !monitor_alive) return "dead";  // its monitor is gone: nothing will record its end
  return state.status;
}

Result<ContainerView> view_container(const ContainerStore& store, const std::string& id) {
  ContainerView v;
  v.record = GUISE_TRY(store.read_record(id));
  ContainerPaths p = store.paths(id);
  v.state = GUISE_TRY(read_state(p));
  if (v.state.monitor_pid > 0) v.monitor_alive = ::kill(v.state.monitor_pid, 0) == 0;
  if (v.state.status == "running") {
    if (auto rt = runtime_for(v.record.runtime, store.runtime_root()))
      if (auto paused = (*rt)->paused(id)) v.paused = *paused;
  }
  return v;
}

std::string status_line(const ContainerView& v, int64_t now) {
  std::string st = v.status();
  auto ago = [&](const std::string& t) {
    auto s = seconds_of(t);
    return s ? human(now - *s) : std::string("N/A");
  };
  std::string health;
  if (!v.state.health_status.empty())
    health = " (" + std::string(v.state.health_status == "starting" ? "health: starting" : v.state.health_status) + ")";
  if (st == "running") return "Up " + ago(v.state.started_at) + health;
  if (st == "paused") return "Up " + ago(v.state.started_at) + " (Paused)";
  if (st == "restarting") return "Restarting (" + std::to_string(v.state.exit_code) + ") " + ago(v.state.finished_at) + " ago";
  if (st == "exited") return "Exited (" + std::to_string(v.state.exit_code) + ") " + ago(v.state.finished_at) + " ago";
  if (st == "dead") return "Dead";
  return "Created";
}

json container_inspect_json(const ContainerView& v, const ContainerStore& store) {
  const ContainerRecord& r = v.record;
  const ContainerStateFile& s = v.state;
  std::string st = v.status();
  json state = {{"Status", st},
                {"Running", st == "running" || st == "paused"},
                {"Paused", v.paused},
                {"Restarting", st == "restarting"},
                {"OOMKilled", s.oom_killed},
                {"Dead", st == "dead"},
                {"Pid", st == "running" || st == "paused" ? s.pid : 0},
                {"ExitCode", s.exit_code},
                {"Error", s.error},
                {"StartedAt", s.started_at.empty() ? kZeroTime : s.started_at},
                {"FinishedAt", s.finished_at.empty() ? kZeroTime : s.finished_at}};
  if (!s.health_status.empty()) {
    json log = json::array();
    for (const auto& h : s.health_log)
      log.push_back({{"Start", h.start}, {"End", h.end}, {"ExitCode", h.exit_code}, {"Output", h.output}});
    state["Health"] = {{"Status", s.health_status}, {"FailingStreak", s.health_failing_streak}, {"Log", log}};
  }
  ContainerPaths p = store.paths(r.id);
  json j = {{"Id", r.id},
            {"Created", r.created},
            {"Path", r.path},
            {"Args", r.args},
            {"State", state},
            {"Image", r.image_id},
            {"ResolvConfPath", p.dir + "/resolv.conf"},
            {"HostnamePath", p.dir + "/hostname"},
            {"HostsPath", p.dir + "/hosts"},
            {"LogPath", p.log()},
            {"Name", "/" + r.name},
            {"RestartCount", s.restart_count},
            {"Driver", "overlay"},
            {"Platform", "linux"},
            {"MountLabel", ""},
            {"ProcessLabel", ""},
            {"AppArmorProfile", ""},
            {"ExecIDs", nullptr},
            {"HostConfig", r.host_config},
            {"GraphDriver", {{"Name", "overlay"}, {"Data", {{"MergedDir", r.rootfs}}}}},
            {"Mounts", r.mounts},
            {"Config", r.config},
            {"NetworkSettings",
             {{"Bridge", ""}, {"SandboxID", ""}, {"Ports", json::object()}, {"SandboxKey", ""},
              {"Gateway", ""}, {"IPAddress", ""}, {"IPPrefixLen", 0}, {"MacAddress", ""},
              {"Networks", json::object()}}}};
  // Beyond docker's shape, what guise knows: every OOM kill in the cgroup, and with
  // --init the processes that died of a signal.
  j["State"]["OOMKills"] = s.oom_kills;
  // Zombies in the container now: without --init, a PID 1 that does not reap leaves them
  // (the image's problem, as under docker), and here they are counted.
  if (st == "running" || st == "paused") {
    runtime::Globals g;
    g.root = store.runtime_root();
    int zombies = 0;
    // A zombie has left its cgroup already: look for it among the children of the
    // container's live processes.
    if (auto pids = runtime::container_pids(g, r.id)) {
      std::set<pid_t> live(pids->begin(), pids->end());
      if (DIR* d = ::opendir("/proc")) {
        while (auto* e = ::readdir(d)) {
          if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
          auto stat = sys::read_file(std::string("/proc/") + e->d_name + "/stat");
          if (!stat) continue;
          auto close = stat->rfind(')');
          if (close == std::string::npos || close + 4 >= stat->size()) continue;
          char state = (*stat)[close + 2];
          pid_t ppid = static_cast<pid_t>(std::atoi(stat->c_str() + close + 4));
          if (state == 'Z' && live.count(ppid)) ++zombies;
        }
        ::closedir(d);
      }
    }
    j["State"]["Zombies"] = zombies;
  }
  if (!s.init_deaths.empty()) {
    json deaths = json::array();
    for (const auto& d : s.init_deaths) deaths.push_back({{"Pid", d.pid}, {"Signal", d.signal}});
    j["State"]["ChildDeaths"] = deaths;
  }
  return j;
}

}  // namespace guise::engine
