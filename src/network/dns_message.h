// The DNS wire format (RFC 1035), as much of it as the responder needs: the header, one
// question, names with compression, and replies built from a query. Every read is
// bounds-checked; anything malformed reads as nullopt, never past the packet.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace guise::network::dns {

constexpr uint16_t kTypeA = 1;
constexpr uint16_t kTypePtr = 12;
constexpr uint16_t kTypeAaaa = 28;
constexpr uint16_t kClassIn = 1;

constexpr uint8_t kNoError = 0;
constexpr uint8_t kFormErr = 1;
constexpr uint8_t kServFail = 2;
constexpr uint8_t kNxDomain = 3;
constexpr uint8_t kNotImp = 4;

constexpr size_t kHeaderSize = 12;
constexpr size_t kUdpMax = 512;  // a reply's limit over UDP without EDNS (RFC 1035 4.2.1)

struct Header {
  uint16_t id = 0;
  uint16_t flags = 0;
  uint16_t qdcount = 0, ancount = 0, nscount = 0, arcount = 0;

  bool qr() const { return flags & 0x8000; }
  int opcode() const { return (flags >> 11) & 0xf; }
  bool tc() const { return flags & 0x0200; }
  bool aa() const { return flags & 0x0400; }
  bool ra() const { return flags & 0x0080; }
  int rcode() const { return flags & 0xf; }
};

std::optional<Header> parse_header(std::string_view packet);

// The name at `offset`, following compression pointers (only backwards, to a name that
// lies wholly before the pointer, so no loops, and never into the header),
// lower-cased, labels joined by '.', no trailing dot ("" for the root). A '.' or '\\'
// inside a label is escaped with '\\', so that it never reads as a label boundary.
// On success `offset` moves past the name where it sits (not where pointers led).
std::optional<std::string> read_name(std::string_view packet, size_t& offset);

// "a.example.com" (trailing dot optional) in wire form; nullopt for an empty or too
// long label, or a name over 255 bytes.
std::optional<std::string> encode_name(std::string_view name);

struct Question {
  std::string name;  // as read_name gives it
  uint16_t type = 0;
  uint16_t klass = 0;
  size_t end = 0;    // the offset just past the question
};

// The first question of a packet whose header says it has one.
std::optional<Question> parse_question(std::string_view packet);

struct Record {
  std::string name;  // read_name's form
  uint16_t type = 0;
  uint16_t klass = kClassIn;
  uint32_t ttl = 0;
  std::string data;  // RDATA as on the wire (for a PTR, parse_reply gives the name read)
};

// A reply to `query` (whose question `q` is): its id, opcode and RD, QR and RA set, AA
// when `authoritative`, the question copied as the client wrote it, then `answers`
// (owner: the question's name, by pointer). Answers that would pass `max_size` are left
// out and TC set.
std::string make_reply(std::string_view query, const Question& q, uint8_t rcode,
                       const std::vector<Record>& answers, size_t max_size,
                       bool authoritative = true);

// A bare reply (header only) to a query whose question could not be read.
std::string make_error(const Header& query, uint8_t rcode);

// A query with one question, RD set.
std::string make_query(uint16_t id, std::string_view name, uint16_t type);

struct Reply {
  Header header;
  std::optional<Question> question;
  std::vector<Record> answers;
};
// A reply's header, question and answer section (PTR data decoded as a name).
std::optional<Reply> parse_reply(std::string_view packet);

}  // namespace guise::network::dns
