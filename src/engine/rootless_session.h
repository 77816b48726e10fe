// Rootless: an unprivileged user's guise works as root of a user namespace of its own, in
// which 0 is the user and 1.. its /etc/subuid range (podman's map), with a mount namespace
// beside it where the containers' overlays live. Only there can it own image files as the
// image's users, mount overlays and make the containers' namespaces.
//
// One long-lived process, "guise-pause", holds both namespaces (it only waits for SIGTERM),
// so that every later command, each container's monitor, `exec` and `cp` join the same
// ones and see the same mounts; podman keeps a pause process for the same reason. Its pid
// is in RUN_DIR/pause.pid, RUN_DIR being /run/user/UID/guise, $XDG_RUNTIME_DIR/guise or
// /tmp/guise-UID, the first the user has.
// `guise system migrate` ends it once no container runs.
#pragma once

#include <sys/types.h>

#include <string>

#include "sys/result.h"

namespace guise::engine {

// Whether this process is an unprivileged user's in the initial user namespace: the case
// in which a command that touches the store must first enter the rootless namespaces.
bool needs_rootless_namespaces();

// Where the pause process's pid file and lock live; made (mode 0700) when missing, and
// refused when someone else owns it.
Result<std::string> rootless_run_dir();

// The pid of the user's pause process when one runs; 0 when none does.
pid_t running_pause_pid(const std::string& run_dir);

// Joins the user's pause process's namespaces, starting the process first when none runs.
// Single-threaded callers only (setns into a user namespace requires it). The working
// directory is kept: the mount namespace is a copy of the host's.
Result<void> enter_rootless_namespaces();

// Ends the pause process (SIGTERM), waiting up to a second for it to go. false: none ran.
Result<bool> stop_pause_process(const std::string& run_dir);

}  // namespace guise::engine
