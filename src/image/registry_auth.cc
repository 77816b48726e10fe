#include "image/registry_auth.h"

#include <nlohmann/json.hpp>

#include "image/registry_answers.h"
#include "sys/text.h"

namespace guise::image {

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

bool is_tchar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) ||
         std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

class ChallengeParser {
 public:
  explicit ChallengeParser(std::string_view s) : s_(s) {}

  std::vector<AuthChallenge> parse() {
    std::vector<AuthChallenge> out;
    while (true) {
      skip(" \t,");
      std::string scheme = token();
      if (scheme.empty()) break;
      AuthChallenge c{lower(scheme), {}};
      while (true) {
        size_t save = i_;
        skip(" \t,");
        std::string name = token();
        skip(" \t");
        if (name.empty() || i_ >= s_.size() || s_[i_] != '=' || is_token68_padding(i_)) {
          i_ = save;  // the next challenge's scheme, a token68, or the end
          break;
        }
        ++i_;
        skip(" \t");
        c.params[lower(name)] = value();
        skip(" \t");
      }
      // A token68 (`Basic dXNlcg==`) is not a parameter: step over it.
      skip(" \t");
      while (i_ < s_.size() && s_[i_] != ',') ++i_;
      out.push_back(std::move(c));
    }
    return out;
  }

 private:
  // `abc==`: the '=' at `at` and what follows are a token68's padding, not `name=value`.
  bool is_token68_padding(size_t at) const {
    size_t j = at;
    while (j < s_.size() && s_[j] == '=') ++j;
    while (j < s_.size() && (s_[j] == ' ' || s_[j] == '\t')) ++j;
    return j > at + 1 || j == s_.size() || s_[j] == ',';
  }
  void skip(std::string_view chars) {
    while (i_ < s_.size() && chars.find(s_[i_]) != std::string_view::npos) ++i_;
  }
  std::string token() {
    size_t start = i_;
    while (i_ < s_.size() && is_tchar(s_[i_])) ++i_;
    return std::string(s_.substr(start, i_ - start));
  }
  std::string value() {
    std::string v;
    if (i_ < s_.size() && s_[i_] == '"') {
      for (++i_; i_ < s_.size() && s_[i_] != '"'; ++i_) {
        if (s_[i_] == '\\' && i_ + 1 < s_.size()) ++i_;
        v += s_[i_];
      }
      if (i_ < s_.size()) ++i_;  // the closing quote
      return v;
    }
    // Unquoted: servers put URLs here too, so up to a comma or a space.
    while (i_ < s_.size() && s_[i_] != ',' && s_[i_] != ' ' && s_[i_] != '\t') v += s_[i_++];
    return v;
  }

  std::string_view s_;
  size_t i_ = 0;
};

const char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

}  // namespace

std::vector<AuthChallenge> parse_www_authenticate(std::string_view header) { return ChallengeParser(header).parse(); }

std::string base64_encode(std::string_view data) {
  std::string out;
  size_t i = 0;
  for (; i + 2 < data.size(); i += 3) {
    uint32_t v = (uint8_t(data[i]) << 16) | (uint8_t(data[i + 1]) << 8) | uint8_t(data[i + 2]);
    for (int s = 18; s >= 0; s -= 6) out += kB64[(v >> s) & 63];
  }
  if (i + 1 == data.size()) {
    uint32_t v = uint8_t(data[i]) << 16;
    out += kB64[(v >> 18) & 63];
    out += kB64[(v >> 12) & 63];
    out += "==";
  } else if (i + 2 == data.size()) {
    uint32_t v = (uint8_t(data[i]) << 16) | (uint8_t(data[i + 1]) << 8);
    out += kB64[(v >> 18) & 63];
    out += kB64[(v >> 12) & 63];
    out += kB64[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  size_t pad = 0;
  for (char c : text) {
    if (c == '=') {
      ++pad;
      continue;
    }
    if (pad) return std::nullopt;  // data after padding
    const char* p = std::char_traits<char>::find(kB64, 64, c);
    if (!p) return std::nullopt;
    acc = (acc << 6) | static_cast<uint32_t>(p - kB64);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xff);
    }
  }
  if (pad > 2) return std::nullopt;
  return out;
}

