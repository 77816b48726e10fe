// What a user sees when config.json or process.json is wrong: one line naming
// the file, the JSON path and the bad value. Each message is checked whole.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "oci/parse.h"

namespace guise::oci {
namespace {

using nlohmann::json;

// A valid config to break one field at a time.
json base() {
  return json::parse(R"({
    "ociVersion": "1.2.0",
    "process": {"args": ["sh"], "cwd": "/", "user": {"uid": 0, "gid": 0},
                "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}]},
    "root": {"path": "rootfs"},
    "hostname": "box",
    "mounts": [
      {"destination": "/proc", "type": "proc", "source": "proc"},
      {"destination": "/dev", "type": "tmpfs", "source": "tmpfs"},
      {"destination": "/dev/pts", "type": "devpts", "source": "devpts"},
      {"destination": "/sys", "type": "sysfs", "source": "sysfs"}
    ],
    "hooks": {"createRuntime": [{"path": "/bin/hook"}], "poststop": [{"path": "/bin/hook", "timeout": 3}]},
    "linux": {
      "namespaces": [{"type": "pid"}, {"type": "mount"}, {"type": "uts"}, {"type": "ipc"}],
      "devices": [{"type": "c", "path": "/dev/fuse", "major": 10, "minor": 229}],
      "resources": {"devices": [{"allow": false, "access": "rwm"}], "pids": {"limit": 10}},
      "maskedPaths": ["/proc/kcore"],
      "sysctl": {"kernel.msgmax": "8192"},
      "seccomp": {"defaultAction": "SCMP_ACT_ALLOW",
                  "syscalls": [{"names": ["kexec_load"], "action": "SCMP_ACT_ERRNO",
                                "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_EQ"}]}]}
    }
  })");
}

std::string text_error(std::string_view text, const std::string& origin = "config.json") {
  auto r = parse_spec(text, origin);
  return r.ok() ? std::string("<parsed>") : r.error().message();
}
std::string error_of(const json& j) { return text_error(j.dump()); }

std::string process_error_of(std::string_view text) {
  auto r = parse_process(text, "process.json");
  return r.ok() ? std::string("<parsed>") : r.error().message();
}

// Sets j at pointer and returns the parse error.
std::string with(const char* pointer, json value) {
  json j = base();
  j[json::json_pointer(pointer)] = std::move(value);
  return error_of(j);
}

std::string without(const char* pointer) {
  json j = base();
  json::json_pointer p(pointer);
  j[p.parent_pointer()].erase(p.back());
  return error_of(j);
}

TEST(OciValidate, BaseConfigIsValid) { EXPECT_EQ(error_of(base()), "<parsed>"); }

TEST(OciValidate, MalformedJsonNamesLineAndColumn) {
  EXPECT_EQ(text_error("{\n  \"ociVersion\": \"1.0\",\n  x\n}"),
            "config.json: malformed JSON at line 3, column 3: syntax error while parsing object key - "
            "invalid literal; last read: '\"1.0\",<U+000A>  x'; expected string literal");
  EXPECT_EQ(text_error("", "bundle/config.json"),
            "bundle/config.json: malformed JSON at line 1, column 1: syntax error while parsing value - "
            "unexpected end of input; expected '[', '{', or a literal");
  EXPECT_EQ(text_error("{\"ociVersion\": \"1\""),
            "config.json: malformed JSON at line 1, column 19: syntax error while parsing object - "
            "unexpected end of input; expected '}'");
}

TEST(OciValidate, TopLevelMustBeAnObject) {
  EXPECT_EQ(text_error("[1, 2]"), "config.json: expected an object, got [1,2]");
  EXPECT_EQ(text_error("null"), "config.json: expected an object, got null");
}

TEST(OciValidate, OciVersion) {
  EXPECT_EQ(without("/ociVersion"), "config.json: ociVersion: is required");
  EXPECT_EQ(with("/ociVersion", ""), "config.json: ociVersion: must not be empty");
  EXPECT_EQ(with("/ociVersion", 1), "config.json: ociVersion: expected a string, got 1");
}

