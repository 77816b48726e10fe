// What the DNS responder knows itself: the names in the network's hosts file, kept fresh
// as the network layer rewrites it, and how to answer a query from them.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "network/address.h"

namespace guise::network::dns {

// Lines "IP NAME [ALIAS...]", '#' starts a comment; names match case-insensitively and
// without their trailing dot. Lines that do not parse are skipped.
class HostsTable {
 public:
  static HostsTable parse(std::string_view text);

  // The addresses of a name (read_name's form), in file order; nullptr when unknown.
  const std::vector<IpAddress>* addresses(const std::string& name) const;
  // The first name given to an address; nullptr when none.
  const std::string* name_of(const IpAddress& a) const;

 private:
  std::map<std::string, std::vector<IpAddress>> by_name_;
  std::map<IpAddress, std::string> by_address_;
};

// A hosts file read again whenever its size, mtime or inode changes; a missing or
// unreadable file is an empty table.
class HostsFile {
 public:
  explicit HostsFile(std::string path) : path_(std::move(path)) {}
  // The table, after a stat to see whether the file changed.
  const HostsTable& table();

 private:
  std::string path_;
  HostsTable table_;
  std::optional<struct timespec> mtime_;
  off_t size_ = -1;
  ino_t inode_ = 0;
};

// "5.0.88.10.in-addr.arpa" → 10.88.0.5, and the nibble form under ip6.arpa.
std::optional<IpAddress> address_of_reverse(std::string_view name);

enum class Verdict { kDrop, kReply, kForward };
struct Outcome {
  Verdict verdict = Verdict::kDrop;
  std::string reply;  // for kReply
};

// What to do with one query: answer it from `hosts` (A, AAAA, PTR, NODATA for other
// types of a known name), forward it, answer FORMERR / NOTIMP, or drop it (too short
// for a header, or itself a reply).
Outcome answer_locally(std::string_view query, const HostsTable& hosts, uint32_t ttl, size_t max_size);

}  // namespace guise::network::dns
