// The files the view serves, by the inode its FUSE filesystem gives each, and where each
// is bound in the container.
#pragma once

#include <cstdint>

namespace guise::procview {

enum class File : uint64_t { kRoot = 1, kMeminfo, kCpuinfo, kStat, kUptime, kLoadavg, kSwaps, kCpuOnline };

struct FileEntry {
  File file;
  const char* name;         // in the view's FUSE root
  const char* destination;  // in the container
};

inline constexpr FileEntry kFiles[] = {
    {File::kMeminfo, "meminfo", "/proc/meminfo"},  {File::kCpuinfo, "cpuinfo", "/proc/cpuinfo"},
    {File::kStat, "stat", "/proc/stat"},           {File::kUptime, "uptime", "/proc/uptime"},
    {File::kLoadavg, "loadavg", "/proc/loadavg"},  {File::kSwaps, "swaps", "/proc/swaps"},
    {File::kCpuOnline, "online", "/sys/devices/system/cpu/online"},
};

}  // namespace guise::procview
