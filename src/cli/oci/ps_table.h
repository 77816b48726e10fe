// `ps` without --format json: runs ps(1) with the given arguments and keeps the
// header and the lines whose PID column is one of the container's, as runc does.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "sys/result.h"

namespace guise::cli {

Result<std::string> ps_table(const std::vector<pid_t>& pids, const std::vector<std::string>& ps_args);

}  // namespace guise::cli
