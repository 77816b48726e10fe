// A registry's (or its token server's) answer, as it arrives over HTTP: the input is the
// answer's head (status line and header lines, as curl hands them over) and, after a
// blank line, its body. Everything guise reads from one goes through the functions it
// uses for real answers: the headers kept, WWW-Authenticate's challenges, Content-Range
// when resuming a blob, Retry-After, a redirect's Location, a manifest's media type, a
// token, an error body made into the error the user reads.
#include <cstddef>
#include <cstdint>

#include "fuzz_check.h"
#include "image/blob_resume.h"
#include "image/http.h"
#include "image/registry_answers.h"
#include "image/registry_auth.h"

namespace {

using namespace guise;

bool lower_case(std::string_view s) {
  for (char c : s)
    if (c >= 'A' && c <= 'Z') return false;
  return true;
}

void challenges(const std::string& value) {
  for (const auto& c : image::parse_www_authenticate(value)) {
    fuzz::check(!c.scheme.empty() && lower_case(c.scheme), "a challenge's scheme is empty or not lower-case",
                c.scheme);
    for (const auto& [name, v] : c.params) {
      fuzz::check(lower_case(name), "a challenge's parameter name is not lower-case", name);
      auto back = image::base64_decode(image::base64_encode(v));
      fuzz::check(back && *back == v, "base64 does not read back", v);
    }
  }
}

void content_range(const std::string& value) {
  int64_t start = image::content_range_start(value);
  fuzz::check(start >= -1, "a Content-Range starts before byte 0", value);
  for (int64_t offset : {int64_t{0}, int64_t{1} << 20}) {
    image::BlobResume resume(offset);
    if (resume.begin_answer(206, value)) {
      fuzz::check(start == offset, "a 206 accepted from the wrong byte", value);
      (void)resume.take(value);
      fuzz::check(resume.delivered() == offset + static_cast<int64_t>(value.size()), "bytes lost on resume");
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  size_t blank = text.find("\r\n\r\n");
  size_t skip = 4;
  if (blank == std::string_view::npos) blank = text.find("\n\n"), skip = 2;
  std::string_view head = text.substr(0, blank);
  std::string_view body = blank == std::string_view::npos ? std::string_view{} : text.substr(blank + skip);

  image::HttpResponse r;
  r.status = 200;
  while (!head.empty()) {
    size_t eol = head.find('\n');
    std::string_view line = head.substr(0, eol == std::string_view::npos ? head.size() : eol + 1);
    head.remove_prefix(line.size());
    if (line.starts_with("HTTP/") && line.size() > 12) {
      int status = 0;
      for (char c : line.substr(9, 3)) status = c >= '0' && c <= '9' ? status * 10 + (c - '0') : -1000;
      if (status > 0) r.status = status;
    }
    image::add_header_line(r, line);
  }
  r.body = std::string(body);

  for (const auto& [name, value] : r.headers) {
    fuzz::check(lower_case(name), "a header name kept with upper case", name);
    if (name == "www-authenticate") challenges(value);
    if (name == "content-range") content_range(value);
    if (name == "retry-after")
      fuzz::check(image::retry_after_seconds(value) >= -1, "Retry-After reads as a negative wait", value);
    if (name == "location") {
      std::string url = image::resolve_url("https://registry.example:5000/v2/library/busybox/blobs/sha256:x", value);
      (void)image::url_origin(url);
    }
  }

  (void)image::manifest_media_type(r, r.body);
  if (auto token = image::parse_token_answer(r.body); token) {
    fuzz::check(!token->first.empty(), "an empty token taken");
    fuzz::check(token->second.count() >= 1, "a token kept for less than a second");
    // As RegistryAuth keeps it: until now + the lifetime, which must not overflow.
    auto expires = std::chrono::steady_clock::now() + token->second;
    fuzz::check(expires > std::chrono::steady_clock::now(), "a token expires before it is taken");
  }
  for (long status : {r.status, 401L, 404L}) {
    r.status = status;
    std::string error = image::registry_error_text(r);
    fuzz::check_error_line(error);
  }
  (void)image::base64_decode(r.body);
  return 0;
}
