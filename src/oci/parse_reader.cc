#include "oci/parse_reader.h"

#include <nlohmann/json.hpp>

namespace guise::oci::detail {

namespace {

// "process" + "user" -> "process.user"; keys that are not plain names
// (sysctl and annotation keys hold dots) are bracketed: linux.sysctl["net.ipv4.ip_forward"].
std::string child_path(const std::string& parent, std::string_view key) {
  bool plain = !key.empty() && !(key[0] >= '0' && key[0] <= '9');
  for (char c : key) {
    bool word = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    if (!word) plain = false;
  }
  if (!plain) return parent + "[" + quote(key) + "]";
  return parent.empty() ? std::string(key) : parent + "." + std::string(key);
}

}  // namespace

std::string quote(std::string_view s) { return Json(std::string(s)).dump(); }

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
  for (auto it = value_->begin(); it != value_->end(); ++it)
    out.emplace_back(it.key(), Node(&it.value(), child_path(path_, it.key()), origin_));
  return out;
}

Result<std::string> Node::string() const {
  if (!present() || !value_->is_string()) return fail_value("a string");
  return value_->get_ref<const std::string&>();
}

Result<bool> Node::boolean() const {
  if (!present() || !value_->is_boolean()) return fail_value("a boolean");
  return value_->get<bool>();
}

Result<uint64_t> Node::unsigned_int(uint64_t max) const {
  if (present() && value_->is_number_unsigned()) {
    uint64_t v = value_->get<uint64_t>();
    if (v <= max) return v;
  } else if (present() && value_->is_number_integer()) {
    // Negative: the right kind of value, out of range (a non-negative integer
    // always parses as number_unsigned).
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
