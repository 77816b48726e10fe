// RunRequest + image config -> oci::Spec, compared with what docker's daemon puts in a
// container's config.json.
#include "engine/spec_builder.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "engine/host_devices.h"
#include "oci/parse.h"
#include "oci/write.h"

namespace {

using guise::engine::RunRequest;
using guise::engine::SpecContext;
using guise::image::ImageConfig;
using guise::oci::NamespaceType;
using Strings = std::vector<std::string>;

const std::string kId = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

SpecContext context() {
  SpecContext c;
  c.id = kId;
  c.rootfs = "/var/lib/guise/rootfs/" + kId;
  c.hosts_path = "/run/guise/" + kId + "/hosts";
  c.resolv_conf_path = "/run/guise/" + kId + "/resolv.conf";
  c.hostname_path = "/run/guise/" + kId + "/hostname";
  c.init_path = "/usr/libexec/guise/guise-init";
  c.passwd = "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\napp:x:1000:1001::/home/app:/bin/sh\n";
  c.group = "root:x:0:\naudio:x:29:app\nappgrp:x:1001:\nstaff:x:50:app,other\n";
  c.host_hostname = "buildhost";
  c.nofile = std::pair<uint64_t, uint64_t>{1048576, 1048576};
  c.namespace_path = [](const std::string& name, const std::string& ns) -> guise::Result<std::string> {
    if (name != "db") return guise::sys::not_found("no such container: " + name);
    return "/proc/4242/ns/" + ns;
  };
  c.device_info = [](const std::string& path) -> guise::Result<guise::oci::Device> {
    guise::oci::Device d;
    d.path = path;
    if (path == "/dev/fuse") d.type = "c", d.major = 10, d.minor = 229;
    else if (path == "/dev/sda") d.type = "b", d.major = 8, d.minor = 0;
    else return guise::sys::not_found("no such device: " + path);
    d.file_mode = 0666;
    return d;
  };
  return c;
}

ImageConfig image(Strings entrypoint, Strings cmd, Strings env = {"PATH=/usr/bin:/bin", "LANG=C"}) {
  ImageConfig i;
  i.config.entrypoint = std::move(entrypoint);
  i.config.cmd = std::move(cmd);
  i.config.env = std::move(env);
  return i;
}

RunRequest request(std::optional<Strings> cmd = std::nullopt) {
  RunRequest r;
  r.config.image = "busybox";
  r.config.cmd = std::move(cmd);
  return r;
}

guise::oci::Spec build(const RunRequest& r, const ImageConfig& i = image({}, {"sh"}), const SpecContext& c = context()) {
  auto s = guise::engine::build_spec(r, i, c);
  EXPECT_TRUE(s.ok()) << s.error().message();
  if (!s.ok()) return {};
  // Whatever is built is a spec the runtime's own parser accepts.
  auto round = guise::oci::parse_spec(guise::oci::spec_json(s.value()));
  EXPECT_TRUE(round.ok()) << round.error().message();
  return s.value();
}

std::string error_of(const RunRequest& r, const ImageConfig& i = image({}, {"sh"}), const SpecContext& c = context()) {
  auto s = guise::engine::build_spec(r, i, c);
  EXPECT_FALSE(s.ok());
  return s.ok() ? "" : s.error().message();
}

const guise::oci::Mount* mount_at(const guise::oci::Spec& s, const std::string& dst) {
  for (const auto& m : s.mounts)
    if (m.destination == dst) return &m;
  return nullptr;
}

const guise::oci::Namespace* ns(const guise::oci::Spec& s, NamespaceType t) {
  for (const auto& n : s.linux->namespaces)
    if (n.type == t) return &n;
  return nullptr;
}

}  // namespace

