// The table inet guise (one per store: Ruleset::table), and why each of its rules exists:
//   prerouting:  fib daddr type local jump published
//       packets from outside (and from containers) to any of the host's own addresses go
//       through the published ports; nothing else is ever rewritten.
//   output:      fib daddr type local jump published
//       the same for connections the host itself opens (curl localhost:8080); output has
//       no prerouting pass.
//   published:   [ip daddr HOST | meta nfproto ipv4] tcp dport P dnat ip to C:CP comment "ID"
//       one per published port (-p [HOST:]P:CP): to the container's address and port; the
//       comment names the container for people reading `nft list`. `meta nfproto` keeps a
//       v4 mapping away from v6 packets (and the other way round) when no host address is
//       given; a host address of the other family than the container's gets no rule.
//   postrouting: ip saddr SUBNET oifname != BRIDGE masquerade        (networks not internal)
//       containers reach the outside with the host's address, as docker's default bridge.
//   postrouting: oifname BRIDGE ip saddr 127.0.0.0/8 masquerade
//       the host's own 127.0.0.1 reaching a published port (with route_localnet on the
//       bridge): 127/8 cannot be a source on the bridge, so it becomes the bridge's address.
//   postrouting: oifname BRIDGE ct status dnat ip saddr SUBNET masquerade
//       hairpin: a container reaching a published port of its own network; without it the
//       answer goes straight back over the bridge from the peer's own address and the
//       connection never completes.
//   forward:     iifname BRIDGE oifname OTHER drop             (for each other network)
//       isolation: no traffic between two networks of the store (docker's DOCKER-ISOLATION).
//   forward:     iifname BRIDGE oifname != BRIDGE drop; oifname BRIDGE iifname != BRIDGE drop
//       an internal network (--internal) forwards nothing to or from any other link.
//
// Everything goes in one nf_tables batch, which the kernel applies whole or not at all:
// add the table and its chains (no-ops when they are there), flush every chain, add the
// rules. An empty ruleset removes the table (add it, so that deleting cannot fail for its
// absence, then delete it). No `nft` process is involved.
#include "network/nft.h"

#include <libmnl/libmnl.h>
#include <libnftnl/batch.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/table.h>
#include <libnftnl/udata.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <memory>
#include <set>
#include <vector>

#include "network/nft_plan.h"

