// The monitor's attach socket: SOCK_SEQPACKET at containers/ID/attach, one AttachFrame
// a packet (container.h). Every client gets the output as it is read and the exit;
// what clients send (input, end of input, a terminal size) goes to the callback.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/container.h"
#include "sys/fd.h"
#include "sys/result.h"

namespace guise::engine {

inline constexpr size_t kMaxAttachFrame = 64 * 1024;

class AttachServer {
 public:
  using OnFrame = std::function<void(AttachFrame type, std::string_view payload)>;

  // Binds `path` (through its directory's fd, so a long store path still fits sun_path).
  static Result<AttachServer> listen(const std::string& path);
  int listen_fd() const { return listen_.get(); }
  // The listening socket is readable: takes the new client; its fd, to watch.
  int accept_client();
  // A client's fd is readable: its frames go to on_frame; false once it has gone.
  bool read_client(int fd, const OnFrame& on_frame);
  void drop_client(int fd);
  // To every client; one that cannot take a frame within a second is dropped.
  void broadcast(AttachFrame type, std::string_view payload);
  const std::vector<int>& clients() const { return client_fds_; }
  // Closes every client and unlinks the socket.
  void close();

  AttachServer(AttachServer&&) = default;
  AttachServer& operator=(AttachServer&&) = default;
  ~AttachServer();

 private:
  AttachServer() = default;
  std::string path_;
  sys::Fd listen_;
  std::vector<sys::Fd> clients_;
  std::vector<int> client_fds_;
};

}  // namespace guise::engine
