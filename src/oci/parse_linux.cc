// The linux object of config.json: namespaces, id mappings, devices, paths,
// sysctl, seccomp and personality, and the checks that tie them together.
// linux.resources is in parse_resources.cc.
#include <algorithm>
#include <array>

#include "oci/parse_reader.h"

namespace guise::oci::detail {

Result<void> read(const Node& n, Resources& out);  // parse_resources.cc

namespace {

constexpr std::array<std::pair<std::string_view, NamespaceType>, 8> kNamespaces = {{
    {"pid", NamespaceType::kPid},
    {"network", NamespaceType::kNetwork},
    {"mount", NamespaceType::kMount},
    {"ipc", NamespaceType::kIpc},
    {"uts", NamespaceType::kUts},
    {"user", NamespaceType::kUser},
    {"cgroup", NamespaceType::kCgroup},
    {"time", NamespaceType::kTime},
}};

constexpr std::array<std::string_view, 9> kPropagations = {
    "", "private", "rprivate", "slave", "rslave", "shared", "rshared", "unbindable", "runbindable"};

constexpr std::array<std::string_view, 9> kSeccompActions = {
    "SCMP_ACT_KILL",  "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_TRAP", "SCMP_ACT_ERRNO",
    "SCMP_ACT_TRACE", "SCMP_ACT_ALLOW",        "SCMP_ACT_LOG",         "SCMP_ACT_NOTIFY"};

constexpr std::array<std::string_view, 7> kSeccompOps = {"SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE",
                                                         "SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT",
                                                         "SCMP_CMP_MASKED_EQ"};

// The runtime-spec's list (config-linux.md, seccomp), which is libseccomp's.
constexpr std::array<std::string_view, 20> kSeccompArches = {
    "SCMP_ARCH_X86",     "SCMP_ARCH_X86_64",   "SCMP_ARCH_X32",         "SCMP_ARCH_ARM",
    "SCMP_ARCH_AARCH64", "SCMP_ARCH_MIPS",     "SCMP_ARCH_MIPS64",      "SCMP_ARCH_MIPS64N32",
    "SCMP_ARCH_MIPSEL",  "SCMP_ARCH_MIPSEL64", "SCMP_ARCH_MIPSEL64N32", "SCMP_ARCH_PPC",
    "SCMP_ARCH_PPC64",   "SCMP_ARCH_PPC64LE",  "SCMP_ARCH_S390",        "SCMP_ARCH_S390X",
    "SCMP_ARCH_PARISC",  "SCMP_ARCH_PARISC64", "SCMP_ARCH_RISCV64",     "SCMP_ARCH_LOONGARCH64"};

constexpr std::array<std::string_view, 4> kSeccompFlags = {
    "SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
    "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"};

template <size_t N>
Result<void> check_names(const Node& list, const std::vector<std::string>& names,
                         const std::array<std::string_view, N>& known, std::string_view what) {
  for (size_t i = 0; i < names.size(); ++i)
    if (!one_of(known, names[i])) return list.at(i).fail("unknown " + std::string(what) + " " + quote(names[i]));
  return Ok();
}

Result<void> check_absolute_paths(const Node& list, const std::vector<std::string>& paths) {
  for (size_t i = 0; i < paths.size(); ++i) {
    if (!is_absolute(paths[i])) return list.at(i).fail("must be an absolute path, got " + quote(paths[i]));
    GUISE_TRY(check_path_length(list.at(i), paths[i]));
  }
  return Ok();
}

}  // namespace

Result<void> read(const Node& n, Namespace& out) {
  GUISE_TRY(n.expect_object());
  std::string type;
  GUISE_TRY(required_field(n, "type", type));
  auto it = std::find_if(kNamespaces.begin(), kNamespaces.end(), [&](auto& e) { return e.first == type; });
  if (it == kNamespaces.end()) return n.at("type").fail("unknown namespace " + quote(type));
  out.type = it->second;
  GUISE_TRY(optional_field(n, "path", out.path));
  if (!out.path.empty() && !is_absolute(out.path))
    return n.at("path").fail("must be an absolute path, got " + quote(out.path));
  return check_path_length(n.at("path"), out.path);
}

Result<void> read(const Node& n, TimeOffset& out) {
  GUISE_TRY(n.expect_object());
  GUISE_TRY(optional_field(n, "secs", out.secs));
  GUISE_TRY(optional_field(n, "nanosecs", out.nanosecs));
  if (out.nanosecs >= 1000000000)
    return n.at("nanosecs").fail("must be less than 1000000000, got " + std::to_string(out.nanosecs));
  return Ok();
}

Result<void> read(const Node& n, Device& out) {
  GUISE_TRY(n.expect_object());
  GUISE_TRY(required_field(n, "type", out.type));
  if (out.type != "c" && out.type != "b" && out.type != "u" && out.type != "p")
    return n.at("type").fail("unknown device type " + quote(out.type) + " (expected c, b, u or p)");
  GUISE_TRY(required_field(n, "path", out.path));
  if (!is_absolute(out.path)) return n.at("path").fail("must be an absolute path, got " + quote(out.path));
  GUISE_TRY(check_path_length(n.at("path"), out.path));
  if (out.type == "p") {  // a fifo has no device number
    GUISE_TRY(optional_field(n, "major", out.major));
    GUISE_TRY(optional_field(n, "minor", out.minor));
  } else {
    GUISE_TRY(required_field(n, "major", out.major));
    GUISE_TRY(required_field(n, "minor", out.minor));
  }
  GUISE_TRY(optional_field(n, "fileMode", out.file_mode));
  GUISE_TRY(optional_field(n, "uid", out.uid));
  GUISE_TRY(optional_field(n, "gid", out.gid));
  return Ok();
}

Result<void> read(const Node& n, SeccompArg& out) {
  GUISE_TRY(n.expect_object());
  GUISE_TRY(required_field(n, "index", out.index));
  if (out.index > 5) return n.at("index").fail("must be between 0 and 5, got " + std::to_string(out.index));
  GUISE_TRY(required_field(n, "value", out.value));
  GUISE_TRY(optional_field(n, "valueTwo", out.value_two));
  GUISE_TRY(required_field(n, "op", out.op));
  if (!one_of(kSeccompOps, out.op)) return n.at("op").fail("unknown seccomp operator " + quote(out.op));
  return Ok();
}

Result<void> read(const Node& n, SeccompSyscall& out) {
  GUISE_TRY(n.expect_object());
  GUISE_TRY(required_field(n, "names", out.names));
  if (out.names.empty()) return n.at("names").fail("must not be empty");
  GUISE_TRY(required_field(n, "action", out.action));
  if (!one_of(kSeccompActions, out.action)) return n.at("action").fail("unknown seccomp action " + quote(out.action));
  GUISE_TRY(optional_field(n, "errnoRet", out.errno_ret));
  GUISE_TRY(optional_field(n, "args", out.args));
  return Ok();
}

Result<void> read(const Node& n, Seccomp& out) {
  GUISE_TRY(n.expect_object());
  GUISE_TRY(required_field(n, "defaultAction", out.default_action));
  if (!one_of(kSeccompActions, out.default_action))
    return n.at("defaultAction").fail("unknown seccomp action " + quote(out.default_action));
  GUISE_TRY(optional_field(n, "defaultErrnoRet", out.default_errno_ret));
  GUISE_TRY(optional_field(n, "architectures", out.architectures));
  GUISE_TRY(check_names(n.at("architectures"), out.architectures, kSeccompArches, "seccomp architecture"));
  GUISE_TRY(optional_field(n, "flags", out.flags));
  GUISE_TRY(check_names(n.at("flags"), out.flags, kSeccompFlags, "seccomp flag"));
  GUISE_TRY(optional_field(n, "listenerPath", out.listener_path));
  GUISE_TRY(optional_field(n, "listenerMetadata", out.listener_metadata));
  GUISE_TRY(optional_field(n, "syscalls", out.syscalls));
  // The notify fd has to go somewhere (config-linux.md, listenerPath).
  bool notify = out.default_action == "SCMP_ACT_NOTIFY" ||
                std::any_of(out.syscalls.begin(), out.syscalls.end(),
                            [](const SeccompSyscall& s) { return s.action == "SCMP_ACT_NOTIFY"; });
  if (notify && out.listener_path.empty())
    return n.at("listenerPath").fail("required when SCMP_ACT_NOTIFY is used");
  return Ok();
}

Result<void> read(const Node& n, Personality& out) {
  GUISE_TRY(n.expect_object());
  GUISE_TRY(required_field(n, "domain", out.domain));
  if (out.domain != "LINUX" && out.domain != "LINUX32")
    return n.at("domain").fail("unknown personality domain " + quote(out.domain) + " (expected LINUX or LINUX32)");
  GUISE_TRY(optional_field(n, "flags", out.flags));
  return Ok();
}

namespace {

Result<void> read_namespaces(const Node& n, Linux& out) {
  GUISE_TRY(optional_field(n, "namespaces", out.namespaces));
  for (size_t i = 0; i < out.namespaces.size(); ++i)
    for (size_t j = 0; j < i; ++j)
      if (out.namespaces[j].type == out.namespaces[i].type)
        return n.at("namespaces").at(i).at("type").fail(std::string("duplicate namespace ") +
                                                       quote(namespace_type_name(out.namespaces[i].type)));
  return Ok();
}

const Namespace* find(const Linux& l, NamespaceType t) {
  for (const auto& ns : l.namespaces)
    if (ns.type == t) return &ns;
  return nullptr;
}

// runc's usernamespace validator and Config.HostUID/HostGID.
Result<void> check_id_mappings(const Node& n, const Linux& l) {
  const Namespace* user = find(l, NamespaceType::kUser);
  if (!user) {
    if (!l.uid_mappings.empty()) return n.at("uidMappings").fail("set without a user namespace");
    if (!l.gid_mappings.empty()) return n.at("gidMappings").fail("set without a user namespace");
    return Ok();
  }
  if (!user->path.empty()) return Ok();  // a joined namespace is already mapped
  if (l.uid_mappings.empty())
    return n.at("uidMappings").fail("user namespaces enabled, but no uid mappings found");
  if (l.gid_mappings.empty())
    return n.at("gidMappings").fail("user namespaces enabled, but no gid mappings found");
  return Ok();
}

Result<void> read_time_offsets(const Node& n, Linux& out) {
  Node offsets = n.at("timeOffsets");
  if (!offsets.present()) return Ok();
  for (auto& [clock, value] : GUISE_TRY(offsets.members())) {
    if (clock != "monotonic" && clock != "boottime")
      return value.fail("unknown clock " + quote(clock) + " (expected \"monotonic\" or \"boottime\")");
    GUISE_TRY(read(value, out.time_offsets[clock]));
  }
  if (out.time_offsets.empty()) return Ok();
  // Offsets can be written only before the first process enters a new time namespace.
  const Namespace* time = find(out, NamespaceType::kTime);
  if (!time) return offsets.fail("set without a time namespace");
  if (!time->path.empty()) return offsets.fail("cannot be set when joining an existing time namespace");
  return Ok();
}

Result<void> read_sysctl(const Node& n, Linux& out) {
  GUISE_TRY(optional_field(n, "sysctl", out.sysctl));
  if (out.sysctl.count("")) return n.at("sysctl").fail("empty sysctl name (value " + quote(out.sysctl[""]) + ")");
  return Ok();
}

}  // namespace

Result<void> read(const Node& n, Linux& out) {
  GUISE_TRY(n.expect_object());
  GUISE_TRY(read_namespaces(n, out));
  GUISE_TRY(optional_field(n, "uidMappings", out.uid_mappings));
  GUISE_TRY(optional_field(n, "gidMappings", out.gid_mappings));
  GUISE_TRY(check_id_mappings(n, out));
  GUISE_TRY(read_time_offsets(n, out));
  GUISE_TRY(optional_field(n, "devices", out.devices));
  GUISE_TRY(optional_field(n, "cgroupsPath", out.cgroups_path));
  GUISE_TRY(optional_field(n, "resources", out.resources));
  GUISE_TRY(optional_field(n, "rootfsPropagation", out.rootfs_propagation));
  if (!one_of(kPropagations, out.rootfs_propagation))
    return n.at("rootfsPropagation").fail("unknown propagation " + quote(out.rootfs_propagation) +
                                          " (expected private, rprivate, slave, rslave, shared, rshared, "
                                          "unbindable or runbindable)");
  GUISE_TRY(optional_field(n, "maskedPaths", out.masked_paths));
  GUISE_TRY(check_absolute_paths(n.at("maskedPaths"), out.masked_paths));
  GUISE_TRY(optional_field(n, "readonlyPaths", out.readonly_paths));
  GUISE_TRY(check_absolute_paths(n.at("readonlyPaths"), out.readonly_paths));
  GUISE_TRY(optional_field(n, "mountLabel", out.mount_label));
  GUISE_TRY(check_length(n.at("mountLabel"), out.mount_label, kLsmLabelMax, "the kernel's limit on an LSM label"));
  GUISE_TRY(read_sysctl(n, out));
  GUISE_TRY(optional_field(n, "seccomp", out.seccomp));
  GUISE_TRY(optional_field(n, "personality", out.personality));
  // Not applied: kept so that a host without RDT can refuse it (runtime/create.cc).
  if (n.at("intelRdt").present()) {
    GUISE_TRY(n.at("intelRdt").expect_object());
    out.intel_rdt = true;
  }
  return Ok();
}

}  // namespace guise::oci::detail
