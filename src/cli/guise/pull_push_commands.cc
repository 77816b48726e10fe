// pull and push, with docker's lines around the per-layer progress.
#include <CLI/CLI.hpp>
#include <cstdio>

#include "cli/guise/commands_common.h"
#include "cli/guise/context.h"
#include "cli/guise/progress_display.h"
#include "cli/guise/transfer.h"
#include "image/pull.h"
#include "image/push.h"

namespace guise::cli {

namespace {

struct PullFlags {
  std::string name, platform;
  bool quiet = false;
  RegistryFlags registry;
};

bool names_a_tag_or_digest(const std::string& text) {
  size_t slash = text.rfind('/');
  std::string last = slash == std::string::npos ? text : text.substr(slash + 1);
  return last.find(':') != std::string::npos || last.find('@') != std::string::npos;
}

void pull(Context& ctx, const PullFlags& f) {
  auto ref = parse_reference(f.name);
  if (!ref) return ctx.fail(ref.error());
  image::PullOptions opts;
  auto reg = f.registry.options();
  if (!reg) return ctx.fail(reg.error());
  opts.registry = *reg;
  if (!f.platform.empty()) {
    auto p = image::parse_platform(f.platform);
    if (!p) return ctx.fail(p.error());
    opts.platform = *p;
  }
  auto store = ctx.open_store();
  if (!store) return ctx.fail(store.error());
  ProgressDisplay display(stdout, f.quiet);
  opts.progress = display.fn();
  if (!f.quiet) {
    if (!names_a_tag_or_digest(f.name)) std::printf("Using default tag: latest\n");
    std::string path = ref->domain == image::kDefaultDomain ? ref->path : ref->name();
    std::printf("%s: Pulling from %s\n", ref->digest ? ref->digest->str().c_str() : ref->tag.c_str(), path.c_str());
    std::fflush(stdout);
  }
  auto r = image::pull_image(*store, *ref, opts);
  if (!r) {
    // Whatever the failed pull left (blobs, snapshots, ingests) is reachable from nothing now.
    (void)store->collect_garbage();
    return ctx.fail(r.error());
  }
  if (!f.quiet) {
    std::printf("Digest: %s\n", r->repo_digest.str().c_str());
    std::string shown = ref->familiar();
    std::printf("Status: %s for %s\n", r->fetched_new ? "Downloaded newer image" : "Image is up to date",
                shown.c_str());
  }
  std::printf("%s\n", ref->str().c_str());
}

struct PushFlags {
  std::string name;
  bool quiet = false;
  RegistryFlags registry;
};

void push(Context& ctx, const PushFlags& f) {
  auto store = ctx.open_store();
  if (!store) return ctx.fail(store.error());
  auto ref = parse_reference(f.name);
  if (!ref) return ctx.fail(ref.error());
  auto img = store->resolve(f.name);
  if (!img) {
    // docker's words for a push of a name the store does not have.
    return ctx.fail("An image does not exist locally with the tag: " + ref->familiar());
  }
  auto reg = f.registry.options();
  if (!reg) return ctx.fail(reg.error());
  if (!f.quiet) std::printf("The push refers to repository [%s]\n", ref->name().c_str());
  std::fflush(stdout);
  ProgressDisplay display(stdout, f.quiet);
  auto r = image::push_image(*store, *img, *ref, *reg, display.fn());
  if (!r) return ctx.fail(r.error());
  // The registry now knows the image by this digest: record it, as docker does.
  image::ImageRecord rec = *img;
  std::string repo_digest = ref->name() + "@" + r->digest.str();
  if (std::find(rec.repo_digests.begin(), rec.repo_digests.end(), repo_digest) == rec.repo_digests.end()) {
    rec.repo_digests.push_back(repo_digest);
    if (auto held = store->lock(image::LockKind::kImage, "update-" + rec.id.hex); held) (void)store->put_image(rec);
  }
  if (f.quiet)
    std::printf("%s\n", ref->familiar().c_str());
  else
    std::printf("%s: digest: %s size: %lld\n", ref->tag.empty() ? "latest" : ref->tag.c_str(),
                r->digest.str().c_str(), static_cast<long long>(r->size));
}

}  // namespace

void register_pull_push(CLI::App& app, CLI::App& image, Context& ctx) {
  static PullFlags pf;
  for (CLI::App* parent : {&app, &image}) {
    auto* c = parent->add_subcommand("pull", "Download an image from a registry");
    c->add_option("NAME", pf.name, "NAME[:TAG|@DIGEST]")->required();
    c->add_option("--platform", pf.platform, "OS/ARCH[/VARIANT] of a multi-platform image");
    c->add_flag("-q,--quiet", pf.quiet, "print only the image's name");
    c->add_flag("-a,--all-tags", [](int64_t) {}, "not supported")->group("");
    pf.registry.add_to(*c);
    c->callback([&ctx] {
      if (have_transfer_code(ctx)) pull(ctx, pf);
    });
  }
  static PushFlags sf;
  for (CLI::App* parent : {&app, &image}) {
    auto* c = parent->add_subcommand("push", "Upload an image to a registry");
    c->add_option("NAME", sf.name, "NAME[:TAG]")->required();
    c->add_flag("-q,--quiet", sf.quiet, "print only the name");
    sf.registry.add_to(*c);
    c->callback([&ctx] {
      if (have_transfer_code(ctx)) push(ctx, sf);
    });
  }
}

}  // namespace guise::cli
