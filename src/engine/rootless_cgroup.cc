#include "engine/rootless_cgroup.h"

#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>
#include <linux/magic.h>

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

std::vector<std::string> requested_limits(const oci::Resources& r) {
  std::vector<std::string> out;
  if (r.memory) out.push_back("memory");
  if (r.cpu) out.push_back("cpu");
  if (r.pids_limit) out.push_back("pids");
  if (r.block_io) out.push_back("blkio");
  if (!r.hugepage_limits.empty()) out.push_back("hugetlb");
  if (r.network) out.push_back("network");
  if (!r.rdma.empty()) out.push_back("rdma");
  if (!r.unified.empty()) out.push_back("unified");
  return out;
}

}  // namespace guise::engine
