#include "linux/seccomp_filter.h"

#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <memory>

#include "linux/seccomp_enosys.h"
#include "sys/fd.h"

namespace guise::linux {

namespace {

constexpr unsigned kWaitKillableRecv = 1u << 5;  // SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (5.19)

struct CtxDeleter {
  void operator()(void* ctx) const { seccomp_release(ctx); }
};
using Ctx = std::unique_ptr<void, CtxDeleter>;

Result<uint32_t> action_value(const std::string& name, std::optional<uint32_t> errno_ret, const std::string& where,
                              bool* notify) {
  if (name == "SCMP_ACT_KILL" || name == "SCMP_ACT_KILL_THREAD") return SCMP_ACT_KILL_THREAD;
  if (name == "SCMP_ACT_KILL_PROCESS") return SCMP_ACT_KILL_PROCESS;
  if (name == "SCMP_ACT_TRAP") return SCMP_ACT_TRAP;
  if (name == "SCMP_ACT_ERRNO") return SCMP_ACT_ERRNO(errno_ret.value_or(EPERM));
  if (name == "SCMP_ACT_TRACE") return SCMP_ACT_TRACE(errno_ret.value_or(EPERM));
  if (name == "SCMP_ACT_ALLOW") return SCMP_ACT_ALLOW;
  if (name == "SCMP_ACT_LOG") return SCMP_ACT_LOG;
  if (name == "SCMP_ACT_NOTIFY") {
    *notify = true;
    return SCMP_ACT_NOTIFY;
  }
  return sys::user_error(where + ": unknown action \"" + name + "\"");
}

Result<scmp_compare> compare_op(const std::string& op, const std::string& where) {
  static const std::pair<const char*, scmp_compare> ops[] = {
      {"SCMP_CMP_NE", SCMP_CMP_NE}, {"SCMP_CMP_LT", SCMP_CMP_LT}, {"SCMP_CMP_LE", SCMP_CMP_LE},
      {"SCMP_CMP_EQ", SCMP_CMP_EQ}, {"SCMP_CMP_GE", SCMP_CMP_GE}, {"SCMP_CMP_GT", SCMP_CMP_GT},
      {"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ}};
  for (const auto& [n, v] : ops)
    if (op == n) return v;
  return sys::user_error(where + ": unknown operator \"" + op + "\"");
}

Result<uint32_t> arch_value(const std::string& name, const std::string& where) {
  std::string lower;
  std::string n = name.rfind("SCMP_ARCH_", 0) == 0 ? name.substr(10) : name;
  for (char ch : n) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  uint32_t arch = seccomp_arch_resolve_name(lower.c_str());
  if (arch == 0) return sys::user_error(where + ": unknown architecture \"" + name + "\"");
  return arch;
}

Result<unsigned> filter_flag(const std::string& name, const std::string& where) {
  if (name == "SECCOMP_FILTER_FLAG_TSYNC") return SECCOMP_FILTER_FLAG_TSYNC;
  if (name == "SECCOMP_FILTER_FLAG_LOG") return SECCOMP_FILTER_FLAG_LOG;
  if (name == "SECCOMP_FILTER_FLAG_SPEC_ALLOW") return SECCOMP_FILTER_FLAG_SPEC_ALLOW;
  if (name == "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV") return kWaitKillableRecv;
  return sys::user_error(where + ": unknown flag \"" + name + "\"");
}

Result<std::vector<uint8_t>> export_bpf(void* ctx) {
  sys::Fd mem(static_cast<int>(::syscall(SYS_memfd_create, "seccomp-bpf", MFD_CLOEXEC)));
  if (!mem.valid()) return sys::sys_error("memfd_create");
  int rc = seccomp_export_bpf(ctx, mem.get());
  if (rc < 0) return sys::sys_error_n(-rc, "export seccomp program");
  off_t size = ::lseek(mem.get(), 0, SEEK_END);
  std::vector<uint8_t> out(static_cast<size_t>(size));
  if (::pread(mem.get(), out.data(), out.size(), 0) != size) return sys::sys_error("read seccomp program");
  return out;
}

}  // namespace

namespace {

Result<std::vector<uint32_t>> add_architectures(void* ctx, const std::vector<std::string>& names) {
  std::vector<uint32_t> arches;
  for (size_t i = 0; i < names.size(); ++i) {
    std::string where = "architectures[" + std::to_string(i) + "]";
    uint32_t arch = GUISE_TRY(arch_value(names[i], where));
    int rc = seccomp_arch_add(ctx, arch);
    if (rc < 0 && rc != -EEXIST) return sys::sys_error_n(-rc, where + ": add architectures", names[i]);
    arches.push_back(arch);
  }
  return arches;
}

// One syscalls[] entry. Names libseccomp does not know are skipped, as runc does.
Result<void> add_rule(void* ctx, const oci::SeccompSyscall& rule, uint32_t action, const std::string& where) {
  std::vector<scmp_arg_cmp> args;
  unsigned per_index[6] = {};
  bool repeated_index = false;
  for (size_t a = 0; a < rule.args.size(); ++a) {
    const auto& arg = rule.args[a];
    scmp_compare op = GUISE_TRY(compare_op(arg.op, where + ".args[" + std::to_string(a) + "].op"));
    args.push_back(scmp_arg_cmp{arg.index, op, arg.value, arg.value_two});
    if (arg.index < 6 && ++per_index[arg.index] > 1) repeated_index = true;
  }
  for (const auto& name : rule.names) {
    int nr = seccomp_syscall_resolve_name(name.c_str());
    if (nr == __NR_SCMP_ERROR) continue;
    if (action == SCMP_ACT_NOTIFY && name == "sendmsg")
      return sys::user_error(where + ": SCMP_ACT_NOTIFY on sendmsg would stop the runtime before it can hand "
                             "the listener its notify fd (with sendmsg)");
    // runc's rule and wording: the runtime's own writes after loading the filter
    // (its reports, the exec trampoline's) must not wait on the agent.
    if (action == SCMP_ACT_NOTIFY && name == "write")
      return sys::user_error(where + ": SCMP_ACT_NOTIFY cannot be used for the write syscall");
    // libseccomp refuses two comparisons of one argument in a rule; runc then adds
    // each comparison as a rule of its own (any one matching applies the action).
    size_t rules = repeated_index ? args.size() : 1;
    for (size_t r = 0; r < rules; ++r) {
      unsigned count = repeated_index ? 1 : static_cast<unsigned>(args.size());
      int rc = seccomp_rule_add_array(ctx, action, nr, count, args.data() + (repeated_index ? r : 0));
      if (rc < 0) return sys::sys_error_n(-rc, where + ": add rule for syscall", name);
    }
  }
  return Ok();
}

}  // namespace

Result<SeccompProgram> compile_seccomp(const oci::Seccomp& config) {
  SeccompProgram program;
  uint32_t default_action = GUISE_TRY(
      action_value(config.default_action, config.default_errno_ret, "defaultAction", &program.notify));
  if (default_action == SCMP_ACT_NOTIFY)
    return sys::user_error("defaultAction: SCMP_ACT_NOTIFY would stop the runtime's own last syscalls before the "
                           "listener has its fd; name the syscalls to notify instead (as runc requires)");
  Ctx ctx(seccomp_init(default_action));
  if (!ctx) return sys::user_error("seccomp_init failed for defaultAction " + config.default_action);
  std::vector<uint32_t> arches = GUISE_TRY(add_architectures(ctx.get(), config.architectures));
  for (size_t i = 0; i < config.flags.size(); ++i)
    program.flags |= GUISE_TRY(filter_flag(config.flags[i], "flags[" + std::to_string(i) + "]"));
  // no_new_privs is the runtime's to set (process.noNewPrivileges), not libseccomp's.
  seccomp_attr_set(ctx.get(), SCMP_FLTATR_CTL_NNP, 0);
  for (size_t i = 0; i < config.syscalls.size(); ++i) {
    const auto& rule = config.syscalls[i];
    std::string where = "syscalls[" + std::to_string(i) + "]";
    uint32_t action = GUISE_TRY(action_value(rule.action, rule.errno_ret, where + ".action", &program.notify));
    // libseccomp refuses a rule that repeats the default action; runc drops it.
    if (action == default_action) continue;
    GUISE_TRY(add_rule(ctx.get(), rule, action, where));
  }
  // The init and the exec child are single-threaded when they install: TSYNC has
  // nothing to synchronise, and the kernel refuses it beside a notify listener.
  if (program.notify) program.flags &= ~static_cast<unsigned>(SECCOMP_FILTER_FLAG_TSYNC);
  // Only a filter with a listener has receives to make killable.
  if (!program.notify) program.flags &= ~kWaitKillableRecv;
  program.bpf = GUISE_TRY(export_bpf(ctx.get()));
  auto stub = enosys_stub(plan_enosys(default_action, arches, config.syscalls));
  auto* bytes = reinterpret_cast<const uint8_t*>(stub.data());
  program.bpf.insert(program.bpf.begin(), bytes, bytes + stub.size() * sizeof(struct sock_filter));
  return program;
}

Result<int> install_seccomp(const SeccompProgram& program, bool no_new_privileges) {
  if (program.bpf.empty()) return -1;
  (void)no_new_privileges;  // without it, CAP_SYS_ADMIN is what lets the filter be loaded
  struct sock_fprog prog {};
  prog.len = static_cast<unsigned short>(program.bpf.size() / sizeof(struct sock_filter));
  prog.filter = reinterpret_cast<struct sock_filter*>(const_cast<uint8_t*>(program.bpf.data()));
  unsigned flags = program.flags | (program.notify ? SECCOMP_FILTER_FLAG_NEW_LISTENER : 0);
  long rc = ::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
  if (rc < 0) return sys::sys_error("install seccomp filter");
  return program.notify ? static_cast<int>(rc) : -1;
}

}  // namespace guise::linux
