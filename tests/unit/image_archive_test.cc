// load, save and import against a real store in a temporary directory: archives are built
// here with libarchive as docker and podman write them, and what comes back is read with
// libarchive too.
#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include <nlohmann/json.hpp>

#include "image/archive_load.h"
#include "image/archive_save.h"
#include "image/import.h"
#include "image/manifest.h"
#include "image/store.h"
#include "sys/fd.h"

namespace guise::image {
namespace {

namespace fs = std::filesystem;

using Files = std::vector<std::pair<std::string, std::string>>;  // name, content ("" and a trailing / : a dir)

enum class Filter { kNone, kGzip, kZstd };

// The bytes libarchive writes for `w` once `fill` has added its entries.
template <class F>
std::string written(Filter filter, bool raw, F fill) {
  sys::Fd fd(::memfd_create("archive", MFD_CLOEXEC));
  archive* w = archive_write_new();
  if (raw)
    archive_write_set_format_raw(w);
  else
    archive_write_set_format_pax_restricted(w);
  if (filter == Filter::kGzip) archive_write_add_filter_gzip(w);
  if (filter == Filter::kZstd) archive_write_add_filter_zstd(w);
  EXPECT_EQ(archive_write_open_fd(w, fd.get()), ARCHIVE_OK);
  fill(w);
  EXPECT_EQ(archive_write_close(w), ARCHIVE_OK) << archive_error_string(w);
  archive_write_free(w);
  std::string out;
  char buf[8192];
  ssize_t n;
  ::lseek(fd.get(), 0, SEEK_SET);
  while ((n = ::read(fd.get(), buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  return out;
}

void add(archive* w, const std::string& name, const std::string& data, mode_t type = AE_IFREG,
         const std::string& link = {}) {
  archive_entry* e = archive_entry_new();
  archive_entry_set_pathname(e, name.c_str());
  archive_entry_set_filetype(e, type);
  archive_entry_set_perm(e, type == AE_IFDIR ? 0755 : 0644);
  archive_entry_set_size(e, type == AE_IFREG ? static_cast<la_int64_t>(data.size()) : 0);
  archive_entry_set_mtime(e, 1'600'000'000, 0);
  if (!link.empty()) archive_entry_set_symlink(e, link.c_str());
  EXPECT_EQ(archive_write_header(w, e), ARCHIVE_OK) << name;
  if (type == AE_IFREG && !data.empty()) archive_write_data(w, data.data(), data.size());
  archive_entry_free(e);
}

std::string tar_of(const Files& files, Filter filter = Filter::kNone) {
  return written(filter, false, [&](archive* w) {
    for (const auto& [name, data] : files)
      add(w, name, data, !name.empty() && name.back() == '/' ? AE_IFDIR : AE_IFREG);
  });
}

std::string compressed(const std::string& data, Filter filter) {
  return written(filter, true, [&](archive* w) { add(w, "data", data); });
}

std::string sha(const std::string& data) { return sha256_of(data).str(); }
std::string hex(const std::string& data) { return sha256_of(data).hex; }

std::string config_of(const std::vector<std::string>& uncompressed_layers) {
  nlohmann::json diff_ids = nlohmann::json::array();
  for (const auto& l : uncompressed_layers) diff_ids.push_back(sha(l));
  return nlohmann::json{{"architecture", "amd64"},
                        {"os", "linux"},
                        {"created", "2024-05-01T10:00:00Z"},
                        {"config", {{"Cmd", {"sh"}}}},
                        {"rootfs", {{"type", "layers"}, {"diff_ids", diff_ids}}}}
      .dump();
}

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Every entry of the tar at `path`, name -> content (symlinks as "-> target").
std::map<std::string, std::string> entries_of(const std::string& path) {
  std::map<std::string, std::string> out;
  archive* r = archive_read_new();
  archive_read_support_format_tar(r);
  EXPECT_EQ(archive_read_open_filename(r, path.c_str(), 1 << 16), ARCHIVE_OK);
  archive_entry* e;
  while (archive_read_next_header(r, &e) == ARCHIVE_OK) {
    std::string data;
    if (archive_entry_filetype(e) == AE_IFLNK) data = std::string("-> ") + archive_entry_symlink(e);
    char buf[8192];
    la_ssize_t n;
    while ((n = archive_read_data(r, buf, sizeof buf)) > 0) data.append(buf, static_cast<size_t>(n));
    out[archive_entry_pathname(e)] = data;
  }
  archive_read_free(r);
  return out;
}

// Non-directory entries under `dir`, recursively: what a store holds besides its skeleton.
std::vector<std::string> files_under(const std::string& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec))
    if (!it->is_directory() || it->is_symlink()) out.push_back(it->path().string());
  return out;
}

class ImageArchive : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/guise-archive-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    auto s = Store::open(dir_ + "/store");
    ASSERT_TRUE(s.ok()) << s.error().message();
    store_.emplace(std::move(s).take());
    layer1_ = tar_of({{"etc/", ""}, {"etc/hello", "hello\n"}});
    layer2_ = tar_of({{"bin/", ""}, {"bin/tool", "#!/bin/sh\n"}, {"etc/more", "more"}});
  }
  void TearDown() override {
    store_.reset();
    fs::remove_all(dir_);
  }

  std::string write(const std::string& name, const std::string& data) {
    std::string path = dir_ + "/" + name;
    std::ofstream(path, std::ios::binary) << data;
    return path;
  }

  // A docker-archive as docker 20.10 writes it; layer 2 gzip-compressed as podman may.
  std::string docker_archive(const std::string& config, const std::string& tag = "busybox:latest") {
    return tar_of({{"manifest.json", nlohmann::json::array({{{"Config", hex(config) + ".json"},
                                                             {"RepoTags", {tag}},
                                                             {"Layers", {"a/layer.tar", "b/layer.tar"}}}})
                                         .dump()},
                   {hex(config) + ".json", config},
                   {"a/", ""},
                   {"a/VERSION", "1.0"},
                   {"a/layer.tar", layer1_},
                   {"b/", ""},
                   {"b/layer.tar", compressed(layer2_, Filter::kGzip)}});
  }

  void expect_store_empty() {
    auto images = store_->list_images();
    ASSERT_TRUE(images.ok());
    EXPECT_TRUE(images->empty());
    EXPECT_EQ(files_under(dir_ + "/store/blobs"), std::vector<std::string>{});
    EXPECT_EQ(files_under(dir_ + "/store/snapshots"), std::vector<std::string>{});
    EXPECT_EQ(files_under(dir_ + "/store/tmp"), std::vector<std::string>{});
    EXPECT_EQ(files_under(dir_ + "/store/ingest"), std::vector<std::string>{});
  }

  std::string snapshot_file(const Digest& chain_id, const std::string& name) {
    auto s = store_->snapshot(chain_id);
    EXPECT_TRUE(s.has_value()) << chain_id.str();
    return s ? slurp(store_->snapshot_fs(*s) + "/" + name) : "";
  }

  std::string dir_;
  std::optional<Store> store_;
  std::string layer1_, layer2_;
};

TEST_F(ImageArchive, LoadsADockerArchiveWithPlainAndGzipLayers) {
  std::string config = config_of({layer1_, layer2_});
  auto loaded = load_archive(*store_, write("in.tar", docker_archive(config)));
  ASSERT_TRUE(loaded.ok()) << loaded.error().message();
  ASSERT_EQ(loaded->size(), 1u);
  const LoadedImage& img = loaded->front();
  EXPECT_EQ(img.record.id.str(), sha(config));
  EXPECT_EQ(img.names, std::vector<std::string>{"docker.io/library/busybox:latest"});
  EXPECT_EQ(img.record.platform, "linux/amd64");
  auto resolved = store_->resolve("busybox");
  ASSERT_TRUE(resolved.ok()) << resolved.error().message();
  EXPECT_EQ(resolved->id, img.record.id);

  // Layers stored uncompressed under a synthesized OCI manifest.
  auto manifest = parse_manifest(*store_->content().read(img.record.manifest));
  ASSERT_TRUE(manifest.ok()) << manifest.error().message();
  ASSERT_EQ(manifest->layers.size(), 2u);
  EXPECT_EQ(manifest->layers[1].digest.str(), sha(layer2_));
  EXPECT_EQ(manifest->layers[1].media_type, media::kOciLayer);
  EXPECT_EQ(manifest->layers[1].size, static_cast<int64_t>(layer2_.size()));

  auto chains = chain_ids({sha256_of(layer1_), sha256_of(layer2_)});
  EXPECT_EQ(img.record.chain_ids, chains);
  EXPECT_EQ(snapshot_file(chains[0], "etc/hello"), "hello\n");
  EXPECT_EQ(snapshot_file(chains[1], "bin/tool"), "#!/bin/sh\n");
  EXPECT_EQ(files_under(dir_ + "/store/tmp"), std::vector<std::string>{});
}

TEST_F(ImageArchive, LoadsAnOciArchiveWithItsAnnotatedNames) {
  std::string gz = compressed(layer1_, Filter::kGzip);
  std::string zst = compressed(layer2_, Filter::kZstd);
  std::string config = config_of({layer1_, layer2_});
  auto desc = [](std::string_view type, const std::string& blob) {
    return nlohmann::json{{"mediaType", type}, {"digest", sha(blob)}, {"size", blob.size()}};
  };
  std::string manifest = nlohmann::json{{"schemaVersion", 2},
                                        {"mediaType", media::kOciManifest},
                                        {"config", desc(media::kOciConfig, config)},
                                        {"layers", {desc(media::kOciLayerGzip, gz), desc(media::kOciLayerZstd, zst)}}}
                             .dump();
  nlohmann::json entry = desc(media::kOciManifest, manifest);
  entry["annotations"] = {{"org.opencontainers.image.ref.name", "localhost/mine:1.0"}};
  std::string index = nlohmann::json{{"schemaVersion", 2}, {"manifests", {entry}}}.dump();
  std::string archive = tar_of({{"oci-layout", R"({"imageLayoutVersion":"1.0.0"})"},
                                {"index.json", index},
                                {"blobs/", ""},
                                {"blobs/sha256/", ""},
                                {"blobs/sha256/" + hex(manifest), manifest},
                                {"blobs/sha256/" + hex(config), config},
                                {"blobs/sha256/" + hex(gz), gz},
                                {"blobs/sha256/" + hex(zst), zst}});
  auto loaded = load_archive(*store_, write("oci.tar", archive));
  ASSERT_TRUE(loaded.ok()) << loaded.error().message();
  ASSERT_EQ(loaded->size(), 1u);
  EXPECT_EQ(loaded->front().record.id.str(), sha(config));
  EXPECT_EQ(loaded->front().record.manifest.str(), sha(manifest));  // kept as it was
  EXPECT_EQ(loaded->front().names, std::vector<std::string>{"localhost/mine:1.0"});
  EXPECT_TRUE(store_->content().has(sha256_of(zst)));
  auto chains = chain_ids({sha256_of(layer1_), sha256_of(layer2_)});
  EXPECT_EQ(snapshot_file(chains[1], "etc/more"), "more");
}

TEST_F(ImageArchive, OciNamesComeFromTheAnnotations) {
  EXPECT_EQ(oci_entry_name({{"org.opencontainers.image.ref.name", "latest"}}), std::nullopt);
  EXPECT_EQ(oci_entry_name({{"org.opencontainers.image.ref.name", "docker.io/library/busybox:latest"}}),
            "docker.io/library/busybox:latest");
  EXPECT_EQ(oci_entry_name({{"org.opencontainers.image.ref.name", "1.0"},
                            {"io.containerd.image.name", "docker.io/library/alpine:1.0"}}),
            "docker.io/library/alpine:1.0");
  EXPECT_EQ(oci_entry_name({}), std::nullopt);
}

TEST_F(ImageArchive, SavesWhatDockerSaveWrites) {
  std::string config = config_of({layer1_, layer2_});
  auto loaded = load_archive(*store_, write("in.tar", docker_archive(config, "localhost:5000/x/y:2")));
  ASSERT_TRUE(loaded.ok()) << loaded.error().message();
  std::string out = dir_ + "/out.tar";
  auto saved = save_docker_archive(*store_, {{loaded->front().record, loaded->front().names}}, out);
  ASSERT_TRUE(saved.ok()) << saved.error().message();

  auto entries = entries_of(out);
  auto manifest = nlohmann::json::parse(entries["manifest.json"]);
  ASSERT_EQ(manifest.size(), 1u);
  EXPECT_EQ(manifest[0]["Config"], hex(config) + ".json");
  EXPECT_EQ(manifest[0]["RepoTags"], nlohmann::json({"localhost:5000/x/y:2"}));
  EXPECT_EQ(entries[hex(config) + ".json"], config);
  ASSERT_EQ(manifest[0]["Layers"].size(), 2u);
  std::string top = manifest[0]["Layers"][1].get<std::string>();
  EXPECT_EQ(sha(entries[manifest[0]["Layers"][0].get<std::string>()]), sha(layer1_));
  EXPECT_EQ(sha(entries[top]), sha(layer2_));
  std::string top_id = top.substr(0, top.find('/'));
  EXPECT_EQ(entries[top_id + "/VERSION"], "1.0");
  EXPECT_EQ(nlohmann::json::parse(entries["repositories"]),
            nlohmann::json({{"localhost:5000/x/y", {{"2", top_id}}}}));
  auto json = nlohmann::json::parse(entries[top_id + "/json"]);
  EXPECT_EQ(json["id"], top_id);
  EXPECT_EQ(json["parent"], manifest[0]["Layers"][0].get<std::string>().substr(0, 64));
  EXPECT_EQ(std::vector<std::string>{}, files_under(dir_ + "/store/tmp"));

  // And back: the saved archive loads into an empty store as the same image.
  auto again = Store::open(dir_ + "/store2");
  ASSERT_TRUE(again.ok());
  auto reloaded = load_archive(*again, out);
  ASSERT_TRUE(reloaded.ok()) << reloaded.error().message();
  EXPECT_EQ(reloaded->front().record.id, loaded->front().record.id);
  EXPECT_EQ(reloaded->front().names, std::vector<std::string>{"localhost:5000/x/y:2"});
}

TEST_F(ImageArchive, SavingTwoImagesSharingALayerWritesItOnce) {
  std::string config_a = config_of({layer1_, layer2_});
  std::string config_b = config_of({layer1_});
  ASSERT_TRUE(load_archive(*store_, write("a.tar", docker_archive(config_a, "a:1"))).ok());
  std::string one = tar_of({{"manifest.json", nlohmann::json::array({{{"Config", "c.json"},
                                                                      {"RepoTags", {"b:1"}},
                                                                      {"Layers", {"l/layer.tar"}}}})
                                                  .dump()},
                            {"c.json", config_b},
                            {"l/layer.tar", layer1_}});
  ASSERT_TRUE(load_archive(*store_, write("b.tar", one)).ok());
  auto a = store_->resolve("a:1");
  auto b = store_->resolve("b:1");
  ASSERT_TRUE(a.ok() && b.ok());
  std::string out = dir_ + "/two.tar";
  auto saved = save_docker_archive(*store_, {{*a, {"docker.io/library/a:1"}}, {*b, {}}}, out);
  ASSERT_TRUE(saved.ok()) << saved.error().message();
  auto entries = entries_of(out);
  auto manifest = nlohmann::json::parse(entries["manifest.json"]);
  ASSERT_EQ(manifest.size(), 2u);
  EXPECT_TRUE(manifest[1]["RepoTags"].is_null());
  std::string b_layer = manifest[1]["Layers"][0].get<std::string>();
  EXPECT_EQ(entries[b_layer].rfind("-> ../", 0), 0u) << b_layer;  // a link to a's copy
  auto reloaded = Store::open(dir_ + "/store2");
  ASSERT_TRUE(reloaded.ok());
  auto back = load_archive(*reloaded, out);
  ASSERT_TRUE(back.ok()) << back.error().message();
  EXPECT_EQ(back->size(), 2u);
}

TEST_F(ImageArchive, SomethingElseIsRefusedAndLeavesNothing) {
  std::string path = write("notes.txt", "these are not the layers you are looking for\n");
  auto loaded = load_archive(*store_, path);
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.error().message(),
            "load " + path + ": not a docker-archive or oci-archive (no manifest.json or index.json)");
  expect_store_empty();

