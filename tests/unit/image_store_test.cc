// The image store: names, records, snapshots published once per chain, the GC mark and
// sweep, and container rootfs overlays (mounted when run as root where overlay exists).
#include <gtest/gtest.h>
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "image/overlay_mount.h"
#include "image/store.h"
#include "sys/mountinfo.h"
#include "sys/syscalls.h"

namespace guise::image {
namespace {

namespace fs = std::filesystem;

Digest digest_of(const std::string& s) { return sha256_of(s); }
Digest hex_digest(char first, char second) {
  std::string hex(64, '0');
  hex[0] = 'a', hex[1] = 'b', hex[2] = 'c', hex[3] = first, hex[4] = second;
  return Digest{"sha256", hex};
}

std::vector<std::string> mounts_under(const std::string& dir) {
  std::vector<std::string> out;
  std::ifstream in("/proc/self/mountinfo");
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream f(line);
    std::string a, b, c, d, point;
    f >> a >> b >> c >> d >> point;
    point = sys::unescape_mountinfo(point);
    if (point.rfind(dir, 0) == 0) out.push_back(point);
  }
  return out;
}

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void write_text(const std::string& path, const std::string& text) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream(path) << text;
}

// Why overlay mounts cannot be tested here, or "" when they can.
std::string overlay_unavailable() {
  if (::geteuid() != 0) return "host: not root, overlay mounts need CAP_SYS_ADMIN";
  if (read_text("/proc/filesystems").find("\toverlay\n") == std::string::npos)
    return "host: no overlay filesystem in this kernel";
  return {};
}

// What a layer holds: files with contents; whiteouts; opaque directories.
struct LayerSpec {
  std::vector<std::pair<std::string, std::string>> files;
  std::vector<std::string> whiteouts, opaque_dirs;
};

class ImageStore : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/guise-store-XXXXXX";
    root_ = ::mkdtemp(tmpl);
    ::unsetenv("GUISE_OVERLAY_NO_LOWERDIR_PLUS");
  }
  void TearDown() override {
    for (int i = 0; i < 4; ++i)
      for (const auto& m : mounts_under(root_)) ::umount2(m.c_str(), MNT_DETACH);
    std::error_code ec;  // a failed test may leave a mode-000 directory a non-root user cannot empty
    for (auto it = fs::recursive_directory_iterator(root_, fs::directory_options::skip_permission_denied, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec))
      if (it->is_directory(ec) && !it->is_symlink(ec)) ::chmod(it->path().c_str(), 0700);
    ::chmod(root_.c_str(), 0700);
    fs::remove_all(root_, ec);
    ::unsetenv("GUISE_OVERLAY_NO_LOWERDIR_PLUS");
  }
  Store open() {
    auto s = Store::open(root_);
    EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.error().message());
    return std::move(s).take();
  }
  size_t entries(const std::string& sub) {
    size_t n = 0;
    for ([[maybe_unused]] auto& e : fs::directory_iterator(root_ + "/" + sub)) ++n;
    return n;
  }

  SnapshotInfo publish(Store& s, const Digest& chain, const LayerSpec& spec) {
    auto p = s.prepare_snapshot();
    EXPECT_TRUE(p.ok());
    std::string dir = p->fs_path();
    for (const auto& [name, text] : spec.files) write_text(dir + "/" + name, text);
    for (const auto& w : spec.whiteouts) {
      fs::create_directories(fs::path(dir + "/" + w).parent_path());
      EXPECT_EQ(::mknod((dir + "/" + w).c_str(), S_IFCHR | 0, makedev(0, 0)), 0) << w;
    }
    for (const auto& o : spec.opaque_dirs) {
      fs::create_directories(dir + "/" + o);
      EXPECT_EQ(::setxattr((dir + "/" + o).c_str(), "trusted.overlay.opaque", "y", 1, 0), 0) << o;
    }
    auto info = s.publish_snapshot(std::move(p).take(), chain, chain, 100);
    EXPECT_TRUE(info.ok()) << (info.ok() ? "" : info.error().message());
    return info.ok() ? *info : SnapshotInfo{};
  }

  // An image with real blobs: a config, one blob and one snapshot per layer, a manifest
  // naming them. Layer blob i holds `layer_texts[i]`; its chain id is the blob's digest.
  ImageRecord make_image(Store& s, const std::string& config_text, const std::vector<std::string>& layer_texts,
                         const std::vector<LayerSpec>& specs = {}) {
    ImageRecord r;
    r.id = *s.content().put(config_text);
    std::string layers = "[";
    for (size_t i = 0; i < layer_texts.size(); ++i) {
      Digest blob = *s.content().put(layer_texts[i]);
      layers += std::string(i ? "," : "") + "{\"digest\":\"" + blob.str() + "\"}";
      Digest chain = digest_of("chain of " + layer_texts[i]);
      if (!s.snapshot(chain)) publish(s, chain, i < specs.size() ? specs[i] : LayerSpec{{{layer_texts[i], "x"}}});
      r.chain_ids.push_back(chain);
    }
    std::string manifest = "{\"config\":{\"digest\":\"" + r.id.str() + "\"},\"layers\":" + layers + "]}";
    r.manifest = *s.content().put(manifest);
    r.manifest_media_type = "application/vnd.oci.image.manifest.v1+json";
    EXPECT_TRUE(s.put_image(r).ok());
    return r;
  }

  std::string root_;
};