namespace guise::network {

namespace {

using nftplan::Expr;

struct TableFree { void operator()(nftnl_table* t) const { nftnl_table_free(t); } };
struct ChainFree { void operator()(nftnl_chain* c) const { nftnl_chain_free(c); } };
struct RuleFree { void operator()(nftnl_rule* r) const { nftnl_rule_free(r); } };
struct BatchFree { void operator()(nftnl_batch* b) const { nftnl_batch_free(b); } };
struct SocketClose { void operator()(mnl_socket* s) const { mnl_socket_close(s); } };

// One message of the batch and what it does, in the words an error reports.
struct Message {
  uint16_t type = 0;
  uint16_t flags = 0;
  std::string what;
  std::unique_ptr<nftnl_table, TableFree> table;
  std::unique_ptr<nftnl_chain, ChainFree> chain;
  std::unique_ptr<nftnl_rule, RuleFree> rule;
};

Message table_message(uint16_t type, const std::string& table) {
  Message m;
  m.type = type;
  m.flags = type == NFT_MSG_NEWTABLE ? NLM_F_CREATE : 0;
  m.what = std::string(type == NFT_MSG_NEWTABLE ? "adding" : "deleting") + " table inet " + table;
  m.table.reset(nftnl_table_alloc());
  nftnl_table_set_u32(m.table.get(), NFTNL_TABLE_FAMILY, NFPROTO_INET);
  nftnl_table_set_str(m.table.get(), NFTNL_TABLE_NAME, table.c_str());
  return m;
}

Message chain_message(const std::string& table, const nftplan::Chain& c) {
  Message m;
  m.type = NFT_MSG_NEWCHAIN;
  m.flags = NLM_F_CREATE;
  m.what = "adding chain " + c.name;
  m.chain.reset(nftnl_chain_alloc());
  nftnl_chain* ch = m.chain.get();
  nftnl_chain_set_u32(ch, NFTNL_CHAIN_FAMILY, NFPROTO_INET);
  nftnl_chain_set_str(ch, NFTNL_CHAIN_TABLE, table.c_str());
  nftnl_chain_set_str(ch, NFTNL_CHAIN_NAME, c.name.c_str());
  if (c.base) {
    nftnl_chain_set_str(ch, NFTNL_CHAIN_TYPE, c.type.c_str());
    nftnl_chain_set_u32(ch, NFTNL_CHAIN_HOOKNUM, static_cast<uint32_t>(c.hook));
    nftnl_chain_set_s32(ch, NFTNL_CHAIN_PRIO, c.priority);
    nftnl_chain_set_u32(ch, NFTNL_CHAIN_POLICY, NF_ACCEPT);
  }
  return m;
}

nftnl_expr* expression(const Expr& e) {
  nftnl_expr* x = nullptr;
  switch (e.kind) {
    case Expr::kMeta:
      x = nftnl_expr_alloc("meta");
      nftnl_expr_set_u32(x, NFTNL_EXPR_META_KEY, e.key);
      nftnl_expr_set_u32(x, NFTNL_EXPR_META_DREG, e.reg);
      break;
    case Expr::kPayload:
      x = nftnl_expr_alloc("payload");
      nftnl_expr_set_u32(x, NFTNL_EXPR_PAYLOAD_DREG, e.reg);
      nftnl_expr_set_u32(x, NFTNL_EXPR_PAYLOAD_BASE, e.key);
      nftnl_expr_set_u32(x, NFTNL_EXPR_PAYLOAD_OFFSET, e.offset);
      nftnl_expr_set_u32(x, NFTNL_EXPR_PAYLOAD_LEN, e.len);
      break;
    case Expr::kCmp:
      x = nftnl_expr_alloc("cmp");
      nftnl_expr_set_u32(x, NFTNL_EXPR_CMP_SREG, e.reg);
      nftnl_expr_set_u32(x, NFTNL_EXPR_CMP_OP, e.key);
      nftnl_expr_set(x, NFTNL_EXPR_CMP_DATA, e.data.data(), static_cast<uint32_t>(e.data.size()));
      break;
    case Expr::kBitwise: {
      x = nftnl_expr_alloc("bitwise");
      const std::string zeros(e.data.size(), '\0');
      nftnl_expr_set_u32(x, NFTNL_EXPR_BITWISE_SREG, e.reg);
      nftnl_expr_set_u32(x, NFTNL_EXPR_BITWISE_DREG, e.reg);
      nftnl_expr_set_u32(x, NFTNL_EXPR_BITWISE_LEN, static_cast<uint32_t>(e.data.size()));
      nftnl_expr_set(x, NFTNL_EXPR_BITWISE_MASK, e.data.data(), static_cast<uint32_t>(e.data.size()));
      nftnl_expr_set(x, NFTNL_EXPR_BITWISE_XOR, zeros.data(), static_cast<uint32_t>(zeros.size()));
      break;
    }
    case Expr::kCt:
      x = nftnl_expr_alloc("ct");
      nftnl_expr_set_u32(x, NFTNL_EXPR_CT_KEY, e.key);
      nftnl_expr_set_u32(x, NFTNL_EXPR_CT_DREG, e.reg);
      break;
    case Expr::kFib:
      x = nftnl_expr_alloc("fib");
      nftnl_expr_set_u32(x, NFTNL_EXPR_FIB_DREG, e.reg);
      nftnl_expr_set_u32(x, NFTNL_EXPR_FIB_RESULT, NFT_FIB_RESULT_ADDRTYPE);
      nftnl_expr_set_u32(x, NFTNL_EXPR_FIB_FLAGS, NFTA_FIB_F_DADDR);
      break;
    case Expr::kImmediate:
      x = nftnl_expr_alloc("immediate");
      nftnl_expr_set_u32(x, NFTNL_EXPR_IMM_DREG, e.reg);
      nftnl_expr_set(x, NFTNL_EXPR_IMM_DATA, e.data.data(), static_cast<uint32_t>(e.data.size()));
      break;
    case Expr::kVerdict:
      x = nftnl_expr_alloc("immediate");
      nftnl_expr_set_u32(x, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
      nftnl_expr_set_u32(x, NFTNL_EXPR_IMM_VERDICT, e.key);
      if (!e.chain.empty()) nftnl_expr_set_str(x, NFTNL_EXPR_IMM_CHAIN, e.chain.c_str());
      break;
    case Expr::kNat:
      x = nftnl_expr_alloc("nat");
      nftnl_expr_set_u32(x, NFTNL_EXPR_NAT_TYPE, e.key);
      nftnl_expr_set_u32(x, NFTNL_EXPR_NAT_FAMILY, static_cast<uint32_t>(e.family));
      nftnl_expr_set_u32(x, NFTNL_EXPR_NAT_REG_ADDR_MIN, e.reg);
      nftnl_expr_set_u32(x, NFTNL_EXPR_NAT_REG_PROTO_MIN, e.reg + 1);
      break;
    case Expr::kMasq:
      x = nftnl_expr_alloc("masq");
      break;
  }
  return x;
}

// DELRULE naming only the chain: every rule of it goes (nft's `flush chain`).
Message flush_message(const std::string& table, const std::string& chain) {
  Message m;
  m.type = NFT_MSG_DELRULE;
  m.what = "flushing chain " + chain;
  m.rule.reset(nftnl_rule_alloc());
  nftnl_rule_set_u32(m.rule.get(), NFTNL_RULE_FAMILY, NFPROTO_INET);
  nftnl_rule_set_str(m.rule.get(), NFTNL_RULE_TABLE, table.c_str());
  nftnl_rule_set_str(m.rule.get(), NFTNL_RULE_CHAIN, chain.c_str());
  return m;
}

Result<Message> rule_message(const std::string& table, const nftplan::Rule& r) {
  Message m;
  m.type = NFT_MSG_NEWRULE;
  m.flags = NLM_F_CREATE | NLM_F_APPEND;
  m.what = "adding rule to chain " + r.chain;
  m.rule.reset(nftnl_rule_alloc());
  nftnl_rule* rule = m.rule.get();
  nftnl_rule_set_u32(rule, NFTNL_RULE_FAMILY, NFPROTO_INET);
  nftnl_rule_set_str(rule, NFTNL_RULE_TABLE, table.c_str());
  nftnl_rule_set_str(rule, NFTNL_RULE_CHAIN, r.chain.c_str());
  for (const auto& e : r.exprs) {
    nftnl_expr* x = expression(e);
    if (!x) return sys::sys_error_n(ENOMEM, "nftables: " + m.what);
    nftnl_rule_add_expr(rule, x);
  }
  if (!r.comment.empty()) {
    // nft's own format: TLVs, the comment as type NFTNL_UDATA_RULE_COMMENT with its NUL.
    std::unique_ptr<nftnl_udata_buf, decltype(&nftnl_udata_buf_free)> ud(
        nftnl_udata_buf_alloc(NFTNL_UDATA_COMMENT_MAXLEN + 16), nftnl_udata_buf_free);
    if (!ud || !nftnl_udata_put_strz(ud.get(), NFTNL_UDATA_RULE_COMMENT, r.comment.c_str()))
      return sys::user_error("nftables: comment \"" + r.comment + "\" too long");
    nftnl_rule_set_data(rule, NFTNL_RULE_USERDATA, nftnl_udata_buf_data(ud.get()), nftnl_udata_buf_len(ud.get()));
  }
  return m;
}

// Reads the kernel's answers to the batch: an error for each message that failed (the
// first is the cause; later ones may only follow from it), and the ACK asked for on the
// last message, which the kernel sends after all of them.
Result<void> read_answers(int fd, uint32_t begin_seq, uint32_t last_seq, const std::vector<Message>& msgs) {
  std::vector<char> buf(1 << 16);
  int first_errno = 0;
  uint32_t first_seq = 0;
  for (bool done = false; !done;) {
    ssize_t n = ::recv(fd, buf.data(), buf.size(), 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return sys::sys_error("nftables: reading the kernel's answer");
    }
    auto* nlh = reinterpret_cast<nlmsghdr*>(buf.data());
    int len = static_cast<int>(n);
    for (; mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len)) {
      if (nlh->nlmsg_type != NLMSG_ERROR) continue;
      auto* err = static_cast<nlmsgerr*>(mnl_nlmsg_get_payload(nlh));
      if (err->error != 0 && first_errno == 0) {
        first_errno = -err->error;
        first_seq = nlh->nlmsg_seq;
      }
      if (nlh->nlmsg_seq == last_seq || (nlh->nlmsg_seq == begin_seq && err->error != 0)) done = true;
    }
  }
  if (first_errno == 0) return Ok();
  std::string what = "applying the batch";
  if (first_seq > begin_seq && first_seq <= last_seq) what = msgs[first_seq - begin_seq - 1].what;
  return sys::sys_error_n(first_errno, "nftables: " + what);
}

Result<void> send_batch(std::vector<Message>& msgs) {
  std::unique_ptr<mnl_socket, SocketClose> nl(mnl_socket_open(NETLINK_NETFILTER));
  if (!nl) return sys::sys_error("nftables: opening a netfilter netlink socket");
  if (mnl_socket_bind(nl.get(), 0, MNL_SOCKET_AUTOPID) < 0) return sys::sys_error("nftables: binding a netlink socket");
  const int fd = mnl_socket_get_fd(nl.get());
  int one = 1;
  // Errors without a copy of the failed message: the answers stay small.
  ::setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof one);
  timeval timeout{10, 0};  // the kernel answers at once; this only guards against a hang
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);

