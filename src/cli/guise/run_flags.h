// docker's `run` / `create` flags: CLI11 registration, and the flags turned into a typed
// engine::RunRequest with docker's rules and docker's error words. Every error is one line
// naming the flag: invalid argument "12q" for "-m, --memory" flag: invalid size: '12q'
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "engine/run_request.h"
#include "sys/result.h"

namespace CLI {
class App;
}

namespace guise::cli {

// What the command line said, as typed. Repeatable flags are vectors; flags whose
// absence matters (docker keeps them as pointers) are optionals.
struct RunFlags {
  bool detach = false, interactive = false, tty = false, rm = false;
  std::string name;
  std::vector<std::string> env, env_file, volume, mount, tmpfs, publish, expose, label, label_file;
  std::string workdir, user, hostname, domainname;
  std::optional<std::string> entrypoint;
  bool read_only = false, privileged = false;
  std::vector<std::string> cap_add, cap_drop, security_opt, device, ulimit, sysctl, group_add;
  std::vector<std::string> device_read_bps, device_write_bps, device_read_iops, device_write_iops;
  std::string memory, memory_swap, memory_reservation, shm_size, cpus;
  // Numbers are kept as typed ("" = not given) so that a bad one gets docker's words.
  std::string cpu_shares, cpu_period, cpu_quota, pids_limit, blkio_weight;
  std::string cpuset_cpus, cpuset_mems;
  std::optional<bool> init;
  std::string pid, ipc, uts, userns, cgroupns, proc_view, cgroup_parent, network = "default";
  std::string stop_signal;
  std::string stop_timeout;
  std::string restart = "no";
  std::string health_cmd, health_interval, health_timeout, health_start_period;
  std::string health_retries;
  bool no_healthcheck = false;
  std::string log_driver;
  std::vector<std::string> log_opt;
  bool oom_kill_disable = false;
  std::string oom_score_adj;
  std::string runtime, platform, pull = "missing";
  // `run` only; kept here so `run` and `create` share one registration.
  std::string detach_keys;
  // Networking.
  bool publish_all = false;
  std::vector<std::string> dns, dns_search, dns_option, add_host, network_alias;
  std::string ip, ip6, mac_address;
  bool sig_proxy = true;
  std::string pod;  // --pod NAME: join the pod's shared namespaces (pod_common.h)
};

// Registers every flag on `cmd` (a run or create subcommand). Also: -h is --hostname, so
// help is --help alone; and, as docker, flags stop at the first positional, so the command
// reads IMAGE and its arguments from cmd.remaining() (prefix_command): in
// `guise run alpine ls -l`, -l belongs to ls.
void add_run_flags(CLI::App& cmd, RunFlags& f);

// The environment a bare `-e KEY` or a bare KEY line of --env-file reads from.
using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;
std::optional<std::string> process_env(const std::string& key);

// Flags + [IMAGE, ARG...] -> the request. Reads --env-file, --label-file and a
// --security-opt seccomp=FILE (its content is kept, as docker's CLI keeps it).
// Attach fields follow `run`: AttachStdout/err unless -d, AttachStdin and StdinOnce with
// -i unless -d; `create` clears StdinOnce, as docker's does. What docker's daemon fills in
// at create is filled here too (MemorySwap twice Memory, ShmSize 64 MiB, NetworkMode
// bridge, IpcMode private); Config.Hostname (the id's first 12) and the image's config
// (engine::merge_image_config) are the caller's, once the id and image are known.
Result<engine::RunRequest> to_run_request(const RunFlags& f, const std::vector<std::string>& image_and_args,
                                          const EnvLookup& env = process_env);

}  // namespace guise::cli
