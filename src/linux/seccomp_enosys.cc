#include "linux/seccomp_enosys.h"

#include <errno.h>
#include <linux/audit.h>
#include <linux/seccomp.h>
#include <seccomp.h>

#include <algorithm>
#include <cstddef>
#include <map>

namespace guise::linux {

namespace {

constexpr uint32_t kX32Bit = 0x40000000;  // __X32_SYSCALL_BIT
constexpr uint32_t kRetEnosys = SECCOMP_RET_ERRNO | ENOSYS;

// A tracer is expected to handle syscalls it does not know (with ENOSYS of its own),
// so trace counts as letting calls through, as in runc.
bool lets_calls_through(uint32_t action) {
  return action == SCMP_ACT_ALLOW || action == SCMP_ACT_LOG ||
         (action & SECCOMP_RET_ACTION_FULL) == SECCOMP_RET_TRACE;
}

// libseccomp's tokens are the kernel's AUDIT_ARCH_* values but for x32, which the
// kernel reports as x86_64.
uint32_t audit_arch_of(uint32_t token) { return token == SCMP_ARCH_X32 ? AUDIT_ARCH_X86_64 : token; }

// Forward jumps to labels, resolved once the program is whole. Conditional jumps
// reach 255 instructions; every one here stays inside one architecture's section.
class Program {
 public:
  int label() {
    at_.push_back(0);
    return static_cast<int>(at_.size() - 1);
  }
  void bind(int l) { at_[static_cast<size_t>(l)] = code_.size(); }
  void load(uint32_t offset) { add(BPF_LD | BPF_W | BPF_ABS, offset); }
  void ret(uint32_t k) { add(BPF_RET | BPF_K, k); }
  // -1: the next instruction.
  void jump_if(uint16_t cond, uint32_t k, int if_true, int if_false) {
    fixups_.push_back({code_.size(), if_true, if_false});
    add(BPF_JMP | cond | BPF_K, k);
  }
  void jump(int l) {
    fixups_.push_back({code_.size(), l, -1});
    add(BPF_JMP | BPF_JA, 0);
  }
  std::vector<struct sock_filter> finish() {
    for (const auto& f : fixups_) {
      auto& insn = code_[f.at];
      auto offset = [&](int l) { return l < 0 ? 0 : static_cast<uint32_t>(at_[static_cast<size_t>(l)] - f.at - 1); };
      if (BPF_OP(insn.code) == BPF_JA) {
        insn.k = offset(f.if_true);
      } else {
        insn.jt = static_cast<uint8_t>(offset(f.if_true));
        insn.jf = static_cast<uint8_t>(offset(f.if_false));
      }
    }
    return std::move(code_);
  }

 private:
  struct Fixup {
    size_t at;
    int if_true, if_false;
  };
  void add(uint16_t code, uint32_t k) { code_.push_back(sock_filter{code, 0, 0, k}); }
  std::vector<struct sock_filter> code_;
  std::vector<size_t> at_;
  std::vector<Fixup> fixups_;
};

void over_limit(Program& p, uint32_t max, int enosys, int filter) {
  if (max == 0) return p.jump(filter);
  p.jump_if(BPF_JGT, max, enosys, filter);
}

// Entered with the architecture in the accumulator; leaves for `next` when it is
// another one, and never falls through otherwise.
void section(Program& p, const EnosysLimit& l, int next, int end) {
  int filter = p.label(), enosys = p.label();
  p.jump_if(BPF_JEQ, l.audit_arch, -1, next);
  p.load(offsetof(struct seccomp_data, nr));
  // s390 multiplexes large syscall numbers through number 0 (setup(2), long gone),
  // which is left as it is when the kernel does not know the real one.
  if (l.audit_arch == AUDIT_ARCH_S390 || l.audit_arch == AUDIT_ARCH_S390X) p.jump_if(BPF_JEQ, 0, enosys, -1);
  if (l.audit_arch == AUDIT_ARCH_X86_64) {
    int x32 = p.label();
    p.jump_if(BPF_JSET, kX32Bit, x32, -1);
    over_limit(p, l.max, enosys, filter);
    p.bind(x32);
    over_limit(p, l.x32_max, enosys, filter);
  } else {
    over_limit(p, l.max, enosys, filter);
  }
  p.bind(filter);
  p.jump(end);
  p.bind(enosys);
  p.ret(kRetEnosys);
}

}  // namespace

std::vector<EnosysLimit> plan_enosys(uint32_t default_action, const std::vector<uint32_t>& arches,
                                     const std::vector<oci::SeccompSyscall>& rules) {
  if (lets_calls_through(default_action) || default_action == SCMP_ACT_ERRNO(ENOSYS)) return {};
  std::map<uint32_t, EnosysLimit> by_arch;
  for (uint32_t token : arches) {
    uint32_t max = 0;
    for (const auto& rule : rules)
      for (const auto& name : rule.names) {
        int nr = seccomp_syscall_resolve_name_arch(token, name.c_str());
        if (nr >= 0) max = std::max(max, static_cast<uint32_t>(nr));
      }
    if (max == 0) continue;
    EnosysLimit& l = by_arch[audit_arch_of(token)];
    l.audit_arch = audit_arch_of(token);
    (token == SCMP_ARCH_X32 ? l.x32_max : l.max) = max;
  }
  std::vector<EnosysLimit> out;
  for (const auto& [arch, l] : by_arch) out.push_back(l);
  return out;
}

std::vector<struct sock_filter> enosys_stub(const std::vector<EnosysLimit>& limits) {
  if (limits.empty()) return {};
  Program p;
  int end = p.label();
  p.load(offsetof(struct seccomp_data, arch));
  for (const auto& l : limits) {
    int next = p.label();
    section(p, l, next, end);
    p.bind(next);
  }
  p.bind(end);  // libseccomp's program, which loads what it needs itself
  return p.finish();
}

}  // namespace guise::linux