// --- the mark, on hand-built graphs

ImageRecord graph_image(const std::string& name, std::vector<Digest> chains) {
  ImageRecord r;
  r.id = digest_of(name + " config");
  r.manifest = digest_of(name + " manifest");
  r.chain_ids = std::move(chains);
  return r;
}

bool has(const std::vector<Digest>& v, const Digest& d) { return std::find(v.begin(), v.end(), d) != v.end(); }

TEST(ImageStoreGcMark, SharedBaseLayersStayWhileEitherImageDoes) {
  Digest base = digest_of("base layer"), a_top = digest_of("a layer"), b_top = digest_of("b layer");
  Digest base_chain = digest_of("base chain"), a_chain = digest_of("a chain"), b_chain = digest_of("b chain");
  ImageRecord a = graph_image("a", {base_chain, a_chain}), b = graph_image("b", {base_chain, b_chain});
  GcGraph g;
  g.images = {a, b};
  g.manifest_refs = {{a.manifest, {a.id, base, a_top}}, {b.manifest, {b.id, base, b_top}}};
  GcMarks both = mark_reachable(g);
  for (const auto& d : {a.id, a.manifest, b.id, b.manifest, base, a_top, b_top}) EXPECT_TRUE(has(both.blobs, d));
  for (const auto& d : {base_chain, a_chain, b_chain}) EXPECT_TRUE(has(both.snapshots, d));

  g.images = {b};
  GcMarks only_b = mark_reachable(g);
  EXPECT_TRUE(has(only_b.blobs, base));
  EXPECT_TRUE(has(only_b.blobs, b_top));
  EXPECT_FALSE(has(only_b.blobs, a_top));
  EXPECT_FALSE(has(only_b.blobs, a.id));
  EXPECT_FALSE(has(only_b.blobs, a.manifest));
  EXPECT_TRUE(has(only_b.snapshots, base_chain));
  EXPECT_FALSE(has(only_b.snapshots, a_chain));
  EXPECT_EQ(only_b.blobs.size(), 4u);  // b's config, manifest, base and top: each once
}

TEST(ImageStoreGcMark, LeaseKeepsBlobsAndWhatALeasedManifestNames) {
  Digest manifest = digest_of("pulled manifest"), layer = digest_of("pulled layer"), lone = digest_of("lone");
  GcGraph g;
  g.lease_blobs = {manifest, lone};
  g.lease_snapshots = {digest_of("pulled chain")};
  g.manifest_refs = {{manifest, {layer}}};
  GcMarks m = mark_reachable(g);
  EXPECT_TRUE(has(m.blobs, lone));
  EXPECT_TRUE(has(m.blobs, layer));
  EXPECT_TRUE(has(m.snapshots, digest_of("pulled chain")));
  EXPECT_TRUE(mark_reachable(GcGraph{}).blobs.empty());
}

