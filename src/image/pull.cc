#include "image/pull.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <mutex>
#include <thread>

#include "image/unpack.h"
#include "sys/clock.h"
#include "sys/syscalls.h"

namespace guise::image {

namespace {

std::string short_id(const Digest& d) { return d.hex.substr(0, 12); }

Error diff_id_mismatch(const Digest& blob, const std::string& got, const Digest& want) {
  return sys::user_error("layer " + blob.str() + ": its uncompressed content is " + got +
                         ", but the image config says " + want.str());
}

// Unpacks the stream on `read_fd` into the prepared snapshot (a thread of its own while
// the download feeds the pipe).
struct Unpacking {
  sys::Fd dir;
  std::optional<Result<UnpackStats>> result;
  std::thread thread;

  Result<void> start(const PreparedSnapshot& snap, sys::Fd read_end) {
    dir.reset(::open(snap.fs_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!dir.valid()) return sys::sys_error("open", snap.fs_path());
    thread = std::thread([this, fd = std::move(read_end)]() mutable {
      result = unpack_layer(fd.get(), dir.get());
      fd.reset();  // a writer still feeding gets EPIPE and stops
    });
    return Ok();
  }
  Result<UnpackStats> finish() {
    thread.join();
    return std::move(*result);
  }
};

// Copies [0, n) of `path` into `fd`: the part of a resumed blob already on disk.
Result<void> replay(const std::string& path, int64_t n, int fd) {
  sys::Fd in(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!in.valid()) return sys::sys_error("open", path);
  char buf[1 << 16];
  while (n > 0) {
    ssize_t got = ::read(in.get(), buf, std::min<int64_t>(n, sizeof buf));
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return sys::sys_error("read", path);
    GUISE_TRY(sys::write_all(fd, std::string_view(buf, static_cast<size_t>(got)), "layer stream"));
    n -= got;
  }
  return Ok();
}

// The disk, not the network, failed: what was written is no start for a resume.
bool local_failure(const Error& e) { return e.errnum == ENOSPC || e.errnum == EDQUOT || e.errnum == EIO; }

struct LayerJob {
  Descriptor blob;
  Digest diff_id, chain_id;
};

class Puller {
 public:
  Puller(Store& store, RegistryClient& client, std::string repo, const PullOptions& opts, Store::Lease& lease)
      : store_(store), client_(client), repo_(std::move(repo)), opts_(opts), lease_(lease) {}

  void report(const Digest& d, LayerStatus s, int64_t cur = 0, int64_t total = 0) {
    if (opts_.progress) opts_.progress(LayerEvent{short_id(d), s, cur, total});
  }

  // A small blob (the config) fetched whole into the store and read back verified.
  Result<std::string> small_blob(const Descriptor& d) {
    if (d.size > (16 << 20)) return sys::user_error("blob " + d.digest.str() + ": config larger than 16 MiB");
    {
      std::lock_guard g(lease_mu_);
      lease_.add(d.digest);
    }
    auto ingest = GUISE_TRY(store_.content().begin(d.digest.str(), d.digest, d.size));
    if (ingest) {
      auto fetched = client_.fetch_blob(repo_, d.digest, ingest->offset(),
                                        [&](std::string_view chunk) { return ingest->write(chunk); });
      if (!fetched) {
        if (ingest->offset() == 0 || local_failure(fetched.error())) ingest->abort();  // nothing worth resuming
        return std::move(fetched.error());
      }
      GUISE_TRY(ingest->commit());
    }
    return store_.content().read(d.digest, 16 << 20);
  }

