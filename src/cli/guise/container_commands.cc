// ps, start, stop, restart, kill, rm, wait, pause, unpause, rename, top, container prune.
#include <signal.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <ctime>
#include <iostream>
#include <map>

#include "cli/common/signal.h"
#include "cli/guise/attach_session.h"
#include "cli/guise/container_common.h"
#include "cli/guise/container_network.h"
#include "engine/networking.h"
#include "cli/guise/human.h"
#include "cli/guise/pod_common.h"
#include "cli/guise/template.h"
#include "engine/attach.h"
#include "engine/events.h"
#include "sys/syscalls.h"

namespace guise::cli {

using nlohmann::json;

namespace {

// ps's PORTS: "0.0.0.0:8080->80/tcp, :::8080->80/tcp", and a bare "80/tcp" for an
// exposed port that is not published.
std::string ports_column(const engine::ContainerStore& cs, const engine::ContainerView& v) {
  std::string out;
  if (!v.running()) return out;  // docker shows no ports for a container that is not running
  auto ports = engine::published_ports_json(cs, v.record, true);
  for (const auto& [key, list] : ports.items()) {
    std::vector<std::string> parts;
    if (!list.is_array()) parts.push_back(key);
    else
      for (const auto& b : list) {
        std::string ip = b.value("HostIp", "");
        parts.push_back((ip == "::" ? ":::" : ip + ":") + b.value("HostPort", "") + "->" + key);
      }
    for (const auto& p : parts) out += (out.empty() ? "" : ", ") + p;
  }
  return out;
}

std::string quoted_command(const engine::ContainerRecord& r, bool no_trunc) {
  std::string cmd = r.path;
  for (const auto& a : r.args) cmd += " " + a;
  if (!no_trunc && cmd.size() > 20) cmd = cmd.substr(0, 19) + "…";
  return "\"" + cmd + "\"";
}

struct PsFlags {
  bool all = false, quiet = false, size = false, no_trunc = false, latest = false;
  bool pod = false;  // podman's --pod: the POD ID and PODNAME columns
  int last = -1;
  std::vector<std::string> filters;
  std::string format;
};

// A pod's name by its id, "" when there is none: each pod read once, and the pod store
// opened only when a container is in a pod.
class PodNames {
 public:
  explicit PodNames(std::string root) : root_(std::move(root)) {}
  const std::string& operator()(const std::string& id) {
    auto [it, fresh] = names_.try_emplace(id);
    if (!fresh || id.empty()) return it->second;
    if (!pods_) pods_.emplace(engine::PodStore::open(root_));
    if (*pods_)
      if (auto r = (*pods_)->read(id)) it->second = r->name;
    return it->second;
  }

