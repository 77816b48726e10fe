// Content digests as the OCI image spec writes them: "sha256:<64 lower-case hex>".
#pragma once

#include <string>
#include <string_view>

#include "sys/result.h"

namespace guise::image {

struct Digest {
  std::string algorithm;  // "sha256" (sha512 is parsed, but nothing here computes it)
  std::string hex;        // lower-case

  std::string str() const { return algorithm + ":" + hex; }
  bool operator==(const Digest&) const = default;
};

// Refuses anything but a known algorithm with the exact hex length, naming the text.
Result<Digest> parse_digest(std::string_view text);

// The sha256 digest of `data`.
Digest sha256_of(std::string_view data);

}  // namespace guise::image
