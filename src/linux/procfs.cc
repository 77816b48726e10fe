#include "linux/procfs.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sys/syscalls.h"

#ifndef STATX_ATTR_MOUNT_ROOT
#define STATX_ATTR_MOUNT_ROOT 0x00002000
#endif

namespace guise::linux {

Result<void> check_on_procfs(int fd, const std::string& what) {
  struct statfs fs {};
  if (::fstatfs(fd, &fs) < 0) return sys::sys_error("statfs", what);
  if (fs.f_type != PROC_SUPER_MAGIC)
    return sys::user_error(what + " is not on procfs (a fake /proc, or a mount over it); refusing to write to it");
  return Ok();
}

Result<ProcFs> ProcFs::open_private() {
  sys::Fd fs(::fsopen("proc", FSOPEN_CLOEXEC));
  if (!fs.valid()) return sys::sys_error("open a private procfs");
  if (::fsconfig(fs.get(), FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) < 0)
    return sys::sys_error("create a private procfs");
  sys::Fd mnt(::fsmount(fs.get(), FSMOUNT_CLOEXEC, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC));
  if (!mnt.valid()) return sys::sys_error("mount a private procfs");
  GUISE_TRY(check_on_procfs(mnt.get(), "the private procfs"));
  return ProcFs(std::move(mnt));
}

Result<ProcFs> ProcFs::open_mounted(const std::string& path) {
  sys::Fd root(::open(path.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!root.valid()) return sys::sys_error("open", path);
  GUISE_TRY(check_on_procfs(root.get(), path));
  // The root of a procfs mount, not a directory inside one bind-mounted here.
  struct statx stx {};
  if (::statx(root.get(), "", AT_EMPTY_PATH, STATX_INO, &stx) < 0) return sys::sys_error("statx", path);
  if ((stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) && !(stx.stx_attributes & STATX_ATTR_MOUNT_ROOT))
    return sys::user_error(path + " is not the root of a procfs mount; refusing to write to it");
  if (stx.stx_ino != 1) return sys::user_error(path + " is a directory inside procfs, not its root");
  // Of the caller's pid namespace: self() and thread_self() number by it.
  char self[32] = {};
  ssize_t n = ::readlinkat(root.get(), "self", self, sizeof self - 1);
  if (n <= 0 || std::string(self, static_cast<size_t>(n)) != std::to_string(::getpid()))
    return sys::user_error(path + " is the procfs of another pid namespace; refusing to write to it");
  return ProcFs(std::move(root));
}

Result<ProcFs> ProcFs::open_best() {
  auto priv = open_private();
  if (priv.ok()) return priv;
  return open_mounted("/proc");
}

Result<sys::Fd> ProcFs::open(const std::string& rel, int flags) const {
  if (!valid()) return sys::user_error("internal: no procfs handle");
  constexpr uint64_t kResolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV;
  sys::Fd fd = GUISE_TRY(sys::openat2(root_.get(), rel, static_cast<uint64_t>(flags | O_CLOEXEC | O_NOFOLLOW), 0,
                                      kResolve));
  GUISE_TRY(check_on_procfs(fd.get(), "/proc/" + rel));
  return fd;
}

Result<void> ProcFs::write(const std::string& rel, const std::string& value) const {
  sys::Fd fd = GUISE_TRY(open(rel, O_WRONLY));
  return sys::write_all(fd.get(), value, ("/proc/" + rel).c_str());
}

std::string ProcFs::self() const { return std::to_string(::getpid()); }

std::string ProcFs::thread_self() const {
  return self() + "/task/" + std::to_string(static_cast<long>(::syscall(SYS_gettid)));
}

}  // namespace guise::linux
