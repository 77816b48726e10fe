#include "runtime/criu_args.h"

#include <nlohmann/json.hpp>

#include "linux/devices.h"
#include "linux/mount_plan.h"

namespace guise::runtime {

namespace {

void add(std::vector<std::string>& a, std::initializer_list<std::string> words) { a.insert(a.end(), words); }

// What both directions share: where the images and the log are, the container's root,
// the cgroups, the options the caller chose, and the bind mounts from outside.
void common_args(std::vector<std::string>& a, const CriuPlan& p) {
  add(a, {"--images-dir", p.images, "--work-dir", p.work, "--log-file", p.log_file, "-v4", "--root", p.root});
  // runc's fixed choice: the network namespace is made but its devices are not dumped
  // (nor restored); the runtime does not manage them.
  add(a, {"--empty-ns", "net"});
  const auto& mode = p.flags.manage_cgroups_mode;
  a.push_back(mode.empty() ? "--manage-cgroups" : "--manage-cgroups=" + mode);
  if (!p.config_file.empty()) add(a, {"--config", p.config_file});
  if (p.flags.tcp_established) a.push_back("--tcp-established");
  if (p.flags.ext_unix_sk) a.push_back("--ext-unix-sk");
  if (p.flags.shell_job) a.push_back("--shell-job");
  if (p.flags.file_locks) a.push_back("--file-locks");
  for (const auto& [key, value] : p.external_mounts) add(a, {"--external", "mnt[" + key + "]:" + value});
}

}  // namespace

std::vector<std::string> dump_args(const CriuPlan& p) {
  std::vector<std::string> a{"dump", "--tree", std::to_string(p.pid)};
  common_args(a, p);
  if (!p.freeze_cgroup.empty()) add(a, {"--freeze-cgroup", p.freeze_cgroup});
  if (p.leave_running) a.push_back("--leave-running");
  for (const auto& e : p.externals) add(a, {"--external", e});
  return a;
}

std::vector<std::string> restore_args(const CriuPlan& p) {
  // Detached, and the restored init a sibling of criu: a child of the runtime.
  std::vector<std::string> a{"restore", "--restore-detached", "--restore-sibling", "--pidfile", p.pid_file};
  common_args(a, p);
  a.push_back("--evasive-devices");
  for (const auto& [fd, key] : p.inherit_fds) add(a, {"--inherit-fd", "fd[" + std::to_string(fd) + "]:" + key});
  for (const auto& [ns, path] : p.join_ns) add(a, {"--join-ns", ns + ":" + path});
  for (const auto& root : p.cgroup_roots) add(a, {"--cgroup-root", root});
  return a;
}

std::vector<std::pair<std::string, std::string>> external_mounts(const oci::Spec& spec, const std::string& bundle,
                                                                 bool restore) {
  std::vector<std::pair<std::string, std::string>> out;
  auto steps = linux::plan_mounts(spec.mounts);
  if (steps.ok()) {
    for (const auto& m : steps.value()) {
      if (!m.bind) continue;
      std::string source = m.source.empty() || m.source[0] == '/' ? m.source : bundle + "/" + m.source;
      out.emplace_back(m.destination, restore ? source : m.destination);
    }
  }
  if (spec.linux)
    for (const auto& d : linux::plan_devices(spec.linux->devices, false)) out.emplace_back(d.path, d.path);
  return out;
}

std::string external_ns_key(oci::NamespaceType t) {
  return t == oci::NamespaceType::kPid ? "extRootPidNS" : "extRootNetNS";
}

const char* criu_ns_name(oci::NamespaceType t) {
  switch (t) {
    case oci::NamespaceType::kPid: return "pid";
    case oci::NamespaceType::kNetwork: return "net";
    case oci::NamespaceType::kMount: return "mnt";
    case oci::NamespaceType::kIpc: return "ipc";
    case oci::NamespaceType::kUts: return "uts";
    case oci::NamespaceType::kUser: return "user";
    case oci::NamespaceType::kCgroup: return "cgroup";
    case oci::NamespaceType::kTime: return "time";
  }
  return "";
}

std::string descriptors_json(const std::vector<std::string>& names) { return nlohmann::json(names).dump(); }

Result<std::vector<std::string>> parse_descriptors(const std::string& text) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (!j.is_array()) return sys::user_error("descriptors.json: not a JSON array of file names");
  std::vector<std::string> out;
  for (const auto& e : j) {
    if (!e.is_string()) return sys::user_error("descriptors.json: not a JSON array of file names");
    out.push_back(e.get<std::string>());
  }
  return out;
}

}  // namespace guise::runtime
