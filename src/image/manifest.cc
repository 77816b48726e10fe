#include "image/manifest.h"

#include <sys/utsname.h>

#include <nlohmann/json.hpp>

#include "sys/sha256.h"
#include "sys/text.h"

namespace guise::image {

using nlohmann::json;

namespace {

Error bad(std::string_view what, const std::string& why) {
  return sys::user_error(std::string(what) + ": " + why);
}

// A string field, "" when absent; a field of another type is an error.
Result<std::string> str_field(const json& j, const char* key, std::string_view doc) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return std::string();
  if (!it->is_string()) return bad(doc, std::string("\"") + key + "\" is not a string");
  return it->get<std::string>();
}

Result<std::vector<std::string>> str_list(const json& j, const char* key, std::string_view doc) {
  std::vector<std::string> out;
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return out;
  if (!it->is_array()) return bad(doc, std::string("\"") + key + "\" is not a list");
  for (const auto& v : *it) {
    if (!v.is_string()) return bad(doc, std::string("\"") + key + "\" has an entry that is not a string");
    out.push_back(v.get<std::string>());
  }
  return out;
}

Result<json> parse_json(std::string_view text, std::string_view doc) {
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded()) return bad(doc, "not valid JSON");
  if (!j.is_object()) return bad(doc, "not a JSON object");
  return j;
}

Result<Platform> platform_of(const json& j, std::string_view doc) {
  Platform p;
  p.os = GUISE_TRY(str_field(j, "os", doc));
  p.architecture = GUISE_TRY(str_field(j, "architecture", doc));
  p.variant = GUISE_TRY(str_field(j, "variant", doc));
  return p;
}

Result<Descriptor> descriptor_of(const json& j, const std::string& doc) {
  if (!j.is_object()) return bad(doc, "not an object");
  Descriptor d;
  d.media_type = GUISE_TRY(str_field(j, "mediaType", doc));
  std::string digest = GUISE_TRY(str_field(j, "digest", doc));
  if (digest.empty()) return bad(doc, "no digest");
  d.digest = GUISE_TRY(parse_digest(digest), doc);
  auto size = j.find("size");
  if (size == j.end() || !size->is_number_integer() || size->get<int64_t>() < 0)
    return bad(doc, "no size, or not a non-negative integer");
  d.size = size->get<int64_t>();
  if (auto p = j.find("platform"); p != j.end() && p->is_object()) d.platform = GUISE_TRY(platform_of(*p, doc));
  d.urls = GUISE_TRY(str_list(j, "urls", doc));
  if (auto a = j.find("annotations"); a != j.end() && a->is_object())
    for (const auto& [k, v] : a->items())
      if (v.is_string()) d.annotations[k] = v.get<std::string>();
  return d;
}

// Go's names for the machine (runtime.GOARCH and the variant docker and containerd use).
Platform platform_of_machine(std::string_view machine) {
  if (machine == "x86_64") return {"linux", "amd64", ""};
  if (machine == "aarch64" || machine == "arm64") return {"linux", "arm64", "v8"};
  if (machine.starts_with("armv7")) return {"linux", "arm", "v7"};
  if (machine.starts_with("armv6")) return {"linux", "arm", "v6"};
  if (machine == "i686" || machine == "i386") return {"linux", "386", ""};
  if (machine == "ppc64le") return {"linux", "ppc64le", ""};
  if (machine == "s390x") return {"linux", "s390x", ""};
  if (machine == "riscv64") return {"linux", "riscv64", ""};
  return {"linux", std::string(machine), ""};
}

// Variants that an unspecified variant stands for (containerd's platforms.Normalize).
std::string normal_variant(const Platform& p) {
  if (p.architecture == "arm64" && (p.variant.empty() || p.variant == "8")) return "v8";
  if (p.architecture == "arm" && p.variant.empty()) return "v7";
  return p.variant;
}

}  // namespace

