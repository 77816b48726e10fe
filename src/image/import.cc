#include "image/import.h"

#include <fcntl.h>
#include <stdlib.h>

#include <filesystem>

#include <nlohmann/json.hpp>

#include "image/image_commit.h"
#include "image/layer_stream.h"
#include "image/manifest.h"
#include "image/reference.h"
#include "sys/clock.h"
#include "sys/fd.h"
#include "sys/syscalls.h"

namespace guise::image {

namespace {

// A file under the store's tmp/, removed by the destructor.
struct TempFile {
  std::string path;
  sys::Fd fd;
  ~TempFile() {
    if (!path.empty()) ::unlink(path.c_str());
  }
};

// The tarball uncompressed into `tmp`; returns its digest and size.
Result<LayerSum> uncompress(int in, const std::string& what, TempFile& tmp) {
  auto stream = GUISE_TRY(LayerStream::open(in, what));
  for (;;) {
    std::string_view chunk = GUISE_TRY(stream.next());
    if (chunk.empty()) break;
    GUISE_TRY(sys::write_all(tmp.fd.get(), chunk, "uncompressed layer"));
  }
  return LayerSum{stream.digest(), stream.bytes()};
}

Result<ImageRecord> import(Store& store, const std::string& path, const ImportOptions& opts) {
  std::string name;
  if (!opts.name.empty()) {
    Reference ref = GUISE_TRY(parse_reference(opts.name));
    if (ref.digest) return sys::user_error("refusing to create a tag with a digest reference");
    name = ref.str();
  }
  sys::Fd owned;
  int in = 0;
  if (path != "-") {
    owned.reset(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!owned.valid()) return sys::sys_error("open", path);
    in = owned.get();
  }
  Store::Lease lease = GUISE_TRY(store.take_lease());
  TempFile tmp;
  tmp.path = store.root() + "/tmp/import-XXXXXX";
  tmp.fd.reset(::mkostemp(tmp.path.data(), O_CLOEXEC));
  if (!tmp.fd.valid()) {
    int err = errno;
    tmp.path.clear();
    return sys::sys_error_n(err, "mkstemp", store.root() + "/tmp");
  }
  LayerSum layer = GUISE_TRY(uncompress(in, path, tmp));
  lease.add(layer.digest);
  GUISE_TRY(put_blob_file(store.content(), tmp.path, layer.digest, static_cast<int64_t>(layer.size), path));

  std::string created = sys::now_rfc3339();
  std::string comment = opts.message.empty() ? "Imported from -" : opts.message;
  std::string config_text = import_config_json(layer.digest, created, comment);
  Digest id = sha256_of(config_text);
  lease.add(id);
  GUISE_TRY(store.content().put(config_text));
  ImageConfig config = GUISE_TRY(parse_config(config_text));

  lease.add_snapshot(layer.digest);  // one layer: its chain id is its diff_id
  SnapshotInfo snapshot = GUISE_TRY(ensure_snapshot(store, layer.digest, layer.digest, layer.digest, path));
  Descriptor config_desc{.media_type = std::string(media::kOciConfig), .digest = id,
                         .size = static_cast<int64_t>(config_text.size())};
  Descriptor layer_desc{.media_type = std::string(media::kOciLayer), .digest = layer.digest,
                        .size = static_cast<int64_t>(layer.size)};
  std::string manifest = oci_manifest_json(config_desc, {layer_desc});
  lease.add(sha256_of(manifest));
  Digest manifest_digest = GUISE_TRY(store.content().put(manifest));
  ImageRecord record = image_record(id, config, manifest_digest, std::string(media::kOciManifest), {snapshot});
  std::vector<std::pair<std::string, Digest>> names;
  if (!name.empty()) names.emplace_back(name, id);
  GUISE_TRY(commit_images(store, {record}, names));
  return record;
}

}  // namespace

std::string import_config_json(const Digest& diff_id, const std::string& created, const std::string& comment) {
  Platform host = host_platform();
  nlohmann::json config = {
      {"architecture", host.architecture},
      {"comment", comment},
      {"config", nlohmann::json::object()},
      {"created", created},
      {"history", nlohmann::json::array({{{"created", created}, {"comment", comment}}})},
      {"os", host.os},
      {"rootfs", {{"type", "layers"}, {"diff_ids", {diff_id.str()}}}},
  };
  if (!host.variant.empty()) config["variant"] = host.variant;
  return config.dump();
}

Result<ImageRecord> import_rootfs(Store& store, const std::string& path, const ImportOptions& opts) {
  auto record = import(store, path, opts);
  if (record.ok()) return record;
  Error e = std::move(record.error());
  if (auto gc = store.collect_garbage(); !gc.ok()) e.add_cleanup_failure(gc.error());
  return std::move(e).with_context("import " + path);
}

}  // namespace guise::image
