// An image archive (a tar, compressed or not) unpacked once into a private directory,
// to be read in any order: regular files only, each stored under a number, never under
// the name the archive gives, so no name or link in it can reach outside. Symlinks and
// hard links between entries (docker save links a layer it already wrote) are kept as
// aliases that find() follows, inside the archive only.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "sys/result.h"

namespace guise::image {

class ExtractedArchive {
 public:
  // Reads the tar from `fd` into `dir`, a new empty directory this object then owns and
  // removes. Input that is no tar at all gives an empty archive (the caller says what it
  // lacks); a tar that breaks part way gives libarchive's error naming the entry.
  static Result<ExtractedArchive> extract(int fd, std::string dir);
  ExtractedArchive(ExtractedArchive&& o) noexcept;
  ExtractedArchive& operator=(ExtractedArchive&&) = delete;
  ~ExtractedArchive();

  // The local file holding the entry `name` ("abc/layer.tar", "./manifest.json"),
  // links followed; nullopt when the archive has no such file.
  std::optional<std::string> find(std::string_view name) const;
  // The entry read whole; a missing one is an error naming it; `max` bounds its size.
  Result<std::string> read(std::string_view name, size_t max = 16 << 20) const;

 private:
  ExtractedArchive() = default;
  std::string dir_;
  std::map<std::string, std::string> files_;  // clean name -> local file
  std::map<std::string, std::string> links_;  // clean name -> clean target
};

// "./a//b/../c" -> "a/c": the name as if the archive's root were "/".
std::string clean_entry_name(std::string_view name);

}  // namespace guise::image
