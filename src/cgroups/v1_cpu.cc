// v1 cpu controller: shares (read back, since the kernel clamps silently), CFS quota,
// period and burst (ordered around the kernel's EINVAL as runc does), realtime, idle.
// burst (Linux 5.14), idle (5.15) and realtime group scheduling (CONFIG_RT_GROUP_SCHED)
// are not on every kernel: a value asked for where the file is missing is refused with
// that reason; 0 ("the default") holds there as it is.
#include <cerrno>
#include <optional>

#include "cgroups/fs.h"
#include "cgroups/v1.h"

namespace guise::cgroups::v1 {

namespace {

bool any_set(const oci::CpuResources& c) {
  return c.shares || c.quota || c.period || c.burst || c.realtime_runtime || c.realtime_period || c.idle;
}

Error no_file(const char* field, const std::string& dir, const char* file, const char* why) {
  return sys::user_error(std::string(field) + ": this kernel has no " + dir + "/" + file + " (" + why + ")");
}

// Refuses, before anything is written, a value whose file this kernel lacks.
Result<void> check_files(const std::string& dir, const oci::CpuResources& c) {
  if (c.burst && *c.burst != 0 && !fs::exists(dir, "cpu.cfs_burst_us"))
    return no_file("linux.resources.cpu.burst", dir, "cpu.cfs_burst_us", "CFS burst came in Linux 5.14");
  if (c.idle && *c.idle != 0 && !fs::exists(dir, "cpu.idle"))
    return no_file("linux.resources.cpu.idle", dir, "cpu.idle", "idle cgroups came in Linux 5.15");
  constexpr const char* kNoRt = "realtime group scheduling is not built in: CONFIG_RT_GROUP_SCHED";
  if (c.realtime_runtime && *c.realtime_runtime != 0 && !fs::exists(dir, "cpu.rt_runtime_us"))
    return no_file("linux.resources.cpu.realtimeRuntime", dir, "cpu.rt_runtime_us", kNoRt);
  if (c.realtime_period && *c.realtime_period != 0 && !fs::exists(dir, "cpu.rt_period_us"))
    return no_file("linux.resources.cpu.realtimePeriod", dir, "cpu.rt_period_us", kNoRt);
  return Ok();
}

std::optional<uint64_t> read_signed_as_u64(const std::string& dir, const char* file) {
  auto v = fs::read(dir, file);
  if (!v.ok() || v->empty() || v->front() == '-') return std::nullopt;
  auto n = fs::read_u64(dir, file);
  return n.ok() ? std::optional<uint64_t>(*n) : std::nullopt;
}

// The kernel refuses (EINVAL) a realtime runtime its parent cannot give: the parent's
// own runtime per period is what its children share. Says so, with the parent's numbers.
Error realtime_refused(Error e, const std::string& dir, int64_t runtime) {
  auto slash = dir.find_last_of('/');
  if (e.errnum != EINVAL || slash == std::string::npos || slash == 0) return e;
  std::string parent = dir.substr(0, slash);
  auto have = read_signed_as_u64(parent, "cpu.rt_runtime_us");
  auto per = read_signed_as_u64(parent, "cpu.rt_period_us");
  if (!have || !per) return e;
  e.context.insert(e.context.begin(), "the parent cgroup " + parent + " has " + std::to_string(*have) + " us per " +
                                          std::to_string(*per) +
                                          " us of realtime CPU time to share (cpu.rt_runtime_us), not enough for " +
                                          std::to_string(runtime) + " us");
  return e;
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
  std::string burst = c.burst && (*c.burst != 0 || fs::exists(dir, "cpu.cfs_burst_us")) ? std::to_string(*c.burst) : "";
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
  if (c.realtime_period && (*c.realtime_period != 0 || fs::exists(dir, "cpu.rt_period_us")))
    GUISE_TRY(
        fs::write(dir, "cpu.rt_period_us", std::to_string(*c.realtime_period), "linux.resources.cpu.realtimePeriod"));
  if (c.realtime_runtime && (*c.realtime_runtime != 0 || fs::exists(dir, "cpu.rt_runtime_us"))) {
    auto done =
        fs::write(dir, "cpu.rt_runtime_us", std::to_string(*c.realtime_runtime), "linux.resources.cpu.realtimeRuntime");
    if (!done.ok()) return realtime_refused(std::move(done.error()), dir, *c.realtime_runtime);
  }
  return Ok();
}

}  // namespace

Result<void> apply_cpu(const Dirs& dirs, const oci::Resources& r) {
  if (!r.cpu || !any_set(*r.cpu)) return Ok();
  const auto& c = *r.cpu;
  std::string dir = GUISE_TRY(dirs.need("cpu", "linux.resources.cpu"));
  GUISE_TRY(check_files(dir, c));
  if (c.shares && *c.shares != 0) GUISE_TRY(set_shares(dir, *c.shares));
  GUISE_TRY(set_bandwidth(dir, c));
  GUISE_TRY(set_realtime(dir, c));
  if (c.idle && (*c.idle != 0 || fs::exists(dir, "cpu.idle")))
    GUISE_TRY(fs::write(dir, "cpu.idle", std::to_string(*c.idle), "linux.resources.cpu.idle"));
  return Ok();
}

}  // namespace guise::cgroups::v1
