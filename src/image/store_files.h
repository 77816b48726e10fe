// File helpers private to the image store: every write is temp-then-rename through the
// store's tmp/, temporaries are named for the process that made them (so a sweep can
// tell a dead one's leftovers from a live one's work), and trees are removed without
// following a symlink or crossing into another mount.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "image/digest.h"
#include "sys/result.h"

namespace guise::image::store_files {

Result<void> make_dir(const std::string& path, mode_t mode = 0755);  // EEXIST is fine

// root/tmp/PID-STARTTIME-PURPOSE-RANDOM: not made, only named.
std::string tmp_name(const std::string& root, std::string_view purpose);
// Whether a tmp/ entry's maker is still running (pid alive with the same start time).
bool tmp_owner_alive(std::string_view entry_name);
bool process_alive(pid_t pid, uint64_t start_time);
Result<uint64_t> own_start_time();

// Writes a temp under root/tmp, fsyncs it, renames it onto `target` and fsyncs the
// target's directory: readers see the old file or the new one, never half.
Result<void> write_atomic(const std::string& root, const std::string& target, std::string_view data,
                          mode_t mode = 0644);

// Removes `path` and everything under it; symlinks are removed, never followed; a
// mount point inside is an error (nothing of the other filesystem is touched).
// A missing path is success.
Result<void> remove_tree(const std::string& path);

// Apparent bytes (st_size, as docker reports) of the regular files and symlinks under
// `path`, by lstat; 0 when missing.
int64_t tree_size(const std::string& path);

// Names in a directory, "." and ".." left out, sorted; a missing directory is empty.
Result<std::vector<std::string>> list_dir(const std::string& path);

bool is_hex(std::string_view s);
// sha256:HEX from a file name that must be 64 lower-case hex digits.
Result<Digest> sha256_from_hex(std::string_view hex);

}  // namespace guise::image::store_files
