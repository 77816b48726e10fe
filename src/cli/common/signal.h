// Signal names as runc (Go) and docker take them: "KILL", "SIGKILL", "9", "sigkill".
#pragma once

#include <string>

#include "sys/result.h"

namespace guise::cli {

// The signal's number (0 by number only: no signal, a check that the target is alive);
// an error naming the text otherwise.
Result<int> parse_signal(const std::string& text);

}  // namespace guise::cli
