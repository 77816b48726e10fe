#include "cli/common/signal.h"

#include <signal.h>

#include <cctype>
#include <cstdlib>
#include <cstring>
#include <utility>

namespace guise::cli {

Result<int> parse_signal(const std::string& text) {
  if (text.empty()) return sys::user_error("invalid signal \"\"");
  if (std::isdigit(static_cast<unsigned char>(text[0]))) {
    char* end = nullptr;
    long n = std::strtol(text.c_str(), &end, 10);
    // 0 sends nothing: kill(2)'s check that the process is there, as runc passes it on.
    if (*end || n < 0 || n >= NSIG) return sys::user_error("invalid signal \"" + text + "\"");
    return static_cast<int>(n);
  }
  std::string name = text;
  for (char& c : name) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (name.rfind("SIG", 0) == 0) name = name.substr(3);
  // glibc's abbreviations miss some names runc (Go) accepts.
  static const std::pair<const char*, int> aliases[] = {{"IO", SIGIO}, {"IOT", SIGABRT}, {"CLD", SIGCHLD},
                                                       {"POLL", SIGPOLL}};
  for (const auto& [alias, sig] : aliases)
    if (name == alias) return sig;
  for (int sig = 1; sig < NSIG; ++sig) {
    const char* abbrev = sigabbrev_np(sig);
    if (abbrev && name == abbrev) return sig;
  }
  return sys::user_error("invalid signal \"" + text + "\"");
}

}  // namespace guise::cli
