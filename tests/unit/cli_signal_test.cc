// `kill ID SIGNAL`: the signal names and numbers a user may type.
#include <gtest/gtest.h>

#include <csignal>

#include "cli/common/signal.h"

namespace guise::cli {
namespace {

std::string signal_error(const std::string& text) {
  auto r = parse_signal(text);
  return r.ok() ? "(signal " + std::to_string(r.value()) + ")" : r.error().message();
}

int sig(const std::string& text) {
  auto r = parse_signal(text);
  EXPECT_TRUE(r.ok()) << r.error().message();
  return r.ok() ? r.value() : -1;
}

TEST(CliSignal, NamesWithAndWithoutSigPrefix) {
  EXPECT_EQ(sig("KILL"), SIGKILL);
  EXPECT_EQ(sig("SIGKILL"), SIGKILL);
  EXPECT_EQ(sig("TERM"), SIGTERM);
  EXPECT_EQ(sig("SIGTERM"), SIGTERM);
  EXPECT_EQ(sig("HUP"), SIGHUP);
  EXPECT_EQ(sig("SIGUSR1"), SIGUSR1);
  EXPECT_EQ(sig("WINCH"), SIGWINCH);
  EXPECT_EQ(sig("SIGSTOP"), SIGSTOP);
  EXPECT_EQ(sig("CONT"), SIGCONT);
}

TEST(CliSignal, NamesAreCaseInsensitive) {
  EXPECT_EQ(sig("kill"), SIGKILL);
  EXPECT_EQ(sig("Term"), SIGTERM);
  EXPECT_EQ(sig("SIGint"), SIGINT);
}

TEST(CliSignal, Numbers) {
  EXPECT_EQ(sig("9"), 9);
  EXPECT_EQ(sig("15"), 15);
  EXPECT_EQ(sig("1"), 1);
  EXPECT_EQ(sig("34"), 34);  // real-time signals are reachable by number
  EXPECT_EQ(sig("64"), 64);
}

TEST(CliSignal, ZeroIsTheAliveCheck) {
  EXPECT_EQ(sig("0"), 0);
  EXPECT_EQ(signal_error("SIG0"), "invalid signal \"SIG0\"");
}

TEST(CliSignal, BadNumbersAreErrorsNamingTheSignal) {
  EXPECT_EQ(signal_error("65"), "invalid signal \"65\"");
  EXPECT_EQ(signal_error("100"), "invalid signal \"100\"");
  EXPECT_EQ(signal_error("9x"), "invalid signal \"9x\"");
  EXPECT_EQ(signal_error("-9"), "invalid signal \"-9\"");
  EXPECT_EQ(signal_error("99999999999999999999"), "invalid signal \"99999999999999999999\"");
}

TEST(CliSignal, BadNamesAreErrorsNamingTheSignal) {
  EXPECT_EQ(signal_error("FOO"), "invalid signal \"FOO\"");
  EXPECT_EQ(signal_error("SIGFOO"), "invalid signal \"SIGFOO\"");
  EXPECT_EQ(signal_error(""), "invalid signal \"\"");
  EXPECT_EQ(signal_error("SIG"), "invalid signal \"SIG\"");
  EXPECT_EQ(signal_error(" KILL"), "invalid signal \" KILL\"");
  EXPECT_EQ(parse_signal("FOO").error().errnum, 0);
}

TEST(CliSignal, RealTimeNamesAreNotKnown) {
  // glibc's sigabbrev_np has no name for the real-time signals, so only numbers
  // reach them (runc, through x/sys/unix, does not know SIGRTMIN either).
  EXPECT_EQ(signal_error("SIGRTMIN"), "invalid signal \"SIGRTMIN\"");
  EXPECT_EQ(signal_error("RTMIN+1"), "invalid signal \"RTMIN+1\"");
}

// runc upper-cases before taking the prefix off: `kill ctr sigterm` works there.
TEST(CliSignal, LowerCaseSigPrefixIsAccepted) {
  EXPECT_EQ(signal_error("sigterm"), "(signal 15)");
  EXPECT_EQ(signal_error("sigkill"), "(signal 9)");
  EXPECT_EQ(signal_error("SigHup"), "(signal 1)");
}

}  // namespace
}  // namespace guise::cli
