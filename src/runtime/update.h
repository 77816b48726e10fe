// `update`: new limits for a running container, as runc 1.1 takes them. The flags, or a
// linux.resources JSON (-r FILE, or - for stdin), in which a 0 leaves that limit as it
// is (Docker sends every field). The change goes to the cgroup, and the container's
// resources as now applied are recorded in its state dir (resources_store.h).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "oci/spec.h"
#include "runtime/container.h"
#include "sys/result.h"

namespace guise::runtime {

struct UpdateOptions {
  std::string id;
  std::string resources;  // -r: a path, or "-" for stdin; the flags are ignored then
  std::optional<std::string> memory, memory_reservation, memory_swap, kernel_memory, kernel_memory_tcp;
  std::optional<std::string> cpu_period, cpu_quota, cpu_share, cpu_rt_period, cpu_rt_runtime;
  std::optional<std::string> cpuset_cpus, cpuset_mems;
  std::optional<int64_t> pids_limit;
  std::optional<uint64_t> blkio_weight;
  std::optional<std::string> l3_cache_schema, mem_bw_schema;
};

// "64m", "1.5g", "1024", "512KiB" (binary units, as Docker's units.RAMInBytes); "-1" is -1.
Result<int64_t> parse_ram_bytes(const std::string& text, const std::string& flag);

// What the flags ask for, as resources; a flag left out, or given as 0, is not set.
Result<oci::Resources> update_from_flags(const UpdateOptions& o);

// runc's reading of an update's resources: a 0 in memory (limit, reservation, swap,
// kernel, kernelTCP), cpu (shares, quota, period, realtime*), pids.limit and
// blockIO.weight/leafWeight, and an empty cpus/mems, mean "leave as is" and are dropped.
oci::Resources drop_unset(oci::Resources r);

// `stored` with each field set in `change` replacing it (maps merge key by key).
oci::Resources merge_resources(oci::Resources stored, const oci::Resources& change);

Result<void> update_container(const Globals& g, const UpdateOptions& o);

}  // namespace guise::runtime
