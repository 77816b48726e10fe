// The content store: blobs appear whole or not at all, verified, resumable.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "image/content_store.h"
#include "sys/sha256.h"

namespace guise::image {
namespace {

class ImageContentStore : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/guise-content-XXXXXX";
    root_ = ::mkdtemp(tmpl);
  }
  void TearDown() override { std::filesystem::remove_all(root_); }
  ContentStore store() { return std::move(ContentStore::open(root_)).take(); }
  size_t entries(const std::string& sub) {
    size_t n = 0;
    for ([[maybe_unused]] auto& e : std::filesystem::directory_iterator(root_ + "/" + sub)) ++n;
    return n;
  }
  std::string root_;
};

TEST_F(ImageContentStore, IngestCommitsAVerifiedReadOnlyBlob) {
  auto s = store();
  std::string data(200000, 'x');
  Digest d = sha256_of(data);
  auto in = s.begin("layer-1", d, static_cast<int64_t>(data.size()));
  ASSERT_TRUE(in.ok() && *in) << (in.ok() ? "" : in.error().message());
  ASSERT_TRUE((*in)->write(std::string_view(data).substr(0, 1000)).ok());
  ASSERT_TRUE((*in)->write(std::string_view(data).substr(1000)).ok());
  EXPECT_FALSE(s.has(d));  // nothing visible before the commit
  ASSERT_TRUE((*in)->commit().ok());
  EXPECT_TRUE(s.has(d));
  struct stat st {};
  ASSERT_EQ(::stat(s.blob_path(d).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0444u);
  EXPECT_EQ(entries("ingest"), 0u);
  auto again = s.begin("layer-1", d, static_cast<int64_t>(data.size()));
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(*again);  // already there: nothing to fetch
}

TEST_F(ImageContentStore, DigestMismatchNamesBothAndLeavesNothing) {
  auto s = store();
  Digest want = sha256_of("what the manifest promised");
  auto in = s.begin("blob", want, 5);
  ASSERT_TRUE(in.ok() && *in);
  ASSERT_TRUE((*in)->write("hello").ok());
  auto r = (*in)->commit();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message(), "blob " + want.str() + ": digest mismatch: expected " + want.str() + ", got " +
                                     sha256_of("hello").str());
  EXPECT_FALSE(s.has(want));
  EXPECT_EQ(entries("blobs/sha256"), 0u);
  EXPECT_EQ(entries("ingest"), 0u);
}

TEST_F(ImageContentStore, ShortOrLongBodiesAreRefused) {
  auto s = store();
  Digest d = sha256_of("12345");
  auto in = s.begin("short", d, 5);
  ASSERT_TRUE((*in)->write("123").ok());
  auto r = (*in)->commit();
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("3 bytes arrived, 5 expected"), std::string::npos) << r.error().message();
  auto in2 = s.begin("long", d, 5);
  auto w = (*in2)->write("123456");
  ASSERT_FALSE(w.ok());
  EXPECT_NE(w.error().message().find("more than the 5 bytes expected"), std::string::npos);
  EXPECT_EQ(entries("ingest"), 0u);
  EXPECT_EQ(entries("blobs/sha256"), 0u);
}

TEST_F(ImageContentStore, AnInterruptedIngestResumesWhereItStopped) {
  auto s = store();
  std::string data = "0123456789abcdefghij";
  Digest d = sha256_of(data);
  {
    auto in = s.begin("resumable", d, 20);
    ASSERT_TRUE((*in)->write(data.substr(0, 12)).ok());
  }  // dropped as a killed pull would drop it
  EXPECT_EQ(entries("ingest"), 1u);
  auto in = s.begin("resumable", d, 20);
  ASSERT_TRUE(in.ok() && *in);
  EXPECT_EQ((*in)->offset(), 12);
  ASSERT_TRUE((*in)->write(data.substr(12)).ok());
  ASSERT_TRUE((*in)->commit().ok());
  auto text = s.read(d);
  ASSERT_TRUE(text.ok()) << text.error().message();
  EXPECT_EQ(*text, data);
}

TEST_F(ImageContentStore, ReadVerifiesAndPutNamesByContent) {
  auto s = store();
  auto d = s.put(R"({"schemaVersion":2})");
  ASSERT_TRUE(d.ok()) << d.error().message();
  EXPECT_EQ(*d, sha256_of(R"({"schemaVersion":2})"));
  auto same = s.put(R"({"schemaVersion":2})");  // the same content: no error, one blob
  ASSERT_TRUE(same.ok());
  EXPECT_EQ(entries("blobs/sha256"), 1u);
  auto missing = s.read(sha256_of("nope"));
  ASSERT_FALSE(missing.ok());
  EXPECT_TRUE(missing.error().is(sys::ErrorKind::kNotFound));
  // A blob changed behind the store's back is not trusted.
  std::string path = s.blob_path(*d);
  ::chmod(path.c_str(), 0644);
  std::ofstream(path) << "tampered";
  auto tampered = s.read(*d);
  ASSERT_FALSE(tampered.ok());
  EXPECT_NE(tampered.error().message().find("does not match its digest"), std::string::npos);
}

TEST(SysSha256, IncrementalEqualsWhole) {
  std::string data;
  for (int i = 0; i < 1000; ++i) data += static_cast<char>(i * 7);
  for (size_t split : {0u, 1u, 63u, 64u, 65u, 127u, 500u, 1000u}) {
    sys::Sha256 h;
    h.update(std::string_view(data).substr(0, split));
    h.update(std::string_view(data).substr(split));
    EXPECT_EQ(h.hex(), sys::sha256_hex(data)) << split;
  }
  EXPECT_EQ(sys::sha256_hex(std::string(1000000, 'a')),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

}  // namespace
}  // namespace guise::image
