#include "linux/seccomp_cache.h"

#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cstring>

#include "sys/sha256.h"
#include "sys/fd.h"

namespace guise::linux {

namespace {

constexpr char kMagic[] = "guise-seccomp-v1\n";
constexpr size_t kMaxInstructions = 4096;  // BPF_MAXINSNS

void field(std::string& out, const std::string& name, const std::string& value) {
  out += name;
  out += '=';
  out += std::to_string(value.size());
  out += ':';
  out += value;
  out += '\n';
}

// The cache directory, made if missing, trusted only when this user owns it and
// nobody else may write to it.
sys::Fd open_cache_dir(const std::string& dir) {
  std::string parent = dir.substr(0, dir.rfind('/'));
  if (!parent.empty()) ::mkdir(parent.c_str(), 0700);
  ::mkdir(dir.c_str(), 0700);
  sys::Fd fd(::open(dir.c_str(), O_DIRECTORY | O_NOFOLLOW | O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return fd;
  struct stat st {};
  if (::fstat(fd.get(), &st) < 0 || st.st_uid != ::geteuid() || (st.st_mode & 022)) fd.reset();
  return fd;
}

bool load(int dir, const std::string& name, SeccompProgram& out) {
  sys::Fd fd(::openat(dir, name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd.valid()) return false;
  struct stat st {};
  if (::fstat(fd.get(), &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != ::geteuid() || (st.st_mode & 022))
    return false;
  size_t header = sizeof kMagic - 1 + 8;
  if (st.st_size < static_cast<off_t>(header) || st.st_size > static_cast<off_t>(header + kMaxInstructions * 8))
    return false;
  std::string data(static_cast<size_t>(st.st_size), '\0');
  if (::pread(fd.get(), data.data(), data.size(), 0) != st.st_size) return false;
  if (data.compare(0, sizeof kMagic - 1, kMagic) != 0) return false;
  uint32_t flags, notify;
  std::memcpy(&flags, data.data() + sizeof kMagic - 1, 4);
  std::memcpy(&notify, data.data() + sizeof kMagic - 1 + 4, 4);
  size_t len = data.size() - header;
  if (len == 0 || len % sizeof(struct sock_filter) != 0 || notify > 1) return false;
  out.flags = flags;
  out.notify = notify == 1;
  out.bpf.assign(data.begin() + static_cast<long>(header), data.end());
  return true;
}

void store(int dir, const std::string& name, const SeccompProgram& p) {
  std::string data(kMagic);
  uint32_t flags = p.flags, notify = p.notify ? 1 : 0;
  data.append(reinterpret_cast<const char*>(&flags), 4);
  data.append(reinterpret_cast<const char*>(&notify), 4);
  data.append(reinterpret_cast<const char*>(p.bpf.data()), p.bpf.size());
  // Written beside, renamed into place: a reader sees a whole entry or none.
  std::string tmp = name + ".tmp." + std::to_string(::getpid());
  sys::Fd fd(::openat(dir, tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!fd.valid()) return;
  bool ok = ::write(fd.get(), data.data(), data.size()) == static_cast<ssize_t>(data.size());
  fd.reset();
  if (!ok || ::renameat(dir, tmp.c_str(), dir, name.c_str()) < 0) ::unlinkat(dir, tmp.c_str(), 0);
}

}  // namespace

std::string seccomp_fingerprint(const oci::Seccomp& c) {
  std::string out;
  const scmp_version* v = seccomp_version();
  field(out, "libseccomp", std::to_string(v->major) + "." + std::to_string(v->minor) + "." + std::to_string(v->micro));
  field(out, "api", std::to_string(seccomp_api_get()));
  field(out, "native", std::to_string(seccomp_arch_native()));
  // What guise adds to libseccomp's program: entries made before it are not this program.
  field(out, "enosys-stub", "1");
  field(out, "defaultAction", c.default_action);
  field(out, "defaultErrnoRet", c.default_errno_ret ? std::to_string(*c.default_errno_ret) : "-");
  for (const auto& a : c.architectures) field(out, "arch", a);
  for (const auto& f : c.flags) field(out, "flag", f);
  for (const auto& s : c.syscalls) {
    field(out, "action", s.action);
    field(out, "errnoRet", s.errno_ret ? std::to_string(*s.errno_ret) : "-");
    for (const auto& n : s.names) field(out, "name", n);
    for (const auto& a : s.args)
      field(out, "arg", std::to_string(a.index) + " " + a.op + " " + std::to_string(a.value) + " " +
                            std::to_string(a.value_two));
    out += "end\n";
  }
  return out;
}

Result<CachedProgram> load_or_compile_seccomp(const oci::Seccomp& config, const std::string& cache_dir) {
  CachedProgram out;
  sys::Fd dir = cache_dir.empty() ? sys::Fd() : open_cache_dir(cache_dir);
  std::string name = sys::sha256_hex(seccomp_fingerprint(config)) + ".bpf";
  if (dir.valid() && load(dir.get(), name, out.program)) {
    out.from_cache = true;
    return out;
  }
  out.program = GUISE_TRY(compile_seccomp(config));
  if (dir.valid()) store(dir.get(), name, out.program);
  return out;
}

}  // namespace guise::linux
