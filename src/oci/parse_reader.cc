#include "oci/parse_reader.h"

#include <cmath>

#include <nlohmann/json.hpp>

namespace guise::oci::detail {

// Sysctl and annotation keys hold dots, so they are bracketed: linux.sysctl["net.ipv4.ip_forward"].
std::string child_path(const std::string& parent, std::string_view key) {
  bool plain = !key.empty() && !(key[0] >= '0' && key[0] <= '9');
  for (char c : key) {
    bool word = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    if (!word) plain = false;
  }
  if (!plain) return parent + "[" + quote(key) + "]";
  return parent.empty() ? std::string(key) : parent + "." + std::string(key);
}

namespace {

// A NUL would cut the string where the kernel reads it: "/bin/true\0x" runs /bin/true.
Result<void> check_no_nul(const Node& n, std::string_view s) {
  if (s.find('\0') != std::string_view::npos) return n.fail("must not contain a NUL byte, got " + quote(s));
  return Ok();
}

}  // namespace

std::string quote(std::string_view s) {
  constexpr size_t kMax = 64;
  // Replacing bad UTF-8 rather than throwing: a message must not fail.
  auto dump = [](std::string_view text) {
    return Json(std::string(text)).dump(-1, ' ', false, Json::error_handler_t::replace);
  };
  if (s.size() <= kMax) return dump(s);
  size_t cut = kMax;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;  // UTF-8 boundary
  return dump(s.substr(0, cut)) + "...";
}

Result<void> check_length(const Node& n, std::string_view value, size_t max, std::string_view limit) {
  if (value.size() <= max) return Ok();
  return n.fail("is " + std::to_string(value.size()) + " bytes, more than " + std::to_string(max) + " (" +
                std::string(limit) + "): " + quote(value));
}

Result<void> check_path_length(const Node& n, std::string_view value) {
  return check_length(n, value, kPathMax, "PATH_MAX");
}

bool is_absolute(std::string_view path) { return !path.empty() && path[0] == '/'; }

bool Node::present() const { return value_ != nullptr && !value_->is_null(); }

Node Node::at(std::string_view key) const {
  const Json* child = nullptr;
  if (value_ != nullptr && value_->is_object()) {
    auto it = value_->find(key);
    if (it != value_->end()) child = &*it;
  }
  return Node(child, child_path(path_, key), origin_);
}

Node Node::at(size_t index) const {
  const Json* child = nullptr;
  if (value_ != nullptr && value_->is_array() && index < value_->size()) child = &(*value_)[index];
  return Node(child, path_ + "[" + std::to_string(index) + "]", origin_);
}

Error Node::fail(std::string_view message) const {
  std::string text = *origin_ + ": ";
  if (!path_.empty()) text += path_ + ": ";
  text += message;
  return sys::user_error(std::move(text));
}

Error Node::fail_value(std::string_view expected) const {
  return fail("expected " + std::string(expected) + ", got " + rendered());
}

std::string Node::rendered() const {
  if (!present()) return "null";
  std::string text = value_->dump();
  constexpr size_t kMax = 60;
  if (text.size() <= kMax) return text;
  size_t cut = kMax;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;  // UTF-8 boundary
  return text.substr(0, cut) + "...";
}

Result<void> Node::expect_object() const {
  if (!present() || !value_->is_object()) return fail_value("an object");
  return Ok();
}

Result<size_t> Node::array_size() const {
  if (!present() || !value_->is_array()) return fail_value("an array");
  return value_->size();
}

Result<std::vector<std::pair<std::string, Node>>> Node::members() const {
  GUISE_TRY(expect_object());
  std::vector<std::pair<std::string, Node>> out;
  for (auto it = value_->begin(); it != value_->end(); ++it) {
    Node child(&it.value(), child_path(path_, it.key()), origin_);
    if (it.key().find('\0') != std::string::npos) return child.fail("a key must not contain a NUL byte");
    out.emplace_back(it.key(), child);
  }
  return out;
}

Result<std::string> Node::string() const {
  if (!present() || !value_->is_string()) return fail_value("a string");
  const auto& s = value_->get_ref<const std::string&>();
  GUISE_TRY(check_no_nul(*this, s));
  return s;
}

Result<bool> Node::boolean() const {
  if (!present() || !value_->is_boolean()) return fail_value("a boolean");
  return value_->get<bool>();
}

// An integer too long for 64 bits parses as a float: out of range, not the wrong kind.
// A float with a fraction or an exponent ("1.0", "1e3") is no integer, as Go's
// encoding/json (and so runc) holds.
bool Node::integral_float() const {
  if (!present() || !value_->is_number_float()) return false;
  double v = value_->get<double>();
  return std::isfinite(v) && std::trunc(v) == v && std::fabs(v) >= 9.2e18;
}

Result<uint64_t> Node::unsigned_int(uint64_t max) const {
  if (present() && value_->is_number_unsigned()) {
    uint64_t v = value_->get<uint64_t>();
    if (v <= max) return v;
  } else if (present() && (value_->is_number_integer() || integral_float())) {
    // Negative or too big: the right kind of value, out of range (a non-negative
    // integer always parses as number_unsigned).
  } else {
    return fail_value("an unsigned integer");
  }
  return fail("must be between 0 and " + std::to_string(max) + ", got " + rendered());
}

Result<int64_t> Node::signed_int(int64_t min, int64_t max) const {
  if (present() && value_->is_number_unsigned()) {
    uint64_t v = value_->get<uint64_t>();
    if (v <= static_cast<uint64_t>(max)) return static_cast<int64_t>(v);
  } else if (present() && value_->is_number_integer()) {
    int64_t v = value_->get<int64_t>();
    if (v >= min && v <= max) return v;
  } else if (integral_float()) {
    // Out of range below.
  } else {
    return fail_value("an integer");
  }
  return fail("must be between " + std::to_string(min) + " and " + std::to_string(max) + ", got " +
              rendered());
}

Result<void> read(const Node& n, std::string& out) {
  out = GUISE_TRY(n.string());
  return Ok();
}

Result<void> read(const Node& n, bool& out) {
  out = GUISE_TRY(n.boolean());
  return Ok();
}

Result<void> read(const Node& n, std::map<std::string, std::string>& out) {
  auto members = GUISE_TRY(n.members());
  out.clear();
  for (auto& [key, value] : members) {
    if (!value.present()) return value.fail_value("a string");
    out[key] = GUISE_TRY(value.string());
  }
  return Ok();
}

}  // namespace guise::oci::detail
