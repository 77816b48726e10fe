// config.json -> oci::Spec: every field of runtime-spec v1.2 lands where it should,
// unknown fields are ignored, null reads as absent, and process.json parses alone.
#include <gtest/gtest.h>

#include "oci/parse.h"

namespace guise::oci {
namespace {

// Every field spec.h carries, with values that differ from the defaults.
constexpr const char* kFullConfig = R"json({
  "ociVersion": "1.2.0",
  "process": {
    "terminal": true,
    "consoleSize": {"height": 24, "width": 80},
    "user": {"uid": 1000, "gid": 1001, "umask": 18, "additionalGids": [5, 6]},
    "args": ["/bin/sh", "-c", "echo hi"],
    "env": ["PATH=/bin", "TERM=xterm"],
    "cwd": "/home/user",
    "capabilities": {
      "bounding": ["CAP_CHOWN", "CAP_KILL"],
      "effective": ["CAP_KILL"],
      "inheritable": ["CAP_SETUID"],
      "permitted": ["CAP_CHOWN"],
      "ambient": ["CAP_NET_RAW"]
    },
    "rlimits": [
      {"type": "RLIMIT_NOFILE", "hard": 4096, "soft": 1024},
      {"type": "RLIMIT_CORE", "hard": 18446744073709551615, "soft": 0}
    ],
    "noNewPrivileges": true,
    "apparmorProfile": "guise-default",
    "oomScoreAdj": -500,
    "selinuxLabel": "system_u:system_r:container_t:s0",
    "ioPriority": {"class": "IOPRIO_CLASS_BE", "priority": 4},
    "scheduler": {"policy": "SCHED_DEADLINE", "nice": -5, "flags": ["SCHED_FLAG_RESET_ON_FORK"],
                  "runtime": 100, "deadline": 200, "period": 300}
  },
  "root": {"path": "rootfs", "readonly": true},
  "hostname": "box",
  "domainname": "example.org",
  "mounts": [
    {"destination": "/proc", "type": "proc", "source": "proc"},
    {"destination": "/data", "source": "/srv/data", "options": ["rbind", "ro", "idmap"],
     "uidMappings": [{"containerID": 0, "hostID": 100000, "size": 65536}],
     "gidMappings": [{"containerID": 0, "hostID": 200000, "size": 1000}]}
  ],
  "hooks": {
    "prestart": [{"path": "/usr/bin/pre", "args": ["pre", "a"], "env": ["X=1"], "timeout": 5}],
    "createRuntime": [{"path": "/usr/bin/cr"}],
    "createContainer": [{"path": "/usr/bin/cc"}],
    "startContainer": [{"path": "/usr/bin/sc"}],
    "poststart": [{"path": "/usr/bin/ps1"}, {"path": "/usr/bin/ps2"}],
    "poststop": [{"path": "/usr/bin/stop", "timeout": 30}]
  },
  "annotations": {"org.example.key": "value", "other": ""},
  "linux": {
    "namespaces": [
      {"type": "pid"}, {"type": "network", "path": "/var/run/netns/x"}, {"type": "mount"},
      {"type": "ipc"}, {"type": "uts"}, {"type": "user"}, {"type": "cgroup"}, {"type": "time"}
    ],
    "uidMappings": [{"containerID": 0, "hostID": 100000, "size": 65536}],
    "gidMappings": [{"containerID": 0, "hostID": 200000, "size": 65536},
                    {"containerID": 65536, "hostID": 5, "size": 1}],
    "timeOffsets": {"monotonic": {"secs": -86400, "nanosecs": 5}, "boottime": {"secs": 3600}},
    "devices": [
      {"type": "c", "path": "/dev/fuse", "major": 10, "minor": 229, "fileMode": 438, "uid": 0, "gid": 0},
      {"type": "p", "path": "/dev/fifo"}
    ],
    "cgroupsPath": "guise/abc",
    "resources": {
      "devices": [
        {"allow": false, "access": "rwm"},
        {"allow": true, "type": "c", "major": 10, "minor": 229, "access": "rw"}
      ],
      "memory": {"limit": 67108864, "reservation": 33554432, "swap": 134217728, "kernel": -1,
                 "kernelTCP": 1048576, "swappiness": 60, "disableOOMKiller": true,
                 "useHierarchy": false, "checkBeforeUpdate": true},
      "cpu": {"shares": 512, "quota": 50000, "burst": 1000, "period": 100000,
              "realtimeRuntime": 950000, "realtimePeriod": 1000000, "cpus": "0-1", "mems": "0", "idle": 1},
      "pids": {"limit": 64},
      "blockIO": {
        "weight": 500, "leafWeight": 300,
        "weightDevice": [{"major": 8, "minor": 0, "weight": 600, "leafWeight": 200}],
        "throttleReadBpsDevice": [{"major": 8, "minor": 0, "rate": 1048576}],
        "throttleWriteBpsDevice": [{"major": 8, "minor": 16, "rate": 2097152}],
        "throttleReadIOPSDevice": [{"major": 8, "minor": 0, "rate": 100}],
        "throttleWriteIOPSDevice": [{"major": 8, "minor": 32, "rate": 200}]
      },
      "hugepageLimits": [{"pageSize": "2MB", "limit": 209715200}],
      "network": {"classID": 1048577, "priorities": [{"name": "eth0", "priority": 500}]},
      "rdma": {"mlx5_1": {"hcaHandles": 3, "hcaObjects": 10000}},
      "unified": {"memory.high": "50M", "io.weight": "default 100"}
    },
    "rootfsPropagation": "rslave",
    "maskedPaths": ["/proc/kcore"],
    "readonlyPaths": ["/proc/sys", "/proc/bus"],
    "mountLabel": "system_u:object_r:container_file_t:s0",
    "sysctl": {"net.ipv4.ip_forward": "1", "kernel.msgmax": "8192"},
    "seccomp": {
      "defaultAction": "SCMP_ACT_ERRNO",
      "defaultErrnoRet": 1,
      "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"],
      "flags": ["SECCOMP_FILTER_FLAG_LOG"],
      "listenerPath": "/run/seccomp.sock",
      "listenerMetadata": "meta",
      "syscalls": [
        {"names": ["read", "write"], "action": "SCMP_ACT_ALLOW"},
        {"names": ["personality"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38,
         "args": [{"index": 0, "value": 8, "valueTwo": 0, "op": "SCMP_CMP_EQ"},
                  {"index": 1, "value": 255, "valueTwo": 4, "op": "SCMP_CMP_MASKED_EQ"}]},
        {"names": ["mount"], "action": "SCMP_ACT_NOTIFY"}
      ]
    },
    "personality": {"domain": "LINUX32", "flags": []}
  }
})json";

