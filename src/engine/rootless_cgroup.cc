#include "engine/rootless_cgroup.h"

#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>
#include <linux/magic.h>

#include <algorithm>
#include <sstream>

#include "sys/syscalls.h"

namespace guise::engine {

namespace {

constexpr const char* kMount = "/sys/fs/cgroup";

std::vector<std::string> words(const std::string& text) {
  std::istringstream in(text);
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

bool owned_and_writable(const std::string& dir) {
  struct stat st {};
  return ::stat(dir.c_str(), &st) == 0 && st.st_uid == ::geteuid() && ::access(dir.c_str(), W_OK) == 0 &&
         ::access((dir + "/cgroup.procs").c_str(), W_OK) == 0;
}

}  // namespace

CgroupDelegation find_cgroup_delegation() {
  CgroupDelegation d;
  struct statfs fs {};
  if (::statfs(kMount, &fs) < 0 || fs.f_type != CGROUP2_SUPER_MAGIC) {
    d.missing = "cgroup v2 (this host mounts cgroup v1 controllers at /sys/fs/cgroup)";
    d.fix = "boot with systemd.unified_cgroup_hierarchy=1 on the kernel command line";
    return d;
  }
  auto self = sys::read_file("/proc/self/cgroup");
  std::string own;
  if (self && self->starts_with("0::")) own = self->substr(3, self->find('\n') - 3);
  for (std::string rel = own; !rel.empty() && rel != "/"; rel = rel.substr(0, rel.rfind('/'))) {
    std::string dir = std::string(kMount) + rel;
    auto enabled = sys::read_file(dir + "/cgroup.subtree_control");
    if (!owned_and_writable(dir) || !enabled || enabled->find_first_not_of(" \n") == std::string::npos) continue;
    d.base = rel;
    d.controllers = words(*enabled);
    return d;
  }
  d.missing = "a cgroup v2 subtree delegated to the user (" + (own.empty() ? std::string("its cgroup") : own) +
              " and those above it are not the user's)";
  d.fix = "with systemd, start guise under `systemd-run --user --scope -p Delegate=yes`; without, as root: "
          "mkdir /sys/fs/cgroup/U && chown -R U /sys/fs/cgroup/U && echo '+memory +pids +cpu' > "
          "/sys/fs/cgroup/U/cgroup.subtree_control, and start guise from a cgroup below it";
  return d;
}

std::vector<std::string> drop_undelegated_limits(oci::Resources& r, const CgroupDelegation& d) {
  auto enabled = [&](const char* controller) {
    return !d.base.empty() && std::find(d.controllers.begin(), d.controllers.end(), controller) != d.controllers.end();
  };
  std::vector<std::string> dropped;
  auto drop = [&](bool asked, const char* kind, const char* controller, auto&& clear) {
    if (asked && !enabled(controller)) {
      clear();
      dropped.push_back(kind);
    }
  };
  drop(r.memory.has_value(), "memory", "memory", [&] { r.memory.reset(); });
  drop(r.cpu.has_value(), "cpu", "cpu", [&] { r.cpu.reset(); });
  drop(r.pids_limit.has_value(), "pids", "pids", [&] { r.pids_limit.reset(); });
  drop(r.block_io.has_value(), "blkio", "io", [&] { r.block_io.reset(); });
  drop(!r.hugepage_limits.empty(), "hugetlb", "hugetlb", [&] { r.hugepage_limits.clear(); });
  drop(!r.rdma.empty(), "rdma", "rdma", [&] { r.rdma.clear(); });
  drop(r.network.has_value(), "network", "net_cls (cgroup v1 only)", [&] { r.network.reset(); });
  drop(!r.unified.empty() && d.base.empty(), "unified", "", [&] { r.unified.clear(); });
  return dropped;
}

std::string undelegated_limits_warning(const std::vector<std::string>& kinds, const CgroupDelegation& d) {
  std::string list;
  for (const auto& k : kinds) list += (list.empty() ? "" : ", ") + k;
  std::string text = "rootless: the container runs without its " + list + " limits: ";
  if (d.base.empty()) return text + "they need " + d.missing + "; " + d.fix;
  std::string enabled;
  for (const auto& c : d.controllers) enabled += (enabled.empty() ? "" : " ") + c;
  return text + "the cgroup " + d.base + " delegated to the user enables only " + enabled +
         " for its children; as root: echo '+memory +pids +cpu +io' > /sys/fs/cgroup" + d.base +
         "/cgroup.subtree_control";
}

}  // namespace guise::engine
