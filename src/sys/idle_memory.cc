#include "sys/idle_memory.h"

#include <malloc.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstring>

namespace guise::sys {

namespace {

// The [stack] mapping's lowest address, from /proc/self/maps; 0 when not found.
uintptr_t stack_bottom() {
  FILE* f = std::fopen("/proc/self/maps", "re");
  if (!f) return 0;
  char line[512];
  uintptr_t low = 0;
  while (std::fgets(line, sizeof line, f)) {
    if (!std::strstr(line, "[stack]")) continue;
    unsigned long lo = 0, hi = 0;
    if (std::sscanf(line, "%lx-%lx", &lo, &hi) == 2) low = lo;
    break;
  }
  std::fclose(f);
  return low;
}

}  // namespace

// noinline: its own frame is below the caller's, and the pages released are below both.
__attribute__((noinline)) void give_back_idle_memory() {
  ::malloc_trim(0);
  long page = ::sysconf(_SC_PAGESIZE);
  if (page <= 0) return;
  volatile char here = 0;
  uintptr_t sp = reinterpret_cast<uintptr_t>(&here) & ~static_cast<uintptr_t>(page - 1);
  uintptr_t low = stack_bottom();
  // A page of margin below this frame: the calls made from here (madvise itself, a signal
  // frame the kernel may push meanwhile) stay on a page that is kept.
  uintptr_t top = sp - static_cast<uintptr_t>(page);
  if (low == 0 || top <= low || top > sp) return;
  (void)::madvise(reinterpret_cast<void*>(low), top - low, MADV_DONTNEED);
}

}  // namespace guise::sys
