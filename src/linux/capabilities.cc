#include "linux/capabilities.h"

#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdlib>

#include "sys/syscalls.h"

namespace guise::linux {

const std::vector<std::string>& all_capability_names() {
  static const std::vector<std::string> names = {
      "CAP_CHOWN",           "CAP_DAC_OVERRIDE",   "CAP_DAC_READ_SEARCH", "CAP_FOWNER",
      "CAP_FSETID",          "CAP_KILL",           "CAP_SETGID",          "CAP_SETUID",
      "CAP_SETPCAP",         "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST",
      "CAP_NET_ADMIN",       "CAP_NET_RAW",        "CAP_IPC_LOCK",        "CAP_IPC_OWNER",
      "CAP_SYS_MODULE",      "CAP_SYS_RAWIO",      "CAP_SYS_CHROOT",      "CAP_SYS_PTRACE",
      "CAP_SYS_PACCT",       "CAP_SYS_ADMIN",      "CAP_SYS_BOOT",        "CAP_SYS_NICE",
      "CAP_SYS_RESOURCE",    "CAP_SYS_TIME",       "CAP_SYS_TTY_CONFIG",  "CAP_MKNOD",
      "CAP_LEASE",           "CAP_AUDIT_WRITE",    "CAP_AUDIT_CONTROL",   "CAP_SETFCAP",
      "CAP_MAC_OVERRIDE",    "CAP_MAC_ADMIN",      "CAP_SYSLOG",          "CAP_WAKE_ALARM",
      "CAP_BLOCK_SUSPEND",   "CAP_AUDIT_READ",     "CAP_PERFMON",         "CAP_BPF",
      "CAP_CHECKPOINT_RESTORE"};
  return names;
}

std::optional<int> capability_number(const std::string& name) {
  const auto& names = all_capability_names();
  for (size_t i = 0; i < names.size(); ++i)
    if (names[i] == name) return static_cast<int>(i);
  return std::nullopt;
}

std::string capability_name(int cap) {
  const auto& names = all_capability_names();
  if (cap >= 0 && static_cast<size_t>(cap) < names.size()) return names[cap];
  return "CAP_" + std::to_string(cap);
}

int last_capability() {
  static int last = [] {
    auto text = sys::read_file("/proc/sys/kernel/cap_last_cap");
    if (!text.ok()) return static_cast<int>(all_capability_names().size()) - 1;
    return std::atoi(text.value().c_str());
  }();
  return last;
}

Result<CapSets> plan_capabilities(const oci::Capabilities& caps, const std::string& where) {
  CapSets out;
  auto to_bits = [&](const std::vector<std::string>& names, const char* set, uint64_t& bits) -> Result<void> {
    for (size_t i = 0; i < names.size(); ++i) {
      auto n = capability_number(names[i]);
      if (!n)
      {
        // The name comes from the config: quoted in part, however long it is.
        std::string shown = names[i].size() > 64 ? names[i].substr(0, 64) + "\"..." : names[i] + "\"";
        return sys::user_error(where + "." + set + "[" + std::to_string(i) + "]: unknown capability \"" + shown);
      }
      if (*n <= last_capability()) bits |= uint64_t{1} << *n;
    }
    return Ok();
  };
  GUISE_TRY(to_bits(caps.bounding, "bounding", out.bounding));
  GUISE_TRY(to_bits(caps.effective, "effective", out.effective));
  GUISE_TRY(to_bits(caps.permitted, "permitted", out.permitted));
  GUISE_TRY(to_bits(caps.inheritable, "inheritable", out.inheritable));
  GUISE_TRY(to_bits(caps.ambient, "ambient", out.ambient));
  return out;
}

CapSets holding_for_seccomp(const CapSets& final_sets) {
  CapSets held = final_sets;
  held.permitted |= uint64_t{1} << CAP_SYS_ADMIN;
  held.effective |= uint64_t{1} << CAP_SYS_ADMIN;
  return held;
}

Result<void> apply_bounding(const CapSets& sets) {
  for (int cap = 0; cap <= last_capability(); ++cap) {
    if (sets.bounding & (uint64_t{1} << cap)) continue;
    if (::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL)
      return sys::sys_error("drop " + capability_name(cap) + " from the bounding set");
  }
  return Ok();
}

Result<void> apply_capabilities(const CapSets& sets) {
  struct __user_cap_header_struct header {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct data[2] {};
  for (int i = 0; i < 2; ++i) {
    data[i].effective = static_cast<uint32_t>(sets.effective >> (32 * i));
    data[i].permitted = static_cast<uint32_t>(sets.permitted >> (32 * i));
    data[i].inheritable = static_cast<uint32_t>(sets.inheritable >> (32 * i));
  }
  if (::syscall(SYS_capset, &header, data) < 0) return sys::sys_error("set capabilities");
  if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0)
    return sys::sys_error("clear ambient capabilities");
  for (int cap = 0; cap <= last_capability(); ++cap) {
    if (!(sets.ambient & (uint64_t{1} << cap))) continue;
    // An ambient capability must be permitted and inheritable; runc skips the rest silently.
    if (!(sets.permitted & sets.inheritable & (uint64_t{1} << cap))) continue;
    if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) < 0)
      return sys::sys_error("raise ambient " + capability_name(cap));
  }
  return Ok();
}

}  // namespace guise::linux