TEST(OciValidate, WrongTypesNameThePathAndValue) {
  EXPECT_EQ(with("/process/user/uid", "root"),
            "config.json: process.user.uid: expected an unsigned integer, got \"root\"");
  EXPECT_EQ(with("/process/user/gid", 1.5), "config.json: process.user.gid: expected an unsigned integer, got 1.5");
  EXPECT_EQ(with("/process/terminal", "yes"), "config.json: process.terminal: expected a boolean, got \"yes\"");
  EXPECT_EQ(with("/process/env", "A=b"), "config.json: process.env: expected an array, got \"A=b\"");
  EXPECT_EQ(with("/process/env", json::array({"A=b", 7})), "config.json: process.env[1]: expected a string, got 7");
  EXPECT_EQ(with("/process/args", json::array({"sh", nullptr})),
            "config.json: process.args[1]: expected a value, got null");
  EXPECT_EQ(with("/linux", json::array()), "config.json: linux: expected an object, got []");
  EXPECT_EQ(with("/linux/resources/memory/limit", "64m"),
            "config.json: linux.resources.memory.limit: expected an integer, got \"64m\"");
  EXPECT_EQ(with("/annotations", json{{"org.example.n", 1}}),
            "config.json: annotations[\"org.example.n\"]: expected a string, got 1");
  EXPECT_EQ(with("/linux/sysctl/net.ipv4.ip_forward", true),
            "config.json: linux.sysctl[\"net.ipv4.ip_forward\"]: expected a string, got true");
}

TEST(OciValidate, NumbersOutOfRangeNameTheLimits) {
  EXPECT_EQ(with("/process/user/uid", 4294967296ULL),
            "config.json: process.user.uid: must be between 0 and 4294967295, got 4294967296");
  EXPECT_EQ(with("/process/user/uid", -1), "config.json: process.user.uid: must be between 0 and 4294967295, got -1");
  EXPECT_EQ(with("/linux/resources/blockIO", json{{"weight", 70000}}),
            "config.json: linux.resources.blockIO.weight: must be between 0 and 65535, got 70000");
  EXPECT_EQ(with("/linux/resources/memory/limit", 9223372036854775808ULL),
            "config.json: linux.resources.memory.limit: must be between -9223372036854775808 and "
            "9223372036854775807, got 9223372036854775808");
  EXPECT_EQ(with("/hooks/poststop/0/timeout", 4294967296LL),
            "config.json: hooks.poststop[0].timeout: must be between -2147483648 and 2147483647, got 4294967296");
}

TEST(OciValidate, Values_in_messages_stay_on_one_line) {
  std::string e = with("/process/cwd", "a\nb");
  EXPECT_EQ(e, "config.json: process.cwd: must be an absolute path, got \"a\\nb\"");
  EXPECT_EQ(e.find('\n'), std::string::npos);
  EXPECT_EQ(with("/process/user/uid", json::array({"a-long-string-that-goes-on", "and-on-and-on", "and-on"})),
            "config.json: process.user.uid: expected an unsigned integer, got "
            "[\"a-long-string-that-goes-on\",\"and-on-and-on\",\"and-on\"]");
  EXPECT_EQ(with("/process/user/uid", json::array({"a-long-string-that-goes-on", "and-on-and-on", "and-on-and-on"})),
            "config.json: process.user.uid: expected an unsigned integer, got "
            "[\"a-long-string-that-goes-on\",\"and-on-and-on\",\"and-on-and-on...");
}

