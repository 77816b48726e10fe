// Small text helpers every layer wants alike, so that none keeps its own copy.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace guise::sys {

// "a:b::c" on ':' → {"a", "b", "", "c"}; "" → {""} (Go's strings.Split).
std::vector<std::string> split(std::string_view s, char sep);

// `bytes` bytes from getrandom(2), as lower-case hex: ids and temp names.
std::string random_hex(size_t bytes);

}  // namespace guise::sys
