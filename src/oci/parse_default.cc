// `guise-oci spec`: the config.json runc 1.1 writes, byte for byte, so that
// scripts and docs written against `runc spec` keep working. Built the way runc
// builds it (libcontainer/specconv Example and ToRootless); keys keep Go's
// struct field order, hence ordered_json.
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "oci/parse.h"

namespace guise::oci {

namespace {

using OJson = nlohmann::ordered_json;

OJson mount(const char* destination, const char* type, const char* source, std::vector<std::string> options) {
  OJson m = {{"destination", destination}, {"type", type}, {"source", source}};
  if (!options.empty()) m["options"] = std::move(options);  // Go: omitempty
  return m;
}

OJson example() {
  const std::vector<std::string> caps = {"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"};
  OJson process = {
      {"terminal", true},
      {"user", {{"uid", 0}, {"gid", 0}}},
      {"args", {"sh"}},
      {"env", {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"}},
      {"cwd", "/"},
      {"capabilities", {{"bounding", caps}, {"effective", caps}, {"permitted", caps}, {"ambient", caps}}},
      {"rlimits", {{{"type", "RLIMIT_NOFILE"}, {"hard", 1024}, {"soft", 1024}}}},
      {"noNewPrivileges", true},
  };
  OJson mounts = OJson::array({
      mount("/proc", "proc", "proc", {}),
      mount("/dev", "tmpfs", "tmpfs", {"nosuid", "strictatime", "mode=755", "size=65536k"}),
      mount("/dev/pts", "devpts", "devpts", {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}),
      mount("/dev/shm", "tmpfs", "shm", {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}),
      mount("/dev/mqueue", "mqueue", "mqueue", {"nosuid", "noexec", "nodev"}),
      mount("/sys", "sysfs", "sysfs", {"nosuid", "noexec", "nodev", "ro"}),
      mount("/sys/fs/cgroup", "cgroup", "cgroup", {"nosuid", "noexec", "nodev", "relatime", "ro"}),
  });
  OJson namespaces = OJson::array();
  for (const char* type : {"pid", "network", "ipc", "uts", "mount"}) namespaces.push_back({{"type", type}});
  OJson linux_ = {
      {"resources", {{"devices", {{{"allow", false}, {"access", "rwm"}}}}}},
      {"namespaces", namespaces},
      {"maskedPaths",
       {"/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
        "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware", "/proc/scsi"}},
      {"readonlyPaths", {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"}},
  };
  return {
      {"ociVersion", "1.0.2-dev"},  // the runtime-spec version runc 1.1 was built with
      {"process", process},
      {"root", {{"path", "rootfs"}, {"readonly", true}}},
      {"hostname", "runc"},
      {"mounts", mounts},
      {"linux", linux_},
  };
}

OJson id_map(unsigned host_id) {
  return OJson::array({{{"containerID", 0}, {"hostID", host_id}, {"size", 1}}});
}

// runc's ToRootless: no network namespace, a user namespace mapping the
// caller to root, /sys bound from the host, no uid=/gid= mount options and
// no cgroup resources.
void to_rootless(OJson& spec) {
  OJson& old_linux = spec["linux"];
  OJson namespaces = OJson::array();
  for (const auto& ns : old_linux["namespaces"])
    if (ns["type"] != "network" && ns["type"] != "user") namespaces.push_back(ns);
  namespaces.push_back({{"type", "user"}});

  for (auto& m : spec["mounts"]) {
    if (m["destination"] == "/sys") {
      m = mount("/sys", "none", "/sys", {"rbind", "nosuid", "noexec", "nodev", "ro"});
      continue;
    }
    if (!m.contains("options")) continue;
    std::vector<std::string> kept;
    for (const auto& o : m["options"]) {
      const auto& s = o.get_ref<const std::string&>();
      if (s.rfind("gid=", 0) != 0 && s.rfind("uid=", 0) != 0) kept.push_back(s);
    }
    if (kept.empty()) m.erase("options");
    else m["options"] = kept;
  }

  OJson linux_ = {{"uidMappings", id_map(::geteuid())}, {"gidMappings", id_map(::getegid())}};
  linux_["namespaces"] = namespaces;
  linux_["maskedPaths"] = old_linux["maskedPaths"];
  linux_["readonlyPaths"] = old_linux["readonlyPaths"];
  old_linux = std::move(linux_);
}

}  // namespace

std::string default_spec_json(bool rootless) {
  OJson spec = example();
  if (rootless) to_rootless(spec);
  return spec.dump(1, '\t');
}

}  // namespace guise::oci
