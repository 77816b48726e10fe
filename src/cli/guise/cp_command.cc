// docker cp: files between a container and the host, either way, or a tar stream ("-").
// Every path inside the container is resolved inside its rootfs (RESOLVE_IN_ROOT |
// RESOLVE_NO_MAGICLINKS) and every entry is then opened on its parent's fd with
// O_NOFOLLOW: a symlink in the container is followed as if the rootfs were "/", never
// to the host. Writing goes through the layer unpacker, which creates the same way.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <thread>

#include "cli/guise/container_common.h"
#include "cli/guise/transfer.h"
#include "cli/guise/tree_tar.h"
#include "image/unpack.h"

namespace guise::cli {

namespace {

struct CpFlags {
  bool archive = false, follow = false;
  std::string src, dst;
};

struct Side {
  std::string container;  // empty: the host
  std::string path;
};

// docker's rule: "NAME:PATH" names a container unless the text is a path ("/a:b", "./a:b").
Side parse_side(const std::string& arg) {
  if (arg.empty() || arg[0] == '/' || arg[0] == '.') return {"", arg};
  auto colon = arg.find(':');
  if (colon == std::string::npos) return {"", arg};
  return {arg.substr(0, colon), arg.substr(colon + 1)};
}

bool ends_with_dot(const std::string& p) { return p == "." || (p.size() >= 2 && p.compare(p.size() - 2, 2, "/.") == 0); }
bool ends_with_slash(const std::string& p) { return !p.empty() && p.back() == '/'; }

std::string base_name(std::string p) {
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  auto slash = p.rfind('/');
  return slash == std::string::npos ? p : p.substr(slash + 1);
}

// The tree `name` in `parent` streamed as a tar (entries `as`...) into the unpacker on `dest_dir`.
Result<void> pipe_tree(int parent, const std::string& name, const std::string& as, int dest_dir,
                       const TreeTarOptions& o) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) < 0) return sys::sys_error("pipe");
  sys::Fd rd(fds[0]), wr(fds[1]);
  Result<void> written = Ok();
  std::thread writer([&] {
    written = write_tree_tar(wr.get(), parent, name, as, o);
    wr.reset();
  });
  auto unpacked = image::unpack_layer(rd.get(), dest_dir);
  rd.reset();  // a writer blocked on a full pipe sees EPIPE
  writer.join();
  GUISE_TRY(written);
  if (!unpacked) return std::move(unpacked.error());
  return Ok();
}

