// One error type for all of guise: what failed (op), on what (path), why (errno),
// the steps it happened in (context, pushed on the way up), and its kind, so that
// callers decide on what happened without matching message text.
#pragma once

#include <cerrno>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace guise::sys {

enum class ErrorKind : uint8_t {
  kSystem = 0,     // a syscall or the host failed
  kInvalid,        // bad input: a config field, a flag's value, a request that cannot be met
  kNotFound,       // the named object (container, file given by the caller) does not exist
  kAlreadyExists,  // the name is taken
  kWrongState,     // the object exists but is not in a state that allows the request
};
const char* kind_name(ErrorKind k);

struct Error {
  int errnum = 0;                    // 0 when the error is not from a syscall
  std::string op;                    // "mount proc", or a whole message when errnum == 0
  std::string path;                  // "/run/guise/abc/rootfs/proc", may be empty
  std::vector<std::string> context;  // innermost first; printed outermost first
  ErrorKind kind = ErrorKind::kSystem;
  // Failures met while undoing what the failed step had made: kept beside the original
  // error, never in its place.
  std::vector<std::string> cleanup;

  // "creating container abc: mount proc on /x/proc: Operation not permitted"
  std::string message() const;
  bool is(ErrorKind k) const { return kind == k; }

  Error&& with_context() && { return std::move(*this); }
  Error&& with_context(std::string step) && {
    if (!step.empty()) context.push_back(std::move(step));
    return std::move(*this);
  }
  // Adds a failed undo step to this error (Rollback::unwind).
  void add_cleanup_failure(const Error& undo) { cleanup.push_back(undo.message()); }
};

// From a failed syscall: reads errno at the call site.
inline Error sys_error(std::string op, std::string path = {}) {
  return Error{errno, std::move(op), std::move(path), {}, ErrorKind::kSystem, {}};
}
inline Error sys_error_n(int errnum, std::string op, std::string path = {}) {
  return Error{errnum, std::move(op), std::move(path), {}, ErrorKind::kSystem, {}};
}
// Not from a syscall: bad input, a protocol violation, a refused request.
inline Error user_error(std::string message) { return Error{0, std::move(message), {}, {}, ErrorKind::kInvalid, {}}; }
inline Error not_found(std::string message) { return Error{0, std::move(message), {}, {}, ErrorKind::kNotFound, {}}; }
inline Error already_exists(std::string message) {
  return Error{0, std::move(message), {}, {}, ErrorKind::kAlreadyExists, {}};
}
inline Error wrong_state(std::string message) { return Error{0, std::move(message), {}, {}, ErrorKind::kWrongState, {}}; }

}  // namespace guise::sys