TEST(OciValidate, Process) {
  EXPECT_EQ(with("/process/args", json::array()), "config.json: process.args: must not be empty");
  EXPECT_EQ(without("/process/args"), "config.json: process.args: must not be empty");
  EXPECT_EQ(with("/process/cwd", "tmp"), "config.json: process.cwd: must be an absolute path, got \"tmp\"");
  EXPECT_EQ(without("/process/cwd"), "config.json: process.cwd: must not be empty");
  EXPECT_EQ(with("/process/oomScoreAdj", 1001), "config.json: process.oomScoreAdj: must be between -1000 and 1000, got 1001");
  EXPECT_EQ(with("/process/consoleSize", json{{"height", 1}}), "config.json: process.consoleSize.width: is required");
}

TEST(OciValidate, Rlimits) {
  EXPECT_EQ(with("/process/rlimits/0/type", "RLIMIT_FOO"),
            "config.json: process.rlimits[0].type: unknown rlimit \"RLIMIT_FOO\"");
  EXPECT_EQ(with("/process/rlimits/0/type", "nofile"), "config.json: process.rlimits[0].type: unknown rlimit \"nofile\"");
  EXPECT_EQ(with("/process/rlimits/0", json{{"type", "RLIMIT_CORE"}, {"hard", 5}, {"soft", 10}}),
            "config.json: process.rlimits[0].soft: must not exceed hard (5), got 10");
  EXPECT_EQ(with("/process/rlimits/1", json{{"type", "RLIMIT_NOFILE"}, {"hard", 5}, {"soft", 5}}),
            "config.json: process.rlimits[1].type: duplicate rlimit \"RLIMIT_NOFILE\"");
  EXPECT_EQ(with("/process/rlimits/0", json{{"type", "RLIMIT_CORE"}, {"soft", 5}}),
            "config.json: process.rlimits[0].hard: is required");
}

TEST(OciValidate, IoPriorityAndScheduler) {
  EXPECT_EQ(with("/process/ioPriority", json{{"class", "IOPRIO_CLASS_FAST"}}),
            "config.json: process.ioPriority.class: unknown I/O priority class \"IOPRIO_CLASS_FAST\" "
            "(expected IOPRIO_CLASS_RT, IOPRIO_CLASS_BE or IOPRIO_CLASS_IDLE)");
  EXPECT_EQ(with("/process/ioPriority", json{{"class", "IOPRIO_CLASS_RT"}, {"priority", 8}}),
            "config.json: process.ioPriority.priority: must be between 0 and 7, got 8");
  EXPECT_EQ(with("/process/scheduler", json{{"policy", "SCHED_FAST"}}),
            "config.json: process.scheduler.policy: unknown scheduling policy \"SCHED_FAST\"");
  EXPECT_EQ(with("/process/scheduler", json::object()), "config.json: process.scheduler.policy: is required");
  EXPECT_EQ(with("/process/scheduler", json{{"policy", "SCHED_OTHER"}, {"nice", 20}}),
            "config.json: process.scheduler.nice: must be between -20 and 19, got 20");
  EXPECT_EQ(with("/process/scheduler", json{{"policy", "SCHED_OTHER"}, {"priority", 5}}),
            "config.json: process.scheduler.priority: only SCHED_FIFO and SCHED_RR take a priority, "
            "policy is \"SCHED_OTHER\"");
  EXPECT_EQ(with("/process/scheduler", json{{"policy", "SCHED_FIFO"}, {"runtime", 5}}),
            "config.json: process.scheduler.runtime: only SCHED_DEADLINE takes a runtime, policy is \"SCHED_FIFO\"");
  EXPECT_EQ(with("/process/scheduler", json{{"policy", "SCHED_BATCH"}, {"flags", json::array({"SCHED_FLAG_FAST"})}}),
            "config.json: process.scheduler.flags[0]: unknown scheduler flag \"SCHED_FLAG_FAST\"");
}

TEST(OciValidate, Root) {
  EXPECT_EQ(without("/root"), "config.json: root: is required");
  EXPECT_EQ(without("/root/path"), "config.json: root.path: is required");
  EXPECT_EQ(with("/root/path", ""), "config.json: root.path: must not be empty");
}

