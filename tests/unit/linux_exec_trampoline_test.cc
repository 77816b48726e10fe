// The trampoline's report runs fcntl/close/write under the container's filter: only
// profiles that let them through unconditionally get one.
#include <gtest/gtest.h>

#include "linux/exec_trampoline.h"

using guise::linux::ExecTrampoline;
using guise::oci::Seccomp;
using guise::oci::SeccompSyscall;

namespace {

SeccompSyscall rule(std::vector<std::string> names, std::string action) {
  SeccompSyscall r;
  r.names = std::move(names);
  r.action = std::move(action);
  return r;
}

}  // namespace

TEST(ExecTrampoline, ReportsWithoutAFilter) { EXPECT_TRUE(ExecTrampoline::can_report(std::nullopt)); }

TEST(ExecTrampoline, ReportsUnderAnAllowListThatNamesItsCalls) {
  Seccomp s;
  s.default_action = "SCMP_ACT_ERRNO";
  s.syscalls = {rule({"read", "write", "close", "fcntl", "execve"}, "SCMP_ACT_ALLOW")};
  EXPECT_TRUE(ExecTrampoline::can_report(s));
}

TEST(ExecTrampoline, NoReportWhenAnAllowListLeavesOneOut) {
  Seccomp s;
  s.default_action = "SCMP_ACT_KILL_PROCESS";
  s.syscalls = {rule({"write", "close", "execve"}, "SCMP_ACT_ALLOW")};
  EXPECT_FALSE(ExecTrampoline::can_report(s));
}

TEST(ExecTrampoline, ReportsUnderADenyListThatSparesItsCalls) {
  Seccomp s;
  s.default_action = "SCMP_ACT_ALLOW";
  s.syscalls = {rule({"mount", "unshare"}, "SCMP_ACT_ERRNO")};
  EXPECT_TRUE(ExecTrampoline::can_report(s));
}

TEST(ExecTrampoline, NoReportWhenItsCallsAreDeniedOrConditional) {
  Seccomp denied;
  denied.default_action = "SCMP_ACT_ALLOW";
  denied.syscalls = {rule({"fcntl"}, "SCMP_ACT_ERRNO")};
  EXPECT_FALSE(ExecTrampoline::can_report(denied));

  Seccomp conditional;
  conditional.default_action = "SCMP_ACT_ERRNO";
  conditional.syscalls = {rule({"write", "close"}, "SCMP_ACT_ALLOW"), rule({"fcntl"}, "SCMP_ACT_ALLOW")};
  conditional.syscalls[1].args = {{1, 2, 0, "SCMP_CMP_EQ"}};
  EXPECT_FALSE(ExecTrampoline::can_report(conditional));
}

TEST(ExecTrampoline, Argv0CarriesTheReportFdInOneByte) {
  EXPECT_EQ(ExecTrampoline::argv0(-1), "guise-tr");
  EXPECT_EQ(ExecTrampoline::argv0(7), std::string("guise-tr\x07"));
  EXPECT_EQ(ExecTrampoline::argv0(300), "guise-tr");
}
