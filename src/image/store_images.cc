// Image records: images/IDHEX.json, each replaced whole by temp, fsync and rename, read
// without a lock.
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "image/store.h"
#include "image/store_files.h"
#include "image/store_internal.h"
#include "sys/syscalls.h"

namespace guise::image {

namespace files = store_files;
using store_internal::image_path;

namespace store_internal {

std::string image_record_json(const ImageRecord& r) {
  nlohmann::json chains = nlohmann::json::array();
  for (const auto& c : r.chain_ids) chains.push_back(c.str());
  nlohmann::json j = {{"id", r.id.str()},
                      {"manifest", r.manifest.str()},
                      {"manifest_media_type", r.manifest_media_type},
                      {"repo_digests", r.repo_digests},
                      {"chain_ids", chains},
                      {"size", r.size},
                      {"created", r.created},
                      {"added", r.added},
                      {"platform", r.platform}};
  return j.dump(2) + "\n";
}

Result<ImageRecord> parse_image_record(std::string_view text, const std::string& what) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return sys::user_error(what + ": not a JSON object");
  auto digest_field = [&](const nlohmann::json& v, const char* field) -> Result<Digest> {
    if (!v.is_string()) return sys::user_error(what + ": \"" + field + "\" is not a digest");
    return GUISE_TRY(parse_digest(v.get<std::string>()), what);
  };
  auto string_field = [&](const char* field) -> std::string {
    auto it = j.find(field);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  ImageRecord r;
  r.id = GUISE_TRY(digest_field(j.value("id", nlohmann::json()), "id"));
  r.manifest = GUISE_TRY(digest_field(j.value("manifest", nlohmann::json()), "manifest"));
  r.manifest_media_type = string_field("manifest_media_type");
  if (auto it = j.find("repo_digests"); it != j.end() && it->is_array())
    for (const auto& v : *it)
      if (v.is_string()) r.repo_digests.push_back(v.get<std::string>());
  if (auto it = j.find("chain_ids"); it != j.end() && it->is_array())
    for (const auto& v : *it) r.chain_ids.push_back(GUISE_TRY(digest_field(v, "chain_ids")));
  if (auto it = j.find("size"); it != j.end() && it->is_number_integer()) r.size = it->get<int64_t>();
  r.created = string_field("created");
  r.added = string_field("added");
  r.platform = string_field("platform");
  return r;
}

}  // namespace store_internal

Result<void> Store::put_image(const ImageRecord& record) {
  if (record.id.algorithm != "sha256" || !files::is_hex(record.id.hex))
    return sys::user_error("invalid image id " + record.id.str());
  std::string what = "recording image " + record.id.str();
  auto held = GUISE_TRY(lock(LockKind::kImage, record.id.hex), what);
  GUISE_TRY(files::write_atomic(root_, image_path(root_, record.id), store_internal::image_record_json(record)),
            what);
  return Ok();
}

Result<std::optional<ImageRecord>> Store::get_image(const Digest& id) const {
  if (!files::is_hex(id.hex)) return std::optional<ImageRecord>();
  std::string path = image_path(root_, id);
  auto text = sys::read_file(path);
  if (!text.ok()) {
    if (text.error().errnum == ENOENT) return std::optional<ImageRecord>();
    return text.error();
  }
  return std::optional<ImageRecord>(GUISE_TRY(store_internal::parse_image_record(*text, path)));
}

Result<std::vector<ImageRecord>> Store::list_images() const {
  std::vector<ImageRecord> out;
  for (const auto& name : GUISE_TRY(files::list_dir(root_ + "/images"))) {
    if (name.size() != 64 + 5 || name.substr(64) != ".json") continue;
    auto id = files::sha256_from_hex(name.substr(0, 64));
    if (!id.ok()) continue;
    auto record = GUISE_TRY(get_image(*id));
    if (record) out.push_back(std::move(*record));  // removed since the listing: skipped
  }
  return out;
}

Result<void> Store::remove_image(const Digest& id) {
  std::string what = "removing image " + id.str();
  if (!files::is_hex(id.hex)) return sys::not_found("No such image: " + id.str());
  auto held = GUISE_TRY(lock(LockKind::kImage, id.hex), what);
  std::string path = image_path(root_, id);
  if (::access(path.c_str(), F_OK) < 0) return sys::not_found("No such image: " + id.str());
  // Names first: a kill between leaves a record without names, never a name without a record.
  for (const auto& name : GUISE_TRY(names_of(id), what))
    GUISE_TRY(store_internal::remove_name_if(*this, name, id), what);
  if (::unlink(path.c_str()) < 0 && errno != ENOENT) return sys::sys_error("remove", path).with_context(what);
  return Ok();
}

}  // namespace guise::image