  std::unique_ptr<nftnl_batch, BatchFree> batch(nftnl_batch_alloc(static_cast<uint32_t>(::getpagesize()) * 32, MNL_SOCKET_BUFFER_SIZE));
  if (!batch) return sys::sys_error_n(ENOMEM, "nftables: allocating a batch");
  uint32_t seq = 1;
  const uint32_t begin_seq = seq++;
  nftnl_batch_begin(static_cast<char*>(nftnl_batch_buffer(batch.get())), begin_seq);
  nftnl_batch_update(batch.get());
  for (size_t i = 0; i < msgs.size(); ++i) {
    Message& m = msgs[i];
    const uint16_t flags = m.flags | (i + 1 == msgs.size() ? NLM_F_ACK : 0);
    nlmsghdr* nlh = nftnl_nlmsg_build_hdr(static_cast<char*>(nftnl_batch_buffer(batch.get())), m.type, NFPROTO_INET, flags, seq++);
    if (m.table) nftnl_table_nlmsg_build_payload(nlh, m.table.get());
    if (m.chain) nftnl_chain_nlmsg_build_payload(nlh, m.chain.get());
    if (m.rule) nftnl_rule_nlmsg_build_payload(nlh, m.rule.get());
    if (nftnl_batch_update(batch.get()) < 0) return sys::sys_error("nftables: growing the batch");
  }
  const uint32_t last_seq = seq - 1;
  nftnl_batch_end(static_cast<char*>(nftnl_batch_buffer(batch.get())), seq++);
  nftnl_batch_update(batch.get());

