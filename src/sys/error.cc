#include "sys/error.h"

#include <cstring>

namespace guise::sys {

const char* kind_name(ErrorKind k) {
  switch (k) {
    case ErrorKind::kSystem: return "system";
    case ErrorKind::kInvalid: return "invalid";
    case ErrorKind::kNotFound: return "not found";
    case ErrorKind::kAlreadyExists: return "already exists";
    case ErrorKind::kWrongState: return "wrong state";
  }
  return "system";
}

std::string Error::message() const {
  std::string out;
  for (auto it = context.rbegin(); it != context.rend(); ++it) {
    out += *it;
    out += ": ";
  }
  out += op;
  if (!path.empty()) {
    out += op.empty() ? "" : " ";
    out += path;
  }
  if (errnum != 0) {
    out += ": ";
    out += std::strerror(errnum);
  }
  for (const auto& c : cleanup) {
    out += "; and while undoing: ";
    out += c;
  }
  return out;
}

}  // namespace guise::sys
