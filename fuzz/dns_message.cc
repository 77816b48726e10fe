// A DNS packet as the container-network resolver receives it from a container (the
// query) or from the host's upstream server (the reply): every read stays inside the
// packet, a reply built from any query parses back, with the question the query had.
#include <cstddef>
#include <cstdint>

#include "fuzz_check.h"
#include "network/dns_hosts.h"
#include "network/dns_message.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace guise::network;
  using guise::fuzz::check;
  std::string_view packet(reinterpret_cast<const char*>(data), size);

  (void)dns::parse_reply(packet);

  // The responder's own path: answered from the network's hosts file, or not.
  static const auto hosts = dns::HostsTable::parse(
      "10.88.0.5 web Web-Alias\nfd00::5 web\n10.88.0.6 db db.example\n");
  for (size_t max : {dns::kUdpMax, size_t{65535}}) {
    auto outcome = dns::answer_locally(packet, hosts, 600, max);
    if (outcome.verdict != dns::Verdict::kReply) continue;
    check(outcome.reply.size() <= max, "a reply is longer than its limit");
    auto reply = dns::parse_reply(outcome.reply);
    check(reply.has_value(), "the responder's reply does not parse");
    check(reply->header.qr(), "the responder's reply is not marked as one");
  }

  auto header = dns::parse_header(packet);
  if (!header) return 0;
  auto q = dns::parse_question(packet);
  if (!q) {
    std::string error = dns::make_error(*header, dns::kFormErr);
    check(error.size() == dns::kHeaderSize, "an error reply is a bare header");
    return 0;
  }
  check(q->end <= packet.size(), "a question ends past the packet");

  // The responder's answer, as dns_server builds it: one A record and one PTR.
  std::vector<dns::Record> answers;
  answers.push_back({q->name, dns::kTypeA, dns::kClassIn, 600, std::string("\x0a\x00\x00\x02", 4)});
  if (auto target = dns::encode_name("c1.example"); target)
    answers.push_back({q->name, dns::kTypePtr, dns::kClassIn, 600, *target});
  for (size_t max : {dns::kUdpMax, size_t{65535}}) {
    std::string reply = dns::make_reply(packet, *q, dns::kNoError, answers, max);
    check(reply.size() <= max, "a reply is longer than its limit");
    auto parsed = dns::parse_reply(reply);
    check(parsed.has_value(), "a reply built from a query does not parse");
    check(parsed->header.id == header->id, "a reply's id is not its query's");
    check(parsed->question && parsed->question->name == q->name, "a reply's question is not its query's",
          q->name);
  }

  // A name read is one encode_name accepts, unless it holds an escaped '.' or '\\'.
  if (!q->name.empty() && q->name.find('\\') == std::string::npos) {
    auto wire = dns::encode_name(q->name);
    if (wire) {
      size_t offset = 0;
      auto back = dns::read_name(*wire, offset);
      check(back && *back == q->name, "a name does not read back from its wire form", q->name);
    }
  }
  return 0;
}
