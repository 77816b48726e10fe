// The table inet guise as data, made once from a Ruleset: its chains, and each rule both
// as the line `nft list` prints and as the expressions the kernel is given. One source
// for both, so that ruleset_text (docs, tests) cannot drift from what apply_ruleset sends.
// Internal to src/network: nft.cc encodes it with libnftnl, nft_text.cc prints it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "network/nft.h"
#include "sys/result.h"

namespace guise::network::nftplan {

// One nf_tables expression, in the few shapes guise uses. Registers are the classic
// 16-byte ones (1 and 2, 0 for the verdict), as nft itself emits them.
struct Expr {
  enum Kind : uint8_t { kMeta, kPayload, kCmp, kBitwise, kCt, kFib, kImmediate, kVerdict, kNat, kMasq } kind;
  uint32_t key = 0;    // meta/ct key, payload base, cmp op, verdict code, nat type
  uint32_t reg = 1;    // destination (loads, immediate) or source (cmp, nat address) register
  uint32_t offset = 0; // payload offset
  uint32_t len = 0;    // payload length
  std::string data = {};    // cmp operand, bitwise mask, immediate value (raw bytes)
  std::string chain = {};   // jump target
  int family = 0;      // nat: NFPROTO_IPV4 or NFPROTO_IPV6
};

struct Chain {
  std::string name;   // a base chain is named after its hook
  bool base = false;   // hooked; regular chains (published) are only jumped to
  std::string type;    // "nat", "filter"
  int hook = 0;        // NF_INET_*
  int priority = 0;
  std::string priority_text;  // as `nft list` prints it: "dstnat", "-100", ...
};

struct Rule {
  std::string chain;
  std::string text;     // without the comment
  std::vector<Expr> exprs;
  std::string comment;  // empty: none
};

struct Plan {
  std::vector<Chain> chains;  // in the order they are added, which is the order listed
  std::vector<Rule> rules;    // in order within each chain
};

// An error for a rule that cannot be written (a protocol other than tcp/udp/sctp, port 0,
// a bridge name too long for an interface). With no networks and no ports: an empty plan.
Result<Plan> plan(const Ruleset& r);

}  // namespace guise::network::nftplan
