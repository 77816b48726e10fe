// The OCI image spec's and docker's JSON documents: indexes (manifest lists), manifests
// and image configs, as registries, `docker save` and `podman save` write them. Parsing
// is strict where a wrong guess would fetch the wrong bytes (media types, digests,
// sizes) and lenient where docker is (unknown fields are ignored).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "image/digest.h"
#include "sys/result.h"

namespace guise::image {

namespace media {
inline constexpr std::string_view kOciIndex = "application/vnd.oci.image.index.v1+json";
inline constexpr std::string_view kOciManifest = "application/vnd.oci.image.manifest.v1+json";
inline constexpr std::string_view kOciConfig = "application/vnd.oci.image.config.v1+json";
inline constexpr std::string_view kOciLayer = "application/vnd.oci.image.layer.v1.tar";
inline constexpr std::string_view kOciLayerGzip = "application/vnd.oci.image.layer.v1.tar+gzip";
inline constexpr std::string_view kOciLayerZstd = "application/vnd.oci.image.layer.v1.tar+zstd";
inline constexpr std::string_view kDockerList = "application/vnd.docker.distribution.manifest.list.v2+json";
inline constexpr std::string_view kDockerManifest = "application/vnd.docker.distribution.manifest.v2+json";
inline constexpr std::string_view kDockerConfig = "application/vnd.docker.container.image.v1+json";
inline constexpr std::string_view kDockerLayerGzip = "application/vnd.docker.image.rootfs.diff.tar.gzip";
inline constexpr std::string_view kDockerForeignLayerGzip =
    "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip";
}  // namespace media

bool is_index(std::string_view media_type);
bool is_manifest(std::string_view media_type);
bool is_layer(std::string_view media_type);
// The Accept header a registry needs to answer with any of the four documents.
std::string manifest_accept_header();

struct Platform {
  std::string os;            // "linux"
  std::string architecture;  // "amd64", "arm64"
  std::string variant;       // "v8", often empty
  std::string str() const;   // "linux/arm64/v8"
  bool operator==(const Platform&) const = default;
};
// OS/ARCH[/VARIANT]; an error names the flag's text.
Result<Platform> parse_platform(std::string_view text);
// The machine this runs on, as Go names it (amd64, arm64/v8, arm/v7, 386, ...).
Platform host_platform();

struct Descriptor {
  std::string media_type;
  Digest digest;
  int64_t size = 0;
  std::optional<Platform> platform;  // in an index
  std::vector<std::string> urls;
  std::map<std::string, std::string> annotations;
};

struct Index {
  std::string media_type;
  std::vector<Descriptor> manifests;
};

struct Manifest {
  std::string media_type;
  Descriptor config;
  std::vector<Descriptor> layers;  // bottom first
};

// `media_type` is what the registry's Content-Type said (or the file's mediaType when
// empty). An unknown media type is an error naming it.
Result<Index> parse_index(std::string_view json, std::string_view media_type = {});
Result<Manifest> parse_manifest(std::string_view json, std::string_view media_type = {});
// The document's own "mediaType" field, or a guess from its shape ("manifests" → index).
std::string sniff_media_type(std::string_view json);

// The index entry for `want` (variant optional on either side when the other has none;
// arm64 matches an entry with variant "v8"). An error lists the platforms the index has:
// "no image for linux/s390x in docker.io/library/busybox:latest (it has linux/amd64, linux/arm64/v8)".
Result<Descriptor> select_platform(const Index& index, const Platform& want, std::string_view image_name);

// The image config: only the fields guise reads are parsed; `raw` keeps the document.
struct HistoryEntry {
  std::string created;
  std::string created_by;
  std::string comment;
  bool empty_layer = false;
};

struct ContainerConfig {
  std::string user;
  std::vector<std::string> env;
  std::vector<std::string> entrypoint;  // empty: none
  std::vector<std::string> cmd;
  std::string working_dir;
  std::vector<std::string> exposed_ports;  // "80/tcp"
  std::vector<std::string> volumes;
  std::map<std::string, std::string> labels;
  std::string stop_signal;
};

struct ImageConfig {
  std::string raw;
  std::string created;  // RFC 3339, may be empty
  std::string author;
  Platform platform;
  std::vector<Digest> diff_ids;  // bottom first
  std::vector<HistoryEntry> history;
  ContainerConfig config;
};

Result<ImageConfig> parse_config(std::string_view json);

// chain_ids[i] = diff_ids[0] for i == 0, else sha256(chain_ids[i-1] + " " + diff_ids[i]).
std::vector<Digest> chain_ids(const std::vector<Digest>& diff_ids);

}  // namespace guise::image
