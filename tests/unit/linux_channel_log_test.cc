// What crosses the channel besides the steps: an error's kind, and log lines, which
// reach the receiving process's sink without any step of the protocol seeing them.
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "linux/channel.h"
#include "sys/log.h"

namespace guise::linux {
namespace {

std::vector<std::pair<sys::LogLevel, std::string>> g_seen;
void record(sys::LogLevel level, std::string_view message) { g_seen.emplace_back(level, std::string(message)); }

class LinuxChannelLog : public ::testing::Test {
 protected:
  void SetUp() override {
    g_seen.clear();
    saved_ = sys::log_sink();
    sys::set_log_sink(record, sys::LogLevel::kDebug);
  }
  void TearDown() override { sys::set_log_sink(saved_); }
  sys::LogSink saved_ = nullptr;
};

TEST_F(LinuxChannelLog, ErrorKeepsItsKind) {
  auto [parent, child] = std::move(Channel::pair()).take();
  Error e = sys::wrong_state("container not running");
  ASSERT_TRUE(child.send_error(e).ok());
  auto f = parent.recv();
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->type, Msg::kError);
  EXPECT_EQ(f->error.kind, sys::ErrorKind::kWrongState);
  EXPECT_EQ(f->error.message(), "container not running");
}

TEST_F(LinuxChannelLog, LogLinesReachTheSinkAndNeverTheStep) {
  auto [parent, child] = std::move(Channel::pair()).take();
  ASSERT_TRUE(child.send_log(sys::LogLevel::kWarning, "kernel memory limits are not enforced").ok());
  ASSERT_TRUE(child.send_log(sys::LogLevel::kDebug, "set up").ok());
  ASSERT_TRUE(child.send(Msg::kReady).ok());
  auto f = parent.expect(Msg::kReady);  // the log frames before it are not a protocol error
  ASSERT_TRUE(f.ok()) << f.error().message();
  ASSERT_EQ(g_seen.size(), 2u);
  EXPECT_EQ(g_seen[0].first, sys::LogLevel::kWarning);
  EXPECT_EQ(g_seen[0].second, "kernel memory limits are not enforced");
  EXPECT_EQ(g_seen[1].first, sys::LogLevel::kDebug);
  EXPECT_EQ(g_seen[1].second, "set up");
}

TEST_F(LinuxChannelLog, RoutedSinkSendsUntilTheChannelCloses) {
  auto [parent, child] = std::move(Channel::pair()).take();
  route_log_to(child);
  sys::warn("from the init");
  child.close();
  sys::warn("after the channel closed");  // falls back to the sink in place before
  // Restore the test's sink for the receiving side.
  sys::set_log_sink(record, sys::LogLevel::kDebug);
  std::vector<std::pair<sys::LogLevel, std::string>> before = g_seen;
  auto end = parent.recv_or_end();
  ASSERT_TRUE(end.ok());
  EXPECT_FALSE(*end);  // only the log frame was queued, then the end
  ASSERT_EQ(before.size(), 1u);
  EXPECT_EQ(before[0].second, "after the channel closed");
  ASSERT_EQ(g_seen.size(), 2u);
  EXPECT_EQ(g_seen[1].second, "from the init");
}

}  // namespace
}  // namespace guise::linux
