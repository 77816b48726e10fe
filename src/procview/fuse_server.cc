#include "procview/fuse_server.h"

#include <fcntl.h>
#include <linux/fuse.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace guise::procview {

namespace {

// Cached by the kernel for this long: names and modes never change.
constexpr uint64_t kEntryValid = 3600;

const FileEntry* by_name(const char* name) {
  for (const auto& e : kFiles)
    if (std::strcmp(e.name, name) == 0) return &e;
  return nullptr;
}

bool known(uint64_t nodeid) {
  if (nodeid == static_cast<uint64_t>(File::kRoot)) return true;
  for (const auto& e : kFiles)
    if (static_cast<uint64_t>(e.file) == nodeid) return true;
  return false;
}

fuse_attr attr_of(uint64_t nodeid, uint64_t size) {
  fuse_attr a {};
  a.size = size;
  a.ino = nodeid;
  bool root = nodeid == static_cast<uint64_t>(File::kRoot);
  a.mode = root ? (S_IFDIR | 0555) : (S_IFREG | 0444);
  a.nlink = root ? 2 : 1;
  a.blksize = 4096;
  return a;
}

}  // namespace

Result<void> FuseServer::reply(uint64_t unique, int error, const void* data, size_t size) {
  fuse_out_header h {};
  h.len = static_cast<uint32_t>(sizeof h + (error ? 0 : size));
  h.error = -error;
  h.unique = unique;
  iovec iov[2] = {{&h, sizeof h}, {const_cast<void*>(data), error ? 0 : size}};
  if (::writev(dev_.get(), iov, error || size == 0 ? 1 : 2) < 0 && errno != ENOENT)  // ENOENT: interrupted meanwhile
    return sys::sys_error("write a reply to", "/dev/fuse");
  return Ok();
}

void FuseServer::store(uint64_t nodeid, const std::string& text, uint64_t last_size) {
  // The pages of an earlier, longer rendering go first: its tail must not show. (One
  // no longer is overwritten whole, and the size is left alone, so no GETATTR follows.)
  if (text.size() < last_size) inval(nodeid);
  fuse_out_header h {};
  fuse_notify_store_out st {};
  st.nodeid = nodeid;
  st.offset = 0;
  st.size = static_cast<uint32_t>(text.size());
  h.len = static_cast<uint32_t>(sizeof h + sizeof st + text.size());
  h.error = FUSE_NOTIFY_STORE;  // a notification: the code travels in the error field, unique 0
  iovec iov[3] = {{&h, sizeof h}, {&st, sizeof st}, {const_cast<char*>(text.data()), text.size()}};
  (void)::writev(dev_.get(), iov, 3);  // without it only sendfile readers miss out
}

void FuseServer::inval(uint64_t nodeid) {
  fuse_out_header h {};
  fuse_notify_inval_inode_out out {};
  out.ino = nodeid;
  out.off = 0;
  out.len = 0;  // to the end
  h.len = sizeof h + sizeof out;
  h.error = FUSE_NOTIFY_INVAL_INODE;
  iovec iov[2] = {{&h, sizeof h}, {&out, sizeof out}};
  (void)::writev(dev_.get(), iov, 2);
}

Result<bool> FuseServer::serve_one() {
  ssize_t n = ::read(dev_.get(), buf_.get(), kBufferSize);
  if (n < 0) {
    if (errno == EINTR || errno == EAGAIN || errno == ENOENT) return true;
    if (errno == ENODEV) return false;
    return sys::sys_error("read a request from", "/dev/fuse");
  }
  if (static_cast<size_t>(n) < sizeof(fuse_in_header)) return sys::user_error("/dev/fuse: short request");
  fuse_in_header h;
  std::memcpy(&h, buf_.get(), sizeof h);
  GUISE_TRY(dispatch(h.opcode, h.unique, h.nodeid, buf_.get() + sizeof h, static_cast<size_t>(n) - sizeof h));
  return true;
}

Result<void> FuseServer::dispatch(uint32_t opcode, uint64_t unique, uint64_t nodeid, const char* in, size_t in_size) {
  switch (opcode) {
    case FUSE_INIT: {
      fuse_init_in init {};
      std::memcpy(&init, in, std::min(in_size, sizeof init));
      fuse_init_out out {};
      out.major = FUSE_KERNEL_VERSION;
      out.minor = FUSE_KERNEL_MINOR_VERSION;
      if (init.major != FUSE_KERNEL_VERSION) return reply(unique, EPROTO);
      out.max_readahead = init.max_readahead;
      out.max_write = kMaxWrite;
      out.max_background = 16;
      out.congestion_threshold = 12;
      out.time_gran = 1;
      return reply(unique, 0, &out, sizeof out);
    }
    case FUSE_LOOKUP: {
      const FileEntry* e = nodeid == static_cast<uint64_t>(File::kRoot) ? by_name(in) : nullptr;
      if (!e) return reply(unique, ENOENT);
      fuse_entry_out out {};
      out.nodeid = static_cast<uint64_t>(e->file);
      out.entry_valid = out.attr_valid = kEntryValid;
      out.attr = attr_of(out.nodeid, size_[out.nodeid]);
      return reply(unique, 0, &out, sizeof out);
    }
    case FUSE_GETATTR: {
      if (!known(nodeid)) return reply(unique, ENOENT);
      fuse_attr_out out {};
      out.attr_valid = kEntryValid;
      out.attr = attr_of(nodeid, size_[nodeid]);
      return reply(unique, 0, &out, sizeof out);
    }
    case FUSE_OPEN: {
      fuse_open_in o {};
      std::memcpy(&o, in, std::min(in_size, sizeof o));
      if (!known(nodeid) || nodeid == static_cast<uint64_t>(File::kRoot)) return reply(unique, ENOENT);
      if ((o.flags & O_ACCMODE) != O_RDONLY) return reply(unique, EACCES);
      uint64_t fh = next_fh_++;
      std::string& text = open_[fh] = render_(static_cast<File>(nodeid));
      uint64_t last = size_[nodeid];
      size_[nodeid] = text.size();
      store(nodeid, text, last);
      fuse_open_out out {};
      out.fh = fh;
      // Through the page cache, which the store above has just filled: a reader that
      // takes a byte at a time makes no round trip.
      out.open_flags = FOPEN_KEEP_CACHE;
      return reply(unique, 0, &out, sizeof out);
    }
    case FUSE_READ: {
      fuse_read_in r {};
      std::memcpy(&r, in, std::min(in_size, sizeof r));
      auto it = open_.find(r.fh);
      if (it == open_.end()) return reply(unique, EBADF);
      const std::string& text = it->second;
      size_t off = std::min<uint64_t>(r.offset, text.size());
      size_t len = std::min<size_t>(r.size, text.size() - off);
      if (len == 0) return reply(unique, 0);
      return reply(unique, 0, text.data() + off, len);
    }
    case FUSE_RELEASE: {
      fuse_release_in r {};
      std::memcpy(&r, in, std::min(in_size, sizeof r));
      open_.erase(r.fh);
      return reply(unique, 0);
    }
    case FUSE_STATFS: {
      fuse_statfs_out out {};
      out.st.bsize = out.st.frsize = 4096;
      out.st.namelen = 255;
      return reply(unique, 0, &out, sizeof out);
    }
    case FUSE_FORGET:
    case FUSE_BATCH_FORGET:
    case FUSE_INTERRUPT:
      return Ok();  // no reply: nothing is held per node, and every request is answered at once
    case FUSE_DESTROY:
      return reply(unique, 0);
    default:
      return reply(unique, ENOSYS);
  }
}

}  // namespace guise::procview
