// v1 cpu controller: shares (read back, since the kernel clamps silently), CFS quota,
// period and burst (ordered around the kernel's EINVAL as runc does), realtime, idle.
#include <cerrno>

#include "cgroups/fs.h"
#include "cgroups/v1.h"

namespace guise::cgroups::v1 {

namespace {

bool any_set(const oci::CpuResources& c) {
  return c.shares || c.quota || c.period || c.burst || c.realtime_runtime || c.realtime_period || c.idle;
}

Result<void> set_shares(const std::string& dir, uint64_t shares) {
  constexpr const char* kField = "linux.resources.cpu.shares";
  GUISE_TRY(fs::write(dir, "cpu.shares", std::to_string(shares), kField));
  uint64_t got = GUISE_TRY(fs::read_u64(dir, "cpu.shares"), kField);
  if (got != shares)
    return sys::user_error(std::string(kField) + ": " + std::to_string(shares) + " is out of range; the kernel took " +
                           std::to_string(got));
  return Ok();
}

// A period (or burst) the kernel refuses against the old quota is retried once the
// new quota is in (runc's order).
Result<void> set_bandwidth(const std::string& dir, const oci::CpuResources& c) {
  bool quota = c.quota && *c.quota != 0;
  std::string period = c.period && *c.period != 0 ? std::to_string(*c.period) : "";
  std::string burst = c.burst ? std::to_string(*c.burst) : "";
  constexpr const char* kPeriod = "linux.resources.cpu.period";
  constexpr const char* kBurst = "linux.resources.cpu.burst";
  if (!period.empty()) {
    auto done = fs::write(dir, "cpu.cfs_period_us", period, kPeriod);
    if (!done.ok() && (done.error().errnum != EINVAL || !quota)) return done;
    if (done.ok()) period.clear();
  }
  if (!burst.empty()) {
    auto done = fs::write(dir, "cpu.cfs_burst_us", burst, kBurst);
    if (!done.ok() && (done.error().errnum != EINVAL || !quota)) return done;
    if (done.ok()) burst.clear();
  }
  if (!quota) return Ok();
  GUISE_TRY(fs::write(dir, "cpu.cfs_quota_us", std::to_string(*c.quota), "linux.resources.cpu.quota"));
  if (!period.empty()) GUISE_TRY(fs::write(dir, "cpu.cfs_period_us", period, kPeriod));
  if (!burst.empty()) GUISE_TRY(fs::write(dir, "cpu.cfs_burst_us", burst, kBurst));
  return Ok();
}

// The period goes first: the kernel checks runtime against it.
Result<void> set_realtime(const std::string& dir, const oci::CpuResources& c) {
  if (c.realtime_period)
    GUISE_TRY(
        fs::write(dir, "cpu.rt_period_us", std::to_string(*c.realtime_period), "linux.resources.cpu.realtimePeriod"));
  if (c.realtime_runtime)
    GUISE_TRY(fs::write(dir, "cpu.rt_runtime_us", std::to_string(*c.realtime_runtime),
                        "linux.resources.cpu.realtimeRuntime"));
  return Ok();
}

}  // namespace

Result<void> apply_cpu(const Dirs& dirs, const oci::Resources& r) {
  if (!r.cpu || !any_set(*r.cpu)) return Ok();
  const auto& c = *r.cpu;
  std::string dir = GUISE_TRY(dirs.need("cpu", "linux.resources.cpu"));
  if (c.shares && *c.shares != 0) GUISE_TRY(set_shares(dir, *c.shares));
  GUISE_TRY(set_bandwidth(dir, c));
  GUISE_TRY(set_realtime(dir, c));
  if (c.idle) GUISE_TRY(fs::write(dir, "cpu.idle", std::to_string(*c.idle), "linux.resources.cpu.idle"));
  return Ok();
}

}  // namespace guise::cgroups::v1
