// save, load and import: docker's archives and rootfs tarballs in and out of the store.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>

#include "cli/guise/commands_common.h"
#include "cli/guise/transfer.h"
#include "image/archive_load.h"
#include "image/archive_save.h"
#include "image/import.h"

namespace guise::cli {

namespace {

struct SaveFlags {
  std::vector<std::string> names;
  std::string output;
};

void save(Context& ctx, const SaveFlags& f) {
  if (f.output.empty() && ::isatty(STDOUT_FILENO))
    return ctx.fail("cowardly refusing to save to a terminal. Use the -o flag or redirect");
  auto store = ctx.open_store();
  if (!store) return ctx.fail(store.error());
  std::vector<image::SaveImage> images;
  for (const auto& n : f.names) {
    auto rec = store->resolve(n);
    if (!rec) return ctx.fail(rec.error());
    image::SaveImage s{*rec, {}};
    // A name saves that name; an id saves every name the image has, as docker does.
    auto ref = parse_reference(n);
    auto names = store->names_of(rec->id);
    if (!names) return ctx.fail(names.error());
    if (ref && !ref->digest && std::find(names->begin(), names->end(), ref->str()) != names->end())
      s.names = {ref->str()};
    else
      s.names = *names;
    images.push_back(std::move(s));
  }
  auto r = f.output.empty() ? image::save_docker_archive(*store, images, STDOUT_FILENO)
                            : image::save_docker_archive(*store, images, f.output);
  if (!r) ctx.fail(r.error());
}

struct LoadFlags {
  std::string input;
  bool quiet = false;
};

void load(Context& ctx, const LoadFlags& f) {
  if (f.input.empty() && ::isatty(STDIN_FILENO))
    return ctx.fail("requested load from stdin, but stdin is empty");
  auto store = ctx.open_store();
  if (!store) return ctx.fail(store.error());
  auto loaded = image::load_archive(*store, f.input.empty() ? "-" : f.input);
  if (!loaded) return ctx.fail(loaded.error());
  for (const auto& img : *loaded) {
    if (img.names.empty()) std::printf("Loaded image ID: %s\n", img.record.id.str().c_str());
    for (const auto& n : img.names) std::printf("Loaded image: %s\n", familiar(n).c_str());
  }
}

struct ImportFlags {
  std::string file, name, message;
};

void import(Context& ctx, const ImportFlags& f) {
  auto store = ctx.open_store();
  if (!store) return ctx.fail(store.error());
  image::ImportOptions o;
  o.name = f.name;
  o.message = f.message;
  auto rec = image::import_rootfs(*store, f.file, o);
  if (!rec) return ctx.fail(rec.error());
  std::printf("%s\n", rec->id.str().c_str());
}

}  // namespace

void register_archive_commands(CLI::App& app, Context& ctx) {
  CLI::App* image = app.get_subcommand("image");
  static SaveFlags sf;
  for (auto* c : {app.add_subcommand("save", "Write images to a tar archive (docker-archive)"),
                  image->add_subcommand("save", "Write images to a tar archive (docker-archive)")}) {
    c->add_option("IMAGE", sf.names)->required();
    c->add_option("-o,--output", sf.output, "write to this file, not standard output");
    c->callback([&ctx] {
      if (have_transfer_code(ctx)) save(ctx, sf);
    });
  }
  static LoadFlags lf;
  for (auto* c : {app.add_subcommand("load", "Read images from a docker-archive or oci-archive"),
                  image->add_subcommand("load", "Read images from a docker-archive or oci-archive")}) {
    c->add_option("-i,--input", lf.input, "read from this file, not standard input");
    c->add_flag("-q,--quiet", lf.quiet, "less output");
    c->callback([&ctx] {
      if (have_transfer_code(ctx)) load(ctx, lf);
    });
  }
  static ImportFlags imf;
  for (auto* c : {app.add_subcommand("import", "Make an image from a root filesystem tarball"),
                  image->add_subcommand("import", "Make an image from a root filesystem tarball")}) {
    c->add_option("FILE", imf.file, "tarball, or - for standard input")->required();
    c->add_option("REPOSITORY[:TAG]", imf.name, "name of the new image");
    c->add_option("-m,--message", imf.message, "commit message for the image's history");
    c->callback([&ctx] {
      if (have_transfer_code(ctx)) import(ctx, imf);
    });
  }
}

}  // namespace guise::cli
