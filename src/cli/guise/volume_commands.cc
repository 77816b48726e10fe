// docker volume create|ls|inspect|rm|prune, for the local driver: STORE/volumes/NAME/_data,
// with NAME/volume.json beside it (created time, labels). Volumes `run` made on first use
// have no volume.json: their directory's time stands in.
#include <sys/stat.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>
#include <iostream>

#include "cli/guise/container_common.h"
#include "cli/guise/human.h"
#include "cli/guise/template.h"
#include "sys/clock.h"
#include "sys/syscalls.h"

namespace guise::cli {

using nlohmann::json;

namespace {

std::string volumes_dir(const Context& ctx) { return store_root(ctx) + "/volumes"; }

bool anonymous_name(const std::string& n) {
  return n.size() == 64 && n.find_first_not_of("0123456789abcdef") == std::string::npos;
}

Result<json> volume_json(const Context& ctx, const std::string& name) {
  std::string base = volumes_dir(ctx) + "/" + name;
  struct stat st {};
  if (!engine::ContainerStore::valid_name(name) || ::stat((base + "/_data").c_str(), &st) < 0)
    return sys::not_found("get " + name + ": no such volume");
  json meta = json::object();
  if (auto text = sys::read_file(base + "/volume.json"); text) meta = json::parse(*text, nullptr, false);
  if (!meta.is_object()) meta = json::object();
  std::string created = meta.value("CreatedAt", "");
  if (created.empty()) {
    char buf[64];
    struct tm tm {};
    ::localtime_r(&st.st_mtime, &tm);
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S%z", &tm);
    created = buf;
    if (created.size() > 5) created.insert(created.size() - 2, ":");
  }
  json labels = meta.contains("Labels") && meta["Labels"].is_object() ? meta["Labels"] : json(nullptr);
  return json{{"CreatedAt", created},     {"Driver", "local"}, {"Labels", labels},
              {"Mountpoint", base + "/_data"}, {"Name", name},   {"Options", meta.contains("Options") ? meta["Options"] : json(nullptr)},
              {"Scope", "local"}};
}

Result<std::vector<std::string>> volume_names(const Context& ctx) {
  std::vector<std::string> names;
  std::error_code ec;
  for (auto it = std::filesystem::directory_iterator(volumes_dir(ctx), ec); !ec && it != std::filesystem::directory_iterator(); it.increment(ec))
    if (std::filesystem::exists(it->path() / "_data")) names.push_back(it->path().filename());
  std::sort(names.begin(), names.end());
  return names;
}

// The containers whose Mounts name the volume.
Result<std::vector<std::string>> users_of(const Context& ctx, const std::string& name) {
  auto cs = GUISE_TRY(open_containers(ctx));
  std::vector<std::string> users;
  for (const auto& id : GUISE_TRY(cs.list_ids())) {
    auto rec = cs.read_record(id);
    if (!rec || !rec->mounts.is_array()) continue;
    for (const auto& m : rec->mounts)
      if (m.value("Type", "") == "volume" && m.value("Name", "") == name) {
        users.push_back(id);
        break;
      }
  }
  return users;
}

Result<void> remove_volume(const Context& ctx, const std::string& name, bool force) {
  auto v = volume_json(ctx, name);
  if (!v) {
    if (force) return Ok();
    return std::move(v.error());
  }
  auto users = GUISE_TRY(users_of(ctx, name));
  if (!users.empty()) {
    std::string list;
    for (const auto& u : users) list += (list.empty() ? "" : ", ") + u;
    return sys::wrong_state("remove " + name + ": volume is in use - [" + list + "]");
  }
  std::error_code ec;
  std::filesystem::remove_all(volumes_dir(ctx) + "/" + name, ec);
  if (ec) return sys::sys_error_n(ec.value(), "remove volume", name);
  return Ok();
}

Result<void> create_volume(const Context& ctx, std::string name, const std::vector<std::string>& labels,
                           const std::vector<std::string>& opts) {
  if (name.empty()) name = engine::ContainerStore::new_id();
  if (!engine::ContainerStore::valid_name(name))
    return sys::user_error("create " + name + ": \"" + name +
                           "\" includes invalid characters for a local volume name, only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to pass a host directory, use absolute path");
  for (const auto& o : opts) return sys::user_error("create " + name + ": invalid option: \"" + o + "\"");
  std::string base = volumes_dir(ctx) + "/" + name;
  if (volume_json(ctx, name)) {
    std::printf("%s\n", name.c_str());  // docker: creating an existing volume is not an error
    return Ok();
  }
  json meta = {{"CreatedAt", sys::now_rfc3339()}, {"Labels", json::object()}};
  for (const auto& l : labels) {
    auto eq = l.find('=');
    meta["Labels"][l.substr(0, eq)] = eq == std::string::npos ? "" : l.substr(eq + 1);
  }
  std::error_code ec;
  std::filesystem::create_directories(base + "/_data", ec);
  if (ec) return sys::sys_error_n(ec.value(), "mkdir", base);
  auto w = engine::write_file_atomic(base + "/volume.json", meta.dump());
  if (!w) {
    std::filesystem::remove_all(base, ec);
    return w;
  }
  std::printf("%s\n", name.c_str());
  return Ok();
}

}  // namespace

void register_volume_commands(CLI::App& app, Context& ctx) {
  CLI::App* volume = app.add_subcommand("volume", "Manage volumes");
  volume->require_subcommand(1);

  static std::string create_name;
  static std::vector<std::string> create_labels, create_opts;
  static std::string create_driver = "local";
  auto* create = volume->add_subcommand("create", "Create a volume");
  create->add_option("VOLUME", create_name);
  create->add_option("--name", create_name, "volume name");
  create->add_option("-l,--label", create_labels, "metadata for a volume");
  create->add_option("-o,--opt", create_opts, "driver specific options");
  create->add_option("-d,--driver", create_driver, "volume driver name")->check(CLI::IsMember({"local"}));
  create->callback([&ctx] {
    auto r = create_volume(ctx, create_name, create_labels, create_opts);
    if (!r) ctx.fail(r.error());
  });

  static bool ls_quiet = false;
  static std::string ls_format;
  static std::vector<std::string> ls_filters;
  auto* ls = volume->add_subcommand("ls", "List volumes")->alias("list");
  ls->add_flag("-q,--quiet", ls_quiet, "only display volume names");
  ls->add_option("--format", ls_format, "json, table, or a Go template");
  ls->add_option("-f,--filter", ls_filters, "filter output (dangling=, name=, label=)");
  ls->callback([&ctx] {
    auto names = volume_names(ctx);
    if (!names) return ctx.fail(names.error());
    std::vector<json> rows;
    for (const auto& n : *names) {
      auto v = volume_json(ctx, n);
      if (!v) continue;
      bool keep = true;
      for (const auto& f : ls_filters) {
        auto eq = f.find('=');
        std::string key = f.substr(0, eq), val = eq == std::string::npos ? "" : f.substr(eq + 1);
        if (key == "name") keep = keep && n.find(val) != std::string::npos;
        else if (key == "dangling") {
          auto users = users_of(ctx, n);
          bool dangling = users && users->empty();
          keep = keep && (dangling == (val == "true" || val == "1"));
        } else if (key == "label") {
          auto leq = val.find('=');
          const json& labels = (*v)["Labels"];
          std::string lk = val.substr(0, leq);
          keep = keep && labels.is_object() && labels.contains(lk) &&
                 (leq == std::string::npos || labels[lk] == val.substr(leq + 1));
        } else if (key == "driver") keep = keep && val == "local";
        else return ctx.fail("invalid filter '" + key + "'");
      }
      if (!keep) continue;
      json row = *v;
      std::string label_text;
      if (row["Labels"].is_object())
        for (const auto& [k, lv] : row["Labels"].items()) label_text += (label_text.empty() ? "" : ",") + k + "=" + lv.get<std::string>();
      row["Labels"] = label_text;
      row["Links"] = "N/A";
      row["Size"] = "N/A";
      rows.push_back(row);
    }
    if (ls_quiet) {
      for (const auto& r : rows) std::printf("%s\n", r["Name"].get<std::string>().c_str());
      return;
    }
    auto out = format_rows(ls_format, "table {{.Driver}}\t{{.Name}}", rows, {{"Name", "VOLUME NAME"}});
    if (!out) return ctx.fail(out.error());
    std::fputs(out->c_str(), stdout);
  });

  static std::vector<std::string> inspect_names;
  static std::string inspect_format;
  auto* inspect = volume->add_subcommand("inspect", "Display detailed information on volumes");
  inspect->add_option("-f,--format", inspect_format, "a Go template, or json");
  inspect->add_option("VOLUME", inspect_names)->required();
  inspect->callback([&ctx] {
    json all = json::array();
    for (const auto& n : inspect_names) {
      auto v = volume_json(ctx, n);
      if (!v) {
        ctx.fail(sys::not_found("No such volume: " + n));
        continue;
      }
      all.push_back(*v);
    }
    if (inspect_format.empty() || inspect_format == "json") {
      if (!all.empty() || ctx.exit_code == 0) std::printf("%s\n", all.dump(4).c_str());
      return;
    }
    auto t = Template::parse(inspect_format);
    if (!t) return ctx.fail(std::move(t.error()).with_context("--format"));
    for (const auto& v : all) {
      auto s = t->render(v);
      if (!s) return ctx.fail(s.error());
      std::printf("%s\n", s->c_str());
    }
  });

  static std::vector<std::string> rm_names;
  static bool rm_force = false;
  auto* rm = volume->add_subcommand("rm", "Remove one or more volumes")->alias("remove");
  rm->add_flag("-f,--force", rm_force, "force the removal of one or more volumes");
  rm->add_option("VOLUME", rm_names)->required();
  rm->callback([&ctx] {
    for (const auto& n : rm_names) {
      auto r = remove_volume(ctx, n, rm_force);
      if (!r) {
        ctx.fail(r.error());
        continue;
      }
      std::printf("%s\n", n.c_str());
    }
  });

  static bool prune_force = false, prune_all = false;
  static std::vector<std::string> prune_filters;
  auto* prune = volume->add_subcommand("prune", "Remove unused local volumes");
  prune->add_flag("-f,--force", prune_force, "do not prompt for confirmation");
  prune->add_flag("-a,--all", prune_all, "remove all unused volumes, not just anonymous ones");
  prune->add_option("--filter", prune_filters, "provide filter values (label=)");
  prune->callback([&ctx] {
    const char* warning = prune_all ? "WARNING! This will remove all local volumes not used by at least one container."
                                    : "WARNING! This will remove anonymous local volumes not used by at least one container.";
    if (!prune_force && !confirm(warning)) return;
    auto names = volume_names(ctx);
    if (!names) return ctx.fail(names.error());
    bool header = false;
    int64_t freed = 0;
    for (const auto& n : *names) {
      if (!prune_all && !anonymous_name(n)) continue;
      auto users = users_of(ctx, n);
      if (!users) return ctx.fail(users.error());
      if (!users->empty()) continue;
      std::error_code ec;
      for (auto it = std::filesystem::recursive_directory_iterator(volumes_dir(ctx) + "/" + n, ec);
           !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec))
        if (it->is_regular_file(ec) && !it->is_symlink(ec)) freed += static_cast<int64_t>(it->file_size(ec));
      auto r = remove_volume(ctx, n, false);
      if (!r) return ctx.fail(r.error());
      if (!header) std::printf("Deleted Volumes:\n");
      header = true;
      std::printf("%s\n", n.c_str());
    }
    std::printf("%sTotal reclaimed space: %s\n", header ? "\n" : "", human_size(freed).c_str());
  });
}

}  // namespace guise::cli
