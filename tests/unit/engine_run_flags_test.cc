// docker's run flags -> RunRequest: each value form and each error as docker words it.
#include "cli/guise/run_flags.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <fstream>

#include "cli/guise/run_flag_values.h"

namespace {

using guise::cli::RunFlags;
using guise::engine::RunRequest;

std::optional<std::string> fake_env(const std::string& key) {
  if (key == "FROM_ENV") return std::string("yes");
  return std::nullopt;
}

struct Parsed {
  std::string error;  // CLI11's or to_run_request's
  RunRequest request;
  std::vector<std::string> rest;
};

Parsed run(std::vector<std::string> args) {
  CLI::App app{"test", "guise"};
  auto* cmd = app.add_subcommand("run");
  RunFlags f;
  guise::cli::add_run_flags(*cmd, f);
  std::vector<const char*> argv = {"guise", "run"};
  for (const auto& a : args) argv.push_back(a.c_str());
  Parsed p;
  try {
    app.parse(static_cast<int>(argv.size()), argv.data());
  } catch (const CLI::ParseError& e) {
    p.error = e.what();
    return p;
  }
  p.rest = cmd->remaining();
  auto r = guise::cli::to_run_request(f, p.rest, fake_env);
  if (!r) p.error = r.error().message();
  else p.request = r.value();
  return p;
}

RunRequest ok(std::vector<std::string> args) {
  auto p = run(std::move(args));
  EXPECT_EQ(p.error, "");
  return p.request;
}

std::string fails(std::vector<std::string> args) {
  auto p = run(std::move(args));
  EXPECT_NE(p.error, "") << "accepted";
  return p.error;
}

std::string temp_file(const std::string& text) {
  char path[] = "/tmp/guise-run-flags-XXXXXX";
  int fd = ::mkstemp(path);
  EXPECT_GE(fd, 0);
  EXPECT_EQ(::write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size()));
  ::close(fd);
  return path;
}

struct TempFile {
  std::string path;
  explicit TempFile(const std::string& text) : path(temp_file(text)) {}
  ~TempFile() { ::unlink(path.c_str()); }
};

}  // namespace

TEST(EngineRunFlags, FlagsStopAtTheImage) {
  auto p = run({"-it", "--rm", "alpine", "ls", "-l", "--name", "x"});
  ASSERT_EQ(p.error, "");
  EXPECT_EQ(p.rest, (std::vector<std::string>{"alpine", "ls", "-l", "--name", "x"}));
  EXPECT_TRUE(p.request.config.tty);
  EXPECT_TRUE(p.request.config.open_stdin);
  EXPECT_TRUE(p.request.config.stdin_once);
  EXPECT_TRUE(p.request.host.auto_remove);
  EXPECT_EQ(p.request.name, "");
  EXPECT_EQ(p.request.config.image, "alpine");
  EXPECT_EQ(*p.request.config.cmd, (std::vector<std::string>{"ls", "-l", "--name", "x"}));
  EXPECT_FALSE(p.request.config.entrypoint.has_value());
}

TEST(EngineRunFlags, UnknownFlagsBeforeTheImage) {
  EXPECT_EQ(fails({"--bogus", "alpine"}), "unknown flag: --bogus");
  EXPECT_EQ(fails({"--bogus=1", "alpine"}), "unknown flag: --bogus");
  EXPECT_EQ(fails({"-Z", "alpine"}), "unknown shorthand flag: 'Z' in -Z");
  EXPECT_EQ(fails({}), "requires at least 1 argument: IMAGE [COMMAND] [ARG...]");
  auto p = run({"--rm=false", "--sig-proxy=false", "--init=false", "alpine"});
  EXPECT_EQ(p.error, "");
  EXPECT_FALSE(p.request.host.auto_remove);
  EXPECT_FALSE(*p.request.host.init);
}

TEST(EngineRunFlags, NoArgumentsLeaveCmdAbsent) {
  auto r = ok({"-d", "alpine"});
  EXPECT_FALSE(r.config.cmd.has_value());
  EXPECT_TRUE(r.detach);
  EXPECT_FALSE(r.config.attach_stdout);
}

TEST(EngineRunFlags, ShortHIsHostname) {
  auto r = ok({"-h", "demo", "-w", "/srv", "-u", "1000:1000", "alpine"});
  EXPECT_EQ(r.config.hostname, "demo");
  EXPECT_EQ(r.config.working_dir, "/srv");
  EXPECT_EQ(r.config.user, "1000:1000");
}

