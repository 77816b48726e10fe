// linux.seccomp -> a BPF program. Compiling needs no privilege; installing does
// not happen here.
#include <gtest/gtest.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

#include "linux/seccomp_filter.h"

namespace guise::linux {
namespace {

oci::SeccompSyscall rule(std::vector<std::string> names, std::string action) {
  oci::SeccompSyscall s;
  s.names = std::move(names);
  s.action = std::move(action);
  return s;
}

oci::Seccomp allow_by_default() {
  oci::Seccomp c;
  c.default_action = "SCMP_ACT_ALLOW";
  c.architectures = {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"};
  return c;
}

std::string compile_error(const oci::Seccomp& c) {
  auto r = compile_seccomp(c);
  return r.ok() ? "(compiled)" : r.error().message();
}

size_t instructions(const SeccompProgram& p) { return p.bpf.size() / sizeof(struct sock_filter); }

TEST(LinuxSeccompFilter, SmallProfileCompilesToBpf) {
  auto c = allow_by_default();
  c.syscalls = {rule({"mount", "umount2", "unshare"}, "SCMP_ACT_ERRNO")};
  c.syscalls[0].errno_ret = 1;
  auto r = compile_seccomp(c);
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_FALSE(r.value().bpf.empty());
  EXPECT_EQ(r.value().bpf.size() % sizeof(struct sock_filter), 0u);
  EXPECT_GT(instructions(r.value()), 3u);
  EXPECT_EQ(r.value().flags, 0u);
  EXPECT_FALSE(r.value().notify);
}

TEST(LinuxSeccompFilter, ProgramGrowsWithItsRules) {
  auto c = allow_by_default();
  c.syscalls = {rule({"mount"}, "SCMP_ACT_ERRNO")};
  auto one = compile_seccomp(c);
  c.syscalls = {rule({"mount", "umount2", "pivot_root", "reboot", "swapon"}, "SCMP_ACT_ERRNO")};
  auto five = compile_seccomp(c);
  ASSERT_TRUE(one.ok() && five.ok());
  EXPECT_GT(five.value().bpf.size(), one.value().bpf.size());
}

TEST(LinuxSeccompFilter, UnknownSyscallNamesAreSkipped) {
  auto c = allow_by_default();
  c.syscalls = {rule({"mount"}, "SCMP_ACT_ERRNO")};
  auto plain = compile_seccomp(c);
  c.syscalls = {rule({"mount", "no_such_syscall_guise", "another_bogus_one"}, "SCMP_ACT_ERRNO")};
  auto with_unknown = compile_seccomp(c);
  ASSERT_TRUE(plain.ok()) << plain.error().message();
  ASSERT_TRUE(with_unknown.ok()) << with_unknown.error().message();
  EXPECT_EQ(with_unknown.value().bpf, plain.value().bpf);

  c.syscalls = {rule({"no_such_syscall_guise"}, "SCMP_ACT_KILL")};  // a rule of only unknown names
  EXPECT_TRUE(compile_seccomp(c).ok());
}

TEST(LinuxSeccompFilter, RuleWithTheDefaultActionIsDropped) {
  auto c = allow_by_default();
  auto none = compile_seccomp(c);
  c.syscalls = {rule({"read", "write"}, "SCMP_ACT_ALLOW")};
  auto same = compile_seccomp(c);
  ASSERT_TRUE(none.ok() && same.ok());
  EXPECT_EQ(same.value().bpf, none.value().bpf);
}

TEST(LinuxSeccompFilter, ArgumentConditionsCompile) {
  auto c = allow_by_default();
  auto r = rule({"personality"}, "SCMP_ACT_ERRNO");
  r.args = {oci::SeccompArg{0, 0xffffffff, 0, "SCMP_CMP_NE"}};
  auto m = rule({"clone"}, "SCMP_ACT_ERRNO");
  m.args = {oci::SeccompArg{0, 0x7e020000, 0, "SCMP_CMP_MASKED_EQ"}};
  c.syscalls = {r, m};
  auto p = compile_seccomp(c);
  ASSERT_TRUE(p.ok()) << p.error().message();
  EXPECT_FALSE(p.value().bpf.empty());
}

TEST(LinuxSeccompFilter, EveryActionAndOperatorIsKnown) {
  for (const char* action : {"SCMP_ACT_KILL", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_TRAP",
                             "SCMP_ACT_ERRNO", "SCMP_ACT_TRACE", "SCMP_ACT_LOG"}) {
    SCOPED_TRACE(action);
    auto c = allow_by_default();
    c.syscalls = {rule({"mount"}, action)};
    EXPECT_TRUE(compile_seccomp(c).ok()) << compile_error(c);
  }
  for (const char* op : {"SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE", "SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT",
                         "SCMP_CMP_MASKED_EQ"}) {
    SCOPED_TRACE(op);
    auto c = allow_by_default();
    auto r = rule({"setns"}, "SCMP_ACT_ERRNO");
    r.args = {oci::SeccompArg{1, 0x40000000, 0x40000000, op}};
    c.syscalls = {r};
    EXPECT_TRUE(compile_seccomp(c).ok()) << compile_error(c);
  }
}

TEST(LinuxSeccompFilter, DenyByDefaultProfile) {
  oci::Seccomp c;
  c.default_action = "SCMP_ACT_ERRNO";
  c.default_errno_ret = 38;  // ENOSYS, as newer Docker profiles do
  c.syscalls = {rule({"read", "write", "exit_group", "futex"}, "SCMP_ACT_ALLOW")};
  auto p = compile_seccomp(c);
  ASSERT_TRUE(p.ok()) << p.error().message();
  EXPECT_FALSE(p.value().bpf.empty());
}

TEST(LinuxSeccompFilter, FlagsAreCarried) {
  auto c = allow_by_default();
  c.flags = {"SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW"};
  auto p = compile_seccomp(c);
  ASSERT_TRUE(p.ok()) << p.error().message();
  EXPECT_EQ(p.value().flags, unsigned{SECCOMP_FILTER_FLAG_LOG | SECCOMP_FILTER_FLAG_SPEC_ALLOW});
}

TEST(LinuxSeccompFilter, UnknownDefaultActionIsNamed) {
  oci::Seccomp c;
  c.default_action = "SCMP_ACT_BOGUS";
  EXPECT_EQ(compile_error(c), "defaultAction: unknown action \"SCMP_ACT_BOGUS\"");
  c.default_action = "";
  EXPECT_EQ(compile_error(c), "defaultAction: unknown action \"\"");
}

TEST(LinuxSeccompFilter, UnknownRuleActionIsNamed) {
  auto c = allow_by_default();
  c.syscalls = {rule({"read"}, "SCMP_ACT_ERRNO"), rule({"mount"}, "SCMP_ACT_DENY")};
  EXPECT_EQ(compile_error(c), "syscalls[1].action: unknown action \"SCMP_ACT_DENY\"");
}

TEST(LinuxSeccompFilter, UnknownOperatorIsNamed) {
  auto c = allow_by_default();
  auto r = rule({"clone"}, "SCMP_ACT_ERRNO");
  r.args = {oci::SeccompArg{0, 1, 0, "SCMP_CMP_EQ"}, oci::SeccompArg{1, 1, 0, "SCMP_CMP_APPROX"}};
  c.syscalls = {r};
  EXPECT_EQ(compile_error(c), "syscalls[0].args[1].op: unknown operator \"SCMP_CMP_APPROX\"");
}

TEST(LinuxSeccompFilter, UnknownArchitectureIsNamed) {
  auto c = allow_by_default();
  c.architectures = {"SCMP_ARCH_X86_64", "SCMP_ARCH_VAX"};
  EXPECT_EQ(compile_error(c), "architectures[1]: unknown architecture \"SCMP_ARCH_VAX\"");
}

TEST(LinuxSeccompFilter, ForeignArchitecturesOfTheSameByteOrderAreAccepted) {
  // (libseccomp refuses to mix byte orders in one filter: SCMP_ARCH_S390X on a
  // little-endian host is an error, as it is in runc.)
  auto c = allow_by_default();
  c.architectures = {"SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM", "SCMP_ARCH_PPC64LE", "SCMP_ARCH_RISCV64"};
  c.syscalls = {rule({"mount"}, "SCMP_ACT_ERRNO")};
  EXPECT_TRUE(compile_seccomp(c).ok()) << compile_error(c);
}

TEST(LinuxSeccompFilter, UnknownFlagIsNamed) {
  auto c = allow_by_default();
  c.flags = {"SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_BOGUS"};
  EXPECT_EQ(compile_error(c), "flags[1]: unknown flag \"SECCOMP_FILTER_FLAG_BOGUS\"");
}

TEST(LinuxSeccompFilter, NotifyActionSetsNotify) {
  auto c = allow_by_default();
  c.listener_path = "/run/agent.sock";
  c.syscalls = {rule({"mount"}, "SCMP_ACT_ERRNO"), rule({"mknod", "mknodat"}, "SCMP_ACT_NOTIFY")};
  auto p = compile_seccomp(c);
  ASSERT_TRUE(p.ok()) << p.error().message();
  EXPECT_TRUE(p.value().notify);
  EXPECT_FALSE(p.value().bpf.empty());
  EXPECT_EQ(p.value().flags & SECCOMP_FILTER_FLAG_NEW_LISTENER, 0u);  // added by install, not compile
}

TEST(LinuxSeccompFilter, NotifyOnWriteIsRefusedAsRuncDoes) {
  auto c = allow_by_default();
  c.listener_path = "/run/agent.sock";
  c.syscalls = {rule({"mkdir"}, "SCMP_ACT_NOTIFY"), rule({"read", "write"}, "SCMP_ACT_NOTIFY")};
  EXPECT_EQ(compile_error(c), "syscalls[1]: SCMP_ACT_NOTIFY cannot be used for the write syscall");
  c.syscalls[1].action = "SCMP_ACT_ERRNO";
  EXPECT_TRUE(compile_seccomp(c).ok()) << compile_error(c);
}

}  // namespace
}  // namespace guise::linux
