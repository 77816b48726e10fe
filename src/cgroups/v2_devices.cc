// v2 devices: the rules become a BPF_PROG_TYPE_CGROUP_DEVICE program (devices.cc) that
// is loaded with bpf(2) and attached to the container's cgroup with BPF_F_ALLOW_MULTI.
// A program guise attached before (found by its name) is detached once the new one is
// in, so an update never leaves the cgroup without a filter.
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "cgroups/devices.h"
#include "cgroups/v2.h"
#include "linux/userns.h"
#include "sys/fd.h"

namespace guise::cgroups::v2 {

namespace {

constexpr const char* kField = "linux.resources.devices";
constexpr const char kProgName[] = "guise_devices";  // BPF_OBJ_NAME_LEN is 16 with the NUL

long bpf(int cmd, union bpf_attr& attr) { return ::syscall(SYS_bpf, cmd, &attr, sizeof attr); }

long load_once(const std::vector<struct bpf_insn>& insns, std::string& log) {
  static const char kLicense[] = "Apache";  // runc's; the program calls no GPL-only helper
  log.assign(16384, '\0');
  union bpf_attr a;
  std::memset(&a, 0, sizeof a);
  a.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
  a.insns = reinterpret_cast<uintptr_t>(insns.data());
  a.insn_cnt = static_cast<uint32_t>(insns.size());
  a.license = reinterpret_cast<uintptr_t>(kLicense);
  a.log_buf = reinterpret_cast<uintptr_t>(log.data());
  a.log_size = static_cast<uint32_t>(log.size());
  a.log_level = 1;
  std::memcpy(a.prog_name, kProgName, sizeof kProgName);
  return bpf(BPF_PROG_LOAD, a);
}

// Kernels before 5.11 charge BPF memory to RLIMIT_MEMLOCK. The limit is lifted only for
// the load and put back, since the container's init inherits this process's limits.
Result<sys::Fd> load_program(const std::vector<struct bpf_insn>& insns) {
  std::string log;
  long fd = load_once(insns, log);
  if (fd < 0 && errno == EPERM) {
    struct rlimit old {};
    if (::getrlimit(RLIMIT_MEMLOCK, &old) == 0) {
      struct rlimit raised = {RLIM_INFINITY, RLIM_INFINITY};
      if (::setrlimit(RLIMIT_MEMLOCK, &raised) == 0) {
        fd = load_once(insns, log);
        int saved = errno;
        ::setrlimit(RLIMIT_MEMLOCK, &old);
        errno = saved;
      }
    }
  }
  if (fd < 0) {
    Error e = sys::sys_error("bpf(BPF_PROG_LOAD) of the device filter");
    log.resize(std::strlen(log.c_str()));
    if (!log.empty()) e.context.insert(e.context.begin(), "verifier: " + log);
    return e;
  }
  return sys::Fd(static_cast<int>(fd));
}

Result<std::vector<uint32_t>> attached_ids(int cgroup_fd, const std::string& dir) {
  std::vector<uint32_t> ids(64);
  union bpf_attr a;
  std::memset(&a, 0, sizeof a);
  a.query.target_fd = static_cast<uint32_t>(cgroup_fd);
  a.query.attach_type = BPF_CGROUP_DEVICE;
  a.query.prog_ids = reinterpret_cast<uintptr_t>(ids.data());
  a.query.prog_cnt = static_cast<uint32_t>(ids.size());
  if (bpf(BPF_PROG_QUERY, a) < 0) return sys::sys_error("bpf(BPF_PROG_QUERY)", dir);
  ids.resize(a.query.prog_cnt);
  return ids;
}

// A program attached to this cgroup by guise, as an fd; invalid for anyone else's.
sys::Fd ours(uint32_t id) {
  union bpf_attr a;
  std::memset(&a, 0, sizeof a);
  a.prog_id = id;
  sys::Fd fd(static_cast<int>(bpf(BPF_PROG_GET_FD_BY_ID, a)));
  if (!fd.valid()) return fd;
  struct bpf_prog_info info;
  std::memset(&info, 0, sizeof info);
  std::memset(&a, 0, sizeof a);
  a.info.bpf_fd = static_cast<uint32_t>(fd.get());
  a.info.info_len = sizeof info;
  a.info.info = reinterpret_cast<uintptr_t>(&info);
  if (bpf(BPF_OBJ_GET_INFO_BY_FD, a) < 0 || std::strncmp(info.name, kProgName, sizeof info.name) != 0)
    return sys::Fd();
  return fd;
}

Result<void> attach(int cgroup_fd, int prog_fd, const std::string& dir) {
  union bpf_attr a;
  std::memset(&a, 0, sizeof a);
  a.target_fd = static_cast<uint32_t>(cgroup_fd);
  a.attach_bpf_fd = static_cast<uint32_t>(prog_fd);
  a.attach_type = BPF_CGROUP_DEVICE;
  a.attach_flags = BPF_F_ALLOW_MULTI;
  if (bpf(BPF_PROG_ATTACH, a) < 0) return sys::sys_error("bpf(BPF_PROG_ATTACH) of the device filter to", dir);
  return Ok();
}

Result<void> detach(int cgroup_fd, int prog_fd, const std::string& dir) {
  union bpf_attr a;
  std::memset(&a, 0, sizeof a);
  a.target_fd = static_cast<uint32_t>(cgroup_fd);
  a.attach_bpf_fd = static_cast<uint32_t>(prog_fd);
  a.attach_type = BPF_CGROUP_DEVICE;
  if (bpf(BPF_PROG_DETACH, a) < 0 && errno != ENOENT)
    return sys::sys_error("bpf(BPF_PROG_DETACH) of the previous device filter from", dir);
  return Ok();
}

}  // namespace

Result<void> apply_devices(int cgroup_fd, const std::string& dir, const oci::Resources& r) {
  if (r.devices.empty()) return Ok();
  DeviceSet set = GUISE_TRY(emulate_device_rules(r.devices), kField);
  auto insns = GUISE_TRY(device_filter_program(set), kField);
  if (cgroup_fd < 0) return sys::sys_error_n(EBADF, std::string(kField) + ": no open directory fd for", dir);
  auto queried = attached_ids(cgroup_fd, dir);
  // Root of a user namespace (rootless, in a delegated cgroup) may not use BPF on cgroups;
  // it needs no device filter either: it cannot mknod, and the device nodes bound into its
  // containers keep the host's permissions against the user (runc skips it alike).
  if (!queried && queried.error().errnum == EPERM && linux::in_user_namespace()) return Ok();
  std::vector<uint32_t> before = GUISE_TRY(std::move(queried), kField);
  sys::Fd prog = GUISE_TRY(load_program(insns), kField);
  GUISE_TRY(attach(cgroup_fd, prog.get(), dir), kField);
  for (uint32_t id : before) {
    sys::Fd old = ours(id);
    if (old.valid()) GUISE_TRY(detach(cgroup_fd, old.get(), dir), kField);
  }
  return Ok();  // the attachment holds the program; our fd may go
}

}  // namespace guise::cgroups::v2
