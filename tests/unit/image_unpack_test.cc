// The layer unpacker: what a layer holds arrives whole, in overlay's format, and a hostile
// layer changes nothing outside its directory. Archives are written here with libarchive;
// the parts that need root (owners, devices, trusted.* xattrs) skip without it.
#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "image/unpack.h"
#include "image/unpack_paths.h"
#include "sys/fd.h"
#include "sys/sha256.h"
#include "sys/syscalls.h"

namespace guise::image {
namespace {

namespace fs = std::filesystem;

enum class Filter { kNone, kGzip, kZstd };

struct Entry {
  std::string name;
  mode_t type = AE_IFREG;
  mode_t mode = 0644;
  std::string data;
  std::string symlink, hardlink;
  int64_t uid = 0, gid = 0;
  time_t mtime = 1'600'000'000;
  unsigned major = 0, minor = 0;
  std::vector<std::pair<std::string, std::string>> xattrs;
};

Entry file(std::string name, std::string data, mode_t mode = 0644) {
  return {.name = std::move(name), .mode = mode, .data = std::move(data)};
}
Entry dir(std::string name, mode_t mode = 0755) { return {.name = std::move(name), .type = AE_IFDIR, .mode = mode}; }
Entry symlink(std::string name, std::string target) {
  return {.name = std::move(name), .type = AE_IFLNK, .mode = 0777, .symlink = std::move(target)};
}
Entry hardlink(std::string name, std::string target) {
  return {.name = std::move(name), .hardlink = std::move(target)};
}

// The entries as a tar stream in a memfd, read from its start.
sys::Fd archive_of(const std::vector<Entry>& entries, Filter filter = Filter::kNone) {
  sys::Fd fd(::memfd_create("layer", MFD_CLOEXEC));
  archive* w = archive_write_new();
  archive_write_set_format_pax_restricted(w);
  if (filter == Filter::kGzip) archive_write_add_filter_gzip(w);
  if (filter == Filter::kZstd) archive_write_add_filter_zstd(w);
  EXPECT_EQ(archive_write_open_fd(w, fd.get()), ARCHIVE_OK) << archive_error_string(w);
  for (const auto& x : entries) {
    archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, x.name.c_str());
    archive_entry_set_filetype(e, x.type);
    archive_entry_set_perm(e, x.mode);
    archive_entry_set_uid(e, x.uid);
    archive_entry_set_gid(e, x.gid);
    archive_entry_set_mtime(e, x.mtime, 0);
    archive_entry_set_size(e, static_cast<la_int64_t>(x.data.size()));
    if (!x.symlink.empty()) archive_entry_set_symlink(e, x.symlink.c_str());
    if (!x.hardlink.empty()) archive_entry_set_hardlink(e, x.hardlink.c_str());
    if (x.type == AE_IFCHR || x.type == AE_IFBLK) {
      archive_entry_set_rdevmajor(e, x.major);
      archive_entry_set_rdevminor(e, x.minor);
    }
    for (const auto& [k, v] : x.xattrs) archive_entry_xattr_add_entry(e, k.c_str(), v.data(), v.size());
    EXPECT_EQ(archive_write_header(w, e), ARCHIVE_OK) << x.name << ": " << archive_error_string(w);
    if (!x.data.empty()) archive_write_data(w, x.data.data(), x.data.size());
    archive_entry_free(e);
  }
  EXPECT_EQ(archive_write_close(w), ARCHIVE_OK);
  archive_write_free(w);
  ::lseek(fd.get(), 0, SEEK_SET);
  return fd;
}

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

struct stat lstat_of(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::lstat(path.c_str(), &st), 0) << path;
  return st;
}

bool exists(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0;
}

std::string xattr(const std::string& path, const char* name) {
  char buf[256];
  ssize_t n = ::lgetxattr(path.c_str(), name, buf, sizeof buf);
  return n < 0 ? "<none>" : std::string(buf, static_cast<size_t>(n));
}

