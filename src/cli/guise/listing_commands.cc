// images, rmi, tag and image prune: the store's names and records, as docker shows them.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <iostream>

#include "cli/guise/commands_common.h"
#include "cli/guise/human.h"
#include "cli/guise/template.h"

namespace guise::cli {

using nlohmann::json;

std::string familiar(const std::string& full) {
  auto r = parse_reference(full);
  return r ? r->familiar() : full;
}

namespace {

struct ImagesFlags {
  bool all = false, quiet = false, digests = false, no_trunc = false;
  std::string format, repository;
};

// "docker.io/library/busybox:latest" → ("busybox", "latest") as the REPOSITORY and TAG columns show it.
std::pair<std::string, std::string> repo_and_tag(const std::string& full) {
  auto r = parse_reference(full);
  if (!r) return {full, "<none>"};
  image::Reference untagged = *r;
  untagged.tag.clear();
  untagged.digest.reset();
  return {untagged.familiar(), r->tag.empty() ? "<none>" : r->tag};
}

std::string digest_for(const image::ImageRecord& rec, const std::string& repo_full_name) {
  for (const auto& rd : rec.repo_digests) {
    auto at = rd.find('@');
    if (at != std::string::npos && rd.substr(0, at) == repo_full_name) return rd.substr(at + 1);
  }
  return "<none>";
}

void images(Context& ctx, const ImagesFlags& f) {
  auto store = ctx.open_store();
  if (!store) return ctx.fail(store.error());
  auto recs = store->list_images();
  if (!recs) return ctx.fail(recs.error());
  std::sort(recs->begin(), recs->end(), [](const auto& a, const auto& b) { return a.created > b.created; });
  std::optional<image::Reference> filter;
  if (!f.repository.empty()) {
    auto r = parse_reference(f.repository);
    if (!r) return ctx.fail(r.error());
    filter = *r;
  }
  bool filter_tag = !f.repository.empty() && f.repository.find(':', f.repository.rfind('/') + 1) != std::string::npos;
  std::vector<json> rows;
  for (const auto& rec : *recs) {
    auto names = store->names_of(rec.id);
    if (!names) return ctx.fail(names.error());
    std::vector<std::string> list = *names;
    if (list.empty()) list.push_back("");
    for (const auto& full : list) {
      auto [repo, tag] = full.empty() ? std::pair<std::string, std::string>{"<none>", "<none>"} : repo_and_tag(full);
      std::string repo_full = full.empty() ? "" : full.substr(0, full.rfind(':'));
      if (filter) {
        if (full.empty() || repo_full != filter->name()) continue;
        if (filter_tag && tag != filter->tag) continue;
      }
      json row;
      row["Containers"] = "N/A";
      row["CreatedAt"] = created_at(rec.created);
      row["CreatedSince"] = since(rec.created);
      row["Digest"] = full.empty() ? (rec.repo_digests.empty() ? "<none>" : rec.repo_digests[0].substr(rec.repo_digests[0].find('@') + 1))
                                   : digest_for(rec, repo_full);
      row["ID"] = f.no_trunc ? rec.id.str() : short_id(rec.id);
      row["Repository"] = repo;
      row["SharedSize"] = "N/A";
      row["Size"] = human_size(rec.size);
      row["Tag"] = tag;
      row["UniqueSize"] = "N/A";
      row["VirtualSize"] = human_size(rec.size);
      rows.push_back(row);
    }
  }
  std::string format = f.format;
  if (f.quiet) {
    std::vector<std::string> seen;
    for (const auto& r : rows) {
      std::string id = r["ID"];
      if (std::find(seen.begin(), seen.end(), id) != seen.end()) continue;  // docker -q lists each image once
      seen.push_back(id);
      std::printf("%s\n", id.c_str());
    }
    return;
  }
  std::string table = f.digests ? "table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}"
                                : "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}";
  auto out = format_rows(format, table, rows,
                         {{"ID", "IMAGE ID"}, {"CreatedSince", "CREATED"}, {"CreatedAt", "CREATED AT"}});
  if (!out) return ctx.fail(out.error());
  std::fputs(out->c_str(), stdout);
}

struct RmiFlags {
  std::vector<std::string> images;
  bool force = false;
};

// Removes one image record (its names first) and prints what docker prints.
Result<void> delete_image(image::Store& store, const image::ImageRecord& rec, int64_t* freed = nullptr) {
  auto names = GUISE_TRY(store.names_of(rec.id));
  for (const auto& n : names) {
    GUISE_TRY(store.remove_name(n));
    std::printf("Untagged: %s\n", familiar(n).c_str());
  }
  for (const auto& rd : rec.repo_digests) std::printf("Untagged: %s\n", familiar(rd).c_str());
  GUISE_TRY(store.remove_image(rec.id));
  std::printf("Deleted: %s\n", rec.id.str().c_str());
  auto gc = GUISE_TRY(store.collect_garbage());
  for (const auto& s : gc.snapshots_removed) std::printf("Deleted: sha256:%s\n", s.c_str());
  if (freed) *freed += gc.bytes_freed;
  return Ok();
}

Result<void> rmi_one(image::Store& store, const std::string& text, bool force) {
  auto rec = GUISE_TRY(store.resolve(text));
  auto held = GUISE_TRY(store.lock(image::LockKind::kImage, "update-" + rec.id.hex));
  auto names = GUISE_TRY(store.names_of(rec.id));
  auto users = GUISE_TRY(store.rootfs_users(rec.id));
  std::string by_name;
  if (auto r = parse_reference(text); r && !r->digest)
    if (std::find(names.begin(), names.end(), r->str()) != names.end()) by_name = r->str();
  if (!by_name.empty() && (names.size() > 1 || (!users.empty() && force))) {
    // One of several names, or the last one of an image in use with -f: the name only.
    GUISE_TRY(store.remove_name(by_name));
    std::printf("Untagged: %s\n", familiar(by_name).c_str());
    return Ok();
  }
  if (!users.empty()) {
    if (!by_name.empty())
      return sys::wrong_state("conflict: unable to remove repository reference \"" + text +
                              "\" (must force) - container " + users[0] + " is using its referenced image " +
                              short_id(rec.id));
    if (!force)
      return sys::wrong_state("conflict: unable to delete " + short_id(rec.id) + " (must be forced) - image is being used by container " + users[0]);
    for (const auto& n : names) {
      GUISE_TRY(store.remove_name(n));
      std::printf("Untagged: %s\n", familiar(n).c_str());
    }
    return Ok();
  }
  if (by_name.empty() && names.size() > 1 && !force)
    return sys::wrong_state("conflict: unable to delete " + short_id(rec.id) +
                            " (must be forced) - image is referenced in multiple repositories");
  return delete_image(store, rec);
}

void rmi(Context& ctx, const RmiFlags& f) {
  auto store = ctx.open_store();
  if (!store) return ctx.fail(store.error());
  for (const auto& text : f.images) {
    auto r = rmi_one(*store, text, f.force);
    if (!r) ctx.fail(r.error());
  }
}

struct TagFlags {
  std::string source, target;
};

void tag(Context& ctx, const TagFlags& f) {
  auto store = ctx.open_store();
  if (!store) return ctx.fail(store.error());
  auto target = parse_reference(f.target);
  if (!target) return ctx.fail(target.error());
  if (target->digest) return ctx.fail("refusing to create a tag with a digest reference: " + f.target);
  auto rec = store->resolve(f.source);
  if (!rec) return ctx.fail(rec.error());
  auto r = store->set_name(target->str(), rec->id);
  if (!r) ctx.fail(r.error());
}

struct PruneFlags {
  bool all = false, force = false;
};

void prune(Context& ctx, const PruneFlags& f) {
  if (!f.force) {
    std::printf("%s\nAre you sure you want to continue? [y/N] ",
                f.all ? "WARNING! This will remove all images without at least one container associated to them."
                      : "WARNING! This will remove all dangling images.");
    std::fflush(stdout);
    std::string answer;
    std::getline(std::cin, answer);
    if (answer != "y" && answer != "Y") return;
  }
  auto store = ctx.open_store();
  if (!store) return ctx.fail(store.error());
  auto recs = store->list_images();
  if (!recs) return ctx.fail(recs.error());
  int64_t freed = 0;
  bool header = false;
  for (const auto& rec : *recs) {
    auto held = store->lock(image::LockKind::kImage, "update-" + rec.id.hex);
    if (!held) return ctx.fail(held.error());
    auto names = store->names_of(rec.id);
    auto users = store->rootfs_users(rec.id);
    if (!names || !users) return ctx.fail(!names ? names.error() : users.error());
    if (!users->empty() || (!f.all && !names->empty())) continue;
    if (!header) std::printf("Deleted Images:\n");
    header = true;
    auto r = delete_image(*store, rec, &freed);
    if (!r) return ctx.fail(r.error());
  }
  auto gc = store->collect_garbage();  // what earlier failures or kills left
  if (gc) freed += gc->bytes_freed;
  std::printf("%sTotal reclaimed space: %s\n", header ? "\n" : "", human_size(freed).c_str());
}

}  // namespace

void register_listing(CLI::App& app, CLI::App& image, Context& ctx) {
  static ImagesFlags lf;
  auto add_images = [&](CLI::App* c) {
    c->add_option("REPOSITORY", lf.repository, "only images of this repository[:tag]");
    c->add_flag("-a,--all", lf.all, "show all images (there are no intermediate images here)");
    c->add_flag("-q,--quiet", lf.quiet, "only image IDs");
    c->add_flag("--digests", lf.digests, "show digests");
    c->add_flag("--no-trunc", lf.no_trunc, "do not truncate output");
    c->add_option("--format", lf.format, "json, table, or a Go template");
    c->callback([&ctx] { images(ctx, lf); });
  };
  add_images(app.add_subcommand("images", "List images"));
  add_images(image.add_subcommand("ls", "List images")->alias("list"));

  static RmiFlags rf;
  for (auto* c : {app.add_subcommand("rmi", "Remove images"), image.add_subcommand("rm", "Remove images")}) {
    c->add_option("IMAGE", rf.images, "image name or ID")->required();
    c->add_flag("-f,--force", rf.force, "remove an image of several names, or the name of an image in use");
    c->add_flag("--no-prune", [](int64_t) {}, "accepted for docker's sake")->group("");
    c->callback([&ctx] { rmi(ctx, rf); });
  }

  static TagFlags tf;
  for (auto* c : {app.add_subcommand("tag", "Give an image another name"), image.add_subcommand("tag", "Give an image another name")}) {
    c->add_option("SOURCE_IMAGE", tf.source)->required();
    c->add_option("TARGET_IMAGE", tf.target)->required();
    c->callback([&ctx] { tag(ctx, tf); });
  }

  static PruneFlags pf;
  auto* c = image.add_subcommand("prune", "Remove unused images");
  c->add_flag("-a,--all", pf.all, "remove all images no container uses, not just dangling ones");
  c->add_flag("-f,--force", pf.force, "do not prompt for confirmation");
  c->callback([&ctx] { prune(ctx, pf); });
}

}  // namespace guise::cli
