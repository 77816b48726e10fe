// Seccomp profiles: docker's JSON format turned into the spec's linux.seccomp, and the
// syscalls moby's default profile grants with each capability (profiles/seccomp/default.json,
// its "includes": {"caps": [...]} entries).
#include <algorithm>
#include <map>

#include <nlohmann/json.hpp>

#include "engine/spec_internal.h"
#include "oci/parse.h"

namespace guise::engine {

namespace {

using Json = nlohmann::json;

#if defined(__x86_64__)
constexpr const char* kGoArch = "amd64";
constexpr const char* kScmpArch = "SCMP_ARCH_X86_64";
#elif defined(__aarch64__)
constexpr const char* kGoArch = "arm64";
constexpr const char* kScmpArch = "SCMP_ARCH_AARCH64";
#else
constexpr const char* kGoArch = "";
constexpr const char* kScmpArch = "";
#endif

bool contains(const Json& list, const std::string& v) {
  if (!list.is_array()) return false;
  return std::any_of(list.begin(), list.end(), [&](const Json& x) { return x.is_string() && x.get<std::string>() == v; });
}

bool holds(const Json& call, const std::vector<std::string>& caps) {
  auto has_cap = [&](const std::string& c) { return std::find(caps.begin(), caps.end(), c) != caps.end(); };
  if (call.contains("includes") && call["includes"].is_object()) {
    const auto& in = call["includes"];
    if (in.contains("caps") && in["caps"].is_array())
      for (const auto& c : in["caps"])
        if (!has_cap(c.get<std::string>())) return false;
    if (in.contains("arches") && in["arches"].is_array() && !in["arches"].empty() && !contains(in["arches"], kGoArch))
      return false;
  }
  if (call.contains("excludes") && call["excludes"].is_object()) {
    const auto& ex = call["excludes"];
    if (ex.contains("caps") && ex["caps"].is_array())
      for (const auto& c : ex["caps"])
        if (has_cap(c.get<std::string>())) return false;
    if (contains(ex.value("arches", Json::array()), kGoArch)) return false;
  }
  return true;
}

// docker's format -> the runtime-spec's: archMap to architectures for this machine, each
// syscall entry kept only where its includes/excludes hold.
Json to_oci_profile(Json p, const std::vector<std::string>& caps) {
  if (p.contains("archMap")) {
    if (!p.contains("architectures") || p["architectures"].empty()) {
      Json arches = Json::array();
      for (const auto& m : p["archMap"])
        if (m.value("architecture", "") == kScmpArch) {
          arches.push_back(kScmpArch);
          for (const auto& s : m.value("subArchitectures", Json::array())) arches.push_back(s);
        }
      p["architectures"] = arches;
    }
    p.erase("archMap");
  }
  if (p.contains("syscalls") && p["syscalls"].is_array()) {
    Json kept = Json::array();
    for (auto call : p["syscalls"]) {
      if (!call.is_object() || !holds(call, caps)) continue;
      if (call.contains("name") && !call.contains("names")) call["names"] = Json::array({call["name"]});
      for (const char* k : {"name", "includes", "excludes", "comment"}) call.erase(k);
      kept.push_back(call);
    }
    p["syscalls"] = kept;
  }
  p.erase("comment");
  return p;
}

}  // namespace

Result<oci::Seccomp> parse_seccomp_profile(const std::string& json, const std::string& origin,
                                           const std::vector<std::string>& capabilities) {
  auto j = Json::parse(json, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return sys::user_error(origin + ": not a JSON object");
  Json spec = {{"ociVersion", oci::kSpecVersion},
               {"root", {{"path", "rootfs"}}},
               {"process", {{"cwd", "/"}, {"args", {"sh"}}}},
               {"linux", {{"seccomp", to_oci_profile(std::move(j), capabilities)}}}};
  auto parsed = GUISE_TRY(oci::parse_spec(spec.dump(), origin));
  return *parsed.linux->seccomp;
}

namespace spec_detail {

void allow_syscalls_for_capabilities(oci::Seccomp& profile, const std::vector<std::string>& capabilities) {
  static const std::map<std::string, std::vector<std::string>> kByCap = {
      {"CAP_DAC_READ_SEARCH", {"open_by_handle_at"}},
      {"CAP_SYS_ADMIN",
       {"bpf", "clone", "clone3", "fanotify_init", "fsconfig", "fsmount", "fsopen", "fspick", "lookup_dcookie", "mount",
        "mount_setattr", "move_mount", "open_tree", "perf_event_open", "quotactl", "quotactl_fd", "setdomainname",
        "sethostname", "setns", "syslog", "umount", "umount2", "unshare"}},
      {"CAP_SYS_BOOT", {"reboot"}},
      {"CAP_SYS_CHROOT", {"chroot"}},
      {"CAP_SYS_MODULE", {"delete_module", "init_module", "finit_module"}},
      {"CAP_SYS_PACCT", {"acct"}},
      {"CAP_SYS_PTRACE", {"kcmp", "pidfd_getfd", "process_madvise", "process_vm_readv", "process_vm_writev", "ptrace"}},
      {"CAP_SYS_RAWIO", {"iopl", "ioperm"}},
      {"CAP_SYS_TIME", {"settimeofday", "stime", "clock_settime", "clock_settime64"}},
      {"CAP_SYS_TTY_CONFIG", {"vhangup"}},
      {"CAP_SYS_NICE", {"get_mempolicy", "mbind", "set_mempolicy", "set_mempolicy_home_node"}},
      {"CAP_SYSLOG", {"syslog"}},
      {"CAP_BPF", {"bpf"}},
      {"CAP_PERFMON", {"perf_event_open"}},
  };
  if (profile.default_action == "SCMP_ACT_ALLOW") return;
  std::vector<std::string> allow;
  for (const auto& cap : capabilities) {
    auto it = kByCap.find(cap);
    if (it == kByCap.end()) continue;
    for (const auto& s : it->second)
      if (std::find(allow.begin(), allow.end(), s) == allow.end()) allow.push_back(s);
  }
  if (allow.empty()) return;
  // A syscall the default profile answers otherwise (clone3 with ENOSYS, clone filtered
  // on its flags) is allowed outright, as moby's profile does for these capabilities.
  for (auto& call : profile.syscalls)
    std::erase_if(call.names, [&](const std::string& n) {
      return std::find(allow.begin(), allow.end(), n) != allow.end();
    });
  std::erase_if(profile.syscalls, [](const oci::SeccompSyscall& c) { return c.names.empty(); });
  oci::SeccompSyscall granted;
  granted.names = std::move(allow);
  granted.action = "SCMP_ACT_ALLOW";
  profile.syscalls.push_back(std::move(granted));
}

}  // namespace spec_detail

}  // namespace guise::engine
