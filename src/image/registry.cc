// The distribution v2 API over http.h: the scheme is chosen once per client, every
// request goes through send(), which adds auth, answers one 401, and retries broken
// exchanges, 429 and 5xx with backoff.
#include "image/registry.h"

#include <curl/curl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "image/blob_resume.h"
#include "image/http.h"
#include "image/manifest.h"
#include "image/registries_config.h"
#include "image/registry_answers.h"
#include "image/registry_auth.h"

namespace guise::image {

namespace {

constexpr size_t kMaxManifest = 4 << 20;

std::string api_host(const std::string& domain) {
  return domain == "docker.io" || domain == "index.docker.io" ? "registry-1.docker.io" : domain;
}

TlsOptions tls_for(const std::string& domain, const RegistryOptions& opts, bool insecure) {
  TlsOptions tls;
  tls.verify = !insecure;
  std::string dir = opts.cert_dir.empty() ? "/etc/guise/certs.d/" + domain : opts.cert_dir;
  std::error_code ec;
  if (std::filesystem::exists(dir + "/ca.crt", ec)) tls.ca_file = dir + "/ca.crt";
  if (std::filesystem::exists(dir + "/client.cert", ec) && std::filesystem::exists(dir + "/client.key", ec)) {
    tls.client_cert = dir + "/client.cert";
    tls.client_key = dir + "/client.key";
  }
  return tls;
}

Error status_error(const HttpResponse& r, const std::string& what) {
  std::string text = registry_error_text(r);
  sys::ErrorKind kind = r.status == 404                      ? sys::ErrorKind::kNotFound
                        : r.status == 401 || r.status == 403 ? sys::ErrorKind::kInvalid
                                                             : sys::ErrorKind::kSystem;
  return Error{0, text, {}, {what}, kind, {}};
}

Error protocol_error(const std::string& text, const std::string& what) {
  return std::move(sys::user_error(text)).with_context(what);
}

class Registry final : public RegistryClient {
 public:
  Registry(std::string domain, const RegistryOptions& opts, bool insecure, TlsOptions tls,
           std::optional<Credentials> creds)
      : domain_(std::move(domain)),
        host_(api_host(domain_)),
        opts_(opts),
        insecure_(insecure),
        tls_(tls),
        auth_(std::move(creds), tls, "https://" + host_) {}

  Result<void> ping() override {
    std::string what = "logging in to " + domain_;
    HttpRequest req;
    req.url = GUISE_TRY(base_url()) + "/v2/";
    auto resp = GUISE_TRY(send(req, "", what));
    if (resp.status != 200) return status_error(resp, what);
    return Ok();
  }

  Result<FetchedManifest> get_manifest(const std::string& repo, const std::string& reference) override {
    bool by_digest = reference.find(':') != std::string::npos;
    std::string what = "fetching manifest " + domain_ + "/" + repo + (by_digest ? "@" : ":") + reference;
    HttpRequest req;
    req.url = GUISE_TRY(base_url()) + "/v2/" + repo + "/manifests/" + reference;
    req.headers.push_back("Accept: " + manifest_accept_header());
    req.follow_redirects = true;
    req.max_body = kMaxManifest;
    auto resp = GUISE_TRY(send(req, repository_scope(repo, false), what));
    if (resp.status != 200) return status_error(resp, what);

    FetchedManifest m;
    m.body = std::move(resp.body);
    m.digest = sha256_of(m.body);
    if (by_digest) {
      Digest want = GUISE_TRY(parse_digest(reference), what);
      if (want.algorithm != "sha256") return protocol_error("cannot verify a " + want.algorithm + " digest", what);
      if (want != m.digest)
        return protocol_error("expected " + want.str() + ", the registry sent " + m.digest.str(), what);
    }
    if (std::string said = resp.header("docker-content-digest"); !said.empty()) {
      auto d = parse_digest(said);
      if (d.ok() && d->algorithm == "sha256" && *d != m.digest)
        return protocol_error("Docker-Content-Digest says " + d->str() + ", the bytes are " + m.digest.str(), what);
    }
    m.media_type = manifest_media_type(resp, m.body);
    return m;
  }