TEST(ImageStoreGcMark, RootfsKeepsItsImage) {
  ImageRecord a = graph_image("a", {digest_of("a chain")});
  GcGraph g;
  g.images = {a};
  g.rootfs_images = {a.id};
  GcMarks m = mark_reachable(g);
  EXPECT_TRUE(has(m.blobs, a.id));
  EXPECT_TRUE(has(m.snapshots, digest_of("a chain")));
  g.images.clear();  // the record is gone: the rootfs still keeps the config blob
  EXPECT_TRUE(has(mark_reachable(g).blobs, a.id));
}

// --- names

TEST_F(ImageStore, NamesSetMoveAndRemove) {
  auto s = open();
  ImageRecord a = make_image(s, "config a", {"layer a"});
  ImageRecord b = make_image(s, "config b", {"layer b"});
  ASSERT_TRUE(s.set_name("busybox", a.id).ok());
  ASSERT_TRUE(s.set_name("localhost:5000/x/y:1", a.id).ok());
  auto names = s.list_names();
  ASSERT_TRUE(names.ok());
  ASSERT_EQ(names->size(), 2u);
  EXPECT_EQ(*s.names_of(a.id),
            (std::vector<std::string>{"docker.io/library/busybox:latest", "localhost:5000/x/y:1"}));
  for (const auto& e : fs::directory_iterator(root_ + "/names"))  // one safe file name each
    EXPECT_EQ(e.path().filename().string().find_first_of("/:"), std::string::npos);

  ASSERT_TRUE(s.set_name("docker.io/library/busybox:latest", b.id).ok());  // moves
  EXPECT_EQ(*s.names_of(a.id), std::vector<std::string>{"localhost:5000/x/y:1"});
  EXPECT_EQ(*s.names_of(b.id), std::vector<std::string>{"docker.io/library/busybox:latest"});
  EXPECT_EQ(s.resolve("busybox")->id, b.id);

  EXPECT_TRUE(*s.remove_name("busybox:latest"));
  EXPECT_FALSE(*s.remove_name("busybox:latest"));
  EXPECT_TRUE(s.names_of(b.id)->empty());

  std::string long_name = "localhost:5000/" + std::string(100, 'a') + "/" + std::string(100, 'b') + ":1";
  ASSERT_TRUE(s.set_name(long_name, a.id).ok());  // escaped it would pass a file name's limit
  EXPECT_EQ(s.resolve(long_name)->id, a.id);
  EXPECT_TRUE(*s.remove_name(long_name));

  auto missing = s.set_name("ghost", digest_of("no such config"));
  ASSERT_FALSE(missing.ok());
  EXPECT_TRUE(missing.error().is(sys::ErrorKind::kNotFound));
  EXPECT_FALSE(s.set_name("busybox@" + a.id.str(), a.id).ok());
  EXPECT_FALSE(s.set_name("Not A Name", a.id).ok());
  EXPECT_EQ(entries("tmp"), 0u);
}

TEST_F(ImageStore, ResolveByNameIdPrefixAndDigest) {
  auto s = open();
  ImageRecord a = make_image(s, "config a", {"layer a"});
  a.repo_digests = {"docker.io/library/busybox@" + digest_of("index").str()};
  ASSERT_TRUE(s.put_image(a).ok());
  ASSERT_TRUE(s.set_name("busybox", a.id).ok());

  std::vector<std::string> found = {"busybox", "busybox:latest", "docker.io/library/busybox",
                                    "library/busybox:latest", a.id.str(), a.id.hex, a.id.hex.substr(0, 3),
                                    a.id.hex.substr(0, 12), "busybox@" + digest_of("index").str(),
                                    "busybox:1@" + digest_of("index").str()};
  for (const std::string& text : found) {
    auto r = s.resolve(text);
    ASSERT_TRUE(r.ok()) << text << ": " << r.error().message();
    EXPECT_EQ(r->id, a.id) << text;
  }
  std::vector<std::string> missing = {"busybox:2", "alpine", "ab", "busybox@" + digest_of("other").str(),
                                      "sha256:zz", std::string(64, 'f')};
  for (const std::string& text : missing) {
    auto r = s.resolve(text);
    ASSERT_FALSE(r.ok()) << text;
    EXPECT_TRUE(r.error().is(sys::ErrorKind::kNotFound)) << text;
    EXPECT_EQ(r.error().message(), "No such image: " + text);
  }
}

