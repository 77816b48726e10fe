// A layer blob read as the tar it holds: libarchive's filters (gzip, zstd, xz, bzip2 or
// none, detected from the bytes) over raw data, with the uncompressed bytes counted and
// hashed as they pass, so a caller checks them against a diff_id.
#pragma once

#include <archive.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "image/digest.h"
#include "sys/result.h"
#include "sys/sha256.h"

namespace guise::image {

class LayerStream {
 public:
  // Reads `fd` from its current position; `what` names the layer in errors.
  static Result<LayerStream> open(int fd, std::string what);
  LayerStream(LayerStream&& o) noexcept;
  LayerStream& operator=(LayerStream&&) = delete;
  ~LayerStream();

  // The next uncompressed bytes; empty at the end. A corrupt stream names the layer
  // and libarchive's words.
  Result<std::string_view> next();
  uint64_t bytes() const { return hasher_.bytes(); }
  Digest digest() const { return Digest{"sha256", sys::Sha256(hasher_).hex()}; }

 private:
  LayerStream() = default;
  archive* a_ = nullptr;
  std::string what_;
  sys::Sha256 hasher_;
};

struct LayerSum {
  Digest digest;  // of the uncompressed tar: the diff_id
  uint64_t size = 0;
};
// Reads the whole layer at `path` once.
Result<LayerSum> sum_layer(const std::string& path, const std::string& what);

}  // namespace guise::image
