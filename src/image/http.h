// One HTTP exchange over libcurl, its own easy handle each time (so any thread may
// call): status, headers and body, or the body streamed to a callback. Knows nothing
// of registries; retries, auth and resuming are the caller's.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sys/result.h"

namespace guise::image {

struct TlsOptions {
  bool verify = true;
  std::string ca_file;      // "" = the system's CAs
  std::string client_cert;  // PEM; with client_key
  std::string client_key;
};

struct HttpRequest {
  std::string method = "GET";
  std::string url;
  std::vector<std::string> headers;  // "Name: value"
  TlsOptions tls;
  bool follow_redirects = false;
  long timeout_s = 0;  // whole exchange; 0 = none (a stalled transfer is still cut)
  // Request body: `body`, or `body_size` bytes read with pread from `body_fd` at `body_offset`.
  std::string_view body;
  int body_fd = -1;
  int64_t body_offset = 0;
  int64_t body_size = -1;
  // Called with each chunk of a 2xx answer's body instead of keeping it, with the
  // answer's status and headers so far; an error stops the exchange and is what
  // http_request returns.
  std::function<Result<void>(const struct HttpResponse& head, std::string_view chunk)> on_body;
  size_t max_body = 1 << 20;  // a kept body larger than this is an error
};

struct HttpResponse {
  long status = 0;  // 0: no answer arrived
  // Of the last answer (after redirects); names lower-case.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;  // kept when not streamed (error bodies always are)
  std::string effective_url;
  // The exchange broke (connection refused or reset, a short body, TLS): curl's words.
  std::string transport_error;
  bool retryable = false;     // a broken connection or a timeout, worth another try
  bool tls_mismatch = false;  // the server did not speak TLS
  int64_t streamed = 0;       // bytes handed to on_body

  // The first header of that name ("" when absent).
  std::string header(std::string_view lower_name) const;
};

// An Error only for what retrying cannot fix: on_body's error, a body over max_body, a
// request curl refuses. A broken exchange is a response with transport_error set.
Result<HttpResponse> http_request(const HttpRequest& req);

// One line of an answer's head as curl hands it over ("Name: value\r\n", or a status
// line, which starts the headers of a new answer) into `r.headers`.
void add_header_line(HttpResponse& r, std::string_view line);

// "scheme://host[:port]" of a URL ("" when it has none).
std::string url_origin(std::string_view url);
// `location` (absolute, "/path" or relative) against the URL it answered.
std::string resolve_url(std::string_view base, std::string_view location);
std::string url_escape(std::string_view s);

}  // namespace guise::image
