#include "runtime/criu_restore.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "linux/paths.h"
#include "sys/syscalls.h"

namespace guise::runtime {

std::vector<std::string> criu_cgroup_roots(const cgroups::Layout& layout,
                                           const std::map<std::string, std::string>& paths) {
  std::vector<std::string> roots;
  for (const auto& [key, dir] : paths) {
    bool unified = key == "unified";
    const cgroups::Hierarchy* h = unified ? (layout.unified ? &*layout.unified : nullptr) : layout.find_v1(key);
    if (!h || dir.compare(0, h->mountpoint.size(), h->mountpoint) != 0) continue;
    std::string below = dir.substr(h->mountpoint.size());
    std::string root = h->mount_root == "/" ? below : h->mount_root + below;
    if (root.empty()) root = "/";
    // A root without a controller is criu's default: the cgroup2 hierarchy's.
    roots.push_back(unified ? root : key + ":" + root);
  }
  return roots;
}

Result<RestoreFds> plan_restore_fds(const oci::Spec& spec, CriuPlan& plan) {
  RestoreFds fds;
  auto text = sys::read_file(plan.images + "/descriptors.json");
  if (text.ok()) {
    auto names = GUISE_TRY(parse_descriptors(text.value()), plan.images);
    for (size_t fd = 0; fd < names.size() && fd < 3; ++fd)
      if (names[fd].find("pipe:") != std::string::npos) plan.inherit_fds.emplace_back(static_cast<int>(fd), names[fd]);
  } else if (text.error().errnum != ENOENT) {
    return std::move(text.error());
  }
  if (!spec.linux) return fds;
  for (const auto& ns : spec.linux->namespaces) {
    if (ns.path.empty()) continue;
    if (ns.type == oci::NamespaceType::kNetwork || ns.type == oci::NamespaceType::kPid) {
      sys::Fd fd(::open(ns.path.c_str(), O_RDONLY));  // inherited by criu
      if (!fd.valid()) return sys::sys_error("open namespace", ns.path);
      plan.inherit_fds.emplace_back(fd.get(), external_ns_key(ns.type));
      fds.held.push_back(std::move(fd));
    } else if (ns.type == oci::NamespaceType::kCgroup) {
      return sys::user_error("linux.namespaces: criu cannot restore into a cgroup namespace joined by path (" +
                             ns.path + ")");
    } else {
      plan.join_ns.emplace_back(criu_ns_name(ns.type), ns.path);
    }
  }
  return fds;
}

namespace {

bool below_any(const std::string& path, const std::vector<std::string>& dirs) {
  for (const auto& d : dirs)
    if (path.size() > d.size() && path.compare(0, d.size(), d) == 0 && path[d.size()] == '/') return true;
  return false;
}

// What a mount lands on must exist in the rootfs; criu restores the content of a tmpfs
// (and every mountpoint on it) from its images.
Result<void> make_mountpoints(const std::string& root, const std::vector<oci::Mount>& mounts) {
  sys::Fd rootfd(::open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!rootfd.valid()) return sys::sys_error("open", root);
  std::vector<std::string> tmpfs;
  for (const auto& m : mounts)
    if (m.type == "tmpfs") tmpfs.push_back(m.destination);
  for (const auto& m : mounts) {
    if (below_any(m.destination, tmpfs) || m.type == "cgroup" || m.type == "cgroup2") continue;
    bool bind = m.type == "bind";
    for (const auto& opt : m.options) bind = bind || opt == "bind" || opt == "rbind";
    struct stat st {};
    bool as_file = bind && ::stat(m.source.c_str(), &st) == 0 && !S_ISDIR(st.st_mode);
    GUISE_TRY(linux::make_mount_target(rootfd.get(), m.destination, as_file), "mountpoint " + m.destination);
  }
  return Ok();
}

}  // namespace

Result<RootMount> RootMount::make(const std::string& rootfs, const std::string& at,
                                  const std::vector<oci::Mount>& mounts) {
  // Private to this process (and criu, its child): nothing is left mounted on the host
  // whatever happens to either.
  if (::unshare(CLONE_NEWNS) < 0) return sys::sys_error("unshare mount namespace");
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) < 0) return sys::sys_error("make mounts private", "/");
  if (::mkdir(at.c_str(), 0755) < 0) return sys::sys_error("mkdir", at);
  RootMount r(at);
  if (::mount(rootfs.c_str(), at.c_str(), nullptr, MS_BIND | MS_REC, nullptr) < 0)
    return sys::sys_error("bind " + rootfs + " on", at);
  GUISE_TRY(make_mountpoints(at, mounts));
  return r;
}

void RootMount::remove() {
  if (path_.empty()) return;
  ::umount2(path_.c_str(), MNT_DETACH);
  ::rmdir(path_.c_str());
  path_.clear();
}

}  // namespace guise::runtime
