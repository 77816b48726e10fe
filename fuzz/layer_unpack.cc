// An image layer as a registry serves it (tar, gzip'd tar or zstd'd tar), unpacked as a
// pull unpacks it, into an empty directory; nothing may land outside that directory.
//
// As root (where escaping would matter most) the target runs in a private mount
// namespace, chrooted into a tmpfs (mounted over /tmp there) that holds the layer
// directory and read-only binds of /usr and /proc (for the sanitizers' symbolizer): a
// name, symlink or hard link that escaped the layer would land in the tmpfs's root,
// where it is seen, or fail on a read-only bind or across filesystems (EROFS, EXDEV:
// also reported), and could not reach the host. Its current directory stays outside, so
// libFuzzer's relative paths (corpus, artifacts: run it as scripts/fuzz.sh does) still
// work. Not as root, the layer directory sits in a temporary directory, which is checked
// the same way.
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <set>
#include <string>

#include "fuzz_check.h"
#include "image/unpack.h"

namespace {

using guise::fuzz::check;
using guise::fuzz::fail;

std::string g_root;                 // where the layer directory is made ("/" once chrooted)
std::set<std::string> g_expected;   // what g_root holds besides the layer directory

void die(const char* what) {
  std::fprintf(stderr, "layer_unpack: %s: %s\n", what, std::strerror(errno));
  std::exit(1);
}

std::set<std::string> entries(const std::string& dir) {
  std::set<std::string> out;
  DIR* d = ::opendir(dir.c_str());
  if (!d) die("opendir");
  while (auto* e = ::readdir(d))
    if (std::strcmp(e->d_name, ".") && std::strcmp(e->d_name, "..")) out.insert(e->d_name);
  ::closedir(d);
  return out;
}

void bind_read_only(const std::string& from, const std::string& to) {
  if (::mkdir(to.c_str(), 0755) != 0) die("mkdir");
  if (::mount(from.c_str(), to.c_str(), nullptr, MS_BIND | MS_REC, nullptr) != 0) die("bind");
  if (::mount(nullptr, to.c_str(), nullptr, MS_BIND | MS_REMOUNT | MS_RDONLY, nullptr) != 0) die("remount");
}

void sandbox() {
  if (::geteuid() != 0 || ::unshare(CLONE_NEWNS) != 0) {
    const char* tmp = std::getenv("TMPDIR");
    std::string base = std::string(tmp && *tmp ? tmp : "/tmp") + "/guise-fuzz-unpack-XXXXXX";
    if (!::mkdtemp(base.data())) die("mkdtemp");
    g_root = base;
    return;
  }
  // The tmpfs covers /tmp in this namespace only: the host's /tmp is neither seen nor
  // touched, and nothing is left behind.
  std::string base = "/tmp";
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) die("make / private");
  if (::mount("tmpfs", base.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=512m") != 0) die("tmpfs");
  bind_read_only("/usr", base + "/usr");
  bind_read_only("/proc", base + "/proc");
  for (const char* link : {"bin", "lib", "lib64", "sbin"}) {
    char target[256];
    ssize_t n = ::readlink((std::string("/") + link).c_str(), target, sizeof target - 1);
    if (n <= 0) continue;  // not a merged /usr: only /usr's tools are there
    target[n] = '\0';
    if (::symlink(target, (base + "/" + link).c_str()) != 0) die("symlink");
  }
  if (::mkdir((base + "/tmp").c_str(), 0) != 0 || ::chmod((base + "/tmp").c_str(), 01777) != 0) die("mkdir tmp");
  if (::chroot(base.c_str()) != 0) die("chroot");
  g_root = "/";
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  sandbox();
  g_expected = entries(g_root);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string layer = g_root + "/layer";
  if (::mkdir(layer.c_str(), 0755) != 0) die("mkdir layer");
  int dirfd = ::open(layer.c_str(), O_DIRECTORY | O_RDONLY | O_CLOEXEC);
  int fd = ::memfd_create("layer", MFD_CLOEXEC);
  if (dirfd < 0 || fd < 0) die("open");
  if (size && ::write(fd, data, size) != static_cast<ssize_t>(size)) die("write");
  ::lseek(fd, 0, SEEK_SET);

  guise::image::UnpackOptions opts;
  opts.max_entries = 10'000;
  opts.max_bytes = 64 << 20;
  auto stats = guise::image::unpack_layer(fd, dirfd, opts);
  ::close(fd);
  ::close(dirfd);
  if (!stats) {
    std::string message = stats.error().message();
    guise::fuzz::check_error_line(message);
    // The layer's tmpfs is writable; only what lies outside it is read-only (the
    // binds) or another filesystem.
    check(message.find(std::strerror(EROFS)) == std::string::npos, "a layer wrote outside its directory",
          message);
    check(message.find(std::strerror(EXDEV)) == std::string::npos, "a layer linked outside its directory",
          message);
  }

  std::set<std::string> now = entries(g_root);
  now.erase("layer");
  if (now != g_expected) {
    std::string extra;
    for (const auto& e : now)
      if (!g_expected.count(e)) extra += e + " ";
    fail("a layer created something outside its directory", extra);
  }
  std::error_code ec;
  std::filesystem::remove_all(layer, ec);
  if (ec) {
    // Not as root, a directory the layer made without write or search permission.
    ::nftw(layer.c_str(), [](const char* path, const struct stat* st, int, FTW*) {
      if (S_ISDIR(st->st_mode)) ::chmod(path, 0700);
      return 0;
    }, 64, FTW_PHYS);
    std::filesystem::remove_all(layer, ec);
    if (ec) die(("removing " + layer + ": " + ec.message()).c_str());
  }
  return 0;
}
