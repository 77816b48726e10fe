#include "runtime/proc_view.h"

#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>

#include "procview/files.h"
#include "sys/log.h"
#include "sys/sha256.h"
#include "sys/unix_socket.h"

namespace guise::runtime {

namespace {

bool mounts_at(const oci::Spec& spec, const std::string& dest) {
  return std::any_of(spec.mounts.begin(), spec.mounts.end(), [&](const oci::Mount& m) {
    std::string d = m.destination;
    while (d.size() > 1 && d.back() == '/') d.pop_back();
    return d == dest;
  });
}

std::string procview_binary() {
  if (const char* e = std::getenv("GUISE_PROCVIEW"); e && *e) return e;
  char self[4096];
  ssize_t n = ::readlink("/proc/self/exe", self, sizeof self - 1);
  if (n > 0) {
    std::string dir(self, static_cast<size_t>(n));
    dir = dir.substr(0, dir.rfind('/'));
    if (::access((dir + "/guise-procview").c_str(), X_OK) == 0) return dir + "/guise-procview";
  }
  return "/usr/local/bin/guise-procview";
}

// A short path (a state directory may be too deep for sun_path's 108 bytes), named by
// the container's state directory; the watcher unlinks it once the init has connected.
std::string listener_path(const std::string& state_dir) {
  return "/run/guise-procview/" + sys::sha256_hex(state_dir).substr(0, 32) + ".sock";
}

bool allows(const std::string& action) { return action == "SCMP_ACT_ALLOW" || action == "SCMP_ACT_LOG"; }

}  // namespace

Result<bool> wants_proc_view(const oci::Spec& spec) {
  auto it = spec.annotations.find(kProcViewAnnotation);
  if (it == spec.annotations.end() || it->second == "host") return false;
  if (it->second == "cgroup") return true;
  return sys::user_error(std::string("config.json: annotations[\"") + kProcViewAnnotation + "\"]: \"" +
                         it->second.substr(0, 64) + "\" is neither cgroup nor host");
}

bool sysinfo_routable(const oci::Spec& spec, std::string* why) {
  if (auto it = spec.annotations.find(kProcViewSysinfoAnnotation); it != spec.annotations.end() && it->second == "host") {
    *why = std::string(kProcViewSysinfoAnnotation) + " is host";
    return false;
  }
  if (!spec.linux || !spec.linux->seccomp) return true;
  const oci::Seccomp& sc = *spec.linux->seccomp;
  if (!sc.listener_path.empty()) {
    *why = "linux.seccomp has its own listener (" + sc.listener_path + ")";
    return false;
  }
  bool allowed = allows(sc.default_action);
  for (const auto& rule : sc.syscalls) {
    if (std::find(rule.names.begin(), rule.names.end(), "sysinfo") == rule.names.end()) continue;
    if (!allows(rule.action) || !rule.args.empty()) {
      *why = "linux.seccomp decides sysinfo itself (" + rule.action + ")";
      return false;
    }
    allowed = true;
  }
  if (!allowed) *why = "linux.seccomp does not allow sysinfo";
  return allowed;
}

void route_sysinfo(oci::Spec& spec, const std::string& listener) {
  if (!spec.linux->seccomp) {
    oci::Seccomp sc;
    sc.default_action = "SCMP_ACT_ALLOW";
    spec.linux->seccomp = std::move(sc);
  }
  oci::Seccomp& sc = *spec.linux->seccomp;
  for (auto& rule : sc.syscalls) rule.names.erase(std::remove(rule.names.begin(), rule.names.end(), "sysinfo"),
                                                  rule.names.end());
  sc.syscalls.erase(std::remove_if(sc.syscalls.begin(), sc.syscalls.end(), [](const oci::SeccompSyscall& r) {
                      return r.names.empty();
                    }),
                    sc.syscalls.end());
  oci::SeccompSyscall notify;
  notify.names = {"sysinfo"};
  notify.action = "SCMP_ACT_NOTIFY";
  sc.syscalls.push_back(std::move(notify));
  sc.listener_path = listener;
}

std::vector<linux::MountStep> view_mounts(const oci::Spec& spec, const procview::Launched& view) {
  std::vector<linux::MountStep> steps;
  bool proc = mounts_at(spec, "/proc"), sys = mounts_at(spec, "/sys");
  for (size_t i = 0; i < std::size(procview::kFiles) && i < view.trees.size(); ++i) {
    std::string dest = procview::kFiles[i].destination;
    if (!(dest.rfind("/proc/", 0) == 0 ? proc : sys)) continue;
    linux::MountStep s;
    s.destination = dest;
    s.source = "guise-procview";
    s.bind = true;
    s.attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC;
    s.premade_tree = view.trees[i].get();
    steps.push_back(std::move(s));
  }
  return steps;
}

std::optional<procview::Launched> start_proc_view(oci::Spec& spec, const cgroups::Cgroup& cgroup,
                                                  const std::string& state_dir) {
  auto skip = [](const std::string& why) {
    sys::warn("the /proc view is off for this container: " + why);
    return std::nullopt;
  };
  if (::geteuid() != 0) return skip("it needs root (a FUSE mount for every user)");
  if (std::string why = procview::unavailable_reason(); !why.empty()) return skip(why);
  auto paths = cgroup.paths();
  if (paths.empty()) return skip("the container has no cgroup");
  procview::LaunchConfig c;
  c.binary = procview_binary();
  c.v2 = cgroup.is_v2();
  c.cgroups = std::move(paths);
  std::string why;
  bool sysinfo = sysinfo_routable(spec, &why);
  bool asked = spec.annotations.count(kProcViewSysinfoAnnotation) != 0;
  if (!sysinfo && !asked) sys::warn("sysinfo(2) keeps the host's numbers in this container: " + why);
  if (sysinfo) {
    c.listen = listener_path(state_dir);
    // Searchable by all: a container's root in a user namespace is another host uid.
    if (::mkdir("/run/guise-procview", 0711) < 0 && errno != EEXIST) return skip("cannot make /run/guise-procview");
    ::chmod("/run/guise-procview", 0711);  // as made, whatever the umask
    if (spec.linux && spec.has_namespace(oci::NamespaceType::kUser))
      for (const auto& m : spec.linux->uid_mappings)
        if (m.container_id == 0) c.listen_owner = static_cast<int>(m.host_id);
  }
  auto launched = procview::launch(c);
  if (!launched.ok()) return skip(launched.error().message());
  if (sysinfo) route_sysinfo(spec, c.listen);
  return std::move(launched).take();
}

void route_exec_sysinfo(oci::Spec& spec, const std::string& state_dir) {
  auto wanted = wants_proc_view(spec);
  std::string why;
  if (!wanted.ok() || !wanted.value() || !spec.linux || !sysinfo_routable(spec, &why)) return;
  std::string path = listener_path(state_dir);
  // A socket nobody listens on (the watcher was killed) would fail the exec: the view
  // is worth less than the process.
  if (!sys::connect_unix(path, "the /proc view").ok()) return;
  route_sysinfo(spec, path);
}

void remove_proc_view(const std::string& state_dir) { ::unlink(listener_path(state_dir).c_str()); }

}  // namespace guise::runtime
