// The view's FUSE filesystem, spoken raw on /dev/fuse (no libfuse): one flat read-only
// directory of files (files.h), each rendered whole when opened, so every open sees
// fresh numbers. Reads go through the page cache, bounded by the inode's size (sendfile,
// which busybox cat uses, does so even under direct I/O): each open stores its rendering
// (FUSE_NOTIFY_STORE), which makes the size at least its length; where the last one was
// longer, its pages are dropped first (FUSE_NOTIFY_INVAL_INODE) and the last page is
// left to a read, which gets this open's rendering (by fh) and, being short, trims the
// size to the length exactly.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "procview/files.h"
#include "sys/fd.h"
#include "sys/result.h"

namespace guise::procview {

class FuseServer {
 public:
  using Render = std::function<std::string(File)>;
  FuseServer(sys::Fd dev, Render render)
      : dev_(std::move(dev)), render_(std::move(render)), buf_(new char[kBufferSize]) {}
  int fd() const { return dev_.get(); }
  // Answers one request. false: the filesystem is gone (unmounted everywhere).
  Result<bool> serve_one();

 private:
  static constexpr size_t kMaxWrite = 4096;
  static constexpr size_t kBufferSize = 64 * 1024 + 4096;  // above FUSE_MIN_READ_BUFFER and max_write
  Result<void> reply(uint64_t unique, int error, const void* data = nullptr, size_t size = 0);
  void store(uint64_t nodeid, const std::string& text, uint64_t last_size);
  void inval(uint64_t nodeid);
  Result<void> dispatch(uint32_t opcode, uint64_t unique, uint64_t nodeid, const char* in, size_t in_size);

  sys::Fd dev_;
  Render render_;
  // Left uninitialized: the kernel writes one small request at a time, so only the first
  // page or two of it is ever touched and resident (a zeroed vector kept all 68 KiB, in
  // every container's server, for as long as the container runs).
  std::unique_ptr<char[]> buf_;
  std::map<uint64_t, std::string> open_;  // fh -> the text rendered at open
  std::map<uint64_t, uint64_t> size_;     // nodeid -> the length of its last rendering
  uint64_t next_fh_ = 1;
};

}  // namespace guise::procview
