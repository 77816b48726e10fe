// Sizes and ages as docker prints them (go-units): "4.26MB", "3 weeks ago".
#pragma once

#include <cstdint>
#include <ctime>
#include <optional>
#include <string>
#include <string_view>

namespace guise::cli {

// Decimal units, three significant digits: 916B, 1.24kB, 4.26MB, 1.5GB.
std::string human_size(int64_t bytes);
// Binary units, four significant digits (go-units BytesSize, docker stats' memory): 0B,
// 1.5MiB, 7.636GiB.
std::string binary_size(uint64_t bytes);
// go-units HumanDuration: "Less than a second", "About a minute", "3 hours", "2 weeks".
std::string human_duration(int64_t seconds);
// RFC 3339 (fractions and zones allowed) to seconds since the epoch.
std::optional<int64_t> parse_rfc3339(std::string_view text);
// "3 weeks ago", or "N/A" when the time is unknown.
std::string since(std::string_view rfc3339, int64_t now = ::time(nullptr));
// docker's CreatedAt: "2024-01-02 15:04:05 +0000 UTC".
std::string created_at(std::string_view rfc3339);

}  // namespace guise::cli