  // One layer: fetched (or found) and unpacked into its snapshot, under a lock of its
  // own so two pulls that share a layer do the work once.
  Result<void> layer(const LayerJob& job) {
    {
      std::lock_guard g(lease_mu_);
      lease_.add(job.blob.digest);
      lease_.add_snapshot(job.chain_id);
    }
    auto held = GUISE_TRY(store_.lock(LockKind::kLayer, "pull-" + job.chain_id.hex));
    if (store_.snapshot(job.chain_id) && store_.content().has(job.blob.digest)) {
      report(job.blob.digest, LayerStatus::kAlreadyExists);
      return Ok();
    }
    fetched_new_ = true;
    if (store_.content().has(job.blob.digest)) {
      GUISE_TRY(unpack_stored_layer(store_, job.blob.digest, job.diff_id, job.chain_id));
      report(job.blob.digest, LayerStatus::kPullComplete);
      return Ok();
    }
    auto ingest = GUISE_TRY(store_.content().begin(job.blob.digest.str(), job.blob.digest, job.blob.size));
    if (!ingest) {  // committed by another process meanwhile
      if (!store_.snapshot(job.chain_id))
        GUISE_TRY(unpack_stored_layer(store_, job.blob.digest, job.diff_id, job.chain_id));
      report(job.blob.digest, LayerStatus::kPullComplete);
      return Ok();
    }
    PreparedSnapshot snap = GUISE_TRY(store_.prepare_snapshot());
    int p[2];
    if (::pipe2(p, O_CLOEXEC) < 0) return sys::sys_error("pipe");
    sys::Fd read_end(p[0]), write_end(p[1]);
    Unpacking unpacking;
    GUISE_TRY(unpacking.start(snap, std::move(read_end)));
    int64_t resumed = ingest->offset();
    Result<void> fed = replay(ingest->data_path(), resumed, write_end.get());
    if (fed) {
      int64_t got = resumed;
      fed = client_.fetch_blob(repo_, job.blob.digest, resumed, [&](std::string_view chunk) -> Result<void> {
        GUISE_TRY(ingest->write(chunk));
        got += static_cast<int64_t>(chunk.size());
        report(job.blob.digest, LayerStatus::kDownloading, got, job.blob.size);
        return sys::write_all(write_end.get(), chunk, "layer stream");
      });
    }
    write_end.reset();
    Result<UnpackStats> unpacked = unpacking.finish();
    if (!fed) {
      // The unpacker stopping first (a bad layer) shows up here as EPIPE: its error is the one to give.
      if (!unpacked && fed.error().errnum == EPIPE) {
        ingest->abort();
        return std::move(unpacked.error()).with_context("layer " + job.blob.digest.str());
      }
      // What arrived stays as an ingest for the next pull to resume; nothing arrived, nothing stays.
      if (ingest->offset() == 0 || local_failure(fed.error())) ingest->abort();
      return std::move(fed.error());
    }
    report(job.blob.digest, LayerStatus::kVerifying);
    GUISE_TRY(ingest->commit());  // a digest mismatch is named here, before any unpack error it caused
    if (!unpacked) return std::move(unpacked.error()).with_context("layer " + job.blob.digest.str());
    if (unpacked->diff_id != job.diff_id.str()) return diff_id_mismatch(job.blob.digest, unpacked->diff_id, job.diff_id);
    report(job.blob.digest, LayerStatus::kDownloaded);
    GUISE_TRY(store_.publish_snapshot(std::move(snap), job.chain_id, job.diff_id,
                                      static_cast<int64_t>(unpacked->bytes)));
    report(job.blob.digest, LayerStatus::kPullComplete);
    return Ok();
  }

  // Runs the jobs `parallel` at a time; the first error wins, the others still finish
  // (a layer half-fetched is kept as an ingest to resume).
  Result<void> layers(const std::vector<LayerJob>& jobs) {
    // docker's first lines: every layer to fetch, and "Waiting" for those past the parallel limit.
    int queued = 0;
    for (const auto& j : jobs) {
      if (store_.snapshot(j.chain_id) && store_.content().has(j.blob.digest)) continue;
      report(j.blob.digest, LayerStatus::kPulling);
      if (queued++ >= opts_.parallel) report(j.blob.digest, LayerStatus::kWaiting);
    }
    std::atomic<size_t> next{0};
    std::mutex err_mu;
    std::optional<Error> first;
    auto worker = [&] {
      for (size_t i; (i = next++) < jobs.size();) {
        {
          std::lock_guard g(err_mu);
          if (first) return;
        }
        auto r = layer(jobs[i]);
        if (!r) {
          std::lock_guard g(err_mu);
          if (!first) first = std::move(r.error());
        }
      }
    };
    std::vector<std::thread> threads;
    int n = std::max(1, std::min<int>(opts_.parallel, static_cast<int>(jobs.size())));
    for (int i = 1; i < n; ++i) threads.emplace_back(worker);
    worker();
    for (auto& t : threads) t.join();
    if (first) return std::move(*first);
    return Ok();
  }

  bool fetched_new() const { return fetched_new_; }

