#include "image/archive_save.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>

#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "image/layer_stream.h"
#include "image/manifest.h"
#include "image/reference.h"
#include "sys/fd.h"

namespace guise::image {

namespace {

class TarWriter {
 public:
  explicit TarWriter(int fd) : w_(archive_write_new()) {
    archive_write_set_format_pax_restricted(w_);
    open_ = archive_write_open_fd(w_, fd) == ARCHIVE_OK;
  }
  ~TarWriter() { archive_write_free(w_); }

  Result<void> opened() { return open_ ? Ok() : fail("the output"); }
  Result<void> dir(const std::string& name, time_t mtime) { return header(name, AE_IFDIR, 0755, 0, mtime, {}); }
  Result<void> file(const std::string& name, std::string_view data, time_t mtime) {
    GUISE_TRY(header(name, AE_IFREG, 0644, static_cast<int64_t>(data.size()), mtime, {}));
    return write(name, data);
  }
  Result<void> symlink(const std::string& name, const std::string& target, time_t mtime) {
    return header(name, AE_IFLNK, 0777, 0, mtime, target);
  }
  Result<void> header(const std::string& name, mode_t type, mode_t mode, int64_t size, time_t mtime,
                      const std::string& link) {
    archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, name.c_str());
    archive_entry_set_filetype(e, type);
    archive_entry_set_perm(e, mode);
    archive_entry_set_size(e, size);
    archive_entry_set_mtime(e, mtime, 0);
    if (!link.empty()) archive_entry_set_symlink(e, link.c_str());
    int r = archive_write_header(w_, e);
    archive_entry_free(e);
    return r == ARCHIVE_OK ? Ok() : fail(name);
  }
  Result<void> write(const std::string& name, std::string_view data) {
    if (!data.empty() && archive_write_data(w_, data.data(), data.size()) != static_cast<la_ssize_t>(data.size()))
      return fail(name);
    return Ok();
  }
  Result<void> close() { return archive_write_close(w_) == ARCHIVE_OK ? Ok() : fail("the end of the archive"); }

 private:
  Error fail(const std::string& what) {
    int err = archive_errno(w_);
    const char* why = archive_error_string(w_);
    if (err > 0) return sys::sys_error_n(err, "writing " + what);
    return sys::user_error("writing " + what + ": " + (why ? why : "failed"));
  }
  archive* w_;
  bool open_ = false;
};

time_t parse_time(const std::string& rfc3339) {
  struct tm tm {};
  if (!::strptime(rfc3339.c_str(), "%Y-%m-%dT%H:%M:%S", &tm)) return 0;
  return ::timegm(&tm);
}

// A layer directory's legacy json: what docker's v1 image format held.
std::string v1_json(const std::string& id, const std::string& parent, const ImageConfig* top) {
  nlohmann::json j = nlohmann::json::object();
  if (top) {  // the top layer carries the image's config, as docker writes it
    j = nlohmann::json::parse(top->raw, nullptr, false);
    if (!j.is_object()) j = nlohmann::json::object();
    j.erase("rootfs");
    j.erase("history");
  } else {
    j["created"] = "1970-01-01T00:00:00Z";
    j["container_config"] = nlohmann::json::object();
  }
  j["id"] = id;
  if (!parent.empty()) j["parent"] = parent;
  return j.dump();
}

struct Saver {
  Store& store;
  TarWriter& tar;
  std::map<std::string, std::string> layer_tar_of;  // diff_id -> "V1ID/layer.tar" written
  std::set<std::string> written;                    // entries written, so shared ones are not repeated
  nlohmann::json manifest = nlohmann::json::array();
  nlohmann::json repositories = nlohmann::json::object();

  Result<void> layer(const Digest& blob, const Digest& diff_id, const std::string& dir, time_t mtime) {
    std::string name = dir + "/layer.tar";
    if (auto first = layer_tar_of.find(diff_id.str()); first != layer_tar_of.end())
      return tar.symlink(name, "../" + first->second, mtime);
    std::string path = store.content().blob_path(blob);
    int64_t size;
    if (blob == diff_id) {
      struct stat st {};
      if (::stat(path.c_str(), &st) < 0) return sys::sys_error("stat", path);
      size = st.st_size;
    } else {  // compressed: one pass for the size the tar header needs first
      LayerSum sum = GUISE_TRY(sum_layer(path, blob.str()));
      if (sum.digest != diff_id)
        return sys::user_error("layer " + blob.str() + " does not match its diff_id " + diff_id.str() + " (it is " +
                               sum.digest.str() + ")");
      size = static_cast<int64_t>(sum.size);
    }
    sys::Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.valid()) return sys::sys_error("open", path);
    auto stream = GUISE_TRY(LayerStream::open(fd.get(), blob.str()));
    GUISE_TRY(tar.header(name, AE_IFREG, 0644, size, mtime, {}));
    for (;;) {
      std::string_view chunk = GUISE_TRY(stream.next());
      if (chunk.empty()) break;
      if (static_cast<int64_t>(stream.bytes()) > size)
        return sys::user_error("layer " + blob.str() + " changed while it was saved");
      GUISE_TRY(tar.write(name, chunk));
    }
    if (stream.digest() != diff_id || static_cast<int64_t>(stream.bytes()) != size)
      return sys::user_error("layer " + blob.str() + " does not match its diff_id " + diff_id.str() + " (it is " +
                             stream.digest().str() + ")");
    layer_tar_of.emplace(diff_id.str(), name);
    return Ok();
  }