bool is_index(std::string_view t) { return t == media::kOciIndex || t == media::kDockerList; }
bool is_manifest(std::string_view t) { return t == media::kOciManifest || t == media::kDockerManifest; }
bool is_layer(std::string_view t) {
  return t == media::kOciLayer || t == media::kOciLayerGzip || t == media::kOciLayerZstd ||
         t == media::kDockerLayerGzip || t == media::kDockerForeignLayerGzip ||
         t == "application/vnd.docker.image.rootfs.diff.tar" ||
         t == "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip";
}

std::string Platform::str() const { return os + "/" + architecture + (variant.empty() ? "" : "/" + variant); }

Result<Platform> parse_platform(std::string_view text) {
  Platform p;
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    size_t slash = text.find('/', start);
    parts.emplace_back(text.substr(start, slash == std::string_view::npos ? slash : slash - start));
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  for (auto& part : parts)
    for (char& c : part) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (parts.size() < 2 || parts.size() > 3 || parts[0].empty() || parts[1].empty() ||
      (parts.size() == 3 && parts[2].empty()))
    return sys::user_error("--platform \"" + sys::printable(text) + "\": expected OS/ARCH[/VARIANT], as linux/arm64/v8");
  p.os = parts[0];
  p.architecture = parts[1] == "x86_64" ? "amd64" : parts[1] == "aarch64" ? "arm64" : parts[1];
  if (parts.size() == 3) p.variant = parts[2];
  return p;
}

Platform host_platform() {
  struct utsname u {};
  ::uname(&u);
  return platform_of_machine(u.machine);
}

std::string sniff_media_type(std::string_view text) {
  json j = json::parse(text, nullptr, false);
  if (!j.is_object()) return {};
  if (auto m = j.find("mediaType"); m != j.end() && m->is_string()) return m->get<std::string>();
  if (j.contains("manifests")) return std::string(media::kOciIndex);
  if (j.contains("layers") && j.contains("config")) return std::string(media::kOciManifest);
  return {};
}

Result<Index> parse_index(std::string_view text, std::string_view media_type) {
  json j = GUISE_TRY(parse_json(text, "image index"));
  Index idx;
  idx.media_type = media_type.empty() ? sniff_media_type(text) : std::string(media_type);
  if (!is_index(idx.media_type)) return bad("image index", "unsupported media type \"" + sys::printable(idx.media_type) + "\"");
  auto m = j.find("manifests");
  if (m == j.end() || !m->is_array()) return bad("image index", "no \"manifests\" list");
  for (size_t i = 0; i < m->size(); ++i)
    idx.manifests.push_back(GUISE_TRY(descriptor_of((*m)[i], "image index manifests[" + std::to_string(i) + "]")));
  return idx;
}

Result<Manifest> parse_manifest(std::string_view text, std::string_view media_type) {
  json j = GUISE_TRY(parse_json(text, "image manifest"));
  Manifest man;
  man.media_type = media_type.empty() ? sniff_media_type(text) : std::string(media_type);
  if (man.media_type == "application/vnd.docker.distribution.manifest.v1+json" ||
      man.media_type == "application/vnd.docker.distribution.manifest.v1+prettyjws")
    return bad("image manifest", "docker schema 1 manifests are not supported (push the image again with a "
                                 "current docker or skopeo)");
  if (!is_manifest(man.media_type))
    return bad("image manifest", "unsupported media type \"" + sys::printable(man.media_type) + "\"");
  auto c = j.find("config");
  if (c == j.end()) return bad("image manifest", "no \"config\"");
  man.config = GUISE_TRY(descriptor_of(*c, "image manifest config"));
  auto l = j.find("layers");
  if (l == j.end() || !l->is_array()) return bad("image manifest", "no \"layers\" list");
  for (size_t i = 0; i < l->size(); ++i) {
    std::string where = "image manifest layers[" + std::to_string(i) + "]";
    Descriptor d = GUISE_TRY(descriptor_of((*l)[i], where));
    if (!is_layer(d.media_type)) return bad(where, "unsupported layer media type \"" + sys::printable(d.media_type) + "\"");
    man.layers.push_back(std::move(d));
  }
  return man;
}

