// The one protocol between the runtime (parent) and the container's init (child):
// a SOCK_SEQPACKET socketpair, one Frame per datagram, fds by SCM_RIGHTS.
// The child's errors cross whole (errno, op, path, context) and the parent prints them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sys/fd.h"
#include "sys/log.h"
#include "sys/result.h"

namespace guise::linux {

enum class Msg : uint8_t {
  kIdsMapped = 1,       // parent -> child: uid_map/gid_map written (exec: in the cgroup, go on)
  kMapIds,              // child -> parent: user namespace made late; write its maps
  kRunHooks,            // child -> parent: namespaces made; run prestart + createRuntime
  kHooksDone,           // parent -> child
  kPtyMaster,           // child -> parent: the terminal's master end (one fd)
  kReady,               // child -> parent: set up, waiting on exec.fifo for `start` (`run`: going on)
  kError,               // either way: the sender failed; the frame carries its Error
  kExecPid,             // exec child -> parent: the pid of the process that will exec
  kCgroup,              // parent -> child: the cgroup exists; its v1 tasks files (fds; paths in text)
  kGo,                  // parent -> child: limits applied; the container's state (text)
  kExecReport,          // child -> parent, for `run`: where a failed exec's errno will come (one fd)
  kLog,                 // child -> parent: a log line for the runtime's sink (any time; never expected)
  kMountSource,         // child -> parent: a bind source (text) it cannot reach; parent -> child: an O_PATH fd on it
  kRootfsMount,         // child -> parent: the id (text) of its rootfs bind, made in a mount namespace not its own
};

const char* msg_name(Msg m);

class Channel;
// In the container's init and exec's child: the library's log lines go to the runtime
// over `parent` (kLog frames) while it is open, and to stderr once it is closed.
void route_log_to(Channel& parent);

struct Frame {
  Msg type = Msg::kError;
  Error error;              // kError only
  std::string text;         // free payload (kExecPid: the pid)
  std::vector<sys::Fd> fds; // fds passed alongside
};

class Channel {
 public:
  static Result<std::pair<Channel, Channel>> pair();  // parent end, child end
  explicit Channel(sys::Fd fd) : fd_(std::move(fd)) {}

  Result<void> send(Msg type, std::string text = {}, const std::vector<int>& fds = {});
  Result<void> send_error(const Error& e);
  // A log line for the peer's sink; the receiving side logs it inside recv(), so no
  // step of the protocol ever sees one.
  Result<void> send_log(sys::LogLevel level, std::string_view message);
  Result<Frame> recv();
  // Receives one frame and requires it to be `want`; a kError frame becomes the
  // peer's own Error; end of stream means the peer died before answering.
  Result<Frame> expect(Msg want);
  // Returns when the peer's end closes (its exit, or the exec that closes it); a kError
  // frame becomes the peer's Error, any other frame is a protocol error.
  Result<void> wait_closed();
  // One frame, or nullopt at the end of stream.
  Result<std::optional<Frame>> recv_or_end();

  int fd() const { return fd_.get(); }
  void close() { fd_.reset(); }

 private:
  Result<std::optional<Frame>> recv_frame();
  sys::Fd fd_;
};

}  // namespace guise::linux
