// What the image store's files share and the header does not promise: the record's
// JSON form, the lease and tmp sweeps, and the names of paths under the root.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "image/store.h"

namespace guise::image::store_internal {

std::string image_record_json(const ImageRecord& record);
// `what` names the file in errors.
Result<ImageRecord> parse_image_record(std::string_view text, const std::string& what);

// The config and layer digests a manifest names ("config.digest", "layers[].digest").
Result<std::vector<Digest>> manifest_refs(std::string_view manifest_json);

struct LeaseRoots {
  std::vector<Digest> blobs, snapshots;
};
// The roots held by live leases; leases of dead (or expired) holders are removed.
Result<LeaseRoots> read_leases(const std::string& root);

// Removes tmp/ entries whose maker is no longer running; returns the bytes freed.
int64_t sweep_tmp(const std::string& root);

inline std::string snapshots_dir(const std::string& root) { return root + "/snapshots"; }
inline std::string chains_dir(const std::string& root) { return root + "/snapshots/chains"; }
inline std::string image_path(const std::string& root, const Digest& id) {
  return root + "/images/" + id.hex + ".json";
}
inline std::string rootfs_dir(const std::string& root, const std::string& key) { return root + "/rootfs/" + key; }

// Removes the name (full, normalised) only while it still points at `id`.
Result<void> remove_name_if(const Store& store, const std::string& full, const Digest& id);

// A key that is one safe path component: [A-Za-z0-9_.-], not starting with '.'.
Result<void> check_key(std::string_view what, std::string_view key);

}  // namespace guise::image::store_internal
