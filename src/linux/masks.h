// maskedPaths and readonlyPaths, applied after entering the rootfs. Each target is
// opened first and the mount lands on that inode; the /dev/null used to mask is
// checked to be the real null device (a planted /dev/null must not unmask).
#pragma once

#include <string>
#include <vector>

#include "sys/result.h"

namespace guise::linux {

Result<void> mask_paths(const std::vector<std::string>& paths);
Result<void> make_paths_readonly(const std::vector<std::string>& paths);

}  // namespace guise::linux
