// The parent <-> init protocol: typed frames, whole errors, fds by SCM_RIGHTS.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "linux/channel.h"

namespace guise::linux {
namespace {

std::pair<Channel, Channel> make_pair() {
  auto r = Channel::pair();
  if (!r.ok()) ADD_FAILURE() << r.error().message();
  return std::move(r).take();
}

const Msg kAll[] = {Msg::kIdsMapped, Msg::kMapIds, Msg::kRunHooks, Msg::kHooksDone,
                    Msg::kPtyMaster, Msg::kReady,  Msg::kError,    Msg::kExecPid};

TEST(LinuxChannel, MessageNames) {
  EXPECT_STREQ(msg_name(Msg::kIdsMapped), "ids-mapped");
  EXPECT_STREQ(msg_name(Msg::kMapIds), "map-ids");
  EXPECT_STREQ(msg_name(Msg::kRunHooks), "run-hooks");
  EXPECT_STREQ(msg_name(Msg::kHooksDone), "hooks-done");
  EXPECT_STREQ(msg_name(Msg::kPtyMaster), "pty-master");
  EXPECT_STREQ(msg_name(Msg::kReady), "ready");
  EXPECT_STREQ(msg_name(Msg::kError), "error");
  EXPECT_STREQ(msg_name(Msg::kExecPid), "exec-pid");
}

TEST(LinuxChannel, PairGivesTwoOpenEnds) {
  auto [parent, child] = make_pair();
  EXPECT_GE(parent.fd(), 0);
  EXPECT_GE(child.fd(), 0);
  EXPECT_NE(parent.fd(), child.fd());
  EXPECT_TRUE(::fcntl(parent.fd(), F_GETFD) & FD_CLOEXEC);  // never leaks into the container
  EXPECT_TRUE(::fcntl(child.fd(), F_GETFD) & FD_CLOEXEC);
}

TEST(LinuxChannel, EachMessageRoundTripsBothWays) {
  auto [parent, child] = make_pair();
  for (Msg m : kAll) {
    SCOPED_TRACE(msg_name(m));
    ASSERT_TRUE(parent.send(m).ok());
    auto f = child.recv();
    ASSERT_TRUE(f.ok()) << f.error().message();
    EXPECT_EQ(f.value().type, m);
    EXPECT_EQ(f.value().text, "");
    EXPECT_TRUE(f.value().fds.empty());
    EXPECT_EQ(f.value().error.errnum, 0);
    EXPECT_TRUE(f.value().error.context.empty());

    ASSERT_TRUE(child.send(m, "payload").ok());
    auto g = parent.recv();
    ASSERT_TRUE(g.ok()) << g.error().message();
    EXPECT_EQ(g.value().type, m);
    EXPECT_EQ(g.value().text, "payload");
  }
}

TEST(LinuxChannel, FramesKeepTheirBoundariesAndOrder) {
  auto [parent, child] = make_pair();
  ASSERT_TRUE(child.send(Msg::kExecPid, "1234").ok());
  ASSERT_TRUE(child.send(Msg::kReady).ok());
  auto a = parent.expect(Msg::kExecPid);
  ASSERT_TRUE(a.ok()) << a.error().message();
  EXPECT_EQ(a.value().text, "1234");
  auto b = parent.expect(Msg::kReady);
  ASSERT_TRUE(b.ok()) << b.error().message();
  EXPECT_EQ(b.value().text, "");
}

TEST(LinuxChannel, TextCrossesByteForByte) {
  auto [parent, child] = make_pair();
  const char raw[] = "line one\nline two\0after nul\xff";
  std::string text(raw, sizeof raw - 1);
  text += std::string(20000, 'x');
  ASSERT_TRUE(parent.send(Msg::kIdsMapped, text).ok());
  auto f = child.expect(Msg::kIdsMapped);
  ASSERT_TRUE(f.ok()) << f.error().message();
  EXPECT_EQ(f.value().text, text);
}

TEST(LinuxChannel, ErrorCrossesWhole) {
  auto [parent, child] = make_pair();
  Error e{EPERM, "mount proc", "/run/guise/abc/rootfs/proc", {"mounts[0] /proc", "preparing rootfs"}};
  ASSERT_TRUE(child.send_error(e).ok());
  auto f = parent.recv();
  ASSERT_TRUE(f.ok()) << f.error().message();
  EXPECT_EQ(f.value().type, Msg::kError);
  EXPECT_EQ(f.value().error.errnum, EPERM);
  EXPECT_EQ(f.value().error.op, "mount proc");
  EXPECT_EQ(f.value().error.path, "/run/guise/abc/rootfs/proc");
  EXPECT_EQ(f.value().error.context, e.context);
  EXPECT_EQ(f.value().error.message(), e.message());
}

TEST(LinuxChannel, ExpectTurnsAnErrorFrameIntoThePeersError) {
  auto [parent, child] = make_pair();
  Error e{ENOENT, "exec", "/bin/missing", {"starting process"}};
  ASSERT_TRUE(child.send_error(e).ok());
  auto f = parent.expect(Msg::kReady);
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.error().errnum, ENOENT);
  EXPECT_EQ(f.error().op, "exec");
  EXPECT_EQ(f.error().path, "/bin/missing");
  EXPECT_EQ(f.error().context, (std::vector<std::string>{"starting process"}));
  EXPECT_EQ(f.error().message(), "starting process: exec /bin/missing: " + std::string(strerror(ENOENT)));
}

TEST(LinuxChannel, UserErrorWithoutContextCrosses) {
  auto [parent, child] = make_pair();
  ASSERT_TRUE(child.send_error(sys::user_error("process.cwd: not a directory")).ok());
  auto f = parent.expect(Msg::kReady);
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.error().errnum, 0);
  EXPECT_TRUE(f.error().context.empty());
  EXPECT_EQ(f.error().message(), "process.cwd: not a directory");
}

