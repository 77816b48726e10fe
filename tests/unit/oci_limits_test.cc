// Values a config.json may hold that the kernel, the stack or the JSON library could
// not: each is refused while parsing, in one line naming the JSON path.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "oci/parse.h"

namespace guise::oci {
namespace {

using nlohmann::json;

json base() {
  return json::parse(R"({
    "ociVersion": "1.2.0",
    "process": {"args": ["/bin/true"], "cwd": "/", "user": {"uid": 0, "gid": 0}, "env": ["PATH=/bin"],
                "capabilities": {"bounding": ["CAP_KILL"]}},
    "root": {"path": "rootfs"},
    "hostname": "box",
    "mounts": [{"destination": "/proc", "type": "proc", "source": "proc"}],
    "linux": {"namespaces": [{"type": "pid"}, {"type": "mount"}, {"type": "uts"}]}
  })");
}

std::string text_error(const std::string& text) {
  auto r = parse_spec(text, "config.json");
  return r.ok() ? std::string("<parsed>") : r.error().message();
}

std::string with(const char* pointer, json value) {
  json j = base();
  j[json::json_pointer(pointer)] = std::move(value);
  return text_error(j.dump());
}

// base() with `raw` (JSON text) in place of the string "@@".
std::string with_raw(const char* pointer, const std::string& raw) {
  json j = base();
  j[json::json_pointer(pointer)] = "@@";
  std::string text = j.dump();
  return text_error(text.replace(text.find("\"@@\""), 4, raw));
}

std::string nested(size_t depth) { return std::string(depth, '[') + std::string(depth, ']'); }

TEST(OciLimits, BaseIsValid) { EXPECT_EQ(text_error(base().dump()), "<parsed>"); }

TEST(OciLimits, NumberOutOfDoubleRangeNamesPath) {
  EXPECT_EQ(with_raw("/process/user/uid", "1e400"), "config.json: process.user.uid: number out of range, got 1e400");
  EXPECT_EQ(with_raw("/process/user/uid", "-1e400"),
            "config.json: process.user.uid: number out of range, got -1e400");
  EXPECT_EQ(with_raw("/process/user/additionalGids", "[1, 2, 1e999]"),
            "config.json: process.user.additionalGids[2]: number out of range, got 1e999");
  EXPECT_EQ(with_raw("/annotations", "{\"a.b\": [[1], 1e999]}"),
            "config.json: annotations[\"a.b\"][1]: number out of range, got 1e999");
}

TEST(OciLimits, IntegersRangeCheckedFloatsRefused) {
  EXPECT_EQ(with_raw("/process/user/uid", "4294967296"),
            "config.json: process.user.uid: must be between 0 and 4294967295, got 4294967296");
  EXPECT_EQ(with_raw("/process/user/uid", "-1"), "config.json: process.user.uid: must be between 0 and 4294967295, got -1");
  EXPECT_EQ(with_raw("/process/user/uid", "1.5"), "config.json: process.user.uid: expected an unsigned integer, got 1.5");
  EXPECT_EQ(with_raw("/process/user/uid", "1e3"),
            "config.json: process.user.uid: expected an unsigned integer, got 1000.0");
  EXPECT_EQ(with_raw("/process/user/uid", "100000000000000000000"),
            "config.json: process.user.uid: must be between 0 and 4294967295, got 1e+20");
  EXPECT_EQ(with_raw("/process/oomScoreAdj", "-100000000000000000000"),
            "config.json: process.oomScoreAdj: must be between -2147483648 and 2147483647, got -1e+20");
}

TEST(OciLimits, NestingBoundedBeforeRecursion) {
  EXPECT_EQ(with_raw("/hostname", nested(75000)), "config.json: nested deeper than 512 levels");
  EXPECT_EQ(with_raw("/annotations", "{\"x\": " + nested(100000) + "}"), "config.json: nested deeper than 512 levels");
  // Brackets inside strings are text, not nesting.
  EXPECT_EQ(with("/annotations", json{{"x", std::string(100000, '[')}}), "<parsed>");
  // 512 levels in all (the config's own object is one) are fine.
  EXPECT_EQ(with_raw("/annotations", "{\"x\": " + nested(510) + "}"),
            "config.json: annotations.x: expected a string, got [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[...");
  EXPECT_EQ(with_raw("/annotations", "{\"x\": " + nested(511) + "}"), "config.json: nested deeper than 512 levels");
  auto r = parse_resources(nested(100000), "update");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message(), "update: nested deeper than 512 levels");
  auto p = parse_process(nested(100000), "process.json");
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error().message(), "process.json: nested deeper than 512 levels");
}