 private:
  std::string root_;
  std::optional<Result<engine::PodStore>> pods_;
  std::map<std::string, std::string> names_;
};

// docker's --filter: status=, name=, id=, label=KEY[=VALUE], exited=CODE, ancestor=IMAGE;
// podman's pod=NAME|ID.
Result<bool> matches(const engine::ContainerView& v, const std::vector<std::string>& filters, PodNames& pod_name) {
  for (const auto& f : filters) {
    auto eq = f.find('=');
    if (eq == std::string::npos) return sys::user_error("--filter \"" + f + "\": bad format of filter (expected name=value)");
    std::string key = f.substr(0, eq), val = f.substr(eq + 1);
    if (key == "status") {
      if (v.status() != val) return false;
    } else if (key == "name") {
      if (v.record.name.find(val) == std::string::npos) return false;
    } else if (key == "id") {
      if (v.record.id.rfind(val, 0) != 0) return false;
    } else if (key == "exited") {
      if (v.status() != "exited" || std::to_string(v.state.exit_code) != val) return false;
    } else if (key == "pod") {
      const std::string& pod = v.record.pod;
      if (pod.empty() || (pod_name(pod) != val && pod.rfind(val, 0) != 0)) return false;
    } else if (key == "ancestor") {
      if (v.record.image != val && v.record.image_id.find(val) == std::string::npos) return false;
    } else if (key == "label") {
      auto leq = val.find('=');
      std::string lk = val.substr(0, leq);
      const json& labels = v.record.config.contains("Labels") ? v.record.config["Labels"] : json();
      if (!labels.is_object() || !labels.contains(lk)) return false;
      if (leq != std::string::npos && labels[lk] != val.substr(leq + 1)) return false;
    } else {
      return sys::user_error("--filter: invalid filter '" + key + "'");
    }
  }
  return true;
}

void ps(Context& ctx, const PsFlags& f) {
  auto cs = open_containers(ctx);
  if (!cs) return ctx.fail(cs.error());
  auto ids = cs->list_ids();
  if (!ids) return ctx.fail(ids.error());
  std::vector<engine::ContainerView> views;
  PodNames pod_name(cs->root());
  for (const auto& id : *ids) {
    auto v = engine::view_container(*cs, id);
    if (!v) continue;  // removed meanwhile
    bool shown = f.all || f.latest || f.last >= 0 || v->status() == "running" || v->status() == "paused" ||
                 v->status() == "restarting";
    bool has_status_filter = std::any_of(f.filters.begin(), f.filters.end(), [](const std::string& s) { return s.rfind("status=", 0) == 0 || s.rfind("exited=", 0) == 0; });
    if (!shown && !has_status_filter) continue;
    auto m = matches(*v, f.filters, pod_name);
    if (!m) return ctx.fail(m.error());
    if (*m) views.push_back(std::move(*v));
  }
  std::sort(views.begin(), views.end(), [](const auto& a, const auto& b) { return a.record.created > b.record.created; });
  if (f.latest && views.size() > 1) views.resize(1);
  if (f.last >= 0 && views.size() > static_cast<size_t>(f.last)) views.resize(static_cast<size_t>(f.last));
  int64_t now = ::time(nullptr);
  std::vector<json> rows;
  for (const auto& v : views) {
    const auto& r = v.record;
    json labels = r.config.contains("Labels") && r.config["Labels"].is_object() ? r.config["Labels"] : json::object();
    std::string label_text;
    for (const auto& [k, val] : labels.items()) label_text += (label_text.empty() ? "" : ",") + k + "=" + val.get<std::string>();
    json row = {{"ID", f.no_trunc ? r.id : r.id.substr(0, 12)},
                {"Image", r.image},
                {"Command", quoted_command(r, f.no_trunc)},
                {"CreatedAt", created_at(r.created)},
                {"RunningFor", since(r.created, now)},
                {"Ports", ports_column(*cs, v)},
                {"State", v.status()},
                {"Status", status_line(v, now)},
                {"Names", r.name},
                {"Labels", label_text},
                {"Mounts", ""},
                {"Networks", ""},
                {"Pod", f.no_trunc ? r.pod : r.pod.substr(0, std::min<size_t>(12, r.pod.size()))},
                {"PodName", pod_name(r.pod)}};
    if (f.size) {
      int64_t upper = 0;
      // The writable layer's size: the container's own files.
      std::string dir = store_root(ctx) + "/rootfs/" + r.id + "/upper";
      std::error_code ec;
      for (auto it = std::filesystem::recursive_directory_iterator(dir, ec); !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec))
        if (it->is_regular_file(ec)) upper += static_cast<int64_t>(it->file_size(ec));
      row["Size"] = human_size(upper) + " (virtual " + human_size(upper) + ")";
    }
    rows.push_back(row);
  }
  if (f.quiet) {
    for (const auto& r : rows) std::printf("%s\n", r["ID"].get<std::string>().c_str());
    return;
  }
  std::string table = "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}";
  if (f.size) table += "\t{{.Size}}";
  if (f.pod) table += "\t{{.Pod}}\t{{.PodName}}";
  auto out = format_rows(f.format, table, rows,
                         {{"ID", "CONTAINER ID"}, {"RunningFor", "CREATED"}, {"Names", "NAMES"}, {"Pod", "POD ID"}});
  if (!out) return ctx.fail(out.error());
  std::fputs(out->c_str(), stdout);
}

struct NamesFlags {
  std::vector<std::string> names;
  int timeout = -1;
  std::string signal = "KILL";
  bool force = false, volumes = false, attach = false, interactive = false;
};

// For each name: resolve, act, print the name as given (docker's way), or fail that one.
template <class Fn>
void each(Context& ctx, const std::vector<std::string>& names, Fn fn, bool echo = true) {
  auto cs = open_containers(ctx);
  if (!cs) return ctx.fail(cs.error());
  for (const auto& n : names) {
    auto id = cs->resolve(n);
    if (!id) {
      ctx.fail(id.error());
      continue;
    }
    Result<void> r = fn(*cs, *id, n);
    if (!r) {
      // Removed by another command while this one worked on it: whatever step failed (the
      // runtime's state, a cgroup, the record), the container is (being) gone, in docker's words.
      bool gone = r.error().is(sys::ErrorKind::kNotFound) ||
                  (::access(cs->paths(*id).record().c_str(), F_OK) != 0 && errno == ENOENT);
      ctx.fail(gone ? sys::not_found("No such container: " + n) : r.error());
      continue;
    }
    if (echo) std::printf("%s\n", n.c_str());
  }
}

int stop_signal_of(const engine::ContainerRecord& r) {
  if (r.config.contains("StopSignal") && r.config["StopSignal"].is_string()) {
    auto s = parse_signal(r.config["StopSignal"].get<std::string>());
    if (s && *s > 0) return *s;
  }
  return SIGTERM;
}

int stop_timeout_of(const engine::ContainerRecord& r, int flag) {
  if (flag >= 0) return flag;
  if (r.config.contains("StopTimeout") && r.config["StopTimeout"].is_number_integer()) return r.config["StopTimeout"].get<int>();
  return 10;
}

// monitor.json's wait_for_attach as this start wants it (a foreground `run` left it on).
Result<void> set_wait_for_attach(engine::ContainerStore& cs, const std::string& id, bool wait) {
  auto path = cs.paths(id).monitor_config();
  auto mc = GUISE_TRY(engine::parse_monitor_config(GUISE_TRY(sys::read_file(path))));
  if (mc.wait_for_attach == wait) return Ok();
  mc.wait_for_attach = wait;
  return engine::write_file_atomic(path, GUISE_TRY(engine::monitor_config_json(mc)));
}

Result<void> start_one(Context& ctx, engine::ContainerStore& cs, const std::string& id) {
  auto v = GUISE_TRY(engine::view_container(cs, id));
  if (v.status() == "running" || v.status() == "paused") return Ok();
  ::unlink((cs.paths(id).dir + "/stopping").c_str());
  (void)ctx;
  GUISE_TRY(set_wait_for_attach(cs, id, false));
  GUISE_TRY(start_container(cs, id));
  return Ok();
}

// start -a: attached before the process runs, as run in the foreground; the container's code.
void start_attached(Context& ctx, const std::string& name, bool interactive) {
  auto cs = open_containers(ctx);
  if (!cs) return ctx.fail(cs.error());
  auto id = cs->resolve(name);
  if (!id) return ctx.fail(id.error());
  auto v = engine::view_container(*cs, *id);
  if (!v) return ctx.fail(v.error());
  if (v->status() == "running" || v->status() == "paused")
    return ctx.fail("container " + name + " is already running; use attach");
  ::unlink((cs->paths(*id).dir + "/stopping").c_str());
  auto set = set_wait_for_attach(*cs, *id, true);
  if (!set) return ctx.fail(set.error());
  std::optional<engine::AttachClient> client;
  Error attach_error;
  auto started = start_container(*cs, *id, [&] {
    auto c = engine::AttachClient::connect(cs->paths(*id).attach_socket());
    if (c) client.emplace(std::move(*c));
    else attach_error = c.error();
  });
  (void)set_wait_for_attach(*cs, *id, false);
  if (!started) return ctx.fail(started.error());
  if (!client) return ctx.fail(attach_error);
  AttachOptions ao;
  ao.tty = v->record.config.value("Tty", false);
  ao.stdin_open = interactive && v->record.config.value("OpenStdin", false);
  ao.send_signal = signal_forwarder(*cs, *id);
  auto code = attach_session(*client, ao);
  if (!code) return ctx.fail(code.error());
  if (*code == kDetached) return;  // the container runs on, as after docker's ctrl-p ctrl-q
  ctx.exit_code = *code;
}

}  // namespace

