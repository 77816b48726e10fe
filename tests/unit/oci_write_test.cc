// oci types -> JSON: every field the parser reads is written back under its own
// name, in the runtime-spec's key order, and nothing absent appears. Each written
// document is compared with a hand-written one that lists every field, so a field
// that both the parser and the writer dropped would still be missed here.
#include <gtest/gtest.h>

#include <string>

#include <nlohmann/json.hpp>

#include "oci/parse.h"
#include "oci/write.h"

namespace guise::oci {
namespace {

// Values first, so that a failure names the field (as a JSON patch from what was
// written to what was expected); then key order, on the whole documents.
void expect_json(const std::string& written, const std::string& expected) {
  auto got = nlohmann::json::parse(written);
  auto want = nlohmann::json::parse(expected);
  EXPECT_EQ(got, want) << "patch from written to expected: " << nlohmann::json::diff(got, want).dump();
  if (got == want) {
    EXPECT_EQ(nlohmann::ordered_json::parse(written).dump(1), nlohmann::ordered_json::parse(expected).dump(1));
  }
}

Spec parse_ok(const std::string& text) {
  auto r = parse_spec(text, "config.json");
  EXPECT_TRUE(r.ok()) << r.error().message();
  return r.ok() ? std::move(r).take() : Spec{};
}

Process parse_process_ok(const std::string& text) {
  auto r = parse_process(text, "process.json");
  EXPECT_TRUE(r.ok()) << r.error().message();
  return r.ok() ? std::move(r).take() : Process{};
}

// The parser reads linux.resources only as part of a config.
Resources parse_resources_ok(const std::string& resources) {
  Spec s = parse_ok(R"({"ociVersion": "1.2.0", "root": {"path": "rootfs"}, "linux": {"resources": )" + resources +
                    "}}");
  EXPECT_TRUE(s.linux && s.linux->resources);
  return s.linux && s.linux->resources ? *s.linux->resources : Resources{};
}

// Every field of oci::Resources with a value that differs from its default, keys
// shuffled: the writer puts them back in the spec's order.
const std::string kFullResources = R"json({
  "unified": {"memory.high": "50M", "io.weight": "default 100"},
  "rdma": {"mlx5_1": {"hcaObjects": 10000, "hcaHandles": 3}, "mlx4_0": {"hcaHandles": 1}},
  "network": {"priorities": [{"priority": 500, "name": "eth0"}, {"name": "lo", "priority": 0}], "classID": 1048577},
  "hugepageLimits": [{"limit": 209715200, "pageSize": "2MB"}, {"pageSize": "1GB", "limit": 0}],
  "blockIO": {
    "throttleWriteIOPSDevice": [{"major": 8, "minor": 32, "rate": 200}],
    "throttleReadIOPSDevice": [{"major": 8, "minor": 0, "rate": 100}],
    "throttleWriteBpsDevice": [{"major": 8, "minor": 16, "rate": 2097152}],
    "throttleReadBpsDevice": [{"rate": 1048576, "minor": 0, "major": 8}],
    "weightDevice": [{"leafWeight": 200, "weight": 600, "minor": 0, "major": 8}, {"major": 8, "minor": 16}],
    "leafWeight": 300,
    "weight": 500
  },
  "pids": {"limit": 64},
  "cpu": {"idle": 1, "mems": "0", "cpus": "0-1", "realtimePeriod": 1000000, "realtimeRuntime": 950000,
          "period": 100000, "burst": 1000, "quota": -1, "shares": 512},
  "memory": {"checkBeforeUpdate": true, "useHierarchy": false, "disableOOMKiller": true, "swappiness": 60,
             "kernelTCP": 1048576, "kernel": -1, "swap": 134217728, "reservation": 33554432, "limit": 67108864},
  "devices": [
    {"access": "rwm", "allow": false},
    {"access": "rw", "minor": 229, "major": 10, "type": "c", "allow": true},
    {"allow": true, "type": "b", "major": 8, "access": "r"}
  ]
})json";

