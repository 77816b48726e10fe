#include "linux/masks.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

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

Result<sys::Fd> null_device_tree() {
  sys::Fd tree(::open_tree(AT_FDCWD, "/dev/null", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC));
  if (!tree.valid()) return sys::sys_error("bind", "/dev/null");
  struct stat st {};
  if (::fstat(tree.get(), &st) < 0) return sys::sys_error("stat", "/dev/null");
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

}  // namespace

Result<void> mask_paths(const std::vector<std::string>& paths) {
  if (paths.empty()) return Ok();
  sys::Fd root = GUISE_TRY(open_root());
  for (const auto& path : paths) {
    auto target = open_in_root(root.get(), path, O_NOFOLLOW);
    if (!target.ok() && (target.error().errnum == ENOENT || target.error().errnum == ELOOP)) continue;
    if (!target.ok()) return std::move(target.error()).with_context("masking " + path);
    struct stat st {};
    if (::fstat(target.value().get(), &st) < 0) return sys::sys_error("stat", path);
    if (S_ISLNK(st.st_mode)) continue;  // the link's target is masked by its own entry, if any
    sys::Fd mnt = S_ISDIR(st.st_mode) ? GUISE_TRY(empty_readonly_tmpfs(), "masking " + path)
                                      : GUISE_TRY(null_device_tree(), "masking " + path);
    GUISE_TRY(attach(mnt.get(), target.value().get(), path), "masking " + path);
  }
  return Ok();
}

Result<void> make_paths_readonly(const std::vector<std::string>& paths) {
  if (paths.empty()) return Ok();
  sys::Fd root = GUISE_TRY(open_root());
  for (const auto& path : paths) {
    auto target = open_in_root(root.get(), path, O_NOFOLLOW);
    if (!target.ok() && (target.error().errnum == ENOENT || target.error().errnum == ELOOP)) continue;
    if (!target.ok()) return std::move(target.error()).with_context("making " + path + " read-only");
    sys::Fd tree(::open_tree(target.value().get(), "",
                             OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE | AT_EMPTY_PATH));
    if (!tree.valid()) return sys::sys_error("bind", path);
    struct mount_attr attr {};
    attr.attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC;
    if (::mount_setattr(tree.get(), "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr) < 0)
      return sys::sys_error("make read-only", path);
    GUISE_TRY(attach(tree.get(), target.value().get(), path), "making " + path + " read-only");
  }
  return Ok();
}

}  // namespace guise::linux
