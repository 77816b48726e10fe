// v1 memory controller: limit and memory+swap (ordered so the kernel's memsw >= limit
// rule holds while both move), soft limit, kernel memory, swappiness, OOM killer.
#include <unistd.h>

#include <cerrno>

#include "cgroups/fs.h"
#include "cgroups/v1.h"
#include "cgroups/values.h"
#include "sys/log.h"

namespace guise::cgroups::v1 {

namespace {

constexpr const char* kLimitFile = "memory.limit_in_bytes";
constexpr const char* kSwapFile = "memory.memsw.limit_in_bytes";
constexpr const char* kLimitField = "linux.resources.memory.limit";
constexpr const char* kSwapField = "linux.resources.memory.swap";

bool any_set(const oci::MemoryResources& m) {
  return m.limit || m.reservation || m.swap || m.kernel || m.kernel_tcp || m.swappiness || m.disable_oom_killer ||
         m.use_hierarchy;
}

// As runc: "unlimited memory" with swap unset lifts swap too; raising swap goes before
// the limit, lowering after it.
// Without swap accounting (swapaccount=0, or a kernel built without it) there is no
// memsw file: "unlimited" holds there as it is, any other swap limit is refused.
Result<void> set_limit_and_swap(const std::string& dir, const oci::MemoryResources& m) {
  int64_t limit = m.limit.value_or(0), swap = m.swap.value_or(0);
  if (swap != 0 && !fs::exists(dir, kSwapFile)) {
    if (swap != -1)
      return sys::user_error(std::string(kSwapField) + ": this host has no " + kSwapFile + " (swap accounting is off)");
    swap = 0;
  }
  if (limit == -1 && swap == 0 && fs::exists(dir, kSwapFile)) swap = -1;
  auto write_limit = [&] { return fs::write(dir, kLimitFile, std::to_string(limit), kLimitField); };
  auto write_swap = [&] { return fs::write(dir, kSwapFile, std::to_string(swap), kSwapField); };
  if (limit != 0 && swap != 0) {
    uint64_t current = GUISE_TRY(fs::read_u64(dir, kLimitFile), kLimitField);
    if (swap == -1 || current < static_cast<uint64_t>(swap)) {
      GUISE_TRY(write_swap());
      return write_limit();
    }
  }
  if (limit != 0) GUISE_TRY(write_limit());
  if (swap != 0) GUISE_TRY(write_swap());
  return Ok();
}

// Kernel memory limits went away: the file is missing on kernels built without them,
// and from Linux 6.1 memory.kmem.limit_in_bytes takes a write and ignores it. Where the
// kernel still enforces one it is set; where not, the container runs without it after a
// warning, as runc 1.1 runs it (which never sets them).
Result<void> set_kernel_limit(const std::string& dir, const char* file, int64_t value, const char* field) {
  if (value == 0) return Ok();
  if (!fs::exists(dir, file)) {
    sys::warn(kernel_memory_ignored(field, std::string("this kernel has no ") + file));
    return Ok();
  }
  auto written = fs::write(dir, file, std::to_string(value), field);
  if (!written.ok() && written.error().errnum == EOPNOTSUPP) {  // cgroup.memory=nokmem
    sys::warn(kernel_memory_ignored(field, std::string("this kernel does not support ") + file));
    return Ok();
  }
  if (!written.ok()) return written;
  if (value < 0) return Ok();
  uint64_t got = GUISE_TRY(fs::read_u64(dir, file), field);
  uint64_t page = static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
  if (got != static_cast<uint64_t>(value) / page * page)
    sys::warn(kernel_memory_ignored(field, std::string("this kernel does not enforce ") + file + ": it took " +
                                               std::to_string(value) + " and reads " + std::to_string(got)));
  return Ok();
}

Result<void> set_kernel_memory(const std::string& dir, const oci::MemoryResources& m) {
  if (m.kernel)
    GUISE_TRY(set_kernel_limit(dir, "memory.kmem.limit_in_bytes", *m.kernel, "linux.resources.memory.kernel"));
  if (m.kernel_tcp)
    GUISE_TRY(
        set_kernel_limit(dir, "memory.kmem.tcp.limit_in_bytes", *m.kernel_tcp, "linux.resources.memory.kernelTCP"));
  return Ok();
}

Result<void> set_flags(const std::string& dir, const oci::MemoryResources& m) {
  if (m.swappiness) {
    if (*m.swappiness > 100)
      return sys::user_error("linux.resources.memory.swappiness: " + std::to_string(*m.swappiness) +
                             " is outside 0..100");
    GUISE_TRY(fs::write(dir, "memory.swappiness", std::to_string(*m.swappiness), "linux.resources.memory.swappiness"));
  }
  if (m.disable_oom_killer)
    GUISE_TRY(fs::write(dir, "memory.oom_control", *m.disable_oom_killer ? "1" : "0",
                        "linux.resources.memory.disableOOMKiller"));
  if (m.use_hierarchy)
    GUISE_TRY(
        fs::write(dir, "memory.use_hierarchy", *m.use_hierarchy ? "1" : "0", "linux.resources.memory.useHierarchy"));
  return Ok();
}

}  // namespace

Result<void> apply_memory(const Dirs& dirs, const oci::Resources& r) {
  if (!r.memory || !any_set(*r.memory)) return Ok();
  const auto& m = *r.memory;
  std::string dir = GUISE_TRY(dirs.need("memory", "linux.resources.memory"));
  GUISE_TRY(set_limit_and_swap(dir, m));
  if (m.reservation)
    GUISE_TRY(fs::write(dir, "memory.soft_limit_in_bytes", std::to_string(*m.reservation),
                        "linux.resources.memory.reservation"));
  GUISE_TRY(set_kernel_memory(dir, m));
  return set_flags(dir, m);
}

}  // namespace guise::cgroups::v1
