// image inspect (docker's JSON), history, and podman's image mount / unmount.
#include <CLI/CLI.hpp>
#include <cstdio>

#include "cli/guise/commands_common.h"
#include "cli/guise/container_common.h"
#include "cli/guise/human.h"
#include "cli/guise/template.h"
#include "image/manifest.h"

namespace guise::cli {

using nlohmann::json;

Result<json> inspect_json(const image::Store& store, const image::ImageRecord& rec) {
  std::string config_text = GUISE_TRY(store.content().read(rec.id, 16 << 20));
  json config = json::parse(config_text, nullptr, false);
  if (!config.is_object()) return sys::user_error("image " + rec.id.str() + ": its config is not a JSON object");
  json j;
  j["Id"] = rec.id.str();
  json tags = json::array(), digests = json::array();
  for (const auto& n : GUISE_TRY(store.names_of(rec.id))) tags.push_back(familiar(n));
  for (const auto& d : rec.repo_digests) digests.push_back(familiar(d));
  j["RepoTags"] = tags;
  j["RepoDigests"] = digests;
  j["Parent"] = "";
  j["Comment"] = config.value("comment", "");
  j["Created"] = config.value("created", rec.created);
  j["Container"] = config.value("container", "");
  j["DockerVersion"] = config.value("docker_version", "");
  j["Author"] = config.value("author", "");
  // docker's Config: the image's own, with the fields docker always shows.
  json cfg = config.contains("config") && config["config"].is_object() ? config["config"] : json::object();
  for (const char* k : {"Hostname", "Domainname", "User", "WorkingDir"})
    if (!cfg.contains(k)) cfg[k] = "";
  for (const char* k : {"AttachStdin", "AttachStdout", "AttachStderr", "Tty", "OpenStdin", "StdinOnce"})
    if (!cfg.contains(k)) cfg[k] = false;
  for (const char* k : {"Env", "Cmd", "Volumes", "Entrypoint", "OnBuild", "Labels"})
    if (!cfg.contains(k)) cfg[k] = nullptr;
  if (!cfg.contains("Image")) cfg["Image"] = "";
  j["Config"] = cfg;
  j["Architecture"] = config.value("architecture", "");
  if (config.contains("variant")) j["Variant"] = config["variant"];
  j["Os"] = config.value("os", "");
  j["Size"] = rec.size;
  j["VirtualSize"] = rec.size;
  json lowers = json::array();
  std::string lower;
  for (auto it = rec.chain_ids.rbegin(); it != rec.chain_ids.rend(); ++it)
    if (auto s = store.snapshot(*it)) lower += (lower.empty() ? "" : ":") + store.snapshot_fs(*s);
  j["GraphDriver"] = {{"Name", "overlay"}, {"Data", {{"LowerDir", lower}}}};
  json layers = json::array();
  if (config.contains("rootfs") && config["rootfs"].contains("diff_ids")) layers = config["rootfs"]["diff_ids"];
  j["RootFS"] = {{"Type", "layers"}, {"Layers", layers}};
  j["Metadata"] = {{"LastTagTime", rec.added}};
  return j;
}

namespace {

struct InspectFlags {
  std::vector<std::string> names;
  std::string format, type;
};

// docker inspect: a container by that name or id first, then an image (or only the --type asked for).
void inspect(Context& ctx, const InspectFlags& f) {
  auto store = ctx.open_store();
  if (!store) return ctx.fail(store.error());
  auto containers = open_containers(ctx);
  if (!containers) return ctx.fail(containers.error());
  json all = json::array();
  for (const auto& n : f.names) {
    if (f.type != "image") {
      auto id = containers->resolve(n);
      if (id) {
        auto v = engine::view_container(*containers, *id);
        if (!v) {
          ctx.fail(v.error());
          continue;
        }
        all.push_back(engine::container_inspect_json(*v, *containers));
        continue;
      }
      if (f.type == "container") {
        ctx.fail(id.error());
        continue;
      }
    }
    auto rec = store->resolve(n);
    if (!rec) {
      ctx.fail(f.type.empty() ? sys::not_found("No such object: " + n) : rec.error());
      continue;
    }
    auto j = inspect_json(*store, *rec);
    if (!j) {
      ctx.fail(j.error());
      continue;
    }
    all.push_back(*j);
  }
  if (f.format.empty()) {
    std::printf("%s\n", all.dump(4).c_str());
    return;
  }
  if (f.format == "json") {
    for (const auto& j : all) std::printf("%s\n", j.dump().c_str());
    return;
  }
  auto t = Template::parse(f.format);
  if (!t) return ctx.fail(std::move(t.error()).with_context("--format"));
  for (const auto& j : all) {
    auto s = t->render(j);
    if (!s) return ctx.fail(s.error());
    std::printf("%s\n", s->c_str());
  }
}

struct HistoryFlags {
  std::string name, format;
  bool quiet = false, no_trunc = false, human = true;
};

void history(Context& ctx, const HistoryFlags& f) {
  auto store = ctx.open_store();
  if (!store) return ctx.fail(store.error());
  auto rec = store->resolve(f.name);
  if (!rec) return ctx.fail(rec.error());
  auto text = store->content().read(rec->id, 16 << 20);
  if (!text) return ctx.fail(text.error());
  auto config = image::parse_config(*text);
  if (!config) return ctx.fail(config.error());
  // One row per history entry, newest first; a non-empty entry owns the next layer.
  std::vector<json> rows;
  size_t layer = 0;
  std::vector<image::HistoryEntry> entries = config->history;
  if (entries.empty())
    for (size_t i = 0; i < rec->chain_ids.size(); ++i) entries.push_back({});
  for (const auto& h : entries) {
    int64_t size = 0;
    if (!h.empty_layer && layer < rec->chain_ids.size()) {
      if (auto s = store->snapshot(rec->chain_ids[layer])) size = s->size;
      ++layer;
    }
    std::string by = h.created_by;
    if (!f.no_trunc && by.size() > 45) by = by.substr(0, 44) + "…";
    json row;
    row["ID"] = "<missing>";
    row["CreatedSince"] = h.created.empty() ? "N/A" : since(h.created);
    row["CreatedAt"] = h.created;
    row["CreatedBy"] = by;
    row["Size"] = f.human ? human_size(size) : std::to_string(size);
    row["Comment"] = h.comment;
    rows.push_back(row);
  }
  std::reverse(rows.begin(), rows.end());
  if (!rows.empty()) rows[0]["ID"] = f.no_trunc ? rec->id.str() : short_id(rec->id);
  if (f.quiet) {
    for (const auto& r : rows) std::printf("%s\n", r["ID"].get<std::string>().c_str());
    return;
  }
  auto out = format_rows(f.format, "table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}", rows,
                         {{"ID", "IMAGE"}, {"CreatedSince", "CREATED"}, {"CreatedBy", "CREATED BY"}});
  if (!out) return ctx.fail(out.error());
  std::fputs(out->c_str(), stdout);
}

std::string mount_key(const image::ImageRecord& rec) { return "image-mount-" + rec.id.hex; }

struct MountFlags {
  std::vector<std::string> names;
};

void mount(Context& ctx, const MountFlags& f) {
  auto store = ctx.open_store();
  if (!store) return ctx.fail(store.error());
  for (const auto& n : f.names) {
    auto rec = store->resolve(n);
    if (!rec) return ctx.fail(rec.error());
    auto existing = store->get_rootfs(mount_key(*rec));
    if (!existing) return ctx.fail(existing.error());
    if (*existing) {  // mounted already: the same path again, as podman answers
      std::printf("%s\n", (*existing)->merged.c_str());
      continue;
    }
    auto rootfs = store->create_rootfs(mount_key(*rec), *rec);
    if (!rootfs) return ctx.fail(rootfs.error());
    auto m = store->mount_rootfs(*rootfs);
    if (!m) {
      (void)store->remove_rootfs(rootfs->key);
      return ctx.fail(m.error());
    }
    std::printf("%s\n", rootfs->merged.c_str());
  }
}

void unmount(Context& ctx, const MountFlags& f) {
  auto store = ctx.open_store();
  if (!store) return ctx.fail(store.error());
  for (const auto& n : f.names) {
    auto rec = store->resolve(n);
    if (!rec) return ctx.fail(rec.error());
    auto existing = store->get_rootfs(mount_key(*rec));
    if (!existing) return ctx.fail(existing.error());
    if (!*existing) return ctx.fail("image " + n + " is not mounted");
    auto r = store->remove_rootfs(mount_key(*rec));
    if (!r) return ctx.fail(r.error());
    std::printf("%s\n", rec->id.hex.c_str());
  }
}

}  // namespace

void register_inspect(CLI::App& app, CLI::App& image, Context& ctx) {
  static InspectFlags inf;
  auto add_inspect = [&](CLI::App* c, const char* type) {
    c->add_option("NAME", inf.names, "name or ID")->required();
    c->add_option("-f,--format", inf.format, "a Go template, or json");
    if (*type) {
      c->callback([&ctx, type] {
        inf.type = type;
        inspect(ctx, inf);
      });
    } else {
      c->add_option("--type", inf.type, "container or image")->check(CLI::IsMember({"container", "image"}));
      c->callback([&ctx] { inspect(ctx, inf); });
    }
  };
  add_inspect(image.add_subcommand("inspect", "Show images' details as JSON"), "image");
  add_inspect(app.add_subcommand("inspect", "Show containers' and images' details as JSON"), "");
  static HistoryFlags hf;
  for (auto* c : {app.add_subcommand("history", "Show an image's layers"),
                  image.add_subcommand("history", "Show an image's layers")}) {
    c->add_option("IMAGE", hf.name)->required();
    c->add_flag("-q,--quiet", hf.quiet, "only image IDs");
    c->add_flag("--no-trunc", hf.no_trunc, "do not truncate output");
    c->add_option("-H,--human", hf.human, "sizes and dates for people (true or false)");
    c->add_option("--format", hf.format, "json, table, or a Go template");
    c->callback([&ctx] { history(ctx, hf); });
  }
  static MountFlags mf;
  auto* m = image.add_subcommand("mount", "Mount an image's root filesystem and print where");
  m->add_option("IMAGE", mf.names)->required();
  m->callback([&ctx] { mount(ctx, mf); });
  auto* u = image.add_subcommand("unmount", "Unmount an image's root filesystem")->alias("umount");
  u->add_option("IMAGE", mf.names)->required();
  u->callback([&ctx] { unmount(ctx, mf); });
}

void register_container_inspect(CLI::App& container, Context& ctx) {
  static InspectFlags cf;
  auto* c = container.add_subcommand("inspect", "Show containers' details as JSON");
  c->add_option("NAME", cf.names, "name or ID")->required();
  c->add_option("-f,--format", cf.format, "a Go template, or json");
  c->callback([&ctx] {
    cf.type = "container";
    inspect(ctx, cf);
  });
}

void register_image_commands(CLI::App& app, Context& ctx) {
  auto* image = app.add_subcommand("image", "Manage images");
  image->require_subcommand(1);
  register_pull_push(app, *image, ctx);
  register_listing(app, *image, ctx);
  register_inspect(app, *image, ctx);
}

}  // namespace guise::cli