// parent/ holds the layer directory and a sentinel that no layer may touch.
class ImageUnpack : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/guise-unpack-XXXXXX";
    parent_ = ::mkdtemp(tmpl);
    layer_ = parent_ + "/layer";
    ASSERT_EQ(::mkdir(layer_.c_str(), 0755), 0);
    std::ofstream(parent_ + "/sentinel") << "keep";
    ::chmod((parent_ + "/sentinel").c_str(), 0644);
    layer_fd_.reset(::open(layer_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  }
  void TearDown() override {
    expect_contained();
    fs::remove_all(parent_);
  }
  Result<UnpackStats> unpack(const std::vector<Entry>& entries, Filter f = Filter::kNone,
                             const UnpackOptions& o = {}) {
    sys::Fd a = archive_of(entries, f);
    return unpack_layer(a.get(), layer_fd_.get(), o);
  }
  UnpackStats unpack_ok(const std::vector<Entry>& entries, Filter f = Filter::kNone) {
    auto r = unpack(entries, f);
    EXPECT_TRUE(r.ok()) << r.error().message();
    return r.ok() ? *r : UnpackStats{};
  }
  std::string unpack_error(const std::vector<Entry>& entries, const UnpackOptions& o = {}) {
    auto r = unpack(entries, Filter::kNone, o);
    EXPECT_FALSE(r.ok());
    return r.ok() ? "" : r.error().message();
  }
  // Nothing beside the layer appeared, and the sentinel is as it was.
  void expect_contained() {
    std::set<std::string> names;
    for (const auto& e : fs::directory_iterator(parent_)) names.insert(e.path().filename());
    EXPECT_EQ(names, (std::set<std::string>{"layer", "sentinel"}));
    EXPECT_EQ(slurp(parent_ + "/sentinel"), "keep");
    struct stat st = lstat_of(parent_ + "/sentinel");
    EXPECT_TRUE(S_ISREG(st.st_mode));
    EXPECT_EQ(st.st_nlink, 1u);
    EXPECT_EQ(st.st_mode & 07777, 0644u);
    EXPECT_FALSE(exists("/guise-escape"));
    EXPECT_FALSE(exists("/etc/guise-pwned"));
  }
  std::string at(const std::string& rel) const { return layer_ + "/" + rel; }

  std::string parent_, layer_;
  sys::Fd layer_fd_;
};

TEST(ImageUnpackPaths, NamesAreCleanedAsIfTheLayerWereRoot) {
  using V = std::vector<std::string>;
  EXPECT_EQ(unpack_paths::clean("etc/passwd"), (V{"etc", "passwd"}));
  EXPECT_EQ(unpack_paths::clean("./a//b/./c/"), (V{"a", "b", "c"}));
  EXPECT_EQ(unpack_paths::clean("../escape"), (V{"escape"}));
  EXPECT_EQ(unpack_paths::clean("/abs/path"), (V{"abs", "path"}));
  EXPECT_EQ(unpack_paths::clean("a/../../escape"), (V{"escape"}));
  EXPECT_EQ(unpack_paths::clean("a/b/../c"), (V{"a", "c"}));
  EXPECT_EQ(unpack_paths::clean("./"), V{});
  EXPECT_EQ(unpack_paths::clean(".."), V{});
  EXPECT_EQ(unpack_paths::clean(".wh..wh..opq"), (V{".wh..wh..opq"}));
  EXPECT_EQ(unpack_paths::printable("a\nb"), "a\\x0ab");
}

