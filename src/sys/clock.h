// Wall-clock time as the OCI state, logrus and docker write it.
#pragma once

#include <string>

namespace guise::sys {

// Now, RFC 3339 with nanoseconds, UTC: "2026-12-05T00:30:09.123456789Z".
std::string now_rfc3339();

}  // namespace guise::sys
