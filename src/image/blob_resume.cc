#include "image/blob_resume.h"

#include <algorithm>
#include <charconv>

namespace guise::image {

std::string BlobResume::range_header() const {
  return delivered_ > 0 ? "Range: bytes=" + std::to_string(delivered_) + "-" : "";
}

Result<void> BlobResume::begin_answer(long status, std::string_view content_range) {
  skip_ = 0;
  if (status == 206) {
    int64_t start = content_range_start(content_range);
    if (start != delivered_)
      return sys::user_error("asked for bytes from " + std::to_string(delivered_) + ", the registry sent \"" +
                             std::string(content_range) + "\"");
    return Ok();
  }
  skip_ = delivered_;
  return Ok();
}

std::string_view BlobResume::take(std::string_view chunk) {
  size_t drop = static_cast<size_t>(std::min<int64_t>(skip_, static_cast<int64_t>(chunk.size())));
  skip_ -= static_cast<int64_t>(drop);
  chunk.remove_prefix(drop);
  delivered_ += static_cast<int64_t>(chunk.size());
  return chunk;
}

int64_t content_range_start(std::string_view cr) {
  if (!cr.starts_with("bytes ")) return -1;
  cr.remove_prefix(6);
  // from_chars takes a leading '-', which no byte position has.
  if (cr.empty() || cr.front() < '0' || cr.front() > '9') return -1;
  int64_t start = -1;
  auto [end, ec] = std::from_chars(cr.data(), cr.data() + cr.size(), start);
  if (ec != std::errc() || end == cr.data() + cr.size() || *end != '-') return -1;
  return start;
}

}  // namespace guise::image
