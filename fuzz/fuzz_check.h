// What every target asserts beyond the sanitizers: a property of guise's own, checked
// with a message, so that a violation stops the fuzzer like a crash does.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace guise::fuzz {

[[noreturn]] inline void fail(std::string_view what, std::string_view detail = {}) {
  std::fprintf(stderr, "guise fuzz check failed: %.*s\n%.*s\n", static_cast<int>(what.size()), what.data(),
               static_cast<int>(detail.size()), detail.data());
  std::abort();
}

inline void check(bool ok, std::string_view what, std::string_view detail = {}) {
  if (!ok) fail(what, detail);
}

// guise's errors are one line: the user reads them on a terminal, engines log them as one.
inline void check_error_line(const std::string& message) {
  check(!message.empty(), "an error with no message");
  check(message.find('\n') == std::string::npos, "an error message spans lines", message);
}

}  // namespace guise::fuzz