TEST(OciValidate, Mounts) {
  EXPECT_EQ(with("/mounts/3/destination", "proc"),
            "config.json: mounts[3].destination: must be an absolute path, got \"proc\"");
  EXPECT_EQ(without("/mounts/0/destination"), "config.json: mounts[0].destination: is required");
  json map = json::array({{{"containerID", 0}, {"hostID", 1000}, {"size", 1}}});
  EXPECT_EQ(with("/mounts/1/uidMappings", map), "config.json: mounts[1].gidMappings: required when uidMappings is set");
  EXPECT_EQ(with("/mounts/1/gidMappings", map), "config.json: mounts[1].uidMappings: required when gidMappings is set");
  EXPECT_EQ(with("/mounts/1/uidMappings", json::array({{{"containerID", 0}, {"hostID", 1000}, {"size", 0}}})),
            "config.json: mounts[1].uidMappings[0].size: must be greater than 0, got 0");
}

TEST(OciValidate, Hooks) {
  EXPECT_EQ(with("/hooks/createRuntime/0/path", "bin/hook"),
            "config.json: hooks.createRuntime[0].path: must be an absolute path, got \"bin/hook\"");
  EXPECT_EQ(with("/hooks/prestart", json::array({json::object()})), "config.json: hooks.prestart[0].path: is required");
  EXPECT_EQ(with("/hooks/poststop/0/timeout", 0), "config.json: hooks.poststop[0].timeout: must be greater than 0, got 0");
  EXPECT_EQ(with("/hooks/startContainer", json::array({{{"path", "/x"}, {"timeout", -3}}})),
            "config.json: hooks.startContainer[0].timeout: must be greater than 0, got -3");
}

TEST(OciValidate, Namespaces) {
  EXPECT_EQ(with("/linux/namespaces/2/type", "pidd"), "config.json: linux.namespaces[2].type: unknown namespace \"pidd\"");
  EXPECT_EQ(with("/linux/namespaces/3/type", "pid"), "config.json: linux.namespaces[3].type: duplicate namespace \"pid\"");
  EXPECT_EQ(with("/linux/namespaces/0/path", "proc/1/ns/pid"),
            "config.json: linux.namespaces[0].path: must be an absolute path, got \"proc/1/ns/pid\"");
  EXPECT_EQ(without("/linux/namespaces/1/type"), "config.json: linux.namespaces[1].type: is required");
}

TEST(OciValidate, UtsNamespaceForHostnameAsRunc) {
  EXPECT_EQ(with("/linux/namespaces/2/type", "network"),
            "config.json: hostname: unable to set hostname without a private UTS namespace");
  json j = base();
  j.erase("hostname");
  j["domainname"] = "example.org";
  j["linux"]["namespaces"].erase(2);
  EXPECT_EQ(error_of(j), "config.json: domainname: unable to set domainname without a private UTS namespace");
  j.erase("linux");
  EXPECT_EQ(error_of(j), "config.json: domainname: unable to set domainname without a private UTS namespace");
}

TEST(OciValidate, UserNamespaceAndMappings) {
  json map = json::array({{{"containerID", 0}, {"hostID", 1000}, {"size", 1}}});
  EXPECT_EQ(with("/linux/uidMappings", map), "config.json: linux.uidMappings: set without a user namespace");
  EXPECT_EQ(with("/linux/gidMappings", map), "config.json: linux.gidMappings: set without a user namespace");

  json j = base();
  j["linux"]["namespaces"].push_back({{"type", "user"}});
  EXPECT_EQ(error_of(j), "config.json: linux.uidMappings: user namespaces enabled, but no uid mappings found");
  j["linux"]["uidMappings"] = map;
  EXPECT_EQ(error_of(j), "config.json: linux.gidMappings: user namespaces enabled, but no gid mappings found");
  j["linux"]["gidMappings"] = map;
  EXPECT_EQ(error_of(j), "<parsed>");
  j["linux"]["gidMappings"][0].erase("hostID");
  EXPECT_EQ(error_of(j), "config.json: linux.gidMappings[0].hostID: is required");
}

