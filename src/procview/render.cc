#include "procview/render.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>

namespace guise::procview {

namespace {

std::vector<std::string_view> lines_of(std::string_view text) {
  std::vector<std::string_view> out;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    out.push_back(text.substr(0, nl));
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
  return out;
}

// A meminfo line as the kernel prints it: the key and colon padded to 16, the value
// in kB right-aligned in 8.
std::string kb_line(std::string_view key, uint64_t bytes) {
  char buf[96];
  std::string k = std::string(key) + ":";
  std::snprintf(buf, sizeof buf, "%-15s %8" PRIu64 " kB\n", k.c_str(), bytes / 1024);
  return buf;
}

std::string range_text(unsigned n) {
  return n <= 1 ? std::string("0") : "0-" + std::to_string(n - 1);
}

}  // namespace

std::vector<int> parse_cpu_list(std::string_view list) {
  std::vector<int> out;
  while (!list.empty()) {
    size_t comma = list.find(',');
    std::string part(list.substr(0, comma));
    list.remove_prefix(comma == std::string_view::npos ? list.size() : comma + 1);
    char* end = nullptr;
    long a = std::strtol(part.c_str(), &end, 10);
    if (end == part.c_str() || a < 0) continue;
    long b = a;
    if (*end == '-') {
      char* end2 = nullptr;
      b = std::strtol(end + 1, &end2, 10);
      if (end2 == end + 1 || b < a) continue;
    }
    for (long c = a; c <= b && c < 65536; ++c) out.push_back(static_cast<int>(c));
  }
  return out;
}

std::vector<int> shown_cpus(const std::vector<int>& cpuset, unsigned count) {
  if (count == 0 || count >= cpuset.size()) return cpuset;
  return {cpuset.begin(), cpuset.begin() + count};
}

uint64_t idle_ticks(const View& v, long hz) {
  double all = v.uptime * static_cast<double>(hz) * static_cast<double>(std::max<size_t>(v.cpus.size(), 1));
  double busy = static_cast<double>(v.user_ticks + v.system_ticks);
  return all > busy ? static_cast<uint64_t>(all - busy) : 0;
}

std::string render_meminfo(std::string_view host, const View& v) {
  if (!v.mem_limited) return std::string(host);
  uint64_t used = std::min(v.mem_used, v.mem_total);
  uint64_t free = v.mem_total - used;
  uint64_t cache = std::min(v.cache, used);
  uint64_t reclaimable = v.active_file + v.inactive_file;
  if (reclaimable == 0) reclaimable = cache;
  uint64_t available = std::min(free + reclaimable, v.mem_total);
  uint64_t swap_free = v.swap_total - std::min(v.swap_used, v.swap_total);
  std::string out;
  for (std::string_view line : lines_of(host)) {
    if (line.empty()) continue;
    std::string_view key = line.substr(0, line.find(':'));
    if (key == "MemTotal") out += kb_line(key, v.mem_total);
    else if (key == "MemFree") out += kb_line(key, free);
    else if (key == "MemAvailable") out += kb_line(key, available);
    else if (key == "Buffers" || key == "SwapCached") out += kb_line(key, 0);
    else if (key == "Cached") out += kb_line(key, cache);
    else if (key == "Active") out += kb_line(key, v.active_anon + v.active_file);
    else if (key == "Inactive") out += kb_line(key, v.inactive_anon + v.inactive_file);
    else if (key == "Active(anon)") out += kb_line(key, v.active_anon);
    else if (key == "Inactive(anon)") out += kb_line(key, v.inactive_anon);
    else if (key == "Active(file)") out += kb_line(key, v.active_file);
    else if (key == "Inactive(file)") out += kb_line(key, v.inactive_file);
    else if (key == "Shmem") out += kb_line(key, v.shmem);
    else if (key == "AnonPages") out += kb_line(key, v.anon);
    else if (key == "Mapped") out += kb_line(key, v.mapped);
    else if (key == "Dirty") out += kb_line(key, v.dirty);
    else if (key == "Writeback") out += kb_line(key, v.writeback);
    else if (key == "Slab") out += kb_line(key, v.slab_reclaimable + v.slab_unreclaimable);
    else if (key == "SReclaimable" || key == "KReclaimable") out += kb_line(key, v.slab_reclaimable);
    else if (key == "SUnreclaim") out += kb_line(key, v.slab_unreclaimable);
    else if (key == "SwapTotal") out += kb_line(key, v.swap_total);
    else if (key == "SwapFree") out += kb_line(key, swap_free);
    else out += std::string(line) + "\n";
  }
  return out;
}

std::string render_cpuinfo(std::string_view host, const View& v) {
  // One block per CPU, blank-line separated, each opening with "processor\t: N".
  std::string out;
  std::vector<std::string_view> block;
  auto flush = [&] {
    if (block.empty()) return;
    int cpu = -1;
    for (auto l : block)
      if (l.substr(0, 9) == "processor") cpu = std::atoi(std::string(l.substr(l.find(':') + 1)).c_str());
    auto it = std::find(v.cpus.begin(), v.cpus.end(), cpu);
    if (it != v.cpus.end()) {
      for (auto l : block) {
        if (l.substr(0, 9) == "processor")
          out += "processor\t: " + std::to_string(it - v.cpus.begin()) + "\n";
        else
          out += std::string(l) + "\n";
      }
      out += "\n";
    }
    block.clear();
  };
  for (auto l : lines_of(host)) {
    if (l.empty()) flush();
    else block.push_back(l);
  }
  flush();
  return out;
}

std::string render_stat(std::string_view host, const View& v, long hz) {
  size_t n = std::max<size_t>(v.cpus.size(), 1);
  uint64_t idle = idle_ticks(v, hz);
  auto cpu_line = [](const std::string& name, uint64_t user, uint64_t sys, uint64_t idl) {
    char buf[160];
    std::snprintf(buf, sizeof buf, "%s %" PRIu64 " 0 %" PRIu64 " %" PRIu64 " 0 0 0 0 0 0\n", name.c_str(), user, sys,
                  idl);
    return std::string(buf);
  };
  std::string out;
  for (auto l : lines_of(host)) {
    if (l.empty()) continue;
    if (l.substr(0, 4) == "cpu ") {
      out += cpu_line("cpu ", v.user_ticks, v.system_ticks, idle);
      for (size_t i = 0; i < n; ++i)
        out += cpu_line("cpu" + std::to_string(i), v.user_ticks / n, v.system_ticks / n, idle / n);
    } else if (l.substr(0, 3) == "cpu") {
      continue;  // the host's per-CPU lines: replaced above
    } else {
      out += std::string(l) + "\n";
    }
  }
  return out;
}

std::string render_uptime(const View& v, long hz) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.2f %.2f\n", v.uptime, static_cast<double>(idle_ticks(v, hz)) / hz);
  return buf;
}