TEST_F(ImageStore, ResolveRefusesAnAmbiguousPrefix) {
  auto s = open();
  ImageRecord one, two;
  one.id = hex_digest('1', '0');
  two.id = hex_digest('2', '0');
  one.manifest = two.manifest = digest_of("m");
  ASSERT_TRUE(s.put_image(one).ok());
  ASSERT_TRUE(s.put_image(two).ok());
  auto r = s.resolve("abc");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("ambiguous"), std::string::npos) << r.error().message();
  EXPECT_EQ(s.resolve("abc1")->id, one.id);
  EXPECT_EQ(s.resolve("abc20")->id, two.id);
}

// --- records, snapshots, tmp

TEST_F(ImageStore, RecordsSurviveAReopen) {
  ImageRecord a;
  {
    auto s = open();
    a = make_image(s, "config a", {"layer 1", "layer 2"});
    a.repo_digests = {"docker.io/library/a@" + digest_of("x").str()};
    a.size = 1234;
    a.created = "2024-01-02T03:04:05Z";
    a.added = "2024-02-03T04:05:06Z";
    a.platform = "linux/amd64";
    ASSERT_TRUE(s.put_image(a).ok());
    ASSERT_TRUE(s.set_name("a:1", a.id).ok());
  }
  auto s = open();
  auto got = s.get_image(a.id);
  ASSERT_TRUE(got.ok() && *got);
  const ImageRecord& r = **got;
  EXPECT_EQ(r.id, a.id);
  EXPECT_EQ(r.manifest, a.manifest);
  EXPECT_EQ(r.manifest_media_type, a.manifest_media_type);
  EXPECT_EQ(r.repo_digests, a.repo_digests);
  EXPECT_EQ(r.chain_ids, a.chain_ids);
  EXPECT_EQ(r.size, 1234);
  EXPECT_EQ(r.created, a.created);
  EXPECT_EQ(r.added, a.added);
  EXPECT_EQ(r.platform, a.platform);
  EXPECT_EQ(s.list_images()->size(), 1u);
  EXPECT_EQ(s.resolve("a:1")->id, a.id);
  for (const auto& c : a.chain_ids) EXPECT_TRUE(s.snapshot(c).has_value());

  ASSERT_TRUE(s.remove_image(a.id).ok());
  EXPECT_FALSE(*s.get_image(a.id));
  EXPECT_TRUE(s.list_names()->empty());
  EXPECT_TRUE(s.remove_image(a.id).error().is(sys::ErrorKind::kNotFound));
}

TEST_F(ImageStore, TwoSnapshotsForOneChainPublishOnce) {
  auto s = open();
  Digest chain = digest_of("chain");
  auto first = s.prepare_snapshot(), second = s.prepare_snapshot();
  ASSERT_TRUE(first.ok() && second.ok());
  write_text(first->fs_path() + "/who", "first");
  write_text(second->fs_path() + "/who", "second");
  EXPECT_EQ(entries("tmp"), 2u);
  SnapshotInfo a, b;
  std::thread t1([&] { a = *s.publish_snapshot(std::move(first).take(), chain, chain, 5); });
  std::thread t2([&] { b = *s.publish_snapshot(std::move(second).take(), chain, chain, 5); });
  t1.join();
  t2.join();
  EXPECT_EQ(a.id, b.id);
  EXPECT_EQ(entries("tmp"), 0u);  // the loser's directory is gone
  EXPECT_EQ(entries("snapshots"), 2u);  // chains/ and one numbered snapshot
  auto info = s.snapshot(chain);
  ASSERT_TRUE(info);
  EXPECT_EQ(info->id, a.id);
  EXPECT_EQ(info->size, 5);
  std::string who = read_text(s.snapshot_fs(*info) + "/who");
  EXPECT_TRUE(who == "first" || who == "second");

  auto dropped = s.prepare_snapshot();
  ASSERT_TRUE(dropped.ok());
  { auto gone = std::move(dropped).take(); }
  EXPECT_EQ(entries("tmp"), 0u);  // an unpublished snapshot removes itself
}

