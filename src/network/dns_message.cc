#include "network/dns_message.h"

namespace guise::network::dns {
namespace {

constexpr size_t kMaxName = 255;
constexpr int kMaxJumps = 64;

bool get16(std::string_view p, size_t at, uint16_t& v) {
  if (at > p.size() || p.size() - at < 2) return false;
  v = static_cast<uint16_t>(static_cast<uint8_t>(p[at]) << 8 | static_cast<uint8_t>(p[at + 1]));
  return true;
}

bool get32(std::string_view p, size_t at, uint32_t& v) {
  uint16_t hi, lo;
  if (!get16(p, at, hi) || !get16(p, at + 2, lo)) return false;
  v = uint32_t{hi} << 16 | lo;
  return true;
}

void put16(std::string& out, uint16_t v) {
  out.push_back(static_cast<char>(v >> 8));
  out.push_back(static_cast<char>(v & 0xff));
}

void set16(std::string& out, size_t at, uint16_t v) {
  out[at] = static_cast<char>(v >> 8);
  out[at + 1] = static_cast<char>(v & 0xff);
}

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

std::string header_bytes(const Header& h) {
  std::string out;
  for (uint16_t v : {h.id, h.flags, h.qdcount, h.ancount, h.nscount, h.arcount}) put16(out, v);
  return out;
}

// QR, the query's opcode and RD, RA, and the rcode.
uint16_t reply_flags(uint16_t query_flags, uint8_t rcode, bool authoritative) {
  uint16_t f = 0x8000 | (query_flags & 0x7800) | (query_flags & 0x0100) | 0x0080 | (rcode & 0xf);
  if (authoritative) f |= 0x0400;
  return f;
}

}  // namespace

std::optional<Header> parse_header(std::string_view p) {
  Header h;
  if (!get16(p, 0, h.id) || !get16(p, 2, h.flags) || !get16(p, 4, h.qdcount) ||
      !get16(p, 6, h.ancount) || !get16(p, 8, h.nscount) || !get16(p, 10, h.arcount))
    return std::nullopt;
  return h;
}

std::optional<std::string> read_name(std::string_view p, size_t& offset) {
  std::string name;
  size_t at = offset;
  size_t end = p.size();  // what the name may read: after a pointer, only what lies before it
  size_t wire_len = 0;
  int jumps = 0;
  std::optional<size_t> after;  // where the name ends in place, once a pointer was followed
  for (;;) {
    if (at >= end) return std::nullopt;
    auto len = static_cast<uint8_t>(p[at]);
    if ((len & 0xc0) == 0xc0) {
      if (at + 1 >= end || ++jumps > kMaxJumps) return std::nullopt;
      size_t target = (len & 0x3f) << 8 | static_cast<uint8_t>(p[at + 1]);
      // Pointers only lead backwards, to a name that lies wholly before them: no loops,
      // and the name reads the same in a reply that copies the question and puts other
      // bytes after it. Never into the header, which holds no name.
      if (target >= at || target < kHeaderSize) return std::nullopt;
      if (!after) after = at + 2;
      end = at;
      at = target;
      continue;
    }
    if (len & 0xc0) return std::nullopt;  // the extended label types nobody uses
    wire_len += 1 + len;
    if (wire_len > kMaxName) return std::nullopt;
    if (len == 0) break;
    if (at + 1 + len > end) return std::nullopt;
    if (!name.empty()) name.push_back('.');
    for (char c : p.substr(at + 1, len)) {
      if (c == '.' || c == '\\') name.push_back('\\');
      name.push_back(lower(c));
    }
    at += 1 + len;
  }
  offset = after ? *after : at + 1;
  return name;
}

std::optional<std::string> encode_name(std::string_view name) {
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  std::string out;
  while (!name.empty()) {
    size_t dot = name.find('.');
    std::string_view label = name.substr(0, dot);
    if (label.empty() || label.size() > 63) return std::nullopt;
    out.push_back(static_cast<char>(label.size()));
    out.append(label);
    name = dot == std::string_view::npos ? std::string_view{} : name.substr(dot + 1);
    if (dot != std::string_view::npos && name.empty()) return std::nullopt;  // "a..": empty label
  }
  out.push_back('\0');
  if (out.size() > kMaxName) return std::nullopt;
  return out;
}

std::optional<Question> parse_question(std::string_view p) {
  auto h = parse_header(p);
  if (!h || h->qdcount < 1) return std::nullopt;
  size_t at = kHeaderSize;
  Question q;
  auto name = read_name(p, at);
  if (!name || !get16(p, at, q.type) || !get16(p, at + 2, q.klass)) return std::nullopt;
  q.name = std::move(*name);
  q.end = at + 4;
  return q;
}

std::string make_reply(std::string_view query, const Question& q, uint8_t rcode,
                       const std::vector<Record>& answers, size_t max_size, bool authoritative) {
  auto qh = parse_header(query).value_or(Header{});
  Header h;
  h.id = qh.id;
  h.flags = reply_flags(qh.flags, rcode, authoritative);
  h.qdcount = 1;
  std::string out = header_bytes(h);
  out.append(query.substr(kHeaderSize, q.end - kHeaderSize));
  uint16_t count = 0;
  for (const auto& r : answers) {
    if (r.data.size() > 0xffff) continue;
    size_t size = 2 + 10 + r.data.size();
    if (out.size() + size > max_size) {
      h.flags |= 0x0200;  // TC: the client retries over TCP
      set16(out, 2, h.flags);
      break;
    }
    put16(out, 0xc000 | kHeaderSize);  // the owner is the question's name
    put16(out, r.type);
    put16(out, r.klass);
    put16(out, static_cast<uint16_t>(r.ttl >> 16));
    put16(out, static_cast<uint16_t>(r.ttl & 0xffff));
    put16(out, static_cast<uint16_t>(r.data.size()));
    out.append(r.data);
    ++count;
  }
  set16(out, 6, count);
  return out;
}

std::string make_error(const Header& query, uint8_t rcode) {
  Header h;
  h.id = query.id;
  h.flags = reply_flags(query.flags, rcode, false);
  return header_bytes(h);
}

std::string make_query(uint16_t id, std::string_view name, uint16_t type) {
  Header h;
  h.id = id;
  h.flags = 0x0100;
  h.qdcount = 1;
  std::string out = header_bytes(h);
  out.append(encode_name(name).value_or(std::string(1, '\0')));
  put16(out, type);
  put16(out, kClassIn);
  return out;
}

std::optional<Reply> parse_reply(std::string_view p) {
  Reply r;
  auto h = parse_header(p);
  if (!h) return std::nullopt;
  r.header = *h;
  size_t at = kHeaderSize;
  if (h->qdcount > 0) {
    r.question = parse_question(p);
    if (!r.question) return std::nullopt;
    at = r.question->end;
  }
  for (int i = 1; i < h->qdcount; ++i) {  // skip any further questions
    if (!read_name(p, at) || at + 4 > p.size()) return std::nullopt;
    at += 4;
  }
  for (int i = 0; i < h->ancount; ++i) {
    Record rec;
    auto name = read_name(p, at);
    uint16_t rdlen;
    if (!name || !get16(p, at, rec.type) || !get16(p, at + 2, rec.klass) ||
        !get32(p, at + 4, rec.ttl) || !get16(p, at + 8, rdlen) || at + 10 + rdlen > p.size())
      return std::nullopt;
    rec.name = std::move(*name);
    at += 10;
    if (rec.type == kTypePtr) {
      size_t data_at = at;
      auto target = read_name(p, data_at);
      if (!target) return std::nullopt;
      rec.data = *target;
    } else {
      rec.data = std::string(p.substr(at, rdlen));
    }
    at += rdlen;
    r.answers.push_back(std::move(rec));
  }
  return r;
}

}  // namespace guise::network::dns
