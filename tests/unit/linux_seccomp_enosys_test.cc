// runc's -ENOSYS stub: which limits a profile gives, and what the stub (and the
// whole compiled program) answers, run through a small classic-BPF interpreter.
#include <errno.h>
#include <gtest/gtest.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>

#include <cstring>

#include "linux/seccomp_enosys.h"
#include "linux/seccomp_filter.h"

namespace guise::linux {
namespace {

constexpr uint32_t kX32Bit = 0x40000000;
constexpr uint32_t kEnosys = SECCOMP_RET_ERRNO | ENOSYS;
constexpr uint32_t kTail = 0x7f00abcd;  // what the stub's fall-through reaches in these tests

// The instructions libseccomp and the stub use; anything else fails the test.
uint32_t run_bpf(const std::vector<struct sock_filter>& prog, uint32_t arch, uint32_t nr) {
  struct seccomp_data d {};
  d.arch = arch;
  d.nr = static_cast<int>(nr);
  uint32_t a = 0, x = 0, mem[BPF_MEMWORDS] = {};
  for (size_t pc = 0; pc < prog.size(); ++pc) {
    const auto& i = prog[pc];
    uint32_t operand = BPF_SRC(i.code) == BPF_X ? x : i.k;
    switch (BPF_CLASS(i.code)) {
      case BPF_LD:
        if (BPF_MODE(i.code) == BPF_ABS && BPF_SIZE(i.code) == BPF_W && i.k + 4 <= sizeof d) {
          std::memcpy(&a, reinterpret_cast<const char*>(&d) + i.k, 4);
          continue;
        }
        if (BPF_MODE(i.code) == BPF_MEM && i.k < BPF_MEMWORDS) {
          a = mem[i.k];
          continue;
        }
        break;
      case BPF_LDX:
        if (BPF_MODE(i.code) == BPF_MEM && i.k < BPF_MEMWORDS) {
          x = mem[i.k];
          continue;
        }
        break;
      case BPF_ST:
        if (i.k < BPF_MEMWORDS) {
          mem[i.k] = a;
          continue;
        }
        break;
      case BPF_ALU:
        if (BPF_OP(i.code) == BPF_AND) {
          a &= operand;
          continue;
        }
        break;
      case BPF_JMP:
        switch (BPF_OP(i.code)) {
          case BPF_JA: pc += i.k; continue;
          case BPF_JEQ: pc += a == operand ? i.jt : i.jf; continue;
          case BPF_JGT: pc += a > operand ? i.jt : i.jf; continue;
          case BPF_JGE: pc += a >= operand ? i.jt : i.jf; continue;
          case BPF_JSET: pc += (a & operand) ? i.jt : i.jf; continue;
        }
        break;
      case BPF_RET:
        return BPF_RVAL(i.code) == BPF_A ? a : i.k;
    }
    ADD_FAILURE() << "instruction " << pc << " (code " << i.code << ") not understood";
    return 0;
  }
  ADD_FAILURE() << "ran off the end of the program";
  return 0;
}

std::vector<struct sock_filter> with_tail(std::vector<struct sock_filter> stub) {
  stub.push_back(sock_filter{BPF_RET | BPF_K, 0, 0, kTail});
  return stub;
}

std::vector<struct sock_filter> program_of(const SeccompProgram& p) {
  std::vector<struct sock_filter> out(p.bpf.size() / sizeof(struct sock_filter));
  std::memcpy(out.data(), p.bpf.data(), out.size() * sizeof(struct sock_filter));
  return out;
}

oci::SeccompSyscall rule(std::vector<std::string> names, std::string action) {
  oci::SeccompSyscall s;
  s.names = std::move(names);
  s.action = std::move(action);
  return s;
}

int nr_of(uint32_t arch, const char* name) { return seccomp_syscall_resolve_name_arch(arch, name); }

TEST(LinuxSeccompEnosys, LimitIsTheLargestNamedNumberPerArchitecture) {
  auto limits = plan_enosys(SCMP_ACT_ERRNO(EPERM), {SCMP_ARCH_X86_64, SCMP_ARCH_X86},
                            {rule({"read", "clone3"}, "SCMP_ACT_ALLOW"), rule({"keyctl"}, "SCMP_ACT_ERRNO")});
  ASSERT_EQ(limits.size(), 2u);
  // Ordered by AUDIT_ARCH value: i386 (0x40000003) before x86_64 (0xc000003e).
  EXPECT_EQ(limits[0].audit_arch, uint32_t{AUDIT_ARCH_I386});
  EXPECT_EQ(limits[0].max, static_cast<uint32_t>(nr_of(SCMP_ARCH_X86, "clone3")));
  EXPECT_EQ(limits[1].audit_arch, uint32_t{AUDIT_ARCH_X86_64});
  EXPECT_EQ(limits[1].max, static_cast<uint32_t>(nr_of(SCMP_ARCH_X86_64, "clone3")));
  EXPECT_EQ(limits[1].x32_max, 0u);
}

TEST(LinuxSeccompEnosys, X32SharesX86_64WithItsOwnLimit) {
  auto limits = plan_enosys(SCMP_ACT_KILL_PROCESS, {SCMP_ARCH_X86_64, SCMP_ARCH_X32},
                            {rule({"read", "futex_waitv"}, "SCMP_ACT_ALLOW")});
  ASSERT_EQ(limits.size(), 1u);
  EXPECT_EQ(limits[0].audit_arch, uint32_t{AUDIT_ARCH_X86_64});
  EXPECT_EQ(limits[0].max, static_cast<uint32_t>(nr_of(SCMP_ARCH_X86_64, "futex_waitv")));
  EXPECT_EQ(limits[0].x32_max, static_cast<uint32_t>(nr_of(SCMP_ARCH_X32, "futex_waitv")));
  EXPECT_TRUE(limits[0].x32_max & kX32Bit);
}

TEST(LinuxSeccompEnosys, NoStubWhenTheDefaultLetsCallsThroughOrIsEnosys) {
  std::vector<oci::SeccompSyscall> rules = {rule({"keyctl"}, "SCMP_ACT_ERRNO")};
  for (uint32_t action : {SCMP_ACT_ALLOW, SCMP_ACT_LOG, SCMP_ACT_TRACE(1), SCMP_ACT_ERRNO(ENOSYS)})
    EXPECT_TRUE(plan_enosys(action, {SCMP_ARCH_X86_64}, rules).empty()) << std::hex << action;
  for (uint32_t action : {SCMP_ACT_ERRNO(EPERM), SCMP_ACT_KILL_THREAD, SCMP_ACT_KILL_PROCESS, SCMP_ACT_TRAP})
    EXPECT_EQ(plan_enosys(action, {SCMP_ARCH_X86_64}, rules).size(), 1u) << std::hex << action;
}

TEST(LinuxSeccompEnosys, OnlyListedArchitecturesAndKnownNamesCount) {
  // No architectures: the filter is the native one alone, and runc adds no stub.
  EXPECT_TRUE(plan_enosys(SCMP_ACT_ERRNO(EPERM), {}, {rule({"keyctl"}, "SCMP_ACT_ALLOW")}).empty());
  auto limits = plan_enosys(SCMP_ACT_ERRNO(EPERM), {SCMP_ARCH_X86_64},
                            {rule({"keyctl", "no_such_syscall_guise"}, "SCMP_ACT_ALLOW")});
  ASSERT_EQ(limits.size(), 1u);
  EXPECT_EQ(limits[0].max, static_cast<uint32_t>(nr_of(SCMP_ARCH_X86_64, "keyctl")));
  // socketcall exists on i386 only; read is number 0 on x86_64: nothing named there.
  limits = plan_enosys(SCMP_ACT_ERRNO(EPERM), {SCMP_ARCH_X86_64, SCMP_ARCH_X86},
                       {rule({"read", "socketcall"}, "SCMP_ACT_ALLOW")});
  ASSERT_EQ(limits.size(), 1u);
  EXPECT_EQ(limits[0].audit_arch, uint32_t{AUDIT_ARCH_I386});
  EXPECT_EQ(limits[0].max, static_cast<uint32_t>(nr_of(SCMP_ARCH_X86, "socketcall")));
}

TEST(LinuxSeccompEnosys, StubAnswersNewerNumbersAndPassesTheRest) {
  auto prog = with_tail(enosys_stub({{AUDIT_ARCH_X86_64, 435, 0}, {AUDIT_ARCH_I386, 300, 0}}));
  EXPECT_EQ(run_bpf(prog, AUDIT_ARCH_X86_64, 436), kEnosys);
  EXPECT_EQ(run_bpf(prog, AUDIT_ARCH_X86_64, 1000), kEnosys);
  EXPECT_EQ(run_bpf(prog, AUDIT_ARCH_X86_64, 435), kTail);
  EXPECT_EQ(run_bpf(prog, AUDIT_ARCH_X86_64, 0), kTail);
  EXPECT_EQ(run_bpf(prog, AUDIT_ARCH_X86_64, kX32Bit | 500), kTail);  // x32: no limit of its own
  EXPECT_EQ(run_bpf(prog, AUDIT_ARCH_I386, 301), kEnosys);
  EXPECT_EQ(run_bpf(prog, AUDIT_ARCH_I386, 300), kTail);
  EXPECT_EQ(run_bpf(prog, AUDIT_ARCH_AARCH64, 1000), kTail);  // not limited: the filter decides
}

TEST(LinuxSeccompEnosys, StubTellsX32FromX86_64) {
  auto both = with_tail(enosys_stub({{AUDIT_ARCH_X86_64, 435, kX32Bit | 400}}));
  EXPECT_EQ(run_bpf(both, AUDIT_ARCH_X86_64, 436), kEnosys);
  EXPECT_EQ(run_bpf(both, AUDIT_ARCH_X86_64, 420), kTail);
  EXPECT_EQ(run_bpf(both, AUDIT_ARCH_X86_64, kX32Bit | 401), kEnosys);
  EXPECT_EQ(run_bpf(both, AUDIT_ARCH_X86_64, kX32Bit | 400), kTail);
  auto x32_only = with_tail(enosys_stub({{AUDIT_ARCH_X86_64, 0, kX32Bit | 400}}));
  EXPECT_EQ(run_bpf(x32_only, AUDIT_ARCH_X86_64, 1000), kTail);
  EXPECT_EQ(run_bpf(x32_only, AUDIT_ARCH_X86_64, kX32Bit | 401), kEnosys);
}

TEST(LinuxSeccompEnosys, StubAnswersS390Multiplexing) {
  auto prog = with_tail(enosys_stub({{AUDIT_ARCH_S390X, 400, 0}}));
  EXPECT_EQ(run_bpf(prog, AUDIT_ARCH_S390X, 0), kEnosys);
  EXPECT_EQ(run_bpf(prog, AUDIT_ARCH_S390X, 1), kTail);
  EXPECT_EQ(run_bpf(prog, AUDIT_ARCH_S390X, 401), kEnosys);
}

TEST(LinuxSeccompEnosys, NoLimitsNoStub) { EXPECT_TRUE(enosys_stub({}).empty()); }

oci::Seccomp deny_by_default() {
  oci::Seccomp c;
  c.default_action = "SCMP_ACT_ERRNO";  // EPERM
  c.architectures = {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"};
  auto denied = rule({"keyctl"}, "SCMP_ACT_ERRNO");  // the default's own action: named, not in the filter
  auto no_clone3 = rule({"clone3"}, "SCMP_ACT_ERRNO");
  no_clone3.errno_ret = ENOSYS;
  c.syscalls = {rule({"read", "write", "getpid", "acct"}, "SCMP_ACT_ALLOW"), denied, no_clone3};
  return c;
}

TEST(LinuxSeccompEnosys, CompiledProgramBeginsWithTheStub) {
  auto p = compile_seccomp(deny_by_default());
  ASSERT_TRUE(p.ok()) << p.error().message();
  auto prog = program_of(p.value());
  uint32_t eperm = SECCOMP_RET_ERRNO | EPERM;
  uint32_t clone3 = static_cast<uint32_t>(nr_of(SCMP_ARCH_X86_64, "clone3"));
  EXPECT_EQ(run_bpf(prog, AUDIT_ARCH_X86_64, clone3 + 1), kEnosys);          // newer than any named
  EXPECT_EQ(run_bpf(prog, AUDIT_ARCH_X86_64, clone3), kEnosys);              // named, with its errno
  EXPECT_EQ(run_bpf(prog, AUDIT_ARCH_X86_64, 1000), kEnosys);
  EXPECT_EQ(run_bpf(prog, AUDIT_ARCH_X86_64, nr_of(SCMP_ARCH_X86_64, "keyctl")), eperm);  // named, denied
  EXPECT_EQ(run_bpf(prog, AUDIT_ARCH_X86_64, nr_of(SCMP_ARCH_X86_64, "mount")), eperm);   // older, not named
  EXPECT_EQ(run_bpf(prog, AUDIT_ARCH_X86_64, nr_of(SCMP_ARCH_X86_64, "getpid")), uint32_t{SCMP_ACT_ALLOW});
  EXPECT_EQ(run_bpf(prog, AUDIT_ARCH_X86_64, nr_of(SCMP_ARCH_X32, "getpid")), uint32_t{SCMP_ACT_ALLOW});
  EXPECT_EQ(run_bpf(prog, AUDIT_ARCH_X86_64, kX32Bit | 1000), kEnosys);
  EXPECT_EQ(run_bpf(prog, AUDIT_ARCH_I386, 1000), kEnosys);
  EXPECT_EQ(run_bpf(prog, AUDIT_ARCH_I386, nr_of(SCMP_ARCH_X86, "mount")), eperm);
}

TEST(LinuxSeccompEnosys, AllowByDefaultProgramHasNoStub) {
  auto c = deny_by_default();
  c.default_action = "SCMP_ACT_ALLOW";
  auto p = compile_seccomp(c);
  ASSERT_TRUE(p.ok()) << p.error().message();
  auto prog = program_of(p.value());
  EXPECT_EQ(run_bpf(prog, AUDIT_ARCH_X86_64, 1000), uint32_t{SCMP_ACT_ALLOW});
  EXPECT_EQ(run_bpf(prog, AUDIT_ARCH_X86_64, nr_of(SCMP_ARCH_X86_64, "keyctl")), SECCOMP_RET_ERRNO | EPERM);
}

}  // namespace
}  // namespace guise::linux