  Result<void> fetch_blob(const std::string& repo, const Digest& digest, int64_t offset,
                          const BlobSink& sink) override {
    std::string what = "fetching blob " + digest.str() + " from " + domain_ + "/" + repo;
    BlobResume resume(offset);
    bool started = false;
    HttpRequest req;
    req.url = GUISE_TRY(base_url()) + "/v2/" + repo + "/blobs/" + digest.str();
    req.follow_redirects = true;
    req.on_body = [&](const HttpResponse& head, std::string_view chunk) -> Result<void> {
      if (!started) {
        started = true;
        GUISE_TRY(resume.begin_answer(head.status, head.header("content-range")));
      }
      std::string_view fresh = resume.take(chunk);
      if (!fresh.empty()) GUISE_TRY(sink(fresh));
      return Ok();
    };
    auto each_attempt = [&](HttpRequest& r) {
      started = false;
      if (std::string range = resume.range_header(); !range.empty()) r.headers.push_back(range);
    };
    auto resp = GUISE_TRY(send(req, repository_scope(repo, false), what, each_attempt));
    if (resp.status == 200 || resp.status == 206) return Ok();
    // Asked for the bytes after the last one: there was nothing left to send.
    if (resp.status == 416 && resume.delivered() > 0) return Ok();
    return status_error(resp, what);
  }

  Result<bool> has_blob(const std::string& repo, const Digest& digest) override {
    return head_blob(repo, digest, false);
  }

  Result<void> push_blob(const std::string& repo, const Digest& digest, int64_t size, int fd) override {
    std::string what = "pushing blob " + digest.str() + " to " + domain_ + "/" + repo;
    if (GUISE_TRY(head_blob(repo, digest, true))) return Ok();
    std::string scope = repository_scope(repo, true);
    off_t start = ::lseek(fd, 0, SEEK_CUR);
    if (start < 0) return std::move(sys::sys_error("seek the blob's file")).with_context(what);

    HttpRequest post;
    post.method = "POST";
    post.url = GUISE_TRY(base_url()) + "/v2/" + repo + "/blobs/uploads/";
    auto started = GUISE_TRY(send(post, scope, what));
    if (started.status != 202) return status_error(started, what);
    std::string location = started.header("location");
    if (location.empty()) return protocol_error("the registry gave no upload Location", what);

    HttpRequest put;
    put.method = "PUT";
    put.url = resolve_url(started.effective_url.empty() ? post.url : started.effective_url, location);
    put.url += (put.url.find('?') == std::string::npos ? "?" : "&");
    put.url += "digest=" + url_escape(digest.str());
    put.headers.push_back("Content-Type: application/octet-stream");
    put.body_fd = fd;
    put.body_offset = start;
    put.body_size = size;
    auto done = GUISE_TRY(send(put, scope, what));
    if (done.status != 201 && done.status != 204 && done.status != 200) return status_error(done, what);
    if (::lseek(fd, start + size, SEEK_SET) < 0)
      return std::move(sys::sys_error("seek the blob's file")).with_context(what);
    return Ok();
  }

  Result<void> put_manifest(const std::string& repo, const std::string& reference, const std::string& media_type,
                            std::string_view body) override {
    bool by_digest = reference.find(':') != std::string::npos;
    std::string what = "pushing manifest " + domain_ + "/" + repo + (by_digest ? "@" : ":") + reference;
    HttpRequest req;
    req.method = "PUT";
    req.url = GUISE_TRY(base_url()) + "/v2/" + repo + "/manifests/" + reference;
    req.headers.push_back("Content-Type: " + media_type);
    req.body = body;
    req.body_size = static_cast<int64_t>(body.size());
    auto resp = GUISE_TRY(send(req, repository_scope(repo, true), what));
    if (resp.status < 200 || resp.status >= 300) return status_error(resp, what);
    return Ok();
  }

