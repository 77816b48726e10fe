// The view's server: the FUSE filesystem and the sysinfo agent in one single-threaded
// loop. It learns the container's init pid and the seccomp listener fd from its
// watcher, and ends when the init does or the filesystem is unmounted everywhere.
#pragma once

#include <sys/sysinfo.h>

#include "procview/cgroup_view.h"
#include "sys/fd.h"

namespace guise::procview {

[[noreturn]] void run_server(Source src, sys::Fd fuse, sys::Fd watcher);

// The struct sysinfo the container is given: the host's, with the view's memory,
// swap, uptime, load and task count.
struct sysinfo view_sysinfo(const View& v);

}  // namespace guise::procview
