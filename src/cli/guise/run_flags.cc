// docker's run/create flags (docker/cli cli/command/container/opts.go) -> RunRequest,
// with the checks docker's CLI and daemon make at create (daemon/daemon_unix.go
// verifyPlatformContainerResources, adaptContainerSettings) done here, so a bad value is
// refused before anything is made.
#include "cli/guise/run_flags.h"

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cctype>
#include <cerrno>
#include <cstdlib>

#include "cli/common/duration.h"
#include "cli/common/signal.h"
#include "cli/guise/run_flag_values.h"
#include "sys/syscalls.h"

namespace guise::cli {

namespace {

using engine::HostConfig;
using engine::RunRequest;

constexpr int64_t kMinMemory = 6 * 1024 * 1024;  // docker's linuxMinMemory

void single(CLI::App& cmd, const std::string& names, std::string& into, const std::string& help) {
  cmd.add_option(names, into, help)->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
}

// Each occurrence takes one value, and occurrences add up: `-e A=1 -e B=2`.
void repeated(CLI::App& cmd, const std::string& names, std::vector<std::string>& into, const std::string& help) {
  cmd.add_option(names, into, help)->allow_extra_args(false);
}

// strconv.ParseInt(text, 10, 64) with Go's words.
Result<int64_t> parse_int(const std::string& text, const std::string& flag) {
  char* end = nullptr;
  errno = 0;
  long long v = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || *end || std::isspace(static_cast<unsigned char>(text[0])) || text[0] == '+')
    return invalid_argument(text, flag, "strconv.ParseInt: parsing \"" + text + "\": invalid syntax");
  if (errno == ERANGE)
    return invalid_argument(text, flag, "strconv.ParseInt: parsing \"" + text + "\": value out of range");
  return static_cast<int64_t>(v);
}

Result<int> parse_int32(const std::string& text, const std::string& flag) {
  int64_t v = GUISE_TRY(parse_int(text, flag));
  if (v < INT32_MIN || v > INT32_MAX)
    return invalid_argument(text, flag, "strconv.ParseInt: parsing \"" + text + "\": value out of range");
  return static_cast<int>(v);
}

Result<int64_t> parse_health_duration(const std::string& text, const std::string& flag) {
  if (text.empty()) return int64_t{0};
  if (text[0] == '-') return sys::user_error(flag + " cannot be negative");
  auto d = parse_duration(text);
  if (!d) return invalid_argument(text, flag, "time: invalid duration \"" + text + "\"");
  return static_cast<int64_t>(d.value().count());
}

// "0-3,5" as the kernel's cpuset lists take it.
bool valid_cpuset(const std::string& s) {
  if (s.empty()) return true;
  size_t start = 0;
  while (start <= s.size()) {
    size_t comma = s.find(',', start);
    std::string part = s.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    size_t dash = part.find('-');
    auto number = [](const std::string& n) {
      return !n.empty() && n.size() < 6 && std::all_of(n.begin(), n.end(), [](unsigned char c) { return std::isdigit(c); });
    };
    if (dash == std::string::npos ? !number(part)
                                  : !number(part.substr(0, dash)) || !number(part.substr(dash + 1)) ||
                                        std::stoi(part.substr(0, dash)) > std::stoi(part.substr(dash + 1)))
      return false;
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return true;
}

bool namespace_mode_ok(const std::string& mode, std::initializer_list<const char*> words) {
  if (mode.empty()) return true;
  for (const char* w : words)
    if (mode == w) return true;
  return mode.rfind("container:", 0) == 0 && mode.size() > 10;
}

Result<void> apply_config(const RunFlags& f, const std::vector<std::string>& image_and_args, const EnvLookup& env,
                          RunRequest& r) {
  auto& c = r.config;
  c.image = image_and_args[0];
  if (image_and_args.size() > 1) c.cmd = std::vector<std::string>(image_and_args.begin() + 1, image_and_args.end());
  if (f.entrypoint) {
    c.entrypoint = std::vector<std::string>{};
    if (!f.entrypoint->empty()) c.entrypoint->push_back(*f.entrypoint);
  }
  for (const auto& path : f.env_file) {
    auto text = sys::read_file(path);
    if (!text) return sys::user_error("open " + path + ": " + text.error().message());
    for (auto& e : GUISE_TRY(parse_env_file(text.value(), path, env))) c.env.push_back(std::move(e));
  }
  for (const auto& e : f.env) c.env.push_back(GUISE_TRY(parse_env(e, env)));
  std::vector<std::string> labels;
  for (const auto& path : f.label_file) {
    auto text = sys::read_file(path);
    if (!text) return sys::user_error("open " + path + ": " + text.error().message());
    for (auto& l : parse_label_file(text.value())) labels.push_back(std::move(l));
  }
  labels.insert(labels.end(), f.label.begin(), f.label.end());
  for (const auto& l : labels) {
    auto eq = l.find('=');
    c.labels[l.substr(0, eq)] = eq == std::string::npos ? "" : l.substr(eq + 1);
  }
  c.hostname = f.hostname;
  c.domainname = f.domainname;
  c.user = f.user;
  if (!f.workdir.empty() && f.workdir[0] != '/')
    return sys::user_error("the working directory '" + f.workdir + "' is invalid, it needs to be an absolute path");
  c.working_dir = f.workdir;
  c.tty = f.tty;
  c.open_stdin = f.interactive;
  c.attach_stdin = f.interactive && !f.detach;
  c.attach_stdout = c.attach_stderr = !f.detach;
  c.stdin_once = f.interactive && !f.detach;
  if (!f.stop_signal.empty()) {
    if (!parse_signal(f.stop_signal)) return invalid_argument(f.stop_signal, "--stop-signal", "Invalid signal: " + f.stop_signal);
    c.stop_signal = f.stop_signal;
  }
  if (!f.stop_timeout.empty()) c.stop_timeout = GUISE_TRY(parse_int32(f.stop_timeout, "--stop-timeout"));
  for (const auto& p : f.expose) GUISE_TRY(add_expose(p, c));
  for (const auto& p : f.publish) GUISE_TRY(add_publish(p, r.host, c));

  bool health_settings = !f.health_cmd.empty() || !f.health_interval.empty() || !f.health_timeout.empty() ||
                         !f.health_start_period.empty() || !f.health_retries.empty();
  if (f.no_healthcheck) {
    if (health_settings) return sys::user_error("--no-healthcheck conflicts with --health-* options");
    c.healthcheck = engine::HealthConfig{{"NONE"}};
    r.no_healthcheck = true;
  } else if (health_settings) {
    engine::HealthConfig h;
    if (!f.health_cmd.empty()) h.test = {"CMD-SHELL", f.health_cmd};
    h.interval_ns = GUISE_TRY(parse_health_duration(f.health_interval, "--health-interval"));
    h.timeout_ns = GUISE_TRY(parse_health_duration(f.health_timeout, "--health-timeout"));
    h.start_period_ns = GUISE_TRY(parse_health_duration(f.health_start_period, "--health-start-period"));
    if (!f.health_retries.empty()) h.retries = GUISE_TRY(parse_int32(f.health_retries, "--health-retries"));
    if (h.retries < 0) return sys::user_error("--health-retries cannot be negative");
    c.healthcheck = h;
  }
  return Ok();
}

Result<void> apply_memory(const RunFlags& f, HostConfig& h) {
  if (!f.memory.empty()) h.memory = GUISE_TRY(parse_size_flag(f.memory, "-m, --memory"));
  if (!f.memory_swap.empty()) h.memory_swap = GUISE_TRY(parse_size_flag(f.memory_swap, "--memory-swap", true));
  if (!f.memory_reservation.empty())
    h.memory_reservation = GUISE_TRY(parse_size_flag(f.memory_reservation, "--memory-reservation"));
  if (!f.shm_size.empty()) h.shm_size = GUISE_TRY(parse_size_flag(f.shm_size, "--shm-size"));
  if (h.memory > 0 && h.memory < kMinMemory)
    return invalid_argument(f.memory, "-m, --memory", "Minimum memory limit allowed is 6MB");
  if (h.memory_swap != 0 && h.memory == 0)
    return invalid_argument(f.memory_swap, "--memory-swap",
                            "You should always set the Memory limit when using Memoryswap limit, see usage");
  if (h.memory_swap > 0 && h.memory_swap < h.memory)
    return invalid_argument(f.memory_swap, "--memory-swap",
                            "Minimum memoryswap limit should be larger than memory limit, see usage");
  if (h.memory_reservation > 0 && h.memory_reservation < kMinMemory)
    return invalid_argument(f.memory_reservation, "--memory-reservation", "Minimum memory reservation allowed is 6MB");
  if (h.memory > 0 && h.memory_reservation > h.memory)
    return invalid_argument(f.memory_reservation, "--memory-reservation",
                            "Minimum memory limit can not be less than memory reservation limit, see usage");
  // docker's daemon: without --memory-swap a limited container gets as much swap as memory.
  if (h.memory > 0 && h.memory_swap == 0) h.memory_swap = 2 * h.memory;
  if (h.shm_size == 0) h.shm_size = engine::kDefaultShmSize;
  if (f.oom_kill_disable) h.oom_kill_disable = true;
  else h.oom_kill_disable = false;
  return Ok();
}

Result<void> apply_cpu_and_io(const RunFlags& f, HostConfig& h) {
  if (!f.cpus.empty()) h.nano_cpus = GUISE_TRY(parse_cpus(f.cpus, ::sysconf(_SC_NPROCESSORS_ONLN)));
  if (!f.cpu_shares.empty()) h.cpu_shares = GUISE_TRY(parse_int(f.cpu_shares, "-c, --cpu-shares"));
  if (!f.cpu_period.empty()) h.cpu_period = GUISE_TRY(parse_int(f.cpu_period, "--cpu-period"));
  if (!f.cpu_quota.empty()) h.cpu_quota = GUISE_TRY(parse_int(f.cpu_quota, "--cpu-quota"));
  if (h.nano_cpus > 0 && h.cpu_period > 0)
    return sys::user_error("Conflicting options: Nano CPUs and CPU Period cannot both be set");
  if (h.nano_cpus > 0 && h.cpu_quota > 0)
    return sys::user_error("Conflicting options: Nano CPUs and CPU Quota cannot both be set");
  if (h.cpu_period != 0 && (h.cpu_period < 1000 || h.cpu_period > 1000000))
    return invalid_argument(f.cpu_period, "--cpu-period",
                            "CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)");
  if (h.cpu_quota > 0 && h.cpu_quota < 1000)
    return invalid_argument(f.cpu_quota, "--cpu-quota", "CPU cfs quota can not be less than 1ms (i.e. 1000)");
  if (!valid_cpuset(f.cpuset_cpus))
    return invalid_argument(f.cpuset_cpus, "--cpuset-cpus", "Invalid value " + f.cpuset_cpus + " for cpuset cpus");
  if (!valid_cpuset(f.cpuset_mems))
    return invalid_argument(f.cpuset_mems, "--cpuset-mems", "Invalid value " + f.cpuset_mems + " for cpuset mems");
  h.cpuset_cpus = f.cpuset_cpus;
  h.cpuset_mems = f.cpuset_mems;
  if (!f.pids_limit.empty()) h.pids_limit = GUISE_TRY(parse_int(f.pids_limit, "--pids-limit"));
  if (!f.blkio_weight.empty()) {
    int64_t w = GUISE_TRY(parse_int(f.blkio_weight, "--blkio-weight"));
    if (w != 0 && (w < 10 || w > 1000))
      return invalid_argument(f.blkio_weight, "--blkio-weight", "Range of blkio weight is from 10 to 1000");
    h.blkio_weight = static_cast<uint16_t>(w);
  }
  for (const auto& d : f.device_read_bps) h.blkio_device_read_bps.push_back(GUISE_TRY(parse_throttle(d, "--device-read-bps", true)));
  for (const auto& d : f.device_write_bps) h.blkio_device_write_bps.push_back(GUISE_TRY(parse_throttle(d, "--device-write-bps", true)));
  for (const auto& d : f.device_read_iops) h.blkio_device_read_iops.push_back(GUISE_TRY(parse_throttle(d, "--device-read-iops", false)));
  for (const auto& d : f.device_write_iops) h.blkio_device_write_iops.push_back(GUISE_TRY(parse_throttle(d, "--device-write-iops", false)));
  for (const auto& d : f.device) h.devices.push_back(GUISE_TRY(parse_device(d)));
  for (const auto& u : f.ulimit) {
    auto parsed = GUISE_TRY(parse_ulimit(u));
    std::erase_if(h.ulimits, [&](const engine::Ulimit& x) { return x.name == parsed.name; });  // the last one wins
    h.ulimits.push_back(parsed);
  }
  return Ok();
}

Result<void> apply_modes(const RunFlags& f, HostConfig& h) {
  if (!namespace_mode_ok(f.pid, {"host"})) return sys::user_error("--pid: invalid PID mode");
  if (!namespace_mode_ok(f.ipc, {"host", "private", "shareable", "none"})) return sys::user_error("--ipc: invalid IPC mode");
  if (!namespace_mode_ok(f.uts, {"host"})) return sys::user_error("--uts: invalid UTS mode");
  if (f.cgroupns != "" && f.cgroupns != "host" && f.cgroupns != "private")
    return sys::user_error("--cgroupns: invalid CGROUP mode");
  GUISE_TRY(check_userns(f.userns));
  h.pid_mode = f.pid;
  h.ipc_mode = f.ipc.empty() ? "private" : f.ipc;
  h.uts_mode = f.uts;
  h.userns_mode = f.userns;
  h.cgroupns_mode = f.cgroupns;
  if (f.proc_view != "" && f.proc_view != "host" && f.proc_view != "cgroup")
    return sys::user_error("--proc-view: \"" + f.proc_view + "\" is neither cgroup nor host");
  h.proc_view = f.proc_view;
  h.cgroup_parent = f.cgroup_parent;
  if (f.network.empty() || f.network == "container:")
    return invalid_argument(f.network, "--network", "invalid network mode");
  h.network_mode = f.network == "default" ? "bridge" : f.network;
  if (!f.oom_score_adj.empty()) {
    h.oom_score_adj = GUISE_TRY(parse_int32(f.oom_score_adj, "--oom-score-adj"));
    if (h.oom_score_adj < -1000 || h.oom_score_adj > 1000)
      return invalid_argument(f.oom_score_adj, "--oom-score-adj",
                              "Invalid value " + f.oom_score_adj + ", range for oom score adj is [-1000, 1000]");
  }
  for (const auto& cap : f.cap_add) GUISE_TRY(check_capability(cap, "--cap-add"));
  for (const auto& cap : f.cap_drop) GUISE_TRY(check_capability(cap, "--cap-drop"));
  h.cap_add = f.cap_add;
  h.cap_drop = f.cap_drop;
  h.group_add = f.group_add;
  h.privileged = f.privileged;
  h.readonly_rootfs = f.read_only;
  for (const auto& o : f.security_opt) h.security_opt.push_back(GUISE_TRY(parse_security_opt(o)));
  for (const auto& s : f.sysctl) {
    auto [k, v] = GUISE_TRY(parse_sysctl(s));
    h.sysctls[k] = v;
  }
  h.init = f.init;
  h.runtime = f.runtime;
  h.restart_policy = GUISE_TRY(parse_restart(f.restart));
  h.auto_remove = f.rm;
  if (f.rm && h.restart_policy.name != "no") return sys::user_error("Conflicting options: --restart and --rm");
  return Ok();
}

Result<void> apply_logging(const RunFlags& f, HostConfig& h) {
  h.log_config.type = f.log_driver.empty() ? "json-file" : f.log_driver;
  const auto& type = h.log_config.type;
  if (type != "json-file" && type != "k8s-file" && type != "none")
    return invalid_argument(f.log_driver, "--log-driver", "log driver " + type + " is not supported: use json-file, k8s-file or none");
  for (const auto& o : f.log_opt) {
    auto eq = o.find('=');
    if (eq == std::string::npos) return invalid_argument(o, "--log-opt", "invalid key value pair format in log opts");
    std::string key = o.substr(0, eq), value = o.substr(eq + 1);
    if (type == "none" || (key != "max-size" && key != "max-file" && key != "compress" && key != "labels" &&
                           key != "labels-regex" && key != "env" && key != "env-regex" && key != "tag"))
      return invalid_argument(o, "--log-opt", "unknown log opt '" + key + "' for " + type + " log driver");
    if (key == "max-size") {
      auto r = parse_size_flag(value, "--log-opt");
      if (!r) return invalid_argument(o, "--log-opt", "failed to parse max-size: invalid size: '" + value + "'");
    }
    if (key == "max-file") {
      auto n = parse_int(value, "--log-opt");
      if (!n) return invalid_argument(o, "--log-opt", "failed to parse max-file: " + value);
      if (n.value() < 1) return invalid_argument(o, "--log-opt", "max-file cannot be less than 1");
    }
    h.log_config.config[key] = value;
  }
  return Ok();
}

Result<void> apply_storage(const RunFlags& f, RunRequest& r) {
  for (const auto& v : f.volume) GUISE_TRY(add_volume(v, r.host, r.config), "-v, --volume");
  for (const auto& m : f.mount) r.host.mounts.push_back(GUISE_TRY(parse_mount(m)));
  for (const auto& t : f.tmpfs) {
    auto [dst, opts] = GUISE_TRY(parse_tmpfs(t));
    r.host.tmpfs[dst] = opts;
  }
  return Ok();
}

}  // namespace

void add_run_flags(CLI::App& cmd, RunFlags& f) {
  cmd.set_help_flag("--help", "print usage");
  cmd.prefix_command();
  cmd.add_flag("-d,--detach", f.detach, "run in the background and print the container ID");
  cmd.add_flag("-i,--interactive", f.interactive, "keep STDIN open even if not attached");
  cmd.add_flag("-t,--tty", f.tty, "allocate a pseudo-TTY");
  cmd.add_flag("--rm", f.rm, "remove the container when it exits");
  single(cmd, "--name", f.name, "assign a name to the container");
  repeated(cmd, "-e,--env", f.env, "set an environment variable (KEY=VALUE, or KEY from this environment)");
  repeated(cmd, "--env-file", f.env_file, "read environment variables from a file");
  repeated(cmd, "-v,--volume", f.volume, "bind mount a host path or a named volume: SRC:DST[:OPTS]");
  repeated(cmd, "--mount", f.mount, "attach a filesystem mount: type=bind|volume|tmpfs,...");
  repeated(cmd, "--tmpfs", f.tmpfs, "mount a tmpfs: DST[:OPTIONS]");
  repeated(cmd, "-p,--publish", f.publish, "publish a container's port: [IP:][HOST:]CONTAINER[/PROTO]");
  repeated(cmd, "--expose", f.expose, "expose a port or a range of ports");
  cmd.add_flag("-P,--publish-all", f.publish_all, "publish all exposed ports to random host ports");
  repeated(cmd, "--dns", f.dns, "set a custom DNS server");
  repeated(cmd, "--dns-search", f.dns_search, "set a custom DNS search domain");
  repeated(cmd, "--dns-option", f.dns_option, "set a DNS option");
  repeated(cmd, "--add-host", f.add_host, "add a custom host-to-IP mapping (host:ip)");
  repeated(cmd, "--network-alias", f.network_alias, "add a network-scoped alias for the container");
  single(cmd, "--ip", f.ip, "IPv4 address (e.g., 172.30.100.104)");
  single(cmd, "--ip6", f.ip6, "IPv6 address (e.g., 2001:db8::33)");
  single(cmd, "--mac-address", f.mac_address, "container MAC address (e.g., 92:d0:c6:0a:29:33)");
  repeated(cmd, "-l,--label", f.label, "set metadata on the container");
  repeated(cmd, "--label-file", f.label_file, "read labels from a file");
  single(cmd, "-w,--workdir", f.workdir, "working directory inside the container");
  single(cmd, "-u,--user", f.user, "user name or UID[:GROUP]");
  cmd.add_option_function<std::string>(
         "--entrypoint", [&f](const std::string& v) { f.entrypoint = v; }, "overwrite the image's ENTRYPOINT")
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  single(cmd, "-h,--hostname", f.hostname, "container host name");
  single(cmd, "--domainname", f.domainname, "container NIS domain name");
  cmd.add_flag("--read-only", f.read_only, "mount the container's root filesystem read-only");
  repeated(cmd, "--cap-add", f.cap_add, "add Linux capabilities");
  repeated(cmd, "--cap-drop", f.cap_drop, "drop Linux capabilities");
  cmd.add_flag("--privileged", f.privileged, "give extended privileges to this container");
  repeated(cmd, "--security-opt", f.security_opt, "security options");
  single(cmd, "-m,--memory", f.memory, "memory limit");
  single(cmd, "--memory-swap", f.memory_swap, "memory plus swap limit; -1: unlimited swap");
  single(cmd, "--memory-reservation", f.memory_reservation, "memory soft limit");
  single(cmd, "--cpus", f.cpus, "number of CPUs");
  single(cmd, "-c,--cpu-shares", f.cpu_shares, "CPU shares (relative weight)");
  single(cmd, "--cpu-period", f.cpu_period, "limit CPU CFS period");
  single(cmd, "--cpu-quota", f.cpu_quota, "limit CPU CFS quota");
  single(cmd, "--cpuset-cpus", f.cpuset_cpus, "CPUs in which to allow execution (0-3, 0,1)");
  single(cmd, "--cpuset-mems", f.cpuset_mems, "MEMs in which to allow execution (0-3, 0,1)");
  single(cmd, "--pids-limit", f.pids_limit, "tune container pids limit (-1 for unlimited)");
  repeated(cmd, "--device", f.device, "add a host device: HOST[:CONTAINER][:rwm]");
  repeated(cmd, "--device-read-bps", f.device_read_bps, "limit read rate (bytes per second) from a device");
  repeated(cmd, "--device-write-bps", f.device_write_bps, "limit write rate (bytes per second) to a device");
  repeated(cmd, "--device-read-iops", f.device_read_iops, "limit read rate (IO per second) from a device");
  repeated(cmd, "--device-write-iops", f.device_write_iops, "limit write rate (IO per second) to a device");
  single(cmd, "--blkio-weight", f.blkio_weight, "block IO (relative weight), between 10 and 1000, or 0 to disable");
  repeated(cmd, "--ulimit", f.ulimit, "ulimit options: NAME=SOFT[:HARD]");
  repeated(cmd, "--sysctl", f.sysctl, "sysctl options");
  single(cmd, "--shm-size", f.shm_size, "size of /dev/shm");
  cmd.add_flag_function("--init", [&f](int64_t count) { f.init = count > 0; },
                        "run an init inside the container that forwards signals and reaps processes");
  single(cmd, "--pid", f.pid, "PID namespace to use: host or container:NAME");
  single(cmd, "--ipc", f.ipc, "IPC mode to use");
  single(cmd, "--uts", f.uts, "UTS namespace to use");
  single(cmd, "--userns", f.userns, "user namespace to use: host, or CONTAINER_ID:HOST_ID:SIZE");
  single(cmd, "--cgroupns", f.cgroupns, "cgroup namespace to use: host or private");
  single(cmd, "--proc-view", f.proc_view,
         "what /proc/meminfo, cpuinfo, stat, uptime, loadavg, swaps and sysinfo(2) show: cgroup (the "
         "container's limits and usage, the default) or host");
  single(cmd, "--cgroup-parent", f.cgroup_parent, "optional parent cgroup for the container");
  single(cmd, "--pod", f.pod, "run the container in an existing pod (NAME or ID)");
  single(cmd, "--network,--net", f.network, "connect a container to a network: none, host, bridge, NAME");
  single(cmd, "--stop-signal", f.stop_signal, "signal to stop the container");
  single(cmd, "--stop-timeout", f.stop_timeout, "timeout (in seconds) to stop a container");
  single(cmd, "--restart", f.restart, "restart policy to apply when a container exits");
  single(cmd, "--health-cmd", f.health_cmd, "command to run to check health");
  single(cmd, "--health-interval", f.health_interval, "time between running the check (ms|s|m|h)");
  single(cmd, "--health-timeout", f.health_timeout, "maximum time to allow one check to run (ms|s|m|h)");
  single(cmd, "--health-start-period", f.health_start_period, "start period for the container to initialize");
  single(cmd, "--health-retries", f.health_retries, "consecutive failures needed to report unhealthy");
  cmd.add_flag("--no-healthcheck", f.no_healthcheck, "disable any container-specified HEALTHCHECK");
  single(cmd, "--log-driver", f.log_driver, "logging driver for the container: json-file, k8s-file, none");
  repeated(cmd, "--log-opt", f.log_opt, "log driver options");
  cmd.add_flag("--oom-kill-disable", f.oom_kill_disable, "disable OOM Killer");
  single(cmd, "--oom-score-adj", f.oom_score_adj, "tune host's OOM preferences (-1000 to 1000)");
  repeated(cmd, "--group-add", f.group_add, "add additional groups to join");
  single(cmd, "--runtime", f.runtime, "runtime to use for this container");
  single(cmd, "--platform", f.platform, "set platform if server is multi-platform capable");
  single(cmd, "--pull", f.pull, "pull image before running (always, missing, never)");
  single(cmd, "--detach-keys", f.detach_keys, "override the key sequence for detaching a container");
  cmd.add_option("--sig-proxy", f.sig_proxy, "proxy received signals to the process")
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
}

std::optional<std::string> process_env(const std::string& key) {
  const char* v = std::getenv(key.c_str());
  if (!v) return std::nullopt;
  return std::string(v);
}

Result<RunRequest> to_run_request(const RunFlags& f, const std::vector<std::string>& image_and_args,
                                  const EnvLookup& env) {
  if (image_and_args.empty() || image_and_args[0].empty())
    return sys::user_error("requires at least 1 argument: IMAGE [COMMAND] [ARG...]");
  // Flag parsing stops at the first word it does not know; before the image that is a flag
  // nobody registered (pflag's words).
  const std::string& first = image_and_args[0];
  if (first.rfind("--", 0) == 0) return sys::user_error("unknown flag: " + first.substr(0, first.find('=')));
  if (first[0] == '-' && first.size() > 1)
    return sys::user_error(std::string("unknown shorthand flag: '") + first[1] + "' in " + first);
  RunRequest r;
  r.name = f.name.rfind('/', 0) == 0 ? f.name.substr(1) : f.name;
  if (!f.name.empty() && !valid_name(r.name))
    return sys::user_error("Invalid container name (" + f.name + "), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed");
  r.detach = f.detach;
  r.platform = f.platform;
  if (f.pull != "always" && f.pull != "missing" && f.pull != "never")
    return sys::user_error("invalid pull option: '" + f.pull + "': must be one of \"always\", \"missing\" or \"never\"");
  r.pull = f.pull;
  GUISE_TRY(apply_config(f, image_and_args, env, r));
  GUISE_TRY(apply_memory(f, r.host));
  GUISE_TRY(apply_cpu_and_io(f, r.host));
  GUISE_TRY(apply_modes(f, r.host));
  GUISE_TRY(apply_logging(f, r.host));
  GUISE_TRY(apply_storage(f, r));
  GUISE_TRY(apply_network_flags(f, r));
  engine::set_default_system_paths(r.host);
  return r;
}

}  // namespace guise::cli
