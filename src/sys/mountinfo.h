// /proc/PID/mountinfo's escaping, read back the one way every reader needs it.
#pragma once

#include <string>
#include <string_view>

namespace guise::sys {

// mountinfo writes space, tab, newline and backslash in paths as \ooo (octal).
std::string unescape_mountinfo(std::string_view field);

}  // namespace guise::sys
