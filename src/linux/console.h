// /dev/console for a container with a terminal: the pty's own inode, taken from
// the peer fd (no path to swap), bind-mounted on /dev/console. The target must be a
// plain file or a device node, never a symlink, and is checked after mounting to
// be the pty (CVE-2025-52565: a /dev/pts/N path re-resolved by the runtime, or a
// /dev/console symlink, gave the container a writable procfs file instead).
#pragma once

#include "sys/result.h"

namespace guise::linux {

// After pivot_root, before the user switch.
Result<void> mount_console(int pty_peer);

}  // namespace guise::linux