 private:
  Result<bool> head_blob(const std::string& repo, const Digest& digest, bool push) {
    std::string what = "looking up blob " + digest.str() + " in " + domain_ + "/" + repo;
    HttpRequest req;
    req.method = "HEAD";
    req.url = GUISE_TRY(base_url()) + "/v2/" + repo + "/blobs/" + digest.str();
    req.follow_redirects = true;
    auto resp = GUISE_TRY(send(req, repository_scope(repo, push), what));
    if (resp.status == 200) return true;
    if (resp.status == 404) return false;
    return status_error(resp, what);
  }

  // https, unless the registry is insecure and does not speak TLS: then http. Asked once.
  Result<std::string> base_url() {
    std::lock_guard lock(scheme_mu_);
    if (!base_.empty()) return base_;
    base_ = "https://" + host_;
    if (!insecure_) return base_;
    HttpRequest probe;
    probe.url = base_ + "/v2/";
    probe.tls = tls_;
    probe.timeout_s = 15;
    auto tls = GUISE_TRY(http_request(probe), "reaching " + domain_);
    if (tls.status == 0 && tls.tls_mismatch) {
      probe.url = "http://" + host_ + "/v2/";
      auto plain = GUISE_TRY(http_request(probe), "reaching " + domain_);
      if (plain.status != 0) base_ = "http://" + host_;
    }
    return base_;
  }

  void wait_before_retry(int attempt, const HttpResponse& r) {
    int64_t ms = int64_t(opts_.backoff_ms) << std::min(attempt - 1, 16);
    if (int64_t s = retry_after_seconds(r.header("retry-after")); s >= 0) ms = s * 1000;
    std::this_thread::sleep_for(std::chrono::milliseconds(std::min<int64_t>(ms, 60'000)));
  }

  // One request with auth, one answer to a 401, and retries; `each_attempt` adjusts
  // the request before every try (a Range from where the last one stopped).
  Result<HttpResponse> send(const HttpRequest& base, const std::string& scope, const std::string& what,
                            const std::function<void(HttpRequest&)>& each_attempt = {}) {
    bool reauthed = false;
    int attempt = 0;
    const int max_attempts = std::max(1, opts_.max_attempts);
    while (true) {
      HttpRequest req = base;
      req.tls = tls_;
      if (each_attempt) each_attempt(req);
      if (std::string a = auth_.authorization(scope); !a.empty()) req.headers.push_back(a);
      auto resp = GUISE_TRY(http_request(req), what);
      ++attempt;
      // A transfer that got somewhere before breaking earns its tries afresh.
      if (resp.streamed > 0) attempt = 1;
      if (!resp.transport_error.empty()) {
        if (resp.retryable && attempt < max_attempts) {
          wait_before_retry(attempt, resp);
          continue;
        }
        return Error{0, resp.transport_error, {}, {what}, sys::ErrorKind::kSystem, {}};
      }
      if (resp.status == 401 && !reauthed) {
        reauthed = true;
        if (GUISE_TRY(auth_.answer(resp.header("www-authenticate"), scope), what)) continue;
      }
      if ((resp.status == 429 || resp.status >= 500) && attempt < max_attempts) {
        wait_before_retry(attempt, resp);
        continue;
      }
      return resp;
    }
  }

  std::string domain_, host_;
  RegistryOptions opts_;
  bool insecure_;
  TlsOptions tls_;
  RegistryAuth auth_;
  std::mutex scheme_mu_;
  std::string base_;
};

}  // namespace

Result<std::unique_ptr<RegistryClient>> RegistryClient::connect(const std::string& domain,
                                                                const RegistryOptions& opts) {
  std::string what = "connecting to " + domain;
  if (domain.empty()) return sys::user_error("a registry with no name");
  auto config = GUISE_TRY(load_registries_config(registries_config_path()), what);
  bool insecure = !opts.tls_verify_forced && registry_is_insecure(domain, opts.tls_verify, config);
  std::optional<Credentials> creds = opts.credentials;
  if (!creds) {
    std::string file = opts.auth_file.empty() ? default_auth_file() : opts.auth_file;
    creds = GUISE_TRY(load_credentials(file, domain), what);
  }
  TlsOptions tls = tls_for(domain, opts, insecure);
  return std::unique_ptr<RegistryClient>(new Registry(domain, opts, insecure, std::move(tls), std::move(creds)));
}

}  // namespace guise::image
