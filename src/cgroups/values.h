// Pure translation of OCI resource values into what cgroup files accept. No I/O:
// the drivers write these strings; tests/unit/cgroups_values_test.cc pins each rule.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "oci/spec.h"
#include "sys/result.h"

namespace guise::cgroups {

// cpu.shares [2, 262144] onto cpu.weight [1, 10000], runc's formula:
// 1 + ((shares - 2) * 9999) / 262142. 0 (unset) stays 0.
uint64_t shares_to_weight(uint64_t shares);

// blkio.weight [10, 1000] onto io.weight [1, 10000], runc's formula:
// 1 + (weight - 10) * 9999 / 990. 0 (unset) stays 0.
uint64_t blkio_weight_to_io_weight(uint64_t weight);

// pids.max: the limit when positive; "max" for -1 and 0 (runc treats both as unlimited).
std::string pids_max(int64_t limit);

// cpu.max "<quota|max> [period]" (v2). A quota of 0 or an absent one keeps the quota
// in `current` (cpu.max as read); a negative quota is "max"; likewise an absent or 0
// period keeps the current one. "" when neither quota nor period asks for a change.
std::string cpu_max(std::optional<int64_t> quota, std::optional<uint64_t> period, std::string_view current);

// memory.max / memory.low: -1 is "max", a positive byte count is itself. 0 means unset: "".
std::string v2_memory_value(int64_t bytes);

// memory.swap.max from OCI's memory+swap total, as runc converts it: swap - limit;
// "max" for -1 (and for limit -1 with swap unset); "" when nothing is to be written.
Result<std::string> v2_swap_max(std::optional<int64_t> swap, std::optional<int64_t> limit);

// The warning for a kernel memory limit (memory.kernel, memory.kernelTCP) the kernel
// does not enforce: "<field>: kernel memory settings are ignored (<why>)", runc's phrase
// with guise's field naming. The container runs without the limit, as under runc.
std::string kernel_memory_ignored(std::string_view field, std::string_view why);

// io.max lines, one per throttled device, in runc's order (rbps, wbps, riops, wiops):
// "8:0 rbps=1048576". A rate of 0 becomes "max" (no limit), which is what 0 means on v1.
std::vector<std::string> io_max_lines(const oci::BlockIoResources& blkio);

// "major:minor value", the v1 blkio per-device format.
std::string device_value(int64_t major, int64_t minor, uint64_t value);

// A devices.allow / devices.deny line: "c 1:3 rwm", "a *:* rwm". Absent (or negative)
// major/minor are wildcards, an empty type is "a", an empty access is "rwm".
Result<std::string> device_rule_line(const oci::DeviceRule& rule);

// An rdma.max line: "mlx4_0 hca_handle=2 hca_object=2000"; "" when no limit is set.
std::string rdma_line(const std::string& device, const oci::RdmaLimit& limit);

// Page sizes become file names (hugetlb.2MB.limit_in_bytes): digits then KB, MB or GB.
Result<void> check_page_size(std::string_view size);

// A linux.resources.unified key is a file name in the container's cgroup: no '/', no
// "..", and not one of the files that move or kill processes.
Result<void> check_unified_key(std::string_view key);

}  // namespace guise::cgroups