TEST(OciValidate, TimeOffsets) {
  json offset = {{"secs", 10}};
  EXPECT_EQ(with("/linux/timeOffsets", json{{"monotonic", offset}}),
            "config.json: linux.timeOffsets: set without a time namespace");
  json j = base();
  j["linux"]["namespaces"].push_back({{"type", "time"}});
  j["linux"]["timeOffsets"] = {{"realtime", offset}};
  EXPECT_EQ(error_of(j), "config.json: linux.timeOffsets.realtime: unknown clock \"realtime\" "
                         "(expected \"monotonic\" or \"boottime\")");
  j["linux"]["timeOffsets"] = {{"boottime", {{"secs", 1}, {"nanosecs", 1000000000}}}};
  EXPECT_EQ(error_of(j), "config.json: linux.timeOffsets.boottime.nanosecs: must be less than 1000000000, got 1000000000");
  j["linux"]["timeOffsets"] = {{"boottime", offset}};
  EXPECT_EQ(error_of(j), "<parsed>");
  j["linux"]["namespaces"].back()["path"] = "/proc/1/ns/time";
  EXPECT_EQ(error_of(j), "config.json: linux.timeOffsets: cannot be set when joining an existing time namespace");
}

TEST(OciValidate, Devices) {
  EXPECT_EQ(with("/linux/devices/0/type", "x"),
            "config.json: linux.devices[0].type: unknown device type \"x\" (expected c, b, u or p)");
  EXPECT_EQ(with("/linux/devices/0/path", "dev/fuse"),
            "config.json: linux.devices[0].path: must be an absolute path, got \"dev/fuse\"");
  EXPECT_EQ(without("/linux/devices/0/major"), "config.json: linux.devices[0].major: is required");
  EXPECT_EQ(with("/linux/devices/0", json{{"type", "p"}, {"path", "/dev/fifo"}}), "<parsed>");
}

TEST(OciValidate, RootfsPropagation) {
  for (const char* ok : {"", "private", "rprivate", "slave", "rslave", "shared", "rshared", "unbindable", "runbindable"})
    EXPECT_EQ(with("/linux/rootfsPropagation", ok), "<parsed>") << ok;
  EXPECT_EQ(with("/linux/rootfsPropagation", "rshare"),
            "config.json: linux.rootfsPropagation: unknown propagation \"rshare\" (expected private, rprivate, "
            "slave, rslave, shared, rshared, unbindable or runbindable)");
}

TEST(OciValidate, MaskedAndReadonlyPaths) {
  EXPECT_EQ(with("/linux/maskedPaths/0", "proc/kcore"),
            "config.json: linux.maskedPaths[0]: must be an absolute path, got \"proc/kcore\"");
  EXPECT_EQ(with("/linux/readonlyPaths", json::array({"/proc/sys", ""})),
            "config.json: linux.readonlyPaths[1]: must be an absolute path, got \"\"");
}

TEST(OciValidate, Sysctl) {
  EXPECT_EQ(with("/linux/sysctl", json{{"", "1"}}), "config.json: linux.sysctl: empty sysctl name (value \"1\")");
}

TEST(OciValidate, Resources) {
  EXPECT_EQ(with("/linux/resources/devices/0/type", "x"),
            "config.json: linux.resources.devices[0].type: unknown device type \"x\" (expected a, b or c)");
  EXPECT_EQ(with("/linux/resources/devices/0/access", "rwx"),
            "config.json: linux.resources.devices[0].access: must be a combination of r, w and m, got \"rwx\"");
  EXPECT_EQ(with("/linux/resources/pids", json::object()), "config.json: linux.resources.pids.limit: is required");
  EXPECT_EQ(with("/linux/resources/hugepageLimits", json::array({{{"limit", 1}}})),
            "config.json: linux.resources.hugepageLimits[0].pageSize: is required");
  EXPECT_EQ(with("/linux/resources/blockIO", json{{"throttleReadBpsDevice", json::array({{{"major", 8}, {"minor", 0}}})}}),
            "config.json: linux.resources.blockIO.throttleReadBpsDevice[0].rate: is required");
  EXPECT_EQ(with("/linux/resources/rdma", json{{"mlx5", 1}}),
            "config.json: linux.resources.rdma.mlx5: expected an object, got 1");
}

