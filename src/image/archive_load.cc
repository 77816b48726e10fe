#include "image/archive_load.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <nlohmann/json.hpp>

#include "image/archive_extract.h"
#include "image/image_commit.h"
#include "image/manifest.h"
#include "image/reference.h"
#include "sys/fd.h"

namespace guise::image {

namespace {

struct Loaded {
  std::vector<ImageRecord> records;
  std::vector<std::pair<std::string, Digest>> names;
};

Result<std::string> normalised(const std::string& text) {
  Reference ref = GUISE_TRY(parse_reference(text));
  if (ref.digest) return sys::user_error("image name " + text + " has a digest: a name needs a tag");
  return ref.str();
}

std::string blob_entry(const Digest& d) { return "blobs/" + d.algorithm + "/" + d.hex; }

Result<std::string> local_file(const ExtractedArchive& ar, const std::string& name) {
  auto f = ar.find(name);
  if (!f) return sys::user_error("the archive has no " + name);
  return *f;
}

// Snapshots for the stored layers, bottom first.
Result<std::vector<SnapshotInfo>> make_snapshots(Store& store, Store::Lease& lease, const std::vector<Digest>& blobs,
                                                 const std::vector<Digest>& diff_ids,
                                                 const std::vector<std::string>& what) {
  std::vector<Digest> chains = chain_ids(diff_ids);
  std::vector<SnapshotInfo> out;
  for (size_t i = 0; i < blobs.size(); ++i) {
    lease.add_snapshot(chains[i]);
    out.push_back(GUISE_TRY(ensure_snapshot(store, blobs[i], chains[i], diff_ids[i], what[i])));
  }
  return out;
}

Result<void> load_docker_image(Store& store, Store::Lease& lease, const ExtractedArchive& ar,
                               const nlohmann::json& entry, Loaded& out) {
  if (!entry.is_object() || !entry.contains("Config") || !entry["Config"].is_string())
    return sys::user_error("manifest.json: an entry without a Config");
  std::string config_name = entry["Config"].get<std::string>();
  std::string config_text = GUISE_TRY(ar.read(config_name));
  Digest id = sha256_of(config_text);
  ImageConfig config = GUISE_TRY(parse_config(config_text), config_name);
  lease.add(id);
  GUISE_TRY(store.content().put(config_text));

  std::vector<std::string> layers;
  if (entry.contains("Layers") && entry["Layers"].is_array())
    for (const auto& l : entry["Layers"])
      if (l.is_string()) layers.push_back(l.get<std::string>());
  if (layers.size() != config.diff_ids.size())
    return sys::user_error("manifest.json names " + std::to_string(layers.size()) + " layers for " + config_name +
                           ", whose rootfs has " + std::to_string(config.diff_ids.size()));
  std::vector<Descriptor> descriptors;
  std::vector<Digest> blobs;
  for (size_t i = 0; i < layers.size(); ++i) {
    std::string file = GUISE_TRY(local_file(ar, layers[i]));
    lease.add(config.diff_ids[i]);
    descriptors.push_back(GUISE_TRY(put_uncompressed_layer(store.content(), file, config.diff_ids[i], layers[i])));
    blobs.push_back(config.diff_ids[i]);
  }
  std::vector<SnapshotInfo> snapshots = GUISE_TRY(make_snapshots(store, lease, blobs, config.diff_ids, layers));

  Descriptor config_desc{.media_type = std::string(media::kOciConfig), .digest = id,
                         .size = static_cast<int64_t>(config_text.size())};
  std::string manifest = oci_manifest_json(config_desc, descriptors);
  lease.add(sha256_of(manifest));
  Digest manifest_digest = GUISE_TRY(store.content().put(manifest));
  out.records.push_back(image_record(id, config, manifest_digest, std::string(media::kOciManifest), snapshots));

  if (entry.contains("RepoTags") && entry["RepoTags"].is_array())
    for (const auto& tag : entry["RepoTags"])
      if (tag.is_string()) out.names.emplace_back(GUISE_TRY(normalised(tag.get<std::string>())), id);
  return Ok();
}

Result<void> load_docker_archive(Store& store, Store::Lease& lease, const ExtractedArchive& ar, Loaded& out) {
  std::string text = GUISE_TRY(ar.read("manifest.json"));
  nlohmann::json doc = nlohmann::json::parse(text, nullptr, false);
  if (doc.is_discarded() || !doc.is_array()) return sys::user_error("manifest.json is not a JSON array");
  for (const auto& entry : doc) GUISE_TRY(load_docker_image(store, lease, ar, entry, out));
  return Ok();
}

// A blob of the archive read whole and checked against its digest.
Result<std::string> read_blob(const ExtractedArchive& ar, const Digest& d) {
  std::string text = GUISE_TRY(ar.read(blob_entry(d)));
  if (sha256_of(text) != d)
    return sys::user_error(blob_entry(d) + " does not match its digest (it is " + sha256_of(text).str() + ")");
  return text;
}

Result<void> load_oci_image(Store& store, Store::Lease& lease, const ExtractedArchive& ar, const Descriptor& entry,
                            Loaded& out) {
  Descriptor target = entry;
  if (is_index(target.media_type)) {  // a multi-platform image: the host's
    Index nested = GUISE_TRY(parse_index(GUISE_TRY(read_blob(ar, target.digest)), target.media_type));
    target = GUISE_TRY(select_platform(nested, host_platform(), oci_entry_name(entry.annotations).value_or("")));
  }
  std::string manifest_text = GUISE_TRY(read_blob(ar, target.digest));
  Manifest m = GUISE_TRY(parse_manifest(manifest_text, target.media_type), blob_entry(target.digest));
  std::string config_text = GUISE_TRY(read_blob(ar, m.config.digest));
  ImageConfig config = GUISE_TRY(parse_config(config_text), blob_entry(m.config.digest));
  if (m.layers.size() != config.diff_ids.size())
    return sys::user_error("manifest " + target.digest.str() + " names " + std::to_string(m.layers.size()) +
                           " layers, its config's rootfs " + std::to_string(config.diff_ids.size()));
  lease.add(m.config.digest);
  GUISE_TRY(store.content().put(config_text));
  std::vector<Digest> chains = chain_ids(config.diff_ids);
  std::vector<Digest> blobs;
  std::vector<std::string> what;
  for (size_t i = 0; i < m.layers.size(); ++i) {
    const Descriptor& l = m.layers[i];
    std::string name = blob_entry(l.digest);
    std::string file = GUISE_TRY(local_file(ar, name));
    lease.add(l.digest);
    bool had_blob = store.content().has(l.digest);
    GUISE_TRY(put_blob_file(store.content(), file, l.digest, l.size, name));
    // A new snapshot checks the diff_id as it unpacks; a new blob under an existing one is checked here.
    if (!had_blob && store.snapshot(chains[i]))
      GUISE_TRY(verify_diff_id(store.content(), l.digest, config.diff_ids[i], name));
    blobs.push_back(l.digest);
    what.push_back(std::move(name));
  }
  std::vector<SnapshotInfo> snapshots = GUISE_TRY(make_snapshots(store, lease, blobs, config.diff_ids, what));
  lease.add(target.digest);
  GUISE_TRY(store.content().put(manifest_text));
  std::string media_type = m.media_type.empty() ? target.media_type : m.media_type;
  out.records.push_back(image_record(m.config.digest, config, target.digest, media_type, snapshots));
  if (auto name = oci_entry_name(entry.annotations))
    out.names.emplace_back(GUISE_TRY(normalised(*name)), m.config.digest);
  return Ok();
}

Result<void> load_oci_archive(Store& store, Store::Lease& lease, const ExtractedArchive& ar, Loaded& out) {
  std::string text = GUISE_TRY(ar.read("index.json"));
  Index index = GUISE_TRY(parse_index(text), "index.json");
  for (const auto& entry : index.manifests) GUISE_TRY(load_oci_image(store, lease, ar, entry, out));
  return Ok();
}

Result<std::vector<LoadedImage>> load(Store& store, const std::string& path) {
  sys::Fd owned;
  int fd = 0;
  if (path != "-") {
    owned.reset(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!owned.valid()) return sys::sys_error("open", path);
    fd = owned.get();
  }
  Store::Lease lease = GUISE_TRY(store.take_lease());
  std::string dir = store.root() + "/tmp/load-XXXXXX";
  if (!::mkdtemp(dir.data())) return sys::sys_error("mkdtemp", dir);
  ExtractedArchive ar = GUISE_TRY(ExtractedArchive::extract(fd, dir));

  Loaded loaded;
  // docker 25+ writes both files; its manifest.json carries the names.
  if (ar.find("manifest.json"))
    GUISE_TRY(load_docker_archive(store, lease, ar, loaded));
  else if (ar.find("index.json"))
    GUISE_TRY(load_oci_archive(store, lease, ar, loaded));
  else
    return sys::user_error("not a docker-archive or oci-archive (no manifest.json or index.json)");

  GUISE_TRY(commit_images(store, loaded.records, loaded.names));
  std::vector<LoadedImage> out;
  for (const auto& r : loaded.records) {
    LoadedImage li{.record = r};
    for (const auto& [name, id] : loaded.names)
      if (id == r.id) li.names.push_back(name);
    out.push_back(std::move(li));
  }
  return out;
}

}  // namespace

std::optional<std::string> oci_entry_name(const std::map<std::string, std::string>& annotations) {
  if (auto c = annotations.find("io.containerd.image.name"); c != annotations.end() && !c->second.empty())
    return c->second;
  auto r = annotations.find("org.opencontainers.image.ref.name");
  if (r == annotations.end()) return std::nullopt;
  // The OCI layout's own use is a bare tag ("latest"), which names no repository.
  if (r->second.find_first_of("/:") == std::string::npos) return std::nullopt;
  return r->second;
}

Result<std::vector<LoadedImage>> load_archive(Store& store, const std::string& path) {
  auto loaded = load(store, path);  // its lease is gone when it returns
  if (loaded.ok()) return loaded;
  Error e = std::move(loaded.error());
  // What the failed load stored is reached by nothing now.
  if (auto gc = store.collect_garbage(); !gc.ok()) e.add_cleanup_failure(gc.error());
  return std::move(e).with_context("load " + path);
}

}  // namespace guise::image
