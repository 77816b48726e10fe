// split_parent: where a device node or a file mount target is created.
#include <gtest/gtest.h>

#include "linux/paths.h"

namespace guise::linux {
namespace {

using Split = std::pair<std::string, std::string>;

TEST(LinuxPaths, SplitParentAbsolute) {
  EXPECT_EQ(split_parent("/a/b/c"), (Split{"/a/b", "c"}));
  EXPECT_EQ(split_parent("/dev/null"), (Split{"/dev", "null"}));
  EXPECT_EQ(split_parent("/dev/pts/ptmx"), (Split{"/dev/pts", "ptmx"}));
}

TEST(LinuxPaths, SplitParentAtTheRoot) {
  EXPECT_EQ(split_parent("/c"), (Split{"/", "c"}));
  EXPECT_EQ(split_parent("/"), (Split{"/", ""}));
}

TEST(LinuxPaths, SplitParentIgnoresTrailingSlashes) {
  EXPECT_EQ(split_parent("/a/b/"), (Split{"/a", "b"}));
  EXPECT_EQ(split_parent("/a/b///"), (Split{"/a", "b"}));
  EXPECT_EQ(split_parent("/c/"), (Split{"/", "c"}));
}

TEST(LinuxPaths, SplitParentRelative) {
  EXPECT_EQ(split_parent("a/b"), (Split{"a", "b"}));
  EXPECT_EQ(split_parent("dev/null"), (Split{"dev", "null"}));
  EXPECT_EQ(split_parent("c"), (Split{".", "c"}));
}

}  // namespace
}  // namespace guise::linux
