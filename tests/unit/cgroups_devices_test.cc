// The device rules: v1 emulation, v1 transitions, and the v2 eBPF program, which is
// both compared instruction by instruction with runc's layout and run in a small
// interpreter against the emulated rules.
#include <gtest/gtest.h>

#include "cgroups/devices.h"

namespace guise::cgroups {
namespace {

oci::DeviceRule rule(bool allow, const char* type, std::optional<int64_t> major, std::optional<int64_t> minor,
                     const char* access) {
  oci::DeviceRule r;
  r.allow = allow;
  r.type = type;
  r.major = major;
  r.minor = minor;
  r.access = access;
  return r;
}

std::vector<oci::DeviceRule> docker_like() {
  std::vector<oci::DeviceRule> rules = {rule(false, "", std::nullopt, std::nullopt, "rwm")};
  for (const auto& r : default_device_rules()) rules.push_back(r);
  return rules;
}

std::vector<std::string> lines(const DeviceSet& s) {
  std::vector<std::string> out;
  for (const auto& [k, a] : s.exceptions) out.push_back(device_key_line(k, a));
  return out;
}

// Runs the subset of eBPF the generator emits, on struct bpf_cgroup_dev_ctx.
int run(const std::vector<struct bpf_insn>& prog, char type, uint32_t major, uint32_t minor, DeviceAccess access) {
  uint32_t ctx[3] = {(static_cast<uint32_t>(access) << 16) |
                         (type == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR),
                     major, minor};
  uint64_t r[11] = {};
  for (size_t pc = 0; pc < prog.size(); ++pc) {
    const auto& i = prog[pc];
    uint64_t src = BPF_SRC(i.code) == BPF_X ? r[i.src_reg] : static_cast<uint64_t>(static_cast<int64_t>(i.imm));
    switch (i.code) {
      case BPF_LDX | BPF_MEM | BPF_W:
        EXPECT_EQ(i.src_reg, 1);
        r[i.dst_reg] = ctx[i.off / 4];
        break;
      case BPF_ALU | BPF_AND | BPF_K: r[i.dst_reg] = static_cast<uint32_t>(r[i.dst_reg] & src); break;
      case BPF_ALU | BPF_RSH | BPF_K: r[i.dst_reg] = static_cast<uint32_t>(r[i.dst_reg]) >> i.imm; break;
      case BPF_ALU | BPF_MOV | BPF_K:
      case BPF_ALU | BPF_MOV | BPF_X: r[i.dst_reg] = static_cast<uint32_t>(src); break;
      case BPF_JMP | BPF_JNE | BPF_K:
      case BPF_JMP | BPF_JNE | BPF_X:
        if (r[i.dst_reg] != src) pc += i.off;
        break;
      case BPF_JMP | BPF_JEQ | BPF_K:
        if (r[i.dst_reg] == src) pc += i.off;
        break;
      case BPF_JMP | BPF_EXIT: return static_cast<int>(r[0]);
      default: ADD_FAILURE() << "unexpected opcode " << int(i.code) << " at " << pc; return -1;
    }
  }
  ADD_FAILURE() << "fell off the end";
  return -1;
}

TEST(CgroupsDevices, DefaultRulesAreRuncs) {
  auto rules = default_device_rules();
  ASSERT_EQ(rules.size(), 10u);
  EXPECT_EQ(device_key_line({'c', 136, -1}, kAccessAll), "c 136:* rwm");
}

TEST(CgroupsDevices, EmulatorDenyAllThenAllows) {
  auto set = emulate_device_rules(docker_like());
  ASSERT_TRUE(set.ok()) << set.error().message();
  EXPECT_FALSE(set->default_allow);
  EXPECT_EQ(lines(*set), (std::vector<std::string>{"b *:* m", "c *:* m", "c 1:3 rwm", "c 1:5 rwm", "c 1:7 rwm",
                                                   "c 1:8 rwm", "c 1:9 rwm", "c 5:0 rwm", "c 5:2 rwm",
                                                   "c 136:* rwm"}));
}

TEST(CgroupsDevices, EmulatorMergesAndRemovesAccess) {
  auto set = emulate_device_rules({rule(false, "a", std::nullopt, std::nullopt, ""), rule(true, "c", 1, 3, "r"),
                                   rule(true, "c", 1, 3, "w"), rule(false, "c", 1, 3, "r")});
  ASSERT_TRUE(set.ok());
  EXPECT_EQ(lines(*set), (std::vector<std::string>{"c 1:3 w"}));
  // A later "a" resets, whatever came before.
  set = emulate_device_rules({rule(true, "c", 1, 3, "rwm"), rule(true, "a", 8, 0, "r")});
  ASSERT_TRUE(set.ok());
  EXPECT_TRUE(set->default_allow);
  EXPECT_TRUE(set->exceptions.empty());
  // Allow-all with a deny: an exception that denies.
  set = emulate_device_rules({rule(true, "", std::nullopt, std::nullopt, "rwm"), rule(false, "b", 8, 0, "w")});
  ASSERT_TRUE(set.ok());
  EXPECT_TRUE(set->default_allow);
  EXPECT_EQ(lines(*set), (std::vector<std::string>{"b 8:0 w"}));
}

TEST(CgroupsDevices, EmulatorRefusesHolesInWildcards) {
  auto set = emulate_device_rules(
      {rule(false, "a", std::nullopt, std::nullopt, "rwm"), rule(true, "c", 1, std::nullopt, "rw"), rule(false, "c", 1, 3, "w")});
  ASSERT_FALSE(set.ok());
  EXPECT_NE(set.error().message().find("devices[2]"), std::string::npos) << set.error().message();
  EXPECT_NE(set.error().message().find("hole"), std::string::npos);
  EXPECT_FALSE(emulate_device_rules({rule(true, "x", 1, 3, "r")}).ok());
  EXPECT_FALSE(emulate_device_rules({rule(true, "c", 1, 3, "rx")}).ok());
}

TEST(CgroupsDevices, ParsesDevicesList) {
  auto all = parse_devices_list("a *:* rwm\n");
  ASSERT_TRUE(all.ok());
  EXPECT_TRUE(all->default_allow);
  auto list = parse_devices_list("c 1:3 rwm\nc *:* m\nb *:* m\nc 136:* rw\n");
  ASSERT_TRUE(list.ok());
  EXPECT_FALSE(list->default_allow);
  EXPECT_EQ(lines(*list), (std::vector<std::string>{"b *:* m", "c *:* m", "c 1:3 rwm", "c 136:* rw"}));
  EXPECT_FALSE(parse_devices_list("c 1:3\n").ok());
  EXPECT_FALSE(parse_devices_list("z 1:3 r\n").ok());
}

TEST(CgroupsDevices, TransitionFromAllowAllResets) {
  DeviceSet to = *emulate_device_rules(docker_like());
  auto w = device_transition(DeviceSet{true, {}}, to);
  ASSERT_EQ(w.size(), 11u);
  EXPECT_EQ(w[0], (DeviceWrite{false, "a *:* rwm"}));
  EXPECT_EQ(w[1], (DeviceWrite{true, "b *:* m"}));
  EXPECT_EQ(w[10], (DeviceWrite{true, "c 136:* rwm"}));
}

TEST(CgroupsDevices, TransitionBetweenAllowListsTouchesOnlyTheDifference) {
  DeviceSet from{false, {{{'c', 1, 3}, kAccessAll}, {{'c', 1, 5}, kAccessAll}, {{'c', 10, 200}, kAccessRead}}};
  DeviceSet to{false, {{{'c', 1, 3}, kAccessAll}, {{'c', 1, 5}, kAccessRead}, {{'c', 10, 200}, kAccessAll}}};
  EXPECT_EQ(device_transition(from, to),
            (std::vector<DeviceWrite>{{false, "c 1:5 wm"}, {true, "c 10:200 wm"}}));
  EXPECT_TRUE(device_transition(to, to).empty());
}

TEST(CgroupsDevices, ProgramLayoutIsRuncs) {
  auto prog = device_filter_program(*emulate_device_rules(docker_like()));
  ASSERT_TRUE(prog.ok());
  // prologue 6; b/c *:* m blocks 6 each; seven c M:N rwm blocks of 5; c 136:* rwm of 4; default 2.
  ASSERT_EQ(prog->size(), 6u + 12u + 35u + 4u + 2u);
  const auto& p = *prog;
  EXPECT_EQ(p[0].code, BPF_LDX | BPF_MEM | BPF_W);
  EXPECT_EQ(p[1].code, BPF_ALU | BPF_AND | BPF_K);
  EXPECT_EQ(p[1].imm, 0xffff);
  EXPECT_EQ(p[3].code, BPF_ALU | BPF_RSH | BPF_K);
  EXPECT_EQ(p[4].off, 4);
  EXPECT_EQ(p[5].off, 8);
  // block 0: b *:* m
  EXPECT_EQ(p[6].code, BPF_JMP | BPF_JNE | BPF_K);
  EXPECT_EQ(p[6].dst_reg, 2);
  EXPECT_EQ(p[6].imm, BPF_DEVCG_DEV_BLOCK);
  EXPECT_EQ(p[6].off, 5);
  EXPECT_EQ(p[7].code, BPF_ALU | BPF_MOV | BPF_X);
  EXPECT_EQ(p[8].imm, BPF_DEVCG_ACC_MKNOD);
  EXPECT_EQ(p[9].code, BPF_JMP | BPF_JNE | BPF_X);
  EXPECT_EQ(p[9].off, 2);
  EXPECT_EQ(p[10].code, BPF_ALU | BPF_MOV | BPF_K);
  EXPECT_EQ(p[10].imm, 1);
  EXPECT_EQ(p[11].code, BPF_JMP | BPF_EXIT);
  // block 2: c 1:3 rwm, no access check
  EXPECT_EQ(p[18].imm, BPF_DEVCG_DEV_CHAR);
  EXPECT_EQ(p[18].off, 4);
  EXPECT_EQ(p[19].dst_reg, 4);
  EXPECT_EQ(p[19].imm, 1);
  EXPECT_EQ(p[20].dst_reg, 5);
  EXPECT_EQ(p[20].imm, 3);
  // the default: deny
  EXPECT_EQ(p[p.size() - 2].imm, 0);
  EXPECT_EQ(p.back().code, BPF_JMP | BPF_EXIT);
}

TEST(CgroupsDevices, ProgramDecidesAsTheRules) {
  auto rules = docker_like();
  rules.push_back(rule(true, "c", 1, 11, "w"));  // /dev/kmsg, write only
  auto prog = *device_filter_program(*emulate_device_rules(rules));
  EXPECT_EQ(run(prog, 'c', 1, 3, kAccessRead | kAccessWrite), 1);
  EXPECT_EQ(run(prog, 'c', 136, 7, kAccessRead), 1);
  EXPECT_EQ(run(prog, 'c', 1, 11, kAccessWrite), 1);
  EXPECT_EQ(run(prog, 'c', 1, 11, kAccessRead), 0);
  EXPECT_EQ(run(prog, 'c', 1, 11, kAccessRead | kAccessWrite), 0);
  EXPECT_EQ(run(prog, 'c', 1, 1, kAccessRead), 0);  // /dev/mem
  EXPECT_EQ(run(prog, 'b', 8, 0, kAccessRead), 0);
  EXPECT_EQ(run(prog, 'b', 8, 0, kAccessMknod), 1);
  EXPECT_EQ(run(prog, 'c', 10, 200, kAccessMknod), 1);
  EXPECT_EQ(run(prog, 'c', 10, 200, kAccessMknod | kAccessRead), 0);

  auto deny_list = *device_filter_program(
      *emulate_device_rules({rule(true, "a", std::nullopt, std::nullopt, "rwm"), rule(false, "b", 8, std::nullopt, "w")}));
  EXPECT_EQ(run(deny_list, 'b', 8, 1, kAccessWrite), 0);
  EXPECT_EQ(run(deny_list, 'b', 8, 1, kAccessRead), 1);
  EXPECT_EQ(run(deny_list, 'b', 8, 1, kAccessRead | kAccessWrite), 0);  // overlaps the denied "w", as v1 decides
  EXPECT_EQ(run(deny_list, 'c', 8, 1, kAccessWrite), 1);
}

TEST(CgroupsDevices, ProgramRefusesNumbersItCannotCompare) {
  DeviceSet set{false, {{{'c', int64_t{1} << 31, 0}, kAccessAll}}};
  EXPECT_FALSE(device_filter_program(set).ok());
}

}  // namespace
}  // namespace guise::cgroups