Result<sys::Fd> open_dir_at(int parent, const std::string& name, const std::string& what) {
  sys::Fd d(::openat(parent, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!d.valid()) return sys::sys_error("open", what);
  return d;
}

struct Container {
  std::string id, name;
  sys::Fd root;
};

Result<Container> open_container_root(Context& ctx, const std::string& name) {
  auto cs = GUISE_TRY(open_containers(ctx));
  Container c;
  c.id = GUISE_TRY(cs.resolve(name));
  c.name = name;
  auto rec = GUISE_TRY(cs.read_record(c.id));
  c.root.reset(::open(rec.rootfs.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!c.root.valid()) return sys::sys_error("open the rootfs of", name);
  return c;
}

Result<void> copy_out(Context& ctx, const CpFlags& f, const Side& src, const std::string& dst) {
  auto c = GUISE_TRY(open_container_root(ctx, src.container));
  auto from = GUISE_TRY(resolve_in_root(c.root.get(), src.path, f.follow));
  if (!from.exists) return sys::not_found("Could not find the file " + src.path + " in container " + src.container);
  TreeTarOptions o;
  o.caller_owner = !f.archive;
  bool contents = from.is_dir && ends_with_dot(src.path);
  std::string top = from.name == "." ? base_name(src.path) : from.name;
  if (top == "." || top == "/" || top.empty()) top = ".";
  if (dst == "-") return write_tree_tar(1, from.parent.get(), from.name, contents ? "" : top, o);
  struct stat st {};
  bool dst_exists = ::stat(dst.c_str(), &st) == 0;
  if (dst_exists && S_ISDIR(st.st_mode)) {
    auto dir = GUISE_TRY(open_dir_at(AT_FDCWD, dst, dst));
    return pipe_tree(from.parent.get(), from.name, contents ? "" : top, dir.get(), o);
  }
  if (dst_exists && from.is_dir) return sys::user_error("cannot copy directory " + src.path + " to the file " + dst);
  if (!dst_exists && ends_with_slash(dst) && !from.is_dir)
    return sys::not_found("destination directory " + dst + " does not exist");
  std::string parent = dst.find('/') == std::string::npos ? "." : dst.substr(0, dst.rfind('/'));
  if (parent.empty()) parent = "/";
  auto dir = GUISE_TRY(open_dir_at(AT_FDCWD, parent, parent));
  return pipe_tree(from.parent.get(), from.name, base_name(dst), dir.get(), o);
}

Result<void> copy_in(Context& ctx, const CpFlags& f, const std::string& src, const Side& dst) {
  auto c = GUISE_TRY(open_container_root(ctx, dst.container));
  auto to = GUISE_TRY(resolve_in_root(c.root.get(), dst.path, true));
  if (src == "-") {
    if (!to.exists || !to.is_dir) return sys::user_error("destination \"" + dst.container + ":" + dst.path + "\" must be a directory");
    auto dir = GUISE_TRY(open_dir_at(to.parent.get(), to.name, dst.path));
    auto r = image::unpack_layer(0, dir.get());
    if (!r) return std::move(r.error());
    return Ok();
  }
  struct stat st {};
  if ((f.follow ? ::stat(src.c_str(), &st) : ::lstat(src.c_str(), &st)) < 0) return sys::sys_error("lstat", src);
  bool src_dir = S_ISDIR(st.st_mode);
  std::string src_parent = src.find('/') == std::string::npos ? "." : src.substr(0, src.rfind('/'));
  if (src_parent.empty()) src_parent = "/";
  std::string src_name = base_name(src);
  if (ends_with_dot(src) || src_name == "." || src_name == "..") {
    src_parent = src;
    src_name = ".";
  }
  if (f.follow && !src_dir) {
    char real[PATH_MAX];
    if (!::realpath(src.c_str(), real)) return sys::sys_error("lstat", src);
    src_parent = std::string(real).substr(0, std::string(real).rfind('/'));
    if (src_parent.empty()) src_parent = "/";
    src_name = base_name(real);
  }
  sys::Fd host_parent(::open(src_parent.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!host_parent.valid()) return sys::sys_error("open", src_parent);
  TreeTarOptions o;
  o.caller_owner = !f.archive;
  bool contents = src_dir && ends_with_dot(src);
  if (to.exists && to.is_dir) {
    auto dir = GUISE_TRY(open_dir_at(to.parent.get(), to.name, dst.path));
    return pipe_tree(host_parent.get(), src_name, contents ? "" : base_name(src), dir.get(), o);
  }
  if (to.exists && src_dir)
    return sys::user_error("cannot copy directory " + src + " to the file " + dst.container + ":" + dst.path);
  if (!to.exists && ends_with_slash(dst.path) && !src_dir)
    return sys::not_found("destination directory " + dst.container + ":" + dst.path + " does not exist");
  if (to.name == ".") return sys::user_error("cannot copy over the container's root");
  sys::Fd dir(::openat(to.parent.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir.valid()) return sys::sys_error("open", dst.path);
  return pipe_tree(host_parent.get(), src_name, to.name, dir.get(), o);
}

void cp(Context& ctx, const CpFlags& f) {
  Side src = parse_side(f.src), dst = parse_side(f.dst);
  if (!src.container.empty() && !dst.container.empty())
    return ctx.fail("copying between containers is not supported");
  if (src.container.empty() && dst.container.empty())
    return ctx.fail("must specify at least one container source");
  if (!src.container.empty() && src.path.empty()) return ctx.fail("filepath cannot be empty");
  if (!dst.container.empty() && dst.path.empty()) return ctx.fail("filepath cannot be empty");
  auto r = src.container.empty() ? copy_in(ctx, f, src.path, dst) : copy_out(ctx, f, src, dst.path);
  if (!r) ctx.fail(r.error());
}

}  // namespace

void register_cp_command(CLI::App& app, Context& ctx) {
  static CpFlags f;
  for (auto* c : {app.add_subcommand("cp", "Copy files between a container and the host"),
                  app.get_subcommand("container")->add_subcommand("cp", "Copy files between a container and the host")}) {
    c->add_flag("-a,--archive", f.archive, "keep uid/gid");
    c->add_flag("-L,--follow-link", f.follow, "always follow a symlink in SRC_PATH");
    c->add_option("SRC", f.src)->required();
    c->add_option("DST", f.dst)->required();
    c->callback([&ctx] {
      if (have_transfer_code(ctx)) cp(ctx, f);
    });
  }
}

}  // namespace guise::cli