TEST(EngineRunFlags, EntrypointEmptyClears) {
  auto r = ok({"--entrypoint", "", "alpine", "echo"});
  ASSERT_TRUE(r.config.entrypoint.has_value());
  EXPECT_TRUE(r.config.entrypoint->empty());
  EXPECT_EQ(guise::engine::to_json(r.config)["Entrypoint"], nlohmann::ordered_json::array({""}));
  auto r2 = ok({"--entrypoint=/bin/sh", "alpine"});
  EXPECT_EQ(*r2.config.entrypoint, std::vector<std::string>{"/bin/sh"});
}

TEST(EngineRunFlags, Environment) {
  TempFile file("# comment\n\nA=1\n  B=two words \nFROM_ENV\nUNSET\n");
  auto r = ok({"--env-file", file.path, "-e", "C=3", "-e", "FROM_ENV", "-e", "GONE", "alpine"});
  EXPECT_EQ(r.config.env, (std::vector<std::string>{"A=1", "B=two words ", "FROM_ENV=yes", "UNSET", "C=3",
                                                     "FROM_ENV=yes", "GONE"}));
  EXPECT_EQ(fails({"-e", "=x", "alpine"}), "invalid environment variable: =x");
  TempFile bad("MY VAR=1\n");
  EXPECT_NE(fails({"--env-file", bad.path, "alpine"}).find("variable 'MY VAR' contains whitespaces"), std::string::npos);
  EXPECT_NE(fails({"--env-file", "/nonexistent/env", "alpine"}).find("/nonexistent/env"), std::string::npos);
}

TEST(EngineRunFlags, Labels) {
  auto r = ok({"-l", "a=1", "--label", "b", "alpine"});
  EXPECT_EQ(r.config.labels, (std::map<std::string, std::string>{{"a", "1"}, {"b", ""}}));
}

struct ErrorCase {
  std::vector<std::string> args;
  std::string message;
};

