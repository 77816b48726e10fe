#include "linux/paths.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>

#include "sys/syscalls.h"

namespace guise::linux {

namespace {
constexpr uint64_t kInRoot = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;

std::string relative(const std::string& path) {
  size_t i = 0;
  while (i < path.size() && path[i] == '/') ++i;
  return i == path.size() ? "." : path.substr(i);
}
}  // namespace

std::pair<std::string, std::string> split_parent(const std::string& path) {
  std::string p = path;
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  auto slash = p.rfind('/');
  if (slash == std::string::npos) return {".", p};
  return {slash == 0 ? "/" : p.substr(0, slash), p.substr(slash + 1)};
}

Result<sys::Fd> open_in_root(int root, const std::string& path, int flags) {
  return sys::openat2(root, relative(path), static_cast<uint64_t>(O_PATH | flags), 0, kInRoot);
}

Result<sys::Fd> mkdir_all_in_root(int root, const std::string& path, mode_t mode) {
  std::string rel = relative(path);
  sys::Fd dir = GUISE_TRY(sys::openat2(root, ".", O_PATH | O_DIRECTORY, 0, kInRoot));
  if (rel == ".") return dir;
  size_t start = 0;
  while (start < rel.size()) {
    size_t slash = rel.find('/', start);
    if (slash == std::string::npos) slash = rel.size();
    std::string name = rel.substr(start, slash - start);
    start = slash + 1;
    if (name.empty() || name == ".") continue;
    // Every prefix is resolved from the rootfs, inside it: a symlink planted at any
    // level is followed as the container would see it, never out to the host. A missing
    // component is made with mkdirat on the already-resolved parent, which never follows.
    std::string prefix = rel.substr(0, slash);
    auto next = sys::openat2(root, prefix, O_PATH | O_DIRECTORY, 0, kInRoot);
    if (!next.ok() && next.error().errnum == ENOENT) {
      if (::mkdirat(dir.get(), name.c_str(), mode) < 0 && errno != EEXIST)
        return sys::sys_error("mkdir", "/" + prefix);
      next = sys::openat2(root, prefix, O_PATH | O_DIRECTORY, 0, kInRoot);
    }
    if (!next.ok()) return std::move(next.error());
    dir = std::move(next).take();
  }
  return dir;
}

Result<sys::Fd> make_mount_target(int root, const std::string& path, bool as_file) {
  auto existing = open_in_root(root, path);
  if (existing.ok() || existing.error().errnum != ENOENT) return existing;
  if (!as_file) return mkdir_all_in_root(root, path);
  auto [parent, name] = split_parent(relative(path));
  sys::Fd dir = GUISE_TRY(mkdir_all_in_root(root, parent));
  // The final component is created relative to the checked parent, without following.
  sys::Fd created(::openat(dir.get(), name.c_str(), O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_RDONLY, 0644));
  if (!created.valid() && errno != EEXIST) return sys::sys_error("create mount target", path);
  return open_in_root(root, path);
}

}  // namespace guise::linux
