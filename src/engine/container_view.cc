#include "engine/container_view.h"

#include <signal.h>
#include <set>
#include <dirent.h>
#include <unistd.h>

#include <cstdlib>
#include <ctime>

#include "engine/networking.h"
#include "engine/oci_runtime.h"
#include "runtime/runtime.h"
#include "sys/syscalls.h"

namespace guise::engine {

using nlohmann::json;

namespace {

constexpr const char* kZeroTime = "0001-01-01T00:00:00Z";

}  // namespace

std::string ContainerView::status() const {
  if (state.status == "running" && paused) return "paused";
  if (state.status == "running" && !monitor_alive) return "dead";  // its monitor is gone: nothing will record its end
  return state.status;
}

bool ContainerView::init_alive() const {
  if (state.status != "running" || !monitor_alive || state.pid <= 0 || state.monitor_pid <= 0) return false;
  auto status = sys::read_file("/proc/" + std::to_string(state.pid) + "/status");
  if (!status) return false;
  size_t at = status->find("\nPPid:");
  return at != std::string::npos && std::atol(status->c_str() + at + 6) == state.monitor_pid;
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
            {"NetworkSettings", network_settings_json(store, r, v.running())}};
  // Beyond docker's shape, what guise knows: every OOM kill in the cgroup, and with
  // --init the processes that died of a signal.
  j["State"]["OOMKills"] = s.oom_kills;
  if (!r.pod.empty()) j["Pod"] = r.pod;  // podman's key: the pod the container is in
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