Result<Descriptor> select_platform(const Index& index, const Platform& want, std::string_view image_name) {
  std::string have;
  for (const auto& d : index.manifests) {
    if (!d.platform || !is_manifest(d.media_type)) continue;  // attestations and nested indexes
    const Platform& p = *d.platform;
    if (p.os == "unknown") continue;  // buildkit's attestation manifests
    if (!have.empty()) have += ", ";
    have += sys::printable(p.str(), 100);
    if (p.os != want.os || p.architecture != want.architecture) continue;
    if (want.variant.empty() && p.variant.empty()) return d;
    if (normal_variant(p) == normal_variant(want)) return d;
    if (want.variant.empty() && want.architecture != "arm" && want.architecture != "arm64") return d;
  }
  return sys::not_found("no image for " + want.str() + " in " + std::string(image_name) + " (it has " +
                        (have.empty() ? std::string("no platforms") : have) + ")");
}

Result<ImageConfig> parse_config(std::string_view text) {
  static constexpr std::string_view kDoc = "image config";
  json j = GUISE_TRY(parse_json(text, kDoc));
  ImageConfig c;
  c.raw = std::string(text);
  c.created = GUISE_TRY(str_field(j, "created", kDoc));
  c.author = GUISE_TRY(str_field(j, "author", kDoc));
  c.platform = GUISE_TRY(platform_of(j, kDoc));
  auto rootfs = j.find("rootfs");
  if (rootfs == j.end() || !rootfs->is_object()) return bad(kDoc, "no \"rootfs\"");
  for (const auto& id : GUISE_TRY(str_list(*rootfs, "diff_ids", "image config rootfs")))
    c.diff_ids.push_back(GUISE_TRY(parse_digest(id), "image config rootfs.diff_ids"));
  if (auto h = j.find("history"); h != j.end() && h->is_array())
    for (const auto& e : *h) {
      if (!e.is_object()) continue;
      HistoryEntry he;
      he.created = GUISE_TRY(str_field(e, "created", "image config history"));
      he.created_by = GUISE_TRY(str_field(e, "created_by", "image config history"));
      he.comment = GUISE_TRY(str_field(e, "comment", "image config history"));
      if (auto el = e.find("empty_layer"); el != e.end() && el->is_boolean()) he.empty_layer = el->get<bool>();
      c.history.push_back(std::move(he));
    }
  if (auto cc = j.find("config"); cc != j.end() && cc->is_object()) {
    static constexpr std::string_view kCfg = "image config config";
    ContainerConfig& k = c.config;
    k.user = GUISE_TRY(str_field(*cc, "User", kCfg));
    k.env = GUISE_TRY(str_list(*cc, "Env", kCfg));
    k.entrypoint = GUISE_TRY(str_list(*cc, "Entrypoint", kCfg));
    k.cmd = GUISE_TRY(str_list(*cc, "Cmd", kCfg));
    k.working_dir = GUISE_TRY(str_field(*cc, "WorkingDir", kCfg));
    k.stop_signal = GUISE_TRY(str_field(*cc, "StopSignal", kCfg));
    for (const char* key : {"ExposedPorts", "Volumes"})
      if (auto m = cc->find(key); m != cc->end() && m->is_object())
        for (const auto& [name, _] : m->items())
          (std::string_view(key) == "Volumes" ? k.volumes : k.exposed_ports).push_back(name);
    if (auto l = cc->find("Labels"); l != cc->end() && l->is_object())
      for (const auto& [name, v] : l->items())
        if (v.is_string()) k.labels[name] = v.get<std::string>();
  }
  return c;
}

std::vector<Digest> chain_ids(const std::vector<Digest>& diff_ids) {
  std::vector<Digest> out;
  for (const auto& d : diff_ids) {
    if (out.empty())
      out.push_back(d);
    else
      out.push_back(sha256_of(out.back().str() + " " + d.str()));
  }
  return out;
}

}  // namespace guise::image
