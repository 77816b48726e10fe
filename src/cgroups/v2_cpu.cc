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
  if (c.burst && (*c.burst != 0 || fs::exists(dir, "cpu.max.burst"))) {
    auto done = write(dir, "cpu.max.burst", std::to_string(*c.burst), kBurst);
    if (!done.ok() && (done.error().errnum != EINVAL || max.empty())) return done;
    burst_later = !done.ok();
  }
  const char* field = c.quota && *c.quota != 0 ? "linux.resources.cpu.quota" : "linux.resources.cpu.period";
  if (!max.empty()) GUISE_TRY(write(dir, "cpu.max", max, field));
  if (burst_later) GUISE_TRY(write(dir, "cpu.max.burst", std::to_string(*c.burst), kBurst));
  return Ok();
}

// burst (Linux 5.14) and idle (5.15) are not on every kernel. With the cpu controller
// enabled (cpu.max is there) and the file missing, the kernel is why.
Result<void> check_files(const std::string& dir, const oci::CpuResources& c) {
  if (!fs::exists(dir, "cpu.max")) return Ok();  // write() names the controller that is not enabled
  if (c.burst && *c.burst != 0 && !fs::exists(dir, "cpu.max.burst"))
    return sys::user_error("linux.resources.cpu.burst: this kernel has no " + dir +
                           "/cpu.max.burst (CFS burst came in Linux 5.14)");
  if (c.idle && *c.idle != 0 && !fs::exists(dir, "cpu.idle"))
    return sys::user_error("linux.resources.cpu.idle: this kernel has no " + dir +
                           "/cpu.idle (idle cgroups came in Linux 5.15)");
  return Ok();
}

}  // namespace

Result<void> apply_cpu(const std::string& dir, const oci::Resources& r) {
  if (!r.cpu) return Ok();
  const auto& c = *r.cpu;
  GUISE_TRY(refuse_realtime(c));
  GUISE_TRY(check_files(dir, c));
  if (c.shares && *c.shares != 0)
    GUISE_TRY(write(dir, "cpu.weight", std::to_string(shares_to_weight(*c.shares)), "linux.resources.cpu.shares"));
  GUISE_TRY(set_bandwidth(dir, c));
  if (c.idle && (*c.idle != 0 || fs::exists(dir, "cpu.idle")))
    GUISE_TRY(write(dir, "cpu.idle", std::to_string(*c.idle), "linux.resources.cpu.idle"));
  return Ok();
}

}  // namespace guise::cgroups::v2
