#include "linux/mounts.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "linux/mount_checks.h"
#include "linux/paths.h"
#include "linux/revealing_mounts.h"
#include "sys/syscalls.h"

namespace guise::linux {

namespace {

Result<void> set_attrs(int mnt, uint64_t set, uint64_t clr, bool recursive, const std::string& dest) {
  if (set == 0 && clr == 0) return Ok();
  struct mount_attr attr {};
  attr.attr_set = set;
  attr.attr_clr = clr;
  unsigned flags = AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0);
  if (::mount_setattr(mnt, "", flags, &attr, sizeof attr) < 0)
    return sys::sys_error("set mount attributes on", dest);
  return Ok();
}

Result<void> set_propagation(int mnt, uint64_t propagation, bool recursive, const std::string& dest) {
  if (propagation == 0) return Ok();
  struct mount_attr attr {};
  attr.propagation = propagation;
  unsigned flags = AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0);
  if (::mount_setattr(mnt, "", flags, &attr, sizeof attr) < 0)
    return sys::sys_error("set mount propagation on", dest);
  return Ok();
}

Result<void> attach(int mnt, int target, const std::string& dest) {
  if (::move_mount(mnt, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
    return sys::sys_error("mount on", dest);
  return Ok();
}

// The kernel explains a refused fsconfig in the fs context's log: read it for the error.
std::string fs_context_log(int fs) {
  char buf[512];
  std::string out;
  ssize_t n;
  while ((n = ::read(fs, buf, sizeof buf - 1)) > 0) {
    buf[n] = 0;
    if (!out.empty()) out += "; ";
    out += (n > 2 && buf[1] == ' ') ? buf + 2 : buf;
    while (!out.empty() && out.back() == '\n') out.pop_back();
  }
  return out;
}

Result<sys::Fd> make_filesystem(const MountStep& s) {
  sys::Fd fs(::fsopen(s.fstype.c_str(), FSOPEN_CLOEXEC));
  if (!fs.valid()) return sys::sys_error("open filesystem type " + s.fstype + " for", s.destination);
  auto config = [&](unsigned cmd, const char* key, const char* value) -> Result<void> {
    if (::fsconfig(fs.get(), cmd, key, value, 0) == 0) return Ok();
    int err = errno;
    std::string what = key ? std::string("option \"") + key + (value && *value ? std::string("=") + value : "") + "\"" :
                             std::string("create");
    std::string log = fs_context_log(fs.get());
    return sys::sys_error_n(err, s.fstype + " " + what + (log.empty() ? "" : " (" + log + ")") + " for",
                            s.destination);
  };
  if (!s.source.empty()) GUISE_TRY(config(FSCONFIG_SET_STRING, "source", s.source.c_str()));
  for (const auto& [key, value] : s.fs_params) {
    if (value.empty())
      GUISE_TRY(config(FSCONFIG_SET_FLAG, key.c_str(), nullptr));
    else
      GUISE_TRY(config(FSCONFIG_SET_STRING, key.c_str(), value.c_str()));
  }
  GUISE_TRY(config(FSCONFIG_CMD_CREATE, nullptr, nullptr));
  sys::Fd mnt(::fsmount(fs.get(), FSMOUNT_CLOEXEC, static_cast<unsigned>(s.attr_set)));
  if (!mnt.valid()) return sys::sys_error("create " + s.fstype + " mount for", s.destination);
  return mnt;
}

Result<sys::Fd> clone_tree(const std::string& source, bool recursive, const std::string& dest) {
  unsigned flags = OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (recursive ? AT_RECURSIVE : 0);
  sys::Fd tree(::open_tree(AT_FDCWD, source.c_str(), flags));
  if (!tree.valid()) return sys::sys_error("bind " + source + " for", dest);
  return tree;
}

Result<sys::Fd> source_tree(const MountStep& s, const MountContext& ctx) {
  if (s.premade_tree >= 0) {
    sys::Fd tree(::dup(s.premade_tree));
    if (!tree.valid()) return sys::sys_error("dup idmapped tree for", s.destination);
    return tree;
  }
  auto tree = clone_tree(s.source, s.recursive, s.destination);
  if (tree.ok() || !ctx.open_source || (tree.error().errnum != EACCES && tree.error().errnum != EPERM)) return tree;
  // Out of the user namespace's reach: the runtime opens it, as runc opens every bind
  // source before its init enters the user namespace. Where it cannot either, the
  // init's own error says why.
  auto outside = ctx.open_source(s.source);
  if (!outside.ok()) return tree;
  unsigned flags = OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH | (s.recursive ? AT_RECURSIVE : 0);
  sys::Fd opened(::open_tree(outside.value().get(), "", flags));
  if (!opened.valid()) return sys::sys_error("bind " + s.source + " (opened by the runtime) for", s.destination);
  return opened;
}

Result<sys::Fd> mount_bind(int root, const MountStep& s, const MountContext& ctx) {
  sys::Fd tree = GUISE_TRY(source_tree(s, ctx));
  struct stat st {};
  if (::fstat(tree.get(), &st) < 0) return sys::sys_error("stat", s.source);
  GUISE_TRY(set_attrs(tree.get(), s.attr_set, s.attr_clr, false, s.destination));
  GUISE_TRY(set_attrs(tree.get(), s.rattr_set, s.rattr_clr, true, s.destination));
  sys::Fd target = GUISE_TRY(make_mount_target(root, s.destination, !S_ISDIR(st.st_mode)));
  GUISE_TRY(check_mount_target(target.get(), s));
  GUISE_TRY(attach(tree.get(), target.get(), s.destination));
  GUISE_TRY(set_propagation(tree.get(), s.propagation, s.propagation_recursive, s.destination));
  return tree;
}

// A "cgroup" mount shows the container its own cgroup: on v2 a cgroup2 bind of its
// directory; on v1 a tmpfs with one bind per hierarchy, as runc lays it out.
Result<void> mount_cgroup(int root, const MountStep& s, const MountContext& ctx) {
  uint64_t ro_like = s.attr_set | s.rattr_set;
  if (ctx.cgroup_v2) {
    auto it = ctx.cgroup_paths.find("unified");
    if (it == ctx.cgroup_paths.end()) return sys::user_error("mount cgroup: the container has no cgroup2 directory");
    MountStep bind = s;
    bind.source = it->second;
    bind.bind = true;
    bind.fstype.clear();
    bind.fs_params.clear();
    GUISE_TRY(mount_bind(root, bind, ctx));
    return Ok();
  }
  MountStep tmpfs = s;
  tmpfs.fstype = "tmpfs";
  tmpfs.source = "tmpfs";
  tmpfs.attr_set = s.attr_set & ~static_cast<uint64_t>(MOUNT_ATTR_RDONLY);
  tmpfs.fs_params = {{"mode", "755"}};
  sys::Fd mnt = GUISE_TRY(make_filesystem(tmpfs));
  sys::Fd target = GUISE_TRY(make_mount_target(root, s.destination, false));
  GUISE_TRY(check_mount_target(target.get(), tmpfs));
  GUISE_TRY(attach(mnt.get(), target.get(), s.destination));
  // The binds land in the tmpfs just made, through its own fd: nothing else has been in
  // it, so there is no path to resolve inside the rootfs and no procfs to refuse.
  const uint64_t bind_attrs = ro_like | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC;
  for (const auto& [name, dir] : ctx.cgroup_paths) {
    // The subdirectory is named as the host names the hierarchy's mount (cpu, memory, systemd, unified).
    std::string hierarchy = dir.substr(0, dir.find('/', sizeof("/sys/fs/cgroup/") - 1));
    std::string sub = hierarchy.substr(hierarchy.rfind('/') + 1);
    std::string dest = s.destination + "/" + sub;
    if (::mkdirat(mnt.get(), sub.c_str(), 0755) < 0 && errno != EEXIST) return sys::sys_error("mkdir", dest);
    sys::Fd at(::openat(mnt.get(), sub.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!at.valid()) return sys::sys_error("open", dest);
    sys::Fd tree = GUISE_TRY(clone_tree(dir, false, dest));
    GUISE_TRY(set_attrs(tree.get(), bind_attrs, 0, false, dest));
    GUISE_TRY(attach(tree.get(), at.get(), dest));
  }
  return set_attrs(mnt.get(), s.attr_set, s.attr_clr, false, s.destination);
}

}  // namespace

Result<void> isolate_mount_propagation(const std::string& rootfs_propagation) {
  bool rec = true;
  uint64_t p = GUISE_TRY(propagation_flags(rootfs_propagation, &rec), "linux.rootfsPropagation");
  unsigned long flags = (p == MS_PRIVATE ? MS_PRIVATE : MS_SLAVE) | MS_REC;
  if (::mount(nullptr, "/", nullptr, flags, nullptr) < 0) return sys::sys_error("make / rslave");
  return Ok();
}

Result<sys::Fd> mount_rootfs(const std::string& rootfs, bool private_tree) {
  sys::Fd tree = GUISE_TRY(clone_tree(rootfs, true, rootfs));
  if (private_tree) GUISE_TRY(set_propagation(tree.get(), MS_PRIVATE, true, rootfs));
  sys::Fd target(::open(rootfs.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!target.valid()) return sys::sys_error("open rootfs", rootfs);
  GUISE_TRY(attach(tree.get(), target.get(), rootfs));
  // The mount's own root, not the directory it now covers.
  return tree;
}

Result<sys::Fd> apply_mount(int root, const MountStep& s, const MountContext& ctx) {
  GUISE_TRY(check_mount_destination(root, s));
  if (s.fstype == "cgroup" || s.fstype == "cgroup2") {
    GUISE_TRY(mount_cgroup(root, s, ctx));
    return sys::Fd();
  }
  if (s.bind) {
    sys::Fd tree = GUISE_TRY(mount_bind(root, s, ctx));
    return s.readonly_later ? std::move(tree) : sys::Fd();
  }
  auto mnt = make_filesystem(s);
  if (!mnt.ok() && s.fstype == "sysfs" && mnt.error().errnum == EPERM && ctx.in_user_namespace) {
    // A user namespace without its own network namespace may not mount sysfs: bind the host's.
    MountStep bind = s;
    bind.bind = true;
    bind.recursive = true;
    bind.source = "/sys";
    bind.fstype.clear();
    bind.fs_params.clear();
    bind.rattr_set |= s.attr_set;
    GUISE_TRY(mount_bind(root, bind, ctx));
    return sys::Fd();
  }
  if (!mnt.ok()) return std::move(mnt.error());
  sys::Fd target = GUISE_TRY(make_mount_target(root, s.destination, false));
  GUISE_TRY(check_mount_target(target.get(), s));
  GUISE_TRY(set_attrs(mnt.value().get(), s.rattr_set, s.rattr_clr, true, s.destination));
  GUISE_TRY(attach(mnt.value().get(), target.get(), s.destination));
  GUISE_TRY(check_mounted(root, s));
  GUISE_TRY(set_propagation(mnt.value().get(), s.propagation, s.propagation_recursive, s.destination));
  return s.readonly_later ? std::move(mnt).take() : sys::Fd();
}

Result<void> make_readonly(const std::vector<ReadonlyLater>& mounts) {
  for (const auto& m : mounts) GUISE_TRY(set_attrs(m.mount.get(), MOUNT_ATTR_RDONLY, 0, false, m.destination));
  return Ok();
}

Result<void> enter_rootfs(int root, RootEntry how, const std::string& rootfs) {
  if (::fchdir(root) < 0) return sys::sys_error("chdir to rootfs");
  if (how == RootEntry::kChroot) {
    if (::chroot(".") < 0) return sys::sys_error("chroot to rootfs");
  } else if (how == RootEntry::kMove) {
    GUISE_TRY(hide_revealing_mounts(rootfs));
    if (::mount(".", "/", nullptr, MS_MOVE, nullptr) < 0) return sys::sys_error("move rootfs to /");
    if (::chroot(".") < 0) return sys::sys_error("chroot to rootfs");
  } else {
    // pivot_root(".", ".") stacks the old root on top of the new one; detaching "."
    // then drops it without needing a directory for it inside the image. The old root
    // is made rslave first (so the detach cannot propagate to the host) through an fd
    // taken before the pivot: a path would name the new root and undo its own sharing.
    sys::Fd old_root(::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!old_root.valid()) return sys::sys_error("open old root");
    if (::syscall(SYS_pivot_root, ".", ".") < 0) return sys::sys_error("pivot_root to rootfs");
    struct mount_attr slave {};
    slave.propagation = MS_SLAVE;
    if (::mount_setattr(old_root.get(), "", AT_EMPTY_PATH | AT_RECURSIVE, &slave, sizeof slave) < 0)
      return sys::sys_error("make old root rslave");
    if (::umount2(".", MNT_DETACH) < 0) return sys::sys_error("detach old root");
  }
  if (::chdir("/") < 0) return sys::sys_error("chdir to /");
  return Ok();
}

Result<void> finish_root(const std::string& rootfs_propagation, bool readonly) {
  bool rec = false;
  uint64_t p = GUISE_TRY(propagation_flags(rootfs_propagation, &rec), "linux.rootfsPropagation");
  if (p == MS_SHARED || p == MS_UNBINDABLE) {
    if (::mount(nullptr, "/", nullptr, p | (rec ? MS_REC : 0), nullptr) < 0)
      return sys::sys_error("set rootfs propagation " + rootfs_propagation + " on", "/");
  }
  if (readonly) {
    sys::Fd self(::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!self.valid()) return sys::sys_error("open", "/");
    GUISE_TRY(set_attrs(self.get(), MOUNT_ATTR_RDONLY, 0, false, "/ (root.readonly)"));
  }
  return Ok();
}

}  // namespace guise::linux
