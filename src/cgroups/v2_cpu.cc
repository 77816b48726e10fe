// v2 cpu controller: cpu.weight (from shares), cpu.max, cpu.max.burst, cpu.idle.
// Realtime bandwidth has no v2 file: asking for it is an error.
#include <cerrno>

#include "cgroups/fs.h"
#include "cgroups/v2.h"
#include "cgroups/values.h"

namespace guise::cgroups::v2 {

namespace {

Result<void> refuse_realtime(const oci::CpuResources& c) {
  if (c.realtime_runtime && *c.realtime_runtime != 0)
    return sys::user_error("linux.resources.cpu.realtimeRuntime: cgroup v2 has no realtime bandwidth control");
  if (c.realtime_period && *c.realtime_period != 0)
    return sys::user_error("linux.resources.cpu.realtimePeriod: cgroup v2 has no realtime bandwidth control");
  return Ok();
}

// The burst must not exceed the quota: a burst the kernel refuses against the old
// quota is written again once cpu.max is in.
Result<void> set_bandwidth(const std::string& dir, const oci::CpuResources& c) {
  bool need_current = !(c.quota && *c.quota != 0) || !(c.period && *c.period != 0);
  std::string current;
  if (need_current) {
    auto read = fs::read(dir, "cpu.max");
    if (read.ok()) current = *read;
  }
  std::string max = cpu_max(c.quota, c.period, current);
  constexpr const char* kBurst = "linux.resources.cpu.burst";
  bool burst_later = false;
  if (c.burst) {
    auto done = write(dir, "cpu.max.burst", std::to_string(*c.burst), kBurst);
    if (!done.ok() && (done.error().errnum != EINVAL || max.empty())) return done;
    burst_later = !done.ok();
  }
  const char* field = c.quota && *c.quota != 0 ? "linux.resources.cpu.quota" : "linux.resources.cpu.period";
  if (!max.empty()) GUISE_TRY(write(dir, "cpu.max", max, field));
  if (burst_later) GUISE_TRY(write(dir, "cpu.max.burst", std::to_string(*c.burst), kBurst));
  return Ok();
}

}  // namespace

Result<void> apply_cpu(const std::string& dir, const oci::Resources& r) {
  if (!r.cpu) return Ok();
  const auto& c = *r.cpu;
  GUISE_TRY(refuse_realtime(c));
  if (c.shares && *c.shares != 0)
    GUISE_TRY(write(dir, "cpu.weight", std::to_string(shares_to_weight(*c.shares)), "linux.resources.cpu.shares"));
  GUISE_TRY(set_bandwidth(dir, c));
  if (c.idle) GUISE_TRY(write(dir, "cpu.idle", std::to_string(*c.idle), "linux.resources.cpu.idle"));
  return Ok();
}

}  // namespace guise::cgroups::v2