std::string render_loadavg(std::string_view host, const View& v) {
  // The fifth field, the last pid the kernel gave out, stays the host's.
  std::string last = "0";
  auto fields = lines_of(host);
  if (!fields.empty()) {
    std::string_view l = fields[0];
    size_t sp = l.rfind(' ');
    if (sp != std::string_view::npos) last = std::string(l.substr(sp + 1));
  }
  char buf[128];
  std::snprintf(buf, sizeof buf, "%.2f %.2f %.2f %u/%u %s\n", v.load[0], v.load[1], v.load[2], v.running, v.tasks,
                last.c_str());
  return buf;
}

std::string render_swaps(std::string_view host, const View& v) {
  if (!v.mem_limited) return std::string(host);
  std::string out = "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n";
  if (v.swap_total > 0) {
    char buf[160];
    std::snprintf(buf, sizeof buf, "%-40s%s\t\t%" PRIu64 "\t\t%" PRIu64 "\t\t%d\n", "none", "virtual",
                  v.swap_total / 1024, std::min(v.swap_used, v.swap_total) / 1024, -1);
    out += buf;
  }
  return out;
}

std::string render_cpu_online(const View& v) {
  return range_text(static_cast<unsigned>(std::max<size_t>(v.cpus.size(), 1))) + "\n";
}

}  // namespace guise::procview
