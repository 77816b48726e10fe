// The registry client's pure parts: challenges, docker's config file, which
// registries are insecure, and the arithmetic of resuming a blob.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "image/blob_resume.h"
#include "image/http.h"
#include "image/manifest.h"
#include "image/registries_config.h"
#include "image/registry.h"
#include "image/registry_answers.h"
#include "image/registry_auth.h"

namespace guise::image {
namespace {

TEST(ImageRegistryAuth, ParsesABearerChallengeWithCommasInQuotes) {
  auto c = parse_www_authenticate(
      R"(Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull,push")");
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].scheme, "bearer");
  EXPECT_EQ(c[0].params["realm"], "https://auth.docker.io/token");
  EXPECT_EQ(c[0].params["service"], "registry.docker.io");
  EXPECT_EQ(c[0].params["scope"], "repository:library/busybox:pull,push");
}

TEST(ImageRegistryAuth, ParsesSeveralChallengesAndEscapes) {
  auto c = parse_www_authenticate(
      R"(Basic realm="Registry \"Realm\"", Bearer realm="http://x/token", error="invalid_token")");
  ASSERT_EQ(c.size(), 2u);
  EXPECT_EQ(c[0].scheme, "basic");
  EXPECT_EQ(c[0].params["realm"], "Registry \"Realm\"");
  EXPECT_EQ(c[1].scheme, "bearer");
  EXPECT_EQ(c[1].params["realm"], "http://x/token");
  EXPECT_EQ(c[1].params["error"], "invalid_token");
}

TEST(ImageRegistryAuth, ParsesUnquotedValuesAndToken68) {
  auto c = parse_www_authenticate("Basic realm=basic-realm");
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].params["realm"], "basic-realm");
  c = parse_www_authenticate("Negotiate abc==, BEARER realm=https://h/t");
  ASSERT_EQ(c.size(), 2u);
  EXPECT_EQ(c[0].scheme, "negotiate");
  EXPECT_TRUE(c[0].params.empty());
  EXPECT_EQ(c[1].scheme, "bearer");
  EXPECT_EQ(c[1].params["realm"], "https://h/t");
  EXPECT_TRUE(parse_www_authenticate("").empty());
  EXPECT_EQ(parse_www_authenticate(R"(Bearer realm="unterminated)")[0].params["realm"], "unterminated");
}

TEST(ImageRegistryAuth, Base64RoundTrip) {
  for (const std::string& s :
       std::vector<std::string>{"", "a", "ab", "abc", "user:pa:ss", std::string("\0\xff\x10", 3)}) {
    auto d = base64_decode(base64_encode(s));
    ASSERT_TRUE(d);
    EXPECT_EQ(*d, s);
  }
  EXPECT_EQ(base64_encode("user:password"), "dXNlcjpwYXNzd29yZA==");
  EXPECT_FALSE(base64_decode("a*b"));
}

TEST(ImageRegistryAuth, ErrorTextTakesTheRegistrysFirstError) {
  HttpResponse r;
  r.status = 401;
  r.body = R"({"errors":[{"code":"UNAUTHORIZED","message":"authentication required","detail":null}]})";
  EXPECT_EQ(registry_error_text(r), "401 unauthorized: authentication required");
  r.status = 503;
  r.body = "<html>down</html>";
  EXPECT_EQ(registry_error_text(r), "503");
  EXPECT_EQ(repository_scope("library/x", true), "repository:library/x:pull,push");
  EXPECT_EQ(repository_scope("library/x", false), "repository:library/x:pull");
}