TEST_F(ImageUnpack, KeepsFilesDirectoriesLinksModesAndTimes) {
  auto stats = unpack_ok({
      dir("etc", 0750),
      file("etc/passwd", "root:x:0:0::/root:/bin/sh\n"),
      symlink("etc/localtime", "../usr/share/zoneinfo/UTC"),
      symlink("etc/abs", "/nowhere/at/all"),
      file("bin/tool", "#!/bin/sh\n", 0755),
      file("bin/sticky", "", 01644),
      hardlink("bin/tool2", "bin/tool"),
      {.name = "run/fifo", .type = AE_IFIFO, .mode = 0620},
      dir("tmp", 01777),
  });
  EXPECT_EQ(slurp(at("etc/passwd")), "root:x:0:0::/root:/bin/sh\n");
  EXPECT_EQ(fs::read_symlink(at("etc/localtime")), "../usr/share/zoneinfo/UTC");
  EXPECT_EQ(fs::read_symlink(at("etc/abs")), "/nowhere/at/all");
  EXPECT_EQ(lstat_of(at("etc")).st_mode & 07777, 0750u);
  EXPECT_EQ(lstat_of(at("bin/tool")).st_mode & 07777, 0755u);
  EXPECT_EQ(lstat_of(at("bin/sticky")).st_mode & 07777, 01644u);
  EXPECT_EQ(lstat_of(at("tmp")).st_mode & 07777, 01777u);
  EXPECT_EQ(lstat_of(at("bin/tool")).st_ino, lstat_of(at("bin/tool2")).st_ino);
  EXPECT_EQ(lstat_of(at("bin/tool")).st_nlink, 2u);
  EXPECT_TRUE(S_ISFIFO(lstat_of(at("run/fifo")).st_mode));
  EXPECT_EQ(lstat_of(at("run/fifo")).st_mode & 07777, 0620u);
  EXPECT_EQ(lstat_of(at("run")).st_mode & 07777, 0755u);  // made for its child
  // Times, a directory's included although entries were made in it after its own.
  EXPECT_EQ(lstat_of(at("etc")).st_mtime, 1'600'000'000);
  EXPECT_EQ(lstat_of(at("etc/passwd")).st_mtime, 1'600'000'000);
  EXPECT_EQ(lstat_of(at("etc/localtime")).st_mtime, 1'600'000'000);
  EXPECT_EQ(stats.entries, 9u);
  EXPECT_EQ(stats.bytes, 36u);
}

TEST_F(ImageUnpack, PlainGzipAndZstdStreams) {
  std::string big(300000, 'z');
  for (int i = 0; i < 3; ++i) {
    Filter f = i == 0 ? Filter::kNone : i == 1 ? Filter::kGzip : Filter::kZstd;
    std::string name = "f" + std::to_string(i);
    auto stats = unpack_ok({dir(name), file(name + "/data", big)}, f);
    EXPECT_EQ(slurp(at(name + "/data")), big) << i;
    EXPECT_EQ(stats.bytes, big.size());
    // The diff id is the uncompressed tar's digest, whatever the compression.
    sys::Fd plain = archive_of({dir(name), file(name + "/data", big)});
    std::string tar = slurp(sys::fd_path(plain.get()));
    EXPECT_EQ(stats.diff_id, "sha256:" + sys::sha256_hex(tar)) << i;
    EXPECT_EQ(stats.tar_bytes, tar.size()) << i;
  }
}

TEST_F(ImageUnpack, KeepsOwnersSetuidAndDevices) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root: chown and mknod of devices";
  Entry su = file("bin/su", "elf", 04755);
  su.uid = 0;
  Entry sg = file("bin/wall", "elf", 02755);
  sg.uid = 1000;
  sg.gid = 5;
  Entry owned = dir("home/user", 0700);
  owned.uid = owned.gid = 1000;
  Entry link = symlink("home/user/link", "target");
  link.uid = 1000;
  link.gid = 1001;
  Entry null{.name = "dev/null", .type = AE_IFCHR, .mode = 0666, .major = 1, .minor = 3};
  Entry loop{.name = "dev/loop0", .type = AE_IFBLK, .mode = 0660, .gid = 6, .major = 7, .minor = 0};
  auto stats = unpack_ok({su, sg, owned, link, null, loop});
  EXPECT_EQ(lstat_of(at("bin/su")).st_mode & 07777, 04755u);
  struct stat w = lstat_of(at("bin/wall"));
  EXPECT_EQ(w.st_mode & 07777, 02755u);  // set after the chown that clears it
  EXPECT_EQ(w.st_uid, 1000u);
  EXPECT_EQ(w.st_gid, 5u);
  EXPECT_EQ(lstat_of(at("home/user")).st_uid, 1000u);
  EXPECT_EQ(lstat_of(at("home/user/link")).st_uid, 1000u);
  EXPECT_EQ(lstat_of(at("home/user/link")).st_gid, 1001u);
  struct stat n = lstat_of(at("dev/null"));
  EXPECT_TRUE(S_ISCHR(n.st_mode));
  EXPECT_EQ(n.st_rdev, makedev(1, 3));
  EXPECT_EQ(n.st_mode & 07777, 0666u);
  struct stat l = lstat_of(at("dev/loop0"));
  EXPECT_TRUE(S_ISBLK(l.st_mode));
  EXPECT_EQ(l.st_rdev, makedev(7, 0));
  EXPECT_EQ(l.st_gid, 6u);
  EXPECT_EQ(stats.skipped_devices, 0u);

  // Shifted for a rootless user namespace.
  Entry shifted = file("shifted", "x");
  shifted.uid = 0;
  shifted.gid = 100;
  auto r = unpack({shifted}, Filter::kNone, UnpackOptions{.uid_offset = 100000, .gid_offset = 200000});
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ(lstat_of(at("shifted")).st_uid, 100000u);
  EXPECT_EQ(lstat_of(at("shifted")).st_gid, 200100u);
}

TEST_F(ImageUnpack, KeepsXattrsButNotOverlaysOrSelinuxLabels) {
  Entry f = file("f", "data");
  f.xattrs = {{"user.note", "hello"}, {"security.selinux", "system_u:object_r:bin_t:s0"},
              {"trusted.overlay.redirect", "/elsewhere"}, {"user.overlay.opaque", "y"}};
  Entry d = dir("d");
  d.xattrs = {{"user.dir", "yes"}};
  bool root = ::geteuid() == 0;
  if (root) {
    f.xattrs.emplace_back("trusted.kept", "t");
    // VFS_CAP_REVISION_2 with CAP_NET_RAW (13) permitted and effective.
    std::string cap("\x01\x00\x00\x02\x00\x20\x00\x00", 8);
    f.xattrs.emplace_back("security.capability", cap + std::string(12, '\0'));
  }
  auto stats = unpack_ok({f, d});
  EXPECT_EQ(xattr(at("f"), "user.note"), "hello");
  EXPECT_EQ(xattr(at("d"), "user.dir"), "yes");
  EXPECT_EQ(xattr(at("f"), "trusted.overlay.redirect"), "<none>");
  EXPECT_EQ(xattr(at("f"), "user.overlay.opaque"), "<none>");
  EXPECT_NE(xattr(at("f"), "security.selinux"), "system_u:object_r:bin_t:s0");
  EXPECT_EQ(stats.skipped_xattrs, 3u);
  if (!root) GTEST_SKIP() << "needs root: trusted.* and security.capability";
  EXPECT_EQ(xattr(at("f"), "trusted.kept"), "t");
  EXPECT_EQ(xattr(at("f"), "security.capability").size(), 20u);
}

TEST_F(ImageUnpack, WhiteoutsBecomeCharacterDevicesAndOpaqueDirsAnXattr) {
  bool root = ::geteuid() == 0;
  std::vector<Entry> entries = {dir("etc"), file("etc/.wh.motd", ""), file(".wh.gone", "")};
  if (root) entries.push_back(file("var/lib/.wh..wh..opq", ""));
  auto stats = unpack_ok(entries);
  for (const char* w : {"etc/motd", "gone"}) {
    struct stat st = lstat_of(at(w));
    EXPECT_TRUE(S_ISCHR(st.st_mode)) << w;
    EXPECT_EQ(st.st_rdev, makedev(0, 0)) << w;
  }
  EXPECT_FALSE(exists(at("etc/.wh.motd")));
  EXPECT_EQ(stats.whiteouts, 2u);
  if (!root) GTEST_SKIP() << "needs root: trusted.overlay.opaque";
  EXPECT_EQ(xattr(at("var/lib"), "trusted.overlay.opaque"), "y");
  EXPECT_FALSE(exists(at("var/lib/.wh..wh..opq")));
  EXPECT_EQ(stats.opaque_dirs, 1u);
}

TEST_F(ImageUnpack, AnExistingDirectoryIsKeptAndAnythingElseReplaced) {
  unpack_ok({dir("d", 0700), file("d/kept", "k"), file("f", "old"), dir("d", 0711), file("f", "new")});
  EXPECT_EQ(slurp(at("d/kept")), "k");
  EXPECT_EQ(lstat_of(at("d")).st_mode & 07777, 0711u);
  EXPECT_EQ(slurp(at("f")), "new");
}

TEST_F(ImageUnpack, TheLayerItselfGetsOnlyMetadata) {
  auto stats = unpack_ok({dir("./", 0711), file(".", "not a file"), file("a/..", "nor this")});
  EXPECT_EQ(lstat_of(layer_).st_mode & 07777, 0711u);
  EXPECT_TRUE(fs::is_empty(layer_));
  EXPECT_EQ(stats.skipped_entries, 2u);
}

// Hostile layers: each lands inside the layer or is refused; TearDown checks the outside.

TEST_F(ImageUnpack, DotDotStopsAtTheLayer) {
  unpack_ok({file("../guise-escape", "1"), file("a/../../guise-escape2", "2"),
             file("../../../../../guise-escape", "3")});
  EXPECT_EQ(slurp(at("guise-escape2")), "2");
  EXPECT_EQ(slurp(at("guise-escape")), "3");
  EXPECT_FALSE(exists(parent_ + "/guise-escape"));
}

TEST_F(ImageUnpack, AbsoluteNamesLandInside) {
  unpack_ok({file("/abs/path", "in")});
  EXPECT_EQ(slurp(at("abs/path")), "in");
  EXPECT_FALSE(exists("/abs/path"));
}

TEST_F(ImageUnpack, SymlinkToRootIsFollowedInsideTheLayer) {
  unpack_ok({symlink("evil", "/"), file("evil/etc/guise-pwned", "x")});
  EXPECT_EQ(slurp(at("etc/guise-pwned")), "x");
  EXPECT_EQ(fs::read_symlink(at("evil")), "/");
}

TEST_F(ImageUnpack, SymlinkToParentIsFollowedInsideTheLayer) {
  unpack_ok({symlink("evil", ".."), file("evil/guise-escape", "x"), symlink("deep", "../../.."),
             file("deep/sentinel", "inside")});
  EXPECT_EQ(slurp(at("guise-escape")), "x");
  EXPECT_EQ(slurp(at("sentinel")), "inside");
}

TEST_F(ImageUnpack, HardLinkThroughASymlinkResolvesInside) {
  std::string msg = unpack_error({symlink("up", ".."), hardlink("stolen", "up/sentinel")});
  EXPECT_NE(msg.find("layer entry stolen: "), std::string::npos) << msg;
  EXPECT_FALSE(exists(at("stolen")));
  msg = unpack_error({symlink("abs", parent_), hardlink("stolen", "abs/sentinel")});
  EXPECT_NE(msg.find("layer entry stolen: "), std::string::npos) << msg;
  // A link made through a symlinked parent lands inside, and a symlink is linked, not followed.
  fs::remove_all(layer_);
  ASSERT_EQ(::mkdir(layer_.c_str(), 0755), 0);
  layer_fd_.reset(::open(layer_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  unpack_ok({file("f", "f"), symlink("up", ".."), hardlink("up/g", "f"), symlink("out", parent_ + "/sentinel"),
             hardlink("out2", "out")});
  EXPECT_EQ(lstat_of(at("g")).st_ino, lstat_of(at("f")).st_ino);
  EXPECT_TRUE(S_ISLNK(lstat_of(at("out2")).st_mode));
}

TEST_F(ImageUnpack, HardLinkOutsideTheLayerIsRefused) {
  std::string msg = unpack_error({hardlink("x", "../../sentinel")});
  EXPECT_NE(msg.find("layer entry x: link to ../../sentinel"), std::string::npos) << msg;
  EXPECT_FALSE(exists(at("x")));
  msg = unpack_error({hardlink("y", "../")});
  EXPECT_NE(msg.find("hard link to the layer itself"), std::string::npos) << msg;
}

TEST_F(ImageUnpack, WhiteoutsNameOnlyTheirOwnDirectory) {
  unpack_ok({file("sub/../../.wh.sentinel", "")});
  EXPECT_TRUE(S_ISCHR(lstat_of(at("sentinel")).st_mode));
  for (const char* bad : {".wh...", "d/.wh..", ".wh."}) {
    std::string msg = unpack_error({file(bad, "")});
    EXPECT_NE(msg.find("whiteout names nothing in its directory"), std::string::npos) << bad << ": " << msg;
  }
  EXPECT_TRUE(S_ISDIR(lstat_of(layer_).st_mode));
}

TEST_F(ImageUnpack, AFileReplacesASymlinkWithoutWritingThroughIt) {
  unpack_ok({symlink("abs", parent_ + "/sentinel"), symlink("rel", "../sentinel"), symlink("dir", parent_),
             file("abs", "new"), file("rel", "new"), dir("dir"), file("dir/sentinel", "new")});
  for (const char* f : {"abs", "rel", "dir/sentinel"}) {
    EXPECT_TRUE(S_ISREG(lstat_of(at(f)).st_mode)) << f;
    EXPECT_EQ(slurp(at(f)), "new") << f;
  }
  EXPECT_TRUE(S_ISDIR(lstat_of(at("dir")).st_mode));
}

TEST_F(ImageUnpack, ATruncatedStreamNamesTheEntry) {
  std::string noise;
  uint32_t x = 12345;
  for (int i = 0; i < 400000; ++i) noise += static_cast<char>((x = x * 1103515245 + 12345) >> 24);
  sys::Fd a = archive_of({file("small", "s"), file("big", noise)}, Filter::kGzip);
  struct stat st {};
  ASSERT_EQ(::fstat(a.get(), &st), 0);
  ASSERT_EQ(::ftruncate(a.get(), st.st_size / 2), 0);
  auto r = unpack_layer(a.get(), layer_fd_.get(), {});
  ASSERT_FALSE(r.ok());
  std::string msg = r.error().message();
  EXPECT_NE(msg.find("layer entry big: read: "), std::string::npos) << msg;
  EXPECT_NE(msg.find("of the tar stream"), std::string::npos) << msg;

  sys::Fd junk(::memfd_create("junk", MFD_CLOEXEC));
  ASSERT_EQ(::write(junk.get(), "not a tar stream at all", 23), 23);
  ::lseek(junk.get(), 0, SEEK_SET);
  r = unpack_layer(junk.get(), layer_fd_.get(), {});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("layer: "), std::string::npos) << r.error().message();
}

TEST_F(ImageUnpack, LimitsOnEntriesAndBytes) {
  std::string msg = unpack_error({file("a", "1"), file("b", "2"), file("c", "3"), file("d", "4")},
                                 UnpackOptions{.max_entries = 3});
  EXPECT_NE(msg.find("more than the limit of 3 entries (max_entries)"), std::string::npos) << msg;
  EXPECT_FALSE(exists(at("d")));
  msg = unpack_error({file("a", std::string(60, 'a')), file("b", std::string(60, 'b'))},
                     UnpackOptions{.max_bytes = 100});
  EXPECT_NE(msg.find("layer entry b: the layer's files exceed the limit of 100 bytes (max_bytes)"),
            std::string::npos)
      << msg;
}

TEST_F(ImageUnpack, DevicesWithoutPrivilegeAreCountedAndSkipped) {
  if (::geteuid() == 0) GTEST_SKIP() << "needs an unprivileged caller: root may mknod";
  auto stats = unpack_ok({{.name = "dev/null", .type = AE_IFCHR, .mode = 0666, .major = 1, .minor = 3}});
  EXPECT_EQ(stats.skipped_devices, 1u);
  EXPECT_FALSE(exists(at("dev/null")));
}

}  // namespace
}  // namespace guise::image