TEST_F(ImageStore, OpenSweepsTheTmpOfAKilledProcess) {
  auto s = open();
  auto mine = s.prepare_snapshot();
  ASSERT_TRUE(mine.ok());
  pid_t child = ::fork();
  if (child == 0) {
    auto p = s.prepare_snapshot();
    if (p.ok()) {
      std::ofstream(p->fs_path() + "/half-unpacked") << "x";
      ::mkdir((p->fs_path() + "/d").c_str(), 0);
    }
    ::_exit(p.ok() ? 0 : 1);  // no destructor runs: as if killed
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_EQ(status, 0);
  EXPECT_EQ(entries("tmp"), 2u);
  auto again = open();
  EXPECT_EQ(entries("tmp"), 1u);  // the dead one's; this process's own is kept
  EXPECT_TRUE(fs::exists(mine->fs_path()));
}

// --- garbage

TEST_F(ImageStore, CollectGarbageFreesARemovedImageButKeepsWhatAnotherShares) {
  auto s = open();
  ImageRecord a = make_image(s, "config a", {"base", "top a"});
  ImageRecord b = make_image(s, "config b", {"base", "top b"});
  ASSERT_TRUE(s.set_name("b", b.id).ok());
  auto nothing = s.collect_garbage();
  ASSERT_TRUE(nothing.ok()) << nothing.error().message();
  EXPECT_TRUE(nothing->blobs_removed.empty());
  EXPECT_TRUE(nothing->snapshots_removed.empty());

  ASSERT_TRUE(s.remove_image(a.id).ok());
  auto report = s.collect_garbage();
  ASSERT_TRUE(report.ok()) << report.error().message();
  EXPECT_EQ(report->blobs_removed.size(), 3u);  // a's config, manifest and top layer
  EXPECT_TRUE(has(report->blobs_removed, a.id));
  EXPECT_TRUE(has(report->blobs_removed, a.manifest));
  EXPECT_EQ(report->snapshots_removed, std::vector<std::string>{a.chain_ids[1].hex});
  EXPECT_GT(report->bytes_freed, 0);
  EXPECT_FALSE(s.snapshot(a.chain_ids[1]));
  EXPECT_TRUE(s.snapshot(a.chain_ids[0]));  // shared base
  EXPECT_FALSE(s.content().has(a.id));
  EXPECT_TRUE(s.content().has(digest_of("base")));
  EXPECT_TRUE(s.content().has(b.manifest));
  EXPECT_EQ(entries("snapshots"), 1u + 2u);
  EXPECT_EQ(entries("tmp"), 0u);
  EXPECT_EQ(s.resolve("b")->id, b.id);
}

TEST_F(ImageStore, LeasesAndRootfsAreRootsForCollectGarbage) {
  auto s = open();
  Digest leased;
  {
    auto lease = s.take_lease();
    ASSERT_TRUE(lease.ok());
    leased = digest_of("pulled blob");
    lease->add(leased);
    ASSERT_TRUE(s.content().put("pulled blob").ok());
    Digest chain = digest_of("pulled chain");
    lease->add_snapshot(chain);
    publish(s, chain, {});
    ASSERT_TRUE(s.collect_garbage().ok());
    EXPECT_TRUE(s.content().has(leased));
    EXPECT_TRUE(s.snapshot(chain));
  }
  EXPECT_EQ(entries("leases"), 0u);
  ASSERT_TRUE(s.collect_garbage().ok());
  EXPECT_FALSE(s.content().has(leased));

  ImageRecord a = make_image(s, "config a", {"layer a"});
  auto rootfs = s.create_rootfs("c1", a);
  ASSERT_TRUE(rootfs.ok()) << rootfs.error().message();
  EXPECT_TRUE(s.create_rootfs("c1", a).error().is(sys::ErrorKind::kAlreadyExists));
  EXPECT_EQ(*s.rootfs_users(a.id), std::vector<std::string>{"c1"});
  ASSERT_TRUE(s.remove_image(a.id).ok());
  ASSERT_TRUE(s.collect_garbage().ok());
  EXPECT_TRUE(s.snapshot(a.chain_ids[0]));  // the rootfs keeps its layers
  EXPECT_TRUE(s.content().has(a.id));
  auto got = s.get_rootfs("c1");
  ASSERT_TRUE(got.ok() && *got);
  EXPECT_EQ((*got)->image, a.id);

  ASSERT_TRUE(s.remove_rootfs("c1").ok());
  EXPECT_FALSE(*s.get_rootfs("c1"));
  auto report = s.collect_garbage();
  ASSERT_TRUE(report.ok());
  EXPECT_FALSE(s.snapshot(a.chain_ids[0]));
  EXPECT_FALSE(s.content().has(a.id));
}

TEST_F(ImageStore, CollectGarbageRemovesIngestsNobodyHolds) {
  auto s = open();
  Digest want = digest_of("partial");
  {
    auto held = s.content().begin("held", want, 7);
    ASSERT_TRUE(held.ok() && *held);
    ASSERT_TRUE((*held)->write("par").ok());
    auto dropped = s.content().begin("dropped", digest_of("other"), 5);
    ASSERT_TRUE(dropped.ok() && *dropped);
    EXPECT_EQ(entries("ingest"), 2u);
    ASSERT_TRUE(s.collect_garbage().ok());
    EXPECT_EQ(entries("ingest"), 2u);  // both still held by this process
  }
  ASSERT_TRUE(s.collect_garbage().ok());
  EXPECT_EQ(entries("ingest"), 0u);  // nobody holds them: a pull that died
  // A begin after its ingest was collected makes it again.
  auto again = s.content().begin("held", want, 7);
  ASSERT_TRUE(again.ok() && *again);
  EXPECT_EQ((*again)->offset(), 0);
}

TEST_F(ImageStore, DiskUsageCountsSnapshotsBlobsAndUpperDirs) {
  auto s = open();
  ImageRecord a = make_image(s, "config a", {"layer a"});
  ImageRecord b = make_image(s, "config b", {"layer b"});
  ASSERT_TRUE(s.create_rootfs("c1", a).ok());
  write_text(root_ + "/rootfs/c1/upper/new", "12345");
  auto u = s.disk_usage();
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->images, 2);
  EXPECT_EQ(u->images_active, 1);
  EXPECT_EQ(u->containers, 1);
  EXPECT_EQ(u->images_size, 200);  // publish() records 100 each
  EXPECT_EQ(u->images_reclaimable, 100);
  EXPECT_GT(u->blobs_size, 0);
  EXPECT_EQ(u->rootfs_size, 5);
}