// What a registry says goes into a one-line error on the user's terminal: its newlines and
// escape sequences are written out (checked by fuzz/registry_answers).
TEST(ImageRegistryAuth, ErrorTextEscapesControlBytes) {
  HttpResponse r;
  r.status = 401;
  r.body = R"({"errors":[{"code":"DENIED","message":"line one\nline two \u001b[31mred"}]})";
  EXPECT_EQ(registry_error_text(r), "401 denied: line one\\x0aline two \\x1b[31mred");
  r.body = R"({"error":"bad\r","error_description":")" + std::string(2000, 'x') + R"("})";
  std::string text = registry_error_text(r);
  EXPECT_EQ(text.substr(0, 15), "401 bad\\x0d: xx");
  EXPECT_LT(text.size(), 600u);
}

// A token's lifetime as the server gives it, renewed 5 s early, between 1 s and a day:
// expires_in at int64's ends overflowed the subtraction and the clock arithmetic
// (found by fuzz/registry_answers).
TEST(ImageRegistryAuth, TokenAnswers) {
  auto t = parse_token_answer(R"({"token":"abc","expires_in":300})");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->first, "abc");
  EXPECT_EQ(t->second.count(), 295);
  EXPECT_EQ(parse_token_answer(R"({"access_token":"x"})")->second.count(), 55);
  EXPECT_EQ(parse_token_answer(R"({"token":"","access_token":"y"})")->first, "y");
  EXPECT_FALSE(parse_token_answer(R"({"token":""})"));
  EXPECT_FALSE(parse_token_answer("not json"));
  EXPECT_EQ(parse_token_answer(R"({"token":"t","expires_in":-9223372036854775808})")->second.count(), 1);
  EXPECT_EQ(parse_token_answer(R"({"token":"t","expires_in":9223372036854775807})")->second.count(), 24 * 3600);
}

// Content-Type first; for application/json, the document's own mediaType or its shape.
TEST(ImageRegistryAuth, ManifestMediaType) {
  HttpResponse r;
  r.headers = {{"content-type", "application/vnd.oci.image.index.v1+json; charset=utf-8"}};
  EXPECT_EQ(manifest_media_type(r, "{}"), "application/vnd.oci.image.index.v1+json");
  r.headers = {{"content-type", "application/json"}};
  EXPECT_EQ(manifest_media_type(r, R"({"layers":[]})"), "application/vnd.oci.image.manifest.v1+json");
  EXPECT_EQ(manifest_media_type(r, R"({"manifests":[]})"), "application/vnd.oci.image.index.v1+json");
  EXPECT_EQ(manifest_media_type(r, "[1"), "application/json");
  EXPECT_EQ(retry_after_seconds(""), -1);
  EXPECT_EQ(retry_after_seconds("12"), 12);
  EXPECT_EQ(retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT"), 0);
  EXPECT_EQ(retry_after_seconds("soon"), -1);
}

TEST(ImageHttp, HeaderLinesKeepTheLastAnswers) {
  HttpResponse r;
  add_header_line(r, "HTTP/1.1 307 Temporary Redirect\r\n");
  add_header_line(r, "Location: https://cdn/x\r\n");
  add_header_line(r, "HTTP/1.1 200 OK\r\n");
  add_header_line(r, "Content-Type:  application/json \r\n");
  add_header_line(r, "no colon\r\n");
  ASSERT_EQ(r.headers.size(), 1u);
  EXPECT_EQ(r.header("content-type"), "application/json");
  EXPECT_EQ(r.header("location"), "");
}

class ImageRegistryCredentials : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/guise-creds-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    file_ = dir_ + "/sub/config.json";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  nlohmann::json read() {
    std::ifstream in(file_);
    return nlohmann::json::parse(in);
  }
  void write(const std::string& text) {
    std::filesystem::create_directories(dir_ + "/sub");
    std::ofstream(file_) << text;
  }
  std::string dir_, file_;
};

