#include "procview/cgroup_view.h"

#include <sys/sysinfo.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>

#include "sys/syscalls.h"

namespace guise::procview {

namespace {

std::optional<std::string> slurp(const std::string& path) {
  auto r = sys::read_file(path);
  if (!r.ok()) return std::nullopt;
  return std::move(r).take();
}

// A number file; "max" (v2's unlimited) and anything unreadable are nullopt.
std::optional<uint64_t> number(const std::string& path) {
  auto t = slurp(path);
  if (!t || t->empty() || t->compare(0, 3, "max") == 0) return std::nullopt;
  char* end = nullptr;
  unsigned long long v = std::strtoull(t->c_str(), &end, 10);
  if (end == t->c_str()) return std::nullopt;
  return v;
}

std::map<std::string, uint64_t> keyed(const std::string& path) {
  std::map<std::string, uint64_t> out;
  auto t = slurp(path);
  if (!t) return out;
  std::istringstream in(*t);
  std::string key;
  uint64_t v = 0;
  while (in >> key >> v) out[key] = v;
  return out;
}

std::string parent_of(const std::string& dir) {
  size_t slash = dir.rfind('/');
  return slash == 0 || slash == std::string::npos ? std::string() : dir.substr(0, slash);
}

// The directory and its ancestors that still have `file` (the hierarchy's root
// included; the cgroupfs mount's parent has none).
template <typename F>
void each_level(const std::string& dir, const std::string& file, F&& f) {
  for (std::string d = dir; !d.empty() && ::access((d + "/" + file).c_str(), F_OK) == 0; d = parent_of(d)) f(d);
}

uint64_t tightest(const std::string& dir, const std::string& file, uint64_t cap) {
  each_level(dir, file, [&](const std::string& d) {
    if (auto v = number(d + "/" + file)) cap = std::min(cap, *v);
  });
  return cap;
}

struct Host {
  uint64_t mem_total = 0, swap_total = 0;
  double uptime = 0;
};

Host host_facts(bool uptime) {
  Host h;
  struct sysinfo si {};
  if (::sysinfo(&si) == 0) {
    h.mem_total = static_cast<uint64_t>(si.totalram) * si.mem_unit;
    h.swap_total = static_cast<uint64_t>(si.totalswap) * si.mem_unit;
  }
  if (uptime)
    if (auto t = slurp("/proc/uptime")) h.uptime = std::strtod(t->c_str(), nullptr);
  return h;
}

// CPUs' worth of quota: ceil(quota / period), the tightest level's; 0 for none.
unsigned quota_cpus(uint64_t quota, uint64_t period, unsigned now) {
  if (period == 0 || quota == 0) return now;
  unsigned n = static_cast<unsigned>((quota + period - 1) / period);
  return now == 0 ? n : std::min(now, n);
}

void memory_v1(const Source& s, const Host& h, View& v) {
  auto st = keyed(s.memory + "/memory.stat");
  // hierarchical_memory_limit is already the tightest of the cgroup and its ancestors.
  uint64_t limit = st.count("hierarchical_memory_limit") ? st["hierarchical_memory_limit"]
                                                         : tightest(s.memory, "memory.limit_in_bytes", UINT64_MAX);
  v.mem_limited = limit < h.mem_total;
  v.mem_total = std::min(limit, h.mem_total);
  v.mem_used = number(s.memory + "/memory.usage_in_bytes").value_or(0);
  v.cache = st["total_cache"];
  v.shmem = st["total_shmem"];
  v.active_anon = st["total_active_anon"];
  v.inactive_anon = st["total_inactive_anon"];
  v.active_file = st["total_active_file"];
  v.inactive_file = st["total_inactive_file"];
  v.anon = st["total_rss"];
  v.mapped = st["total_mapped_file"];
  v.dirty = st["total_dirty"];
  v.writeback = st["total_writeback"];
  // memsw counts memory and swap together; without swap accounting there is no swap limit to show.
  if (st.count("hierarchical_memsw_limit")) {
    uint64_t memsw = st["hierarchical_memsw_limit"];
    v.swap_total = memsw > limit ? std::min(memsw - limit, h.swap_total) : 0;
    uint64_t both = number(s.memory + "/memory.memsw.usage_in_bytes").value_or(v.mem_used);
    v.swap_used = both > v.mem_used ? both - v.mem_used : 0;
  } else {
    v.swap_total = v.mem_limited ? 0 : h.swap_total;
  }
}

void memory_v2(const Source& s, const Host& h, View& v) {
  uint64_t limit = tightest(s.unified, "memory.max", UINT64_MAX);
  v.mem_limited = limit < h.mem_total;
  v.mem_total = std::min(limit, h.mem_total);
  v.mem_used = number(s.unified + "/memory.current").value_or(0);
  auto st = keyed(s.unified + "/memory.stat");
  v.cache = st["file"];
  v.shmem = st["shmem"];
  v.active_anon = st["active_anon"];
  v.inactive_anon = st["inactive_anon"];
  v.active_file = st["active_file"];
  v.inactive_file = st["inactive_file"];
  v.anon = st["anon"];
  v.mapped = st["file_mapped"];
  v.dirty = st["file_dirty"];
  v.writeback = st["file_writeback"];
  v.slab_reclaimable = st["slab_reclaimable"];
  v.slab_unreclaimable = st["slab_unreclaimable"];
  v.swap_total = std::min(tightest(s.unified, "memory.swap.max", UINT64_MAX), h.swap_total);
  v.swap_used = number(s.unified + "/memory.swap.current").value_or(0);
}

void cpu_v1(const Source& s, View& v, long hz, bool times) {
  unsigned count = 0;
  each_level(s.cpu, "cpu.cfs_quota_us", [&](const std::string& d) {
    auto q = slurp(d + "/cpu.cfs_quota_us");
    long long quota = q ? std::atoll(q->c_str()) : -1;
    if (quota > 0) count = quota_cpus(static_cast<uint64_t>(quota), number(d + "/cpu.cfs_period_us").value_or(0), count);
  });
  auto set = slurp(s.cpuset + "/cpuset.effective_cpus");
  if (!set || set->find_first_of("0123456789") == std::string::npos) set = slurp(s.cpuset + "/cpuset.cpus");
  if (!set) set = slurp("/sys/devices/system/cpu/online");
  v.cpus = shown_cpus(parse_cpu_list(set.value_or("0")), count);
  if (!times) return;
  auto st = keyed(s.cpuacct + "/cpuacct.stat");  // USER_HZ already
  v.user_ticks = st["user"];
  v.system_ticks = st["system"];
  (void)hz;
}

void cpu_v2(const Source& s, View& v, long hz, bool times) {
  unsigned count = 0;
  each_level(s.unified, "cpu.max", [&](const std::string& d) {
    auto t = slurp(d + "/cpu.max");
    if (!t || t->compare(0, 3, "max") == 0) return;
    char* end = nullptr;
    uint64_t quota = std::strtoull(t->c_str(), &end, 10);
    uint64_t period = std::strtoull(end, nullptr, 10);
    count = quota_cpus(quota, period, count);
  });
  auto set = slurp(s.unified + "/cpuset.cpus.effective");
  if (!set || set->find_first_of("0123456789") == std::string::npos) set = slurp("/sys/devices/system/cpu/online");
  v.cpus = shown_cpus(parse_cpu_list(set.value_or("0")), count);
  if (!times) return;
  auto st = keyed(s.unified + "/cpu.stat");  // microseconds
  v.user_ticks = st["user_usec"] * static_cast<uint64_t>(hz) / 1000000;
  v.system_ticks = st["system_usec"] * static_cast<uint64_t>(hz) / 1000000;
}

}  // namespace

View read_view(const Source& src, unsigned need) {
  long hz = ::sysconf(_SC_CLK_TCK);
  Host h = host_facts(need & kCpuTime);
  View v;
  if (need & kMemory) (src.v2 ? memory_v2 : memory_v1)(src, h, v);
  if (need & (kCpus | kCpuTime)) (src.v2 ? cpu_v2 : cpu_v1)(src, v, hz, need & kCpuTime);
  v.uptime = h.uptime;
  if ((need & kCpuTime) && src.init > 0) {
    auto start = sys::process_start_time(src.init);
    if (start.ok()) v.uptime = std::max(0.0, h.uptime - static_cast<double>(start.value()) / hz);
  }
  return v;
}

void Sampler::sample(const Source& src) {
  std::string list = src.v2 ? src.unified + "/cgroup.threads" : (src.cpu.empty() ? src.memory : src.cpu) + "/tasks";
  auto t = slurp(list);
  unsigned running = 0, tasks = 0;
  if (t) {
    std::istringstream in(*t);
    long tid = 0;
    while (in >> tid) {
      ++tasks;
      auto stat = slurp("/proc/" + std::to_string(tid) + "/stat");
      if (!stat) continue;
      size_t close = stat->rfind(')');
      if (close != std::string::npos && close + 2 < stat->size()) {
        char state = (*stat)[close + 2];
        if (state == 'R' || state == 'D') ++running;
      }
    }
  }
  static const double kDecay[3] = {std::exp(-5.0 / 60), std::exp(-5.0 / 300), std::exp(-5.0 / 900)};
  for (int i = 0; i < 3; ++i) load_[i] = load_[i] * kDecay[i] + running * (1 - kDecay[i]);
  running_ = running;
  tasks_ = tasks;
}

void Sampler::fill(View& v) const {
  for (int i = 0; i < 3; ++i) v.load[i] = load_[i];
  v.running = running_;
  v.tasks = tasks_;
}

}  // namespace guise::procview
