// system df: what the store holds and what a prune would give back, in docker's table.
#include <CLI/CLI.hpp>
#include <cstdio>

#include "cli/guise/context.h"
#include "cli/guise/human.h"
#include "cli/guise/template.h"

namespace guise::cli {

namespace {

std::string reclaimable(int64_t bytes, int64_t total) {
  std::string s = human_size(bytes);
  if (total > 0) s += " (" + std::to_string(bytes * 100 / total) + "%)";
  return s;
}

struct DfFlags {
  std::string format;
};

void df(Context& ctx, const DfFlags& f) {
  auto store = ctx.open_store();
  if (!store) return ctx.fail(store.error());
  auto du = store->disk_usage();
  if (!du) return ctx.fail(du.error());
  auto row = [](const char* type, int total, int active, int64_t size, std::string rec) {
    return nlohmann::json{{"Type", type},        {"TotalCount", std::to_string(total)},
                          {"Active", std::to_string(active)}, {"Size", human_size(size)},
                          {"Reclaimable", std::move(rec)}};
  };
  std::vector<nlohmann::json> rows = {
      row("Images", du->images, du->images_active, du->images_size,
          reclaimable(du->images_reclaimable, du->images_size)),
      row("Containers", du->containers, du->containers, du->rootfs_size, human_size(0)),
      row("Local Volumes", 0, 0, 0, human_size(0)),
      row("Build Cache", 0, 0, 0, human_size(0)),
  };
  auto out = format_rows(f.format, "table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}",
                         rows, {{"TotalCount", "TOTAL"}});
  if (!out) return ctx.fail(out.error());
  std::fputs(out->c_str(), stdout);
}

}  // namespace

void register_system_commands(CLI::App& app, Context& ctx) {
  auto* system = app.add_subcommand("system", "Manage guise");
  system->require_subcommand(1);
  static DfFlags f;
  auto* c = system->add_subcommand("df", "Show disk usage");
  c->add_option("--format", f.format, "json, table, or a Go template");
  c->callback([&ctx] { df(ctx, f); });
}

}  // namespace guise::cli
