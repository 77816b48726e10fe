// The arithmetic of resuming a blob: how far the sink has got, the Range to ask for
// next, and what to drop of an answer that starts earlier than that (a server that
// ignores Range answers 200 with the whole blob).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "sys/result.h"

namespace guise::image {

class BlobResume {
 public:
  explicit BlobResume(int64_t offset) : delivered_(offset) {}

  int64_t delivered() const { return delivered_; }
  // "Range: bytes=N-" from the byte the sink wants next; "" from byte 0.
  std::string range_header() const;
  // An answer begins: 206 must start at delivered() (its Content-Range says where);
  // 200 is the whole blob again, so its first delivered() bytes are dropped.
  Result<void> begin_answer(long status, std::string_view content_range);
  // The part of a chunk that is new to the sink (counted as delivered).
  std::string_view take(std::string_view chunk);

 private:
  int64_t delivered_;
  int64_t skip_ = 0;
};

// The first byte a "bytes N-M/T" Content-Range names; -1 when it is malformed.
int64_t content_range_start(std::string_view content_range);

}  // namespace guise::image
