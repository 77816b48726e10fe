#include "linux/shared_root.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sys/child_process.h"
#include "sys/fd.h"

#ifndef STATX_MNT_ID
#define STATX_MNT_ID 0x00001000U
#endif
#ifndef STATX_MNT_ID_UNIQUE
#define STATX_MNT_ID_UNIQUE 0x00004000U
#endif

namespace guise::linux {

namespace {

Result<uint64_t> mount_id_at(int dirfd, const char* path, int flags) {
  struct statx stx {};
  if (::statx(dirfd, path, flags, STATX_MNT_ID | STATX_MNT_ID_UNIQUE, &stx) < 0)
    return sys::sys_error("statx", *path ? path : "the rootfs mount");
  if (!(stx.stx_mask & (STATX_MNT_ID | STATX_MNT_ID_UNIQUE)))
    return sys::user_error("statx: the kernel gives no mount id");
  return static_cast<uint64_t>(stx.stx_mnt_id);
}

// 0, or the errno of the step that failed.
int detach_here(const std::string& rootfs, uint64_t id) {
  auto now = mount_id_at(AT_FDCWD, rootfs.c_str(), AT_SYMLINK_NOFOLLOW);
  if (!now.ok()) return now.error().errnum ? now.error().errnum : EINVAL;
  if (now.value() != id) return 0;  // gone already, or covered by another: not ours to take
  if (::umount2(rootfs.c_str(), MNT_DETACH | UMOUNT_NOFOLLOW) < 0) return errno;
  return 0;
}

}  // namespace

bool has_own_mount_namespace(const oci::Spec& spec) {
  const oci::Namespace* ns = spec.find_namespace(oci::NamespaceType::kMount);
  return ns && ns->path.empty();
}

Result<void> check_shared_root(const oci::Spec& spec) {
  if (has_own_mount_namespace(spec) || !spec.linux) return Ok();
  const oci::Namespace* joined = spec.find_namespace(oci::NamespaceType::kMount);
  if (!joined) {
    // runc's rule and words: masks live in a mount namespace, and there is none here.
    if (!spec.linux->masked_paths.empty())
      return sys::user_error("config.json: linux.maskedPaths: unable to restrict sys entries without a private MNT namespace");
    if (!spec.linux->readonly_paths.empty())
      return sys::user_error("config.json: linux.readonlyPaths: unable to restrict sys entries without a private MNT namespace");
    return Ok();
  }
  // In a joined namespace the root is entered by chroot (a pivot_root would move every
  // other process of it), and chroot holds only a process that can neither chroot
  // again nor mount: the classic escape is chroot(subdir) + chdir("..") repeated.
  const auto& caps = spec.process && spec.process->capabilities ? spec.process->capabilities->bounding
                                                                : std::vector<std::string>{};
  for (const char* cap : {"CAP_SYS_CHROOT", "CAP_SYS_ADMIN"})
    for (const auto& c : caps)
      if (c == cap)
        return sys::user_error(std::string("config.json: process.capabilities.bounding: ") + cap +
                               " would let the process leave its root in the mount namespace it joins (" +
                               joined->path + "); drop it, or give the container a mount namespace of its own");
  return Ok();
}

Result<uint64_t> mount_id_of(int fd) { return mount_id_at(fd, "", AT_EMPTY_PATH); }

Result<void> detach_shared_root(const std::string& ns_path, const std::string& rootfs, uint64_t id) {
  if (id == 0) return Ok();
  std::string what = "detach the container's rootfs mount at " + rootfs;
  if (ns_path.empty()) {
    int err = detach_here(rootfs, id);
    if (err) return sys::sys_error_n(err, what);
    return Ok();
  }
  sys::Fd ns(::open(ns_path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!ns.valid()) {
    if (errno == ENOENT) return Ok();  // the namespace went with its pin, and the mount with it
    return sys::sys_error("open mount namespace", ns_path);
  }
  // Joining a mount namespace changes the root and working directory of the whole
  // process: a child of its own does it.
  pid_t pid = ::fork();
  if (pid < 0) return sys::sys_error("fork");
  if (pid == 0) {
    if (::setns(ns.get(), CLONE_NEWNS) < 0) ::_exit(errno);
    ::_exit(detach_here(rootfs, id));
  }
  sys::ChildProcess child(pid, sys::Fd());
  int status = GUISE_TRY(child.wait());
  if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
    return sys::sys_error_n(WEXITSTATUS(status), what + " in mount namespace " + ns_path);
  if (!WIFEXITED(status)) return sys::user_error(what + ": the helper was killed");
  return Ok();
}

}  // namespace guise::linux
