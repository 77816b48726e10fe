// docker export: the container's filesystem (the overlay's merged dir) as a tar, read
// through fds opened inside it, so no symlink in it is followed.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>

#include "cli/guise/container_common.h"
#include "cli/guise/transfer.h"
#include "cli/guise/tree_tar.h"

namespace guise::cli {

namespace {

Result<void> export_container(Context& ctx, const std::string& name, const std::string& output) {
  auto cs = GUISE_TRY(open_containers(ctx));
  auto id = GUISE_TRY(cs.resolve(name));
  auto rec = GUISE_TRY(cs.read_record(id));
  sys::Fd root(::open(rec.rootfs.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!root.valid()) return sys::sys_error("open the rootfs of", name);
  if (output.empty() || output == "-") {
    if (::isatty(1)) return sys::user_error("cowardly refusing to save to a terminal. Use the -o flag or redirect");
    return write_tree_tar(1, root.get(), ".", "", {});
  }
  // A device or a pipe (-o /dev/null, /dev/stdout, a FIFO) is written to, never replaced.
  if (struct stat st {}; ::stat(output.c_str(), &st) == 0 && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) {
    sys::Fd out(::open(output.c_str(), O_WRONLY | O_CLOEXEC));
    if (!out.valid()) return sys::sys_error("open", output);
    return write_tree_tar(out.get(), root.get(), ".", "", {});
  }
  // Written beside the target and renamed, so a failed export leaves no half file.
  std::string tmp = output + ".guise-export-tmp";
  sys::Fd out(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
  if (!out.valid()) return sys::sys_error("create", output);
  auto r = write_tree_tar(out.get(), root.get(), ".", "", {});
  if (r && ::fsync(out.get()) < 0) r = sys::sys_error("fsync", output);
  if (r && ::rename(tmp.c_str(), output.c_str()) < 0) r = sys::sys_error("rename", output);
  if (!r) ::unlink(tmp.c_str());
  return r;
}

}  // namespace

void register_export_command(CLI::App& app, Context& ctx) {
  static std::string name, output;
  for (auto* c : {app.add_subcommand("export", "Export a container's filesystem as a tar archive"),
                  app.get_subcommand("container")->add_subcommand("export", "Export a container's filesystem as a tar archive")}) {
    c->add_option("-o,--output", output, "write to a file, instead of STDOUT");
    c->add_option("CONTAINER", name)->required();
    c->callback([&ctx] {
      if (!have_transfer_code(ctx)) return;
      auto r = export_container(ctx, name, output);
      if (!r) ctx.fail(r.error());
    });
  }
}

}  // namespace guise::cli
