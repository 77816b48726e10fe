// The files of the cgroup-true /proc view, rendered from the host's own file and what
// the container's cgroup allows and uses. Pure text in, text out (tests/unit).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace guise::procview {

// What the container may use and has used, as the cgroup (and its ancestors) say.
struct View {
  uint64_t mem_total = 0;  // bytes: the tightest memory limit, at most the host's RAM
  uint64_t mem_used = 0;   // bytes charged to the cgroup, page cache included
  uint64_t cache = 0, shmem = 0;
  uint64_t active_anon = 0, inactive_anon = 0, active_file = 0, inactive_file = 0;
  uint64_t anon = 0, mapped = 0, dirty = 0, writeback = 0;
  uint64_t slab_reclaimable = 0, slab_unreclaimable = 0;  // v2 only; v1 does not account them
  bool mem_limited = false;  // false: no limit below the host's RAM; memory lines stay the host's
  uint64_t swap_total = 0, swap_used = 0;
  std::vector<int> cpus;     // the host CPUs shown, in order, renumbered from 0
  double uptime = 0;         // seconds since the container's init started
  uint64_t user_ticks = 0, system_ticks = 0;  // the cgroup's CPU time in USER_HZ
  double load[3] = {0, 0, 0};
  unsigned running = 0, tasks = 0;
};

std::string render_meminfo(std::string_view host, const View& v);
std::string render_cpuinfo(std::string_view host, const View& v);
std::string render_stat(std::string_view host, const View& v, long hz);
std::string render_uptime(const View& v, long hz);
std::string render_loadavg(std::string_view host, const View& v);
std::string render_swaps(std::string_view host, const View& v);
std::string render_cpu_online(const View& v);

// "0-3,6,8-9" -> {0,1,2,3,6,8,9}; malformed parts are skipped.
std::vector<int> parse_cpu_list(std::string_view list);

// The CPUs a container with `count` CPUs' worth of quota is shown: the first `count`
// of its cpuset (all of it when count is 0 or larger).
std::vector<int> shown_cpus(const std::vector<int>& cpuset, unsigned count);

// The idle time a container of v's CPUs has had since it started, in USER_HZ.
uint64_t idle_ticks(const View& v, long hz);

}  // namespace guise::procview
