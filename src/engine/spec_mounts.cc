// Mounts as docker's daemon lays them out (moby oci/defaults.go DefaultLinuxSpec,
// daemon/oci_linux.go WithMounts, pkg/mount MergeTmpfsOptions).
#include <algorithm>
#include <cctype>
#include <cstdio>
#include <map>
#include <set>

#include "engine/spec_internal.h"
#include "sys/text.h"

namespace guise::engine::spec_detail {

namespace {

oci::Mount make(std::string dst, std::string type, std::string src, std::vector<std::string> options) {
  oci::Mount m;
  m.destination = std::move(dst);
  m.type = std::move(type);
  m.source = std::move(src);
  m.options = std::move(options);
  return m;
}

size_t depth(const std::string& path) {
  size_t n = 0;
  for (size_t i = 0; i < path.size(); ++i)
    if (path[i] == '/' && i + 1 < path.size()) ++n;
  return n;
}

// Flags that cancel each other share a key: exec/noexec -> "exec", rw/ro -> "rw".
std::optional<std::string> flag_key(const std::string& o) {
  static const std::map<std::string, std::string> kFlags = {
      {"rw", "rw"},         {"ro", "rw"},           {"exec", "exec"},     {"noexec", "exec"},
      {"suid", "suid"},     {"nosuid", "suid"},     {"dev", "dev"},       {"nodev", "dev"},
      {"atime", "atime"},   {"noatime", "atime"},   {"relatime", "atime"}, {"strictatime", "atime"},
      {"diratime", "diratime"}, {"nodiratime", "diratime"}, {"sync", "sync"}, {"async", "sync"},
      {"dirsync", "dirsync"}, {"mand", "mand"},     {"nomand", "mand"},   {"private", "propagation"},
      {"rprivate", "propagation"}, {"shared", "propagation"}, {"rshared", "propagation"},
      {"slave", "propagation"}, {"rslave", "propagation"}, {"tmpcopyup", "tmpcopyup"},
      {"notmpcopyup", "tmpcopyup"}};
  auto it = kFlags.find(o);
  if (it == kFlags.end()) return std::nullopt;
  return it->second;
}

Result<oci::Mount> bind_of(const std::string& source, const std::string& target, bool read_only,
                           const std::string& propagation, bool non_recursive) {
  std::vector<std::string> options = {non_recursive ? "bind" : "rbind"};
  if (read_only) options.push_back("ro");
  options.push_back(propagation.empty() ? "rprivate" : propagation);
  return make(target, "bind", source, std::move(options));
}

Result<std::string> volume_dir(const SpecContext& ctx, const std::string& name, const std::string& target) {
  if (name.empty()) {
    auto it = ctx.anonymous_volume_paths.find(target);
    if (it == ctx.anonymous_volume_paths.end())
      return sys::user_error("volume at " + target + ": no host directory was made for it");
    return it->second;
  }
  auto it = ctx.volume_paths.find(name);
  if (it == ctx.volume_paths.end()) return sys::user_error("volume " + name + ": no host directory was made for it");
  return it->second;
}

Result<oci::Mount> tmpfs_of(const std::string& target, const std::string& data, const std::string& where) {
  std::vector<std::string> options = {"noexec", "nosuid", "nodev", "rprivate"};
  if (!data.empty())
    for (const auto& o : sys::split(data, ',')) options.push_back(o);
  return make(target, "tmpfs", "tmpfs", GUISE_TRY(merge_tmpfs_options(options, where)));
}

// -v, --mount, --tmpfs, the image's VOLUMEs, and the files the caller made.
Result<std::vector<oci::Mount>> user_mounts(const RunRequest& r, const ContainerConfig& merged, const SpecContext& ctx) {
  const auto& h = r.host;
  std::vector<oci::Mount> out;
  for (const auto& [path, dst] : {std::pair{ctx.resolv_conf_path, "/etc/resolv.conf"},
                                  {ctx.hostname_path, "/etc/hostname"}, {ctx.hosts_path, "/etc/hosts"}})
    if (!path.empty()) out.push_back(make(dst, "bind", path, {"rbind", "rprivate"}));
  for (const auto& b : h.binds) {
    auto f = sys::split(b, ':');
    if (f.size() < 2) return sys::user_error("invalid volume specification: '" + b + "'");
    bool read_only = false;
    std::string propagation;
    if (f.size() == 3)
      for (const auto& o : sys::split(f[2], ',')) {
        if (o == "ro") read_only = true;
        if (flag_key(o) == std::optional<std::string>("propagation")) propagation = o;
      }
    std::string source = f[0][0] == '/' ? f[0] : GUISE_TRY(volume_dir(ctx, f[0], f[1]), "-v " + b);
    out.push_back(GUISE_TRY(bind_of(source, f[1], read_only, propagation, false)));
  }
  for (const auto& m : h.mounts) {
    if (m.type == "bind") {
      out.push_back(GUISE_TRY(bind_of(m.source, m.target, m.read_only,
                                      m.bind_options ? m.bind_options->propagation : "",
                                      m.bind_options && m.bind_options->non_recursive)));
    } else if (m.type == "volume") {
      std::string dir = GUISE_TRY(volume_dir(ctx, m.source, m.target), "--mount target=" + m.target);
      if (m.volume_options && !m.volume_options->subpath.empty()) dir += "/" + m.volume_options->subpath;
      out.push_back(GUISE_TRY(bind_of(dir, m.target, m.read_only, "", false)));
    } else if (m.type == "tmpfs") {
      std::string data;
      if (m.tmpfs_options && m.tmpfs_options->size_bytes) data = "size=" + std::to_string(m.tmpfs_options->size_bytes);
      if (m.tmpfs_options && m.tmpfs_options->mode) {
        char mode[32];
        std::snprintf(mode, sizeof mode, "mode=%o", m.tmpfs_options->mode);
        data += (data.empty() ? "" : ",") + std::string(mode);
      }
      if (m.read_only) data += (data.empty() ? "" : ",") + std::string("ro");
      out.push_back(GUISE_TRY(tmpfs_of(m.target, data, "--mount target=" + m.target)));
    } else {
      return sys::user_error("--mount: mount type '" + m.type + "' is not supported");
    }
  }
  for (const auto& [target, data] : h.tmpfs) out.push_back(GUISE_TRY(tmpfs_of(target, data, "--tmpfs " + target)));
  std::set<std::string> taken;
  for (const auto& m : out) taken.insert(m.destination);
  for (const auto& target : anonymous_volume_targets(merged, h))
    if (!taken.count(target)) out.push_back(GUISE_TRY(bind_of(GUISE_TRY(volume_dir(ctx, "", target)), target, false, "", false)));
  std::stable_sort(out.begin(), out.end(),
                   [](const oci::Mount& a, const oci::Mount& b) { return depth(a.destination) < depth(b.destination); });
  return out;
}

}  // namespace

Result<std::vector<std::string>> merge_tmpfs_options(const std::vector<std::string>& options, const std::string& where) {
  static const std::set<std::string> kData = {"size", "mode", "uid", "gid", "nr_inodes", "nr_blocks", "mpol"};
  std::vector<std::string> out;
  std::set<std::string> seen;
  for (auto it = options.rbegin(); it != options.rend(); ++it) {
    const std::string& o = *it;
    if (o == "defaults" || o.empty()) continue;
    std::string key;
    if (auto f = flag_key(o)) {
      key = "flag:" + *f;
    } else {
      auto eq = o.find('=');
      if (eq == std::string::npos || !kData.count(o.substr(0, eq)))
        return sys::user_error(where + ": invalid tmpfs option [\"" + o + "\"]");
      key = o.substr(0, eq);
      if (key == "size") {
        // The kernel's tmpfs size: a number with k, m, g or %.
        std::string v = o.substr(eq + 1);
        size_t digits = 0;
        while (digits < v.size() && std::isdigit(static_cast<unsigned char>(v[digits]))) ++digits;
        bool ok = digits > 0 && (digits == v.size() || (digits + 1 == v.size() && std::string("kKmMgG%").find(v.back()) != std::string::npos));
        if (!ok) return sys::user_error(where + ": invalid tmpfs option [\"" + o + "\"]");
      }
    }
    if (!seen.insert(key).second) continue;
    out.insert(out.begin(), o);
  }
  return out;
}

Result<std::vector<oci::Mount>> build_mounts(const RunRequest& r, const ContainerConfig& merged, const SpecContext& ctx,
                                             bool user_namespace) {
  const auto& h = r.host;
  bool privileged = h.privileged;
  // In a user namespace, proc, sysfs and mqueue belong to the owner of the PID, network
  // and IPC namespaces: those shared with the host are bound from the host instead.
  std::vector<oci::Mount> mounts = {
      user_namespace && h.pid_mode == "host" ? make("/proc", "bind", "/proc", {"rbind", "nosuid", "noexec", "nodev"})
                                             : make("/proc", "proc", "proc", {"nosuid", "noexec", "nodev"}),
      make("/dev", "tmpfs", "tmpfs", {"nosuid", "strictatime", "mode=755", "size=65536k"}),
      make("/dev/pts", "devpts", "devpts", {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}),
  };
  if (user_namespace && h.network_mode == "host")
    mounts.push_back(make("/sys", "bind", "/sys", {"rbind", "nosuid", "noexec", "nodev", "ro"}));
  else if (privileged)
    mounts.push_back(make("/sys", "sysfs", "sysfs", {"nosuid", "noexec", "nodev"}));
  else
    mounts.push_back(make("/sys", "sysfs", "sysfs", {"nosuid", "noexec", "nodev", "ro"}));
  bool cgroups_rw = privileged || std::find(h.security_opt.begin(), h.security_opt.end(), "writable-cgroups=true") !=
                                      h.security_opt.end();
  mounts.push_back(make("/sys/fs/cgroup", "cgroup", "cgroup",
                        cgroups_rw ? std::vector<std::string>{"nosuid", "noexec", "nodev"}
                                   : std::vector<std::string>{"ro", "nosuid", "noexec", "nodev"}));
  // The host's mqueue cannot be mounted from there, and a host need not have one mounted to
  // bind: such a container goes without (its /dev is a tmpfs of its own).
  if (!(user_namespace && h.ipc_mode == "host"))
    mounts.push_back(make("/dev/mqueue", "mqueue", "mqueue", {"nosuid", "noexec", "nodev"}));
  if (h.ipc_mode == "host") {
    mounts.push_back(make("/dev/shm", "bind", "/dev/shm", {"rbind", "rprivate"}));
  } else if (h.ipc_mode != "none" && !ctx.shm_path.empty()) {
    mounts.push_back(make("/dev/shm", "bind", ctx.shm_path, {"rbind", "nosuid", "noexec", "nodev", "rprivate"}));
  } else if (h.ipc_mode != "none") {
    int64_t size = h.shm_size > 0 ? h.shm_size : kDefaultShmSize;
    mounts.push_back(make("/dev/shm", "tmpfs", "shm", {"nosuid", "noexec", "nodev", "mode=1777", "size=" + std::to_string(size)}));
  }
  auto extra = GUISE_TRY(user_mounts(r, merged, ctx));
  std::set<std::string> replaced;
  for (const auto& m : extra) replaced.insert(m.destination);
  std::erase_if(mounts, [&](const oci::Mount& m) { return replaced.count(m.destination) > 0; });
  mounts.insert(mounts.end(), extra.begin(), extra.end());
  if (h.init.value_or(false)) {
    if (ctx.init_path.empty()) return sys::user_error("--init: no init binary was given to bind into the container");
    mounts.push_back(make("/run/guise-init", "bind", ctx.init_path, {"bind", "ro", "rprivate"}));
  }
  return mounts;
}

}  // namespace guise::engine::spec_detail
