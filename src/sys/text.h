// Small text helpers every layer wants alike, so that none keeps its own copy.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace guise::sys {

// "a:b::c" on ':' → {"a", "b", "", "c"}; "" → {""} (Go's strings.Split).
std::vector<std::string> split(std::string_view s, char sep);

// Text from outside (a command line, an image, a registry) fit for a one-line message:
// control bytes written as \xNN (a newline, an escape sequence), cut after `max` bytes
// with "...".
std::string printable(std::string_view s, size_t max = 200);

// `bytes` bytes from getrandom(2), as lower-case hex: ids and temp names.
std::string random_hex(size_t bytes);

}  // namespace guise::sys
