// A client of the distribution v2 API (docker registries, ghcr, quay, Debian's
// docker-registry) over libcurl. Anonymous and Bearer-token auth (answering the
// WWW-Authenticate challenge), basic auth from docker's config file; retries with
// backoff on 429, 5xx and broken connections; a blob interrupted mid-way is resumed
// with an HTTP Range request from the byte it stopped at. Safe to use from several
// threads at once (one connection per call; the token cache is shared under a lock).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "image/digest.h"
#include "sys/result.h"

namespace guise::image {

struct Credentials {
  std::string username, password;  // or an identity token in password with username "<token>"
};

struct RegistryOptions {
  // false: TLS without verification, and plain HTTP when the registry has no TLS
  // (podman's --tls-verify=false). Loopback registries (127.0.0.0/8, ::1, localhost) and
  // those listed in registries.json "insecure-registries" get the same, as docker does.
  bool tls_verify = true;
  // The user asked for verification by name (--tls-verify=true): loopback and
  // registries.json do not relax it then.
  bool tls_verify_forced = false;
  std::string cert_dir;        // ca.crt, client.cert, client.key; "" = /etc/guise/certs.d/HOST[:PORT]
  std::optional<Credentials> credentials;  // else the auth file's entry for the registry, else anonymous
  std::string auth_file;       // "" = $DOCKER_CONFIG/config.json or ~/.docker/config.json
  int max_attempts = 5;        // per request, counting the first
  int backoff_ms = 200;        // doubled each retry; a Retry-After header wins
};

struct FetchedManifest {
  std::string media_type;  // from Content-Type (or the body's mediaType)
  std::string body;        // bytes exactly as served: their sha256 is the digest
  Digest digest;           // verified against a digest reference and Docker-Content-Digest
};

// Called with each chunk of a blob as it arrives; an error stops the transfer.
using BlobSink = std::function<Result<void>(std::string_view chunk)>;

class RegistryClient {
 public:
  // `domain` as in a Reference ("docker.io" talks to registry-1.docker.io).
  static Result<std::unique_ptr<RegistryClient>> connect(const std::string& domain, const RegistryOptions& opts);
  virtual ~RegistryClient() = default;

  // GET /v2/ with the credentials: checks a login (401 → "unauthorized: ..." error).
  virtual Result<void> ping() = 0;
  // `reference` is a tag or a digest. 404 → not_found naming repo:reference.
  virtual Result<FetchedManifest> get_manifest(const std::string& repo, const std::string& reference) = 0;
  // Streams the blob from byte `offset` into `sink`, resuming on broken connections and
  // retrying transient failures. The bytes are not verified here (the caller's Ingest is).
  virtual Result<void> fetch_blob(const std::string& repo, const Digest& digest, int64_t offset,
                                  const BlobSink& sink) = 0;
  virtual Result<bool> has_blob(const std::string& repo, const Digest& digest) = 0;
  // Uploads `size` bytes read from `fd` (from its current offset) as `digest`.
  virtual Result<void> push_blob(const std::string& repo, const Digest& digest, int64_t size, int fd) = 0;
  // PUT a manifest or index under `reference` (a tag, or its digest).
  virtual Result<void> put_manifest(const std::string& repo, const std::string& reference,
                                    const std::string& media_type, std::string_view body) = 0;
};

// docker's config file: {"auths": {"HOST[:PORT]": {"auth": base64("user:password")}}};
// docker.io is stored as "https://index.docker.io/v1/".
std::string default_auth_file();
Result<std::optional<Credentials>> load_credentials(const std::string& auth_file, const std::string& domain);
Result<void> store_credentials(const std::string& auth_file, const std::string& domain, const Credentials& c);
// false when there was nothing to remove.
Result<bool> erase_credentials(const std::string& auth_file, const std::string& domain);

}  // namespace guise::image
