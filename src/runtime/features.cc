// The OCI features document: what this build and this kernel support.
#include "runtime/runtime.h"

#include <seccomp.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "linux/capabilities.h"
#include "oci/spec.h"

namespace guise::runtime {

std::string features_json() {
  nlohmann::ordered_json j;
  j["ociVersionMin"] = "1.0.0";
  j["ociVersionMax"] = oci::kSpecVersion;
  j["hooks"] = {"prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"};
  j["mountOptions"] = {"async", "atime", "bind", "defaults", "dev", "diratime", "dirsync", "exec", "idmap",
                       "lazytime", "mand", "noatime", "nodev", "nodiratime", "noexec", "norelatime",
                       "nostrictatime", "nosuid", "nosymfollow", "private", "ratime", "rbind", "rdev",
                       "rdiratime", "relatime", "rexec", "ridmap", "rnoatime", "rnodev", "rnodiratime",
                       "rnoexec", "rnorelatime", "rnostrictatime", "rnosuid", "rnosymfollow", "ro", "rprivate",
                       "rrelatime", "rro", "rrw", "rshared", "rslave", "rstrictatime", "rsuid", "rsymfollow",
                       "runbindable", "rw", "shared", "silent", "slave", "strictatime", "suid", "symfollow",
                       "sync", "unbindable"};
  nlohmann::ordered_json linux;
  linux["namespaces"] = {"cgroup", "ipc", "mount", "network", "pid", "time", "user", "uts"};
  std::vector<std::string> caps;
  for (int c = 0; c <= linux::last_capability(); ++c) caps.push_back(linux::capability_name(c));
  linux["capabilities"] = caps;
  linux["cgroup"] = {{"v1", true}, {"v2", true}, {"systemd", false}, {"systemdUser", false}, {"rdma", true}};
  nlohmann::ordered_json seccomp;
  seccomp["enabled"] = true;
  seccomp["actions"] = {"SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", "SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS",
                        "SCMP_ACT_KILL_THREAD", "SCMP_ACT_LOG", "SCMP_ACT_NOTIFY", "SCMP_ACT_TRACE", "SCMP_ACT_TRAP"};
  seccomp["operators"] = {"SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_LE", "SCMP_CMP_LT",
                          "SCMP_CMP_MASKED_EQ", "SCMP_CMP_NE"};
  seccomp["archs"] = {"SCMP_ARCH_X86", "SCMP_ARCH_X86_64", "SCMP_ARCH_X32", "SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"};
  seccomp["knownFlags"] = {"SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
                           "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"};
  seccomp["supportedFlags"] = seccomp["knownFlags"];
  linux["seccomp"] = seccomp;
  linux["apparmor"] = {{"enabled", ::access("/sys/kernel/security/apparmor", F_OK) == 0}};
  linux["selinux"] = {{"enabled", ::access("/sys/fs/selinux/enforce", F_OK) == 0}};
  linux["intelRdt"] = {{"enabled", false}};
  linux["mountExtensions"] = {{"idmap", {{"enabled", true}}}};
  j["linux"] = linux;
  j["annotations"] = {{"io.github.guise.version", GUISE_VERSION}};
  return j.dump(4);
}

}  // namespace guise::runtime