Spec parse_ok(std::string_view text) {
  auto r = parse_spec(text, "config.json");
  EXPECT_TRUE(r.ok()) << r.error().message();
  return r.ok() ? std::move(r).take() : Spec{};
}

TEST(OciParse, FullConfigProcess) {
  Spec s = parse_ok(kFullConfig);
  EXPECT_EQ(s.oci_version, "1.2.0");
  ASSERT_TRUE(s.process);
  const Process& p = *s.process;
  EXPECT_TRUE(p.terminal);
  ASSERT_TRUE(p.console_size);
  EXPECT_EQ(p.console_size->height, 24u);
  EXPECT_EQ(p.console_size->width, 80u);
  EXPECT_EQ(p.user.uid, 1000u);
  EXPECT_EQ(p.user.gid, 1001u);
  EXPECT_EQ(p.user.umask, 18u);
  EXPECT_EQ(p.user.additional_gids, (std::vector<uint32_t>{5, 6}));
  EXPECT_EQ(p.args, (std::vector<std::string>{"/bin/sh", "-c", "echo hi"}));
  EXPECT_EQ(p.env, (std::vector<std::string>{"PATH=/bin", "TERM=xterm"}));
  EXPECT_EQ(p.cwd, "/home/user");
  ASSERT_TRUE(p.capabilities);
  EXPECT_EQ(p.capabilities->bounding, (std::vector<std::string>{"CAP_CHOWN", "CAP_KILL"}));
  EXPECT_EQ(p.capabilities->effective, (std::vector<std::string>{"CAP_KILL"}));
  EXPECT_EQ(p.capabilities->inheritable, (std::vector<std::string>{"CAP_SETUID"}));
  EXPECT_EQ(p.capabilities->permitted, (std::vector<std::string>{"CAP_CHOWN"}));
  EXPECT_EQ(p.capabilities->ambient, (std::vector<std::string>{"CAP_NET_RAW"}));
  ASSERT_EQ(p.rlimits.size(), 2u);
  EXPECT_EQ(p.rlimits[0].type, "RLIMIT_NOFILE");
  EXPECT_EQ(p.rlimits[0].hard, 4096u);
  EXPECT_EQ(p.rlimits[0].soft, 1024u);
  EXPECT_EQ(p.rlimits[1].type, "RLIMIT_CORE");
  EXPECT_EQ(p.rlimits[1].hard, UINT64_MAX);  // RLIM_INFINITY as Go writes it
  EXPECT_TRUE(p.no_new_privileges);
  EXPECT_EQ(p.apparmor_profile, "guise-default");
  EXPECT_EQ(p.oom_score_adj, -500);
  EXPECT_EQ(p.selinux_label, "system_u:system_r:container_t:s0");
  ASSERT_TRUE(p.io_priority);
  EXPECT_EQ(p.io_priority->klass, "IOPRIO_CLASS_BE");
  EXPECT_EQ(p.io_priority->priority, 4);
  ASSERT_TRUE(p.scheduler);
  EXPECT_EQ(p.scheduler->policy, "SCHED_DEADLINE");
  EXPECT_EQ(p.scheduler->nice, -5);
  EXPECT_FALSE(p.scheduler->priority);
  EXPECT_EQ(p.scheduler->flags, (std::vector<std::string>{"SCHED_FLAG_RESET_ON_FORK"}));
  EXPECT_EQ(p.scheduler->runtime, 100u);
  EXPECT_EQ(p.scheduler->deadline, 200u);
  EXPECT_EQ(p.scheduler->period, 300u);
}

