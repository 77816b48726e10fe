// For processes that stay as long as a container runs (the monitor, the /proc view's
// server and watcher): once set up, what the set-up alone needed goes back to the kernel.
#pragma once

namespace guise::sys {

// Returns the heap's free pages (malloc_trim) and the pages of the stack below the
// caller's frame that the set-up's deeper calls left dirty (MADV_DONTNEED: they read as
// zeros if touched again, which only a later, deeper call does, and it writes them
// first). Call it from the frame that then runs the process's loop. Best effort.
void give_back_idle_memory();

}  // namespace guise::sys
