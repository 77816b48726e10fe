#include "sys/error.h"

#include <cstring>

namespace guise::sys {

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
  return out;
}

}  // namespace guise::sys