 private:
  Store& store_;
  RegistryClient& client_;
  std::string repo_;
  const PullOptions& opts_;
  Store::Lease& lease_;
  std::mutex lease_mu_;
  std::atomic<bool> fetched_new_{false};
};

void add_unique(std::vector<std::string>& v, const std::string& s) {
  if (std::find(v.begin(), v.end(), s) == v.end()) v.push_back(s);
}

}  // namespace

Result<SnapshotInfo> unpack_stored_layer(Store& store, const Digest& blob, const Digest& diff_id,
                                         const Digest& chain_id) {
  if (auto s = store.snapshot(chain_id)) return *s;
  PreparedSnapshot snap = GUISE_TRY(store.prepare_snapshot());
  std::string path = store.content().blob_path(blob);
  sys::Fd in(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!in.valid()) return sys::sys_error("open", path);
  sys::Fd dir(::open(snap.fs_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir.valid()) return sys::sys_error("open", snap.fs_path());
  UnpackStats stats = GUISE_TRY(unpack_layer(in.get(), dir.get()), "layer " + blob.str());
  if (stats.diff_id != diff_id.str()) return diff_id_mismatch(blob, stats.diff_id, diff_id);
  return store.publish_snapshot(std::move(snap), chain_id, diff_id, static_cast<int64_t>(stats.bytes));
}

Result<PullResult> pull_image(Store& store, const Reference& ref, const PullOptions& opts) {
  Store::Lease lease = GUISE_TRY(store.take_lease());
  auto client = GUISE_TRY(RegistryClient::connect(ref.domain, opts.registry));
  std::string want = ref.digest ? ref.digest->str() : ref.tag;
  FetchedManifest top = GUISE_TRY(client->get_manifest(ref.path, want));
  PullResult out;
  out.repo_digest = top.digest;
  Platform platform = opts.platform.value_or(host_platform());

  FetchedManifest chosen = top;
  if (is_index(top.media_type)) {
    Index idx = GUISE_TRY(parse_index(top.body, top.media_type), ref.str());
    Descriptor d = GUISE_TRY(select_platform(idx, platform, ref.str()));
    chosen = GUISE_TRY(client->get_manifest(ref.path, d.digest.str()));
  }
  Manifest man = GUISE_TRY(parse_manifest(chosen.body, chosen.media_type), ref.str());
  // Kept verbatim: its digest is what the registry and every other client call it.
  lease.add(chosen.digest);
  GUISE_TRY(store.content().put(chosen.body));

  Puller puller(store, *client, ref.path, opts, lease);
  std::string config_text = GUISE_TRY(puller.small_blob(man.config), "config of " + ref.str());
  ImageConfig config = GUISE_TRY(parse_config(config_text), "config of " + ref.str());
  if (opts.platform && !is_index(top.media_type) &&
      (config.platform.os != platform.os || config.platform.architecture != platform.architecture))
    return sys::not_found("image " + ref.str() + " is for " + config.platform.str() + ", not the requested " +
                          platform.str());
  if (config.diff_ids.size() != man.layers.size())
    return sys::user_error(ref.str() + ": the manifest has " + std::to_string(man.layers.size()) +
                           " layers but the config " + std::to_string(config.diff_ids.size()) + " diff ids");
  std::vector<Digest> chains = chain_ids(config.diff_ids);
  std::vector<LayerJob> jobs;
  for (size_t i = 0; i < man.layers.size(); ++i) jobs.push_back({man.layers[i], config.diff_ids[i], chains[i]});
  GUISE_TRY(puller.layers(jobs));

  // The record, read, merged and written under a lock of its own (put_image takes the
  // image lock for the write alone): concurrent pulls of one image keep both repo digests.
  auto held = GUISE_TRY(store.lock(LockKind::kImage, "update-" + man.config.digest.hex));
  auto existing = GUISE_TRY(store.get_image(man.config.digest));
  ImageRecord rec = existing.value_or(ImageRecord{});
  rec.id = man.config.digest;
  rec.manifest = chosen.digest;
  rec.manifest_media_type = chosen.media_type;
  rec.chain_ids = chains;
  rec.size = 0;
  for (const auto& c : chains)
    if (auto s = store.snapshot(c)) rec.size += s->size;
  rec.created = config.created;
  if (rec.added.empty()) rec.added = sys::now_rfc3339();
  rec.platform = config.platform.str();
  add_unique(rec.repo_digests, ref.name() + "@" + top.digest.str());
  GUISE_TRY(store.put_image(rec));
  out.fetched_new = puller.fetched_new() || !existing;
  if (!ref.tag.empty()) {
    auto before = store.resolve(ref.str());
    if (!before || before->id != rec.id) out.fetched_new = true;
    GUISE_TRY(store.set_name(ref.str(), rec.id));
  }
  out.image = std::move(rec);
  return out;
}

}  // namespace guise::image
