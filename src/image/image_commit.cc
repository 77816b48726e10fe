#include "image/image_commit.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <map>

#include <nlohmann/json.hpp>

#include "image/layer_stream.h"
#include "image/unpack.h"
#include "sys/clock.h"
#include "sys/fd.h"
#include "sys/rollback.h"

namespace guise::image {

namespace {

std::string ingest_ref(const Digest& d) { return "local-" + d.str(); }

Error mismatch(const std::string& what, const Digest& want, const Digest& got) {
  return sys::user_error(what + " does not match its digest: expected " + want.str() + ", got " + got.str());
}

nlohmann::json descriptor_json(const Descriptor& d) {
  return {{"mediaType", d.media_type}, {"digest", d.digest.str()}, {"size", d.size}};
}

}  // namespace

Result<void> put_blob_file(ContentStore& content, const std::string& path, const Digest& want, int64_t size,
                           const std::string& what) {
  auto ingest = GUISE_TRY(content.begin(ingest_ref(want), want, size));
  if (!ingest) return Ok();
  if (ingest->offset() != 0) {  // left by an earlier attempt: this file holds it all
    ingest->abort();
    ingest = GUISE_TRY(content.begin(ingest_ref(want), want, size));
    if (!ingest) return Ok();
  }
  sys::Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return sys::sys_error("open", what);
  sys::Sha256 hasher;
  char buf[1 << 16];
  ssize_t n;
  while ((n = ::read(fd.get(), buf, sizeof buf)) > 0) {
    std::string_view chunk(buf, static_cast<size_t>(n));
    hasher.update(chunk);
    if (auto w = ingest->write(chunk); !w.ok()) {  // disk full: a local file is not resumed
      ingest->abort();
      return std::move(w.error()).with_context(what);
    }
  }
  if (n < 0) {
    Error e = sys::sys_error("read", what);
    ingest->abort();
    return e;
  }
  Digest got{"sha256", hasher.hex()};
  if (got != want) {
    ingest->abort();
    return mismatch(what, want, got);
  }
  return ingest->commit();
}

Result<Descriptor> put_uncompressed_layer(ContentStore& content, const std::string& path, const Digest& diff_id,
                                          const std::string& what) {
  Descriptor d{.media_type = std::string(media::kOciLayer), .digest = diff_id};
  // Opened first: input that is no layer at all leaves no ingest behind.
  sys::Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return sys::sys_error("open", what);
  auto stream = GUISE_TRY(LayerStream::open(fd.get(), what));
  auto ingest = GUISE_TRY(content.begin(ingest_ref(diff_id), diff_id, -1));
  if (ingest && ingest->offset() != 0) {
    ingest->abort();
    ingest = GUISE_TRY(content.begin(ingest_ref(diff_id), diff_id, -1));
  }
  if (!ingest) {  // the store has this layer already
    struct stat st {};
    if (::stat(content.blob_path(diff_id).c_str(), &st) < 0) return sys::sys_error("stat", content.blob_path(diff_id));
    d.size = st.st_size;
    return d;
  }
  auto copied = [&]() -> Result<void> {
    for (;;) {
      std::string_view chunk = GUISE_TRY(stream.next());
      if (chunk.empty()) return Ok();
      GUISE_TRY(ingest->write(chunk), what);
    }
  }();
  if (!copied.ok()) {  // bad input: nothing of it is worth resuming
    ingest->abort();
    return copied.error();
  }
  if (stream.digest() != diff_id) {
    ingest->abort();
    return sys::user_error("layer " + what + " does not match its diff_id " + diff_id.str() + " (it is " +
                           stream.digest().str() + ")");
  }
  GUISE_TRY(ingest->commit());
  d.size = static_cast<int64_t>(stream.bytes());
  return d;
}

Result<void> verify_diff_id(const ContentStore& content, const Digest& layer, const Digest& diff_id,
                            const std::string& what) {
  if (layer == diff_id) return Ok();  // uncompressed: the content store verified it on commit
  LayerSum sum = GUISE_TRY(sum_layer(content.blob_path(layer), what));
  if (sum.digest != diff_id)
    return sys::user_error("layer " + what + " does not match its diff_id " + diff_id.str() + " (it is " +
                           sum.digest.str() + ")");
  return Ok();
}

Result<SnapshotInfo> ensure_snapshot(Store& store, const Digest& layer, const Digest& chain_id, const Digest& diff_id,
                                     const std::string& what) {
  if (auto have = store.snapshot(chain_id)) return *have;
  PreparedSnapshot prepared = GUISE_TRY(store.prepare_snapshot());
  std::string blob = store.content().blob_path(layer);
  sys::Fd blob_fd(::open(blob.c_str(), O_RDONLY | O_CLOEXEC));
  if (!blob_fd.valid()) return sys::sys_error("open", blob);
  sys::Fd dir(::open(prepared.fs_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir.valid()) return sys::sys_error("open", prepared.fs_path());
  UnpackStats stats = GUISE_TRY(unpack_layer(blob_fd.get(), dir.get()), "layer " + what);
  if (stats.diff_id != diff_id.str())
    return sys::user_error("layer " + what + " does not match its diff_id " + diff_id.str() + " (it is " +
                           stats.diff_id + ")");
  return store.publish_snapshot(std::move(prepared), chain_id, diff_id, static_cast<int64_t>(stats.bytes));
}

std::string oci_manifest_json(const Descriptor& config, const std::vector<Descriptor>& layers) {
  nlohmann::json layer_list = nlohmann::json::array();
  for (const auto& l : layers) layer_list.push_back(descriptor_json(l));
  nlohmann::json m = {{"schemaVersion", 2},
                      {"mediaType", media::kOciManifest},
                      {"config", descriptor_json(config)},
                      {"layers", std::move(layer_list)}};
  return m.dump();
}

ImageRecord image_record(const Digest& config, const ImageConfig& parsed, const Digest& manifest,
                         std::string manifest_media_type, const std::vector<SnapshotInfo>& snapshots) {
  ImageRecord r;
  r.id = config;
  r.manifest = manifest;
  r.manifest_media_type = std::move(manifest_media_type);
  for (const auto& s : snapshots) {
    r.chain_ids.push_back(s.chain_id);
    r.size += s.size;
  }
  r.created = parsed.created;
  r.added = sys::now_rfc3339();
  r.platform = parsed.platform.str();
  return r;
}

Result<void> commit_images(Store& store, const std::vector<ImageRecord>& records,
                           const std::vector<std::pair<std::string, Digest>>& names) {
  sys::Rollback undo;
  auto attempt = [&]() -> Result<void> {
    for (const auto& r : records) {
      // An image the store has keeps its record (and the repo digests it was pulled with).
      auto existing = GUISE_TRY(store.get_image(r.id));
      if (existing) continue;
      GUISE_TRY(store.put_image(r));
      undo.add([&store, id = r.id] { return store.remove_image(id); });
    }
    std::map<std::string, Digest> before;
    for (auto& [name, id] : GUISE_TRY(store.list_names())) before.emplace(name, id);
    for (const auto& [name, id] : names) {
      GUISE_TRY(store.set_name(name, id));
      auto old = before.find(name);
      if (old != before.end())
        undo.add([&store, name, id = old->second] { return store.set_name(name, id); });
      else
        undo.add([&store, name]() -> Result<void> {
          GUISE_TRY(store.remove_name(name));
          return Ok();
        });
    }
    return Ok();
  };
  auto r = attempt();
  if (!r.ok()) {
    Error e = std::move(r.error());
    undo.unwind(e);
    return e;
  }
  undo.commit();
  return Ok();
}

}  // namespace guise::image