  Result<void> image(const SaveImage& img) {
    const ImageRecord& r = img.record;
    std::string config_text = GUISE_TRY(store.content().read(r.id, 64 << 20));
    ImageConfig config = GUISE_TRY(parse_config(config_text), r.id.str());
    std::string manifest_text = GUISE_TRY(store.content().read(r.manifest));
    Manifest m = GUISE_TRY(parse_manifest(manifest_text, r.manifest_media_type), r.manifest.str());
    if (m.layers.size() != config.diff_ids.size())
      return sys::user_error("image " + r.id.str() + ": its manifest names " + std::to_string(m.layers.size()) +
                             " layers, its config " + std::to_string(config.diff_ids.size()));
    time_t mtime = parse_time(config.created);
    std::vector<Digest> chains = chain_ids(config.diff_ids);
    nlohmann::json layers = nlohmann::json::array();
    std::string parent;
    for (size_t i = 0; i < chains.size(); ++i) {
      bool top = i + 1 == chains.size();
      // docker's v1 ids depend on the layers below, and the top one on the image config.
      std::string id = sys::sha256_hex(chains[i].str() + " " + parent + (top ? " " + r.id.str() : ""));
      if (written.insert(id).second) {
        GUISE_TRY(tar.dir(id, mtime));
        GUISE_TRY(tar.file(id + "/VERSION", "1.0", mtime));
        GUISE_TRY(tar.file(id + "/json", v1_json(id, parent, top ? &config : nullptr), mtime));
        GUISE_TRY(layer(m.layers[i].digest, config.diff_ids[i], id, mtime));
      }
      layers.push_back(id + "/layer.tar");
      parent = id;
    }
    std::string config_name = r.id.hex + ".json";
    if (written.insert(config_name).second) GUISE_TRY(tar.file(config_name, config_text, mtime));

    nlohmann::json tags = nlohmann::json::array();
    for (const auto& name : img.names) {
      Reference ref = GUISE_TRY(parse_reference(name));
      if (ref.digest || ref.tag.empty()) continue;  // RepoTags hold tags only
      std::string familiar = ref.familiar();
      tags.push_back(familiar);
      std::string repo = familiar.substr(0, familiar.size() - ref.tag.size() - 1);
      repositories[repo][ref.tag] = parent;
    }
    manifest.push_back({{"Config", config_name},
                        {"RepoTags", tags.empty() ? nlohmann::json(nullptr) : tags},
                        {"Layers", layers}});
    return Ok();
  }
};

Result<void> save(Store& store, const std::vector<SaveImage>& images, int out_fd) {
  TarWriter tar(out_fd);
  GUISE_TRY(tar.opened());
  Saver saver{store, tar};
  for (const auto& img : images) GUISE_TRY(saver.image(img));
  GUISE_TRY(tar.file("manifest.json", saver.manifest.dump(), 0));
  if (!saver.repositories.empty()) GUISE_TRY(tar.file("repositories", saver.repositories.dump(), 0));
  return tar.close();
}

// Removes the temporary file unless it was renamed into place.
struct PendingFile {
  std::string path;
  ~PendingFile() {
    if (!path.empty()) ::unlink(path.c_str());
  }
};

Result<void> save_to_path(Store& store, const std::vector<SaveImage>& images, const std::string& path) {
  // A device or a pipe (-o /dev/null, /dev/stdout, a FIFO) is written to, never replaced.
  if (struct stat st {}; ::stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) {
    sys::Fd out(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
    if (!out.valid()) return sys::sys_error("open", path);
    return save(store, images, out.get());
  }
  size_t slash = path.rfind('/');
  std::string dir = slash == std::string::npos ? "." : path.substr(0, slash + 1);
  std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
  PendingFile tmp{dir + "/." + base + ".tmp-XXXXXX"};
  sys::Fd fd(::mkostemp(tmp.path.data(), O_CLOEXEC));
  if (!fd.valid()) {
    int err = errno;
    std::string what = tmp.path;
    tmp.path.clear();
    return sys::sys_error_n(err, "create", what);
  }
  GUISE_TRY(save(store, images, fd.get()));
  if (::fchmod(fd.get(), 0644) < 0) return sys::sys_error("chmod", tmp.path);
  if (::fsync(fd.get()) < 0) return sys::sys_error("fsync", tmp.path);
  if (::rename(tmp.path.c_str(), path.c_str()) < 0) return sys::sys_error("rename into place", path);
  tmp.path.clear();
  return Ok();
}

}  // namespace

Result<void> save_docker_archive(Store& store, const std::vector<SaveImage>& images, const std::string& path) {
  auto r = save_to_path(store, images, path);
  if (!r.ok()) return std::move(r.error()).with_context("save " + path);
  return Ok();
}

Result<void> save_docker_archive(Store& store, const std::vector<SaveImage>& images, int out_fd) {
  auto r = save(store, images, out_fd);
  if (!r.ok()) return std::move(r.error()).with_context("save");
  return Ok();
}

}  // namespace guise::image
