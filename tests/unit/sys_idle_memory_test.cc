// give_back_idle_memory: what a long-lived process's set-up dirtied below its loop's frame
// (a deep call chain's stack, freed heap) stops counting as its memory, and the process
// goes on working.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <string>

#include "sys/idle_memory.h"

namespace guise::sys {
namespace {

// Private_Dirty of the [stack] mapping, in kB, from /proc/self/smaps.
long stack_private_dirty_kb() {
  FILE* f = std::fopen("/proc/self/smaps", "re");
  if (!f) return -1;
  char line[512];
  bool in_stack = false;
  long kb = -1;
  while (std::fgets(line, sizeof line, f)) {
    bool header = std::strchr("0123456789abcdef", line[0]) != nullptr;  // "ADDR-ADDR perms ... [name]"
    if (header)
      in_stack = std::strstr(line, "[stack]") != nullptr;
    else if (in_stack && std::sscanf(line, "Private_Dirty: %ld kB", &kb) == 1)
      break;
  }
  std::fclose(f);
  return kb;
}

// A set-up that goes deep: 512 KiB of stack written, then returned from.
__attribute__((noinline)) int deep(int levels) {
  volatile char frame[16 * 1024];
  std::memset(const_cast<char*>(frame), levels, sizeof frame);
  return levels == 0 ? frame[100] : deep(levels - 1) + frame[200];
}

TEST(SysIdleMemory, TheStackADeepSetUpDirtiedIsGivenBack) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "AddressSanitizer keeps locals on a heap of its own (use-after-return checks)";
#endif
  ASSERT_GE(deep(32), 0);
  long before = stack_private_dirty_kb();
  ASSERT_GE(before, 512) << "the deep calls did not show as dirty stack";
  give_back_idle_memory();
  long after = stack_private_dirty_kb();
  EXPECT_LE(after, before - 400) << "before " << before << " kB, after " << after << " kB";
  // And the stack is usable again, deep as before.
  EXPECT_GE(deep(32), 0);
}

}  // namespace
}  // namespace guise::sys