TEST(EngineRunFlags, ErrorsNameTheFlag) {
  const std::vector<ErrorCase> cases = {
      {{"--memory", "12q"}, "invalid argument \"12q\" for \"-m, --memory\" flag: invalid size: '12q'"},
      {{"-m", "-1"}, "invalid argument \"-1\" for \"-m, --memory\" flag: invalid size: '-1'"},
      {{"-m", "4m"}, "invalid argument \"4m\" for \"-m, --memory\" flag: Minimum memory limit allowed is 6MB"},
      {{"--memory-swap", "1g"},
       "invalid argument \"1g\" for \"--memory-swap\" flag: You should always set the Memory limit when using "
       "Memoryswap limit, see usage"},
      {{"-m", "1g", "--memory-swap", "512m"},
       "invalid argument \"512m\" for \"--memory-swap\" flag: Minimum memoryswap limit should be larger than memory "
       "limit, see usage"},
      {{"-m", "64m", "--memory-reservation", "128m"},
       "invalid argument \"128m\" for \"--memory-reservation\" flag: Minimum memory limit can not be less than memory "
       "reservation limit, see usage"},
      {{"--cpus", "abc"}, "invalid argument \"abc\" for \"--cpus\" flag: failed to parse abc as a rational number"},
      {{"--cpus", "0.0000000001"}, "invalid argument \"0.0000000001\" for \"--cpus\" flag: value is too precise"},
      {{"--cpus", "0.5", "--cpu-quota", "50000"}, "Conflicting options: Nano CPUs and CPU Quota cannot both be set"},
      {{"--cpu-period", "10"},
       "invalid argument \"10\" for \"--cpu-period\" flag: CPU cfs period can not be less than 1ms (i.e. 1000) or "
       "larger than 1s (i.e. 1000000)"},
      {{"-c", "x"}, "invalid argument \"x\" for \"-c, --cpu-shares\" flag: strconv.ParseInt: parsing \"x\": invalid syntax"},
      {{"--cpuset-cpus", "0-a"}, "invalid argument \"0-a\" for \"--cpuset-cpus\" flag: Invalid value 0-a for cpuset cpus"},
      {{"--blkio-weight", "5"}, "invalid argument \"5\" for \"--blkio-weight\" flag: Range of blkio weight is from 10 to 1000"},
      {{"--oom-score-adj", "2000"},
       "invalid argument \"2000\" for \"--oom-score-adj\" flag: Invalid value 2000, range for oom score adj is [-1000, 1000]"},
      {{"-p", "99999"}, "invalid argument \"99999\" for \"-p, --publish\" flag: invalid containerPort: 99999"},
      {{"-p", "70000:80"}, "invalid argument \"70000:80\" for \"-p, --publish\" flag: invalid hostPort: 70000"},
      {{"-p", "80/xyz"}, "invalid argument \"80/xyz\" for \"-p, --publish\" flag: invalid proto: xyz"},
      {{"-p", "1.2.3:80:80"}, "invalid argument \"1.2.3:80:80\" for \"-p, --publish\" flag: invalid IP address: 1.2.3"},
      {{"--restart", "sometimes"},
       "invalid argument \"sometimes\" for \"--restart\" flag: invalid restart policy: unknown policy 'sometimes'; use "
       "one of 'no', 'always', 'on-failure', or 'unless-stopped'"},
      {{"--restart", "always:3"},
       "invalid argument \"always:3\" for \"--restart\" flag: invalid restart policy: maximum retry count can only be "
       "used with 'on-failure'"},
      {{"--restart", "on-failure:x"},
       "invalid argument \"on-failure:x\" for \"--restart\" flag: invalid restart policy format: maximum retry count "
       "must be an integer"},
      {{"--restart", "always", "--rm"}, "Conflicting options: --restart and --rm"},
      {{"--ulimit", "nofile"}, "invalid argument \"nofile\" for \"--ulimit\" flag: invalid ulimit argument: nofile"},
      {{"--ulimit", "bogus=1"}, "invalid argument \"bogus=1\" for \"--ulimit\" flag: invalid ulimit type: bogus"},
      {{"--ulimit", "nofile=20:10"},
       "invalid argument \"nofile=20:10\" for \"--ulimit\" flag: ulimit soft limit must be less than or equal to hard "
       "limit: 20 > 10"},
      {{"--sysctl", "kernel.hostname=x"},
       "invalid argument \"kernel.hostname=x\" for \"--sysctl\" flag: sysctl 'kernel.hostname=x' is not allowed"},
      {{"--device", "/dev/fuse:/dev/fuse:rwx"},
       "invalid argument \"/dev/fuse:/dev/fuse:rwx\" for \"--device\" flag: bad mode specified: rwx"},
      {{"--device", "fuse"}, "invalid argument \"fuse\" for \"--device\" flag: fuse is not an absolute path"},
      {{"--device-read-bps", "/dev/sda:x"},
       "invalid argument \"/dev/sda:x\" for \"--device-read-bps\" flag: invalid rate for device: /dev/sda:x. The correct "
       "format is <device-path>:<number>[<unit>]. Number must be a positive integer. Unit is optional and can be kb, mb, "
       "or gb"},
      {{"--device-write-iops", "sda:10"},
       "invalid argument \"sda:10\" for \"--device-write-iops\" flag: bad format for device path: sda:10"},
      {{"--security-opt", "seccomp"}, "Invalid --security-opt: \"seccomp\""},
      {{"--security-opt", "seccomp=/nonexistent.json"}, "opening seccomp profile (/nonexistent.json) failed: "},
      {{"--cap-add", "BOGUS"}, "invalid argument \"BOGUS\" for \"--cap-add\" flag: unknown capability: \"CAP_BOGUS\""},
      {{"--name", "-bad"}, "Invalid container name (-bad), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed"},
      {{"-w", "relative"}, "the working directory 'relative' is invalid, it needs to be an absolute path"},
      {{"--pid", "other"}, "--pid: invalid PID mode"},
      {{"--ipc", "other"}, "--ipc: invalid IPC mode"},
      {{"--uts", "other"}, "--uts: invalid UTS mode"},
      {{"--userns", "0:100000"}, "invalid argument \"0:100000\" for \"--userns\" flag: invalid USER mode: use host, or a "
                                  "map CONTAINER_ID:HOST_ID:SIZE[,CONTAINER_ID:HOST_ID:SIZE]"},
      {{"--no-healthcheck", "--health-cmd", "true"}, "--no-healthcheck conflicts with --health-* options"},
      {{"--health-interval", "5x"}, "invalid argument \"5x\" for \"--health-interval\" flag: time: invalid duration \"5x\""},
      {{"--health-retries", "-1"}, "--health-retries cannot be negative"},
      {{"--stop-signal", "SIGBOGUS"}, "invalid argument \"SIGBOGUS\" for \"--stop-signal\" flag: Invalid signal: SIGBOGUS"},
      {{"--log-driver", "syslog"},
       "invalid argument \"syslog\" for \"--log-driver\" flag: log driver syslog is not supported: use json-file, "
       "k8s-file or none"},
      {{"--log-opt", "max-bogus=1"},
       "invalid argument \"max-bogus=1\" for \"--log-opt\" flag: unknown log opt 'max-bogus' for json-file log driver"},
      {{"--pull", "sometimes"}, "invalid pull option: 'sometimes': must be one of \"always\", \"missing\" or \"never\""},
      {{"-v", "data:relative"},
       "-v, --volume: invalid volume specification: 'data:relative': invalid mount config for type \"volume\": invalid "
       "mount path: 'relative' mount path must be absolute"},
      {{"-v", "/src:/dst:rx"}, "-v, --volume: invalid mode: rx"},
      {{"-v", "/dst:ro"}, "-v, --volume: invalid volume specification: '/dst:ro'"},
      {{"-v", "a:b:c:d"}, "-v, --volume: invalid volume specification: 'a:b:c:d'"},
      {{"-v", "bad$name:/x"},
       "-v, --volume: invalid volume specification: 'bad$name:/x': \"bad$name\" includes invalid characters for a local "
       "volume name, only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to pass a host directory, use "
       "absolute path"},
      {{"--mount", "type=bind,target=/x"},
       "invalid argument \"type=bind,target=/x\" for \"--mount\" flag: invalid mount config for type \"bind\": field "
       "Source must not be empty"},
      {{"--mount", "type=volume,src=v"}, "invalid argument \"type=volume,src=v\" for \"--mount\" flag: target is required"},
      {{"--mount", "type=tmpfs,dst=/x,bogus=1"},
       "invalid argument \"type=tmpfs,dst=/x,bogus=1\" for \"--mount\" flag: unexpected key 'bogus' in 'bogus=1'"},
      {{"--mount", "type=tmpfs,dst=/x,volume-nocopy"},
       "invalid argument \"type=tmpfs,dst=/x,volume-nocopy\" for \"--mount\" flag: cannot mix 'volume-*' options with "
       "mount type 'tmpfs'"},
      {{"--mount", "type=tmpfs,dst=/x,tmpfs-mode=9"},
       "invalid argument \"type=tmpfs,dst=/x,tmpfs-mode=9\" for \"--mount\" flag: invalid value for tmpfs-mode: 9"},
      {{"--mount", "type=bind,src=/a,dst=/b,ro=maybe"},
       "invalid argument \"type=bind,src=/a,dst=/b,ro=maybe\" for \"--mount\" flag: invalid value for ro: maybe"},
      {{"--tmpfs", "run"}, "invalid argument \"run\" for \"--tmpfs\" flag: invalid mount config for type \"tmpfs\": invalid "
                           "mount path: 'run' mount path must be absolute"},
  };
  for (const auto& c : cases) {
    auto args = c.args;
    args.push_back("alpine");
    auto got = fails(args);
    if (c.message.back() == ' ') EXPECT_EQ(got.rfind(c.message, 0), 0u) << got;
    else EXPECT_EQ(got, c.message) << args[0] << " " << args[1];
  }
}

