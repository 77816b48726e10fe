#include "linux/mount_plan.h"

#include <sys/mount.h>

#include <map>

namespace guise::linux {

namespace {

struct AttrOption {
  uint64_t set, clr;
  bool recursive;
};

// Flags that become mount attributes. Access-time modes are one field in the
// kernel (MOUNT_ATTR__ATIME), so choosing one clears the others.
const std::map<std::string, AttrOption>& attr_options() {
  static const std::map<std::string, AttrOption> table = {
      {"ro", {MOUNT_ATTR_RDONLY, 0, false}},
      {"rw", {0, MOUNT_ATTR_RDONLY, false}},
      {"nosuid", {MOUNT_ATTR_NOSUID, 0, false}},
      {"suid", {0, MOUNT_ATTR_NOSUID, false}},
      {"nodev", {MOUNT_ATTR_NODEV, 0, false}},
      {"dev", {0, MOUNT_ATTR_NODEV, false}},
      {"noexec", {MOUNT_ATTR_NOEXEC, 0, false}},
      {"exec", {0, MOUNT_ATTR_NOEXEC, false}},
      {"nodiratime", {MOUNT_ATTR_NODIRATIME, 0, false}},
      {"diratime", {0, MOUNT_ATTR_NODIRATIME, false}},
      {"relatime", {MOUNT_ATTR_RELATIME, MOUNT_ATTR__ATIME, false}},
      {"norelatime", {0, MOUNT_ATTR__ATIME, false}},
      {"noatime", {MOUNT_ATTR_NOATIME, MOUNT_ATTR__ATIME, false}},
      {"atime", {0, MOUNT_ATTR__ATIME, false}},
      {"strictatime", {MOUNT_ATTR_STRICTATIME, MOUNT_ATTR__ATIME, false}},
      {"nostrictatime", {0, MOUNT_ATTR__ATIME, false}},
      {"nosymfollow", {MOUNT_ATTR_NOSYMFOLLOW, 0, false}},
      {"symfollow", {0, MOUNT_ATTR_NOSYMFOLLOW, false}},
      {"rro", {MOUNT_ATTR_RDONLY, 0, true}},
      {"rrw", {0, MOUNT_ATTR_RDONLY, true}},
      {"rnosuid", {MOUNT_ATTR_NOSUID, 0, true}},
      {"rsuid", {0, MOUNT_ATTR_NOSUID, true}},
      {"rnodev", {MOUNT_ATTR_NODEV, 0, true}},
      {"rdev", {0, MOUNT_ATTR_NODEV, true}},
      {"rnoexec", {MOUNT_ATTR_NOEXEC, 0, true}},
      {"rexec", {0, MOUNT_ATTR_NOEXEC, true}},
      {"rnodiratime", {MOUNT_ATTR_NODIRATIME, 0, true}},
      {"rdiratime", {0, MOUNT_ATTR_NODIRATIME, true}},
      {"rrelatime", {MOUNT_ATTR_RELATIME, MOUNT_ATTR__ATIME, true}},
      {"rnorelatime", {0, MOUNT_ATTR__ATIME, true}},
      {"rnoatime", {MOUNT_ATTR_NOATIME, MOUNT_ATTR__ATIME, true}},
      {"ratime", {0, MOUNT_ATTR__ATIME, true}},
      {"rstrictatime", {MOUNT_ATTR_STRICTATIME, MOUNT_ATTR__ATIME, true}},
      {"rnostrictatime", {0, MOUNT_ATTR__ATIME, true}},
      {"rnosymfollow", {MOUNT_ATTR_NOSYMFOLLOW, 0, true}},
      {"rsymfollow", {0, MOUNT_ATTR_NOSYMFOLLOW, true}},
  };
  return table;
}

// Options that mean nothing with the new mount API or are handled elsewhere.
bool ignored_option(const std::string& o) {
  return o == "defaults" || o == "async" || o == "nomand" || o == "loud" || o == "remount" ||
         o == "tmpcopyup" || o == "norbind";
}

// "/dev", "/dev/", "//dev/." and the like.
bool is_dev(const std::string& destination) {
  std::string clean;
  size_t i = 0;
  while (i < destination.size()) {
    while (i < destination.size() && destination[i] == '/') ++i;
    size_t j = destination.find('/', i);
    if (j == std::string::npos) j = destination.size();
    std::string part = destination.substr(i, j - i);
    i = j;
    if (!part.empty() && part != ".") clean += "/" + part;
  }
  return clean == "/dev";
}

void apply_attr(MountStep& s, const AttrOption& a) {
  uint64_t& set = a.recursive ? s.rattr_set : s.attr_set;
  uint64_t& clr = a.recursive ? s.rattr_clr : s.attr_clr;
  set &= ~a.clr;
  clr |= a.clr;
  set |= a.set;
  clr &= ~a.set;
  if (a.set & MOUNT_ATTR__ATIME) clr |= MOUNT_ATTR__ATIME;  // the kernel wants the field cleared
  if (a.set == MOUNT_ATTR_RELATIME && a.clr == MOUNT_ATTR__ATIME) clr |= MOUNT_ATTR__ATIME;
}

}  // namespace

Result<uint64_t> propagation_flags(const std::string& name, bool* recursive) {
  static const std::map<std::string, std::pair<uint64_t, bool>> table = {
      {"private", {MS_PRIVATE, false}},       {"rprivate", {MS_PRIVATE, true}},
      {"shared", {MS_SHARED, false}},         {"rshared", {MS_SHARED, true}},
      {"slave", {MS_SLAVE, false}},           {"rslave", {MS_SLAVE, true}},
      {"unbindable", {MS_UNBINDABLE, false}}, {"runbindable", {MS_UNBINDABLE, true}},
  };
  if (name.empty()) return uint64_t{0};
  auto it = table.find(name);
  if (it == table.end()) return sys::user_error("unknown propagation \"" + name + "\"");
  if (recursive) *recursive = it->second.second;
  return it->second.first;
}

Result<MountStep> plan_mount(const oci::Mount& m, size_t index) {
  std::string where = "mounts[" + std::to_string(index) + "]";
  MountStep s;
  s.destination = m.destination;
  s.source = m.source;
  s.fstype = m.type == "bind" || m.type == "none" ? "" : m.type;
  s.uid_mappings = m.uid_mappings;
  s.gid_mappings = m.gid_mappings;
  bool has_bind = false;
  for (const auto& o : m.options) {
    if (o.empty()) continue;
    if (o == "bind" || o == "rbind") {
      has_bind = true;
      s.recursive = s.recursive || o == "rbind";
      continue;
    }
    if (auto it = attr_options().find(o); it != attr_options().end()) {
      apply_attr(s, it->second);
      continue;
    }
    bool rec = false;
    if (auto p = propagation_flags(o, &rec); p.ok()) {
      s.propagation = p.value();
      s.propagation_recursive = rec;
      continue;
    }
    if (o == "idmap" || o == "ridmap") {
      s.recursive = s.recursive || o == "ridmap";
      continue;
    }
    if (ignored_option(o)) continue;
    if (o == "sync" || o == "dirsync" || o == "mand" || o == "silent" || o == "lazytime" ||
        o == "iversion") {
      s.fs_params.emplace_back(o, "");
      continue;
    }
    auto eq = o.find('=');
    if (eq == std::string::npos)
      s.fs_params.emplace_back(o, "");
    else
      s.fs_params.emplace_back(o.substr(0, eq), o.substr(eq + 1));
  }
  s.bind = has_bind || m.type == "bind" || m.type == "none";
  if (s.bind) {
    for (const auto& [key, value] : s.fs_params) s.ignored_options.push_back(value.empty() ? key : key + "=" + value);
    s.fs_params.clear();
  }
  if ((s.fstype == "tmpfs" || is_dev(m.destination)) && (s.attr_set & MOUNT_ATTR_RDONLY)) {
    s.attr_set &= ~static_cast<uint64_t>(MOUNT_ATTR_RDONLY);
    s.readonly_later = true;
  }
  if (!s.bind && s.fstype.empty())
    return sys::user_error(where + ".type: required for a mount that is not a bind mount (destination " +
                           m.destination + ")");
  if (!s.bind && (!m.uid_mappings.empty() || !m.gid_mappings.empty()))
    return sys::user_error(where + ".uidMappings: idmapped mounts must be bind mounts");
  return s;
}

Result<std::vector<MountStep>> plan_mounts(const std::vector<oci::Mount>& mounts) {
  std::vector<MountStep> steps;
  steps.reserve(mounts.size());
  for (size_t i = 0; i < mounts.size(); ++i) steps.push_back(GUISE_TRY(plan_mount(mounts[i], i)));
  return steps;
}

}  // namespace guise::linux
