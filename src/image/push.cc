#include "image/push.h"

#include <fcntl.h>

#include "image/manifest.h"

namespace guise::image {

namespace {

Result<void> push_blob(Store& store, RegistryClient& client, const std::string& repo, const Descriptor& d,
                       const ProgressFn& progress) {
  std::string id = d.digest.hex.substr(0, 12);
  auto say = [&](LayerStatus s, int64_t cur = 0) {
    if (progress) progress(LayerEvent{id, s, cur, d.size});
  };
  say(LayerStatus::kPreparing);
  if (GUISE_TRY(client.has_blob(repo, d.digest))) {
    say(LayerStatus::kLayerExists);
    return Ok();
  }
  std::string path = store.content().blob_path(d.digest);
  sys::Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return sys::sys_error("open blob " + d.digest.str(), path);
  say(LayerStatus::kPushing);
  GUISE_TRY(client.push_blob(repo, d.digest, d.size, fd.get()));
  say(LayerStatus::kPushed, d.size);
  return Ok();
}

}  // namespace

Result<PushResult> push_image(Store& store, const ImageRecord& image, const Reference& dest,
                              const RegistryOptions& opts, const ProgressFn& progress) {
  std::string body = GUISE_TRY(store.content().read(image.manifest));
  Manifest man = GUISE_TRY(parse_manifest(body, image.manifest_media_type));
  auto client = GUISE_TRY(RegistryClient::connect(dest.domain, opts));
  for (const auto& layer : man.layers) GUISE_TRY(push_blob(store, *client, dest.path, layer, progress));
  // The config last among the blobs, as docker does: a registry sees no config without its layers.
  if (!GUISE_TRY(client->has_blob(dest.path, man.config.digest))) {
    std::string path = store.content().blob_path(man.config.digest);
    sys::Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.valid()) return sys::sys_error("open blob " + man.config.digest.str(), path);
    GUISE_TRY(client->push_blob(dest.path, man.config.digest, man.config.size, fd.get()));
  }
  std::string tag = dest.tag.empty() ? "latest" : dest.tag;
  GUISE_TRY(client->put_manifest(dest.path, tag, man.media_type, body));
  return PushResult{image.manifest, static_cast<int64_t>(body.size())};
}

}  // namespace guise::image