TEST(LinuxChannel, FdPassesByScmRights) {
  auto [parent, child] = make_pair();
  int p[2];
  ASSERT_EQ(::pipe2(p, O_CLOEXEC), 0);
  sys::Fd rd(p[0]);
  {
    sys::Fd wr(p[1]);
    ASSERT_TRUE(child.send(Msg::kPtyMaster, {}, {wr.get()}).ok());
  }  // the sender's copy is closed: only the received one can write now
  auto f = parent.expect(Msg::kPtyMaster);
  ASSERT_TRUE(f.ok()) << f.error().message();
  ASSERT_EQ(f.value().fds.size(), 1u);
  int got = f.value().fds[0].get();
  EXPECT_GE(got, 0);
  EXPECT_TRUE(::fcntl(got, F_GETFD) & FD_CLOEXEC);
  ASSERT_EQ(::write(got, "hi", 2), 2);
  f.value().fds.clear();  // closes the last write end
  char buf[8] = {};
  EXPECT_EQ(::read(rd.get(), buf, sizeof buf), 2);
  EXPECT_STREQ(buf, "hi");
  EXPECT_EQ(::read(rd.get(), buf, sizeof buf), 0);  // EOF: no copy leaked
}

TEST(LinuxChannel, SeveralFdsPassInOrder) {
  auto [parent, child] = make_pair();
  int a[2], b[2];
  ASSERT_EQ(::pipe2(a, O_CLOEXEC), 0);
  ASSERT_EQ(::pipe2(b, O_CLOEXEC), 0);
  sys::Fd ar(a[0]), aw(a[1]), br(b[0]), bw(b[1]);
  ASSERT_TRUE(child.send(Msg::kPtyMaster, "two", {aw.get(), bw.get()}).ok());
  auto f = parent.recv();
  ASSERT_TRUE(f.ok()) << f.error().message();
  ASSERT_EQ(f.value().fds.size(), 2u);
  ASSERT_EQ(::write(f.value().fds[0].get(), "A", 1), 1);
  ASSERT_EQ(::write(f.value().fds[1].get(), "B", 1), 1);
  char c = 0;
  ASSERT_EQ(::read(ar.get(), &c, 1), 1);
  EXPECT_EQ(c, 'A');
  ASSERT_EQ(::read(br.get(), &c, 1), 1);
  EXPECT_EQ(c, 'B');
}

TEST(LinuxChannel, ExpectWrongTypeIsAProtocolError) {
  auto [parent, child] = make_pair();
  ASSERT_TRUE(child.send(Msg::kReady).ok());
  auto f = parent.expect(Msg::kRunHooks);
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.error().errnum, 0);
  EXPECT_EQ(f.error().message(), "protocol: expected run-hooks from container init, got ready");

  ASSERT_TRUE(parent.send(Msg::kHooksDone).ok());
  auto g = child.expect(Msg::kIdsMapped);
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(g.error().message(), "protocol: expected ids-mapped from container init, got hooks-done");
}

TEST(LinuxChannel, RecvAfterPeerClosesSaysInitExited) {
  auto [parent, child] = make_pair();
  child.close();
  auto f = parent.recv();
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.error().errnum, 0);
  EXPECT_EQ(f.error().message(), "container init exited before it was ready");

  auto g = parent.expect(Msg::kReady);
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(g.error().message(), "container init exited before it was ready");
}

TEST(LinuxChannel, FramesSentBeforeThePeerClosedAreStillRead) {
  auto [parent, child] = make_pair();
  ASSERT_TRUE(child.send_error(sys::user_error("boom")).ok());
  child.close();
  auto f = parent.expect(Msg::kReady);
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.error().message(), "boom");
  auto g = parent.recv();
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(g.error().message(), "container init exited before it was ready");
}

TEST(LinuxChannel, SendToAClosedPeerIsAnErrorNotASignal) {
  auto [parent, child] = make_pair();
  child.close();
  auto r = parent.send(Msg::kIdsMapped);  // MSG_NOSIGNAL: no SIGPIPE kills the runtime
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().errnum, EPIPE);
  EXPECT_EQ(r.error().op, "send to container init");
  EXPECT_EQ(r.error().path, "ids-mapped");
}

}  // namespace
}  // namespace guise::linux