  std::vector<iovec> iov(static_cast<size_t>(nftnl_batch_iovec_len(batch.get())));
  nftnl_batch_iovec(batch.get(), iov.data(), static_cast<uint32_t>(iov.size()));
  size_t total = 0;
  for (const auto& v : iov) total += v.iov_len;
  // The whole batch is one datagram: the send buffer must hold it.
  int sndbuf = static_cast<int>(total + (1 << 16));
  if (::setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf, sizeof sndbuf) < 0)
    ::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  msghdr msg{};
  msg.msg_name = &kernel;
  msg.msg_namelen = sizeof kernel;
  msg.msg_iov = iov.data();
  msg.msg_iovlen = iov.size();
  if (::sendmsg(fd, &msg, 0) < 0) return sys::sys_error("nftables: sending the batch");
  return read_answers(fd, begin_seq, last_seq, msgs);
}

// add table; delete table: whatever was there is gone, and absence is no error.
std::vector<Message> removal(const std::string& table) {
  std::vector<Message> msgs;
  msgs.push_back(table_message(NFT_MSG_NEWTABLE, table));
  msgs.push_back(table_message(NFT_MSG_DELTABLE, table));
  return msgs;
}

}  // namespace

Result<void> apply_ruleset(const Ruleset& r) {
  auto plan = GUISE_TRY(nftplan::plan(r));
  if (plan.chains.empty()) return remove_ruleset(r.table);
  // The table and its chains stay; only their rules are replaced. Deleting and re-adding
  // the table would unregister and register its hooks, which waits for RCU grace periods:
  // about 10 ms a change, where flushing and refilling the chains costs a fraction of one.
  std::vector<Message> msgs;
  msgs.push_back(table_message(NFT_MSG_NEWTABLE, r.table));
  for (const auto& c : plan.chains) msgs.push_back(chain_message(r.table, c));
  for (const auto& c : plan.chains) msgs.push_back(flush_message(r.table, c.name));
  for (const auto& rule : plan.rules) msgs.push_back(GUISE_TRY(rule_message(r.table, rule)));
  return send_batch(msgs);
}