const std::string kExpectedResources = R"json({
  "devices": [
    {"allow": false, "access": "rwm"},
    {"allow": true, "type": "c", "major": 10, "minor": 229, "access": "rw"},
    {"allow": true, "type": "b", "major": 8, "access": "r"}
  ],
  "memory": {"limit": 67108864, "reservation": 33554432, "swap": 134217728, "kernel": -1, "kernelTCP": 1048576,
             "swappiness": 60, "disableOOMKiller": true, "useHierarchy": false, "checkBeforeUpdate": true},
  "cpu": {"shares": 512, "quota": -1, "burst": 1000, "period": 100000, "realtimeRuntime": 950000,
          "realtimePeriod": 1000000, "cpus": "0-1", "mems": "0", "idle": 1},
  "pids": {"limit": 64},
  "blockIO": {
    "weight": 500,
    "leafWeight": 300,
    "weightDevice": [{"major": 8, "minor": 0, "weight": 600, "leafWeight": 200}, {"major": 8, "minor": 16}],
    "throttleReadBpsDevice": [{"major": 8, "minor": 0, "rate": 1048576}],
    "throttleWriteBpsDevice": [{"major": 8, "minor": 16, "rate": 2097152}],
    "throttleReadIOPSDevice": [{"major": 8, "minor": 0, "rate": 100}],
    "throttleWriteIOPSDevice": [{"major": 8, "minor": 32, "rate": 200}]
  },
  "hugepageLimits": [{"pageSize": "2MB", "limit": 209715200}, {"pageSize": "1GB", "limit": 0}],
  "network": {"classID": 1048577, "priorities": [{"name": "eth0", "priority": 500}, {"name": "lo", "priority": 0}]},
  "rdma": {"mlx4_0": {"hcaHandles": 1}, "mlx5_1": {"hcaHandles": 3, "hcaObjects": 10000}},
  "unified": {"io.weight": "default 100", "memory.high": "50M"}
})json";

// Every field of oci::Spec (linux.resources is kFullResources), in spec.h's order,
// which is not the spec's. The scheduler is SCHED_DEADLINE, which takes no
// priority but 0; kFullProcess gives one to SCHED_FIFO.
const std::string kFullConfig = R"json({
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
    "scheduler": {"policy": "SCHED_DEADLINE", "nice": -5, "priority": 0,
                  "flags": ["SCHED_FLAG_RESET_ON_FORK", "SCHED_FLAG_RECLAIM"],
                  "runtime": 100, "deadline": 200, "period": 300}
  },
  "root": {"path": "rootfs", "readonly": true},
  "hostname": "box",
  "domainname": "example.org",
  "mounts": [
    {"destination": "/proc", "source": "proc", "type": "proc"},
    {"destination": "/data", "source": "/srv/data", "options": ["rbind", "ro", "idmap"],
     "uidMappings": [{"containerID": 0, "hostID": 100000, "size": 65536}],
     "gidMappings": [{"containerID": 0, "hostID": 200000, "size": 1000}]}
  ],
  "hooks": {
    "prestart": [{"path": "/usr/bin/pre", "args": ["pre", "a"], "env": ["X=1"], "timeout": 5}],
    "createRuntime": [{"path": "/usr/bin/cr", "args": ["cr"]}],
    "createContainer": [{"path": "/usr/bin/cc", "env": ["Y=2"]}],
    "startContainer": [{"path": "/usr/bin/sc", "timeout": 1}],
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
    "timeOffsets": {"monotonic": {"secs": -86400, "nanosecs": 5}, "boottime": {"secs": 3600, "nanosecs": 999999999}},
    "devices": [
      {"type": "c", "path": "/dev/fuse", "major": 10, "minor": 229, "fileMode": 438, "uid": 1000, "gid": 1001},
      {"type": "b", "path": "/dev/sda", "major": 8, "minor": 0}
    ],
    "cgroupsPath": "guise/abc",
    "resources": )json" + kFullResources + R"json(,
    "rootfsPropagation": "rslave",
    "maskedPaths": ["/proc/kcore", "/proc/keys"],
    "readonlyPaths": ["/proc/sys", "/proc/bus"],
    "mountLabel": "system_u:object_r:container_file_t:s0",
    "sysctl": {"net.ipv4.ip_forward": "1", "kernel.msgmax": "8192"},
    "seccomp": {
      "defaultAction": "SCMP_ACT_ERRNO",
      "defaultErrnoRet": 1,
      "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"],
      "flags": ["SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW"],
      "listenerPath": "/run/seccomp.sock",
      "listenerMetadata": "meta",
      "syscalls": [
        {"names": ["read", "write"], "action": "SCMP_ACT_ALLOW"},
        {"names": ["personality"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38,
         "args": [{"index": 0, "value": 8, "op": "SCMP_CMP_EQ"},
                  {"index": 1, "value": 255, "valueTwo": 4, "op": "SCMP_CMP_MASKED_EQ"}]},
        {"names": ["mount"], "action": "SCMP_ACT_NOTIFY"}
      ]
    },
    "personality": {"domain": "LINUX32", "flags": ["ADDR_NO_RANDOMIZE"]}
  }
})json";

