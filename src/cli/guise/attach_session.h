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
  // The key sequence that detaches, leaving the container running (docker's default:
  // ctrl-p ctrl-q); only read from a terminal's input. Empty: none.
  std::string detach_keys = "\x10\x11";
};

// docker's --detach-keys: "ctrl-p,ctrl-q", "ctrl-a,x". An error names the flag.
Result<std::string> parse_detach_keys(const std::string& text);

// attach_session's answer when the detach keys were typed: not an exit code.
inline constexpr int kDetached = -2;

// Returns the container's exit code once the monitor reports its end; an error when the
// monitor goes away without saying.
Result<int> attach_session(const engine::AttachClient& client, const AttachOptions& o);

}  // namespace guise::cli
