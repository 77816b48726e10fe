// Pure parsers for the usage files `stats()` reads; tests/unit pins each format.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cgroups/stats.h"

namespace guise::cgroups {

// "0-3,8,10-11" (cpuset.cpus, cpuset.mems) expanded; malformed parts are skipped.
std::vector<uint16_t> parse_id_list(std::string_view text);

// Whitespace-separated numbers (cpuacct.usage_percpu).
std::vector<uint64_t> parse_number_list(std::string_view text);

// v1 blkio.*_recursive: "8:0 Read 4096" lines; the closing "Total N" line is skipped.
std::vector<BlkioEntry> parse_blkio_v1(std::string_view text);

// v2 io.stat: "8:0 rbytes=1 wbytes=2 rios=3 wios=4 dbytes=0 dios=0" lines into bytes
// (rbytes/wbytes -> "Read"/"Write") and I/O counts (rios/wios), as runc converts them.
BlkioStats parse_io_stat(std::string_view text);

// The page size in a hugetlb file name ("hugetlb.2MB.limit_in_bytes" -> "2MB"); "" if none.
std::string hugetlb_size_of(std::string_view file_name);

// A *.pressure file: "some avg10=1.50 avg60=0.20 avg300=0.05 total=123456" and, where the
// kernel has it, a "full ..." line. nullopt when there is no "some" line.
std::optional<Pressure> parse_pressure(std::string_view text);

// The cgroup's cpu, memory and io pressure from `dir` (a cgroup2 directory); nullopt when
// none of the files can be read (no PSI in the kernel, or psi=0: the files fail EOPNOTSUPP).
std::optional<PressureStats> read_pressure(const std::string& dir);

}  // namespace guise::cgroups
