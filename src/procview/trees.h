// The view's FUSE filesystem, mounted detached (fsmount), and one detached bind of
// each of its files (files.h order) for the container's init to attach.
#pragma once

#include <vector>

#include "sys/fd.h"
#include "sys/result.h"

namespace guise::procview {

// Mounts a FUSE filesystem served on `fuse` (an open /dev/fuse); the kernel queues
// its INIT there at once.
Result<sys::Fd> mount_fuse(int fuse);

// A clone of each file's dentry in `mnt`. Each lookup is answered by the server, so it
// must be running. Kernels before 6.15 refuse to clone from a detached mount; there a
// helper attaches it in a mount namespace of its own, clones there, and ends.
Result<std::vector<sys::Fd>> file_trees(int mnt);

}  // namespace guise::procview