TEST_F(ImageRegistryCredentials, RoundTripKeepsOtherKeys) {
  write(R"({"credsStore":"","auths":{"other.example:5000":{"auth":"eDp5"}},"HttpHeaders":{"X":"1"}})");
  ASSERT_TRUE(store_credentials(file_, "docker.io", {"alice", "s3:cret"}).ok());
  ASSERT_TRUE(store_credentials(file_, "127.0.0.1:5000", {"bob", "pw"}).ok());
  auto doc = read();
  EXPECT_EQ(doc["HttpHeaders"]["X"], "1");
  EXPECT_EQ(doc["auths"]["other.example:5000"]["auth"], "eDp5");
  EXPECT_EQ(doc["auths"]["https://index.docker.io/v1/"]["auth"], base64_encode("alice:s3:cret"));
  struct stat st;
  ASSERT_EQ(::stat(file_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  auto hub = load_credentials(file_, "docker.io");
  ASSERT_TRUE(hub.ok() && hub->has_value());
  EXPECT_EQ((*hub)->username, "alice");
  EXPECT_EQ((*hub)->password, "s3:cret");
  auto local = load_credentials(file_, "127.0.0.1:5000");
  ASSERT_TRUE(local.ok() && local->has_value());
  EXPECT_EQ((*local)->username, "bob");
  auto other = load_credentials(file_, "other.example:5000");
  ASSERT_TRUE(other.ok() && other->has_value());
  EXPECT_EQ((*other)->username, "x");
  auto none = load_credentials(file_, "quay.io");
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());

  auto erased = erase_credentials(file_, "docker.io");
  ASSERT_TRUE(erased.ok());
  EXPECT_TRUE(*erased);
  erased = erase_credentials(file_, "docker.io");
  ASSERT_TRUE(erased.ok());
  EXPECT_FALSE(*erased);
  doc = read();
  EXPECT_FALSE(doc["auths"].contains("https://index.docker.io/v1/"));
  EXPECT_TRUE(doc["auths"].contains("127.0.0.1:5000"));
  EXPECT_EQ(doc["credsStore"], "");
  // Nothing but the file itself in its directory: no temp files left.
  size_t n = 0;
  for ([[maybe_unused]] auto& e : std::filesystem::directory_iterator(dir_ + "/sub")) ++n;
  EXPECT_EQ(n, 1u);
}

TEST_F(ImageRegistryCredentials, ReadsOtherSpellingsAndIdentityTokens) {
  write(R"({"auths":{"https://registry.example:5000/v1/":{"username":"u","password":"p"},
                     "index.docker.io":{"auth":"","identitytoken":"tok"}}})");
  auto r = load_credentials(file_, "registry.example:5000");
  ASSERT_TRUE(r.ok() && r->has_value());
  EXPECT_EQ((*r)->username, "u");
  EXPECT_EQ((*r)->password, "p");
  r = load_credentials(file_, "docker.io");
  ASSERT_TRUE(r.ok() && r->has_value());
  EXPECT_EQ((*r)->username, "<token>");
  EXPECT_EQ((*r)->password, "tok");
}

TEST_F(ImageRegistryCredentials, MissingFileIsNoCredentialsAndBadFileIsAnError) {
  auto r = load_credentials(file_, "docker.io");
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->has_value());
  auto e = erase_credentials(file_, "docker.io");
  ASSERT_TRUE(e.ok());
  EXPECT_FALSE(*e);
  write("[1,2]");
  r = load_credentials(file_, "docker.io");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find(file_), std::string::npos);
  write(R"({"auths":{"x.io":{"auth":"!!notbase64"}}})");
  EXPECT_FALSE(load_credentials(file_, "x.io").ok());
}

