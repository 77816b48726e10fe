// `load`: images from an archive that `docker save` or `podman save` wrote. Both kinds are
// read: docker-archive (manifest.json naming a config and layer tars, compressed or not;
// docker 25+ puts them under blobs/sha256/ beside an index.json) and oci-archive
// (oci-layout, index.json, blobs/sha256/, names in the annotations). docker-archive
// layers are stored uncompressed, checked against the config's diff_ids, under a
// synthesized OCI manifest; an oci-archive's manifest and blobs are kept as they are.
//
// The whole load holds a lease; on any failure what it added becomes garbage and is
// collected, so the store is as it was.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "image/store.h"

namespace guise::image {

struct LoadedImage {
  ImageRecord record;
  std::vector<std::string> names;  // normalised references; empty: loaded without a name
};

// `path` "-" reads standard input. Errors are one line: "load FILE: ...".
Result<std::vector<LoadedImage>> load_archive(Store& store, const std::string& path);

// The name an oci-archive's index entry gives: io.containerd.image.name, else
// org.opencontainers.image.ref.name when it is a whole reference (not a bare tag such
// as "latest"); nullopt for none.
std::optional<std::string> oci_entry_name(const std::map<std::string, std::string>& annotations);

}  // namespace guise::image
