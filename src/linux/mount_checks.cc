#include "linux/mount_checks.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>

#include <string>

#include "linux/paths.h"

namespace guise::linux {

namespace {

std::string normalized(const std::string& path) {
  std::string out;
  size_t i = 0;
  while (i < path.size()) {
    while (i < path.size() && path[i] == '/') ++i;
    size_t j = path.find('/', i);
    if (j == std::string::npos) j = path.size();
    std::string part = path.substr(i, j - i);
    i = j;
    if (part.empty() || part == ".") continue;
    out += "/" + part;
  }
  return out.empty() ? "/" : out;
}

bool is_proc(const MountStep& s) { return !s.bind && s.fstype == "proc"; }
bool is_sysfs(const MountStep& s) { return !s.bind && s.fstype == "sysfs"; }

// A bind of a host procfs (runc allows it on /proc too).
bool binds_procfs(const MountStep& s) {
  struct statfs fs {};
  return s.bind && !s.source.empty() && ::statfs(s.source.c_str(), &fs) == 0 && fs.f_type == PROC_SUPER_MAGIC;
}

}  // namespace

Result<void> check_mount_destination(int root, const MountStep& step) {
  std::string dest = normalized(step.destination);
  if (dest == "/proc" && !is_proc(step) && !binds_procfs(step))
    return sys::user_error(step.destination + ": only a procfs may be mounted on /proc (this is " +
                           (step.bind ? std::string("a bind mount of ") + step.source : step.fstype) + ")");
  if (!is_proc(step) && !is_sysfs(step)) return Ok();
  auto existing = open_in_root(root, dest, O_NOFOLLOW);
  if (!existing.ok()) return Ok();  // made as a directory when missing
  struct stat st {};
  if (::fstat(existing.value().get(), &st) < 0) return sys::sys_error("stat", dest);
  if (!S_ISDIR(st.st_mode))
    return sys::user_error(step.destination + ": " + step.fstype + " must be mounted on a plain directory, and "
                           "the rootfs has " + (S_ISLNK(st.st_mode) ? "a symlink" : "a non-directory") + " there");
  return Ok();
}

Result<void> check_mount_target(int target, const MountStep& step) {
  if (is_proc(step) || binds_procfs(step)) return Ok();
  struct statfs fs {};
  if (::fstatfs(target, &fs) < 0) return sys::sys_error("statfs mount target", step.destination);
  if (fs.f_type != PROC_SUPER_MAGIC) return Ok();
  // lxcfs's files: the one kind of mount that belongs inside /proc.
  static const char* const kAllowed[] = {"/proc/cpuinfo", "/proc/diskstats", "/proc/meminfo", "/proc/stat",
                                         "/proc/swaps",   "/proc/uptime",    "/proc/loadavg", "/proc/slabinfo",
                                         "/proc/net/dev", "/proc/sys/kernel/ns_last_pid"};
  std::string dest = normalized(step.destination);
  for (const char* ok : kAllowed)
    if (dest == ok) return Ok();
  return sys::user_error(step.destination + ": resolves inside /proc; refusing to mount over procfs");
}

Result<void> check_mounted(int root, const MountStep& step) {
  if (!is_proc(step) && !is_sysfs(step)) return Ok();
  sys::Fd now = GUISE_TRY(open_in_root(root, step.destination, O_NOFOLLOW | O_DIRECTORY));
  struct statfs fs {};
  if (::fstatfs(now.get(), &fs) < 0) return sys::sys_error("statfs", step.destination);
  long want = is_proc(step) ? PROC_SUPER_MAGIC : SYSFS_MAGIC;
  // sysfs may be the host's, bound in a user namespace; it is still sysfs.
  if (fs.f_type != want)
    return sys::user_error(step.destination + ": after mounting " + step.fstype +
                           " the path shows another filesystem (it was swapped while mounting)");
  return Ok();
}

}  // namespace guise::linux
