// SHA-256: naming cached seccomp programs by their profile's content, and verifying
// content-addressed blobs as they stream in.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace guise::sys {

// Incremental: update() as bytes arrive, hex() once at the end.
class Sha256 {
 public:
  Sha256();
  void update(std::string_view data);
  void update(const void* data, size_t n) { update(std::string_view(static_cast<const char*>(data), n)); }
  std::string hex();  // lower-case; the hasher is spent after
  uint64_t bytes() const { return total_; }

 private:
  uint32_t h_[8];
  unsigned char block_[64];
  size_t fill_ = 0;
  uint64_t total_ = 0;
};

// Lower-case hex digest of `data`.
std::string sha256_hex(std::string_view data);

}  // namespace guise::sys
