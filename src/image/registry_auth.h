// Answering a registry's WWW-Authenticate challenge: Basic with the credentials, or a
// Bearer token fetched from the challenge's realm for a scope
// ("repository:library/busybox:pull"). Tokens are cached per scope under a lock, so
// the threads of one pull share them.
#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "image/http.h"
#include "image/registry.h"
#include "sys/result.h"

namespace guise::image {

struct AuthChallenge {
  std::string scheme;                         // lower-case: "bearer", "basic"
  std::map<std::string, std::string> params;  // names lower-case
};

// Every challenge in a WWW-Authenticate value (several may share one header, and quoted
// values may hold commas). Malformed trailing text is ignored.
std::vector<AuthChallenge> parse_www_authenticate(std::string_view header);

std::string base64_encode(std::string_view data);
// nullopt: not base64.
std::optional<std::string> base64_decode(std::string_view text);

// An answer's status and what the registry said of it, from the JSON errors when
// there are some: "401 unauthorized: authentication required".
std::string registry_error_text(const HttpResponse& r);

// "repository:REPO:pull" or "repository:REPO:pull,push"; "" for the registry itself.
std::string repository_scope(const std::string& repo, bool push);

class RegistryAuth {
 public:
  RegistryAuth(std::optional<Credentials> credentials, TlsOptions tls, std::string registry_origin)
      : credentials_(std::move(credentials)), tls_(std::move(tls)), origin_(std::move(registry_origin)) {}

  // The Authorization header for a request in `scope`, when one is known ("" when not).
  std::string authorization(const std::string& scope);
  // Answers a 401's WWW-Authenticate for `scope` so that the next authorization() has
  // what the registry asked for. false: nothing to answer with (no credentials for
  // Basic, no challenge guise knows); an error: the token server refused.
  Result<bool> answer(const std::string& www_authenticate, const std::string& scope);
  int tokens_fetched() const { return tokens_fetched_.load(); }

 private:
  Result<std::pair<std::string, std::chrono::seconds>> fetch_token(const AuthChallenge& c, const std::string& scope);

  struct Token {
    std::string value;
    std::chrono::steady_clock::time_point expires;
  };
  std::optional<Credentials> credentials_;
  TlsOptions tls_;
  std::string origin_;
  std::mutex mu_;
  bool basic_ = false;  // the registry asked for Basic: send it with every request
  std::map<std::string, Token> tokens_;
  std::atomic<int> tokens_fetched_ = 0;
};

}  // namespace guise::image
