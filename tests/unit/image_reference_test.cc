// Image names as docker reads them, and digests.
#include <gtest/gtest.h>

#include "image/manifest.h"
#include "image/reference.h"

namespace guise::image {
namespace {

std::string full(const std::string& text) {
  auto r = parse_reference(text);
  return r.ok() ? r->str() : "error: " + r.error().message();
}

std::string familiar(const std::string& text) {
  auto r = parse_reference(text);
  return r.ok() ? r->familiar() : "error";
}

const std::string kHex = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

TEST(ImageReference, NormalisedAsDockerDoes) {
  EXPECT_EQ(full("busybox"), "docker.io/library/busybox:latest");
  EXPECT_EQ(full("busybox:1.36"), "docker.io/library/busybox:1.36");
  EXPECT_EQ(full("library/busybox"), "docker.io/library/busybox:latest");
  EXPECT_EQ(full("docker.io/busybox"), "docker.io/library/busybox:latest");
  EXPECT_EQ(full("index.docker.io/library/busybox"), "docker.io/library/busybox:latest");
  EXPECT_EQ(full("someone/tool:v2"), "docker.io/someone/tool:v2");
  EXPECT_EQ(full("localhost/x"), "localhost/x:latest");
  EXPECT_EQ(full("localhost:5000/a/b/c:t"), "localhost:5000/a/b/c:t");
  EXPECT_EQ(full("127.0.0.1:5000/busybox"), "127.0.0.1:5000/busybox:latest");
  EXPECT_EQ(full("registry.example.com/team/app"), "registry.example.com/team/app:latest");
  EXPECT_EQ(full("[::1]:5000/x"), "[::1]:5000/x:latest");
}

TEST(ImageReference, DigestsWithAndWithoutTag) {
  auto r = parse_reference("busybox@sha256:" + kHex);
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ(r->tag, "");
  ASSERT_TRUE(r->digest);
  EXPECT_EQ(r->digest->hex, kHex);
  EXPECT_EQ(r->str(), "docker.io/library/busybox@sha256:" + kHex);
  EXPECT_EQ(full("busybox:1@sha256:" + kHex), "docker.io/library/busybox:1@sha256:" + kHex);
}

TEST(ImageReference, FamiliarAsDockerPrints) {
  EXPECT_EQ(familiar("docker.io/library/busybox"), "busybox:latest");
  EXPECT_EQ(familiar("someone/tool"), "someone/tool:latest");
  EXPECT_EQ(familiar("localhost:5000/busybox:1"), "localhost:5000/busybox:1");
}

// A docker.io path whose first component has a '.' (or is "localhost") would read as
// another registry without "docker.io/": `guise save` wrote such a name into RepoTags, and
// `load` took it for that registry's (found by fuzz/image_documents).
TEST(ImageReference, FamiliarNamesReadBack) {
  EXPECT_EQ(familiar("docker.io/a.b/busybox:1"), "docker.io/a.b/busybox:1");
  EXPECT_EQ(familiar("docker.io/localhost/x"), "docker.io/localhost/x:latest");
  EXPECT_EQ(familiar("docker.io/ab/busybox"), "ab/busybox:latest");
  for (const char* text : {"docker.io/a.b/c:1", "docker.io/localhost/x", "a.b/c", "docker.io/library/a.b", "busybox"}) {
    auto r = parse_reference(text);
    ASSERT_TRUE(r) << text;
    auto again = parse_reference(r->familiar());
    ASSERT_TRUE(again) << r->familiar();
    EXPECT_EQ(again->str(), r->str()) << text;
  }
}

TEST(ImageReference, BadNamesAreRefusedSayingWhy) {
  EXPECT_NE(full("Busybox").find("repository name must be lowercase"), std::string::npos);
  EXPECT_NE(full("").find("invalid reference format"), std::string::npos);
  EXPECT_NE(full("busybox:").find("tag"), std::string::npos);
  EXPECT_NE(full("busybox:-x").find("tag"), std::string::npos);
  EXPECT_NE(full("a//b").find("empty path component"), std::string::npos);
  EXPECT_NE(full("-a").find("invalid reference format"), std::string::npos);
  EXPECT_NE(full("a..b").find("invalid reference format"), std::string::npos);
  EXPECT_NE(full("busybox@sha256:abc").find("64 hex digits"), std::string::npos);
  EXPECT_NE(full("busybox@md5:" + kHex).find("unsupported algorithm"), std::string::npos);
  EXPECT_NE(full("a:b:c").find("invalid reference format"), std::string::npos);
  EXPECT_NE(full(std::string(300, 'a')).find("longer than 255"), std::string::npos);
  EXPECT_EQ(full("a__b-c.d--e"), "docker.io/library/a__b-c.d--e:latest");
  EXPECT_NE(full("a___b").find("invalid reference format"), std::string::npos);
}

// A reference comes from image archives and registries too: its control bytes (a newline,
// a terminal's escape sequence) are written out, so that the error stays one line (found
// by fuzz/image_documents).
TEST(ImageReference, ControlBytesInErrorsAreEscaped) {
  std::string error = full("bw\n\x1b[2J");
  EXPECT_EQ(error.find('\n'), std::string::npos) << error;
  EXPECT_NE(error.find("(\"bw\\x0a\\x1b[2J\")"), std::string::npos) << error;
  std::string digest_error = full("a@er\n:" + kHex);
  EXPECT_EQ(digest_error.find('\n'), std::string::npos) << digest_error;
  EXPECT_NE(digest_error.find("unsupported algorithm \"er\\x0a\""), std::string::npos) << digest_error;
  auto p = guise::image::parse_platform("linux\n/amd64/x/y");
  ASSERT_FALSE(p);
  EXPECT_EQ(p.error().message().find('\n'), std::string::npos);
}

TEST(ImageDigest, ParsedStrictly) {
  EXPECT_TRUE(parse_digest("sha256:" + kHex).ok());
  EXPECT_FALSE(parse_digest("sha256:" + kHex.substr(1)).ok());
  std::string upper = kHex;
  upper[10] = 'A';
  EXPECT_FALSE(parse_digest("sha256:" + upper).ok());
  EXPECT_FALSE(parse_digest(kHex).ok());
  EXPECT_EQ(sha256_of("").str(), "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_of("abc").hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

}  // namespace
}  // namespace guise::image
