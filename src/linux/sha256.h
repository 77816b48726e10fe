// SHA-256, for naming cached seccomp programs by their profile's content.
#pragma once

#include <string>
#include <string_view>

namespace guise::linux {

// Lower-case hex digest of `data`.
std::string sha256_hex(std::string_view data);

}  // namespace guise::linux