// kFullConfig as the spec writes it: Go's key order (process.scheduler before
// selinuxLabel, mount type before source, linux.uidMappings first, ...), and maps
// in key order, as std::map holds them.
const std::string kExpectedConfig = R"json({
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
    "scheduler": {"policy": "SCHED_DEADLINE", "nice": -5, "priority": 0,
                  "flags": ["SCHED_FLAG_RESET_ON_FORK", "SCHED_FLAG_RECLAIM"],
                  "runtime": 100, "deadline": 200, "period": 300},
    "selinuxLabel": "system_u:system_r:container_t:s0",
    "ioPriority": {"class": "IOPRIO_CLASS_BE", "priority": 4}
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
    "createRuntime": [{"path": "/usr/bin/cr", "args": ["cr"]}],
    "createContainer": [{"path": "/usr/bin/cc", "env": ["Y=2"]}],
    "startContainer": [{"path": "/usr/bin/sc", "timeout": 1}],
    "poststart": [{"path": "/usr/bin/ps1"}, {"path": "/usr/bin/ps2"}],
    "poststop": [{"path": "/usr/bin/stop", "timeout": 30}]
  },
  "annotations": {"org.example.key": "value", "other": ""},
  "linux": {
    "uidMappings": [{"containerID": 0, "hostID": 100000, "size": 65536}],
    "gidMappings": [{"containerID": 0, "hostID": 200000, "size": 65536},
                    {"containerID": 65536, "hostID": 5, "size": 1}],
    "sysctl": {"kernel.msgmax": "8192", "net.ipv4.ip_forward": "1"},
    "resources": )json" + kExpectedResources + R"json(,
    "cgroupsPath": "guise/abc",
    "namespaces": [
      {"type": "pid"}, {"type": "network", "path": "/var/run/netns/x"}, {"type": "mount"},
      {"type": "ipc"}, {"type": "uts"}, {"type": "user"}, {"type": "cgroup"}, {"type": "time"}
    ],
    "devices": [
      {"path": "/dev/fuse", "type": "c", "major": 10, "minor": 229, "fileMode": 438, "uid": 1000, "gid": 1001},
      {"path": "/dev/sda", "type": "b", "major": 8, "minor": 0}
    ],
    "seccomp": {
      "defaultAction": "SCMP_ACT_ERRNO",
      "defaultErrnoRet": 1,
      "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"],
      "flags": ["SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW"],
      "listenerPath": "/run/seccomp.sock",
      "listenerMetadata": "meta",
      "syscalls": [
        {"names": ["read", "write"], "action": "SCMP_ACT_ALLOW"},
        {"names": ["personality"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38,
         "args": [{"index": 0, "value": 8, "op": "SCMP_CMP_EQ"},
                  {"index": 1, "value": 255, "valueTwo": 4, "op": "SCMP_CMP_MASKED_EQ"}]},
        {"names": ["mount"], "action": "SCMP_ACT_NOTIFY"}
      ]
    },
    "rootfsPropagation": "rslave",
    "maskedPaths": ["/proc/kcore", "/proc/keys"],
    "readonlyPaths": ["/proc/sys", "/proc/bus"],
    "mountLabel": "system_u:object_r:container_file_t:s0",
    "personality": {"domain": "LINUX32", "flags": ["ADDR_NO_RANDOMIZE"]},
    "timeOffsets": {"boottime": {"secs": 3600, "nanosecs": 999999999}, "monotonic": {"secs": -86400, "nanosecs": 5}}
  }
})json";

// A process.json with every field; the scheduler is one that takes a priority, and
// sets runtime, deadline and period to 0, which SCHED_FIFO allows: set, not absent.
const std::string kFullProcess = R"json({
  "ioPriority": {"priority": 7, "class": "IOPRIO_CLASS_RT"},
  "scheduler": {"period": 0, "deadline": 0, "runtime": 0, "flags": ["SCHED_FLAG_KEEP_POLICY"],
                "priority": 10, "nice": 3, "policy": "SCHED_FIFO"},
  "selinuxLabel": "unconfined_u:unconfined_r:container_t:s0",
  "oomScoreAdj": 0,
  "apparmorProfile": "unconfined",
  "noNewPrivileges": true,
  "rlimits": [{"soft": 64, "hard": 128, "type": "RLIMIT_NPROC"}],
  "capabilities": {"ambient": ["CAP_SYS_ADMIN"], "permitted": ["CAP_SYS_ADMIN", "CAP_NET_ADMIN"],
                   "inheritable": ["CAP_SYS_ADMIN"], "effective": ["CAP_NET_ADMIN"], "bounding": ["CAP_SYS_ADMIN"]},
  "cwd": "/work",
  "env": ["HOME=/root"],
  "args": ["top", "-b"],
  "user": {"additionalGids": [10], "umask": 0, "gid": 2, "uid": 3},
  "consoleSize": {"width": 132, "height": 43},
  "terminal": true
})json";

