// Names: names/ESCAPED holds "NAME\tIDHEX", ESCAPED being the full normalised reference
// with every byte outside [A-Za-z0-9._-] written as %XX, so that any name is one safe
// file name (a name too long for that is named by its hash). A name is (re)pointed by
// writing a temp and renaming it over the old file.
#include <unistd.h>

#include <cstdio>

#include "image/reference.h"
#include "image/store.h"
#include "image/store_files.h"
#include "image/store_internal.h"
#include "sys/syscalls.h"

namespace guise::image {

namespace files = store_files;

namespace {

std::string escape_name(std::string_view name) {
  std::string out;
  for (unsigned char c : name) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
        c == '-') {
      out += static_cast<char>(c);
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    }
  }
  // A long name escapes past what a file name (and a lock key) may be: its hash stands
  // in ('%' before a non-hex letter never comes out of the escaping above).
  if (out.size() > 200) return "%sha256-" + sha256_of(name).hex;
  return out;
}

// The full normalised form of a name given to set_name or remove_name.
Result<std::string> normalised_name(const std::string& name) {
  auto ref = GUISE_TRY(parse_reference(name));
  if (ref.digest) return sys::user_error("image name " + name + ": a name cannot hold a digest");
  return ref.str();
}

struct NameEntry {
  std::string name;
  Digest id;
};

// nullopt when the file is missing or not a name file.
std::optional<NameEntry> read_name_file(const std::string& path) {
  auto text = sys::read_file(path);
  if (!text.ok()) return std::nullopt;
  auto tab = text->find('\t');
  if (tab == std::string::npos) return std::nullopt;
  std::string hex = text->substr(tab + 1);
  while (!hex.empty() && (hex.back() == '\n' || hex.back() == ' ')) hex.pop_back();
  auto id = files::sha256_from_hex(hex);
  if (!id.ok()) return std::nullopt;
  return NameEntry{text->substr(0, tab), *id};
}

std::string name_path(const std::string& root, const std::string& full) {
  return root + "/names/" + escape_name(full);
}

}  // namespace

namespace store_internal {

// Removes `full` only while it still points at `id`: a name moved meanwhile stays.
Result<void> remove_name_if(const Store& store, const std::string& full, const Digest& id) {
  auto held = GUISE_TRY(store.lock(LockKind::kName, escape_name(full)));
  std::string path = name_path(store.root(), full);
  auto entry = read_name_file(path);
  if (!entry || entry->id != id) return Ok();
  if (::unlink(path.c_str()) < 0 && errno != ENOENT) return sys::sys_error("remove", path);
  return Ok();
}

}  // namespace store_internal

Result<void> Store::set_name(const std::string& name, const Digest& id) {
  std::string full = GUISE_TRY(normalised_name(name), "naming an image");
  std::string what = "naming image " + id.str() + " " + full;
  auto image_held = GUISE_TRY(lock(LockKind::kImage, id.hex), what);
  if (::access(store_internal::image_path(root_, id).c_str(), F_OK) < 0)
    return sys::not_found("No such image: " + id.str());
  auto name_held = GUISE_TRY(lock(LockKind::kName, escape_name(full)), what);
  GUISE_TRY(files::write_atomic(root_, name_path(root_, full), full + "\t" + id.hex + "\n"), what);
  return Ok();
}

Result<bool> Store::remove_name(const std::string& name) {
  std::string full = GUISE_TRY(normalised_name(name), "removing an image name");
  auto held = GUISE_TRY(lock(LockKind::kName, escape_name(full)), "removing image name " + full);
  std::string path = name_path(root_, full);
  if (::unlink(path.c_str()) == 0) return true;
  if (errno == ENOENT) return false;
  return sys::sys_error("remove", path);
}

Result<std::vector<std::pair<std::string, Digest>>> Store::list_names() const {
  std::vector<std::pair<std::string, Digest>> out;
  for (const auto& file : GUISE_TRY(files::list_dir(root_ + "/names")))
    if (auto entry = read_name_file(root_ + "/names/" + file)) out.emplace_back(entry->name, entry->id);
  return out;
}

Result<std::vector<std::string>> Store::names_of(const Digest& id) const {
  std::vector<std::string> out;
  for (auto& [name, target] : GUISE_TRY(list_names()))
    if (target == id) out.push_back(name);
  return out;
}

Result<ImageRecord> Store::resolve(std::string_view text) const {
  std::string given(text);
  auto no_such = [&] { return sys::not_found("No such image: " + given); };
  auto by_id = [&](const Digest& id) -> Result<ImageRecord> {
    auto record = GUISE_TRY(get_image(id));
    if (!record) return no_such();
    return std::move(*record);
  };
  if (given.rfind("sha256:", 0) == 0) {
    auto id = parse_digest(given);
    if (!id.ok()) return no_such();
    return by_id(*id);
  }
  if (given.size() == 64 && files::is_hex(given)) return by_id(GUISE_TRY(files::sha256_from_hex(given)));

  if (auto ref = parse_reference(given); ref.ok()) {
    if (ref->digest) {
      std::string wanted = ref->name() + "@" + ref->digest->str();
      for (auto& record : GUISE_TRY(list_images()))
        for (const auto& rd : record.repo_digests)
          if (rd == wanted) return std::move(record);
      return no_such();
    }
    if (auto entry = read_name_file(name_path(root_, ref->str()))) {
      auto record = GUISE_TRY(get_image(entry->id));
      if (record) return std::move(*record);
    }
  }

  // docker's order: a name first, then an id prefix.
  if (given.size() >= 3 && given.size() < 64 && files::is_hex(given)) {
    std::vector<Digest> matches;
    for (const auto& file : GUISE_TRY(files::list_dir(root_ + "/images")))
      if (file.size() == 64 + 5 && file.compare(0, given.size(), given) == 0)
        if (auto id = files::sha256_from_hex(file.substr(0, 64)); id.ok()) matches.push_back(*id);
    if (matches.size() > 1)
      return sys::user_error("image id prefix " + given + " is ambiguous: " + std::to_string(matches.size()) +
                             " images match it");
    if (matches.size() == 1) return by_id(matches[0]);
  }
  return no_such();
}

}  // namespace guise::image
