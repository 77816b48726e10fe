// Manifests, indexes and configs as registries and archives serve them.
#include <gtest/gtest.h>

#include "image/manifest.h"
#include "sys/sha256.h"

namespace guise::image {
namespace {

const std::string kA = "sha256:" + std::string(64, 'a');
const std::string kB = "sha256:" + std::string(64, 'b');

std::string index_json() {
  return R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[
    {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":")" + kA + R"(","size":10,
     "platform":{"os":"linux","architecture":"amd64"}},
    {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":")" + kB + R"(","size":11,
     "platform":{"os":"linux","architecture":"arm64","variant":"v8"}},
    {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":")" + kB + R"(","size":11,
     "platform":{"os":"unknown","architecture":"unknown"}}]})";
}

TEST(ImageManifest, SelectsThePlatformAndArm64MatchesV8) {
  auto idx = parse_index(index_json());
  ASSERT_TRUE(idx.ok()) << idx.error().message();
  auto amd = select_platform(*idx, {"linux", "amd64", ""}, "x");
  ASSERT_TRUE(amd.ok());
  EXPECT_EQ(amd->digest.str(), kA);
  auto arm = select_platform(*idx, {"linux", "arm64", ""}, "x");
  ASSERT_TRUE(arm.ok());
  EXPECT_EQ(arm->digest.str(), kB);
}

TEST(ImageManifest, AMissingPlatformListsThoseTheImageHas) {
  auto idx = parse_index(index_json());
  ASSERT_TRUE(idx.ok());
  auto r = select_platform(*idx, {"linux", "s390x", ""}, "docker.io/library/busybox:latest");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message(),
            "no image for linux/s390x in docker.io/library/busybox:latest (it has linux/amd64, linux/arm64/v8)");
}

TEST(ImageManifest, ParsesDockerSchema2AndRefusesSchema1AndUnknownLayers) {
  std::string m = R"({"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json",
    "config":{"mediaType":"application/vnd.docker.container.image.v1+json","digest":")" + kA + R"(","size":5},
    "layers":[{"mediaType":"application/vnd.docker.image.rootfs.diff.tar.gzip","digest":")" + kB + R"(","size":7}]})";
  auto man = parse_manifest(m);
  ASSERT_TRUE(man.ok()) << man.error().message();
  EXPECT_EQ(man->layers.size(), 1u);
  EXPECT_EQ(man->layers[0].size, 7);
  auto v1 = parse_manifest(R"({"schemaVersion":1})", "application/vnd.docker.distribution.manifest.v1+prettyjws");
  ASSERT_FALSE(v1.ok());
  EXPECT_NE(v1.error().message().find("schema 1"), std::string::npos);
  std::string odd = m;
  odd.replace(odd.find("rootfs.diff.tar.gzip"), 20, "rootfs.diff.tar.lz4x");
  auto r = parse_manifest(odd);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("layers[0]: unsupported layer media type"), std::string::npos)
      << r.error().message();
}

// An index or manifest from a registry names its media types and platforms: errors
// that quote them write their control bytes out and stay one line (found by
// fuzz/image_documents).
TEST(ImageManifest, ErrorsQuotingTheDocumentStayOneLine) {
  auto idx = parse_index(R"({"mediaType":"application/x\n\u001b[2J","manifests":[]})");
  ASSERT_FALSE(idx);
  EXPECT_EQ(idx.error().message(), "image index: unsupported media type \"application/x\\x0a\\x1b[2J\"");
  auto man = parse_manifest(R"({"mediaType":"x\ny","config":{},"layers":[]})");
  ASSERT_FALSE(man);
  EXPECT_EQ(man.error().message().find('\n'), std::string::npos) << man.error().message();
  Index i;
  Descriptor d;
  d.media_type = media::kOciManifest;
  d.platform = Platform{"linux\n", "amd64", ""};
  i.manifests.push_back(d);
  auto chosen = select_platform(i, Platform{"linux", "s390x", ""}, "x");
  ASSERT_FALSE(chosen);
  EXPECT_EQ(chosen.error().message().find('\n'), std::string::npos) << chosen.error().message();
}

TEST(ImageManifest, ChainIdsFollowTheSpec) {
  Digest a{"sha256", std::string(64, 'a')}, b{"sha256", std::string(64, 'b')};
  auto ids = chain_ids({a, b});
  ASSERT_EQ(ids.size(), 2u);
  EXPECT_EQ(ids[0], a);
  EXPECT_EQ(ids[1].hex, sys::sha256_hex(a.str() + " " + b.str()));
}

TEST(ImageManifest, PlatformFlagIsCheckedAndNormalised) {
  auto p = parse_platform("linux/x86_64");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->str(), "linux/amd64");
  auto bad = parse_platform("linux");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message().find("--platform \"linux\""), std::string::npos);
}

TEST(ImageManifest, ConfigFieldsAreRead) {
  auto c = parse_config(R"({"architecture":"amd64","os":"linux","created":"2024-01-01T00:00:00Z",
    "config":{"Env":["PATH=/bin"],"Cmd":["sh"],"ExposedPorts":{"80/tcp":{}},"Labels":{"a":"b"}},
    "rootfs":{"type":"layers","diff_ids":[")" + kA + R"("]},
    "history":[{"created_by":"x","empty_layer":true}]})");
  ASSERT_TRUE(c.ok()) << c.error().message();
  EXPECT_EQ(c->config.cmd, std::vector<std::string>{"sh"});
  EXPECT_EQ(c->config.exposed_ports, std::vector<std::string>{"80/tcp"});
  EXPECT_EQ(c->diff_ids.size(), 1u);
  EXPECT_TRUE(c->history[0].empty_layer);
  EXPECT_FALSE(parse_config(R"({"os":"linux"})").ok());  // no rootfs
}

}  // namespace
}  // namespace guise::image
