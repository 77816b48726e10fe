#include "network/dns_hosts.h"

#include <sys/socket.h>
#include <sys/stat.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "network/dns.h"
#include "network/dns_message.h"

namespace guise::network::dns {
namespace {

std::vector<std::string> words(std::string_view line) {
  if (auto hash = line.find('#'); hash != std::string_view::npos) line = line.substr(0, hash);
  std::vector<std::string> out;
  std::istringstream in{std::string(line)};
  for (std::string w; in >> w;) out.push_back(std::move(w));
  return out;
}

// An address as hosts and resolv.conf files write it, a v6 zone ("%eth0") dropped.
std::optional<IpAddress> address_in_file(std::string text) {
  if (auto pct = text.find('%'); pct != std::string::npos) text.resize(pct);
  auto a = parse_ip(text, "address");
  if (!a) return std::nullopt;
  return *a;
}

std::string canonical(std::string name) {
  if (!name.empty() && name.back() == '.') name.pop_back();
  for (char& c : name)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return name;
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

std::string address_bytes(const IpAddress& a) {
  return std::string(reinterpret_cast<const char*>(a.bytes.data()), a.size());
}

}  // namespace

HostsTable HostsTable::parse(std::string_view text) {
  HostsTable t;
  size_t start = 0;
  while (start <= text.size()) {
    size_t nl = text.find('\n', start);
    auto w = words(text.substr(start, nl == std::string_view::npos ? std::string_view::npos : nl - start));
    start = nl == std::string_view::npos ? text.size() + 1 : nl + 1;
    if (w.size() < 2) continue;
    auto a = address_in_file(w[0]);
    if (!a) continue;
    for (size_t i = 1; i < w.size(); ++i) {
      auto& list = t.by_name_[canonical(w[i])];
      if (std::find(list.begin(), list.end(), *a) == list.end()) list.push_back(*a);
    }
    t.by_address_.emplace(*a, canonical(w[1]));  // the first line naming it wins
  }
  return t;
}

const std::vector<IpAddress>* HostsTable::addresses(const std::string& name) const {
  auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : &it->second;
}

const std::string* HostsTable::name_of(const IpAddress& a) const {
  auto it = by_address_.find(a);
  return it == by_address_.end() ? nullptr : &it->second;
}

const HostsTable& HostsFile::table() {
  struct stat st {};
  if (path_.empty() || ::stat(path_.c_str(), &st) != 0) {
    if (mtime_) table_ = HostsTable{};
    mtime_.reset();
    return table_;
  }
  bool same = mtime_ && mtime_->tv_sec == st.st_mtim.tv_sec && mtime_->tv_nsec == st.st_mtim.tv_nsec &&
              size_ == st.st_size && inode_ == st.st_ino;
  if (same) return table_;
  std::ifstream in(path_, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  table_ = HostsTable::parse(text.str());
  mtime_ = st.st_mtim;
  size_ = st.st_size;
  inode_ = st.st_ino;
  return table_;
}

std::optional<IpAddress> address_of_reverse(std::string_view name) {
  IpAddress a;
  if (ends_with(name, ".in-addr.arpa")) {
    name.remove_suffix(std::string_view(".in-addr.arpa").size());
    a.family = AF_INET;
    for (int i = 3; i >= 0; --i) {
      size_t dot = name.find('.');
      std::string_view label = name.substr(0, dot);
      if (label.empty() || label.size() > 3 || (i == 0) != (dot == std::string_view::npos)) return std::nullopt;
      int v = 0;
      for (char c : label) {
        if (c < '0' || c > '9') return std::nullopt;
        v = v * 10 + (c - '0');
      }
      if (v > 255) return std::nullopt;
      a.bytes[i] = static_cast<uint8_t>(v);
      name = dot == std::string_view::npos ? std::string_view{} : name.substr(dot + 1);
    }
    return a;
  }
  if (ends_with(name, ".ip6.arpa")) {
    name.remove_suffix(std::string_view(".ip6.arpa").size());
    if (name.size() != 63) return std::nullopt;  // 32 nibbles and 31 dots
    a.family = AF_INET6;
    for (int n = 0; n < 32; ++n) {
      int v = hex_digit(name[n * 2]);
      if (v < 0 || (n < 31 && name[n * 2 + 1] != '.')) return std::nullopt;
      int byte = 15 - n / 2;
      a.bytes[byte] |= static_cast<uint8_t>(n % 2 == 0 ? v : v << 4);
    }
    return a;
  }
  return std::nullopt;
}

Outcome answer_locally(std::string_view query, const HostsTable& hosts, uint32_t ttl, size_t max_size) {
  auto h = parse_header(query);
  if (!h || h->qr()) return {};
  if (h->opcode() != 0) return {Verdict::kReply, make_error(*h, kNotImp)};
  auto q = parse_question(query);
  if (h->qdcount != 1 || !q) return {Verdict::kReply, make_error(*h, kFormErr)};
  if (q->klass != kClassIn) return {Verdict::kForward, {}};

  std::vector<Record> answers;
  if (q->type == kTypePtr) {
    auto a = address_of_reverse(q->name);
    const std::string* name = a ? hosts.name_of(*a) : nullptr;
    auto wire = name ? encode_name(*name) : std::nullopt;
    if (!wire) return {Verdict::kForward, {}};
    answers.push_back({{}, kTypePtr, kClassIn, ttl, *wire});
    return {Verdict::kReply, make_reply(query, *q, kNoError, answers, max_size)};
  }
  const auto* addrs = hosts.addresses(q->name);
  if (!addrs) return {Verdict::kForward, {}};
  constexpr uint16_t kTypeAny = 255;
  for (const auto& a : *addrs) {
    if (a.v4() && (q->type == kTypeA || q->type == kTypeAny))
      answers.push_back({{}, kTypeA, kClassIn, ttl, address_bytes(a)});
    if (a.v6() && (q->type == kTypeAaaa || q->type == kTypeAny))
      answers.push_back({{}, kTypeAaaa, kClassIn, ttl, address_bytes(a)});
  }
  // A known name without an address of the asked type: NODATA, never forwarded, so
  // that the host's resolver cannot answer for a container's name.
  return {Verdict::kReply, make_reply(query, *q, kNoError, answers, max_size)};
}

}  // namespace guise::network::dns

namespace guise::network {

std::vector<IpAddress> nameservers_of(const std::string& resolv_conf) {
  std::vector<IpAddress> out;
  std::istringstream in(resolv_conf);
  for (std::string line; std::getline(in, line);) {
    if (auto semi = line.find(';'); semi != std::string::npos) line.resize(semi);
    auto w = dns::words(line);
    if (w.size() < 2 || w[0] != "nameserver") continue;
    if (auto a = dns::address_in_file(w[1])) out.push_back(*a);
  }
  return out;
}

}  // namespace guise::network
