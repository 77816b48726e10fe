// maskedPaths and readonlyPaths, applied after entering the rootfs. A path is
// resolved inside the rootfs (a symlink the image planted is followed there, so
// the file it names is what gets masked), the mount lands on the inode that was
// opened, and the path is checked afterwards to show the mask: a racing swap
// cannot leave the real file exposed. Files are masked with the container's
// /dev/null, opened without following and checked to be the null device (1:3),
// so a /dev/null replaced by a symlink to a procfs file cannot unmask or expose
// it (CVE-2025-31133).
#pragma once

#include <string>
#include <vector>

#include "sys/result.h"

namespace guise::linux {

Result<void> mask_paths(const std::vector<std::string>& paths);
Result<void> make_paths_readonly(const std::vector<std::string>& paths);

}  // namespace guise::linux
