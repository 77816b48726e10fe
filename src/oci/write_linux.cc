// oci::Linux -> the linux object of config.json: namespaces, id mappings, devices,
// paths, sysctl, seccomp, personality and time offsets. linux.resources is in
// write_resources.cc.
#include "oci/write.h"
#include "oci/write_detail.h"

namespace guise::oci {
namespace detail {
namespace {

OJson namespace_json(const Namespace& ns) {
  OJson j = {{"type", namespace_type_name(ns.type)}};
  put_nonempty(j, "path", ns.path);
  return j;
}

// Major and minor are written for a fifo too, as Go writes them: the parser reads
// their absence there as 0, the same value.
OJson device_json(const Device& d) {
  OJson j = {{"path", d.path}, {"type", d.type}, {"major", d.major}, {"minor", d.minor}};
  put(j, "fileMode", d.file_mode);
  put(j, "uid", d.uid);
  put(j, "gid", d.gid);
  return j;
}

OJson seccomp_arg_json(const SeccompArg& a) {
  OJson j = {{"index", a.index}, {"value", a.value}};
  if (a.value_two != 0) j["valueTwo"] = a.value_two;  // Go's omitempty; absent reads as 0
  j["op"] = a.op;
  return j;
}

OJson seccomp_syscall_json(const SeccompSyscall& s) {
  OJson j = {{"names", s.names}, {"action", s.action}};
  put(j, "errnoRet", s.errno_ret);
  put_list(j, "args", s.args, seccomp_arg_json);
  return j;
}

OJson seccomp_json(const Seccomp& s) {
  OJson j = {{"defaultAction", s.default_action}};
  put(j, "defaultErrnoRet", s.default_errno_ret);
  put_nonempty(j, "architectures", s.architectures);
  put_nonempty(j, "flags", s.flags);
  put_nonempty(j, "listenerPath", s.listener_path);
  put_nonempty(j, "listenerMetadata", s.listener_metadata);
  put_list(j, "syscalls", s.syscalls, seccomp_syscall_json);
  return j;
}

OJson personality_json(const Personality& p) {
  OJson j = {{"domain", p.domain}};
  put_nonempty(j, "flags", p.flags);
  return j;
}

// Zeros left out as Go leaves them out; a clock with no offset still names the clock.
OJson time_offsets_json(const std::map<std::string, TimeOffset>& offsets) {
  OJson j = OJson::object();
  for (const auto& [clock, offset] : offsets) {
    OJson o = OJson::object();
    if (offset.secs != 0) o["secs"] = offset.secs;
    if (offset.nanosecs != 0) o["nanosecs"] = offset.nanosecs;
    j[clock] = std::move(o);
  }
  return j;
}

}  // namespace
}  // namespace detail

detail::OJson to_json(const Linux& l) {
  using namespace detail;
  OJson j = OJson::object();
  put_list(j, "uidMappings", l.uid_mappings, id_mapping_json);
  put_list(j, "gidMappings", l.gid_mappings, id_mapping_json);
  put_nonempty(j, "sysctl", l.sysctl);
  if (l.resources) j["resources"] = to_json(*l.resources);
  put_nonempty(j, "cgroupsPath", l.cgroups_path);
  put_list(j, "namespaces", l.namespaces, namespace_json);
  put_list(j, "devices", l.devices, device_json);
  if (l.seccomp) j["seccomp"] = seccomp_json(*l.seccomp);
  put_nonempty(j, "rootfsPropagation", l.rootfs_propagation);
  put_nonempty(j, "maskedPaths", l.masked_paths);
  put_nonempty(j, "readonlyPaths", l.readonly_paths);
  put_nonempty(j, "mountLabel", l.mount_label);
  if (l.personality) j["personality"] = personality_json(*l.personality);
  if (!l.time_offsets.empty()) j["timeOffsets"] = time_offsets_json(l.time_offsets);
  return j;
}

}  // namespace guise::oci
