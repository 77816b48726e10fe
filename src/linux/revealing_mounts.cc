#include "linux/revealing_mounts.h"

#include <fcntl.h>
#include <sys/mount.h>

#include "sys/fd.h"
#include "sys/mountinfo.h"
#include "sys/syscalls.h"

namespace guise::linux {

namespace {

std::vector<std::string_view> fields(std::string_view line) {
  std::vector<std::string_view> out;
  while (!line.empty()) {
    size_t sp = line.find(' ');
    if (sp != 0) out.push_back(line.substr(0, sp));
    if (sp == std::string_view::npos) break;
    line.remove_prefix(sp + 1);
  }
  return out;
}

bool below(const std::string& path, const std::string& dir) {
  if (dir == "/") return true;
  return path == dir || (path.size() > dir.size() && path.compare(0, dir.size(), dir) == 0 && path[dir.size()] == '/');
}

Result<void> cover(const std::string& path) {
  sys::Fd fs(::fsopen("tmpfs", FSOPEN_CLOEXEC));
  if (!fs.valid()) return sys::sys_error("open filesystem type tmpfs");
  if (::fsconfig(fs.get(), FSCONFIG_SET_STRING, "size", "0", 0) < 0 ||
      ::fsconfig(fs.get(), FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) < 0)
    return sys::sys_error("create tmpfs to cover", path);
  sys::Fd mnt(::fsmount(fs.get(), FSMOUNT_CLOEXEC, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV |
                                                    MOUNT_ATTR_NOEXEC));
  if (!mnt.valid()) return sys::sys_error("mount tmpfs to cover", path);
  if (::move_mount(mnt.get(), "", AT_FDCWD, path.c_str(), MOVE_MOUNT_F_EMPTY_PATH) < 0)
    return sys::sys_error("cover", path);
  return Ok();
}

}  // namespace

std::vector<std::string> revealing_mounts(std::string_view mountinfo, const std::string& rootfs) {
  std::vector<std::string> out;
  while (!mountinfo.empty()) {
    size_t nl = mountinfo.find('\n');
    std::string_view line = mountinfo.substr(0, nl);
    mountinfo.remove_prefix(nl == std::string_view::npos ? mountinfo.size() : nl + 1);
    size_t dash = line.find(" - ");
    if (dash == std::string_view::npos) continue;
    auto head = fields(line.substr(0, dash));
    auto tail = fields(line.substr(dash + 3));
    if (head.size() < 5 || tail.empty()) continue;
    if (tail[0] != "proc" && tail[0] != "sysfs") continue;
    if (head[3] != "/") continue;  // a bind of part of it shows less than the whole
    std::string mountpoint = sys::unescape_mountinfo(head[4]);
    if (below(mountpoint, rootfs)) continue;
    out.push_back(std::move(mountpoint));
  }
  return out;
}

Result<void> hide_revealing_mounts(const std::string& rootfs) {
  auto text = GUISE_TRY(sys::read_file("/proc/self/mountinfo"), "listing the mounts that --no-pivot leaves");
  for (const auto& path : revealing_mounts(text, rootfs)) {
    if (::umount2(path.c_str(), MNT_DETACH | UMOUNT_NOFOLLOW) == 0) continue;
    // Gone with a mount detached before it (/sys/fs/... below /sys).
    if (errno == ENOENT) continue;
    if (errno != EINVAL && errno != EPERM) return sys::sys_error("detach", path);
    GUISE_TRY(cover(path), "--no-pivot");
  }
  return Ok();
}

}  // namespace guise::linux
