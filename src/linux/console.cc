#include "linux/console.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "linux/paths.h"
#include "sys/fd.h"

namespace guise::linux {

Result<void> mount_console(int pty_peer) {
  struct stat pty {};
  if (::fstat(pty_peer, &pty) < 0) return sys::sys_error("stat the terminal");
  sys::Fd root(::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!root.valid()) return sys::sys_error("open", "/");
  sys::Fd dev = GUISE_TRY(open_in_root(root.get(), "/dev", O_DIRECTORY));
  sys::Fd devdir(::openat(dev.get(), ".", O_DIRECTORY | O_RDONLY | O_CLOEXEC));
  if (!devdir.valid()) return sys::sys_error("open", "/dev");
  sys::Fd made(::openat(devdir.get(), "console", O_CREAT | O_EXCL | O_NOFOLLOW | O_RDONLY | O_CLOEXEC, 0600));
  // A read-only /dev without a console node: nothing to mount on, as runc leaves it.
  if (!made.valid() && errno == EROFS) return Ok();
  sys::Fd target(::openat(devdir.get(), "console", O_PATH | O_NOFOLLOW | O_CLOEXEC));
  if (!target.valid()) return sys::sys_error("open", "/dev/console");
  struct stat st {};
  if (::fstat(target.get(), &st) < 0) return sys::sys_error("stat", "/dev/console");
  if (!S_ISREG(st.st_mode) && !S_ISCHR(st.st_mode))
    return sys::user_error(std::string("/dev/console in the container is ") +
                           (S_ISLNK(st.st_mode) ? "a symlink" : "neither a file nor a device") +
                           "; refusing to mount the terminal there");
  sys::Fd tree(::open_tree(pty_peer, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH));
  if (!tree.valid()) return sys::sys_error("bind the terminal for", "/dev/console");
  if (::move_mount(tree.get(), "", target.get(), "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
    return sys::sys_error("mount the terminal on", "/dev/console");
  sys::Fd now(::openat(devdir.get(), "console", O_PATH | O_NOFOLLOW | O_CLOEXEC));
  struct stat got {};
  if (!now.valid() || ::fstat(now.get(), &got) < 0) return sys::sys_error("open", "/dev/console");
  if (!S_ISCHR(got.st_mode) || got.st_rdev != pty.st_rdev)
    return sys::user_error("/dev/console does not show the terminal after mounting it (swapped meanwhile)");
  return Ok();
}

}  // namespace guise::linux
