// A terminal or pipes joined to a container through its monitor's attach socket: output
// frames to stdout and stderr, stdin to the container (with -i), the terminal in raw mode
// and its size followed (with -t), and signals passed on (docker's --sig-proxy).
#pragma once

#include <functional>

#include "engine/attach.h"

namespace guise::cli {

struct AttachOptions {
  bool tty = false;
  bool stdin_open = false;  // forward standard input
  bool proxy_signals = true;
  std::function<void(int)> send_signal;  // to the container
};

// Returns the container's exit code once the monitor reports its end; an error when the
// monitor goes away without saying.
Result<int> attach_session(const engine::AttachClient& client, const AttachOptions& o);

}  // namespace guise::cli
