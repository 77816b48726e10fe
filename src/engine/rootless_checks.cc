#include "engine/rootless_checks.h"

#include <fcntl.h>
#include <pwd.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "engine/rootless_cgroup.h"
#include "engine/subid.h"
#include "engine/user_mode_network.h"
#include "sys/syscalls.h"

namespace guise::engine {

namespace {

std::string user_name() {
  const passwd* pw = ::getpwuid(::getuid());
  return pw ? pw->pw_name : std::to_string(::getuid());
}

RootlessCheck subids(const char* what, const char* file) {
  RootlessCheck c{what, false, true, "", ""};
  auto ranges = read_subids(file, ::getuid());
  uint64_t total = subid_total(ranges);
  std::string user = user_name();
  c.fix = "sudo usermod --add-subuids 100000-165535 --add-subgids 100000-165535 " + user;
  if (ranges.empty()) {
    c.detail = std::string(file) + " has no range for " + user;
    return c;
  }
  for (const auto& r : ranges)
    c.detail += (c.detail.empty() ? "" : ", ") + std::to_string(r.start) + "-" + std::to_string(r.start + r.count - 1);
  c.detail = std::string(file) + ": " + c.detail + " (" + std::to_string(total) + " ids)";
  // Images own files as users up to 65534 (nobody) and beyond; fewer ids fail their unpacking.
  if (total < 65536) {
    c.detail += "; images with owners above " + std::to_string(total) + " will not unpack";
    return c;
  }
  c.ok = true;
  c.fix.clear();
  return c;
}

RootlessCheck map_helper(const char* helper) {
  RootlessCheck c{helper, false, true, "", ""};
  std::string path = std::string("/usr/bin/") + helper;
  struct stat st {};
  if (::stat(path.c_str(), &st) < 0) {
    c.detail = path + " is missing";
    c.fix = "sudo apt-get install uidmap";
    return c;
  }
  bool setuid_root = (st.st_mode & S_ISUID) && st.st_uid == 0;
  bool file_caps = ::getxattr(path.c_str(), "security.capability", nullptr, 0) > 0;
  if (!setuid_root && !file_caps) {
    c.detail = path + " is neither setuid root nor given file capabilities";
    c.fix = "sudo chmod u+s " + path;
    return c;
  }
  c.ok = true;
  c.detail = path + (setuid_root ? " (setuid root)" : " (file capabilities)");
  return c;
}

std::string sysctl(const char* path) {
  auto v = sys::read_file(path);
  if (!v) return "";
  std::string s = *v;
  while (!s.empty() && s.back() == '\n') s.pop_back();
  return s;
}

// In a child: whether this user may make a user namespace, and in it mount an overlay.
// The child maps only the user itself (no helper needed) and writes into `scratch`.
int try_in_child(bool overlay, const std::string& scratch) {
  pid_t pid = ::fork();
  if (pid == 0) {
    uid_t uid = ::geteuid();
    gid_t gid = ::getegid();
    if (::unshare(CLONE_NEWUSER | (overlay ? CLONE_NEWNS : 0)) < 0) ::_exit(10);
    if (!overlay) ::_exit(0);
    auto put = [](const char* file, const std::string& text) {
      int fd = ::open(file, O_WRONLY | O_CLOEXEC);
      bool ok = fd >= 0 && ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
      if (fd >= 0) ::close(fd);
      return ok;
    };
    if (!put("/proc/self/uid_map", "0 " + std::to_string(uid) + " 1\n") || !put("/proc/self/setgroups", "deny") ||
        !put("/proc/self/gid_map", "0 " + std::to_string(gid) + " 1\n"))
      ::_exit(11);
    std::string opts = "lowerdir=" + scratch + "/l,upperdir=" + scratch + "/u,workdir=" + scratch + "/w,userxattr";
    ::_exit(::mount("overlay", (scratch + "/m").c_str(), "overlay", 0, opts.c_str()) == 0 ? 0 : 12);
  }
  int status = 0;
  if (pid < 0 || ::waitpid(pid, &status, 0) != pid || !WIFEXITED(status)) return -1;
  return WEXITSTATUS(status);
}

RootlessCheck user_namespaces() {
  RootlessCheck c{"user namespaces", false, true, "", ""};
  if (sysctl("/proc/sys/kernel/unprivileged_userns_clone") == "0") {
    c.detail = "kernel.unprivileged_userns_clone is 0";
    c.fix = "sudo sysctl -w kernel.unprivileged_userns_clone=1";
    return c;
  }
  if (sysctl("/proc/sys/user/max_user_namespaces") == "0") {
    c.detail = "user.max_user_namespaces is 0";
    c.fix = "sudo sysctl -w user.max_user_namespaces=28633";
    return c;
  }
  if (sysctl("/proc/sys/kernel/apparmor_restrict_unprivileged_userns") == "1") {
    c.detail = "AppArmor restricts unprivileged user namespaces";
    c.fix = "sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0";
    return c;
  }
  if (int r = try_in_child(false, ""); r != 0) {
    c.detail = "making one failed (" + std::string(r == 10 ? "unshare refused" : "the test process failed") + ")";
    c.fix = "sudo sysctl -w user.max_user_namespaces=28633";
    return c;
  }
  c.ok = true;
  c.detail = "allowed";
  return c;
}

RootlessCheck overlay() {
  RootlessCheck c{"overlay in a user namespace", false, true, "", ""};
  utsname u{};
  ::uname(&u);
  std::error_code ec;
  std::string scratch = std::filesystem::temp_directory_path(ec).string() + "/guise-doctor-XXXXXX";
  if (::mkdtemp(scratch.data()) == nullptr) {
    c.detail = "no scratch directory to test in";
    return c;
  }
  for (const char* d : {"/l", "/u", "/w", "/m"}) ::mkdir((scratch + d).c_str(), 0700);
  int r = try_in_child(true, scratch);
  std::filesystem::remove_all(scratch, ec);
  if (r == 0) {
    c.ok = true;
    c.detail = "native overlayfs (kernel " + std::string(u.release) + ")";
    return c;
  }
  if (::access("/usr/bin/fuse-overlayfs", X_OK) == 0 && ::access("/dev/fuse", R_OK | W_OK) == 0) {
    c.ok = true;
    c.detail = "native overlayfs refused (kernel " + std::string(u.release) + "); fuse-overlayfs stands in";
    return c;
  }
  c.detail = "native overlayfs refused (kernel " + std::string(u.release) + ", 5.11 or later mounts it), and no usable fuse-overlayfs";
  c.fix = "sudo apt-get install fuse-overlayfs";
  return c;
}

RootlessCheck network_helper() {
  RootlessCheck c{"pasta or slirp4netns", false, false, "", ""};
  std::string mode = default_user_mode_network();
  if (mode.empty()) {
    c.detail = "neither is installed: only --network none and host";
    c.fix = "sudo apt-get install passt";
    return c;
  }
  c.ok = true;
  c.detail = mode + " (the default network)";
  return c;
}

RootlessCheck tun() {
  RootlessCheck c{"/dev/net/tun", false, false, "", ""};
  int fd = ::open("/dev/net/tun", O_RDWR | O_CLOEXEC);
  if (fd >= 0) {
    ::close(fd);
    c.ok = true;
    c.detail = "usable";
    return c;
  }
  int e = errno;
  if (e == ENOENT) {
    c.detail = "missing: pasta and slirp4netns need it";
    c.fix = "sudo modprobe tun";
    return c;
  }
  struct stat st {};
  ::stat("/dev/net/tun", &st);
  char mode[8];
  std::snprintf(mode, sizeof mode, "%o", st.st_mode & 07777);
  c.detail = std::string("cannot be opened (") + std::strerror(e) + ", mode " + mode +
             "): pasta and slirp4netns need it; --network none still works";
  c.fix = "sudo chmod 0666 /dev/net/tun";
  return c;
}

RootlessCheck cgroups() {
  RootlessCheck c{"cgroup delegation", false, false, "", ""};
  CgroupDelegation d = find_cgroup_delegation();
  if (d.base.empty()) {
    c.detail = "none: containers run without limits; missing " + d.missing;
    c.fix = d.fix;
    return c;
  }
  c.ok = true;
  std::string list;
  for (const auto& k : d.controllers) list += (list.empty() ? "" : " ") + k;
  c.detail = d.base + " (" + list + ")";
  return c;
}

}  // namespace

std::vector<RootlessCheck> rootless_checks() {
  return {subids("subordinate uids", "/etc/subuid"),
          subids("subordinate gids", "/etc/subgid"),
          map_helper("newuidmap"),
          map_helper("newgidmap"),
          user_namespaces(),
          overlay(),
          cgroups(),
          network_helper(),
          tun()};
}

std::string format_rootless_checks(const std::vector<RootlessCheck>& checks) {
  std::string out;
  for (const auto& c : checks) {
    const char* status = c.ok ? "ok" : c.required ? "MISSING" : "missing";
    char line[64];
    std::snprintf(line, sizeof line, " %-8s %-28s ", status, c.name.c_str());
    out += line + c.detail + "\n";
    if (!c.ok && !c.fix.empty()) out += "          fix: " + c.fix + "\n";
  }
  return out;
}

}  // namespace guise::engine
