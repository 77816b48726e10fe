// Private to src/oci/parse*.cc: a JSON value that knows where it sits in the
// document, so every error names the origin, the path and the bad value:
//   config.json: process.user.uid: expected an unsigned integer, got "root"
// A JSON null reads as absent, as Go's encoding/json (and so runc) treats it.
#pragma once

#include <algorithm>
#include <array>
#include <concepts>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "oci/spec.h"
#include "sys/result.h"

namespace guise::oci::detail {

using Json = nlohmann::json;

class Node {
 public:
  Node(const Json* value, std::string path, const std::string* origin)
      : value_(value), path_(std::move(path)), origin_(origin) {}

  bool present() const;  // neither missing nor null
  const std::string& path() const { return path_; }

  Node at(std::string_view key) const;  // absent unless this is an object holding key
  Node at(size_t index) const;          // absent unless this is an array that long

  // "origin: path: message", one line.
  Error fail(std::string_view message) const;
  Error fail_value(std::string_view expected) const;  // "expected X, got <value>"

  Result<void> expect_object() const;
  Result<size_t> array_size() const;  // errors unless an array
  Result<std::vector<std::pair<std::string, Node>>> members() const;

  Result<std::string> string() const;
  Result<bool> boolean() const;
  Result<uint64_t> unsigned_int(uint64_t max) const;
  Result<int64_t> signed_int(int64_t min, int64_t max) const;

  // For messages: a JSON value, shortened to one readable line.
  std::string rendered() const;

 private:
  bool integral_float() const;

  const Json* value_;
  std::string path_;
  const std::string* origin_;
};

// A string quoted as JSON writes it: "pidd", with control characters escaped; for
// messages, so a value over 64 bytes is cut there: "aaaa..."...
std::string quote(std::string_view s);
// "process" + "user" -> "process.user"; keys that are not plain names are bracketed.
std::string child_path(const std::string& parent, std::string_view key);

// The kernel's limits on what a config hands to it, checked while parsing so that
// an oversized value is named here rather than failing the container's init late.
inline constexpr size_t kHostNameMax = 64;     // HOST_NAME_MAX
inline constexpr size_t kPathMax = 4095;       // PATH_MAX (4096) less the terminating NUL
inline constexpr size_t kArgStrMax = 131071;   // MAX_ARG_STRLEN (128 KiB) less the NUL
inline constexpr size_t kLsmLabelMax = 4096;   // a page: what /proc/self/attr takes at once
// "process.cwd: is 5000 bytes, more than 4095 (PATH_MAX)"
Result<void> check_length(const Node& n, std::string_view value, size_t max, std::string_view limit);
Result<void> check_path_length(const Node& n, std::string_view value);
bool is_absolute(std::string_view path);

template <size_t N>
bool one_of(const std::array<std::string_view, N>& names, std::string_view s) {
  return std::find(names.begin(), names.end(), s) != names.end();
}

// read(node, out): node must be present; parses it into out or names the fault.
Result<void> read(const Node& n, std::string& out);
Result<void> read(const Node& n, bool& out);
Result<void> read(const Node& n, std::map<std::string, std::string>& out);

template <std::integral T>
  requires(!std::same_as<T, bool>)
Result<void> read(const Node& n, T& out) {
  if constexpr (std::is_unsigned_v<T>) {
    out = static_cast<T>(GUISE_TRY(n.unsigned_int(std::numeric_limits<T>::max())));
  } else {
    out = static_cast<T>(
        GUISE_TRY(n.signed_int(std::numeric_limits<T>::min(), std::numeric_limits<T>::max())));
  }
  return Ok();
}

template <class T>
Result<void> read(const Node& n, std::optional<T>& out) {
  T value{};
  GUISE_TRY(read(n, value));
  out = std::move(value);
  return Ok();
}

template <class T>
Result<void> read(const Node& n, std::vector<T>& out) {
  size_t size = GUISE_TRY(n.array_size());
  out.clear();
  out.reserve(size);
  for (size_t i = 0; i < size; ++i) {
    Node item = n.at(i);
    T value{};
    // A null element is not absent: it is a wrong value in its place.
    if (!item.present()) return item.fail("expected a value, got null");
    GUISE_TRY(read(item, value));
    out.push_back(std::move(value));
  }
  return Ok();
}

// Reads obj.key into out when present; leaves out untouched otherwise.
template <class T>
Result<void> optional_field(const Node& obj, std::string_view key, T& out) {
  Node child = obj.at(key);
  if (!child.present()) return Ok();
  return read(child, out);
}

// As optional_field, but absence is an error: "root.path: is required".
template <class T>
Result<void> required_field(const Node& obj, std::string_view key, T& out) {
  Node child = obj.at(key);
  if (!child.present()) return child.fail("is required");
  return read(child, out);
}

// The spec's structured types; parse.cc and parse_linux.cc define them.
Result<void> read(const Node& n, IdMapping& out);
Result<void> read(const Node& n, Process& out);
Result<void> read(const Node& n, Linux& out);

}  // namespace guise::oci::detail
