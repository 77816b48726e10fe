#include "image/overlay_mount.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <thread>

#include "linux/userns.h"
#include "sys/child_process.h"
#include "sys/fd.h"

namespace guise::image {

namespace {

// What the kernel logged on the fs context ("e overlayfs: ..."), one line.
std::string context_log(int fsfd) {
  std::string out;
  char buf[512];
  for (int i = 0; i < 8; ++i) {
    ssize_t n = ::read(fsfd, buf, sizeof buf - 1);
    if (n <= 0) break;
    std::string line(buf, static_cast<size_t>(n));
    while (!line.empty() && line.back() == '\n') line.pop_back();
    if (line.size() > 2 && line[1] == ' ') line.erase(0, 2);
    out += (out.empty() ? "" : "; ") + line;
  }
  return out;
}

Result<void> fsconfig_error(int fsfd, const std::string& key, const std::string& value) {
  int saved = errno;
  std::string log = context_log(fsfd);
  return sys::sys_error_n(saved, "overlay option " + key + (log.empty() ? "" : " (" + log + ")"), value);
}

Result<void> mount_with_lowerdir_plus(const OverlayLayers& l, const std::string& target) {
  sys::Fd fs(::fsopen("overlay", FSOPEN_CLOEXEC));
  if (!fs.valid()) return sys::sys_error("fsopen overlay");
  auto set = [&](const std::string& key, const std::string& value) -> Result<void> {
    if (::fsconfig(fs.get(), FSCONFIG_SET_STRING, key.c_str(), value.c_str(), 0) < 0)
      return fsconfig_error(fs.get(), key, value);
    return Ok();
  };
  for (const auto& lower : l.lowers) GUISE_TRY(set("lowerdir+", lower));
  GUISE_TRY(set("upperdir", l.upper));
  GUISE_TRY(set("workdir", l.work));
  if (linux::in_user_namespace() && ::fsconfig(fs.get(), FSCONFIG_SET_FLAG, "userxattr", nullptr, 0) < 0)
    return fsconfig_error(fs.get(), "userxattr", "");
  if (l.volatile_upper) (void)::fsconfig(fs.get(), FSCONFIG_SET_FLAG, "volatile", nullptr, 0);
  if (::fsconfig(fs.get(), FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) < 0)
    return fsconfig_error(fs.get(), "create", target);
  sys::Fd mnt(::fsmount(fs.get(), FSMOUNT_CLOEXEC, 0));
  if (!mnt.valid()) return sys::sys_error("fsmount overlay", target);
  if (::move_mount(mnt.get(), "", AT_FDCWD, target.c_str(), MOVE_MOUNT_F_EMPTY_PATH) < 0)
    return sys::sys_error("move overlay mount onto", target);
  return Ok();
}

// overlay reads '\' as an escape in its option values; ':' and ',' are separators.
std::string escape_option(const std::string& path) {
  std::string out;
  for (char c : path) {
    if (c == ':' || c == ',' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

Result<void> mount_with_options(const OverlayLayers& l, const std::string& target) {
  std::string options = "lowerdir=";
  for (size_t i = 0; i < l.lowers.size(); ++i) options += (i ? ":" : "") + escape_option(l.lowers[i]);
  options += ",upperdir=" + escape_option(l.upper) + ",workdir=" + escape_option(l.work);
  // A rootless engine's overlay (root of a user namespace): whiteouts and opaque
  // directories are marked with user.* xattrs, the only ones it may set.
  if (linux::in_user_namespace()) options += ",userxattr";
  if (l.volatile_upper && static_cast<long>(options.size()) + 9 < ::sysconf(_SC_PAGESIZE)) {
    if (::mount("overlay", target.c_str(), "overlay", 0, (options + ",volatile").c_str()) == 0) return Ok();
    if (errno != EINVAL) return sys::sys_error("mount overlay", target);
  }
  long page = ::sysconf(_SC_PAGESIZE);
  if (static_cast<long>(options.size()) >= page)
    return sys::user_error("overlay on " + target + ": the options for " + std::to_string(l.lowers.size()) +
                           " layers take " + std::to_string(options.size()) + " bytes, more than a page");
  if (::mount("overlay", target.c_str(), "overlay", 0, options.c_str()) < 0)
    return sys::sys_error("mount overlay", target);
  return Ok();
}

// Rootless on a kernel whose overlayfs refuses a user namespace (before 5.11), or when
// GUISE_OVERLAY=fuse-overlayfs asks for it: the same layers through fuse-overlayfs, which
// reads the same whiteouts and user.overlay.opaque. It stays in the background serving
// the mount, and ends when the mount is unmounted.
Result<void> mount_with_fuse_overlayfs(const OverlayLayers& l, const std::string& target) {
  auto absolute = [&](const std::string& p) { return p.starts_with("/") ? p : l.base + "/" + p; };
  std::string options = "lowerdir=";
  for (size_t i = 0; i < l.lowers.size(); ++i) options += (i ? ":" : "") + escape_option(absolute(l.lowers[i]));
  options += ",upperdir=" + escape_option(absolute(l.upper)) + ",workdir=" + escape_option(absolute(l.work));
  // Its words (a warning on every mount, or why it failed) go to a file, not the user.
  sys::Fd said(::memfd_create("fuse-overlayfs", MFD_CLOEXEC));
  sys::SpawnOptions o;
  o.search_path = true;
  o.only_stdio = true;
  o.stdout_fd = o.stderr_fd = said.get();
  auto child = GUISE_TRY(sys::spawn("fuse-overlayfs", {"fuse-overlayfs", "-o", options, target}, o),
                         "mount fuse-overlayfs on " + target);
  int status = GUISE_TRY(child.wait(), "mount fuse-overlayfs on " + target);
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return Ok();
  std::string words;
  char buf[512];
  ssize_t n = ::pread(said.get(), buf, sizeof buf - 1, 0);
  if (n > 0) words.assign(buf, static_cast<size_t>(n));
  while (!words.empty() && words.back() == '\n') words.pop_back();
  if (size_t nl = words.rfind('\n'); nl != std::string::npos) words.erase(0, nl + 1);
  if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
    return sys::user_error("overlay on " + target + ": this kernel's overlayfs refuses a user namespace and "
                           "fuse-overlayfs is not installed (as root: apt-get install fuse-overlayfs)");
  return sys::user_error("overlay on " + target + ": fuse-overlayfs failed (exit " +
                         std::to_string(sys::exit_code(status)) + (words.empty() ? "" : ": " + words) +
                         "); /dev/fuse must be usable by the user");
}

bool fuse_overlayfs_asked() {
  const char* v = std::getenv("GUISE_OVERLAY");
  return v && std::string_view(v) == "fuse-overlayfs";
}

bool lowerdir_plus_disabled_by_env() {
  const char* v = std::getenv("GUISE_OVERLAY_NO_LOWERDIR_PLUS");
  return v && std::string_view(v) == "1";
}

}  // namespace

bool kernel_has_lowerdir_plus() {
  static std::once_flag once;
  static bool has = false;
  std::call_once(once, [] {
    sys::Fd fs(::fsopen("overlay", FSOPEN_CLOEXEC));
    // Kernels 6.5 to 6.7 refuse the key with EINVAL. Before 6.5 overlay had no fs_context of
    // its own: the kernel's legacy wrapper takes any key and fails only at create, so a key
    // no kernel knows is accepted there and tells the two apart.
    has = fs.valid() && ::fsconfig(fs.get(), FSCONFIG_SET_STRING, "guise-no-such-option", "1", 0) < 0 &&
          ::fsconfig(fs.get(), FSCONFIG_SET_STRING, "lowerdir+", "/", 0) == 0;
  });
  return has;
}

Result<void> mount_overlay(const OverlayLayers& layers, const std::string& target, OverlayApi api) {
  if (layers.lowers.empty()) return sys::user_error("overlay on " + target + ": no lower layers");
  std::error_code ec;
  std::string where = std::filesystem::absolute(target, ec).string();  // before the chdir below
  if (ec) return sys::sys_error_n(ec.value(), "resolve", target);
  bool plus = api == OverlayApi::kAuto && !lowerdir_plus_disabled_by_env() && kernel_has_lowerdir_plus();
  Result<void> result = Ok();
  std::thread worker([&] {
    if (::unshare(CLONE_FS) < 0) {
      result = sys::sys_error("unshare CLONE_FS for the overlay mount");
      return;
    }
    if (::chdir(layers.base.c_str()) < 0) {
      result = sys::sys_error("chdir", layers.base);
      return;
    }
    bool rootless = linux::in_user_namespace();
    if (rootless && fuse_overlayfs_asked()) {
      result = mount_with_fuse_overlayfs(layers, where);
      return;
    }
    result = plus ? mount_with_lowerdir_plus(layers, where) : mount_with_options(layers, where);
    if (!result && rootless && (result.error().errnum == EPERM || result.error().errnum == EINVAL))
      result = mount_with_fuse_overlayfs(layers, where);
  });
  worker.join();
  return result;
}

}  // namespace guise::image
