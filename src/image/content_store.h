// Content: immutable blobs named by digest, in OCI image-layout form under a root
// (blobs/sha256/<hex>), written only through an Ingest, which is atomic and resumable:
// bytes go to ingest/<sha256 of the ref>/data, commit fsyncs, checks the size and the
// digest, renames into blobs/ without replacing, fsyncs the directory and makes the
// blob read-only. A crash or a kill leaves at most an ingest directory (resumed by the
// next begin() of the same ref), never a half blob under blobs/. Knows nothing of
// layers or images.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "image/digest.h"
#include "sys/fd.h"
#include "sys/result.h"
#include "sys/sha256.h"

namespace guise::image {

class ContentStore;

class Ingest {
 public:
  Ingest(Ingest&&) = default;
  Ingest& operator=(Ingest&&) = default;

  // Bytes already there (a resumed ingest): ask the source for the rest from here.
  int64_t offset() const { return written_; }
  // The bytes so far (offset() of them): a resumed download replays them to its unpacker.
  std::string data_path() const { return dir_ + "/data"; }
  Result<void> write(std::string_view data);
  // Verifies size and digest and publishes the blob. A mismatch names the blob, what
  // was expected and what arrived, and removes the ingest: nothing of it is left.
  Result<void> commit();
  // Drops what was written (bad input); an ingest simply dropped is kept for resuming.
  void abort();

 private:
  friend class ContentStore;
  Ingest() = default;
  std::string blobs_;  // the store's blobs/<algorithm>
  std::string dir_;  // ingest/<hash of ref>
  Digest want_;
  int64_t size_ = -1;  // -1: not known in advance
  int64_t written_ = 0;
  sys::Fd data_, lock_;
  sys::Sha256 hasher_;
};

class ContentStore {
 public:
  // Makes root/blobs/sha256 and root/ingest as needed.
  static Result<ContentStore> open(const std::string& root);

  const std::string& root() const { return root_; }
  std::string blob_path(const Digest& d) const { return root_ + "/blobs/" + d.algorithm + "/" + d.hex; }
  bool has(const Digest& d) const;
  // A small blob (a manifest, a config) read whole and verified; `max` bounds its size.
  Result<std::string> read(const Digest& d, size_t max = 4 << 20) const;
  // Writes `data` as the blob it is (its own sha256): for content made here.
  Result<Digest> put(std::string_view data) const;

  // Begins (or resumes) writing the blob `want` of `size` bytes (-1: unknown) under the
  // name `ref` (what it is fetched as). Blocks while another process ingests the same
  // ref. nullopt: the blob is already in the store.
  Result<std::optional<Ingest>> begin(const std::string& ref, const Digest& want, int64_t size) const;

 private:
  explicit ContentStore(std::string root) : root_(std::move(root)) {}
  std::string root_;
};

}  // namespace guise::image
