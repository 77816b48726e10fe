#include "linux/masks.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>

#include <optional>

#include "linux/paths.h"
#include "sys/fd.h"

namespace guise::linux {

namespace {

Result<sys::Fd> open_root() {
  sys::Fd root(::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!root.valid()) return sys::sys_error("open", "/");
  return root;
}

Result<void> attach(int mnt, int target, const std::string& path) {
  if (::move_mount(mnt, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
    return sys::sys_error("mount on", path);
  return Ok();
}

// The path as the container resolves it; nothing when it does not exist.
Result<std::optional<sys::Fd>> open_target(int root, const std::string& path) {
  auto target = open_in_root(root, path);
  if (!target.ok() && (target.error().errnum == ENOENT || target.error().errnum == ENOTDIR))
    return std::optional<sys::Fd>();
  if (!target.ok()) return std::move(target.error());
  return std::optional<sys::Fd>(std::move(target).take());
}

Result<struct stat> stat_fd(int fd, const std::string& what) {
  struct stat st {};
  if (::fstat(fd, &st) < 0) return sys::sys_error("stat", what);
  return st;
}

Result<sys::Fd> null_device_tree(int root) {
  sys::Fd null = GUISE_TRY(open_in_root(root, "/dev/null", O_NOFOLLOW));
  sys::Fd tree(::open_tree(null.get(), "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH));
  if (!tree.valid()) return sys::sys_error("bind", "/dev/null");
  struct stat st = GUISE_TRY(stat_fd(tree.get(), "/dev/null"));
  if (!S_ISCHR(st.st_mode) || major(st.st_rdev) != 1 || minor(st.st_rdev) != 3)
    return sys::user_error("/dev/null in the container is not the null device (1:3); refusing to mask with it");
  return tree;
}

Result<sys::Fd> empty_readonly_tmpfs() {
  sys::Fd fs(::fsopen("tmpfs", FSOPEN_CLOEXEC));
  if (!fs.valid()) return sys::sys_error("open filesystem type tmpfs");
  if (::fsconfig(fs.get(), FSCONFIG_SET_STRING, "size", "0", 0) < 0 ||
      ::fsconfig(fs.get(), FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) < 0)
    return sys::sys_error("create tmpfs for masking");
  sys::Fd mnt(::fsmount(fs.get(), FSMOUNT_CLOEXEC, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV |
                                                    MOUNT_ATTR_NOEXEC));
  if (!mnt.valid()) return sys::sys_error("mount tmpfs for masking");
  return mnt;
}

// The path now resolves to what was mounted on it.
Result<void> check_covered(int root, const std::string& path, int mnt) {
  struct stat want = GUISE_TRY(stat_fd(mnt, path));
  sys::Fd now = GUISE_TRY(open_in_root(root, path));
  struct stat got = GUISE_TRY(stat_fd(now.get(), path));
  if (want.st_dev != got.st_dev || want.st_ino != got.st_ino)
    return sys::user_error(path + " does not show its mask after masking (it was swapped meanwhile)");
  return Ok();
}

}  // namespace

Result<void> mask_paths(const std::vector<std::string>& paths) {
  if (paths.empty()) return Ok();
  sys::Fd root = GUISE_TRY(open_root());
  for (const auto& path : paths) {
    auto target = GUISE_TRY(open_target(root.get(), path), "masking " + path);
    if (!target) continue;
    struct stat st = GUISE_TRY(stat_fd(target->get(), path));
    sys::Fd mnt = S_ISDIR(st.st_mode) ? GUISE_TRY(empty_readonly_tmpfs(), "masking " + path)
                                      : GUISE_TRY(null_device_tree(root.get()), "masking " + path);
    GUISE_TRY(attach(mnt.get(), target->get(), path), "masking " + path);
    GUISE_TRY(check_covered(root.get(), path, mnt.get()), "masking " + path);
  }
  return Ok();
}

Result<void> make_paths_readonly(const std::vector<std::string>& paths) {
  if (paths.empty()) return Ok();
  sys::Fd root = GUISE_TRY(open_root());
  for (const auto& path : paths) {
    auto target = GUISE_TRY(open_target(root.get(), path), "making " + path + " read-only");
    if (!target) continue;
    sys::Fd tree(::open_tree(target->get(), "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE | AT_EMPTY_PATH));
    if (!tree.valid()) return sys::sys_error("bind", path);
    struct mount_attr attr {};
    attr.attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC;
    if (::mount_setattr(tree.get(), "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr) < 0)
      return sys::sys_error("make read-only", path);
    GUISE_TRY(attach(tree.get(), target->get(), path), "making " + path + " read-only");
    sys::Fd now = GUISE_TRY(open_in_root(root.get(), path), "making " + path + " read-only");
    struct statvfs vfs {};
    if (::fstatvfs(now.get(), &vfs) < 0) return sys::sys_error("statvfs", path);
    if (!(vfs.f_flag & ST_RDONLY))
      return sys::user_error("making " + path + " read-only: the path is still writable (it was swapped meanwhile)");
  }
  return Ok();
}

}  // namespace guise::linux
