// Paths inside a container's rootfs are resolved inside it: openat2 with
// RESOLVE_IN_ROOT, so a symlink in an image can never aim at the host.
#pragma once

#include <string>

#include "sys/fd.h"
#include "sys/result.h"

namespace guise::linux {

// Opens `path` (absolute or relative, as seen from inside) below `root` with O_PATH.
Result<sys::Fd> open_in_root(int root, const std::string& path, int flags = 0);

// mkdir -p inside the root; returns an O_PATH fd on the final directory.
Result<sys::Fd> mkdir_all_in_root(int root, const std::string& path, mode_t mode = 0755);

// Opens the mount destination, creating it inside the root when missing: a directory,
// or an empty file when `as_file` (bind mounts of files, devices).
Result<sys::Fd> make_mount_target(int root, const std::string& path, bool as_file);

// Splits "/a/b/c" into "/a/b" and "c" (parent "/" for "/c").
std::pair<std::string, std::string> split_parent(const std::string& path);

}  // namespace guise::linux
