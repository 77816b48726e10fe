// guise stats: docker's live table of containers' usage, and what docker hides (CPU
// throttling, pressure, memory.high events, OOM kills, the pids limit). Each frame comes
// from two readings about a second apart, as docker's daemon samples: CPU % and
// throttling are over that interval. --no-stream prints one frame, so it takes ~1 s.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <map>
#include <thread>

#include "cli/guise/container_common.h"
#include "cli/guise/stats_format.h"
#include "cli/guise/template.h"
#include "engine/container_stats.h"

namespace guise::cli {

namespace {

struct StatsFlags {
  bool no_stream = false, no_trunc = false, all = false;
  std::string format;
  std::vector<std::string> names;
};

constexpr auto kInterval = std::chrono::milliseconds(1000);

struct Target {
  std::string id, given;  // given: as the user named it ("" when listed)
};

// The containers this frame shows: those named, else the running ones (all with -a).
Result<std::vector<Target>> targets(const engine::ContainerStore& cs, const StatsFlags& f) {
  std::vector<Target> out;
  if (!f.names.empty()) {
    for (const auto& n : f.names) out.push_back({GUISE_TRY(cs.resolve(n)), n});
    return out;
  }
  for (const auto& id : GUISE_TRY(cs.list_ids())) {
    if (!f.all) {
      auto v = engine::view_container(cs, id);
      if (!v || !v->running()) continue;
    }
    out.push_back({id, ""});
  }
  return out;
}

class Sampler {
 public:
  explicit Sampler(const engine::ContainerStore& cs) : cs_(cs), g_(runtime_globals(cs)), mem_(engine::host_memory_total()) {}

  // Reads every target; a container that is not running gets a row of zeros, as docker's.
  Result<void> take(const std::vector<Target>& ts) {
    std::map<std::string, engine::StatsSample> next;
    for (const auto& t : ts) {
      auto v = engine::view_container(cs_, t.id);
      if (!v) continue;  // removed meanwhile
      views_[t.id] = *v;
      if (!v->running()) continue;
      auto s = engine::sample_container(g_, *v);
      if (!s) {
        if (s.error().is(sys::ErrorKind::kWrongState) || s.error().is(sys::ErrorKind::kNotFound)) continue;  // it just stopped
        return std::move(s.error());
      }
      next[t.id] = std::move(*s);
    }
    prev_ = std::move(now_);
    now_ = std::move(next);
    return Ok();
  }

  std::vector<nlohmann::json> rows(const std::vector<Target>& ts, bool no_trunc) const {
    std::vector<nlohmann::json> out;
    for (const auto& t : ts) {
      auto v = views_.find(t.id);
      if (v == views_.end()) continue;
      engine::StatsRow row;
      if (auto n = now_.find(t.id); n != now_.end()) {
        auto p = prev_.find(t.id);
        row = engine::stats_row(p == prev_.end() ? nullptr : &p->second, n->second, mem_);
      }
      StatsNames names{t.given.empty() ? t.id.substr(0, 12) : t.given, no_trunc ? t.id : t.id.substr(0, 12),
                       v->second.record.name};
      out.push_back(stats_row_json(row, names));
    }
    return out;
  }

 private:
  const engine::ContainerStore& cs_;
  runtime::Globals g_;
  uint64_t mem_;
  std::map<std::string, engine::ContainerView> views_;
  std::map<std::string, engine::StatsSample> prev_, now_;
};

void stats(Context& ctx, const StatsFlags& f) {
  if (!f.format.empty() && f.format != "json" && f.format != "table") {
    if (auto t = Template::parse(f.format); !t) return ctx.fail(Error(t.error()).with_context("--format"), 125);
  }
  std::string format = f.format == "table" ? "" : f.format;
  auto cs = open_containers(ctx);
  if (!cs) return ctx.fail(cs.error());
  Sampler sampler(*cs);
  auto ts = targets(*cs, f);
  if (!ts) return ctx.fail(ts.error());
  if (auto r = sampler.take(*ts); !r) return ctx.fail(r.error());
  bool tty = ::isatty(STDOUT_FILENO);
  for (;;) {
    std::this_thread::sleep_for(kInterval);
    if (!f.no_stream && f.names.empty()) {
      auto fresh = targets(*cs, f);
      if (!fresh) return ctx.fail(fresh.error());
      *ts = std::move(*fresh);
    }
    if (auto r = sampler.take(*ts); !r) return ctx.fail(r.error());
    auto out = format_rows(format, kStatsTable, sampler.rows(*ts, f.no_trunc), stats_headers());
    if (!out) return ctx.fail(out.error(), 125);
    if (!f.no_stream && tty) std::fputs("\033[2J\033[H", stdout);  // docker's clear screen, home
    std::fputs(out->c_str(), stdout);
    std::fflush(stdout);
    if (f.no_stream) return;
  }
}

}  // namespace

void register_stats_command(CLI::App& app, Context& ctx) {
  static StatsFlags sf;
  for (auto* c : {app.add_subcommand("stats", "Display a live stream of containers' resource usage"),
                  app.get_subcommand("container")->add_subcommand("stats", "Display containers' resource usage")}) {
    c->add_flag("--no-stream", sf.no_stream, "print one frame (two readings ~1 s apart) and exit");
    c->add_flag("--no-trunc", sf.no_trunc, "do not truncate ids");
    c->add_flag("-a,--all", sf.all, "show all containers (default shows just running)");
    c->add_option("--format", sf.format, "table, json, or a Go template");
    c->add_option("CONTAINER", sf.names, "containers to show (default: all running)");
    c->callback([&ctx] { stats(ctx, sf); });
  }
}

}  // namespace guise::cli
