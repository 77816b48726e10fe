// podman's pod commands: create, ps|ls|list, inspect, exists, start, stop, kill, rm, prune. A pod's
// lock is taken before its containers' (pod_store.h); members are stopped before the
// infra, whose PID 1 holds the namespaces they share.
#include <signal.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <ctime>
#include <future>

#include "cli/common/signal.h"
#include "cli/guise/container_common.h"
#include "cli/guise/container_network.h"
#include "cli/guise/human.h"
#include "cli/guise/pod_commands.h"
#include "cli/guise/template.h"
#include "engine/pod_view.h"

namespace guise::cli {

using nlohmann::json;

namespace {

struct Stores {
  engine::PodStore pods;
  engine::ContainerStore cs;
};

Result<Stores> open_stores(Context& ctx) {
  auto pods = GUISE_TRY(open_pods(ctx));
  auto cs = GUISE_TRY(open_containers(ctx));
  return Stores{std::move(pods), std::move(cs)};
}

Result<engine::PodView> view(const Stores& s, const std::string& id) {
  auto ids = GUISE_TRY(s.cs.list_ids());
  return engine::view_pod(s.pods, s.cs, id, ids);
}

// podman's status for a pod command: 1 when there is no such pod (as `rm` of a missing
// container), 125 for any other failure.
int failure_code(const Error& e) { return e.is(sys::ErrorKind::kNotFound) ? 1 : 125; }

// For each pod named: resolve, act, print its id (podman's way), or fail that one.
template <class Fn>
void each_pod(Context& ctx, const std::vector<std::string>& names, Fn fn) {
  auto s = open_stores(ctx);
  if (!s) return ctx.fail(s.error(), 125);
  for (const auto& n : names) {
    auto r = [&]() -> Result<std::string> {
      std::string id = GUISE_TRY(s->pods.resolve(n));
      GUISE_TRY(fn(*s, id));
      return id;
    }();
    if (!r) {
      ctx.fail(r.error(), failure_code(r.error()));
      continue;
    }
    std::printf("%s\n", r->c_str());
  }
}

std::vector<const engine::ContainerView*> members(const engine::PodView& v) {
  std::vector<const engine::ContainerView*> out;
  for (const auto& c : v.containers)
    if (c.record.id != v.record.infra_id) out.push_back(&c);
  return out;
}

int stop_signal_of(const engine::ContainerRecord& r) {
  if (r.config.contains("StopSignal") && r.config["StopSignal"].is_string())
    if (auto s = parse_signal(r.config["StopSignal"].get<std::string>()); s && *s > 0) return *s;
  return SIGTERM;
}

// Every member at once (each may wait out its timeout), then the infra.
Result<void> stop_pod(Stores& s, const std::string& id, int timeout_s) {
  auto held = GUISE_TRY(s.pods.lock(id));
  auto v = GUISE_TRY(view(s, id));
  std::vector<std::future<Result<void>>> stops;
  for (const auto* c : members(v)) {
    if (!c->running()) continue;
    int t = timeout_s >= 0 ? timeout_s : c->record.config.value("StopTimeout", 10);
    std::string cid = c->record.id;
    int sig = stop_signal_of(c->record);
    stops.push_back(std::async(std::launch::async, [&s, cid, sig, t] { return stop_container(s.cs, cid, sig, t); }));
  }
  Result<void> first = Ok();
  for (auto& f : stops)
    if (auto r = f.get(); !r && first) first = std::move(r);
  GUISE_TRY(std::move(first));
  GUISE_TRY(stop_container(s.cs, v.record.infra_id, SIGTERM, timeout_s >= 0 ? timeout_s : 10));
  record_pod_event(s.cs.root(), v.record, "stop");
  return Ok();
}

Result<void> start_pod(Stores& s, const std::string& id) {
  auto held = GUISE_TRY(s.pods.lock(id));
  auto v = GUISE_TRY(view(s, id));
  // The infra first (a member's start would do it too, but a pod of none has only it).
  for (const auto& c : v.containers) {
    if (c.running() || c.status() == "paused") continue;
    ::unlink((s.cs.paths(c.record.id).dir + "/stopping").c_str());
    GUISE_TRY(start_container(s.cs, c.record.id), "starting container " + c.record.name);
  }
  record_pod_event(s.cs.root(), v.record, "start");
  return Ok();
}

Result<void> kill_pod(Stores& s, const std::string& id, int sig) {
  auto v = GUISE_TRY(view(s, id));
  if (!v.any_running()) return sys::wrong_state("pod " + v.record.name + " is not running");
  for (const auto* c : members(v))
    if (c->running()) GUISE_TRY(signal_container(s.cs, c->record.id, sig, false, "kill"));
  for (const auto& c : v.containers)
    if (c.record.id == v.record.infra_id && c.running()) GUISE_TRY(signal_container(s.cs, c.record.id, sig, false, "kill"));
  record_pod_event(s.cs.root(), v.record, "kill");
  return Ok();
}

Result<void> remove_pod(Context& ctx, Stores& s, const std::string& id, bool force) {
  auto held = GUISE_TRY(s.pods.lock(id));
  auto v = GUISE_TRY(view(s, id));
  if (v.any_running() && !force)
    return sys::wrong_state("pod " + v.record.name + " has running containers: stop the pod before removing or force remove");
  for (const auto* c : members(v)) GUISE_TRY(remove_container_fully(ctx, s.cs, c->record.id, true));
  if (::access(s.cs.paths(v.record.infra_id).record().c_str(), F_OK) == 0)
    GUISE_TRY(remove_container_fully(ctx, s.cs, v.record.infra_id, true), "removing the infra container");
  GUISE_TRY(s.pods.remove(v.record));
  record_pod_event(s.cs.root(), v.record, "remove");
  return Ok();
}

struct LsFlags {
  bool quiet = false, no_trunc = false;
  std::string format;
  std::vector<std::string> filters;
};

Result<bool> pod_matches(const engine::PodView& v, const std::vector<std::string>& filters) {
  for (const auto& f : filters) {
    auto eq = f.find('=');
    if (eq == std::string::npos) return sys::user_error("--filter \"" + f + "\": expected KEY=VALUE");
    std::string key = f.substr(0, eq), val = f.substr(eq + 1);
    if (key == "name") {
      if (v.record.name.find(val) == std::string::npos) return false;
    } else if (key == "id") {
      if (v.record.id.rfind(val, 0) != 0) return false;
    } else if (key == "status") {
      std::string st = v.status();
      std::transform(st.begin(), st.end(), st.begin(), ::tolower);
      if (st != val) return false;
    } else {
      return sys::user_error("--filter: \"" + key + "\" is not a pod filter (name, id, status)");
    }
  }
  return true;
}

void ls(Context& ctx, const LsFlags& f) {
  auto s = open_stores(ctx);
  if (!s) return ctx.fail(s.error(), 125);
  auto pod_ids = s->pods.list_ids();
  auto container_ids = s->cs.list_ids();
  if (!pod_ids) return ctx.fail(pod_ids.error(), 125);
  if (!container_ids) return ctx.fail(container_ids.error(), 125);
  std::vector<engine::PodView> views;
  for (const auto& id : *pod_ids) {
    auto v = engine::view_pod(s->pods, s->cs, id, *container_ids);
    if (!v) continue;  // removed meanwhile
    auto m = pod_matches(*v, f.filters);
    if (!m) return ctx.fail(m.error(), 125);
    if (*m) views.push_back(std::move(*v));
  }
  std::sort(views.begin(), views.end(), [](const auto& a, const auto& b) { return a.record.created > b.record.created; });
  int64_t now = ::time(nullptr);
  auto cut = [&](const std::string& id) { return f.no_trunc ? id : id.substr(0, 12); };
  std::vector<json> rows;
  for (const auto& v : views) {
    json names = json::array();
    for (const auto& c : v.containers) names.push_back(c.record.name);
    rows.push_back({{"ID", cut(v.record.id)},
                    {"Name", v.record.name},
                    {"Status", v.status()},
                    {"Created", since(v.record.created, now)},
                    {"CreatedAt", created_at(v.record.created)},
                    {"InfraID", cut(v.record.infra_id)},
                    {"NumberOfContainers", v.containers.size()},
                    {"ContainerNames", names},
                    {"Labels", v.record.labels}});
  }
  if (f.quiet) {
    for (const auto& r : rows) std::printf("%s\n", r["ID"].get<std::string>().c_str());
    return;
  }
  auto out = format_rows(f.format,
                         "table {{.ID}}\t{{.Name}}\t{{.Status}}\t{{.Created}}\t{{.InfraID}}\t{{.NumberOfContainers}}", rows,
                         {{"ID", "POD ID"}, {"InfraID", "INFRA ID"}, {"NumberOfContainers", "# OF CONTAINERS"}});
  if (!out) return ctx.fail(out.error(), 125);
  std::fputs(out->c_str(), stdout);
}

void inspect(Context& ctx, const std::vector<std::string>& names, const std::string& format) {
  auto s = open_stores(ctx);
  if (!s) return ctx.fail(s.error(), 125);
  json all = json::array();
  for (const auto& n : names) {
    auto v = [&]() -> Result<engine::PodView> { return view(*s, GUISE_TRY(s->pods.resolve(n))); }();
    if (!v) {
      ctx.fail(v.error(), failure_code(v.error()));
      continue;
    }
    all.push_back(engine::pod_inspect_json(*v));
  }
  if (format.empty() || format == "json") {
    std::printf("%s\n", all.dump(4).c_str());
    return;
  }
  auto t = Template::parse(format);
  if (!t) return ctx.fail(std::move(t.error()).with_context("--format"), 125);
  for (const auto& j : all) {
    auto out = t->render(j);
    if (!out) return ctx.fail(out.error(), 125);
    std::printf("%s\n", out->c_str());
  }
}

}  // namespace

void register_pod_commands(CLI::App& app, Context& ctx) {
  CLI::App* pod = app.add_subcommand("pod", "Manage pods: containers that share namespaces");
  pod->require_subcommand(1);

  static PodCreateFlags cf;
  auto* create = pod->add_subcommand("create", "Create a new empty pod");
  create->add_option("--name", cf.name, "name of the pod");
  create->add_option("-p,--publish", cf.publish, "publish a port of the pod: [IP:][HOST:]CONTAINER[/PROTO]");
  create->add_option("--network,--net", cf.network, "the pod's network: bridge, host, none, NAME");
  create->add_option("--share", cf.share, "namespaces the containers share (ipc, net, pid, uts; +NS adds to the default)");
  create->add_option("--hostname", cf.hostname, "the pod's hostname (default: its name)");
  create->add_option("--pid", cf.pid, "the pod's PID namespace: host (shared by every member) or private");
  create->add_option("--ipc", cf.ipc, "the pod's IPC namespace: host or private");
  create->add_option("--uts", cf.uts, "the pod's UTS namespace: host or private");
  create->add_option("--dns", cf.dns, "a DNS server for the pod");
  create->add_option("--add-host", cf.add_host, "a host-to-IP mapping (host:ip) in the pod's /etc/hosts");
  create->add_option("-l,--label", cf.labels, "set metadata on the pod");
  create->callback([&ctx] {
    auto id = create_pod(ctx, cf);
    if (!id) return ctx.fail(id.error(), 125);
    std::printf("%s\n", id->c_str());
  });

  static LsFlags lf;
  auto* ps = pod->add_subcommand("ps", "List pods");
  ps->alias("ls")->alias("list");
  ps->add_flag("-q,--quiet", lf.quiet, "only pod IDs");
  ps->add_flag("--no-trunc", lf.no_trunc, "do not truncate IDs");
  ps->add_option("--format", lf.format, "json, table, or a Go template");
  ps->add_option("-f,--filter", lf.filters, "filter output (name=, id=, status=)");
  ps->callback([&ctx] { ls(ctx, lf); });

  static std::vector<std::string> names;
  static std::string format;
  auto* insp = pod->add_subcommand("inspect", "Display a pod's configuration and containers");
  insp->add_option("POD", names)->required();
  insp->add_option("-f,--format", format, "a Go template");
  insp->callback([&ctx] { inspect(ctx, names, format); });

  auto* start = pod->add_subcommand("start", "Start pods: the infra, then every container");
  start->add_option("POD", names)->required();
  start->callback([&ctx] { each_pod(ctx, names, [&](Stores& s, const std::string& id) { return start_pod(s, id); }); });

  static int timeout = -1;
  auto* stop = pod->add_subcommand("stop", "Stop pods: every container, then the infra");
  stop->add_option("POD", names)->required();
  stop->add_option("-t,--time", timeout, "seconds to wait before killing a container (default: its stop timeout)");
  stop->callback([&ctx] {
    each_pod(ctx, names, [&](Stores& s, const std::string& id) { return stop_pod(s, id, timeout); });
  });

  static std::string signal = "KILL";
  auto* kill = pod->add_subcommand("kill", "Send a signal to every running container of pods");
  kill->add_option("POD", names)->required();
  kill->add_option("-s,--signal", signal, "signal to send (default KILL)");
  kill->callback([&ctx] {
    auto sig = parse_signal(signal);
    if (!sig || *sig <= 0) return ctx.fail("--signal: invalid signal: " + signal, 125);
    each_pod(ctx, names, [&](Stores& s, const std::string& id) { return kill_pod(s, id, *sig); });
  });

  static std::string one;
  auto* exists = pod->add_subcommand("exists", "Exit 0 when the pod exists, 1 when it does not");
  exists->add_option("POD", one)->required();
  exists->callback([&ctx] {
    auto s = open_stores(ctx);
    if (!s) return ctx.fail(s.error(), 125);
    auto id = s->pods.resolve(one);
    if (!id) ctx.exit_code = id.error().is(sys::ErrorKind::kNotFound) ? 1 : 125;
  });

  static bool prune_force = false;
  auto* prune = pod->add_subcommand("prune", "Remove every pod with no running container, and their containers");
  prune->add_flag("-f,--force", prune_force, "do not prompt for confirmation");
  prune->callback([&ctx] {
    if (!prune_force && !confirm("WARNING! This will remove all stopped/exited pods..")) return;
    auto s = open_stores(ctx);
    if (!s) return ctx.fail(s.error(), 125);
    auto ids = s->pods.list_ids();
    if (!ids) return ctx.fail(ids.error(), 125);
    for (const auto& id : *ids) {
      auto v = view(*s, id);
      if (!v || v->any_running()) continue;
      auto r = remove_pod(ctx, *s, id, false);  // started meanwhile: refused, and left
      if (r) std::printf("%s\n", id.c_str());
      else if (!r.error().is(sys::ErrorKind::kWrongState) && !r.error().is(sys::ErrorKind::kNotFound)) ctx.fail(r.error(), 125);
    }
  });

  static bool force = false;
  auto* rm = pod->add_subcommand("rm", "Remove pods and their containers");
  rm->add_option("POD", names)->required();
  rm->add_flag("-f,--force", force, "stop running containers first");
  rm->callback([&ctx] {
    each_pod(ctx, names, [&](Stores& s, const std::string& id) { return remove_pod(ctx, s, id, force); });
  });
}

}  // namespace guise::cli