const std::string kExpectedProcess = R"json({
  "terminal": true,
  "consoleSize": {"height": 43, "width": 132},
  "user": {"uid": 3, "gid": 2, "umask": 0, "additionalGids": [10]},
  "args": ["top", "-b"],
  "env": ["HOME=/root"],
  "cwd": "/work",
  "capabilities": {"bounding": ["CAP_SYS_ADMIN"], "effective": ["CAP_NET_ADMIN"], "inheritable": ["CAP_SYS_ADMIN"],
                   "permitted": ["CAP_SYS_ADMIN", "CAP_NET_ADMIN"], "ambient": ["CAP_SYS_ADMIN"]},
  "rlimits": [{"type": "RLIMIT_NPROC", "hard": 128, "soft": 64}],
  "noNewPrivileges": true,
  "apparmorProfile": "unconfined",
  "oomScoreAdj": 0,
  "scheduler": {"policy": "SCHED_FIFO", "nice": 3, "priority": 10, "flags": ["SCHED_FLAG_KEEP_POLICY"],
                "runtime": 0, "deadline": 0, "period": 0},
  "selinuxLabel": "unconfined_u:unconfined_r:container_t:s0",
  "ioPriority": {"class": "IOPRIO_CLASS_RT", "priority": 7}
})json";

TEST(OciWrite, FullConfigWritesEveryField) {
  Spec s = parse_ok(kFullConfig);
  expect_json(spec_json(s), kExpectedConfig);
  // What the writer writes, the parser takes back whole.
  expect_json(spec_json(parse_ok(spec_json(s))), kExpectedConfig);
}

TEST(OciWrite, FullProcessWritesEveryField) {
  Process p = parse_process_ok(kFullProcess);
  expect_json(process_json(p), kExpectedProcess);
  expect_json(process_json(parse_process_ok(process_json(p))), kExpectedProcess);
}

TEST(OciWrite, FullResourcesWriteEveryField) {
  Resources r = parse_resources_ok(kFullResources);
  expect_json(resources_json(r), kExpectedResources);
  expect_json(resources_json(parse_resources_ok(resources_json(r))), kExpectedResources);
}

TEST(OciWrite, DefaultsWriteOnlyWhatIsAlwaysWritten) {
  expect_json(spec_json(Spec{}), R"({"ociVersion": ""})");
  expect_json(process_json(Process{}), R"({"user": {"uid": 0, "gid": 0}, "cwd": ""})");
  expect_json(resources_json(Resources{}), "{}");
  EXPECT_EQ(to_json(Linux{}), nlohmann::ordered_json::object());
}

TEST(OciWrite, MinimalConfigWritesNoAbsentField) {
  const char* minimal = R"({"ociVersion": "1.0.2", "root": {"path": "rootfs"}})";
  expect_json(spec_json(parse_ok(minimal)), minimal);
  expect_json(process_json(parse_process_ok(R"({"args": ["sh"], "cwd": "/"})")),
              R"({"user": {"uid": 0, "gid": 0}, "args": ["sh"], "cwd": "/"})");
}

// An object that is there but empty means something its absence does not (an empty
// capabilities object empties every set; an empty memory object still makes
// Resources::memory set), so it is written as {}.
TEST(OciWrite, EmptyObjectsStayPresent) {
  Spec s = parse_ok(R"json({
    "ociVersion": "1.2.0", "root": {"path": "rootfs"},
    "process": {"args": ["sh"], "cwd": "/", "capabilities": {}},
    "hooks": {},
    "linux": {
      "namespaces": [{"type": "time"}],
      "timeOffsets": {"monotonic": {}},
      "resources": {"memory": {}, "cpu": {}, "blockIO": {}, "network": {}, "rdma": {"mlx5_1": {}}},
      "seccomp": {"defaultAction": "SCMP_ACT_ALLOW"},
      "personality": {"domain": "LINUX"}
    }
  })json");
  expect_json(spec_json(s), R"json({
    "ociVersion": "1.2.0",
    "process": {"user": {"uid": 0, "gid": 0}, "args": ["sh"], "cwd": "/", "capabilities": {}},
    "root": {"path": "rootfs"},
    "hooks": {},
    "linux": {
      "resources": {"memory": {}, "cpu": {}, "blockIO": {}, "network": {}, "rdma": {"mlx5_1": {}}},
      "namespaces": [{"type": "time"}],
      "seccomp": {"defaultAction": "SCMP_ACT_ALLOW"},
      "personality": {"domain": "LINUX"},
      "timeOffsets": {"monotonic": {}}
    }
  })json");
  expect_json(spec_json(Spec{.oci_version = "1.2.0", .linux = Linux{}}), R"({"ociVersion": "1.2.0", "linux": {}})");
}

