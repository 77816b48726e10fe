// `save`: images as a docker-archive, the tar `docker save` (docker 20.10) writes and both
// `docker load` and `podman load` read: manifest.json, repositories, CONFIGHEX.json and,
// per layer, V1ID/{VERSION,json,layer.tar} with layer.tar uncompressed so that its
// sha256 is the layer's diff_id. A layer already written for another image is a symlink
// to the first copy, as docker writes it.
#pragma once

#include <string>
#include <vector>

#include "image/store.h"

namespace guise::image {

struct SaveImage {
  ImageRecord record;
  // Normalised references to record as RepoTags (written in docker's familiar form);
  // empty: saved by id, RepoTags null.
  std::vector<std::string> names;
};

// To a file: written beside it under a temporary name, then renamed, so a failure leaves
// no half archive. Errors are one line: "save FILE: ...".
Result<void> save_docker_archive(Store& store, const std::vector<SaveImage>& images, const std::string& path);
// To an open file (standard output): a failure leaves what was written.
Result<void> save_docker_archive(Store& store, const std::vector<SaveImage>& images, int out_fd);

}  // namespace guise::image
