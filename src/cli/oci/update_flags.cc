#include "cli/oci/update_flags.h"

#include <unistd.h>

#include <cerrno>
#include <cstdlib>

#include "cli/common/size.h"
#include "oci/parse.h"
#include "sys/syscalls.h"

namespace guise::cli {

namespace {

Result<uint64_t> parse_unsigned(const std::optional<std::string>& text, const char* flag) {
  if (!text || text->empty()) return uint64_t{0};
  char* end = nullptr;
  errno = 0;
  unsigned long long v = std::strtoull(text->c_str(), &end, 10);
  if (*end || errno || (*text)[0] == '-')
    return sys::user_error(std::string("invalid value for ") + flag + ": \"" + *text + "\" is not an unsigned integer");
  return static_cast<uint64_t>(v);
}

Result<int64_t> parse_signed(const std::optional<std::string>& text, const char* flag) {
  if (!text || text->empty()) return int64_t{0};
  char* end = nullptr;
  errno = 0;
  long long v = std::strtoll(text->c_str(), &end, 10);
  if (*end || errno) return sys::user_error(std::string("invalid value for ") + flag + ": \"" + *text + "\" is not an integer");
  return static_cast<int64_t>(v);
}

Result<int64_t> parse_ram(const std::optional<std::string>& text, const char* flag) {
  if (!text || text->empty()) return int64_t{0};
  return parse_ram_bytes(*text, flag);
}

template <class T>
std::optional<T> nonzero(std::optional<T> v) {
  return v && *v != 0 ? v : std::nullopt;
}

Result<std::string> read_request(const std::string& source) {
  if (source != "-") return sys::read_file(source);
  std::string text;
  char buf[8192];
  for (;;) {
    ssize_t n = ::read(0, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return sys::sys_error("read", "stdin");
    if (n == 0) return text;
    text.append(buf, static_cast<size_t>(n));
  }
}

}  // namespace

Result<oci::Resources> update_from_flags(const UpdateFlags& o) {
  if ((o.l3_cache_schema && !o.l3_cache_schema->empty()) || (o.mem_bw_schema && !o.mem_bw_schema->empty()))
    return sys::user_error("--l3-cache-schema/--mem-bw-schema: Intel RDT is not supported by guise-oci");
  oci::Resources r;
  oci::MemoryResources m;
  m.limit = GUISE_TRY(parse_ram(o.memory, "memory"));
  m.reservation = GUISE_TRY(parse_ram(o.memory_reservation, "memory-reservation"));
  m.swap = GUISE_TRY(parse_ram(o.memory_swap, "memory-swap"));
  m.kernel = GUISE_TRY(parse_ram(o.kernel_memory, "kernel-memory"));
  m.kernel_tcp = GUISE_TRY(parse_ram(o.kernel_memory_tcp, "kernel-memory-tcp"));
  r.memory = m;
  oci::CpuResources c;
  c.period = GUISE_TRY(parse_unsigned(o.cpu_period, "cpu-period"));
  c.quota = GUISE_TRY(parse_signed(o.cpu_quota, "cpu-quota"));
  c.shares = GUISE_TRY(parse_unsigned(o.cpu_share, "cpu-share"));
  c.realtime_period = GUISE_TRY(parse_unsigned(o.cpu_rt_period, "cpu-rt-period"));
  c.realtime_runtime = GUISE_TRY(parse_signed(o.cpu_rt_runtime, "cpu-rt-runtime"));
  c.cpus = o.cpuset_cpus.value_or("");
  c.mems = o.cpuset_mems.value_or("");
  r.cpu = c;
  r.pids_limit = o.pids_limit;
  if (o.blkio_weight) {
    if (*o.blkio_weight > 1000 || (*o.blkio_weight != 0 && *o.blkio_weight < 10))
      return sys::user_error("invalid value for blkio-weight: " + std::to_string(*o.blkio_weight) +
                             " is outside 10..1000");
    r.block_io = oci::BlockIoResources{};
    r.block_io->weight = static_cast<uint16_t>(*o.blkio_weight);
  }
  return drop_unset(std::move(r));
}

oci::Resources drop_unset(oci::Resources r) {
  if (r.memory) {
    auto& m = *r.memory;
    m.limit = nonzero(m.limit);
    m.reservation = nonzero(m.reservation);
    m.swap = nonzero(m.swap);
    m.kernel = nonzero(m.kernel);
    m.kernel_tcp = nonzero(m.kernel_tcp);
    if (!m.limit && !m.reservation && !m.swap && !m.kernel && !m.kernel_tcp && !m.swappiness &&
        !m.disable_oom_killer && !m.use_hierarchy && !m.check_before_update)
      r.memory.reset();
  }
  if (r.cpu) {
    auto& c = *r.cpu;
    c.shares = nonzero(c.shares);
    c.quota = nonzero(c.quota);
    c.period = nonzero(c.period);
    c.realtime_runtime = nonzero(c.realtime_runtime);
    c.realtime_period = nonzero(c.realtime_period);
    if (!c.shares && !c.quota && !c.period && !c.realtime_runtime && !c.realtime_period && !c.burst && !c.idle &&
        c.cpus.empty() && c.mems.empty())
      r.cpu.reset();
  }
  r.pids_limit = nonzero(r.pids_limit);
  if (r.block_io) {
    auto& b = *r.block_io;
    b.weight = nonzero(b.weight);
    b.leaf_weight = nonzero(b.leaf_weight);
    if (!b.weight && !b.leaf_weight && b.weight_device.empty() && b.throttle_read_bps_device.empty() &&
        b.throttle_write_bps_device.empty() && b.throttle_read_iops_device.empty() &&
        b.throttle_write_iops_device.empty())
      r.block_io.reset();
  }
  return r;
}

Result<oci::Resources> update_request(const UpdateFlags& o) {
  if (o.resources.empty()) return update_from_flags(o);
  std::string origin = o.resources == "-" ? "--resources (stdin)" : "--resources " + o.resources;
  std::string text = GUISE_TRY(read_request(o.resources), "--resources");
  return drop_unset(GUISE_TRY(oci::parse_resources(text, origin)));
}

}  // namespace guise::cli
