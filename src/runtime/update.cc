#include "runtime/update.h"

#include <unistd.h>

#include <cctype>
#include <cmath>
#include <cstdlib>

#include "linux/devices.h"
#include "oci/parse.h"
#include "runtime/container_cgroup.h"
#include "runtime/resources_store.h"
#include "sys/syscalls.h"

namespace guise::runtime {

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

template <class T>
void take(std::optional<T>& into, const std::optional<T>& from) {
  if (from) into = from;
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

// What is written to the cgroup: the change, completed where the kernel needs a value
// the change leaves out (v2 computes swap from the memory limit) and with the device
// rules every container gets.
Result<oci::Resources> to_apply(oci::Resources change, const oci::Resources& stored, const StateDir& dir) {
  if (change.memory && change.memory->swap && !change.memory->limit && stored.memory && stored.memory->limit)
    change.memory->limit = stored.memory->limit;
  if (!change.devices.empty()) {
    oci::Spec spec = GUISE_TRY(oci::parse_spec(GUISE_TRY(sys::read_file(dir.config_path())), dir.config_path()));
    change.devices = linux::effective_device_rules(change.devices, spec.linux->devices);
  }
  return change;
}

}  // namespace

Result<int64_t> parse_ram_bytes(const std::string& text, const std::string& flag) {
  if (text == "-1") return int64_t{-1};
  auto bad = [&] { return sys::user_error("invalid value for " + flag + ": \"" + text + "\" is not a size like 64m or 1g"); };
  size_t i = 0;
  while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.')) ++i;
  if (i == 0 || !std::isdigit(static_cast<unsigned char>(text[0]))) return bad();
  char* end = nullptr;
  std::string number = text.substr(0, i);
  double value = std::strtod(number.c_str(), &end);
  if (*end) return bad();
  std::string unit = text.substr(i);
  if (!unit.empty() && unit[0] == ' ') unit.erase(0, 1);
  for (char& c : unit) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  double scale = 1;
  size_t u = 0;
  if (u < unit.size()) {
    const std::string prefixes = "kmgtp";
    auto p = prefixes.find(unit[u]);
    if (p != std::string::npos) {
      scale = std::pow(1024.0, static_cast<double>(p + 1));
      ++u;
    }
  }
  if (u < unit.size() && unit[u] == 'i') ++u;
  if (u < unit.size() && unit[u] == 'b') ++u;
  if (u != unit.size()) return bad();
  double bytes = value * scale;
  if (bytes >= 9.2e18) return bad();
  return static_cast<int64_t>(bytes);
}

Result<oci::Resources> update_from_flags(const UpdateOptions& o) {
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

oci::Resources merge_resources(oci::Resources s, const oci::Resources& c) {
  if (!c.devices.empty()) s.devices = c.devices;
  if (c.memory) {
    auto& m = s.memory ? *s.memory : s.memory.emplace();
    const auto& n = *c.memory;
    take(m.limit, n.limit);
    take(m.reservation, n.reservation);
    take(m.swap, n.swap);
    take(m.kernel, n.kernel);
    take(m.kernel_tcp, n.kernel_tcp);
    take(m.swappiness, n.swappiness);
    take(m.disable_oom_killer, n.disable_oom_killer);
    take(m.use_hierarchy, n.use_hierarchy);
    take(m.check_before_update, n.check_before_update);
  }
  if (c.cpu) {
    auto& p = s.cpu ? *s.cpu : s.cpu.emplace();
    const auto& n = *c.cpu;
    take(p.shares, n.shares);
    take(p.quota, n.quota);
    take(p.burst, n.burst);
    take(p.period, n.period);
    take(p.realtime_runtime, n.realtime_runtime);
    take(p.realtime_period, n.realtime_period);
    if (!n.cpus.empty()) p.cpus = n.cpus;
    if (!n.mems.empty()) p.mems = n.mems;
    take(p.idle, n.idle);
  }
  take(s.pids_limit, c.pids_limit);
  if (c.block_io) {
    auto& b = s.block_io ? *s.block_io : s.block_io.emplace();
    const auto& n = *c.block_io;
    take(b.weight, n.weight);
    take(b.leaf_weight, n.leaf_weight);
    if (!n.weight_device.empty()) b.weight_device = n.weight_device;
    if (!n.throttle_read_bps_device.empty()) b.throttle_read_bps_device = n.throttle_read_bps_device;
    if (!n.throttle_write_bps_device.empty()) b.throttle_write_bps_device = n.throttle_write_bps_device;
    if (!n.throttle_read_iops_device.empty()) b.throttle_read_iops_device = n.throttle_read_iops_device;
    if (!n.throttle_write_iops_device.empty()) b.throttle_write_iops_device = n.throttle_write_iops_device;
  }
  if (!c.hugepage_limits.empty()) s.hugepage_limits = c.hugepage_limits;
  if (c.network) s.network = c.network;
  for (const auto& [k, v] : c.rdma) s.rdma[k] = v;
  for (const auto& [k, v] : c.unified) s.unified[k] = v;
  return s;
}

Result<void> update_container(const Globals& g, const UpdateOptions& o) {
  oci::Resources change;
  if (!o.resources.empty()) {
    std::string origin = o.resources == "-" ? "--resources (stdin)" : "--resources " + o.resources;
    std::string text = GUISE_TRY(read_request(o.resources), "--resources");
    change = drop_unset(GUISE_TRY(parse_resources(text, origin)));
  } else {
    change = GUISE_TRY(update_from_flags(o));
  }
  StateDir dir = GUISE_TRY(StateDir::open(g.root, o.id));
  ContainerState st = GUISE_TRY(dir.load());
  if (current_status(st, dir.path()) == Status::kStopped) return sys::user_error("container not running");
  oci::Resources stored = GUISE_TRY(load_resources(dir), "reading the container's resources");
  oci::Resources apply = GUISE_TRY(to_apply(change, stored, dir));
  auto cg = GUISE_TRY(container_cgroup(st));
  GUISE_TRY(cg->apply(apply), "updating container " + o.id);
  return save_resources(dir, merge_resources(std::move(stored), change));
}

}  // namespace guise::runtime