TEST(OciParse, FullConfigRootMountsHooksAnnotations) {
  Spec s = parse_ok(kFullConfig);
  ASSERT_TRUE(s.root);
  EXPECT_EQ(s.root->path, "rootfs");
  EXPECT_TRUE(s.root->readonly);
  EXPECT_EQ(s.hostname, "box");
  EXPECT_EQ(s.domainname, "example.org");

  ASSERT_EQ(s.mounts.size(), 2u);
  EXPECT_EQ(s.mounts[0].destination, "/proc");
  EXPECT_EQ(s.mounts[0].type, "proc");
  EXPECT_EQ(s.mounts[0].source, "proc");
  EXPECT_TRUE(s.mounts[0].options.empty());
  const Mount& data = s.mounts[1];
  EXPECT_EQ(data.destination, "/data");
  EXPECT_EQ(data.type, "");
  EXPECT_EQ(data.source, "/srv/data");
  EXPECT_EQ(data.options, (std::vector<std::string>{"rbind", "ro", "idmap"}));
  ASSERT_EQ(data.uid_mappings.size(), 1u);
  EXPECT_EQ(data.uid_mappings[0].container_id, 0u);
  EXPECT_EQ(data.uid_mappings[0].host_id, 100000u);
  EXPECT_EQ(data.uid_mappings[0].size, 65536u);
  ASSERT_EQ(data.gid_mappings.size(), 1u);
  EXPECT_EQ(data.gid_mappings[0].host_id, 200000u);
  EXPECT_EQ(data.gid_mappings[0].size, 1000u);

  ASSERT_TRUE(s.hooks);
  const Hooks& h = *s.hooks;
  ASSERT_EQ(h.prestart.size(), 1u);
  EXPECT_EQ(h.prestart[0].path, "/usr/bin/pre");
  EXPECT_EQ(h.prestart[0].args, (std::vector<std::string>{"pre", "a"}));
  EXPECT_EQ(h.prestart[0].env, (std::vector<std::string>{"X=1"}));
  EXPECT_EQ(h.prestart[0].timeout, 5);
  ASSERT_EQ(h.create_runtime.size(), 1u);
  EXPECT_EQ(h.create_runtime[0].path, "/usr/bin/cr");
  EXPECT_FALSE(h.create_runtime[0].timeout);
  ASSERT_EQ(h.create_container.size(), 1u);
  EXPECT_EQ(h.create_container[0].path, "/usr/bin/cc");
  ASSERT_EQ(h.start_container.size(), 1u);
  EXPECT_EQ(h.start_container[0].path, "/usr/bin/sc");
  ASSERT_EQ(h.poststart.size(), 2u);
  EXPECT_EQ(h.poststart[1].path, "/usr/bin/ps2");
  ASSERT_EQ(h.poststop.size(), 1u);
  EXPECT_EQ(h.poststop[0].timeout, 30);

  EXPECT_EQ(s.annotations, (std::map<std::string, std::string>{{"org.example.key", "value"}, {"other", ""}}));
}

