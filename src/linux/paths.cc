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

namespace {

// `rel`, known missing: its deepest existing ancestor is found from the end (mount
// targets are usually one level below something that exists), and what is missing below
// it is made with mkdirat on that resolved fd and opened without following: a directory
// this call just made holds no symlink.
Result<sys::Fd> make_missing_dirs(int root, const std::string& rel, mode_t mode) {
  auto [parent, name] = split_parent(rel);
  sys::Fd dir = GUISE_TRY(mkdir_all_in_root(root, parent, mode));
  if (::mkdirat(dir.get(), name.c_str(), mode) == 0) {
    sys::Fd made(::openat(dir.get(), name.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!made.valid()) return sys::sys_error("open", "/" + rel);
    return made;
  }
  if (errno != EEXIST) return sys::sys_error("mkdir", "/" + rel);
  // Made meanwhile, or a dangling symlink: as the container sees it.
  return sys::openat2(root, rel, O_PATH | O_DIRECTORY, 0, kInRoot);
}

}  // namespace

// Every existing component is resolved from the rootfs, inside it: a symlink planted at
// any level is followed as the container would see it, never out to the host.
Result<sys::Fd> mkdir_all_in_root(int root, const std::string& path, mode_t mode) {
  std::string rel = relative(path);
  auto existing = sys::openat2(root, rel, O_PATH | O_DIRECTORY, 0, kInRoot);
  if (existing.ok() || existing.error().errnum != ENOENT || rel == ".") return existing;
  return make_missing_dirs(root, rel, mode);
}

Result<sys::Fd> make_mount_target(int root, const std::string& path, bool as_file) {
  auto existing = open_in_root(root, path);
  if (existing.ok() || existing.error().errnum != ENOENT) return existing;
  if (!as_file) return make_missing_dirs(root, relative(path), 0755);
  auto [parent, name] = split_parent(relative(path));
  sys::Fd dir = GUISE_TRY(mkdir_all_in_root(root, parent));
  // The final component is created relative to the checked parent, without following.
  sys::Fd created(::openat(dir.get(), name.c_str(), O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_RDONLY, 0644));
  if (!created.valid() && errno != EEXIST) return sys::sys_error("create mount target", path);
  return open_in_root(root, path);
}

}  // namespace guise::linux
