#include "linux/exec_trampoline.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif

namespace guise::linux {

namespace {

// _start: unless argv[0] begins with the 8 bytes of kMarker, exit(127) (run any other
// way, as the interpreter of a "#!/proc/self/exe" script, say, it does nothing). Byte 8
// of argv[0], when not 0, is an fd that reports a failed exec: marked close-on-exec
// first (closed, and not used, if that is refused), and written the errno as one byte
// if execve(argv[1], &argv[2], envp) fails. Then exit(127).
//   mov 8(%rsp),%rdi; test %rdi,%rdi; jz fail; movabs $"guise-tr",%rax; cmp (%rdi),%rax; jne fail
//   movzbl 8(%rdi),%r12d; test %r12d,%r12d; jz go
//   fcntl(r12, F_SETFD, FD_CLOEXEC); test %eax,%eax; jz go; close(r12); xor %r12d,%r12d
//   go: mov 16(%rsp),%rdi; lea 24(%rsp),%rsi; mov (%rsp),%rax; lea 16(%rsp,%rax,8),%rdx
//   execve; test %r12d,%r12d; jz fail; neg %eax; push %rax; write(r12, %rsp, 1)
//   fail: exit(127)
constexpr unsigned char kCodeX86_64[] = {
    0x48, 0x8b, 0x7c, 0x24, 0x08, 0x48, 0x85, 0xff, 0x74, 0x72, 0x48, 0xb8, 0x67, 0x75, 0x69, 0x73,
    0x65, 0x2d, 0x74, 0x72, 0x48, 0x3b, 0x07, 0x75, 0x63, 0x44, 0x0f, 0xb6, 0x67, 0x08, 0x45, 0x85,
    0xe4, 0x74, 0x25, 0x44, 0x89, 0xe7, 0xbe, 0x02, 0x00, 0x00, 0x00, 0xba, 0x01, 0x00, 0x00, 0x00,
    0xb8, 0x48, 0x00, 0x00, 0x00, 0x0f, 0x05, 0x85, 0xc0, 0x74, 0x0d, 0x44, 0x89, 0xe7, 0xb8, 0x03,
    0x00, 0x00, 0x00, 0x0f, 0x05, 0x45, 0x31, 0xe4, 0x48, 0x8b, 0x7c, 0x24, 0x10, 0x48, 0x8d, 0x74,
    0x24, 0x18, 0x48, 0x8b, 0x04, 0x24, 0x48, 0x8d, 0x54, 0xc4, 0x10, 0xb8, 0x3b, 0x00, 0x00, 0x00,
    0x0f, 0x05, 0x45, 0x85, 0xe4, 0x74, 0x15, 0xf7, 0xd8, 0x50, 0x44, 0x89, 0xe7, 0x48, 0x89, 0xe6,
    0xba, 0x01, 0x00, 0x00, 0x00, 0xb8, 0x01, 0x00, 0x00, 0x00, 0x0f, 0x05, 0xbf, 0x7f, 0x00, 0x00,
    0x00, 0xb8, 0x3c, 0x00, 0x00, 0x00, 0x0f, 0x05};

template <class T>
void put(std::vector<unsigned char>& out, size_t at, T value) {
  std::memcpy(out.data() + at, &value, sizeof value);
}

}  // namespace

std::vector<unsigned char> ExecTrampoline::image() {
#if defined(__x86_64__)
  constexpr uint64_t kBase = 0x400000;
  constexpr size_t kEhdr = 64, kPhdr = 56, kCode = kEhdr + kPhdr;
  std::vector<unsigned char> out(kCode + sizeof kCodeX86_64, 0);
  const unsigned char ident[] = {0x7f, 'E', 'L', 'F', 2 /* 64-bit */, 1 /* LE */, 1 /* version */, 0 /* SysV */};
  std::memcpy(out.data(), ident, sizeof ident);
  put<uint16_t>(out, 16, 2);                // ET_EXEC
  put<uint16_t>(out, 18, 62);               // EM_X86_64
  put<uint32_t>(out, 20, 1);                // EV_CURRENT
  put<uint64_t>(out, 24, kBase + kCode);    // e_entry
  put<uint64_t>(out, 32, kEhdr);            // e_phoff
  put<uint16_t>(out, 52, kEhdr);            // e_ehsize
  put<uint16_t>(out, 54, kPhdr);            // e_phentsize
  put<uint16_t>(out, 56, 1);                // e_phnum
  put<uint32_t>(out, kEhdr + 0, 1);         // PT_LOAD
  put<uint32_t>(out, kEhdr + 4, 5);         // PF_R | PF_X
  put<uint64_t>(out, kEhdr + 8, 0);         // p_offset
  put<uint64_t>(out, kEhdr + 16, kBase);    // p_vaddr
  put<uint64_t>(out, kEhdr + 24, kBase);    // p_paddr
  put<uint64_t>(out, kEhdr + 32, out.size());  // p_filesz
  put<uint64_t>(out, kEhdr + 40, out.size());  // p_memsz
  put<uint64_t>(out, kEhdr + 48, 0x1000);   // p_align
  std::memcpy(out.data() + kCode, kCodeX86_64, sizeof kCodeX86_64);
  return out;
#else
  return {};
#endif
}

std::string ExecTrampoline::argv0(int report_fd) {
  std::string a = kMarker;
  if (report_fd > 0 && report_fd < 256) a.push_back(static_cast<char>(report_fd));
  return a;
}

Result<int> ExecTrampoline::report_fd(int fd, int lowest) {
  int kept = ::fcntl(fd, F_DUPFD, lowest);
  if (kept < 0) return sys::sys_error("dup the exec report fd");
  if (kept > 255) {
    ::close(kept);
    return -1;
  }
  return kept;
}

Result<int> ExecTrampoline::send_report_pipe(Channel& parent, int lowest) {
  int p[2];
  if (::pipe2(p, O_CLOEXEC) < 0) return sys::sys_error("pipe for the exec report");
  sys::Fd read_end(p[0]), write_end(p[1]);
  GUISE_TRY(parent.send(Msg::kExecReport, {}, {read_end.get()}));
  return report_fd(write_end.get(), lowest);
}

bool ExecTrampoline::can_report(const std::optional<oci::Seccomp>& seccomp) {
  if (!seccomp) return true;
  auto allows = [](const std::string& action) { return action == "SCMP_ACT_ALLOW" || action == "SCMP_ACT_LOG"; };
  for (const char* name : {"fcntl", "close", "write"}) {
    bool named = false;
    for (const auto& rule : seccomp->syscalls) {
      if (std::find(rule.names.begin(), rule.names.end(), name) == rule.names.end()) continue;
      if (!allows(rule.action) || !rule.args.empty()) return false;
      named = true;
    }
    if (!named && !allows(seccomp->default_action)) return false;
  }
  return true;
}

int ExecTrampoline::read_report(int fd) {
  unsigned char err = 0;
  ssize_t n;
  while ((n = ::read(fd, &err, 1)) < 0 && errno == EINTR) {
  }
  return n == 1 ? err : 0;
}

ExecTrampoline ExecTrampoline::make() {
  ExecTrampoline t;
  std::vector<unsigned char> elf = image();
  if (elf.empty()) return t;
  unsigned flags = MFD_CLOEXEC | MFD_ALLOW_SEALING;
  sys::Fd fd(static_cast<int>(::syscall(SYS_memfd_create, "guise-exec", flags | MFD_EXEC)));
  if (!fd.valid() && errno == EINVAL) fd.reset(static_cast<int>(::syscall(SYS_memfd_create, "guise-exec", flags)));
  if (!fd.valid()) return t;
  if (::write(fd.get(), elf.data(), elf.size()) != static_cast<ssize_t>(elf.size())) return t;
  if (::fchmod(fd.get(), 0555) < 0) return t;
  if (::fcntl(fd.get(), F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) < 0) return t;
  t.memfd_ = std::move(fd);
  return t;
}

}  // namespace guise::linux
