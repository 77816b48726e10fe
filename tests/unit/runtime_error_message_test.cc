// How every error guise reports reads: context outermost first, then what failed
// on what, then why.
#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>

#include "sys/result.h"

namespace guise {
namespace {

TEST(RuntimeErrorMessage, OpPathAndErrno) {
  Error e = sys::sys_error_n(EPERM, "mount proc on", "/run/guise/abc/rootfs/proc");
  EXPECT_EQ(e.message(), "mount proc on /run/guise/abc/rootfs/proc: " + std::string(std::strerror(EPERM)));
}

TEST(RuntimeErrorMessage, ContextIsPrintedOutermostFirst) {
  Error e = sys::sys_error_n(EPERM, "mount proc on", "/x/proc")
                .with_context("preparing rootfs")
                .with_context("creating container abc");
  EXPECT_EQ(e.context, (std::vector<std::string>{"preparing rootfs", "creating container abc"}));
  EXPECT_EQ(e.message(),
            "creating container abc: preparing rootfs: mount proc on /x/proc: " + std::string(std::strerror(EPERM)));
}

TEST(RuntimeErrorMessage, UserErrorIsTheWholeMessage) {
  Error e = sys::user_error("container abc does not exist");
  EXPECT_EQ(e.errnum, 0);
  EXPECT_EQ(e.message(), "container abc does not exist");
  EXPECT_EQ(std::move(e).with_context("deleting").message(), "deleting: container abc does not exist");
}

TEST(RuntimeErrorMessage, NoPathNoErrno) {
  EXPECT_EQ(sys::sys_error_n(ENOENT, "socketpair").message(), "socketpair: " + std::string(std::strerror(ENOENT)));
  EXPECT_EQ((Error{0, "op", "/p", {}}).message(), "op /p");
  EXPECT_EQ((Error{0, "", "/only/path", {}}).message(), "/only/path");
  EXPECT_EQ((Error{EACCES, "", "", {}}).message(), ": " + std::string(std::strerror(EACCES)));
}

TEST(RuntimeErrorMessage, EmptyContextStepIsNotPushed) {
  Error e = sys::user_error("x").with_context("").with_context();
  EXPECT_TRUE(e.context.empty());
  EXPECT_EQ(e.message(), "x");
}

TEST(RuntimeErrorMessage, SysErrorReadsErrnoAtTheCallSite) {
  errno = ENOTDIR;
  Error e = sys::sys_error("open", "/a/b");
  EXPECT_EQ(e.errnum, ENOTDIR);
  EXPECT_EQ(e.op, "open");
  EXPECT_EQ(e.path, "/a/b");
}

Result<int> fails() { return sys::sys_error_n(EIO, "read", "/f"); }
Result<int> inner() {
  int v = GUISE_TRY(fails(), "loading");
  return v + 1;
}
Result<void> outer() {
  GUISE_TRY(inner(), "starting container abc");
  return Ok();
}

TEST(RuntimeErrorMessage, TryPushesContextOnTheWayUp) {
  auto r = outer();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().errnum, EIO);
  EXPECT_EQ(r.error().message(), "starting container abc: loading: read /f: " + std::string(std::strerror(EIO)));
}

}  // namespace
}  // namespace guise