// What does not come back as it was written, though every value spec.h holds does:
// - null, "", [], {} and false read as absent, so they are left out;
// - an absent process.user, ioPriority.priority, fifo major/minor or device rule
//   allow reads as 0 or false, which the writer writes out, as Go does;
// - seccomp valueTwo 0 and time offset zeros are left out, as Go leaves them out;
// - map keys (annotations, sysctl, timeOffsets, rdma, unified) come back sorted;
// - what spec.h has no field for (linux.intelRdt, process.user.username,
//   process.execCPUAffinity, any unknown key) the parser drops, so it is lost.
TEST(OciWrite, InputsTheParserNormalises) {
  Spec s = parse_ok(R"json({
    "ociVersion": "1.2.0", "root": {"path": "rootfs", "readonly": false},
    "process": {"terminal": false, "consoleSize": null, "user": {"username": "ignored"}, "args": ["sh"],
                "env": [], "cwd": "/", "capabilities": {"bounding": [], "ambient": null}, "rlimits": [],
                "noNewPrivileges": false, "apparmorProfile": "", "oomScoreAdj": null,
                "ioPriority": {"class": "IOPRIO_CLASS_IDLE"}, "execCPUAffinity": {"initial": "0"}},
    "hostname": "", "domainname": null, "mounts": [{"destination": "/tmp", "type": "", "options": []}],
    "hooks": {"prestart": [], "poststop": [{"path": "/bin/true", "args": [], "timeout": null}]},
    "annotations": {},
    "linux": {
      "namespaces": [{"type": "time", "path": ""}],
      "timeOffsets": {"boottime": {"secs": 0, "nanosecs": 0}},
      "devices": [{"type": "p", "path": "/dev/fifo"}],
      "resources": {"devices": [{"access": ""}], "cpu": {"cpus": "", "mems": null},
                    "network": {"priorities": []}, "unified": {}},
      "cgroupsPath": "", "rootfsPropagation": "", "maskedPaths": [], "sysctl": {},
      "seccomp": {"defaultAction": "SCMP_ACT_ALLOW", "architectures": [], "listenerPath": "",
                  "syscalls": [{"names": ["getpid"], "action": "SCMP_ACT_ALLOW",
                                "args": [{"index": 0, "value": 1, "valueTwo": 0, "op": "SCMP_CMP_EQ"}]}]},
      "intelRdt": {"closID": "guise"},
      "personality": {"domain": "LINUX", "flags": []}
    }
  })json");
  expect_json(spec_json(s), R"json({
    "ociVersion": "1.2.0",
    "process": {"user": {"uid": 0, "gid": 0}, "args": ["sh"], "cwd": "/", "capabilities": {},
                "ioPriority": {"class": "IOPRIO_CLASS_IDLE", "priority": 0}},
    "root": {"path": "rootfs"},
    "mounts": [{"destination": "/tmp"}],
    "hooks": {"poststop": [{"path": "/bin/true"}]},
    "linux": {
      "resources": {"devices": [{"allow": false}], "cpu": {}, "network": {}},
      "namespaces": [{"type": "time"}],
      "devices": [{"path": "/dev/fifo", "type": "p", "major": 0, "minor": 0}],
      "seccomp": {"defaultAction": "SCMP_ACT_ALLOW",
                  "syscalls": [{"names": ["getpid"], "action": "SCMP_ACT_ALLOW",
                                "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_EQ"}]}]},
      "personality": {"domain": "LINUX"},
      "timeOffsets": {"boottime": {}}
    }
  })json");
}

TEST(OciWrite, InvalidUtf8IsReplacedNotThrown) {
  Process p;
  p.args = {"sh"};
  p.cwd = "/";
  p.env = {"X=\xff"};
  std::string text;
  EXPECT_NO_THROW(text = process_json(p));
  expect_json(text, R"({"user": {"uid": 0, "gid": 0}, "args": ["sh"], "env": ["X=\ufffd"], "cwd": "/"})");
}

}  // namespace
}  // namespace guise::oci