// docker's documented table (Dockerfile reference, "Understand how CMD and ENTRYPOINT interact").
TEST(EngineSpecBuilder, EntrypointAndCmdAsDocker) {
  struct Case {
    Strings img_entry, img_cmd;
    std::optional<Strings> run_args;
    std::optional<Strings> run_entry;
    Strings want;
  };
  const std::vector<Case> cases = {
      {{}, {"sh"}, std::nullopt, std::nullopt, {"sh"}},
      {{}, {"sh"}, Strings{"ls", "-l"}, std::nullopt, {"ls", "-l"}},
      {{"/entry"}, {"--flag"}, std::nullopt, std::nullopt, {"/entry", "--flag"}},
      {{"/entry"}, {"--flag"}, Strings{"x"}, std::nullopt, {"/entry", "x"}},
      {{"/entry"}, {}, std::nullopt, std::nullopt, {"/entry"}},
      {{"/entry"}, {"--flag"}, std::nullopt, Strings{"/other"}, {"/other"}},  // --entrypoint drops the image's Cmd
      {{"/entry"}, {"--flag"}, Strings{"a"}, Strings{"/other"}, {"/other", "a"}},
      {{"/entry"}, {"--flag"}, Strings{"echo", "hi"}, Strings{}, {"echo", "hi"}},  // --entrypoint ""
  };
  for (const auto& c : cases) {
    auto r = request(c.run_args);
    r.config.entrypoint = c.run_entry;
    auto s = build(r, image(c.img_entry, c.img_cmd));
    EXPECT_EQ(s.process->args, c.want);
  }
  auto r = request();
  r.config.entrypoint = Strings{};
  EXPECT_EQ(error_of(r, image({"/entry"}, {"--flag"})), "no command specified: the image has none and none was given");
}

TEST(EngineSpecBuilder, MergedConfigAsDockerInspectShowsIt) {
  auto i = image({"/entry"}, {"--flag"}, {"PATH=/usr/bin", "A=image"});
  i.config.working_dir = "/app";
  i.config.user = "app";
  i.config.labels = {{"from", "image"}, {"both", "image"}};
  i.config.volumes = {"/data"};
  i.config.stop_signal = "SIGQUIT";
  i.raw = R"({"config":{"Healthcheck":{"Test":["CMD","true"],"Interval":1000000000}}})";
  auto r = request();
  r.config.env = {"A=user", "B=user"};
  r.config.labels = {{"both", "user"}};
  r.config.healthcheck = guise::engine::HealthConfig{{}, 0, 5, 0, 2};
  auto m = guise::engine::merge_image_config(r.config, i);
  EXPECT_EQ(m.env, (Strings{"A=user", "B=user", "PATH=/usr/bin"}));
  EXPECT_EQ(*m.cmd, Strings{"--flag"});
  EXPECT_EQ(*m.entrypoint, Strings{"/entry"});
  EXPECT_EQ(m.working_dir, "/app");
  EXPECT_EQ(m.user, "app");
  EXPECT_EQ(m.labels, (std::map<std::string, std::string>{{"both", "user"}, {"from", "image"}}));
  EXPECT_EQ(m.volumes, std::set<std::string>{"/data"});
  EXPECT_EQ(m.stop_signal, "SIGQUIT");
  EXPECT_EQ(m.healthcheck->test, (Strings{"CMD", "true"}));
  EXPECT_EQ(m.healthcheck->interval_ns, 1000000000);
  EXPECT_EQ(m.healthcheck->timeout_ns, 5);
  EXPECT_EQ(m.healthcheck->retries, 2);
}