TEST(OciParse, FullConfigLinux) {
  Spec s = parse_ok(kFullConfig);
  ASSERT_TRUE(s.linux);
  const Linux& l = *s.linux;
  ASSERT_EQ(l.namespaces.size(), 8u);
  const NamespaceType order[] = {NamespaceType::kPid, NamespaceType::kNetwork, NamespaceType::kMount,
                                 NamespaceType::kIpc, NamespaceType::kUts,     NamespaceType::kUser,
                                 NamespaceType::kCgroup, NamespaceType::kTime};
  for (size_t i = 0; i < 8; ++i) EXPECT_EQ(l.namespaces[i].type, order[i]) << i;
  EXPECT_EQ(l.namespaces[1].path, "/var/run/netns/x");
  EXPECT_EQ(l.namespaces[0].path, "");
  ASSERT_NE(s.find_namespace(NamespaceType::kNetwork), nullptr);
  EXPECT_EQ(s.find_namespace(NamespaceType::kNetwork)->path, "/var/run/netns/x");

  ASSERT_EQ(l.uid_mappings.size(), 1u);
  EXPECT_EQ(l.uid_mappings[0].host_id, 100000u);
  ASSERT_EQ(l.gid_mappings.size(), 2u);
  EXPECT_EQ(l.gid_mappings[1].container_id, 65536u);
  EXPECT_EQ(l.gid_mappings[1].host_id, 5u);
  EXPECT_EQ(l.gid_mappings[1].size, 1u);

  ASSERT_EQ(l.time_offsets.size(), 2u);
  EXPECT_EQ(l.time_offsets.at("monotonic").secs, -86400);
  EXPECT_EQ(l.time_offsets.at("monotonic").nanosecs, 5u);
  EXPECT_EQ(l.time_offsets.at("boottime").secs, 3600);
  EXPECT_EQ(l.time_offsets.at("boottime").nanosecs, 0u);

  ASSERT_EQ(l.devices.size(), 2u);
  EXPECT_EQ(l.devices[0].type, "c");
  EXPECT_EQ(l.devices[0].path, "/dev/fuse");
  EXPECT_EQ(l.devices[0].major, 10);
  EXPECT_EQ(l.devices[0].minor, 229);
  EXPECT_EQ(l.devices[0].file_mode, 0666u);
  EXPECT_EQ(l.devices[0].uid, 0u);
  EXPECT_EQ(l.devices[0].gid, 0u);
  EXPECT_EQ(l.devices[1].type, "p");
  EXPECT_FALSE(l.devices[1].file_mode);

  EXPECT_EQ(l.cgroups_path, "guise/abc");
  EXPECT_EQ(l.rootfs_propagation, "rslave");
  EXPECT_EQ(l.masked_paths, (std::vector<std::string>{"/proc/kcore"}));
  EXPECT_EQ(l.readonly_paths, (std::vector<std::string>{"/proc/sys", "/proc/bus"}));
  EXPECT_EQ(l.mount_label, "system_u:object_r:container_file_t:s0");
  EXPECT_EQ(l.sysctl, (std::map<std::string, std::string>{{"net.ipv4.ip_forward", "1"}, {"kernel.msgmax", "8192"}}));

  ASSERT_TRUE(l.personality);
  EXPECT_EQ(l.personality->domain, "LINUX32");
  EXPECT_TRUE(l.personality->flags.empty());
}

