// v2 memory controller: memory.max, memory.swap.max (swap alone, converted from OCI's
// memory+swap total as runc does), memory.low. swappiness and useHierarchy have no v2
// file and are ignored, as runc ignores them; so is a kernel memory limit, which v2
// cannot enforce at all, with a warning (runc 1.1 warns and runs).
#include <cerrno>

#include "cgroups/fs.h"
#include "cgroups/v2.h"
#include "cgroups/values.h"
#include "sys/log.h"

namespace guise::cgroups::v2 {

namespace {

constexpr const char* kLimitField = "linux.resources.memory.limit";
constexpr const char* kSwapField = "linux.resources.memory.swap";

// checkBeforeUpdate: refuse a limit below what the cgroup already uses rather than
// have the kernel OOM-kill the container to meet it.
Result<void> check_usage(const std::string& dir, const oci::MemoryResources& m) {
  if (!m.check_before_update.value_or(false) || !m.limit || *m.limit <= 0) return Ok();
  uint64_t current = GUISE_TRY(fs::read_u64(dir, "memory.current"), kLimitField);
  if (current > static_cast<uint64_t>(*m.limit))
    return sys::user_error(std::string(kLimitField) + ": " + std::to_string(*m.limit) + " is below the current usage " +
                           std::to_string(current) + " (checkBeforeUpdate)");
  return Ok();
}

Result<void> set_swap(const std::string& dir, const oci::MemoryResources& m) {
  std::string swap = GUISE_TRY(v2_swap_max(m.swap, m.limit), kSwapField);
  if (swap.empty()) return Ok();
  auto done = write(dir, "memory.swap.max", swap, kSwapField);
  // Without swap accounting there is no file; "no limit" and "no swap" both hold then.
  if (!done.ok() && done.error().errnum == ENOENT && (swap == "max" || swap == "0")) return Ok();
  if (!done.ok() && done.error().errnum == ENOENT && fs::exists(dir, "memory.max"))
    return sys::user_error(std::string(kSwapField) + ": this host has no memory.swap.max (swap accounting is off)");
  return done;
}

}  // namespace

Result<void> apply_memory(const std::string& dir, const oci::Resources& r) {
  if (!r.memory) return Ok();
  const auto& m = *r.memory;
  if (m.disable_oom_killer.value_or(false))
    return sys::user_error("linux.resources.memory.disableOOMKiller: cgroup v2 cannot turn the OOM killer off");
  if (m.kernel.value_or(0) != 0)
    sys::warn(kernel_memory_ignored("linux.resources.memory.kernel", "cgroup v2 has no kernel memory limit"));
  if (m.kernel_tcp.value_or(0) != 0)
    sys::warn(kernel_memory_ignored("linux.resources.memory.kernelTCP", "cgroup v2 has no kernel TCP memory limit"));
  if (!m.limit && !m.swap && !m.reservation) return Ok();
  GUISE_TRY(check_usage(dir, m));
  GUISE_TRY(set_swap(dir, m));
  if (m.limit) {
    std::string v = v2_memory_value(*m.limit);
    if (!v.empty()) GUISE_TRY(write(dir, "memory.max", v, kLimitField));
  }
  if (m.reservation) {
    std::string v = v2_memory_value(*m.reservation);
    if (!v.empty()) GUISE_TRY(write(dir, "memory.low", v, "linux.resources.memory.reservation"));
  }
  return Ok();
}

}  // namespace guise::cgroups::v2
