#include "image/http.h"

#include <curl/curl.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <memory>
#include <mutex>
#include <optional>

namespace guise::image {

namespace {

void global_init() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n'))
    s.remove_suffix(1);
  return s;
}

struct Exchange {
  const HttpRequest* req;
  CURL* curl;
  HttpResponse resp;
  std::optional<Error> stop;  // why a callback stopped the transfer
  int64_t sent = 0;
};

size_t on_header(char* data, size_t size, size_t n, void* user) {
  auto* x = static_cast<Exchange*>(user);
  std::string_view line(data, size * n);
  add_header_line(x->resp, line);
  return line.size();
}

size_t on_write(char* data, size_t size, size_t n, void* user) {
  auto* x = static_cast<Exchange*>(user);
  std::string_view chunk(data, size * n);
  long status = 0;
  curl_easy_getinfo(x->curl, CURLINFO_RESPONSE_CODE, &status);
  if (x->req->on_body && status >= 200 && status < 300) {
    x->resp.status = status;
    auto r = x->req->on_body(x->resp, chunk);
    if (!r.ok()) {
      x->stop = std::move(r.error());
      return CURL_WRITEFUNC_ERROR;
    }
    x->resp.streamed += static_cast<int64_t>(chunk.size());
    return chunk.size();
  }
  if (x->resp.body.size() + chunk.size() > x->req->max_body) {
    x->stop =
        sys::user_error(x->req->url + ": the answer is larger than " + std::to_string(x->req->max_body) + " bytes");
    return CURL_WRITEFUNC_ERROR;
  }
  x->resp.body.append(chunk);
  return chunk.size();
}

size_t on_read(char* buf, size_t size, size_t n, void* user) {
  auto* x = static_cast<Exchange*>(user);
  const HttpRequest& r = *x->req;
  size_t want = std::min<int64_t>(static_cast<int64_t>(size * n), r.body_size - x->sent);
  if (want == 0) return 0;
  if (r.body_fd < 0) {
    std::copy_n(r.body.data() + x->sent, want, buf);
    x->sent += static_cast<int64_t>(want);
    return want;
  }
  ssize_t got;
  do got = ::pread(r.body_fd, buf, want, r.body_offset + x->sent);
  while (got < 0 && errno == EINTR);
  if (got <= 0) {
    x->stop = got < 0 ? sys::sys_error("read the upload") : sys::user_error("the upload ended early");
    return CURL_READFUNC_ABORT;
  }
  x->sent += got;
  return static_cast<size_t>(got);
}

bool is_retryable(CURLcode c) {
  switch (c) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_PARTIAL_FILE:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_GOT_NOTHING:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_SSL_CONNECT_ERROR:
      return true;
    default:
      return false;
  }
}

bool is_tls_mismatch(CURLcode c) {
  return c == CURLE_SSL_CONNECT_ERROR || c == CURLE_GOT_NOTHING || c == CURLE_RECV_ERROR ||
         c == CURLE_OPERATION_TIMEDOUT;
}

struct CurlDeleter {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
struct SlistDeleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};

}  // namespace

std::string HttpResponse::header(std::string_view lower_name) const {
  for (const auto& [k, v] : headers)
    if (k == lower_name) return v;
  return "";
}