TEST(EngineRunFlags, CpusRangeNamesTheHost) {
  long n = ::sysconf(_SC_NPROCESSORS_ONLN);
  EXPECT_EQ(fails({"--cpus", "-1", "alpine"}),
            "invalid argument \"-1\" for \"--cpus\" flag: range of CPUs is from 0.01 to " + std::to_string(n) +
                ".00, as there are only " + std::to_string(n) + " CPUs available");
}

TEST(EngineRunFlags, Resources) {
  auto r = ok({"-m", "64m", "--cpus", "0.5", "--cpu-shares", "512", "--pids-limit", "100", "--cpuset-cpus", "0",
               "--memory-reservation", "32m", "--shm-size", "1g", "--blkio-weight", "300", "--oom-kill-disable",
               "--oom-score-adj", "-500", "alpine"});
  EXPECT_EQ(r.host.memory, 64 << 20);
  EXPECT_EQ(r.host.memory_swap, 128 << 20);  // docker's daemon: twice the memory
  EXPECT_EQ(r.host.memory_reservation, 32 << 20);
  EXPECT_EQ(r.host.nano_cpus, 500000000);
  EXPECT_EQ(r.host.cpu_shares, 512);
  EXPECT_EQ(*r.host.pids_limit, 100);
  EXPECT_EQ(r.host.cpuset_cpus, "0");
  EXPECT_EQ(r.host.shm_size, 1LL << 30);
  EXPECT_EQ(r.host.blkio_weight, 300);
  EXPECT_TRUE(*r.host.oom_kill_disable);
  EXPECT_EQ(r.host.oom_score_adj, -500);
  auto unlimited = ok({"-m", "1.5g", "--memory-swap", "-1", "alpine"});
  EXPECT_EQ(unlimited.host.memory, 1536LL << 20);
  EXPECT_EQ(unlimited.host.memory_swap, -1);
  auto plain = ok({"alpine"});
  EXPECT_EQ(plain.host.shm_size, 64 << 20);
  EXPECT_EQ(plain.host.memory_swap, 0);
  EXPECT_FALSE(plain.host.pids_limit.has_value());
}

