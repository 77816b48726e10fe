// One error type for all of guise: what failed (op), on what (path), why (errno),
// and the steps it happened in (context, pushed on the way up).
#pragma once

#include <cerrno>
#include <string>
#include <utility>
#include <vector>

namespace guise::sys {

struct Error {
  int errnum = 0;                    // 0 when the error is not from a syscall
  std::string op;                    // "mount proc", or a whole message when errnum == 0
  std::string path;                  // "/run/guise/abc/rootfs/proc", may be empty
  std::vector<std::string> context;  // innermost first; printed outermost first

  // "creating container abc: mount proc on /x/proc: Operation not permitted"
  std::string message() const;

  Error&& with_context() && { return std::move(*this); }
  Error&& with_context(std::string step) && {
    if (!step.empty()) context.push_back(std::move(step));
    return std::move(*this);
  }
};

// From a failed syscall: reads errno at the call site.
inline Error sys_error(std::string op, std::string path = {}) {
  return Error{errno, std::move(op), std::move(path), {}};
}
inline Error sys_error_n(int errnum, std::string op, std::string path = {}) {
  return Error{errnum, std::move(op), std::move(path), {}};
}
// Not from a syscall: bad input, a protocol violation, a refused request.
inline Error user_error(std::string message) { return Error{0, std::move(message), {}, {}}; }

}  // namespace guise::sys