TEST(OciParse, FullConfigResources) {
  Spec s = parse_ok(kFullConfig);
  ASSERT_TRUE(s.linux && s.linux->resources);
  const Resources& r = *s.linux->resources;

  ASSERT_EQ(r.devices.size(), 2u);
  EXPECT_FALSE(r.devices[0].allow);
  EXPECT_EQ(r.devices[0].type, "");
  EXPECT_FALSE(r.devices[0].major);
  EXPECT_FALSE(r.devices[0].minor);
  EXPECT_EQ(r.devices[0].access, "rwm");
  EXPECT_TRUE(r.devices[1].allow);
  EXPECT_EQ(r.devices[1].type, "c");
  EXPECT_EQ(r.devices[1].major, 10);
  EXPECT_EQ(r.devices[1].minor, 229);
  EXPECT_EQ(r.devices[1].access, "rw");

  ASSERT_TRUE(r.memory);
  EXPECT_EQ(r.memory->limit, 67108864);
  EXPECT_EQ(r.memory->reservation, 33554432);
  EXPECT_EQ(r.memory->swap, 134217728);
  EXPECT_EQ(r.memory->kernel, -1);
  EXPECT_EQ(r.memory->kernel_tcp, 1048576);
  EXPECT_EQ(r.memory->swappiness, 60u);
  EXPECT_EQ(r.memory->disable_oom_killer, true);
  EXPECT_EQ(r.memory->use_hierarchy, false);
  EXPECT_EQ(r.memory->check_before_update, true);

  ASSERT_TRUE(r.cpu);
  EXPECT_EQ(r.cpu->shares, 512u);
  EXPECT_EQ(r.cpu->quota, 50000);
  EXPECT_EQ(r.cpu->burst, 1000u);
  EXPECT_EQ(r.cpu->period, 100000u);
  EXPECT_EQ(r.cpu->realtime_runtime, 950000);
  EXPECT_EQ(r.cpu->realtime_period, 1000000u);
  EXPECT_EQ(r.cpu->cpus, "0-1");
  EXPECT_EQ(r.cpu->mems, "0");
  EXPECT_EQ(r.cpu->idle, 1);

  EXPECT_EQ(r.pids_limit, 64);

  ASSERT_TRUE(r.block_io);
  const BlockIoResources& b = *r.block_io;
  EXPECT_EQ(b.weight, 500);
  EXPECT_EQ(b.leaf_weight, 300);
  ASSERT_EQ(b.weight_device.size(), 1u);
  EXPECT_EQ(b.weight_device[0].major, 8);
  EXPECT_EQ(b.weight_device[0].minor, 0);
  EXPECT_EQ(b.weight_device[0].weight, 600);
  EXPECT_EQ(b.weight_device[0].leaf_weight, 200);
  ASSERT_EQ(b.throttle_read_bps_device.size(), 1u);
  EXPECT_EQ(b.throttle_read_bps_device[0].rate, 1048576u);
  ASSERT_EQ(b.throttle_write_bps_device.size(), 1u);
  EXPECT_EQ(b.throttle_write_bps_device[0].minor, 16);
  EXPECT_EQ(b.throttle_write_bps_device[0].rate, 2097152u);
  ASSERT_EQ(b.throttle_read_iops_device.size(), 1u);
  EXPECT_EQ(b.throttle_read_iops_device[0].rate, 100u);
  ASSERT_EQ(b.throttle_write_iops_device.size(), 1u);
  EXPECT_EQ(b.throttle_write_iops_device[0].minor, 32);
  EXPECT_EQ(b.throttle_write_iops_device[0].rate, 200u);

  ASSERT_EQ(r.hugepage_limits.size(), 1u);
  EXPECT_EQ(r.hugepage_limits[0].page_size, "2MB");
  EXPECT_EQ(r.hugepage_limits[0].limit, 209715200u);

  ASSERT_TRUE(r.network);
  EXPECT_EQ(r.network->class_id, 1048577u);
  ASSERT_EQ(r.network->priorities.size(), 1u);
  EXPECT_EQ(r.network->priorities[0].first, "eth0");
  EXPECT_EQ(r.network->priorities[0].second, 500u);

  ASSERT_EQ(r.rdma.size(), 1u);
  EXPECT_EQ(r.rdma.at("mlx5_1").hca_handles, 3u);
  EXPECT_EQ(r.rdma.at("mlx5_1").hca_objects, 10000u);

  EXPECT_EQ(r.unified, (std::map<std::string, std::string>{{"memory.high", "50M"}, {"io.weight", "default 100"}}));
}

