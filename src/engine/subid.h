// The subordinate id ranges of /etc/subuid and /etc/subgid ("name:start:count" or
// "uid:start:count" per line), which newuidmap and newgidmap let a user map into a user
// namespace of its own. Pure parsing, plus the map a rootless engine asks for.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "oci/spec.h"
#include "sys/result.h"

namespace guise::engine {

struct SubIdRange {
  uint32_t start = 0;
  uint32_t count = 0;
};

// The ranges a file gives the user named `name` or numbered `id`, in the file's order.
// Comments, blank and malformed lines are skipped, as shadow's own tools skip them.
std::vector<SubIdRange> parse_subids(std::string_view text, std::string_view name, uint32_t id);

// The ranges of the calling user in `path` (/etc/subuid or /etc/subgid); none when the
// file is missing.
std::vector<SubIdRange> read_subids(const std::string& path, uid_t id);

// How much the ranges give in all.
uint64_t subid_total(const std::vector<SubIdRange>& ranges);

// podman's rootless map: 0 is the user itself, 1.. the ranges one after another.
std::vector<oci::IdMapping> rootless_id_map(uint32_t own, const std::vector<SubIdRange>& ranges);

}  // namespace guise::engine
