// The CLI's side of a container's monitor: starting it (and hearing whether the container
// started), and talking to its attach socket.
#pragma once

#include <sys/types.h>

#include <functional>
#include <optional>
#include <string>
#include <utility>

#include "engine/container.h"
#include "sys/fd.h"
#include "sys/result.h"

namespace guise::engine {

// $GUISE_MONITOR, else guise-monitor beside this executable, else /usr/local/bin/guise-monitor.
std::string monitor_binary();
// Same rule for guise-init (GUISE_INIT).
std::string init_binary();
// Same rule for guise-full (GUISE_FULL), the CLI with the transfer code (cli/guise/transfer.h).
std::string full_binary();
// This process's own executable (/proc/self/exe), "" when it cannot be read.
std::string self_binary();

// Starts `guise-monitor --store ROOT --id ID --sync-fd 1` and waits for its word: the
// container's pid, or the error that kept it from starting. With wait_for_attach in
// monitor.json the monitor first says it listens: `on_listening` then attaches.
Result<pid_t> start_monitor(const std::string& store_root, const std::string& id,
                            const std::function<void()>& on_listening = {});

class AttachClient {
 public:
  // Retries briefly while the monitor has not made the socket yet.
  static Result<AttachClient> connect(const std::string& socket_path, int wait_ms = 2000);
  int fd() const { return fd_.get(); }
  Result<void> send(AttachFrame kind, std::string_view data = {}) const;
  // nullopt: the monitor closed the connection.
  Result<std::optional<std::pair<AttachFrame, std::string>>> receive() const;

 private:
  explicit AttachClient(sys::Fd fd) : fd_(std::move(fd)) {}
  sys::Fd fd_;
};

}  // namespace guise::engine