TEST(EngineRunFlags, Volumes) {
  auto r = ok({"-v", "/host:/ctr:ro", "-v", "data:/data", "-v", "/anon", "-v", "/h2:/c2:rw,rshared", "alpine"});
  EXPECT_EQ(r.host.binds, (std::vector<std::string>{"/host:/ctr:ro", "data:/data", "/h2:/c2:rw,rshared"}));
  EXPECT_EQ(r.config.volumes, std::set<std::string>{"/anon"});
  char cwd[4096];
  ASSERT_NE(::getcwd(cwd, sizeof cwd), nullptr);
  auto rel = ok({"-v", "./sub:/x", "alpine"});
  EXPECT_EQ(rel.host.binds, std::vector<std::string>{std::string(cwd) + "/sub:/x"});
}

TEST(EngineRunFlags, Mounts) {
  auto r = ok({"--mount", "type=bind,source=/a,target=/b,readonly,bind-propagation=rslave", "--mount",
               "type=volume,src=v1,dst=/v,volume-nocopy,volume-subpath=sub", "--mount",
               "type=tmpfs,destination=/t,tmpfs-size=64m,tmpfs-mode=1770", "--mount", "target=/anon", "alpine"});
  ASSERT_EQ(r.host.mounts.size(), 4u);
  const auto& b = r.host.mounts[0];
  EXPECT_EQ(b.type, "bind");
  EXPECT_EQ(b.source, "/a");
  EXPECT_EQ(b.target, "/b");
  EXPECT_TRUE(b.read_only);
  EXPECT_EQ(b.bind_options->propagation, "rslave");
  EXPECT_TRUE(r.host.mounts[1].volume_options->no_copy);
  EXPECT_EQ(r.host.mounts[1].volume_options->subpath, "sub");
  EXPECT_EQ(r.host.mounts[2].tmpfs_options->size_bytes, 64 << 20);
  EXPECT_EQ(r.host.mounts[2].tmpfs_options->mode, 01770u);
  EXPECT_EQ(r.host.mounts[3].type, "volume");  // docker's default type
  auto t = ok({"--tmpfs", "/run", "--tmpfs", "/tmp:rw,size=64m,mode=1777", "alpine"});
  EXPECT_EQ(t.host.tmpfs, (std::map<std::string, std::string>{{"/run", ""}, {"/tmp", "rw,size=64m,mode=1777"}}));
}

TEST(EngineRunFlags, Ports) {
  auto r = ok({"-p", "8080:80", "-p", "127.0.0.1:5353:53/udp", "-p", "9000", "-p", "7000-7001:7000-7001", "-p",
               "[::1]:443:443", "--expose", "3000-3001", "alpine"});
  using PB = guise::engine::PortBinding;
  auto pb = [&](const std::string& k) { return r.host.port_bindings.at(k); };
  EXPECT_EQ(pb("80/tcp")[0].host_port, "8080");
  EXPECT_EQ(pb("53/udp")[0].host_ip, "127.0.0.1");
  EXPECT_EQ(pb("53/udp")[0].host_port, "5353");
  EXPECT_EQ(pb("9000/tcp")[0].host_port, "");
  EXPECT_EQ(pb("7001/tcp")[0].host_port, "7001");
  EXPECT_EQ(pb("443/tcp")[0].host_ip, "::1");
  (void)PB{};
  EXPECT_EQ(r.config.exposed_ports, (std::set<std::string>{"80/tcp", "53/udp", "9000/tcp", "7000/tcp", "7001/tcp",
                                                            "443/tcp", "3000/tcp", "3001/tcp"}));
}

