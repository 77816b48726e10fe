#include "image/registry_answers.h"

#include <curl/curl.h>

#include <algorithm>
#include <ctime>
#include <nlohmann/json.hpp>

#include "image/manifest.h"

namespace guise::image {

namespace {

bool is_index_or_manifest_type(std::string_view t) {
  return t == media::kOciIndex || t == media::kOciManifest || t == media::kDockerList || t == media::kDockerManifest;
}

}  // namespace

std::string manifest_media_type(const HttpResponse& r, std::string_view body) {
  std::string ct = r.header("content-type");
  ct = ct.substr(0, ct.find(';'));
  while (!ct.empty() && ct.back() == ' ') ct.pop_back();
  if (is_index_or_manifest_type(ct)) return ct;
  // A registry that says application/json: the document's own field, or its shape.
  auto doc = nlohmann::json::parse(body, nullptr, false);
  if (doc.is_object()) {
    if (doc.contains("mediaType") && doc["mediaType"].is_string()) return doc["mediaType"].get<std::string>();
    if (doc.contains("manifests")) return std::string(media::kOciIndex);
    if (doc.contains("layers")) return std::string(media::kOciManifest);
  }
  return ct;
}

int64_t retry_after_seconds(const std::string& value) {
  if (value.empty()) return -1;
  if (std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return std::stoll(value.substr(0, 9));
  time_t when = curl_getdate(value.c_str(), nullptr);
  if (when < 0) return -1;
  return std::max<int64_t>(0, when - std::time(nullptr));
}

std::optional<std::pair<std::string, std::chrono::seconds>> parse_token_answer(std::string_view body) {
  auto doc = nlohmann::json::parse(body, nullptr, false);
  std::string token;
  if (doc.is_object()) {
    if (doc.contains("token") && doc["token"].is_string()) token = doc["token"].get<std::string>();
    if (token.empty() && doc.contains("access_token") && doc["access_token"].is_string())
      token = doc["access_token"].get<std::string>();
  }
  if (token.empty()) return std::nullopt;
  int64_t expires_in = 60;
  if (doc.contains("expires_in") && doc["expires_in"].is_number_integer())
    expires_in = doc["expires_in"].get<int64_t>();
  // Renewed a little early, so that a token never expires on the way; and kept a day at
  // most, whatever the server says: a lifetime near int64's range would overflow the
  // clock arithmetic that keeps it.
  constexpr int64_t kDay = 24 * 3600;
  expires_in = std::clamp<int64_t>(expires_in, 6, kDay + 5);
  return std::make_pair(token, std::chrono::seconds(expires_in - 5));
}

}  // namespace guise::image
