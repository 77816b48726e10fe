// File work on cgroupfs shared by both drivers: writes whose errors name the OCI
// field, reads, mkdir -p with a record of what was made, rmdir that waits out EBUSY,
// cgroup.procs listing, and polling for a state with a deadline.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "sys/result.h"

namespace guise::cgroups::fs {

// Writes `value` to dir/file. On failure: "<field>: write <value> to <dir/file>: <errno>".
Result<void> write(const std::string& dir, std::string_view file, std::string_view value, std::string_view field);

bool exists(const std::string& dir, std::string_view file);
Result<std::string> read(const std::string& dir, std::string_view file);   // trailing newline trimmed
Result<uint64_t> read_u64(const std::string& dir, std::string_view file);  // "max" reads as UINT64_MAX
// "key value" lines (memory.stat, cpu.stat, cgroup.events) into a map; other lines skipped.
std::map<std::string, uint64_t> parse_flat_keyed(std::string_view text);
Result<std::map<std::string, uint64_t>> read_flat_keyed(const std::string& dir, std::string_view file);

// mkdir -p; every directory it made is appended to `made`, outermost first.
Result<void> make_dirs(const std::string& path, std::vector<std::string>& made);
// Removes `dir` and its child cgroups, deepest first; a missing directory is fine.
// rmdir is retried while the kernel still holds the cgroup (EBUSY), up to `patience`.
Result<void> remove_tree(const std::string& dir, std::chrono::milliseconds patience = std::chrono::milliseconds(1000));
// Best-effort rmdir of directories made by make_dirs, innermost first (rollback).
void remove_made(const std::vector<std::string>& made);

// The names of the plain files in dir (hugetlb.<size>.* for the page sizes a cgroup offers).
Result<std::vector<std::string>> file_names(const std::string& dir);

// Pids in dir/cgroup.procs and in every child cgroup below it.
Result<std::vector<pid_t>> procs_below(const std::string& dir);

// Refuses an fd (opened at `path`) that is not on a cgroup filesystem (cgroup2 when
// `v2`): whatever mountinfo said, something else may be mounted there now.
Result<void> check_cgroupfs(int fd, const std::string& path, bool v2);

// Calls `reached` until it yields true or `timeout` passes (ETIMEDOUT naming `what`).
Result<void> wait_for(const std::function<Result<bool>()>& reached, std::string_view what,
                      std::chrono::milliseconds timeout = std::chrono::milliseconds(5000));

}  // namespace guise::cgroups::fs