TEST(ImageRegistryInsecure, LoopbackListedAndFlag) {
  RegistriesConfig none;
  EXPECT_TRUE(registry_is_insecure("localhost:5000", true, none));
  EXPECT_TRUE(registry_is_insecure("127.0.0.1:5000", true, none));
  EXPECT_TRUE(registry_is_insecure("127.8.9.10", true, none));
  EXPECT_TRUE(registry_is_insecure("[::1]:5000", true, none));
  EXPECT_TRUE(registry_is_insecure("::1", true, none));
  EXPECT_FALSE(registry_is_insecure("docker.io", true, none));
  EXPECT_FALSE(registry_is_insecure("128.0.0.1:5000", true, none));
  EXPECT_FALSE(registry_is_insecure("localhost.example.com", true, none));
  EXPECT_TRUE(registry_is_insecure("docker.io", false, none));

  auto c = parse_registries_config(R"({"insecure-registries":["reg.lan:5000","10.0.0.0/8"],"other":1})", "r.json");
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(registry_is_insecure("reg.lan:5000", true, *c));
  EXPECT_FALSE(registry_is_insecure("reg.lan:5001", true, *c));
  EXPECT_TRUE(registry_is_insecure("10.1.2.3:443", true, *c));
  EXPECT_FALSE(registry_is_insecure("11.1.2.3", true, *c));
  EXPECT_FALSE(parse_registries_config(R"({"insecure-registries":"x"})", "r.json").ok());
  EXPECT_FALSE(parse_registries_config("nope", "r.json").ok());
  EXPECT_EQ(registry_host("[fe80::1]:5000"), "fe80::1");
  EXPECT_EQ(registry_host("host:5000"), "host");
}

TEST(ImageRegistryInsecure, MissingConfigIsEmpty) {
  auto c = load_registries_config("/nonexistent/guise/registries.json");
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(c->insecure.empty());
}

TEST(ImageRegistryResume, RangeAndPartialAnswers) {
  BlobResume r(0);
  EXPECT_EQ(r.range_header(), "");
  ASSERT_TRUE(r.begin_answer(200, "").ok());
  EXPECT_EQ(r.take("hello "), "hello ");
  EXPECT_EQ(r.range_header(), "Range: bytes=6-");
  // A 206 from where it stopped continues.
  ASSERT_TRUE(r.begin_answer(206, "bytes 6-10/11").ok());
  EXPECT_EQ(r.take("wor"), "wor");
  EXPECT_EQ(r.delivered(), 9);
  // A 206 from elsewhere is refused.
  EXPECT_FALSE(r.begin_answer(206, "bytes 0-10/11").ok());
  EXPECT_FALSE(r.begin_answer(206, "garbage").ok());
}

TEST(ImageRegistryResume, A200ToARangeStartsOver) {
  BlobResume r(5);
  EXPECT_EQ(r.range_header(), "Range: bytes=5-");
  ASSERT_TRUE(r.begin_answer(200, "").ok());
  EXPECT_EQ(r.take("abc"), "");
  EXPECT_EQ(r.take("de"), "");
  EXPECT_EQ(r.take("fgh"), "fgh");
  EXPECT_EQ(r.delivered(), 8);
  EXPECT_EQ(content_range_start("bytes 100-199/200"), 100);
  EXPECT_EQ(content_range_start("bytes */200"), -1);
  EXPECT_EQ(content_range_start("bytes -1048576-2097151/4"), -1);
  EXPECT_EQ(content_range_start("bytes +5-9/10"), -1);
}

TEST(ImageRegistryUrls, LocationsResolve) {
  std::string base = "http://127.0.0.1:5000/v2/r/blobs/uploads/";
  EXPECT_EQ(resolve_url(base, "/v2/r/blobs/uploads/u1?_state=x"),
            "http://127.0.0.1:5000/v2/r/blobs/uploads/u1?_state=x");
  EXPECT_EQ(resolve_url(base, "https://s3.example/u?a=1"), "https://s3.example/u?a=1");
  EXPECT_EQ(resolve_url(base, "u2"), "http://127.0.0.1:5000/v2/r/blobs/uploads/u2");
  EXPECT_EQ(url_escape("sha256:ab"), "sha256%3Aab");
  EXPECT_EQ(url_origin("https://h:1/x/y"), "https://h:1");
}

TEST(ImageRegistryAccept, NamesAllFourDocuments) {
  std::string a = manifest_accept_header();
  for (auto t : {media::kOciIndex, media::kOciManifest, media::kDockerList, media::kDockerManifest})
    EXPECT_NE(a.find(t), std::string::npos) << t;
}

}  // namespace
}  // namespace guise::image
