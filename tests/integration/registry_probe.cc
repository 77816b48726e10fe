// Drives image/registry.h from the command line for test_registry_client.py: one JSON
// object on stdout per call, {"ok": true, ...} or {"ok": false, "kind", "message"}.
//   registry-probe [--user U --password P] [--insecure] [--auth-file F] [--attempts N]
//                  [--backoff-ms N] COMMAND ARGS...
//   ping DOMAIN
//   manifest DOMAIN REPO REF                  -> media_type, digest, size, body
//   blob DOMAIN REPO DIGEST STORE_ROOT        -> path (written through an Ingest: verified)
//   has-blob DOMAIN REPO DIGEST               -> exists
//   push-blob DOMAIN REPO FILE                -> digest, size
//   put-manifest DOMAIN REPO REF MEDIA_TYPE FILE -> digest
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "image/content_store.h"
#include "image/registry.h"
#include "sys/sha256.h"

using namespace guise;
using namespace guise::image;
using nlohmann::json;

namespace {

int print(json j) {
  bool ok = j.value("ok", false);
  std::cout << j.dump() << std::endl;
  return ok ? 0 : 1;
}

int fail(const Error& e) { return print({{"ok", false}, {"kind", sys::kind_name(e.kind)}, {"message", e.message()}}); }

int usage() {
  std::cerr << "usage: registry-probe [--user U --password P] [--insecure] [--auth-file F] [--attempts N] "
               "[--backoff-ms N] ping|manifest|blob|has-blob|push-blob|put-manifest ARGS...\n";
  return 2;
}

std::string read_whole(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Result<Digest> digest_of_file(const std::string& path, int64_t* size) {
  std::string data = read_whole(path);
  *size = static_cast<int64_t>(data.size());
  return sha256_of(data);
}

}  // namespace

int main(int argc, char** argv) {
  RegistryOptions opts;
  std::vector<std::string> args;
  std::string user, password;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (a == "--user")
      user = next();
    else if (a == "--password")
      password = next();
    else if (a == "--insecure")
      opts.tls_verify = false;
    else if (a == "--auth-file")
      opts.auth_file = next();
    else if (a == "--attempts")
      opts.max_attempts = std::atoi(next().c_str());
    else if (a == "--backoff-ms")
      opts.backoff_ms = std::atoi(next().c_str());
    else
      args.push_back(a);
  }
  if (!user.empty()) opts.credentials = Credentials{user, password};
  if (args.size() < 2) return usage();
  const std::string& cmd = args[0];
  auto client_r = RegistryClient::connect(args[1], opts);
  if (!client_r.ok()) return fail(client_r.error());
  RegistryClient& client = **client_r;

  if (cmd == "ping" && args.size() == 2) {
    auto r = client.ping();
    return r.ok() ? print({{"ok", true}}) : fail(r.error());
  }
  if (cmd == "manifest" && args.size() == 4) {
    auto m = client.get_manifest(args[2], args[3]);
    if (!m.ok()) return fail(m.error());
    return print({{"ok", true},
                  {"media_type", m->media_type},
                  {"digest", m->digest.str()},
                  {"size", m->body.size()},
                  {"body", m->body}});
  }
  if (cmd == "blob" && args.size() == 5) {
    auto d = parse_digest(args[3]);
    if (!d.ok()) return fail(d.error());
    auto store = ContentStore::open(args[4]);
    if (!store.ok()) return fail(store.error());
    auto ingest = store->begin(args[2] + "@" + d->str(), *d, -1);
    if (!ingest.ok()) return fail(ingest.error());
    if (*ingest) {
      Ingest& in = **ingest;
      auto r = client.fetch_blob(args[2], *d, in.offset(), [&](std::string_view chunk) { return in.write(chunk); });
      if (!r.ok()) return fail(r.error());
      auto c = in.commit();
      if (!c.ok()) return fail(c.error());
    }
    return print({{"ok", true}, {"path", store->blob_path(*d)}});
  }
  if (cmd == "has-blob" && args.size() == 4) {
    auto d = parse_digest(args[3]);
    if (!d.ok()) return fail(d.error());
    auto r = client.has_blob(args[2], *d);
    if (!r.ok()) return fail(r.error());
    return print({{"ok", true}, {"exists", *r}});
  }
  if (cmd == "push-blob" && args.size() == 4) {
    int64_t size = 0;
    auto d = digest_of_file(args[3], &size);
    if (!d.ok()) return fail(d.error());
    sys::Fd fd(::open(args[3].c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.valid()) return fail(sys::sys_error("open", args[3]));
    auto r = client.push_blob(args[2], *d, size, fd.get());
    if (!r.ok()) return fail(r.error());
    return print({{"ok", true}, {"digest", d->str()}, {"size", size}});
  }
  if (cmd == "put-manifest" && args.size() == 6) {
    std::string body = read_whole(args[5]);
    auto r = client.put_manifest(args[2], args[3], args[4], body);
    if (!r.ok()) return fail(r.error());
    return print({{"ok", true}, {"digest", sha256_of(body).str()}});
  }
  return usage();
}
