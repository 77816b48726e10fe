// RunRequest <-> JSON in docker's shape. Field order is moby's Go struct order
// (api/types/container/config.go, hostconfig.go), which is the order `docker inspect`
// prints. Where docker's CLI always sends a non-nil slice (Dns, the Blkio lists, Devices,
// Ulimits) an empty one prints [], where it leaves it nil (Binds, CapAdd, GroupAdd, ...) null.
#include "engine/run_request.h"

#include <algorithm>

namespace guise::engine {

namespace {

using OJson = nlohmann::ordered_json;
using Json = nlohmann::json;

OJson strings_or_null(const std::vector<std::string>& v) { return v.empty() ? OJson(nullptr) : OJson(v); }

OJson set_or_null(const std::set<std::string>& s) {
  if (s.empty()) return nullptr;
  OJson o = OJson::object();
  for (const auto& k : s) o[k] = OJson::object();
  return o;
}

OJson throttle(const std::vector<ThrottleDevice>& v) {
  OJson a = OJson::array();
  for (const auto& d : v) a.push_back({{"Path", d.path}, {"Rate", d.rate}});
  return a;
}

OJson health_json(const HealthConfig& h) {
  OJson o = {{"Test", h.test}};
  if (h.interval_ns) o["Interval"] = h.interval_ns;
  if (h.timeout_ns) o["Timeout"] = h.timeout_ns;
  if (h.start_period_ns) o["StartPeriod"] = h.start_period_ns;
  if (h.retries) o["Retries"] = h.retries;
  return o;
}

OJson mount_json(const MountSpec& m) {
  OJson o = {{"Type", m.type}};
  if (!m.source.empty()) o["Source"] = m.source;
  o["Target"] = m.target;
  if (m.read_only) o["ReadOnly"] = true;
  if (m.bind_options) {
    OJson b = OJson::object();
    if (!m.bind_options->propagation.empty()) b["Propagation"] = m.bind_options->propagation;
    if (m.bind_options->non_recursive) b["NonRecursive"] = true;
    o["BindOptions"] = b;
  }
  if (m.volume_options) {
    OJson v = OJson::object();
    if (m.volume_options->no_copy) v["NoCopy"] = true;
    if (!m.volume_options->labels.empty()) v["Labels"] = m.volume_options->labels;
    if (!m.volume_options->subpath.empty()) v["Subpath"] = m.volume_options->subpath;
    o["VolumeOptions"] = v;
  }
  if (m.tmpfs_options) {
    OJson t = OJson::object();
    if (m.tmpfs_options->size_bytes) t["SizeBytes"] = m.tmpfs_options->size_bytes;
    if (m.tmpfs_options->mode) t["Mode"] = m.tmpfs_options->mode;
    o["TmpfsOptions"] = t;
  }
  return o;
}

// Reading: nlohmann throws on a wrong type; the callers turn that into one error line.
std::vector<std::string> strings(const Json& j, const char* key) {
  if (!j.contains(key) || j[key].is_null()) return {};
  return j[key].get<std::vector<std::string>>();
}

template <class T>
T get_or(const Json& j, const char* key, T fallback) {
  if (!j.contains(key) || j[key].is_null()) return fallback;
  return j[key].get<T>();
}

std::set<std::string> key_set(const Json& j, const char* key) {
  std::set<std::string> out;
  if (j.contains(key) && j[key].is_object())
    for (const auto& [k, v] : j[key].items()) out.insert(k);
  return out;
}

std::map<std::string, std::string> string_map(const Json& j, const char* key) {
  if (!j.contains(key) || j[key].is_null()) return {};
  return j[key].get<std::map<std::string, std::string>>();
}

std::vector<ThrottleDevice> throttle_from(const Json& j, const char* key) {
  std::vector<ThrottleDevice> out;
  if (!j.contains(key) || j[key].is_null()) return out;
  for (const auto& d : j[key]) out.push_back({d.at("Path").get<std::string>(), d.at("Rate").get<uint64_t>()});
  return out;
}

MountSpec mount_from(const Json& j) {
  MountSpec m;
  m.type = get_or<std::string>(j, "Type", "");
  m.source = get_or<std::string>(j, "Source", "");
  m.target = get_or<std::string>(j, "Target", "");
  m.read_only = get_or(j, "ReadOnly", false);
  if (j.contains("BindOptions") && j["BindOptions"].is_object()) {
    const auto& b = j["BindOptions"];
    m.bind_options = BindOptions{get_or<std::string>(b, "Propagation", ""), get_or(b, "NonRecursive", false)};
  }
  if (j.contains("VolumeOptions") && j["VolumeOptions"].is_object()) {
    const auto& v = j["VolumeOptions"];
    m.volume_options = VolumeOptions{get_or(v, "NoCopy", false), string_map(v, "Labels"),
                                     get_or<std::string>(v, "Subpath", "")};
  }
  if (j.contains("TmpfsOptions") && j["TmpfsOptions"].is_object()) {
    const auto& t = j["TmpfsOptions"];
    m.tmpfs_options = TmpfsOptions{get_or<int64_t>(t, "SizeBytes", 0), get_or<uint32_t>(t, "Mode", 0)};
  }
  return m;
}

template <class F>
auto guarded(const std::string& origin, F&& read) -> Result<decltype(read())> {
  try {
    return read();
  } catch (const nlohmann::json::exception& e) {
    return sys::user_error(origin + ": " + e.what());
  }
}

ContainerConfig read_config(const Json& j) {
  ContainerConfig c;
  c.hostname = get_or<std::string>(j, "Hostname", "");
  c.domainname = get_or<std::string>(j, "Domainname", "");
  c.user = get_or<std::string>(j, "User", "");
  c.attach_stdin = get_or(j, "AttachStdin", false);
  c.attach_stdout = get_or(j, "AttachStdout", false);
  c.attach_stderr = get_or(j, "AttachStderr", false);
  c.exposed_ports = key_set(j, "ExposedPorts");
  c.mac_address = get_or<std::string>(j, "MacAddress", "");
  c.tty = get_or(j, "Tty", false);
  c.open_stdin = get_or(j, "OpenStdin", false);
  c.stdin_once = get_or(j, "StdinOnce", false);
  c.env = strings(j, "Env");
  if (j.contains("Cmd") && !j["Cmd"].is_null()) c.cmd = j["Cmd"].get<std::vector<std::string>>();
  if (j.contains("Healthcheck") && j["Healthcheck"].is_object()) {
    const auto& h = j["Healthcheck"];
    c.healthcheck = HealthConfig{strings(h, "Test"), get_or<int64_t>(h, "Interval", 0),
                                 get_or<int64_t>(h, "Timeout", 0), get_or<int64_t>(h, "StartPeriod", 0),
                                 get_or(h, "Retries", 0)};
  }
  c.image = get_or<std::string>(j, "Image", "");
  c.volumes = key_set(j, "Volumes");
  c.working_dir = get_or<std::string>(j, "WorkingDir", "");
  if (j.contains("Entrypoint") && !j["Entrypoint"].is_null()) {
    auto e = j["Entrypoint"].get<std::vector<std::string>>();
    if (e.size() == 1 && e[0].empty()) e.clear();
    c.entrypoint = e;
  }
  c.labels = string_map(j, "Labels");
  c.stop_signal = get_or<std::string>(j, "StopSignal", "");
  if (j.contains("StopTimeout") && !j["StopTimeout"].is_null()) c.stop_timeout = j["StopTimeout"].get<int>();
  return c;
}

HostConfig read_host(const Json& j) {
  HostConfig h;
  h.binds = strings(j, "Binds");
  if (j.contains("LogConfig") && j["LogConfig"].is_object()) {
    h.log_config.type = get_or<std::string>(j["LogConfig"], "Type", "json-file");
    h.log_config.config = string_map(j["LogConfig"], "Config");
  }
  h.network_mode = get_or<std::string>(j, "NetworkMode", "bridge");
  h.publish_all_ports = get_or(j, "PublishAllPorts", false);
  h.dns = strings(j, "Dns");
  h.dns_options = strings(j, "DnsOptions");
  h.dns_search = strings(j, "DnsSearch");
  h.extra_hosts = strings(j, "ExtraHosts");
  if (j.contains("PortBindings") && j["PortBindings"].is_object())
    for (const auto& [port, list] : j["PortBindings"].items()) {
      auto& out = h.port_bindings[port];
      if (list.is_array())
        for (const auto& b : list)
          out.push_back({get_or<std::string>(b, "HostIp", ""), get_or<std::string>(b, "HostPort", "")});
    }
  if (j.contains("RestartPolicy") && j["RestartPolicy"].is_object()) {
    h.restart_policy.name = get_or<std::string>(j["RestartPolicy"], "Name", "no");
    if (h.restart_policy.name.empty()) h.restart_policy.name = "no";
    h.restart_policy.maximum_retry_count = get_or(j["RestartPolicy"], "MaximumRetryCount", 0);
  }
  h.auto_remove = get_or(j, "AutoRemove", false);
  h.cap_add = strings(j, "CapAdd");
  h.cap_drop = strings(j, "CapDrop");
  h.cgroupns_mode = get_or<std::string>(j, "CgroupnsMode", "");
  h.proc_view = get_or<std::string>(j, "ProcView", "");
  h.group_add = strings(j, "GroupAdd");
  h.ipc_mode = get_or<std::string>(j, "IpcMode", "private");
  h.oom_score_adj = get_or(j, "OomScoreAdj", 0);
  h.pid_mode = get_or<std::string>(j, "PidMode", "");
  h.privileged = get_or(j, "Privileged", false);
  h.readonly_rootfs = get_or(j, "ReadonlyRootfs", false);
  h.security_opt = strings(j, "SecurityOpt");
  h.tmpfs = string_map(j, "Tmpfs");
  h.uts_mode = get_or<std::string>(j, "UTSMode", "");
  h.userns_mode = get_or<std::string>(j, "UsernsMode", "");
  h.shm_size = get_or<int64_t>(j, "ShmSize", 0);
  h.sysctls = string_map(j, "Sysctls");
  h.runtime = get_or<std::string>(j, "Runtime", "");
  h.cpu_shares = get_or<int64_t>(j, "CpuShares", 0);
  h.memory = get_or<int64_t>(j, "Memory", 0);
  h.nano_cpus = get_or<int64_t>(j, "NanoCpus", 0);
  h.cgroup_parent = get_or<std::string>(j, "CgroupParent", "");
  h.blkio_weight = get_or<uint16_t>(j, "BlkioWeight", 0);
  h.blkio_device_read_bps = throttle_from(j, "BlkioDeviceReadBps");
  h.blkio_device_write_bps = throttle_from(j, "BlkioDeviceWriteBps");
  h.blkio_device_read_iops = throttle_from(j, "BlkioDeviceReadIOps");
  h.blkio_device_write_iops = throttle_from(j, "BlkioDeviceWriteIOps");
  h.cpu_period = get_or<int64_t>(j, "CpuPeriod", 0);
  h.cpu_quota = get_or<int64_t>(j, "CpuQuota", 0);
  h.cpuset_cpus = get_or<std::string>(j, "CpusetCpus", "");
  h.cpuset_mems = get_or<std::string>(j, "CpusetMems", "");
  if (j.contains("Devices") && j["Devices"].is_array())
    for (const auto& d : j["Devices"])
      h.devices.push_back({get_or<std::string>(d, "PathOnHost", ""), get_or<std::string>(d, "PathInContainer", ""),
                           get_or<std::string>(d, "CgroupPermissions", "")});
  h.memory_reservation = get_or<int64_t>(j, "MemoryReservation", 0);
  h.memory_swap = get_or<int64_t>(j, "MemorySwap", 0);
  if (j.contains("OomKillDisable") && !j["OomKillDisable"].is_null()) h.oom_kill_disable = j["OomKillDisable"].get<bool>();
  if (j.contains("PidsLimit") && !j["PidsLimit"].is_null()) h.pids_limit = j["PidsLimit"].get<int64_t>();
  if (j.contains("Ulimits") && j["Ulimits"].is_array())
    for (const auto& u : j["Ulimits"])
      h.ulimits.push_back({get_or<std::string>(u, "Name", ""), get_or<int64_t>(u, "Soft", 0), get_or<int64_t>(u, "Hard", 0)});
  if (j.contains("Mounts") && j["Mounts"].is_array())
    for (const auto& m : j["Mounts"]) h.mounts.push_back(mount_from(m));
  h.masked_paths = strings(j, "MaskedPaths");
  h.readonly_paths = strings(j, "ReadonlyPaths");
  if (j.contains("Init") && !j["Init"].is_null()) h.init = j["Init"].get<bool>();
  return h;
}

}  // namespace

const std::vector<std::string>& default_masked_paths() {
  static const std::vector<std::string> paths = {
      "/proc/asound",      "/proc/acpi",       "/proc/kcore",   "/proc/keys",    "/proc/latency_stats",
      "/proc/timer_list",  "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/sys/firmware",
      "/sys/devices/virtual/powercap"};
  return paths;
}

const std::vector<std::string>& default_readonly_paths() {
  static const std::vector<std::string> paths = {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
                                                 "/proc/sysrq-trigger"};
  return paths;
}

void set_default_system_paths(HostConfig& h) {
  bool unconfined = h.privileged || std::find(h.security_opt.begin(), h.security_opt.end(),
                                              "systempaths=unconfined") != h.security_opt.end();
  if (unconfined || !h.masked_paths.empty() || !h.readonly_paths.empty()) return;
  h.masked_paths = default_masked_paths();
  h.readonly_paths = default_readonly_paths();
}

OJson to_json(const ContainerConfig& c) {
  OJson o = {
      {"Hostname", c.hostname},       {"Domainname", c.domainname},   {"User", c.user},
      {"AttachStdin", c.attach_stdin}, {"AttachStdout", c.attach_stdout}, {"AttachStderr", c.attach_stderr},
  };
  if (!c.exposed_ports.empty()) o["ExposedPorts"] = set_or_null(c.exposed_ports);
  o["Tty"] = c.tty;
  o["OpenStdin"] = c.open_stdin;
  o["StdinOnce"] = c.stdin_once;
  o["Env"] = strings_or_null(c.env);
  o["Cmd"] = c.cmd ? OJson(*c.cmd) : OJson(nullptr);
  if (c.healthcheck) o["Healthcheck"] = health_json(*c.healthcheck);
  o["Image"] = c.image;
  o["Volumes"] = set_or_null(c.volumes);
  o["WorkingDir"] = c.working_dir;
  if (!c.entrypoint) o["Entrypoint"] = nullptr;
  else if (c.entrypoint->empty()) o["Entrypoint"] = OJson::array({""});
  else o["Entrypoint"] = *c.entrypoint;
  o["OnBuild"] = nullptr;
  o["Labels"] = c.labels.empty() ? OJson::object() : OJson(c.labels);
  if (!c.mac_address.empty()) o["MacAddress"] = c.mac_address;
  if (!c.stop_signal.empty()) o["StopSignal"] = c.stop_signal;
  if (c.stop_timeout) o["StopTimeout"] = *c.stop_timeout;
  return o;
}

OJson to_json(const HostConfig& h) {
  OJson ports = OJson::object();
  for (const auto& [port, list] : h.port_bindings) {
    OJson a = OJson::array();
    for (const auto& b : list) a.push_back({{"HostIp", b.host_ip}, {"HostPort", b.host_port}});
    ports[port] = a;
  }
  OJson devices = OJson::array();
  for (const auto& d : h.devices)
    devices.push_back({{"PathOnHost", d.path_on_host},
                       {"PathInContainer", d.path_in_container},
                       {"CgroupPermissions", d.cgroup_permissions}});
  OJson ulimits = OJson::array();
  for (const auto& u : h.ulimits) ulimits.push_back({{"Name", u.name}, {"Hard", u.hard}, {"Soft", u.soft}});

  OJson o;
  o["Binds"] = strings_or_null(h.binds);
  o["ContainerIDFile"] = "";
  o["LogConfig"] = {{"Type", h.log_config.type},
                    {"Config", h.log_config.config.empty() ? OJson::object() : OJson(h.log_config.config)}};
  o["NetworkMode"] = h.network_mode;
  o["PortBindings"] = ports;
  o["RestartPolicy"] = {{"Name", h.restart_policy.name}, {"MaximumRetryCount", h.restart_policy.maximum_retry_count}};
  o["AutoRemove"] = h.auto_remove;
  o["VolumeDriver"] = "";
  o["VolumesFrom"] = nullptr;
  o["ConsoleSize"] = {0, 0};
  o["CapAdd"] = strings_or_null(h.cap_add);
  o["CapDrop"] = strings_or_null(h.cap_drop);
  o["CgroupnsMode"] = h.cgroupns_mode;
  o["ProcView"] = h.proc_view.empty() ? "cgroup" : h.proc_view;
  o["Dns"] = h.dns;
  o["DnsOptions"] = h.dns_options;
  o["DnsSearch"] = h.dns_search;
  o["ExtraHosts"] = strings_or_null(h.extra_hosts);
  o["GroupAdd"] = strings_or_null(h.group_add);
  o["IpcMode"] = h.ipc_mode;
  o["Cgroup"] = "";
  o["Links"] = nullptr;
  o["OomScoreAdj"] = h.oom_score_adj;
  o["PidMode"] = h.pid_mode;
  o["Privileged"] = h.privileged;
  o["PublishAllPorts"] = h.publish_all_ports;
  o["ReadonlyRootfs"] = h.readonly_rootfs;
  o["SecurityOpt"] = strings_or_null(h.security_opt);
  if (!h.tmpfs.empty()) o["Tmpfs"] = h.tmpfs;
  o["UTSMode"] = h.uts_mode;
  o["UsernsMode"] = h.userns_mode;
  o["ShmSize"] = h.shm_size;
  if (!h.sysctls.empty()) o["Sysctls"] = h.sysctls;
  if (!h.runtime.empty()) o["Runtime"] = h.runtime;
  o["Isolation"] = "";
  o["CpuShares"] = h.cpu_shares;
  o["Memory"] = h.memory;
  o["NanoCpus"] = h.nano_cpus;
  o["CgroupParent"] = h.cgroup_parent;
  o["BlkioWeight"] = h.blkio_weight;
  o["BlkioWeightDevice"] = OJson::array();
  o["BlkioDeviceReadBps"] = throttle(h.blkio_device_read_bps);
  o["BlkioDeviceWriteBps"] = throttle(h.blkio_device_write_bps);
  o["BlkioDeviceReadIOps"] = throttle(h.blkio_device_read_iops);
  o["BlkioDeviceWriteIOps"] = throttle(h.blkio_device_write_iops);
  o["CpuPeriod"] = h.cpu_period;
  o["CpuQuota"] = h.cpu_quota;
  o["CpuRealtimePeriod"] = 0;
  o["CpuRealtimeRuntime"] = 0;
  o["CpusetCpus"] = h.cpuset_cpus;
  o["CpusetMems"] = h.cpuset_mems;
  o["Devices"] = devices;
  o["DeviceCgroupRules"] = nullptr;
  o["DeviceRequests"] = nullptr;
  o["MemoryReservation"] = h.memory_reservation;
  o["MemorySwap"] = h.memory_swap;
  o["MemorySwappiness"] = nullptr;
  o["OomKillDisable"] = h.oom_kill_disable ? OJson(*h.oom_kill_disable) : OJson(nullptr);
  o["PidsLimit"] = h.pids_limit ? OJson(*h.pids_limit) : OJson(nullptr);
  o["Ulimits"] = ulimits;
  o["CpuCount"] = 0;
  o["CpuPercent"] = 0;
  o["IOMaximumIOps"] = 0;
  o["IOMaximumBandwidth"] = 0;
  if (!h.mounts.empty()) {
    OJson mounts = OJson::array();
    for (const auto& m : h.mounts) mounts.push_back(mount_json(m));
    o["Mounts"] = mounts;
  }
  o["MaskedPaths"] = strings_or_null(h.masked_paths);
  o["ReadonlyPaths"] = strings_or_null(h.readonly_paths);
  if (h.init) o["Init"] = *h.init;
  return o;
}

OJson to_json(const RunRequest& r) {
  return {{"Name", r.name},         {"Config", to_json(r.config)},
          {"HostConfig", to_json(r.host)}, {"Detach", r.detach},
          {"Platform", r.platform}, {"Pull", r.pull},
          {"NoHealthcheck", r.no_healthcheck}, {"EndpointConfig", to_json(r.endpoint)}};
}

OJson to_json(const EndpointConfig& e) {
  return {{"Aliases", strings_or_null(e.aliases)},
          {"IPAMConfig", {{"IPv4Address", e.ipv4_address}, {"IPv6Address", e.ipv6_address}}}};
}

EndpointConfig endpoint_config_from_json(const Json& j) {
  EndpointConfig e;
  if (!j.is_object()) return e;
  e.aliases = strings(j, "Aliases");
  if (j.contains("IPAMConfig") && j["IPAMConfig"].is_object()) {
    e.ipv4_address = get_or<std::string>(j["IPAMConfig"], "IPv4Address", "");
    e.ipv6_address = get_or<std::string>(j["IPAMConfig"], "IPv6Address", "");
  }
  return e;
}

Result<ContainerConfig> container_config_from_json(const Json& j, const std::string& origin) {
  return guarded(origin + ": Config", [&] { return read_config(j); });
}

Result<HostConfig> host_config_from_json(const Json& j, const std::string& origin) {
  return guarded(origin + ": HostConfig", [&] { return read_host(j); });
}

Result<RunRequest> run_request_from_json(const Json& j, const std::string& origin) {
  if (!j.is_object()) return sys::user_error(origin + ": not a JSON object");
  return guarded(origin, [&] {
    RunRequest r;
    r.name = get_or<std::string>(j, "Name", "");
    if (j.contains("Config")) r.config = read_config(j["Config"]);
    if (j.contains("HostConfig")) r.host = read_host(j["HostConfig"]);
    r.detach = get_or(j, "Detach", false);
    r.platform = get_or<std::string>(j, "Platform", "");
    r.pull = get_or<std::string>(j, "Pull", "missing");
    r.no_healthcheck = get_or(j, "NoHealthcheck", false);
    if (j.contains("EndpointConfig")) r.endpoint = endpoint_config_from_json(j["EndpointConfig"]);
    return r;
  });
}

}  // namespace guise::engine
