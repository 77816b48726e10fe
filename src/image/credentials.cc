// docker's config.json: the auths a `docker login` (or `guise login`) left.
#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "image/registry.h"
#include "image/registry_auth.h"
#include "sys/fd.h"

namespace guise::image {

namespace {

using nlohmann::json;

constexpr std::string_view kDockerHubKey = "https://index.docker.io/v1/";

bool is_docker_hub(const std::string& domain) {
  return domain == "docker.io" || domain == "index.docker.io" || domain == "registry-1.docker.io";
}

// The key docker writes for `domain`.
std::string auth_key(const std::string& domain) { return is_docker_hub(domain) ? std::string(kDockerHubKey) : domain; }

// The registry a key names: keys may carry a scheme and a path ("https://host:5000/v1/").
std::string key_domain(std::string_view key) {
  if (auto s = key.find("://"); s != std::string_view::npos) key.remove_prefix(s + 3);
  key = key.substr(0, key.find('/'));
  std::string d(key);
  return is_docker_hub(d) ? "docker.io" : d;
}

bool key_matches(const std::string& key, const std::string& domain) {
  return key_domain(key) == (is_docker_hub(domain) ? "docker.io" : domain);
}

Result<std::optional<std::string>> read_file(const std::string& path) {
  sys::Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) {
    if (errno == ENOENT) return std::optional<std::string>();
    return sys::sys_error("open", path);
  }
  std::string out;
  char buf[8192];
  ssize_t n;
  while ((n = ::read(fd.get(), buf, sizeof buf)) > 0) {
    out.append(buf, static_cast<size_t>(n));
    if (out.size() > (16 << 20)) return sys::user_error(path + ": larger than 16 MiB");
  }
  if (n < 0) return sys::sys_error("read", path);
  return std::optional<std::string>(std::move(out));
}

Result<json> read_config(const std::string& path) {
  auto text = GUISE_TRY(read_file(path));
  if (!text || text->find_first_not_of(" \t\r\n") == std::string::npos) return json::object();
  auto doc = json::parse(*text, nullptr, false);
  if (!doc.is_object()) return sys::user_error(path + ": not a JSON object");
  return doc;
}

// Temp file beside it, 0600, fsync, rename: a crash leaves the old file or the new one.
Result<void> write_config(const std::string& path, const json& doc) {
  std::filesystem::path p(path);
  if (p.has_parent_path() && !std::filesystem::exists(p.parent_path())) {
    std::error_code ec;
    std::filesystem::create_directories(p.parent_path(), ec);
    if (ec) return sys::sys_error_n(ec.value(), "mkdir", p.parent_path().string());
    ::chmod(p.parent_path().c_str(), 0700);
  }
  std::string tmp = path + ".tmp-XXXXXX";
  sys::Fd fd(::mkstemp(tmp.data()));
  if (!fd.valid()) return sys::sys_error("create", tmp);
  std::string text = doc.dump(1, '\t') + "\n";
  auto fail = [&](const char* op) {
    auto e = sys::sys_error(op, tmp);
    ::unlink(tmp.c_str());
    return e;
  };
  if (::fchmod(fd.get(), 0600) < 0) return fail("chmod");
  for (size_t off = 0; off < text.size();) {
    ssize_t n = ::write(fd.get(), text.data() + off, text.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail("write");
    }
    off += static_cast<size_t>(n);
  }
  if (::fsync(fd.get()) < 0) return fail("fsync");
  if (::rename(tmp.c_str(), path.c_str()) < 0) return fail("rename");
  return Ok();
}

}  // namespace

std::string default_auth_file() {
  if (const char* d = std::getenv("DOCKER_CONFIG"); d && *d) return std::string(d) + "/config.json";
  std::string home;
  if (const char* h = std::getenv("HOME"); h && *h) {
    home = h;
  } else if (const passwd* pw = ::getpwuid(::getuid())) {
    home = pw->pw_dir;
  }
  return home + "/.docker/config.json";
}

Result<std::optional<Credentials>> load_credentials(const std::string& auth_file, const std::string& domain) {
  json doc = GUISE_TRY(read_config(auth_file), "reading credentials");
  if (!doc.contains("auths") || !doc["auths"].is_object()) return std::optional<Credentials>();
  // The exact key first, then any spelling of the same registry.
  const json* entry = nullptr;
  std::string key = auth_key(domain);
  if (doc["auths"].contains(key)) {
    entry = &doc["auths"][key];
  } else {
    for (auto& [k, v] : doc["auths"].items())
      if (key_matches(k, domain)) {
        entry = &v;
        break;
      }
  }
  if (!entry || !entry->is_object()) return std::optional<Credentials>();
  auto str = [&](const char* name) {
    return entry->contains(name) && (*entry)[name].is_string() ? (*entry)[name].get<std::string>() : std::string();
  };
  if (std::string token = str("identitytoken"); !token.empty()) return std::optional(Credentials{"<token>", token});
  if (std::string auth = str("auth"); !auth.empty()) {
    auto decoded = base64_decode(auth);
    size_t colon = decoded ? decoded->find(':') : std::string::npos;
    if (colon == std::string::npos)
      return sys::user_error(auth_file + ": the auth of \"" + key + "\" is not base64 of USER:PASSWORD");
    return std::optional(Credentials{decoded->substr(0, colon), decoded->substr(colon + 1)});
  }
  if (std::string user = str("username"); !user.empty()) return std::optional(Credentials{user, str("password")});
  return std::optional<Credentials>();
}

Result<void> store_credentials(const std::string& auth_file, const std::string& domain, const Credentials& c) {
  json doc = GUISE_TRY(read_config(auth_file), "storing credentials");
  if (!doc.contains("auths") || !doc["auths"].is_object()) doc["auths"] = json::object();
  json& auths = doc["auths"];
  // One entry per registry: other spellings of it would shadow or contradict this one.
  for (auto it = auths.begin(); it != auths.end();) {
    if (it.key() != auth_key(domain) && key_matches(it.key(), domain))
      it = auths.erase(it);
    else
      ++it;
  }
  json& entry = auths[auth_key(domain)];
  if (!entry.is_object()) entry = json::object();
  entry.erase("identitytoken");
  entry.erase("username");
  entry.erase("password");
  if (c.username == "<token>")
    entry["identitytoken"] = c.password;
  else
    entry["auth"] = base64_encode(c.username + ":" + c.password);
  GUISE_TRY(write_config(auth_file, doc), "storing credentials");
  return Ok();
}

Result<bool> erase_credentials(const std::string& auth_file, const std::string& domain) {
  json doc = GUISE_TRY(read_config(auth_file), "erasing credentials");
  if (!doc.contains("auths") || !doc["auths"].is_object()) return false;
  json& auths = doc["auths"];
  bool erased = false;
  for (auto it = auths.begin(); it != auths.end();) {
    if (key_matches(it.key(), domain)) {
      it = auths.erase(it);
      erased = true;
    } else {
      ++it;
    }
  }
  if (!erased) return false;
  GUISE_TRY(write_config(auth_file, doc), "erasing credentials");
  return true;
}

}  // namespace guise::image