TEST_F(ImageStore, RefusesBadKeys) {
  auto s = open();
  ImageRecord a = make_image(s, "config a", {"layer a"});
  for (const std::string& key : std::vector<std::string>{"", "..", "../x", "a/b", ".hidden"})
    EXPECT_FALSE(s.create_rootfs(key, a).ok()) << key;
  EXPECT_EQ(entries("rootfs"), 0u);
  EXPECT_EQ(entries("tmp"), 0u);
}

// --- overlay

TEST_F(ImageStore, RootfsMergesLayersWithWhiteoutsAndOpaqueDirs) {
  if (auto why = overlay_unavailable(); !why.empty()) GTEST_SKIP() << why;
  auto s = open();
  std::vector<LayerSpec> specs = {
      {{{"a", "1"}, {"dir/x", "x"}, {"opq/old", "old"}, {"keep", "bottom"}}, {}, {}},
      {{{"b", "2"}, {"opq/new", "new"}, {"keep", "middle"}}, {"a"}, {"opq"}},
      {{{"c", "3"}}, {}, {}},
  };
  ImageRecord img = make_image(s, "config", {"l1", "l2", "l3"}, specs);
  auto rootfs = s.create_rootfs("merged-view", img);
  ASSERT_TRUE(rootfs.ok()) << rootfs.error().message();
  auto m = s.mount_rootfs(*rootfs);
  if (!m.ok() && (m.error().errnum == ENODEV || m.error().errnum == EPERM))
    GTEST_SKIP() << "host: overlay mount refused: " << m.error().message();
  ASSERT_TRUE(m.ok()) << m.error().message();
  const std::string& merged = rootfs->merged;
  EXPECT_FALSE(fs::exists(merged + "/a"));  // whited out in layer 2
  EXPECT_EQ(read_text(merged + "/b"), "2");
  EXPECT_EQ(read_text(merged + "/c"), "3");
  EXPECT_EQ(read_text(merged + "/dir/x"), "x");
  EXPECT_EQ(read_text(merged + "/keep"), "middle");
  EXPECT_FALSE(fs::exists(merged + "/opq/old"));  // opaque in layer 2
  EXPECT_EQ(read_text(merged + "/opq/new"), "new");
  write_text(merged + "/written", "w");
  EXPECT_EQ(read_text(rootfs->upper + "/written"), "w");

  ASSERT_TRUE(s.remove_rootfs("merged-view").ok());
  EXPECT_TRUE(mounts_under(root_).empty());
  EXPECT_FALSE(fs::exists(root_ + "/rootfs/merged-view"));
  EXPECT_EQ(entries("tmp"), 0u);
}