TEST(EngineSpecBuilder, Environment) {
  auto r = request();
  r.config.env = {"LANG=en", "NEW=1", "GONE"};
  r.config.tty = true;
  auto s = build(r, image({}, {"sh"}, {"PATH=/opt/bin:/bin", "LANG=C", "GONE=x"}));
  EXPECT_EQ(s.process->env,
            (Strings{"PATH=/opt/bin:/bin", "HOSTNAME=0123456789ab", "TERM=xterm", "LANG=en", "NEW=1"}));
  EXPECT_TRUE(s.process->terminal);
  auto plain = build(request(), image({}, {"sh"}, {}));
  EXPECT_EQ(plain.process->env,
            (Strings{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOSTNAME=0123456789ab"}));
  EXPECT_EQ(plain.hostname, "0123456789ab");
}

TEST(EngineSpecBuilder, UserAndWorkdir) {
  auto s = build(request());
  EXPECT_EQ(s.process->user.uid, 0u);
  EXPECT_EQ(s.process->user.gid, 0u);
  EXPECT_EQ(s.process->cwd, "/");
  struct Case {
    std::string user;
    Strings group_add;
    uint32_t uid, gid;
    std::vector<uint32_t> extra;
  };
  for (const auto& c : std::vector<Case>{{"app", {}, 1000, 1001, {29, 50}},
                                         {"1000", {}, 1000, 1001, {29, 50}},
                                         {"app:audio", {}, 1000, 29, {}},
                                         {"4321", {}, 4321, 0, {}},
                                         {"4321:99", {"staff", "7"}, 4321, 99, {50, 7}},
                                         {"nobody", {}, 65534, 65534, {}}}) {
    auto r = request();
    r.config.user = c.user;
    r.host.group_add = c.group_add;
    auto u = build(r).process->user;
    EXPECT_EQ(u.uid, c.uid) << c.user;
    EXPECT_EQ(u.gid, c.gid) << c.user;
    EXPECT_EQ(u.additional_gids, c.extra) << c.user;
  }
  auto r = request();
  r.config.user = "ghost";
  EXPECT_EQ(error_of(r), "-u ghost: unable to find user ghost: no matching entries in passwd file");
  r.config.user = "app:ghosts";
  EXPECT_EQ(error_of(r), "-u app:ghosts: unable to find group ghosts: no matching entries in group file");
  auto i = image({}, {"sh"});
  i.config.working_dir = "/srv";
  i.config.user = "1000";
  auto w = build(request(), i);
  EXPECT_EQ(w.process->cwd, "/srv");
  EXPECT_EQ(w.process->user.uid, 1000u);
  auto mine = request();
  mine.config.working_dir = "/mine";
  EXPECT_EQ(build(mine, i).process->cwd, "/mine");
}

TEST(EngineSpecBuilder, Capabilities) {
  auto caps = [](Strings add, Strings drop, bool privileged = false) {
    auto r = request();
    r.host.cap_add = std::move(add);
    r.host.cap_drop = std::move(drop);
    r.host.privileged = privileged;
    return build(r).process->capabilities->bounding;
  };
  EXPECT_EQ(caps({}, {}), guise::engine::default_capabilities());
  EXPECT_EQ(caps({}, {}).size(), 14u);
  auto added = caps({"sys_admin", "CAP_NET_ADMIN"}, {"MKNOD", "cap_kill"});
  EXPECT_NE(std::find(added.begin(), added.end(), "CAP_SYS_ADMIN"), added.end());
  EXPECT_NE(std::find(added.begin(), added.end(), "CAP_NET_ADMIN"), added.end());
  EXPECT_EQ(std::find(added.begin(), added.end(), "CAP_MKNOD"), added.end());
  EXPECT_EQ(std::find(added.begin(), added.end(), "CAP_KILL"), added.end());
  EXPECT_EQ(added.size(), 14u);
  EXPECT_EQ(caps({"CHOWN"}, {"ALL"}), Strings{"CAP_CHOWN"});
  auto all_but = caps({"ALL"}, {"SYS_ADMIN"});
  EXPECT_EQ(std::find(all_but.begin(), all_but.end(), "CAP_SYS_ADMIN"), all_but.end());
  EXPECT_GT(all_but.size(), 30u);
  EXPECT_GT(caps({}, {}, true).size(), 30u);
  // A non-root user gets bounding only, as execve would leave it.
  auto r = request();
  r.config.user = "1000";
  auto c = build(r).process->capabilities;
  EXPECT_EQ(c->bounding.size(), 14u);
  EXPECT_TRUE(c->effective.empty());
  EXPECT_TRUE(c->permitted.empty());
  auto root = build(request()).process->capabilities;
  EXPECT_EQ(root->effective, root->bounding);
  EXPECT_TRUE(root->inheritable.empty());
  EXPECT_TRUE(root->ambient.empty());
  auto bad = request();
  bad.host.cap_add = {"BOGUS"};
  EXPECT_EQ(error_of(bad), "invalid --cap-add: unknown capability: \"CAP_BOGUS\"");
}

TEST(EngineSpecBuilder, DefaultsAsDocker) {
  auto c = context();
  c.default_seccomp = guise::oci::Seccomp{"SCMP_ACT_ERRNO", 1, {}, {}, {}, {}, {}};
  auto s = build(request(), image({}, {"sh"}), c);
  EXPECT_EQ(s.root->path, c.rootfs);
  EXPECT_FALSE(s.root->readonly);
  EXPECT_EQ(s.linux->masked_paths.size(), 11u);
  EXPECT_EQ(s.linux->readonly_paths,
            (Strings{"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"}));
  EXPECT_TRUE(s.linux->seccomp.has_value());
  EXPECT_FALSE(s.process->no_new_privileges);
  EXPECT_EQ(s.process->oom_score_adj, 0);
  ASSERT_EQ(s.process->rlimits.size(), 1u);
  EXPECT_EQ(s.process->rlimits[0].type, "RLIMIT_NOFILE");
  EXPECT_EQ(s.process->rlimits[0].soft, 1048576u);
  EXPECT_EQ(s.linux->cgroups_path, "/guise/" + kId);
  for (auto t : {NamespaceType::kMount, NamespaceType::kNetwork, NamespaceType::kPid, NamespaceType::kIpc,
                 NamespaceType::kUts, NamespaceType::kCgroup}) {
    ASSERT_NE(ns(s, t), nullptr) << guise::oci::namespace_type_name(t);
    EXPECT_EQ(ns(s, t)->path, "");
  }
  EXPECT_EQ(ns(s, NamespaceType::kUser), nullptr);
  Strings dsts;
  for (const auto& m : s.mounts) dsts.push_back(m.destination);
  EXPECT_EQ(dsts, (Strings{"/proc", "/dev", "/dev/pts", "/sys", "/sys/fs/cgroup", "/dev/mqueue", "/dev/shm",
                           "/etc/resolv.conf", "/etc/hostname", "/etc/hosts"}));
  EXPECT_EQ(mount_at(s, "/dev/shm")->options, (Strings{"nosuid", "noexec", "nodev", "mode=1777", "size=67108864"}));
  EXPECT_EQ(mount_at(s, "/sys")->options, (Strings{"nosuid", "noexec", "nodev", "ro"}));
  EXPECT_EQ(mount_at(s, "/etc/hosts")->options, (Strings{"rbind", "rprivate"}));
  const auto& devs = s.linux->resources->devices;
  EXPECT_FALSE(devs.front().allow);
  EXPECT_EQ(devs.front().access, "rwm");
  EXPECT_EQ(devs.size(), 8u);
}

TEST(EngineSpecBuilder, Privileged) {
  auto c = context();
  c.default_seccomp = guise::oci::Seccomp{"SCMP_ACT_ERRNO", 1, {}, {}, {}, {}, {}};
  guise::oci::Device sda;
  sda.type = "b", sda.path = "/dev/sda", sda.major = 8, sda.minor = 0;
  c.host_devices = {sda};
  auto r = request();
  r.host.privileged = true;
  auto s = build(r, image({}, {"sh"}), c);
  EXPECT_TRUE(s.linux->masked_paths.empty());
  EXPECT_TRUE(s.linux->readonly_paths.empty());
  EXPECT_FALSE(s.linux->seccomp.has_value());
  ASSERT_EQ(s.linux->resources->devices.size(), 1u);
  EXPECT_TRUE(s.linux->resources->devices[0].allow);
  EXPECT_EQ(s.linux->resources->devices[0].type, "a");
  ASSERT_EQ(s.linux->devices.size(), 1u);
  EXPECT_EQ(mount_at(s, "/sys")->options, (Strings{"nosuid", "noexec", "nodev"}));
  EXPECT_EQ(mount_at(s, "/sys/fs/cgroup")->options, (Strings{"nosuid", "noexec", "nodev"}));
}

TEST(EngineSpecBuilder, Resources) {
  auto r = request();
  auto& h = r.host;
  h.memory = 64 << 20;
  h.memory_reservation = 32 << 20;
  h.nano_cpus = 500000000;
  h.cpu_shares = 512;
  h.cpuset_cpus = "0-1";
  h.cpuset_mems = "0";
  h.pids_limit = 100;
  h.blkio_weight = 300;
  h.blkio_device_read_bps = {{"/dev/sda", 1 << 20}};
  h.blkio_device_write_iops = {{"/dev/sda", 100}};
  h.oom_kill_disable = true;
  h.oom_score_adj = 500;
  h.devices = {{"/dev/fuse", "/dev/fuse", "rwm"}};
  auto s = build(r);
  const auto& res = *s.linux->resources;
  EXPECT_EQ(*res.memory->limit, 64 << 20);
  EXPECT_EQ(*res.memory->swap, 128 << 20);  // memory + as much swap, docker's default
  EXPECT_EQ(*res.memory->reservation, 32 << 20);
  EXPECT_TRUE(*res.memory->disable_oom_killer);
  EXPECT_EQ(*res.cpu->period, 100000u);
  EXPECT_EQ(*res.cpu->quota, 50000);
  EXPECT_EQ(*res.cpu->shares, 512u);
  EXPECT_EQ(res.cpu->cpus, "0-1");
  EXPECT_EQ(res.cpu->mems, "0");
  EXPECT_EQ(*res.pids_limit, 100);
  EXPECT_EQ(*res.block_io->weight, 300);
  ASSERT_EQ(res.block_io->throttle_read_bps_device.size(), 1u);
  EXPECT_EQ(res.block_io->throttle_read_bps_device[0].major, 8);
  EXPECT_EQ(res.block_io->throttle_read_bps_device[0].rate, 1u << 20);
  EXPECT_EQ(res.block_io->throttle_write_iops_device[0].rate, 100u);
  EXPECT_EQ(*s.process->oom_score_adj, 500);
  ASSERT_EQ(s.linux->devices.size(), 1u);
  EXPECT_EQ(s.linux->devices[0].major, 10);
  EXPECT_TRUE(res.devices.back().allow);
  EXPECT_EQ(*res.devices.back().minor, 229);  // allowed after the default fuse denial
  auto swap = request();
  swap.host.memory = 64 << 20;
  swap.host.memory_swap = -1;
  EXPECT_EQ(*build(swap).linux->resources->memory->swap, -1);
  auto quota = request();
  quota.host.cpu_period = 50000;
  quota.host.cpu_quota = 25000;
  auto q = build(quota).linux->resources->cpu;
  EXPECT_EQ(*q->period, 50000u);
  EXPECT_EQ(*q->quota, 25000);
  auto none = build(request()).linux->resources;
  EXPECT_FALSE(none->memory.has_value());
  EXPECT_FALSE(none->cpu.has_value());
  EXPECT_FALSE(none->pids_limit.has_value());
  auto missing = request();
  missing.host.devices = {{"/dev/nothing", "/dev/nothing", "rwm"}};
  EXPECT_EQ(error_of(missing), "--device /dev/nothing: no such device: /dev/nothing");
}

TEST(EngineSpecBuilder, Namespaces) {
  auto r = request();
  r.host.pid_mode = "host";
  r.host.ipc_mode = "container:db";
  r.host.uts_mode = "host";
  r.host.network_mode = "host";
  r.host.userns_mode = "0:100000:65536";
  r.host.cgroupns_mode = "host";
  auto s = build(r);
  EXPECT_EQ(ns(s, NamespaceType::kPid), nullptr);
  EXPECT_EQ(ns(s, NamespaceType::kUts), nullptr);
  EXPECT_EQ(ns(s, NamespaceType::kNetwork), nullptr);
  EXPECT_EQ(ns(s, NamespaceType::kCgroup), nullptr);
  EXPECT_EQ(ns(s, NamespaceType::kIpc)->path, "/proc/4242/ns/ipc");
  ASSERT_NE(ns(s, NamespaceType::kUser), nullptr);
  EXPECT_EQ(s.linux->uid_mappings.size(), 1u);
  EXPECT_EQ(s.linux->uid_mappings[0].host_id, 100000u);
  EXPECT_EQ(s.linux->gid_mappings[0].size, 65536u);
  EXPECT_EQ(s.hostname, "");  // the host's UTS namespace: the runtime must not set one
  EXPECT_EQ(mount_at(s, "/sys")->type, "bind");  // sysfs of the host's netns cannot be mounted from a userns
  auto joined = request();
  joined.host.uts_mode = "container:db";
  auto j = build(joined);
  EXPECT_EQ(ns(j, NamespaceType::kUts)->path, "/proc/4242/ns/uts");
  EXPECT_EQ(j.hostname, "");  // the other container's name stays
  auto net = request();
  net.host.network_mode = "container:db";
  EXPECT_EQ(ns(build(net), NamespaceType::kNetwork)->path, "/proc/4242/ns/net");
  auto host_net = request();
  host_net.host.network_mode = "host";
  EXPECT_EQ(build(host_net).hostname, "buildhost");
  auto custom = request();
  custom.host.network_mode = "mynet";
  EXPECT_EQ(error_of(custom), "--network mynet: user-defined networks are not supported yet; use none, host or bridge");
  auto gone = request();
  gone.host.pid_mode = "container:web";
  EXPECT_EQ(error_of(gone), "--pid container:web: no such container: web");
  auto sysctl = request();
  sysctl.host.network_mode = "host";
  sysctl.host.sysctls = {{"net.ipv4.ip_forward", "1"}};
  EXPECT_EQ(error_of(sysctl), "--sysctl: sysctl 'net.ipv4.ip_forward' not allowed in host network namespace");
  auto named = request();
  named.config.hostname = "demo";
  named.config.domainname = "example.com";
  auto n = build(named);
  EXPECT_EQ(n.hostname, "demo");
  EXPECT_EQ(n.domainname, "example.com");
}

TEST(EngineSpecBuilder, MountsVolumesAndTmpfs) {
  auto c = context();
  c.volume_paths = {{"data", "/var/lib/guise/volumes/data/_data"}, {"v2", "/var/lib/guise/volumes/v2/_data"}};
  c.anonymous_volume_paths = {{"/cache", "/var/lib/guise/volumes/anon1/_data"}};
  auto r = request();
  r.config.volumes = {"/cache", "/covered"};
  r.host.binds = {"/host/dir:/app/dir:ro", "data:/data", "/h2:/covered:rw,rslave"};
  r.host.mounts = {{"volume", "v2", "/v2", true, std::nullopt, guise::engine::VolumeOptions{false, {}, "sub"}, std::nullopt},
                   {"tmpfs", "", "/scratch", false, std::nullopt, std::nullopt, guise::engine::TmpfsOptions{1 << 20, 01700}}};
  r.host.tmpfs = {{"/run", ""}, {"/tmp", "exec,size=64m,mode=1777"}, {"/dev/shm", "size=1g"}};
  r.host.shm_size = 1 << 30;
  auto s = build(r, image({}, {"sh"}), c);
  EXPECT_EQ(mount_at(s, "/app/dir")->options, (Strings{"rbind", "ro", "rprivate"}));
  EXPECT_EQ(mount_at(s, "/app/dir")->source, "/host/dir");
  EXPECT_EQ(mount_at(s, "/data")->source, "/var/lib/guise/volumes/data/_data");
  EXPECT_EQ(mount_at(s, "/covered")->options, (Strings{"rbind", "rslave"}));
  EXPECT_EQ(mount_at(s, "/cache")->source, "/var/lib/guise/volumes/anon1/_data");
  EXPECT_EQ(mount_at(s, "/v2")->source, "/var/lib/guise/volumes/v2/_data/sub");
  EXPECT_EQ(mount_at(s, "/v2")->options, (Strings{"rbind", "ro", "rprivate"}));
  EXPECT_EQ(mount_at(s, "/scratch")->options, (Strings{"noexec", "nosuid", "nodev", "rprivate", "size=1048576", "mode=1700"}));
  EXPECT_EQ(mount_at(s, "/run")->options, (Strings{"noexec", "nosuid", "nodev", "rprivate"}));
  EXPECT_EQ(mount_at(s, "/tmp")->options, (Strings{"nosuid", "nodev", "rprivate", "exec", "size=64m", "mode=1777"}));
  // A user mount at a default place replaces the default, once.
  EXPECT_EQ(std::count_if(s.mounts.begin(), s.mounts.end(), [](const auto& m) { return m.destination == "/dev/shm"; }), 1);
  EXPECT_EQ(mount_at(s, "/dev/shm")->type, "tmpfs");
  EXPECT_EQ(mount_at(s, "/dev/shm")->source, "tmpfs");
  EXPECT_EQ(s.linux->rootfs_propagation, "rslave");
  // User mounts follow the defaults, shallow before deep (docker sorts by depth).
  auto pos = [&](const std::string& d) {
    return std::find_if(s.mounts.begin(), s.mounts.end(), [&](const auto& m) { return m.destination == d; }) - s.mounts.begin();
  };
  EXPECT_LT(pos("/data"), pos("/app/dir"));
  EXPECT_LT(pos("/sys/fs/cgroup"), pos("/data"));
  EXPECT_EQ(guise::engine::named_volumes(r.host), (Strings{"data", "v2"}));
  EXPECT_EQ(guise::engine::anonymous_volume_targets(r.config, r.host), Strings{"/cache"});
  auto missing = request();
  missing.host.binds = {"nope:/x"};
  EXPECT_EQ(error_of(missing), "-v nope:/x: volume nope: no host directory was made for it");
  auto shm = request();
  shm.host.shm_size = 1 << 20;
  EXPECT_EQ(mount_at(build(shm), "/dev/shm")->options.back(), "size=1048576");
  auto ipc_none = request();
  ipc_none.host.ipc_mode = "none";
  EXPECT_EQ(mount_at(build(ipc_none), "/dev/shm"), nullptr);
  auto bad = request();
  bad.host.tmpfs = {{"/x", "bogus"}};
  EXPECT_EQ(error_of(bad), "--tmpfs /x: invalid tmpfs option [\"bogus\"]");
}

TEST(EngineSpecBuilder, InitReadOnlyAndSecurityOptions) {
  auto r = request(Strings{"sleep", "1"});
  r.host.init = true;
  r.host.readonly_rootfs = true;
  r.host.security_opt = {"no-new-privileges", "seccomp=unconfined", "systempaths=unconfined"};
  r.host.oom_score_adj = -10;
  r.host.ulimits = {{"nofile", 100, 200}, {"nproc", -1, -1}};
  r.config.labels = {{"com.example", "1"}};
  auto c = context();
  c.default_seccomp = guise::oci::Seccomp{"SCMP_ACT_ERRNO", 1, {}, {}, {}, {}, {}};
  auto s = build(r, image({}, {"sh"}), c);
  EXPECT_EQ(s.process->args, (Strings{"/run/guise-init", "--", "sleep", "1"}));
  auto init = mount_at(s, "/run/guise-init");
  ASSERT_NE(init, nullptr);
  EXPECT_EQ(init->source, "/usr/libexec/guise/guise-init");
  EXPECT_EQ(init->options, (Strings{"bind", "ro", "rprivate"}));
  EXPECT_TRUE(s.root->readonly);
  EXPECT_TRUE(s.process->no_new_privileges);
  EXPECT_FALSE(s.linux->seccomp.has_value());
  EXPECT_TRUE(s.linux->masked_paths.empty());
  EXPECT_EQ(*s.process->oom_score_adj, -10);
  ASSERT_EQ(s.process->rlimits.size(), 2u);
  EXPECT_EQ(s.process->rlimits[0].type, "RLIMIT_NOFILE");
  EXPECT_EQ(s.process->rlimits[0].soft, 100u);
  EXPECT_EQ(s.process->rlimits[0].hard, 200u);
  EXPECT_EQ(s.process->rlimits[1].hard, UINT64_MAX);
  EXPECT_EQ(s.annotations.at("com.example"), "1");
  auto no_init = context();
  no_init.init_path.clear();
  EXPECT_EQ(error_of(r, image({}, {"sh"}), no_init), "--init: no init binary was given to bind into the container");
  auto label = request();
  label.host.security_opt = {"label=type:svirt_t"};
  EXPECT_EQ(error_of(label), "--security-opt label=type:svirt_t: SELinux labels are not supported; only label=disable");
}

TEST(EngineSpecBuilder, SeccompProfiles) {
  // docker's format: archMap, includes by capability.
  const std::string docker_profile = R"({
    "defaultAction": "SCMP_ACT_ERRNO",
    "archMap": [{"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86"]},
                {"architecture": "SCMP_ARCH_AARCH64", "subArchitectures": ["SCMP_ARCH_ARM"]}],
    "syscalls": [
      {"names": ["read", "write"], "action": "SCMP_ACT_ALLOW", "comment": "always"},
      {"names": ["mount"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_SYS_ADMIN"]}},
      {"names": ["chroot"], "action": "SCMP_ACT_ALLOW", "excludes": {"caps": ["CAP_SYS_ADMIN"]}}
    ]})";
  auto plain = guise::engine::parse_seccomp_profile(docker_profile, "profile.json", {"CAP_CHOWN"});
  ASSERT_TRUE(plain.ok()) << plain.error().message();
  ASSERT_EQ(plain->syscalls.size(), 2u);
  EXPECT_EQ(plain->syscalls[1].names, Strings{"chroot"});
#if defined(__x86_64__)
  EXPECT_EQ(plain->architectures, (Strings{"SCMP_ARCH_X86_64", "SCMP_ARCH_X86"}));
#endif
  auto admin = guise::engine::parse_seccomp_profile(docker_profile, "profile.json", {"CAP_SYS_ADMIN"});
  ASSERT_TRUE(admin.ok());
  EXPECT_EQ(admin->syscalls[1].names, Strings{"mount"});
  EXPECT_FALSE(guise::engine::parse_seccomp_profile(R"({"defaultAction": "SCMP_ACT_BOGUS"})", "p.json").ok());

  // The repository's default profile, granted more with --cap-add as moby grants it.
  // From the repository's root (./build/unit-tests) or the build directory (ctest).
  std::ifstream in("profiles/docker-default.json");
  if (!in) in.open("../profiles/docker-default.json");
  if (!in) GTEST_SKIP() << "profiles/docker-default.json not found from here";
  std::stringstream text;
  text << in.rdbuf();
  auto profile = guise::engine::parse_seccomp_profile(text.str(), "docker-default.json");
  ASSERT_TRUE(profile.ok()) << profile.error().message();
  auto c = context();
  c.default_seccomp = profile.value();
  auto allowed = [](const guise::oci::Seccomp& p, const std::string& name) {
    for (const auto& call : p.syscalls)
      if (call.action == "SCMP_ACT_ALLOW" && call.args.empty() &&
          std::find(call.names.begin(), call.names.end(), name) != call.names.end())
        return true;
    return false;
  };
  auto def = build(request(), image({}, {"sh"}), c);
  EXPECT_FALSE(allowed(*def.linux->seccomp, "mount"));
  auto r = request();
  r.host.cap_add = {"SYS_ADMIN"};
  auto s = build(r, image({}, {"sh"}), c);
  EXPECT_TRUE(allowed(*s.linux->seccomp, "mount"));
  EXPECT_TRUE(allowed(*s.linux->seccomp, "clone3"));
  auto own = request();
  own.host.security_opt = {R"(seccomp={"defaultAction":"SCMP_ACT_LOG"})"};
  EXPECT_EQ(build(own, image({}, {"sh"}), c).linux->seccomp->default_action, "SCMP_ACT_LOG");
}

TEST(EngineSpecBuilder, HostDevices) {
  auto null = guise::engine::host_device("/dev/null");
  ASSERT_TRUE(null.ok()) << null.error().message();
  EXPECT_EQ(null->type, "c");
  EXPECT_EQ(null->major, 1);
  EXPECT_EQ(null->minor, 3);
  auto dir = guise::engine::host_device("/dev");
  ASSERT_FALSE(dir.ok());
  EXPECT_EQ(dir.error().message(),
            "error gathering device information while adding custom device \"/dev\": not a device node");
  auto all = guise::engine::host_devices();
  EXPECT_TRUE(std::any_of(all.begin(), all.end(), [](const auto& d) { return d.path == "/dev/null"; }));
  EXPECT_FALSE(std::any_of(all.begin(), all.end(), [](const auto& d) { return d.path.rfind("/dev/pts/", 0) == 0; }));
}

TEST(EngineSpecBuilder, ProcViewOnUnlessAskedOff) {
  auto r = request();
  EXPECT_EQ(build(r).annotations.at("org.guise.proc-view"), "cgroup");
  r.host.proc_view = "host";
  EXPECT_EQ(build(r).annotations.at("org.guise.proc-view"), "host");
  auto privileged = request();
  privileged.host.privileged = true;
  EXPECT_EQ(build(privileged).annotations.at("org.guise.proc-view"), "host");
  EXPECT_EQ(build(r).annotations.count("org.guise.proc-view.sysinfo"), 0u);
  auto unconfined = request();
  unconfined.host.security_opt = {"seccomp=unconfined"};
  EXPECT_EQ(build(unconfined).annotations.at("org.guise.proc-view.sysinfo"), "host");
}

TEST(EngineSpecBuilder, APodsShmIsBoundWhereTheIpcNamespaceIsTheContainersOrThePods) {
  SpecContext c = context();
  c.shm_path = "/var/lib/guise/containers/infra/shm";
  auto r = request({{"sh"}});
  auto s = build(r, image({}, {"sh"}), c);
  ASSERT_NE(mount_at(s, "/dev/shm"), nullptr);
  EXPECT_EQ(mount_at(s, "/dev/shm")->type, "bind");
  EXPECT_EQ(mount_at(s, "/dev/shm")->source, c.shm_path);
  EXPECT_EQ(mount_at(s, "/dev/shm")->options, (Strings{"rbind", "nosuid", "noexec", "nodev", "rprivate"}));
  r.host.ipc_mode = "host";  // the host's IPC namespace goes with the host's /dev/shm
  EXPECT_EQ(mount_at(build(r, image({}, {"sh"}), c), "/dev/shm")->source, "/dev/shm");
  r.host.ipc_mode = "none";
  EXPECT_EQ(mount_at(build(r, image({}, {"sh"}), c), "/dev/shm"), nullptr);
}