Result<void> extend_ruleset(const Ruleset& before, const Ruleset& after) {
  if (before.table != after.table) return apply_ruleset(after);
  auto old_plan = nftplan::plan(before);
  auto new_plan = GUISE_TRY(nftplan::plan(after));
  // No network before or after (a store that only ever ran --network none): no table to
  // touch, and a kernel without nf_tables is no obstacle.
  if (old_plan && old_plan->chains.empty() && new_plan.chains.empty()) return Ok();
  if (!old_plan || old_plan->chains.empty() || new_plan.chains.empty() ||
      old_plan->chains.size() != new_plan.chains.size())
    return apply_ruleset(after);
  // The rules of `before`, each to be found again in `after`; what is left over in
  // `after` is added. Every rule guise writes matches what no other rule of its chain
  // matches, so a rule appended at the end means what it would mean anywhere.
  std::multiset<std::string> held;
  auto key = [](const nftplan::Rule& r) { return r.chain + "\n" + r.text + "\n" + r.comment; };
  for (const auto& r : old_plan->rules) held.insert(key(r));
  std::vector<Message> msgs;
  for (const auto& r : new_plan.rules) {
    auto it = held.find(key(r));
    if (it != held.end()) {
      held.erase(it);
      continue;
    }
    msgs.push_back(GUISE_TRY(rule_message(after.table, r)));
  }
  if (!held.empty()) return apply_ruleset(after);  // something goes: only a rewrite removes
  if (msgs.empty()) return Ok();
  auto sent = send_batch(msgs);
  if (!sent) return apply_ruleset(after);  // the table is not what `before` says (a reboot, a hand)
  return Ok();
}

Result<void> remove_ruleset(const std::string& table) {
  std::vector<Message> msgs = removal(table);
  return send_batch(msgs);
}

}  // namespace guise::network