std::string registry_error_text(const HttpResponse& r) {
  std::string text = std::to_string(r.status);
  auto doc = nlohmann::json::parse(r.body, nullptr, false);
  // The registry's words go into a one-line error on the user's terminal: control bytes
  // (a newline, an escape sequence) written out, and cut where they run long.
  auto said = [](const nlohmann::json& v) { return sys::printable(v.get<std::string>(), 500); };
  if (doc.is_object() && doc.contains("errors") && doc["errors"].is_array() && !doc["errors"].empty() &&
      doc["errors"][0].is_object()) {
    const auto& e = doc["errors"][0];
    if (e.contains("code") && e["code"].is_string()) text += " " + lower(said(e["code"]));
    if (e.contains("message") && e["message"].is_string()) text += ": " + said(e["message"]);
    return text;
  }
  // A token server's OAuth error, or nothing but the status.
  if (doc.is_object() && doc.contains("error") && doc["error"].is_string()) {
    text += " " + said(doc["error"]);
    if (doc.contains("error_description") && doc["error_description"].is_string())
      text += ": " + said(doc["error_description"]);
    return text;
  }
  switch (r.status) {
    case 401:
      return text + " unauthorized";
    case 403:
      return text + " denied";
    case 404:
      return text + " not found";
    case 429:
      return text + " too many requests";
    default:
      return text;
  }
}

std::string repository_scope(const std::string& repo, bool push) {
  return repo.empty() ? "" : "repository:" + repo + (push ? ":pull,push" : ":pull");
}

std::string RegistryAuth::authorization(const std::string& scope) {
  std::lock_guard lock(mu_);
  auto it = tokens_.find(scope);
  if (it != tokens_.end()) {
    if (std::chrono::steady_clock::now() < it->second.expires) return "Authorization: Bearer " + it->second.value;
    tokens_.erase(it);
  }
  if (basic_ && credentials_)
    return "Authorization: Basic " + base64_encode(credentials_->username + ":" + credentials_->password);
  return "";
}

Result<bool> RegistryAuth::answer(const std::string& www_authenticate, const std::string& scope) {
  auto challenges = parse_www_authenticate(www_authenticate);
  std::lock_guard lock(mu_);
  for (const auto& c : challenges) {
    if (c.scheme == "bearer" && c.params.count("realm")) {
      auto token = GUISE_TRY(fetch_token(c, scope));
      tokens_fetched_++;
      tokens_[scope] = Token{std::move(token.first), std::chrono::steady_clock::now() + token.second};
      return true;
    }
  }
  for (const auto& c : challenges) {
    if (c.scheme == "basic" && credentials_ && credentials_->username != "<token>") {
      if (basic_) return false;  // already sent, and refused
      basic_ = true;
      return true;
    }
  }
  return false;
}

Result<std::pair<std::string, std::chrono::seconds>> RegistryAuth::fetch_token(const AuthChallenge& c,
                                                                               const std::string& scope) {
  const std::string& realm = c.params.at("realm");
  std::string service = c.params.count("service") ? c.params.at("service") : "";
  std::string want = scope.empty() && c.params.count("scope") ? c.params.at("scope") : scope;
  HttpRequest req;
  req.tls = tls_;
  // The realm is often another host (auth.docker.io): the registry's client
  // certificate is not for it.
  if (url_origin(realm) != origin_) req.tls = TlsOptions{};
  req.follow_redirects = true;
  req.timeout_s = 60;
  std::string form;
  bool identity = credentials_ && credentials_->username == "<token>";
  if (identity) {
    // An identity token (docker login's refresh token) is traded by OAuth2.
    req.method = "POST";
    req.url = realm;
    form = "grant_type=refresh_token&client_id=guise&refresh_token=" + url_escape(credentials_->password) +
           "&service=" + url_escape(service) + (want.empty() ? "" : "&scope=" + url_escape(want));
    req.body = form;
    req.body_size = static_cast<int64_t>(form.size());
    req.headers.push_back("Content-Type: application/x-www-form-urlencoded");
  } else {
    req.url = realm + (realm.find('?') == std::string::npos ? "?" : "&");
    req.url += "service=" + url_escape(service);
    if (!want.empty()) req.url += "&scope=" + url_escape(want);
    if (credentials_)
      req.headers.push_back("Authorization: Basic " +
                            base64_encode(credentials_->username + ":" + credentials_->password));
  }
  auto resp = GUISE_TRY(http_request(req), "fetching a token from " + realm);
  if (!resp.transport_error.empty())
    return sys::sys_error_n(0, "fetching a token from " + realm + ": " + resp.transport_error);
  if (resp.status != 200) {
    auto e = sys::user_error("fetching a token from " + realm + ": " + registry_error_text(resp));
    return e;
  }
  auto token = parse_token_answer(resp.body);
  if (!token) return sys::user_error("fetching a token from " + realm + ": the answer holds no token");
  return *token;
}

}  // namespace guise::image