TEST(OciLimits, NulInStringsRefused) {
  EXPECT_EQ(with("/process/args/0", std::string("/bin/true\0x", 11)),
            "config.json: process.args[0]: must not contain a NUL byte, got \"/bin/true\\u0000x\"");
  EXPECT_EQ(with("/root/path", std::string("rootfs\0/../..", 13)),
            "config.json: root.path: must not contain a NUL byte, got \"rootfs\\u0000/../..\"");
  EXPECT_EQ(with("/annotations", json{{std::string("k\0", 2), "v"}}),
            "config.json: annotations[\"k\\u0000\"]: a key must not contain a NUL byte");
  EXPECT_EQ(with("/annotations", json{{"k", std::string("v\0", 2)}}),
            "config.json: annotations.k: must not contain a NUL byte, got \"v\\u0000\"");
}

TEST(OciLimits, KernelLengthLimits) {
  std::string big(1 << 18, 'a');
  std::string shown = "\"" + std::string(64, 'a') + "\"...";
  EXPECT_EQ(with("/hostname", big), "config.json: hostname: is 262144 bytes, more than 64 (HOST_NAME_MAX): " + shown);
  EXPECT_EQ(with("/hostname", std::string(64, 'h')), "<parsed>");
  EXPECT_EQ(with("/hostname", std::string(65, 'h')),
            "config.json: hostname: is 65 bytes, more than 64 (HOST_NAME_MAX): \"" + std::string(64, 'h') + "\"...");
  EXPECT_EQ(with("/domainname", std::string(65, 'h')),
            "config.json: domainname: is 65 bytes, more than 64 (HOST_NAME_MAX): \"" + std::string(64, 'h') + "\"...");
  EXPECT_EQ(with("/root/path", big), "config.json: root.path: is 262144 bytes, more than 4095 (PATH_MAX): " + shown);
  EXPECT_EQ(with("/process/cwd", "/" + big),
            "config.json: process.cwd: is 262145 bytes, more than 4095 (PATH_MAX): \"/" + std::string(63, 'a') + "\"...");
  EXPECT_EQ(with("/process/args/0", "/" + std::string(4095, 'a')),
            "config.json: process.args[0]: is 4096 bytes, more than 4095 (PATH_MAX): \"/" + std::string(63, 'a') + "\"...");
  EXPECT_EQ(with("/process/args/0", "/" + std::string(4094, 'a')), "<parsed>");
  EXPECT_EQ(with("/process/args", json{"/bin/true", big}),
            "config.json: process.args[1]: is 262144 bytes, more than 131071 (MAX_ARG_STRLEN): " + shown);
  EXPECT_EQ(with("/process/env/0", big),
            "config.json: process.env[0]: is 262144 bytes, more than 131071 (MAX_ARG_STRLEN): " + shown);
  EXPECT_EQ(with("/mounts/0/destination", "/" + big),
            "config.json: mounts[0].destination: is 262145 bytes, more than 4095 (PATH_MAX): \"/" +
                std::string(63, 'a') + "\"...");
  EXPECT_EQ(with("/mounts/0/source", big),
            "config.json: mounts[0].source: is 262144 bytes, more than 4095 (PATH_MAX): " + shown);
  EXPECT_EQ(with("/process/selinuxLabel", big),
            "config.json: process.selinuxLabel: is 262144 bytes, more than 4096 (the kernel's limit on an LSM "
            "label): " + shown);
  EXPECT_EQ(with("/process/apparmorProfile", big),
            "config.json: process.apparmorProfile: is 262144 bytes, more than 4096 (the kernel's limit on an "
            "LSM label): " + shown);
  EXPECT_EQ(with("/linux/mountLabel", big),
            "config.json: linux.mountLabel: is 262144 bytes, more than 4096 (the kernel's limit on an LSM "
            "label): " + shown);
}

TEST(OciLimits, LongValuesQuotedInPart) {
  std::string big(1 << 18, 'x');
  std::string err = with("/root/path", json::object({{"p", big}}));
  EXPECT_LT(err.size(), 200u) << err.substr(0, 300);
  err = with("/linux/namespaces/0/type", big);
  EXPECT_EQ(err, "config.json: linux.namespaces[0].type: unknown namespace \"" + std::string(64, 'x') + "\"...");
}

TEST(OciLimits, IntelRdtKeptForTheRuntimeToCheck) {
  json j = base();
  j["linux"]["intelRdt"] = {{"closID", "guise"}};
  auto r = parse_spec(j.dump());
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_TRUE(r.value().linux->intel_rdt);
  j["linux"]["intelRdt"] = "yes";
  EXPECT_EQ(text_error(j.dump()), "config.json: linux.intelRdt: expected an object, got \"yes\"");
}

}  // namespace
}  // namespace guise::oci
