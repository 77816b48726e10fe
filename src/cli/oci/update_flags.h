// `update`'s request, as runc 1.1 takes it: the flags, or a linux.resources JSON
// (-r FILE, or - for stdin) in which a 0 leaves that limit as it is (Docker sends every
// field). Turned into the oci::Resources change that runtime::update_resources applies.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "oci/spec.h"
#include "sys/result.h"

namespace guise::cli {

struct UpdateFlags {
  std::string resources;  // -r: a path, or "-" for stdin; the flags are ignored then
  std::optional<std::string> memory, memory_reservation, memory_swap, kernel_memory, kernel_memory_tcp;
  std::optional<std::string> cpu_period, cpu_quota, cpu_share, cpu_rt_period, cpu_rt_runtime;
  std::optional<std::string> cpuset_cpus, cpuset_mems;
  std::optional<int64_t> pids_limit;
  std::optional<uint64_t> blkio_weight;
  std::optional<std::string> l3_cache_schema, mem_bw_schema;
};

// What the flags ask for, as resources; a flag left out, or given as 0, is not set.
Result<oci::Resources> update_from_flags(const UpdateFlags& o);

// runc's reading of an update's resources: a 0 in memory (limit, reservation, swap,
// kernel, kernelTCP), cpu (shares, quota, period, realtime*), pids.limit and
// blockIO.weight/leafWeight, and an empty cpus/mems, mean "leave as is" and are dropped.
oci::Resources drop_unset(oci::Resources r);

// The change an `update` command line asks for: -r's JSON, or the flags.
Result<oci::Resources> update_request(const UpdateFlags& o);

}  // namespace guise::cli
