// Go's time.ParseDuration, as runc takes --interval and docker takes --time/-t forms:
// "5s", "100ms", "1m30s", "1.5h", "250us"; a leading '-' is refused.
#pragma once

#include <chrono>
#include <string>

#include "sys/result.h"

namespace guise::cli {

Result<std::chrono::nanoseconds> parse_duration(const std::string& text);

}  // namespace guise::cli