TEST(OciParse, FullConfigSeccomp) {
  Spec s = parse_ok(kFullConfig);
  ASSERT_TRUE(s.linux && s.linux->seccomp);
  const Seccomp& sc = *s.linux->seccomp;
  EXPECT_EQ(sc.default_action, "SCMP_ACT_ERRNO");
  EXPECT_EQ(sc.default_errno_ret, 1u);
  EXPECT_EQ(sc.architectures, (std::vector<std::string>{"SCMP_ARCH_X86_64", "SCMP_ARCH_X86"}));
  EXPECT_EQ(sc.flags, (std::vector<std::string>{"SECCOMP_FILTER_FLAG_LOG"}));
  EXPECT_EQ(sc.listener_path, "/run/seccomp.sock");
  EXPECT_EQ(sc.listener_metadata, "meta");
  ASSERT_EQ(sc.syscalls.size(), 3u);
  EXPECT_EQ(sc.syscalls[0].names, (std::vector<std::string>{"read", "write"}));
  EXPECT_EQ(sc.syscalls[0].action, "SCMP_ACT_ALLOW");
  EXPECT_FALSE(sc.syscalls[0].errno_ret);
  EXPECT_TRUE(sc.syscalls[0].args.empty());
  EXPECT_EQ(sc.syscalls[1].errno_ret, 38u);
  ASSERT_EQ(sc.syscalls[1].args.size(), 2u);
  EXPECT_EQ(sc.syscalls[1].args[0].index, 0u);
  EXPECT_EQ(sc.syscalls[1].args[0].value, 8u);
  EXPECT_EQ(sc.syscalls[1].args[0].op, "SCMP_CMP_EQ");
  EXPECT_EQ(sc.syscalls[1].args[1].index, 1u);
  EXPECT_EQ(sc.syscalls[1].args[1].value, 255u);
  EXPECT_EQ(sc.syscalls[1].args[1].value_two, 4u);
  EXPECT_EQ(sc.syscalls[1].args[1].op, "SCMP_CMP_MASKED_EQ");
  EXPECT_EQ(sc.syscalls[2].action, "SCMP_ACT_NOTIFY");
}

TEST(OciParse, MinimalConfigLeavesEverythingAbsent) {
  Spec s = parse_ok(R"({"ociVersion": "1.0.0", "root": {"path": "/abs/rootfs"}})");
  EXPECT_EQ(s.oci_version, "1.0.0");
  EXPECT_FALSE(s.process);
  ASSERT_TRUE(s.root);
  EXPECT_EQ(s.root->path, "/abs/rootfs");
  EXPECT_FALSE(s.root->readonly);
  EXPECT_TRUE(s.hostname.empty());
  EXPECT_TRUE(s.mounts.empty());
  EXPECT_FALSE(s.hooks);
  EXPECT_TRUE(s.annotations.empty());
  EXPECT_FALSE(s.linux);
}

// Forward compatibility, as runc: fields from newer specs or other platforms are skipped.
TEST(OciParse, UnknownFieldsAreIgnored) {
  Spec s = parse_ok(R"({
    "ociVersion": "1.3.0", "root": {"path": "rootfs", "future": 1},
    "windows": {"layerFolders": []}, "vm": {"hypervisor": {}}, "someday": [1, 2],
    "process": {"args": ["sh"], "cwd": "/", "execCPUAffinity": {"initial": "0"}, "user": {"uid": 1, "username": "x"}},
    "linux": {"intelRdt": {"closID": "x"}, "netDevices": {"eth0": {}}, "memoryPolicy": {"mode": "MPOL_BIND"},
              "resources": {"memory": {"limit": 5, "newKnob": true}}}
  })");
  EXPECT_EQ(s.oci_version, "1.3.0");
  ASSERT_TRUE(s.process);
  EXPECT_EQ(s.process->user.uid, 1u);
  ASSERT_TRUE(s.linux && s.linux->resources && s.linux->resources->memory);
  EXPECT_EQ(s.linux->resources->memory->limit, 5);
}

