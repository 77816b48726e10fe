#include "oci/parse_json.h"

#include <vector>

#include <nlohmann/json.hpp>

namespace guise::oci::detail {

namespace {

// nlohmann's what() is "[json.exception.parse_error.101] parse error at line 3,
// column 5: syntax error while parsing ..."; keep the position and the reason.
Error malformed(const std::string& origin, std::string what, size_t byte) {
  std::string_view marker = "parse error at ";
  size_t at = what.find(marker);
  std::string detail = at == std::string::npos ? what : what.substr(at + marker.size());
  if (detail.rfind("line ", 0) != 0) detail = "byte " + std::to_string(byte) + ": " + detail;
  return sys::user_error(origin + ": malformed JSON at " + detail);
}

// The DOM builder, with the nesting counted and the path of the value being read
// kept, for the one error nlohmann reports without a line: a number out of range.
class Builder {
 public:
  Builder(Json& out, const std::string& origin, const std::string& base)
      : dom_(out, /*allow_exceptions=*/false), origin_(origin), base_(base) {}

  bool null() { return value() && dom_.null(); }
  bool boolean(bool v) { return value() && dom_.boolean(v); }
  bool number_integer(Json::number_integer_t v) { return value() && dom_.number_integer(v); }
  bool number_unsigned(Json::number_unsigned_t v) { return value() && dom_.number_unsigned(v); }
  bool number_float(Json::number_float_t v, const std::string& s) { return value() && dom_.number_float(v, s); }
  bool string(std::string& v) { return value() && dom_.string(v); }
  bool binary(Json::binary_t& v) { return value() && dom_.binary(v); }
  bool start_object(size_t n) { return open(false) && dom_.start_object(n); }
  bool start_array(size_t n) { return open(true) && dom_.start_array(n); }
  bool key(std::string& k) {
    frames_.back().key = k;
    return dom_.key(k);
  }
  bool end_object() {
    frames_.pop_back();
    return dom_.end_object();
  }
  bool end_array() {
    frames_.pop_back();
    return dom_.end_array();
  }

  bool parse_error(size_t position, const std::string& token, const nlohmann::detail::exception& e) {
    constexpr int kNumberOverflow = 406;
    if (e.id == kNumberOverflow) {
      std::string path = current_path();
      std::string shown = token.size() > 64 ? token.substr(0, 64) + "..." : token;
      error_ = sys::user_error(origin_ + ": " + (path.empty() ? "" : path + ": ") + "number out of range, got " +
                               shown);
    } else {
      error_ = malformed(origin_, e.what(), position);
    }
    return false;
  }

  std::optional<Error>& error() { return error_; }

 private:
  struct Frame {
    bool array;
    size_t count = 0;  // an array's elements begun so far
    std::string key;   // an object's latest key
  };

  bool value() {
    if (!frames_.empty() && frames_.back().array) ++frames_.back().count;
    return true;
  }

  bool open(bool array) {
    value();
    if (frames_.size() >= kMaxNesting) {
      error_ = sys::user_error(origin_ + ": nested deeper than " + std::to_string(kMaxNesting) + " levels");
      return false;
    }
    frames_.push_back(Frame{array});
    return true;
  }

  // The value being read: enclosing arrays' latest element, the innermost array's next.
  std::string current_path() const {
    std::string path = base_;
    for (size_t i = 0; i < frames_.size(); ++i) {
      const Frame& f = frames_[i];
      if (f.array) {
        size_t index = i + 1 == frames_.size() ? f.count : f.count - 1;
        path += "[" + std::to_string(index) + "]";
      } else {
        path = child_path(path, f.key);
      }
    }
    return path;
  }

  nlohmann::detail::json_sax_dom_parser<Json> dom_;
  const std::string& origin_;
  const std::string& base_;
  std::vector<Frame> frames_;
  std::optional<Error> error_;
};

}  // namespace

Result<Json> parse_document(std::string_view text, const std::string& origin, const std::string& base) {
  Json doc;
  Builder builder(doc, origin, base);
  bool ok = Json::sax_parse(text, &builder);
  if (builder.error()) return std::move(*builder.error());
  if (!ok) return sys::user_error(origin + ": malformed JSON");
  return doc;
}

}  // namespace guise::oci::detail