TEST(EngineRunFlags, RestartPolicies) {
  struct Case {
    std::string text, name;
    int count;
  };
  for (const auto& c : std::vector<Case>{{"no", "no", 0}, {"always", "always", 0}, {"unless-stopped", "unless-stopped", 0},
                                         {"on-failure", "on-failure", 0}, {"on-failure:3", "on-failure", 3}}) {
    auto r = ok({"--restart", c.text, "alpine"});
    EXPECT_EQ(r.host.restart_policy.name, c.name) << c.text;
    EXPECT_EQ(r.host.restart_policy.maximum_retry_count, c.count) << c.text;
  }
  EXPECT_TRUE(ok({"--restart", "no", "--rm", "alpine"}).host.auto_remove);
}

TEST(EngineRunFlags, UlimitsSysctlsDevices) {
  auto r = ok({"--ulimit", "nofile=1024:2048", "--ulimit", "nproc=10", "--ulimit", "nofile=512", "--sysctl",
               "net.ipv4.ip_forward=1", "--sysctl", "kernel.shmmax=1000", "--device", "/dev/fuse", "--device",
               "/dev/sda:/dev/xvda:r", "--device", "/dev/null:rw", "--device-read-bps", "/dev/sda:1mb",
               "--device-write-iops", "/dev/sda:100", "alpine"});
  ASSERT_EQ(r.host.ulimits.size(), 2u);
  EXPECT_EQ(r.host.ulimits[0].name, "nproc");
  EXPECT_EQ(r.host.ulimits[0].soft, 10);
  EXPECT_EQ(r.host.ulimits[0].hard, 10);
  EXPECT_EQ(r.host.ulimits[1].name, "nofile");  // the last --ulimit nofile wins
  EXPECT_EQ(r.host.ulimits[1].soft, 512);
  EXPECT_EQ(r.host.sysctls.at("net.ipv4.ip_forward"), "1");
  EXPECT_EQ(r.host.sysctls.at("kernel.shmmax"), "1000");
  ASSERT_EQ(r.host.devices.size(), 3u);
  EXPECT_EQ(r.host.devices[0].path_in_container, "/dev/fuse");
  EXPECT_EQ(r.host.devices[0].cgroup_permissions, "rwm");
  EXPECT_EQ(r.host.devices[1].path_in_container, "/dev/xvda");
  EXPECT_EQ(r.host.devices[1].cgroup_permissions, "r");
  EXPECT_EQ(r.host.devices[2].path_in_container, "/dev/null");
  EXPECT_EQ(r.host.devices[2].cgroup_permissions, "rw");
  EXPECT_EQ(r.host.blkio_device_read_bps[0].rate, 1u << 20);
  EXPECT_EQ(r.host.blkio_device_write_iops[0].rate, 100u);
}

TEST(EngineRunFlags, SecurityAndModes) {
  TempFile profile("{ \"defaultAction\": \"SCMP_ACT_ALLOW\" }");
  auto r = ok({"--cap-add", "sys_admin", "--cap-drop", "ALL", "--cap-add", "CAP_NET_ADMIN", "--security-opt",
               "no-new-privileges", "--security-opt", "seccomp=" + profile.path, "--security-opt", "apparmor=unconfined",
               "--pid", "host", "--ipc", "container:db", "--uts", "host", "--userns", "0:100000:65536", "--network",
               "none", "--privileged", "--read-only", "--init", "--runtime", "crun", "--group-add", "audio", "alpine"});
  EXPECT_EQ(r.host.cap_add, (std::vector<std::string>{"sys_admin", "CAP_NET_ADMIN"}));
  EXPECT_EQ(r.host.cap_drop, std::vector<std::string>{"ALL"});
  EXPECT_EQ(r.host.security_opt, (std::vector<std::string>{"no-new-privileges", "seccomp={\"defaultAction\":\"SCMP_ACT_ALLOW\"}",
                                                           "apparmor=unconfined"}));
  EXPECT_EQ(r.host.pid_mode, "host");
  EXPECT_EQ(r.host.ipc_mode, "container:db");
  EXPECT_EQ(r.host.uts_mode, "host");
  EXPECT_EQ(r.host.userns_mode, "0:100000:65536");
  EXPECT_EQ(r.host.network_mode, "none");
  EXPECT_TRUE(r.host.privileged);
  EXPECT_TRUE(r.host.readonly_rootfs);
  EXPECT_TRUE(*r.host.init);
  EXPECT_EQ(r.host.runtime, "crun");
  EXPECT_EQ(r.host.group_add, std::vector<std::string>{"audio"});
  auto plain = ok({"alpine"});
  EXPECT_EQ(plain.host.network_mode, "bridge");
  EXPECT_EQ(plain.host.ipc_mode, "private");
  EXPECT_FALSE(plain.host.init.has_value());
}

