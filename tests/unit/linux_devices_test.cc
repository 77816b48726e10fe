// The device nodes a container finds in /dev and the device cgroup rules it runs under.
#include <gtest/gtest.h>

#include <algorithm>
#include <iterator>

#include "linux/devices.h"

namespace guise::linux {
namespace {

oci::Device device(std::string type, std::string path, int64_t major, int64_t minor) {
  oci::Device d;
  d.type = std::move(type);
  d.path = std::move(path);
  d.major = major;
  d.minor = minor;
  return d;
}

std::string show(const oci::DeviceRule& r) {
  auto num = [](const std::optional<int64_t>& n) { return n ? std::to_string(*n) : std::string("*"); };
  return std::string(r.allow ? "allow " : "deny ") + (r.type.empty() ? "a" : r.type) + " " + num(r.major) + ":" +
         num(r.minor) + " " + r.access;
}

std::vector<std::string> show(const std::vector<oci::DeviceRule>& rules) {
  std::vector<std::string> out;
  for (const auto& r : rules) out.push_back(show(r));
  return out;
}

std::vector<std::string> paths(const std::vector<oci::Device>& devs) {
  std::vector<std::string> out;
  for (const auto& d : devs) out.push_back(d.path);
  return out;
}

TEST(LinuxDevices, DefaultDevices) {
  auto devs = default_devices();
  struct Want {
    const char* path;
    int64_t major, minor;
  } want[] = {{"/dev/null", 1, 3},   {"/dev/zero", 1, 5},    {"/dev/full", 1, 7},
              {"/dev/random", 1, 8}, {"/dev/urandom", 1, 9}, {"/dev/tty", 5, 0}};
  ASSERT_EQ(devs.size(), std::size(want));
  for (size_t i = 0; i < devs.size(); ++i) {
    SCOPED_TRACE(want[i].path);
    EXPECT_EQ(devs[i].path, want[i].path);
    EXPECT_EQ(devs[i].type, "c");
    EXPECT_EQ(devs[i].major, want[i].major);
    EXPECT_EQ(devs[i].minor, want[i].minor);
    EXPECT_EQ(devs[i].file_mode, 0666u);
    EXPECT_EQ(devs[i].uid, 0u);
    EXPECT_EQ(devs[i].gid, 0u);
  }
}

TEST(LinuxDevices, NoConfiguredDevicesGivesTheDefaults) {
  EXPECT_EQ(paths(plan_devices({}, false)), paths(default_devices()));
  EXPECT_TRUE(plan_devices({}, true).empty());
}

TEST(LinuxDevices, ConfiguredDevicesComeFirstThenTheDefaults) {
  auto fuse = device("c", "/dev/fuse", 10, 229);
  auto devs = plan_devices({fuse}, false);
  ASSERT_EQ(devs.size(), 7u);
  EXPECT_EQ(devs[0].path, "/dev/fuse");
  EXPECT_EQ(devs[0].major, 10);
  EXPECT_EQ(devs[0].minor, 229);
  EXPECT_EQ(devs[1].path, "/dev/null");
  EXPECT_EQ(devs[6].path, "/dev/tty");
}

TEST(LinuxDevices, ConfiguredDeviceReplacesTheDefaultAtItsPath) {
  auto null = device("c", "/dev/null", 1, 3);
  null.file_mode = 0600;
  null.uid = 1000;
  auto devs = plan_devices({null}, false);
  ASSERT_EQ(devs.size(), 6u);
  auto p = paths(devs);
  EXPECT_EQ(std::count(p.begin(), p.end(), "/dev/null"), 1);
  EXPECT_EQ(devs[0].path, "/dev/null");
  EXPECT_EQ(devs[0].file_mode, 0600u);  // the configured node, not the default
  EXPECT_EQ(devs[0].uid, 1000u);
  EXPECT_EQ(p, (std::vector<std::string>{"/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom",
                                         "/dev/tty"}));
}

TEST(LinuxDevices, ConfiguredDeviceWithOtherNumbersStillReplacesByPath) {
  auto tty = device("c", "/dev/tty", 4, 1);
  auto devs = plan_devices({tty}, false);
  ASSERT_EQ(devs.size(), 6u);
  EXPECT_EQ(devs[0].path, "/dev/tty");
  EXPECT_EQ(devs[0].major, 4);
  for (size_t i = 1; i < devs.size(); ++i) EXPECT_NE(devs[i].path, "/dev/tty");
}

TEST(LinuxDevices, BoundDevYieldsOnlyTheConfiguredDevices) {
  auto fuse = device("c", "/dev/fuse", 10, 229);
  auto null = device("c", "/dev/null", 1, 3);
  auto devs = plan_devices({fuse, null}, true);
  EXPECT_EQ(paths(devs), (std::vector<std::string>{"/dev/fuse", "/dev/null"}));
}

TEST(LinuxDevices, EffectiveRulesWithNothingConfigured) {
  EXPECT_EQ(show(effective_device_rules({}, {})),
            (std::vector<std::string>{
                "allow c *:* m", "allow b *:* m",  // mknod of any node
                // null, random, full, tty, zero, urandom: runc 1.1's AllowedDevices order
                "allow c 1:3 rwm", "allow c 1:8 rwm", "allow c 1:7 rwm", "allow c 5:0 rwm",
                "allow c 1:5 rwm", "allow c 1:9 rwm",
                "allow c 136:* rwm",  // /dev/pts/*
                "allow c 5:2 rwm",    // /dev/ptmx
            }));
}

TEST(LinuxDevices, ConfigRulesComeFirstThenTheBuiltInOnes) {
  oci::DeviceRule deny_all;
  deny_all.allow = false;
  deny_all.access = "rwm";
  oci::DeviceRule allow_sda;
  allow_sda.allow = true;
  allow_sda.type = "b";
  allow_sda.major = 8;
  allow_sda.minor = 0;
  allow_sda.access = "r";
  auto rules = show(effective_device_rules({deny_all, allow_sda}, {}));
  auto builtin = show(effective_device_rules({}, {}));
  ASSERT_EQ(rules.size(), 2u + builtin.size());
  EXPECT_EQ(rules[0], "deny a *:* rwm");
  EXPECT_EQ(rules[1], "allow b 8:0 r");
  EXPECT_EQ(std::vector<std::string>(rules.begin() + 2, rules.end()), builtin);
}

TEST(LinuxDevices, LinuxDevicesAreMadeButNotImplicitlyAllowed) {
  // As in runc: a node in linux.devices is created, and access to it is what
  // linux.resources.devices says (Docker's --device adds both).
  std::vector<oci::Device> devs = {device("c", "/dev/fuse", 10, 229), device("b", "/dev/loop0", 7, 0),
                                   device("u", "/dev/kmsg", 1, 11), device("p", "/dev/myfifo", 0, 0)};
  EXPECT_EQ(show(effective_device_rules({}, devs)), show(effective_device_rules({}, {})));
}

}  // namespace
}  // namespace guise::linux
