// The steps that make an image from local content, shared by `load` and `import`:
// blobs from files, uncompressed layers from (possibly compressed) tars, snapshots
// unpacked from stored layers, a synthesized OCI manifest, the record and its names.
// Each step is idempotent: what the store already has is kept, not redone.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "image/manifest.h"
#include "image/store.h"

namespace guise::image {

// The file at `path` into the content store as the blob `want` (`size` bytes, -1 for
// unknown); a mismatch names `what` and the digests.
Result<void> put_blob_file(ContentStore& content, const std::string& path, const Digest& want, int64_t size,
                           const std::string& what);

// The tar at `path` (plain, gzip, zstd, ...) stored uncompressed: its digest must be
// `diff_id`, else the error names `what` and both digests. Returns the descriptor of
// the stored layer (media type application/vnd.oci.image.layer.v1.tar).
Result<Descriptor> put_uncompressed_layer(ContentStore& content, const std::string& path, const Digest& diff_id,
                                          const std::string& what);

// Checks that the stored blob `layer` holds the tar whose digest is `diff_id`.
Result<void> verify_diff_id(const ContentStore& content, const Digest& layer, const Digest& diff_id,
                            const std::string& what);

// The snapshot of `chain_id`, unpacked from the stored blob `layer` unless the store has
// it; the unpacked tar must be `diff_id`, else the error names `what` and both digests.
Result<SnapshotInfo> ensure_snapshot(Store& store, const Digest& layer, const Digest& chain_id, const Digest& diff_id,
                                     const std::string& what);

// An OCI image manifest naming the config and the layers, bottom first.
std::string oci_manifest_json(const Descriptor& config, const std::vector<Descriptor>& layers);

// The record of an image whose config, manifest and snapshots are in the store.
ImageRecord image_record(const Digest& config, const ImageConfig& parsed, const Digest& manifest,
                         std::string manifest_media_type, const std::vector<SnapshotInfo>& snapshots);

// Puts the records, then points the names (normalised references) at them. On failure
// the records that were new are removed and the names moved back.
Result<void> commit_images(Store& store, const std::vector<ImageRecord>& records,
                           const std::vector<std::pair<std::string, Digest>>& names);

}  // namespace guise::image