Result<HttpResponse> http_request(const HttpRequest& req) {
  global_init();
  std::unique_ptr<CURL, CurlDeleter> curl(curl_easy_init());
  if (!curl) return sys::user_error("curl_easy_init failed");
  CURL* c = curl.get();
  Exchange x{&req, c, {}, std::nullopt, 0};

  curl_slist* raw = nullptr;
  for (const auto& h : req.headers) raw = curl_slist_append(raw, h.c_str());
  // Sent at once: an Expect round trip buys nothing with a body guise can send again.
  if (req.body_size >= 0) raw = curl_slist_append(raw, "Expect:");
  std::unique_ptr<curl_slist, SlistDeleter> headers(raw);

  curl_easy_setopt(c, CURLOPT_URL, req.url.c_str());
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_USERAGENT, "guise/" GUISE_VERSION);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, req.follow_redirects ? 1L : 0L);
  curl_easy_setopt(c, CURLOPT_MAXREDIRS, 10L);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 30L);
  // A transfer that stalls (under 1 byte/s for a minute) is cut and retried.
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 60L);
  if (req.timeout_s > 0) curl_easy_setopt(c, CURLOPT_TIMEOUT, req.timeout_s);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, req.tls.verify ? 1L : 0L);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, req.tls.verify ? 2L : 0L);
  if (!req.tls.ca_file.empty()) curl_easy_setopt(c, CURLOPT_CAINFO, req.tls.ca_file.c_str());
  if (!req.tls.client_cert.empty()) curl_easy_setopt(c, CURLOPT_SSLCERT, req.tls.client_cert.c_str());
  if (!req.tls.client_key.empty()) curl_easy_setopt(c, CURLOPT_SSLKEY, req.tls.client_key.c_str());
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &x);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_write);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &x);

  if (req.method == "HEAD") {
    curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
  } else if (req.body_size >= 0) {
    curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(req.body_size));
    curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read);
    curl_easy_setopt(c, CURLOPT_READDATA, &x);
    if (req.method != "PUT") curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, req.method.c_str());
  } else if (req.method == "POST") {
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, 0L);
  } else if (req.method != "GET") {
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, req.method.c_str());
  }

  char errbuf[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
  CURLcode rc = curl_easy_perform(c);
  if (x.stop) return std::move(*x.stop);
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &x.resp.status);
  char* eff = nullptr;
  if (curl_easy_getinfo(c, CURLINFO_EFFECTIVE_URL, &eff) == CURLE_OK && eff) x.resp.effective_url = eff;
  if (rc != CURLE_OK) {
    x.resp.transport_error = errbuf[0] ? std::string(trim(errbuf)) : curl_easy_strerror(rc);
    x.resp.retryable = is_retryable(rc);
    x.resp.tls_mismatch = is_tls_mismatch(rc);
    if (rc == CURLE_UNSUPPORTED_PROTOCOL || rc == CURLE_URL_MALFORMAT || rc == CURLE_BAD_FUNCTION_ARGUMENT)
      return sys::user_error(req.url + ": " + x.resp.transport_error);
  }
  return std::move(x.resp);
}

void add_header_line(HttpResponse& r, std::string_view line) {
  // Each answer (a redirect, a 100 Continue) starts with its status line: keep only the last's headers.
  if (line.starts_with("HTTP/")) {
    r.headers.clear();
    return;
  }
  auto colon = line.find(':');
  if (colon != std::string_view::npos)
    r.headers.emplace_back(lower(trim(line.substr(0, colon))), std::string(trim(line.substr(colon + 1))));
}

std::string url_origin(std::string_view url) {
  auto scheme = url.find("://");
  if (scheme == std::string_view::npos) return "";
  auto path = url.find('/', scheme + 3);
  return std::string(url.substr(0, path));
}

std::string resolve_url(std::string_view base, std::string_view location) {
  if (location.find("://") != std::string_view::npos) return std::string(location);
  if (location.starts_with("//")) return std::string(base.substr(0, base.find("//"))) + std::string(location);
  if (location.starts_with("/")) return url_origin(base) + std::string(location);
  std::string_view dir = base.substr(0, base.find_first_of("?#"));
  dir = dir.substr(0, dir.rfind('/') + 1);
  return std::string(dir) + std::string(location);
}

std::string url_escape(std::string_view s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char ch : s) {
    if (std::isalnum(ch) || ch == '-' || ch == '_' || ch == '.' || ch == '~') {
      out += static_cast<char>(ch);
    } else {
      out += '%';
      out += hex[ch >> 4];
      out += hex[ch & 15];
    }
  }
  return out;
}

}  // namespace guise::image