void register_container_commands(CLI::App& app, Context& ctx) {
  CLI::App* container = app.add_subcommand("container", "Manage containers");
  container->require_subcommand(1);

  static PsFlags pf;
  for (auto* c : {app.add_subcommand("ps", "List containers"), container->add_subcommand("ls", "List containers")->alias("list")}) {
    c->add_flag("-a,--all", pf.all, "show all containers (default shows just running)");
    c->add_flag("-q,--quiet", pf.quiet, "only container IDs");
    c->add_flag("-s,--size", pf.size, "show sizes");
    c->add_flag("--no-trunc", pf.no_trunc, "do not truncate output");
    c->add_flag("-l,--latest", pf.latest, "show the latest created container");
    c->add_option("-n,--last", pf.last, "show the n last created containers");
    c->add_option("-f,--filter", pf.filters, "filter output (status=, name=, id=, label=, exited=, ancestor=, pod=)");
    c->add_flag("--pod", pf.pod, "show the pod of each container (POD ID, PODNAME)");
    c->add_option("--format", pf.format, "json, table, or a Go template");
    c->callback([&ctx] { ps(ctx, pf); });
  }

  static NamesFlags nf;
  auto names = [](CLI::App* c) { c->add_option("CONTAINER", nf.names)->required(); };

  for (auto* c : {app.add_subcommand("start", "Start stopped containers"), container->add_subcommand("start", "Start stopped containers")}) {
    names(c);
    c->add_flag("-a,--attach", nf.attach, "attach stdout/stderr and forward signals");
    c->add_flag("-i,--interactive", nf.interactive, "attach stdin");
    c->callback([&ctx] {
      if (nf.attach || nf.interactive) {
        if (nf.names.size() != 1) return ctx.fail("you cannot start and attach multiple containers at once");
        return start_attached(ctx, nf.names[0], nf.interactive);
      }
      each(ctx, nf.names, [&](engine::ContainerStore& cs, const std::string& id, const std::string&) {
        return start_one(ctx, cs, id);
      });
    });
  }
  for (auto* c : {app.add_subcommand("stop", "Stop running containers"), container->add_subcommand("stop", "Stop running containers")}) {
    names(c);
    c->add_option("-t,--time", nf.timeout, "seconds to wait before killing it (default 10)");
    c->callback([&ctx] {
      each(ctx, nf.names, [&](engine::ContainerStore& cs, const std::string& id, const std::string&) -> Result<void> {
        auto r = GUISE_TRY(cs.read_record(id));
        GUISE_TRY(stop_container(cs, id, stop_signal_of(r), stop_timeout_of(r, nf.timeout)));
        engine::record_container_event(cs.root(), id, "stop");
        return Ok();
      });
    });
  }
  for (auto* c : {app.add_subcommand("restart", "Restart containers"), container->add_subcommand("restart", "Restart containers")}) {
    names(c);
    c->add_option("-t,--time", nf.timeout, "seconds to wait before killing it (default 10)");
    c->callback([&ctx] {
      each(ctx, nf.names, [&](engine::ContainerStore& cs, const std::string& id, const std::string&) -> Result<void> {
        auto r = GUISE_TRY(cs.read_record(id));
        GUISE_TRY(stop_container(cs, id, stop_signal_of(r), stop_timeout_of(r, nf.timeout)));
        GUISE_TRY(start_one(ctx, cs, id));
        engine::record_container_event(cs.root(), id, "restart");
        return Ok();
      });
    });
  }
  for (auto* c : {app.add_subcommand("kill", "Kill running containers"), container->add_subcommand("kill", "Kill running containers")}) {
    names(c);
    c->add_option("-s,--signal", nf.signal, "signal to send (default KILL)");
    c->callback([&ctx] {
      auto sig = parse_signal(nf.signal);
      if (!sig) return ctx.fail(sig.error());
      each(ctx, nf.names, [&](engine::ContainerStore& cs, const std::string& id, const std::string& n) -> Result<void> {
        auto v = GUISE_TRY(engine::view_container(cs, id));
        if (!v.running()) return sys::wrong_state("Cannot kill container: " + n + ": Container " + id + " is not running");
        return signal_container(cs, id, *sig, false);
      });
    });
  }
  for (auto* c : {app.add_subcommand("rm", "Remove containers"), container->add_subcommand("rm", "Remove containers")}) {
    names(c);
    c->add_flag("-f,--force", nf.force, "kill a running container first");
    c->add_flag("-v,--volumes", nf.volumes, "remove anonymous volumes too");
    c->callback([&ctx] {
      each(ctx, nf.names, [&](engine::ContainerStore& cs, const std::string& id, const std::string&) -> Result<void> {
        GUISE_TRY(refuse_infra_removal(cs, id));  // `pod rm` removes it, with its pod
        return remove_container_fully(ctx, cs, id, nf.force, nf.volumes);
      });
    });
  }
  for (auto* c : {app.add_subcommand("wait", "Wait for containers to stop, print their exit codes"), container->add_subcommand("wait", "Wait for containers to stop")}) {
    names(c);
    c->callback([&ctx] {
      each(ctx, nf.names, [&](engine::ContainerStore& cs, const std::string& id, const std::string&) -> Result<void> {
        wait_not_running(cs, id, -1);
        auto v = GUISE_TRY(engine::view_container(cs, id));
        std::printf("%d\n", v.state.exit_code);
        return Ok();
      }, false);
    });
  }
  for (const char* verb : {"pause", "unpause"}) {
    bool pause = std::string_view(verb) == "pause";
    for (auto* c : {app.add_subcommand(verb, pause ? "Pause all processes in containers" : "Unpause containers"),
                    container->add_subcommand(verb, pause ? "Pause containers" : "Unpause containers")}) {
      names(c);
      c->callback([&ctx, pause] {
        each(ctx, nf.names, [&](engine::ContainerStore& cs, const std::string& id, const std::string& n) -> Result<void> {
          auto v = GUISE_TRY(engine::view_container(cs, id));
          if (!v.running()) return sys::wrong_state("Container " + n + " is not running");
          if (pause && v.paused) return sys::wrong_state("Container " + n + " is already paused");
          if (!pause && !v.paused) return sys::wrong_state("Container " + n + " is not paused");
          auto rt = GUISE_TRY(container_runtime(cs, id));
          GUISE_TRY(pause ? rt->pause(id) : rt->resume(id));
          engine::record_container_event(cs.root(), id, pause ? "pause" : "unpause");
          return Ok();
        });
      });
    }
  }
  static std::string rename_from, rename_to;
  for (auto* c : {app.add_subcommand("rename", "Rename a container"), container->add_subcommand("rename", "Rename a container")}) {
    c->add_option("CONTAINER", rename_from)->required();
    c->add_option("NEW_NAME", rename_to)->required();
    c->callback([&ctx] {
      auto cs = open_containers(ctx);
      if (!cs) return ctx.fail(cs.error());
      auto id = cs->resolve(rename_from);
      if (!id) return ctx.fail(id.error());
      std::string to = rename_to[0] == '/' ? rename_to.substr(1) : rename_to;
      if (!engine::ContainerStore::valid_name(to))
        return ctx.fail("Invalid container name (" + to + "), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed");
      // One rename (or start, or rm) of a container at a time; the name given must still
      // be its name once the lock is ours.
      auto locked = cs->lock_container(*id);
      if (!locked) return ctx.fail(locked.error());
      if (auto again = cs->resolve(rename_from); !again || *again != *id)
        return ctx.fail(sys::not_found("No such container: " + rename_from));
      auto rec = cs->read_record(*id);
      if (!rec) return ctx.fail(rec.error());
      if (rec->name == to) return ctx.fail("Renaming a container with the same name as its current name");
      auto reserved = cs->reserve_name(to, *id);
      if (!reserved) return ctx.fail(reserved.error());
      std::string old = rec->name;
      rec->name = to;
      auto w = cs->write_record(*rec);
      if (!w) {
        cs->release_name(to, *id);
        return ctx.fail(w.error());
      }
      cs->release_name(old, *id);
      engine::record_container_event(cs->root(), *id, "rename", {{"oldName", old}});
    });
  }
  static std::string top_name;
  for (auto* c : {app.add_subcommand("top", "Show a container's processes"), container->add_subcommand("top", "Show a container's processes")}) {
    c->add_option("CONTAINER", top_name)->required();
    c->callback([&ctx] {
      auto cs = open_containers(ctx);
      if (!cs) return ctx.fail(cs.error());
      auto id = cs->resolve(top_name);
      if (!id) return ctx.fail(id.error());
      auto v = engine::view_container(*cs, *id);
      if (!v) return ctx.fail(v.error());
      if (!v->running()) return ctx.fail("Container " + *id + " is not running");
      auto rt = container_runtime(*cs, *id);
      if (!rt) return ctx.fail(rt.error());
      auto pids = (*rt)->pids(*id);
      if (!pids) return ctx.fail(pids.error());
      std::vector<std::string> lines = {"UID\tPID\tPPID\tCMD"};
      for (pid_t pid : *pids) {
        auto status = sys::read_file("/proc/" + std::to_string(pid) + "/status");
        auto cmdline = sys::read_file("/proc/" + std::to_string(pid) + "/cmdline");
        if (!status || !cmdline) continue;
        std::string uid = "?", ppid = "?";
        auto field = [&](const char* key) {
          auto at = status->find(key);
          if (at == std::string::npos) return std::string("?");
          auto start = at + std::strlen(key);
          while (start < status->size() && ((*status)[start] == '\t' || (*status)[start] == ' ')) ++start;
          auto end = status->find_first_of("\t\n", start);
          return status->substr(start, end - start);
        };
        uid = field("Uid:");
        ppid = field("PPid:");
        std::string cmd = *cmdline;
        std::replace(cmd.begin(), cmd.end(), '\0', ' ');
        while (!cmd.empty() && cmd.back() == ' ') cmd.pop_back();
        lines.push_back(uid + "\t" + std::to_string(pid) + "\t" + ppid + "\t" + cmd);
      }
      std::fputs(align_columns(lines).c_str(), stdout);
    });
  }
  static bool prune_force = false;
  auto* prune = container->add_subcommand("prune", "Remove all stopped containers");
  prune->add_flag("-f,--force", prune_force, "do not prompt for confirmation");
  prune->callback([&ctx] {
    if (!prune_force) {
      std::printf("WARNING! This will remove all stopped containers.\nAre you sure you want to continue? [y/N] ");
      std::fflush(stdout);
      std::string answer;
      std::getline(std::cin, answer);
      if (answer != "y" && answer != "Y") return;
    }
    auto cs = open_containers(ctx);
    if (!cs) return ctx.fail(cs.error());
    auto ids = cs->list_ids();
    if (!ids) return ctx.fail(ids.error());
    bool header = false;
    for (const auto& id : *ids) {
      auto v = engine::view_container(*cs, id);
      if (!v || v->running() || v->status() == "paused" || is_pod_infra(*cs, id)) continue;
      if (!header) std::printf("Deleted Containers:\n");
      header = true;
      auto r = remove_container_fully(ctx, *cs, id, false);
      if (!r) return ctx.fail(r.error());
      std::printf("%s\n", id.c_str());
    }
    std::printf("%sTotal reclaimed space: 0B\n", header ? "\n" : "");
  });
}

}  // namespace guise::cli
