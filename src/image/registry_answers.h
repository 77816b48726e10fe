// What a registry's answers say, read from their headers and bodies: the media type of a
// manifest, how long Retry-After asks to wait, the token a token server handed out. Pure,
// so that each is tested (and fuzzed) without a registry; the rest of the answer
// parsing is registry_auth.h's (WWW-Authenticate, error bodies) and blob_resume.h's
// (Content-Range).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "image/http.h"

namespace guise::image {

// The manifest's media type from Content-Type; for a registry that says
// application/json, the document's own mediaType field, or a guess from its shape.
std::string manifest_media_type(const HttpResponse& r, std::string_view body);

// Seconds from a Retry-After value (delta seconds or an HTTP date); -1 when absent.
int64_t retry_after_seconds(const std::string& value);

// A token server's answer: {"token": ...} or OAuth2's {"access_token": ...}, and how
// long to keep it (expires_in less a margin, 60 s when not said). nullopt: no token.
std::optional<std::pair<std::string, std::chrono::seconds>> parse_token_answer(std::string_view body);

}  // namespace guise::image
