// Pull: a reference resolved at its registry to one manifest (an index narrowed to a
// platform), its config and layers fetched into the content store, each layer unpacked
// into its snapshot while it streams in, layers in parallel; then the image record and
// its name. A lease keeps what the pull fetched from garbage collection until the record
// is written; a pull killed at any point leaves at most an ingest (resumed by the next
// pull of that blob) and garbage, never a record that points at something missing.
#pragma once

#include <optional>
#include <string>

#include "image/manifest.h"
#include "image/progress.h"
#include "image/reference.h"
#include "image/registry.h"
#include "image/store.h"

namespace guise::image {

struct PullOptions {
  std::optional<Platform> platform;  // default: the host's
  RegistryOptions registry;
  int parallel = 3;  // layers in flight at once (docker's max-concurrent-downloads)
  ProgressFn progress;
};

struct PullResult {
  ImageRecord image;
  Digest repo_digest;  // what the registry calls it (the index's digest when pulled through one)
  bool fetched_new = false;  // false: every layer and the record were already there
};

Result<PullResult> pull_image(Store& store, const Reference& ref, const PullOptions& opts);

// Applies a stored layer blob into a new snapshot, verifying its diff id: for layers
// that arrived without an unpack (load, import, an earlier interrupted pull).
Result<SnapshotInfo> unpack_stored_layer(Store& store, const Digest& blob, const Digest& diff_id,
                                         const Digest& chain_id);

}  // namespace guise::image