TEST(EngineRunFlags, HealthAndLogging) {
  auto r = ok({"--health-cmd", "curl -f localhost", "--health-interval", "5s", "--health-timeout", "2s",
               "--health-retries", "4", "--health-start-period", "1m", "--log-driver", "k8s-file", "--log-opt",
               "max-size=10m", "--log-opt", "max-file=3", "--stop-signal", "SIGINT", "--stop-timeout", "20", "alpine"});
  const auto& h = *r.config.healthcheck;
  EXPECT_EQ(h.test, (std::vector<std::string>{"CMD-SHELL", "curl -f localhost"}));
  EXPECT_EQ(h.interval_ns, 5'000'000'000);
  EXPECT_EQ(h.timeout_ns, 2'000'000'000);
  EXPECT_EQ(h.start_period_ns, 60'000'000'000);
  EXPECT_EQ(h.retries, 4);
  EXPECT_EQ(r.host.log_config.type, "k8s-file");
  EXPECT_EQ(r.host.log_config.config.at("max-size"), "10m");
  EXPECT_EQ(r.config.stop_signal, "SIGINT");
  EXPECT_EQ(*r.config.stop_timeout, 20);
  auto none = ok({"--no-healthcheck", "alpine"});
  EXPECT_EQ(none.config.healthcheck->test, std::vector<std::string>{"NONE"});
}

TEST(EngineRunFlags, NameRule) {
  EXPECT_EQ(ok({"--name", "web_1.a-b", "alpine"}).name, "web_1.a-b");
  EXPECT_EQ(ok({"--name", "/web", "alpine"}).name, "web");
  fails({"--name", "a", "alpine"});  // docker's rule wants two characters
  fails({"--name", "a b", "alpine"});
}

TEST(EngineRunFlags, RequestJsonRoundTrip) {
  auto r = ok({"--name", "web", "-e", "A=1", "-p", "80:80", "-v", "/a:/b:ro", "--mount", "type=tmpfs,dst=/t,tmpfs-size=1m",
               "-m", "64m", "--pids-limit", "10", "--restart", "on-failure:2", "--cap-add", "NET_ADMIN", "--ulimit",
               "nofile=10:20", "--health-cmd", "true", "--entrypoint", "", "alpine", "sh"});
  auto j = guise::engine::to_json(r);
  auto back = guise::engine::run_request_from_json(nlohmann::json::parse(j.dump()), "record.json");
  ASSERT_TRUE(back.ok()) << back.error().message();
  EXPECT_EQ(guise::engine::to_json(back.value()).dump(), j.dump());
  // docker prints every HostConfig field, zero values too, in its order.
  auto h = guise::engine::to_json(guise::engine::HostConfig{});
  std::vector<std::string> keys;
  for (const auto& [k, v] : h.items()) keys.push_back(k);
  EXPECT_EQ(keys.front(), "Binds");
  EXPECT_EQ(keys.back(), "ReadonlyPaths");
  EXPECT_EQ(r.host.masked_paths, guise::engine::default_masked_paths());
  EXPECT_TRUE(ok({"--privileged", "alpine"}).host.masked_paths.empty());
  EXPECT_TRUE(ok({"--security-opt", "systempaths=unconfined", "alpine"}).host.readonly_paths.empty());
  EXPECT_TRUE(h["Binds"].is_null());
  EXPECT_EQ(h["Devices"], nlohmann::ordered_json::array());
  EXPECT_EQ(h["RestartPolicy"]["Name"], "no");
  EXPECT_EQ(h["LogConfig"]["Type"], "json-file");
  EXPECT_FALSE(guise::engine::run_request_from_json(nlohmann::json::parse("{\"Config\": {\"Env\": 3}}"), "r.json").ok());
}