TEST(OciValidate, Seccomp) {
  EXPECT_EQ(with("/linux/seccomp/defaultAction", "SCMP_ACT_ALOW"),
            "config.json: linux.seccomp.defaultAction: unknown seccomp action \"SCMP_ACT_ALOW\"");
  EXPECT_EQ(without("/linux/seccomp/defaultAction"), "config.json: linux.seccomp.defaultAction: is required");
  EXPECT_EQ(with("/linux/seccomp/syscalls/0/action", "ALLOW"),
            "config.json: linux.seccomp.syscalls[0].action: unknown seccomp action \"ALLOW\"");
  EXPECT_EQ(with("/linux/seccomp/syscalls/0/names", json::array()),
            "config.json: linux.seccomp.syscalls[0].names: must not be empty");
  EXPECT_EQ(with("/linux/seccomp/syscalls/0/args/0/op", "SCMP_CMP_EQUAL"),
            "config.json: linux.seccomp.syscalls[0].args[0].op: unknown seccomp operator \"SCMP_CMP_EQUAL\"");
  EXPECT_EQ(with("/linux/seccomp/syscalls/0/args/0/index", 6),
            "config.json: linux.seccomp.syscalls[0].args[0].index: must be between 0 and 5, got 6");
  EXPECT_EQ(with("/linux/seccomp/architectures", json::array({"SCMP_ARCH_X86_64", "x86_64"})),
            "config.json: linux.seccomp.architectures[1]: unknown seccomp architecture \"x86_64\"");
  EXPECT_EQ(with("/linux/seccomp/flags", json::array({"SECCOMP_FILTER_FLAG_FAST"})),
            "config.json: linux.seccomp.flags[0]: unknown seccomp flag \"SECCOMP_FILTER_FLAG_FAST\"");
  EXPECT_EQ(with("/linux/seccomp/syscalls/0/action", "SCMP_ACT_NOTIFY"),
            "config.json: linux.seccomp.listenerPath: required when SCMP_ACT_NOTIFY is used");
}

TEST(OciValidate, Personality) {
  EXPECT_EQ(with("/linux/personality", json{{"domain", "LINUX64"}}),
            "config.json: linux.personality.domain: unknown personality domain \"LINUX64\" (expected LINUX or LINUX32)");
}

TEST(OciValidate, ProcessJsonPathsAreRelativeToTheProcess) {
  EXPECT_EQ(process_error_of(R"({"args": [], "cwd": "/"})"), "process.json: args: must not be empty");
  EXPECT_EQ(process_error_of(R"({"args": ["sh"], "cwd": "x"})"),
            "process.json: cwd: must be an absolute path, got \"x\"");
  EXPECT_EQ(process_error_of(R"({"args": ["sh"], "cwd": "/", "user": {"uid": "root"}})"),
            "process.json: user.uid: expected an unsigned integer, got \"root\"");
  EXPECT_EQ(process_error_of(R"({"args": ["sh"], "cwd": "/", "rlimits": [{"type": "RLIMIT_X", "hard": 1, "soft": 1}]})"),
            "process.json: rlimits[0].type: unknown rlimit \"RLIMIT_X\"");
  EXPECT_EQ(process_error_of("[]"), "process.json: expected an object, got []");
  EXPECT_EQ(process_error_of("{"),
            "process.json: malformed JSON at line 1, column 2: syntax error while parsing object key - "
            "unexpected end of input; expected string literal");
}

}  // namespace
}  // namespace guise::oci
