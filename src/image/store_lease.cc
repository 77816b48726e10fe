// Leases: leases/ID, first line "PID STARTTIME EXPIRY" (EXPIRY in seconds since the
// epoch), then one "blob DIGEST" or "snapshot CHAINID" line per root, appended. A lease
// counts while its process runs (the same pid with the same start time, so a recycled
// pid does not revive it) and before its expiry.
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <ctime>
#include <sstream>

#include "image/store.h"
#include "sys/text.h"
#include "image/store_files.h"
#include "image/store_internal.h"
#include "sys/syscalls.h"

namespace guise::image {

namespace files = store_files;

namespace {

constexpr int64_t kLeaseLifetimeSeconds = 24 * 3600;  // a pull longer than a day loses its roots

void append_line(const std::string& path, const std::string& line) {
  if (path.empty()) return;
  // Under the gc lock: a collection either saw this root or has finished before the
  // caller goes on to make what it protects.
  std::string root = path.substr(0, path.rfind("/leases/"));
  auto gc = sys::FileLock::acquire(root + "/locks/gc/gc");
  sys::Fd fd(::open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC));
  // One write of a short line under O_APPEND: a reader sees it whole or not at all.
  if (fd.valid()) (void)sys::write_all(fd.get(), line, path.c_str());
}

}  // namespace

Store::Lease::Lease(Lease&& o) noexcept : path_(std::exchange(o.path_, {})) {}

Store::Lease& Store::Lease::operator=(Lease&& o) noexcept {
  if (this != &o) {
    if (!path_.empty()) ::unlink(path_.c_str());
    path_ = std::exchange(o.path_, {});
  }
  return *this;
}

Store::Lease::~Lease() {
  if (!path_.empty()) ::unlink(path_.c_str());
}

void Store::Lease::add(const Digest& blob) { append_line(path_, "blob " + blob.str() + "\n"); }

void Store::Lease::add_snapshot(const Digest& chain_id) { append_line(path_, "snapshot " + chain_id.str() + "\n"); }

Result<Store::Lease> Store::take_lease() {
  uint64_t start = GUISE_TRY(files::own_start_time(), "taking a lease");
  Lease lease;
  std::string path = root_ + "/leases/" + sys::random_hex(8);
  std::string head = std::to_string(::getpid()) + " " + std::to_string(start) + " " +
                     std::to_string(static_cast<int64_t>(::time(nullptr)) + kLeaseLifetimeSeconds) + "\n";
  GUISE_TRY(files::write_atomic(root_, path, head, 0600), "taking a lease");
  lease.path_ = path;
  return lease;
}

namespace store_internal {

Result<LeaseRoots> read_leases(const std::string& root) {
  LeaseRoots roots;
  for (const auto& name : GUISE_TRY(files::list_dir(root + "/leases"))) {
    std::string path = root + "/leases/" + name;
    auto text = sys::read_file(path);
    if (!text.ok()) continue;  // released meanwhile
    std::istringstream in(*text);
    std::string head;
    std::getline(in, head);
    long long pid = 0, expiry = 0;
    unsigned long long start = 0;
    bool live = std::sscanf(head.c_str(), "%lld %llu %lld", &pid, &start, &expiry) == 3 &&
                files::process_alive(static_cast<pid_t>(pid), start) && ::time(nullptr) < expiry;
    if (!live) {
      ::unlink(path.c_str());
      continue;
    }
    std::string kind, digest;
    while (in >> kind >> digest) {
      auto d = parse_digest(digest);
      if (!d.ok()) continue;
      (kind == "snapshot" ? roots.snapshots : roots.blobs).push_back(*d);
    }
  }
  return roots;
}

}  // namespace store_internal

}  // namespace guise::image
