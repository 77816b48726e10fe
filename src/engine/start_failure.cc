#include "engine/start_failure.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "engine/program_file.h"
#include "sys/syscalls.h"

namespace guise::engine {

namespace {

constexpr const char* kDefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
constexpr size_t kMaxRead = 64u << 20;  // an ELF's headers and dynamic strings lie well within

std::string env_value(const std::vector<std::string>& env, const std::string& key) {
  for (const auto& e : env)
    if (e.size() > key.size() && e.compare(0, key.size(), key) == 0 && e[key.size()] == '=')
      return e.substr(key.size() + 1);
  return {};
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t end = s.find(sep, start);
    if (end == std::string::npos) end = s.size();
    out.push_back(s.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

bool under(const std::string& path, const std::string& dir) {
  if (dir == "/") return true;
  return path.compare(0, dir.size(), dir) == 0 && (path.size() == dir.size() || path[dir.size()] == '/');
}

bool has_option(const oci::Mount& m, const char* opt) {
  for (const auto& o : m.options)
    if (o == opt) return true;
  return false;
}

// A file of the container as the kernel saw it: opened inside the rootfs, or inside the
// source of the bind mount it lies under.
struct Found {
  sys::Fd fd;  // O_PATH
  struct stat st {};
  const oci::Mount* mount = nullptr;  // the mount the path lies under, if any
};

class Rootfs {
 public:
  explicit Rootfs(const ProgramContext& p) : p_(p) {
    root_.reset(::open(p.rootfs.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  }

  // The mount (of the spec) whose destination holds `path`: the last one listed wins.
  const oci::Mount* mount_of(const std::string& path) const {
    const oci::Mount* best = nullptr;
    for (const auto& m : p_.mounts)
      if (under(path, m.destination) && (!best || m.destination.size() >= best->destination.size())) best = &m;
    return best;
  }

  std::optional<Found> find(const std::string& path) const {
    Found f;
    f.mount = mount_of(path);
    int dir = root_.get();
    std::string rel = path;
    sys::Fd source;
    if (f.mount) {
      bool bind = f.mount->type == "bind" || has_option(*f.mount, "bind") || has_option(*f.mount, "rbind");
      if (!bind) return std::nullopt;  // tmpfs, proc...: nothing of it is visible from here
      source.reset(::open(f.mount->source.c_str(), O_PATH | O_CLOEXEC));
      if (!source.valid()) return std::nullopt;
      struct stat sst {};
      if (::fstat(source.get(), &sst) < 0) return std::nullopt;
      rel = path.substr(f.mount->destination == "/" ? 0 : f.mount->destination.size());
      if (!S_ISDIR(sst.st_mode)) {  // a file bound onto the path itself
        if (!rel.empty()) return std::nullopt;
        f.st = sst;
        f.fd = std::move(source);
        return f;
      }
      dir = source.get();
      if (rel.empty()) rel = "/";
    }
    if (dir < 0) return std::nullopt;
    auto fd = sys::openat2(dir, rel, O_PATH | O_CLOEXEC, 0, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
    if (!fd.ok()) return std::nullopt;
    if (::fstat(fd->get(), &f.st) < 0) return std::nullopt;
    f.fd = std::move(fd).take();
    return f;
  }

  bool exists(const std::string& path) const { return find(path).has_value(); }

  // Under a mount whose contents cannot be seen from here (a tmpfs): not found proves nothing.
  bool hidden(const std::string& path) const {
    const oci::Mount* m = mount_of(path);
    return m && !(m->type == "bind" || has_option(*m, "bind") || has_option(*m, "rbind"));
  }

  std::string read(const Found& f, size_t max = kMaxRead) const {
    sys::Fd fd(::open(sys::fd_path(f.fd.get()).c_str(), O_RDONLY | O_CLOEXEC));
    std::string out;
    if (!fd.valid()) return out;
    char buf[65536];
    ssize_t n;
    while (out.size() < max && (n = ::read(fd.get(), buf, sizeof buf)) > 0) out.append(buf, size_t(n));
    return out;
  }

 private:
  const ProgramContext& p_;
  sys::Fd root_;
};

std::string absolute(const std::string& path, const std::string& cwd) {
  if (!path.empty() && path[0] == '/') return path;
  return (cwd.empty() || cwd.back() != '/' ? cwd + "/" : cwd) + path;
}

// Where the dynamic loader looks: the binary's run path, then the usual directories of
// glibc (multiarch too) and musl.
std::vector<std::string> library_dirs(const ElfInfo& elf) {
  std::vector<std::string> dirs;
  for (const auto& r : elf.runpath)
    if (!r.empty() && r[0] == '/') dirs.push_back(r);
  const char* triplet = elf.machine == 62 ? "x86_64-linux-gnu" : elf.machine == 183 ? "aarch64-linux-gnu" : "";
  for (const char* base : {"/lib", "/usr/lib", "/lib64", "/usr/lib64", "/usr/local/lib"}) {
    if (*triplet) dirs.push_back(std::string(base) + "/" + triplet);
    dirs.push_back(base);
  }
  return dirs;
}

std::optional<StartFailure> explain_file(const Rootfs& root, const Found& f, const std::string& path, int errnum,
                                         StartFailure out, int depth);

// A script's interpreter or an ELF's loader and libraries, the one that is missing.
std::optional<StartFailure> explain_content(const Rootfs& root, const Found& f, const std::string& path,
                                            StartFailure out, int depth) {
  std::string head = root.read(f, 256);
  if (auto sb = parse_shebang(head)) {
    if (sb->interpreter.empty()) return std::nullopt;
    auto interp = root.find(absolute(sb->interpreter, "/"));
    if (!interp) {
      std::string bare = sb->interpreter;
      while (!bare.empty() && bare.back() == '\r') bare.pop_back();
      out.kind = bare != sb->interpreter ? "crlf-shebang" : "no-interpreter";
      out.detail = sb->interpreter;
      return out;
    }
    if (depth > 0 || S_ISDIR(interp->st.st_mode)) return std::nullopt;
    // The interpreter is there: it may itself not run here.
    auto why = explain_file(root, *interp, sb->interpreter, 0, out, depth + 1);
    if (why && why->kind != "exec") {
      why->detail = why->detail.empty() ? "interpreter " + sb->interpreter
                                         : why->detail + " (for the interpreter " + sb->interpreter + ")";
      why->path = path;
    }
    return why;
  }
  std::string file = root.read(f);
  auto elf = parse_elf(file);
  if (!elf) return std::nullopt;
  if (!runs_on_host(elf->machine)) {
    out.kind = "wrong-arch";
    out.detail = elf_machine_name(elf->machine);
    return out;
  }
  if (!elf->interp.empty() && !root.exists(elf->interp)) {
    out.kind = "no-loader";
    out.detail = elf->interp;
    return out;
  }
  if (elf->interp.empty()) return std::nullopt;  // static: nothing more to load
  auto dirs = library_dirs(*elf);
  for (const auto& lib : elf->needed) {
    bool found = false;
    if (lib.find('/') != std::string::npos) found = root.exists(lib);
    for (size_t i = 0; !found && i < dirs.size(); ++i) found = root.exists(dirs[i] + "/" + lib);
    if (!found) {
      out.kind = "no-library";
      out.detail = lib;
      return out;
    }
  }
  return std::nullopt;
}

std::optional<StartFailure> explain_file(const Rootfs& root, const Found& f, const std::string& path, int errnum,
                                         StartFailure out, int depth) {
  out.path = path;
  if (S_ISDIR(f.st.st_mode)) {
    out.kind = "directory";
    return out;
  }
  if (!S_ISREG(f.st.st_mode) || (f.st.st_mode & 0111) == 0) {
    out.kind = "not-executable";
    out.detail = S_ISREG(f.st.st_mode) ? "" : "not a regular file";
    return out;
  }
  if (f.mount && has_option(*f.mount, "noexec")) {
    out.kind = "noexec-mount";
    out.detail = f.mount->destination;
    return out;
  }
  struct statvfs vfs {};
  if ((errnum == EACCES || errnum == 0) && ::fstatvfs(f.fd.get(), &vfs) == 0 && (vfs.f_flag & ST_NOEXEC)) {
    out.kind = "noexec-mount";
    out.detail = f.mount ? f.mount->destination : "/";
    return out;
  }
  return explain_content(root, f, path, std::move(out), depth);
}

}  // namespace

std::optional<ProgramContext> program_context(const oci::Spec& spec, const std::string& bundle) {
  if (!spec.process || !spec.root || spec.process->args.empty()) return std::nullopt;
  ProgramContext p;
  p.rootfs = spec.root->path[0] == '/' ? spec.root->path : bundle + "/" + spec.root->path;
  p.args = spec.process->args;
  p.env = spec.process->env;
  p.cwd = spec.process->cwd.empty() ? "/" : spec.process->cwd;
  p.mounts = spec.mounts;
  return p;
}

std::optional<StartFailure> diagnose_start(const ProgramContext& p, int errnum, const std::string& error,
                                           bool must_explain) {
  StartFailure out;
  out.program = p.args.empty() ? "" : p.args.front();
  out.error = error;
  out.kind = "exec";
  if (p.args.empty()) return must_explain ? std::nullopt : std::optional(out);
  Rootfs root(p);
  const std::string& prog = p.args.front();
  std::optional<Found> found;
  std::string path;
  if (prog.find('/') != std::string::npos) {
    path = absolute(prog, p.cwd);
    found = root.find(path);
    if (!found) {
      if (must_explain && root.hidden(path)) return std::nullopt;
      out.kind = "not-found";
      out.path = path;
      return out;
    }
  } else {
    std::string search = env_value(p.env, "PATH");
    if (search.empty()) search = kDefaultPath;
    // As execvp: the first match that is executable; else the first that exists, to say
    // why it would not run.
    std::optional<Found> first;
    std::string first_path;
    bool hidden = false;
    for (const auto& dir : split(search, ':')) {
      std::string candidate = absolute((dir.empty() ? "." : dir) + "/" + prog, p.cwd);
      hidden = hidden || root.hidden(candidate);
      auto f = root.find(candidate);
      if (!f) continue;
      if (S_ISREG(f->st.st_mode) && (f->st.st_mode & 0111)) {
        found = std::move(f);
        path = candidate;
        break;
      }
      if (!first) first = std::move(f), first_path = candidate;
    }
    if (!found && first) found = std::move(first), path = first_path;
    if (!found) {
      if (must_explain && hidden) return std::nullopt;
      out.kind = "not-found";
      out.searched = search;
      return out;
    }
  }
  auto why = explain_file(root, *found, path, errnum, out, 0);
  if (why) return why;
  if (must_explain) return std::nullopt;
  out.path = path;
  return out;
}

int start_failure_exit_code(const StartFailure& f) {
  if (f.kind == "directory" || f.kind == "not-executable" || f.kind == "noexec-mount" || f.kind == "wrong-arch")
    return 126;
  if (f.kind == "exec") return f.error.find("ermission denied") != std::string::npos ? 126 : 127;
  return 127;
}

}  // namespace guise::engine
