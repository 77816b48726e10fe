// What `guise run` / `guise create` asks for, in docker's API model (moby api/types/container
// Config and HostConfig), so that `guise inspect` prints Config and HostConfig as docker does
// and the record holds exactly what the user asked for. Pure data; the OCI spec is built from
// it by engine/spec_builder.h. Optional fields are those docker keeps as Go pointers or nil
// slices: absent means "not asked", which the image or the defaults then fill.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sys/result.h"

namespace guise::engine {

struct HealthConfig {
  // ["NONE"] disables the image's check; ["CMD", arg...]; ["CMD-SHELL", "command"]; empty: the image's.
  std::vector<std::string> test;
  int64_t interval_ns = 0, timeout_ns = 0, start_period_ns = 0;  // 0: the image's, else docker's default
  int retries = 0;
};

struct ContainerConfig {  // docker's Config
  std::string hostname, domainname, user;
  bool attach_stdin = false, attach_stdout = false, attach_stderr = false;
  std::set<std::string> exposed_ports;  // "80/tcp"
  std::string mac_address;              // --mac-address (docker's Config.MacAddress)
  bool tty = false, open_stdin = false, stdin_once = false;
  std::vector<std::string> env;  // "KEY=VALUE"; a bare "KEY" unsets KEY
  std::optional<std::vector<std::string>> cmd;         // absent: the image's
  std::optional<HealthConfig> healthcheck;
  std::string image;
  std::set<std::string> volumes;  // anonymous volume targets
  std::string working_dir;
  // Absent: the image's. Present and empty: `--entrypoint ""`, which clears the image's
  // Entrypoint and its Cmd (written [""] as docker's CLI sends it).
  std::optional<std::vector<std::string>> entrypoint;
  std::map<std::string, std::string> labels;
  std::string stop_signal;
  std::optional<int> stop_timeout;  // seconds
};

struct BindOptions {
  std::string propagation;  // "", private, rprivate, shared, rshared, slave, rslave
  bool non_recursive = false;
};

struct VolumeOptions {
  bool no_copy = false;
  std::map<std::string, std::string> labels;
  std::string subpath;
};

struct TmpfsOptions {
  int64_t size_bytes = 0;  // 0: the kernel's default (half of RAM)
  uint32_t mode = 0;       // 0: 1777
};

struct MountSpec {  // docker's mount.Mount (HostConfig.Mounts)
  std::string type;  // bind, volume, tmpfs
  std::string source, target;
  bool read_only = false;
  std::optional<BindOptions> bind_options;
  std::optional<VolumeOptions> volume_options;
  std::optional<TmpfsOptions> tmpfs_options;
};

struct DeviceMapping {
  std::string path_on_host, path_in_container, cgroup_permissions;  // permissions: subset of "rwm"
};

struct ThrottleDevice {  // docker's blkiodev.ThrottleDevice
  std::string path;
  uint64_t rate = 0;
};

struct Ulimit {
  std::string name;  // "nofile"
  int64_t soft = 0, hard = 0;
};

struct RestartPolicy {
  std::string name = "no";  // no, always, unless-stopped, on-failure
  int maximum_retry_count = 0;
};

struct LogConfig {
  std::string type = "json-file";
  std::map<std::string, std::string> config;
};

struct PortBinding {
  std::string host_ip, host_port;  // "" = any address / an ephemeral port
};

struct HostConfig {  // docker's HostConfig, its Resources embedded
  std::vector<std::string> binds;  // -v, as typed
  LogConfig log_config;
  std::string network_mode = "bridge";  // none, host, bridge, container:NAME, NAME
  std::map<std::string, std::vector<PortBinding>> port_bindings;  // "80/tcp" -> bindings
  bool publish_all_ports = false;                                  // -P
  std::vector<std::string> dns, dns_options, dns_search;            // --dns, --dns-option, --dns-search
  std::vector<std::string> extra_hosts;                             // --add-host NAME:IP, as typed
  RestartPolicy restart_policy;
  bool auto_remove = false;
  std::vector<std::string> cap_add, cap_drop;  // as typed
  std::string cgroupns_mode;                   // private, host
  std::string proc_view;                       // --proc-view: "" (cgroup, the default), cgroup, host
  std::vector<std::string> group_add;
  std::string ipc_mode = "private";  // private, shareable, host, none, container:NAME
  int oom_score_adj = 0;
  std::string pid_mode, uts_mode, userns_mode;  // "", host, container:NAME; userns: "", host, or a map
  bool privileged = false;
  bool readonly_rootfs = false;
  std::vector<std::string> security_opt;
  std::map<std::string, std::string> tmpfs;  // target -> options
  int64_t shm_size = 0;                      // 0: 64 MiB
  std::map<std::string, std::string> sysctls;
  std::string runtime;  // "": the engine's default
  // Resources
  int64_t cpu_shares = 0, memory = 0, nano_cpus = 0;
  std::string cgroup_parent;
  uint16_t blkio_weight = 0;
  std::vector<ThrottleDevice> blkio_device_read_bps, blkio_device_write_bps, blkio_device_read_iops,
      blkio_device_write_iops;
  int64_t cpu_period = 0, cpu_quota = 0;
  std::string cpuset_cpus, cpuset_mems;
  std::vector<DeviceMapping> devices;
  int64_t memory_reservation = 0;
  int64_t memory_swap = 0;  // memory + swap; -1 unlimited; 0 with memory set: twice memory (docker's default)
  std::optional<bool> oom_kill_disable;
  std::optional<int64_t> pids_limit;  // <= 0 (-1): unlimited
  std::vector<Ulimit> ulimits;
  // end of Resources
  std::vector<MountSpec> mounts;
  // docker's daemon fills these at create with its defaults, none when privileged or with
  // systempaths=unconfined; the spec takes them as they are.
  std::vector<std::string> masked_paths, readonly_paths;
  std::optional<bool> init;
};

// docker's default masked and read-only paths.
const std::vector<std::string>& default_masked_paths();
const std::vector<std::string>& default_readonly_paths();
// docker's daemon at create: the default masked and read-only paths unless privileged or
// --security-opt systempaths=unconfined.
void set_default_system_paths(HostConfig& h);

// docker's NetworkingConfig for the one network `run` names: --ip, --ip6, --network-alias.
struct EndpointConfig {
  std::string ipv4_address, ipv6_address;
  std::vector<std::string> aliases;
};

struct RunRequest {
  std::string name;  // "" = generated
  EndpointConfig endpoint;
  ContainerConfig config;
  HostConfig host;
  bool detach = false;
  std::string platform;            // --platform os/arch[/variant]
  std::string pull = "missing";    // always, missing, never
  bool no_healthcheck = false;     // also recorded as Healthcheck.Test ["NONE"]
};

// docker's default /dev/shm size.
inline constexpr int64_t kDefaultShmSize = 64 * 1024 * 1024;

// JSON with docker's field names and order; HostConfig prints every field, zero values
// included, as `docker inspect` does.
nlohmann::ordered_json to_json(const ContainerConfig& c);
nlohmann::ordered_json to_json(const HostConfig& h);
nlohmann::ordered_json to_json(const RunRequest& r);  // {"Name", "Config", "HostConfig", "Detach", ...}
// The inverse: what to_json wrote, read back. Errors name `origin` and the field.
Result<ContainerConfig> container_config_from_json(const nlohmann::json& j, const std::string& origin);
Result<HostConfig> host_config_from_json(const nlohmann::json& j, const std::string& origin);
nlohmann::ordered_json to_json(const EndpointConfig& e);  // {"Aliases", "IPAMConfig": {"IPv4Address", "IPv6Address"}}
EndpointConfig endpoint_config_from_json(const nlohmann::json& j);
Result<RunRequest> run_request_from_json(const nlohmann::json& j, const std::string& origin);

}  // namespace guise::engine
