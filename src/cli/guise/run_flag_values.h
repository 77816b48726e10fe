// The value forms of docker's run flags, each parsed as docker's CLI (and daemon) parses
// it, with docker's error words. Pure but for parse_env_file's and the seccomp file's reads.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "cli/guise/run_flags.h"
#include "engine/run_request.h"
#include "sys/result.h"

namespace guise::cli {

// invalid argument "VALUE" for "FLAG" flag: WHY
Error invalid_argument(const std::string& value, const std::string& flag, const std::string& why);

// docker's units.RAMInBytes: "64m", "1.5g", "512"; `allow_unlimited` takes "-1" (--memory-swap).
Result<int64_t> parse_size_flag(const std::string& text, const std::string& flag, bool allow_unlimited = false);
// --cpus: a decimal number of CPUs -> NanoCpus; `host_cpus` bounds it as docker's daemon does.
Result<int64_t> parse_cpus(const std::string& text, long host_cpus);
// -e: KEY=VALUE as is; a bare KEY takes the value from `env`, or stays bare (docker then unsets it).
Result<std::string> parse_env(const std::string& text, const EnvLookup& env);
// --env-file's text: KEY=VALUE lines taken verbatim, # comments and blank lines skipped, a
// bare KEY from `env`. `path` names the file in errors.
Result<std::vector<std::string>> parse_env_file(const std::string& text, const std::string& path, const EnvLookup& env);
// --label-file's text: as --env-file, but a bare KEY is KEY= (docker's labels).
std::vector<std::string> parse_label_file(const std::string& text);

// -v: DST (anonymous volume), SRC:DST[:OPTS]; absolute SRC binds, else SRC names a volume.
Result<void> add_volume(const std::string& text, engine::HostConfig& h, engine::ContainerConfig& c);
// --mount type=bind|volume|tmpfs,source=..,target=..,readonly,...
Result<engine::MountSpec> parse_mount(const std::string& text);
// --tmpfs DST[:OPTIONS]
Result<std::pair<std::string, std::string>> parse_tmpfs(const std::string& text);
// -p [IP:][HOST_PORT:]CONTAINER_PORT[/PROTO], ranges as in 8000-8001:80-81; fills both maps.
Result<void> add_publish(const std::string& text, engine::HostConfig& h, engine::ContainerConfig& c);
// -P, --dns*, --add-host, --ip, --ip6, --mac-address, --network-alias into the request,
// checked against the network mode as docker's CLI and daemon check them.
Result<void> apply_network_flags(const RunFlags& f, engine::RunRequest& r);
// --expose PORT[/PROTO] or a range.
Result<void> add_expose(const std::string& text, engine::ContainerConfig& c);
// --restart no|always|unless-stopped|on-failure[:N]
Result<engine::RestartPolicy> parse_restart(const std::string& text);
// --ulimit NAME=SOFT[:HARD]
Result<engine::Ulimit> parse_ulimit(const std::string& text);
// --sysctl KEY=VALUE, namespaced keys only (docker's list).
Result<std::pair<std::string, std::string>> parse_sysctl(const std::string& text);
// --device HOST[:CONTAINER][:PERMISSIONS]
Result<engine::DeviceMapping> parse_device(const std::string& text);
// --device-{read,write}-{bps,iops} PATH:RATE
Result<engine::ThrottleDevice> parse_throttle(const std::string& text, const std::string& flag, bool bytes);
// --security-opt: what is stored in HostConfig.SecurityOpt (seccomp=FILE becomes seccomp=CONTENT).
Result<std::string> parse_security_opt(const std::string& text);
// --cap-add/--cap-drop: "ALL" or a known capability, with or without CAP_, any case.
Result<void> check_capability(const std::string& text, const std::string& flag);
// docker's [a-zA-Z0-9][a-zA-Z0-9_.-]+
bool valid_name(const std::string& name);
// --userns: "", host, or a map CONTAINER:HOST:SIZE[,CONTAINER:HOST:SIZE...]
Result<void> check_userns(const std::string& text);

}  // namespace guise::cli