// Go's encoding/json leaves a field untouched on null; so does runc, so do we.
TEST(OciParse, NullReadsAsAbsent) {
  Spec s = parse_ok(R"({
    "ociVersion": "1.0.0", "root": {"path": "rootfs", "readonly": null}, "hostname": null,
    "mounts": null, "hooks": {"prestart": null}, "annotations": null,
    "process": {"args": ["sh"], "cwd": "/", "capabilities": {"bounding": null}, "oomScoreAdj": null},
    "linux": {"namespaces": null, "resources": null, "seccomp": null}
  })");
  EXPECT_FALSE(s.root->readonly);
  EXPECT_TRUE(s.mounts.empty());
  ASSERT_TRUE(s.hooks);
  EXPECT_TRUE(s.hooks->prestart.empty());
  ASSERT_TRUE(s.process->capabilities);
  EXPECT_TRUE(s.process->capabilities->bounding.empty());
  EXPECT_FALSE(s.process->oom_score_adj);
  ASSERT_TRUE(s.linux);
  EXPECT_FALSE(s.linux->resources);
  EXPECT_FALSE(s.linux->seccomp);
}

TEST(OciParse, CapabilityNamesAreKeptAsGiven) {
  Spec s = parse_ok(R"({"ociVersion": "1", "root": {"path": "r"},
    "process": {"args": ["sh"], "cwd": "/", "capabilities": {"bounding": ["CAP_NOT_A_CAP", "cap_kill"]}}})");
  EXPECT_EQ(s.process->capabilities->bounding, (std::vector<std::string>{"CAP_NOT_A_CAP", "cap_kill"}));
}

TEST(OciParse, JoinedUserNamespaceNeedsNoMappings) {
  Spec s = parse_ok(R"({"ociVersion": "1", "root": {"path": "r"},
    "linux": {"namespaces": [{"type": "user", "path": "/proc/1/ns/user"}]}})");
  EXPECT_EQ(s.find_namespace(NamespaceType::kUser)->path, "/proc/1/ns/user");
}

TEST(OciParse, HostnameWithJoinedUtsNamespaceIsAllowedAsRuncDoes) {
  Spec s = parse_ok(R"({"ociVersion": "1", "root": {"path": "r"}, "hostname": "h",
    "linux": {"namespaces": [{"type": "uts", "path": "/proc/1/ns/uts"}]}})");
  EXPECT_EQ(s.hostname, "h");
}

TEST(OciParse, Int64ExtremesRoundTrip) {
  Spec s = parse_ok(R"({"ociVersion": "1", "root": {"path": "r"}, "linux": {"resources": {
    "memory": {"limit": -9223372036854775808, "swap": 9223372036854775807},
    "cpu": {"quota": -1}}}})");
  EXPECT_EQ(s.linux->resources->memory->limit, INT64_MIN);
  EXPECT_EQ(s.linux->resources->memory->swap, INT64_MAX);
  EXPECT_EQ(s.linux->resources->cpu->quota, -1);
}

TEST(OciParseProcess, ParsesTheProcessObjectAlone) {
  auto r = parse_process(R"({"terminal": false, "user": {"uid": 5, "gid": 6, "additionalGids": [7]},
    "args": ["/bin/echo", "hi"], "env": ["A=b"], "cwd": "/tmp", "noNewPrivileges": true,
    "rlimits": [{"type": "RLIMIT_NPROC", "hard": 10, "soft": 10}],
    "capabilities": {"effective": ["CAP_KILL"]}, "consoleSize": {"height": 1, "width": 2}})",
                         "process.json");
  ASSERT_TRUE(r.ok()) << r.error().message();
  const Process& p = r.value();
  EXPECT_EQ(p.user.uid, 5u);
  EXPECT_EQ(p.user.gid, 6u);
  EXPECT_EQ(p.user.additional_gids, (std::vector<uint32_t>{7}));
  EXPECT_EQ(p.args, (std::vector<std::string>{"/bin/echo", "hi"}));
  EXPECT_EQ(p.env, (std::vector<std::string>{"A=b"}));
  EXPECT_EQ(p.cwd, "/tmp");
  EXPECT_TRUE(p.no_new_privileges);
  ASSERT_EQ(p.rlimits.size(), 1u);
  EXPECT_EQ(p.rlimits[0].type, "RLIMIT_NPROC");
  EXPECT_EQ(p.capabilities->effective, (std::vector<std::string>{"CAP_KILL"}));
  EXPECT_EQ(p.console_size->width, 2u);
}

}  // namespace
}  // namespace guise::oci
