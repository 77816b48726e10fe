#include "image/layer_stream.h"

#include <fcntl.h>

#include <utility>

#include "sys/fd.h"

namespace guise::image {

Result<LayerStream> LayerStream::open(int fd, std::string what) {
  LayerStream s;
  s.what_ = std::move(what);
  s.a_ = archive_read_new();
  if (!s.a_) return sys::sys_error_n(ENOMEM, "archive_read_new", s.what_);
  archive_read_support_filter_all(s.a_);
  archive_read_support_format_raw(s.a_);
  if (archive_read_open_fd(s.a_, fd, 1 << 16) != ARCHIVE_OK)
    return sys::user_error("layer " + s.what_ + ": " + archive_error_string(s.a_));
  archive_entry* entry = nullptr;
  int r = archive_read_next_header(s.a_, &entry);
  if (r != ARCHIVE_OK && r != ARCHIVE_WARN)
    return sys::user_error("layer " + s.what_ + ": " + archive_error_string(s.a_));
  return s;
}

LayerStream::LayerStream(LayerStream&& o) noexcept
    : a_(std::exchange(o.a_, nullptr)), what_(std::move(o.what_)), hasher_(o.hasher_) {}

LayerStream::~LayerStream() {
  if (a_) archive_read_free(a_);
}

Result<std::string_view> LayerStream::next() {
  const void* buf = nullptr;
  size_t n = 0;
  la_int64_t offset = 0;
  int r = archive_read_data_block(a_, &buf, &n, &offset);
  if (r == ARCHIVE_EOF) return std::string_view();
  if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
    const char* why = archive_error_string(a_);
    return sys::user_error("layer " + what_ + ": " + (why ? why : "unreadable"));
  }
  std::string_view data(static_cast<const char*>(buf), n);
  hasher_.update(data);
  if (n == 0) return next();  // a sparse hole or an empty block: not the end
  return data;
}

Result<LayerSum> sum_layer(const std::string& path, const std::string& what) {
  sys::Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return sys::sys_error("open", path);
  auto stream = GUISE_TRY(LayerStream::open(fd.get(), what));
  for (;;) {
    std::string_view chunk = GUISE_TRY(stream.next());
    if (chunk.empty()) break;
  }
  return LayerSum{stream.digest(), stream.bytes()};
}

}  // namespace guise::image
