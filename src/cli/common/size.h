// Sizes as docker and runc take them: "64m", "1.5g", "1024", "512KiB" (binary units, as
// Docker's units.RAMInBytes); "-1" is -1 (no limit).
#pragma once

#include <cstdint>
#include <string>

#include "sys/result.h"

namespace guise::cli {

// Errors name `flag`.
Result<int64_t> parse_ram_bytes(const std::string& text, const std::string& flag);

}  // namespace guise::cli