class ImageStoreManyLayers : public ImageStore, public ::testing::WithParamInterface<bool> {};

TEST_P(ImageStoreManyLayers, Mount128Layers) {
  if (auto why = overlay_unavailable(); !why.empty()) GTEST_SKIP() << why;
  bool forced_fallback = GetParam();
  if (forced_fallback)
    ::setenv("GUISE_OVERLAY_NO_LOWERDIR_PLUS", "1", 1);
  else if (!kernel_has_lowerdir_plus())
    GTEST_SKIP() << "host: kernel without overlay lowerdir+";
  auto s = open();
  std::vector<std::string> layers;
  std::vector<LayerSpec> specs;
  for (int i = 0; i < 128; ++i) {
    layers.push_back("layer " + std::to_string(i));
    specs.push_back({{{"f" + std::to_string(i), std::to_string(i)}, {"top", std::to_string(i)}}, {}, {}});
  }
  ImageRecord img = make_image(s, "config", layers, specs);
  // 128 absolute lowers under this root (~40 bytes each) would not fit one page of options.
  auto rootfs = s.create_rootfs("many", img);
  ASSERT_TRUE(rootfs.ok()) << rootfs.error().message();
  auto m = s.mount_rootfs(*rootfs);
  if (!m.ok() && (m.error().errnum == ENODEV || m.error().errnum == EPERM))
    GTEST_SKIP() << "host: overlay mount refused: " << m.error().message();
  ASSERT_TRUE(m.ok()) << m.error().message();
  EXPECT_EQ(read_text(rootfs->merged + "/f0"), "0");
  EXPECT_EQ(read_text(rootfs->merged + "/f127"), "127");
  EXPECT_EQ(read_text(rootfs->merged + "/top"), "127");  // the last layer is on top
  char cwd[4096];
  ASSERT_TRUE(::getcwd(cwd, sizeof cwd));
  EXPECT_NE(std::string(cwd), root_ + "/snapshots");  // the process never moved

  ASSERT_TRUE(s.remove_rootfs("many").ok());
  EXPECT_TRUE(mounts_under(root_).empty());
  EXPECT_FALSE(fs::exists(root_ + "/rootfs/many"));
}

INSTANTIATE_TEST_SUITE_P(ImageStoreOverlay, ImageStoreManyLayers, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "ForcedFallback" : "LowerdirPlus"; });

TEST_F(ImageStore, RemoveRootfsDetachesABusyMount) {
  if (auto why = overlay_unavailable(); !why.empty()) GTEST_SKIP() << why;
  auto s = open();
  ImageRecord img = make_image(s, "config", {"only"});
  auto rootfs = s.create_rootfs("busy", img);
  ASSERT_TRUE(rootfs.ok());
  auto m = s.mount_rootfs(*rootfs);
  if (!m.ok() && (m.error().errnum == ENODEV || m.error().errnum == EPERM))
    GTEST_SKIP() << "host: overlay mount refused: " << m.error().message();
  ASSERT_TRUE(m.ok()) << m.error().message();
  int busy = ::open((rootfs->merged + "/only").c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(busy, 0);
  ASSERT_TRUE(s.remove_rootfs("busy").ok());
  ::close(busy);
  EXPECT_TRUE(mounts_under(root_).empty());
  EXPECT_FALSE(fs::exists(root_ + "/rootfs/busy"));
  EXPECT_TRUE(s.remove_rootfs("busy").error().is(sys::ErrorKind::kNotFound));
}

}  // namespace
}  // namespace guise::image