  auto tar = load_archive(*store_, write("other.tar", tar_of({{"README", "hi"}})));
  ASSERT_FALSE(tar.ok());
  EXPECT_NE(tar.error().message().find("not a docker-archive or oci-archive"), std::string::npos);
  expect_store_empty();
}

TEST_F(ImageArchive, ALayerThatIsNotItsDiffIdIsRefusedAndLeavesNothing) {
  std::string config = config_of({layer1_, tar_of({{"other", "x"}})});
  auto loaded = load_archive(*store_, write("bad.tar", docker_archive(config)));
  ASSERT_FALSE(loaded.ok());
  EXPECT_NE(loaded.error().message().find("layer b/layer.tar does not match its diff_id"), std::string::npos)
      << loaded.error().message();
  expect_store_empty();
  auto names = store_->list_names();
  ASSERT_TRUE(names.ok());
  EXPECT_TRUE(names->empty());
}

TEST_F(ImageArchive, ACorruptLayerIsNamedAndLeavesNothing) {
  std::string config = config_of({layer1_, layer2_});
  std::string gz = compressed(layer2_, Filter::kGzip);
  gz.resize(gz.size() / 2);
  std::string archive = tar_of({{"manifest.json", nlohmann::json::array({{{"Config", "c.json"},
                                                                          {"RepoTags", {"x:1"}},
                                                                          {"Layers", {"a.tar", "b.tar"}}}})
                                                      .dump()},
                                {"c.json", config},
                                {"a.tar", layer1_},
                                {"b.tar", gz}});
  auto loaded = load_archive(*store_, write("corrupt.tar", archive));
  ASSERT_FALSE(loaded.ok());
  EXPECT_NE(loaded.error().message().find("b.tar"), std::string::npos) << loaded.error().message();
  expect_store_empty();
}

TEST_F(ImageArchive, ImportMakesAOneLayerImage) {
  std::string rootfs = tar_of({{"bin/", ""}, {"bin/sh", "shell"}, {"etc/os-release", "ID=test\n"}});
  auto record = import_rootfs(*store_, write("rootfs.tar.gz", compressed(rootfs, Filter::kGzip)),
                              {.name = "mine"});
  ASSERT_TRUE(record.ok()) << record.error().message();
  ASSERT_EQ(record->chain_ids.size(), 1u);
  EXPECT_EQ(record->chain_ids[0].str(), sha(rootfs));
  EXPECT_EQ(snapshot_file(record->chain_ids[0], "etc/os-release"), "ID=test\n");
  auto config = parse_config(*store_->content().read(record->id));
  ASSERT_TRUE(config.ok());
  EXPECT_EQ(config->diff_ids, std::vector<Digest>{sha256_of(rootfs)});
  EXPECT_EQ(config->platform.os, host_platform().os);
  ASSERT_EQ(config->history.size(), 1u);
  EXPECT_EQ(config->history[0].comment, "Imported from -");
  auto named = store_->resolve("mine:latest");
  ASSERT_TRUE(named.ok()) << named.error().message();
  EXPECT_EQ(named->id, record->id);
  EXPECT_TRUE(store_->content().has(sha256_of(rootfs)));
  EXPECT_EQ(files_under(dir_ + "/store/tmp"), std::vector<std::string>{});
}

TEST_F(ImageArchive, ImportOfSomethingElseLeavesNothing) {
  auto record = import_rootfs(*store_, write("junk", std::string(2000, 'j')));
  ASSERT_FALSE(record.ok());
  EXPECT_EQ(record.error().message().rfind("import " + dir_ + "/junk: ", 0), 0u) << record.error().message();
  expect_store_empty();
}

}  // namespace
}  // namespace guise::image
