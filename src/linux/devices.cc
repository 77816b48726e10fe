#include "linux/devices.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <set>

#include "cgroups/devices.h"
#include "linux/paths.h"
#include "sys/syscalls.h"

namespace guise::linux {

std::vector<oci::Device> default_devices() {
  auto dev = [](const char* path, int64_t major, int64_t minor) {
    oci::Device d;
    d.type = "c";
    d.path = path;
    d.major = major;
    d.minor = minor;
    d.file_mode = 0666;
    d.uid = 0;
    d.gid = 0;
    return d;
  };
  return {dev("/dev/null", 1, 3),    dev("/dev/zero", 1, 5), dev("/dev/full", 1, 7),
          dev("/dev/random", 1, 8),  dev("/dev/urandom", 1, 9), dev("/dev/tty", 5, 0)};
}

std::vector<oci::Device> plan_devices(const std::vector<oci::Device>& configured, bool dev_is_bind) {
  std::vector<oci::Device> out = configured;
  if (dev_is_bind) return out;
  std::set<std::string> taken;
  for (const auto& d : configured) taken.insert(d.path);
  for (auto& d : default_devices())
    if (!taken.count(d.path)) out.push_back(std::move(d));
  return out;
}

std::vector<oci::DeviceRule> effective_device_rules(const std::vector<oci::DeviceRule>& configured,
                                                    const std::vector<oci::Device>& devices) {
  std::vector<oci::DeviceRule> out = configured;
  for (auto& r : cgroups::default_device_rules()) out.push_back(std::move(r));
  (void)devices;  // as in runc, a node in linux.devices is made but not implicitly allowed
  return out;
}

namespace {

Result<void> mknod_device(int root, const oci::Device& d) {
  auto [parent, name] = split_parent(d.path);
  sys::Fd dir = GUISE_TRY(mkdir_all_in_root(root, parent));
  // The O_PATH fd from openat2 cannot be used with mknodat; reopen it as a directory.
  sys::Fd dirfd(::openat(dir.get(), ".", O_DIRECTORY | O_CLOEXEC | O_RDONLY));
  if (!dirfd.valid()) return sys::sys_error("open", parent);
  mode_t type = d.type == "b" ? S_IFBLK : d.type == "p" ? S_IFIFO : S_IFCHR;
  mode_t perm = d.file_mode.value_or(0666) & 07777;
  ::unlinkat(dirfd.get(), name.c_str(), 0);  // an image's placeholder must not shadow the device
  if (::mknodat(dirfd.get(), name.c_str(), type | perm, makedev(d.major, d.minor)) < 0)
    return sys::sys_error("mknod", d.path);
  if (::fchmodat(dirfd.get(), name.c_str(), perm, 0) < 0) return sys::sys_error("chmod", d.path);
  if (::fchownat(dirfd.get(), name.c_str(), d.uid.value_or(0), d.gid.value_or(0), AT_SYMLINK_NOFOLLOW) < 0)
    return sys::sys_error("chown", d.path);
  return Ok();
}

Result<void> bind_device(int root, const oci::Device& d) {
  sys::Fd tree(::open_tree(AT_FDCWD, d.path.c_str(), OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC));
  if (!tree.valid()) return sys::sys_error("bind host device", d.path);
  sys::Fd target = GUISE_TRY(make_mount_target(root, d.path, true));
  if (::move_mount(tree.get(), "", target.get(), "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
    return sys::sys_error("mount device on", d.path);
  return Ok();
}

}  // namespace

Result<void> create_devices(int root, const std::vector<oci::Device>& devices, bool bind_from_host) {
  for (const auto& d : devices) {
    if (bind_from_host)
      GUISE_TRY(bind_device(root, d), "creating device " + d.path);
    else if (auto made = mknod_device(root, d); !made) {
      // No CAP_MKNOD over the host (a rootless engine's runtime: root of its own user
      // namespace): the host's node, as runc does then.
      if (made.error().errnum != EPERM) return std::move(made.error()).with_context("creating device " + d.path);
      GUISE_TRY(bind_device(root, d), "creating device " + d.path);
    }
  }
  return Ok();
}

Result<void> create_dev_symlinks(int root, bool has_devpts) {
  std::vector<std::pair<const char*, const char*>> links = {
      {"/proc/self/fd", "fd"}, {"/proc/self/fd/0", "stdin"}, {"/proc/self/fd/1", "stdout"},
      {"/proc/self/fd/2", "stderr"}};
  if (::access("/proc/kcore", F_OK) == 0) links.emplace_back("/proc/kcore", "core");
  if (has_devpts) links.emplace_back("pts/ptmx", "ptmx");
  sys::Fd dev = GUISE_TRY(mkdir_all_in_root(root, "/dev"));
  sys::Fd devdir(::openat(dev.get(), ".", O_DIRECTORY | O_CLOEXEC | O_RDONLY));
  if (!devdir.valid()) return sys::sys_error("open", "/dev");
  for (const auto& [target, name] : links) {
    if (std::string(name) == "ptmx") ::unlinkat(devdir.get(), name, 0);
    if (::symlinkat(target, devdir.get(), name) < 0 && errno != EEXIST)
      return sys::sys_error(std::string("symlink /dev/") + name + " ->", target);
  }
  return Ok();
}

}  // namespace guise::linux
