#include "network/netlink.h"

#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <linux/if_bridge.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <net/if.h>
#include <sched.h>
#include <sys/socket.h>

#include <cstring>
#include <utility>
#include <vector>

#include "sys/fd.h"

namespace guise::network {

namespace {

// Room for one request: a header, its family header and a few attributes (the largest,
// a veth pair, carries a second ifinfomsg and name for the peer).
constexpr size_t kRequestSize = 1024;
// Room for a reply: one RTM_NEWLINK with its statistics and link info is a few KiB; the
// kernel truncates a message that does not fit, so this is generous.
constexpr size_t kReplySize = 32768;

// A request buffer whose header asks for `type` with `flags` (NLM_F_REQUEST added).
struct Message {
  alignas(nlmsghdr) char buf[kRequestSize] = {};
  nlmsghdr* nlh;

  Message(uint16_t type, uint16_t flags) : nlh(mnl_nlmsg_put_header(buf)) {
    nlh->nlmsg_type = type;
    nlh->nlmsg_flags = NLM_F_REQUEST | flags;
  }
  template <class T>
  T* extra() {
    return static_cast<T*>(mnl_nlmsg_put_extra_header(nlh, sizeof(T)));
  }
  ifinfomsg* link(int index = 0, uint8_t family = AF_UNSPEC) {
    auto* ifi = extra<ifinfomsg>();
    ifi->ifi_family = family;
    ifi->ifi_index = index;
    return ifi;
  }
};

// Sends `nlh` with an ACK asked for and reads replies until the ACK: each other message
// of this request goes to `cb`. An NLMSG_ERROR reply becomes an error naming `what`.
Result<void> transact(mnl_socket* sock, uint32_t portid, nlmsghdr* nlh, const std::string& what,
                      mnl_cb_t cb = nullptr, void* data = nullptr) {
  nlh->nlmsg_flags |= NLM_F_ACK;
  if (mnl_socket_sendto(sock, nlh, nlh->nlmsg_len) < 0) return sys::sys_error(what + ": sending netlink request");
  std::vector<char> reply(kReplySize);
  for (;;) {
    ssize_t n = mnl_socket_recvfrom(sock, reply.data(), reply.size());
    if (n < 0) return sys::sys_error(what + ": reading netlink reply");
    // MNL_CB_STOP (the ACK), MNL_CB_ERROR (errno from the kernel's NLMSG_ERROR) or
    // MNL_CB_OK (data so far; the ACK comes in a later datagram).
    int r = mnl_cb_run(reply.data(), n, nlh->nlmsg_seq, portid, cb, data);
    if (r == MNL_CB_ERROR) return sys::sys_error_n(errno, what);
    if (r == MNL_CB_STOP) return Ok();
  }
}

// What an RTM_GETLINK reply tells: the index, and the hardware address if it has one.
struct LinkInfo {
  int index = 0;
  bool has_mac = false;
  MacAddress mac{};
};

int link_attr(const nlattr* attr, void* data) {
  auto* info = static_cast<LinkInfo*>(data);
  if (mnl_attr_get_type(attr) == IFLA_ADDRESS && mnl_attr_get_payload_len(attr) == info->mac.size()) {
    std::memcpy(info->mac.data(), mnl_attr_get_payload(attr), info->mac.size());
    info->has_mac = true;
  }
  return MNL_CB_OK;
}

int link_reply(const nlmsghdr* nlh, void* data) {
  if (nlh->nlmsg_type != RTM_NEWLINK) return MNL_CB_OK;
  auto* ifi = static_cast<const ifinfomsg*>(mnl_nlmsg_get_payload(nlh));
  static_cast<LinkInfo*>(data)->index = ifi->ifi_index;
  return mnl_attr_parse(nlh, sizeof(ifinfomsg), link_attr, data);
}

// A request answered with EEXIST (or ENODEV) names a state the caller accepts.
bool failed_with(const Result<void>& r, int errnum) { return !r.ok() && r.error().errnum == errnum; }

// RTM_GETLINK by name (IFLA_IFNAME) asks the socket's namespace, where if_nametoindex
// would ask the calling thread's. kNotFound for a link by no such name.
Result<LinkInfo> get_link(mnl_socket* sock, uint32_t portid, uint32_t seq, const std::string& name,
                          const std::string& what) {
  Message m(RTM_GETLINK, 0);
  m.link();
  mnl_attr_put_strz(m.nlh, IFLA_IFNAME, name.c_str());
  m.nlh->nlmsg_seq = seq;
  LinkInfo info;
  auto r = transact(sock, portid, m.nlh, what, link_reply, &info);
  if (failed_with(r, ENODEV)) return sys::not_found("link " + name + " does not exist");
  if (!r.ok()) return r.error();
  return info;
}

}  // namespace

Netlink::Netlink(mnl_socket* s) : sock_(s), portid_(mnl_socket_get_portid(s)) {}

Netlink::~Netlink() {
  if (sock_) mnl_socket_close(sock_);
}

Netlink::Netlink(Netlink&& o) noexcept
    : sock_(std::exchange(o.sock_, nullptr)), seq_(o.seq_), portid_(o.portid_) {}

Netlink& Netlink::operator=(Netlink&& o) noexcept {
  if (this != &o) {
    if (sock_) mnl_socket_close(sock_);
    sock_ = std::exchange(o.sock_, nullptr);
    seq_ = o.seq_;
    portid_ = o.portid_;
  }
  return *this;
}

Result<Netlink> Netlink::open() {
  mnl_socket* s = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
  if (!s) return sys::sys_error("opening a route netlink socket");
  if (mnl_socket_bind(s, 0, MNL_SOCKET_AUTOPID) < 0) {
    int e = errno;
    mnl_socket_close(s);
    return sys::sys_error_n(e, "binding a route netlink socket");
  }
  return Netlink(s);
}

// A netlink socket belongs to the namespace it was created in for its whole life, so
// the thread visits `netns_fd` only for the socket() call. The network namespace is
// per thread: other threads of the process are not affected.
Result<Netlink> Netlink::open_in(int netns_fd) {
  sys::Fd home(::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
  if (!home.valid()) return sys::sys_error("opening the current network namespace", "/proc/thread-self/ns/net");
  if (::setns(netns_fd, CLONE_NEWNET) < 0) return sys::sys_error("entering a network namespace");
  auto opened = open();
  // Always go back: a thread left in the container's namespace would act there later.
  if (::setns(home.get(), CLONE_NEWNET) < 0) return sys::sys_error("returning to the original network namespace");
  return opened;
}

Result<void> Netlink::request(void* nlh, const std::string& what) {
  auto* h = static_cast<nlmsghdr*>(nlh);
  h->nlmsg_seq = ++seq_;
  return transact(sock_, portid_, h, what);
}

Result<int> Netlink::link_index(const std::string& name) {
  return GUISE_TRY(get_link(sock_, portid_, ++seq_, name, "looking up link " + name)).index;
}

bool Netlink::link_exists(const std::string& name) { return link_index(name).ok(); }

Result<bool> Netlink::create_bridge(const std::string& name, int mtu) {
  Message m(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
  m.link();
  mnl_attr_put_strz(m.nlh, IFLA_IFNAME, name.c_str());
  if (mtu > 0) mnl_attr_put_u32(m.nlh, IFLA_MTU, mtu);
  nlattr* info = mnl_attr_nest_start(m.nlh, IFLA_LINKINFO);
  mnl_attr_put_strz(m.nlh, IFLA_INFO_KIND, "bridge");
  mnl_attr_nest_end(m.nlh, info);
  auto r = request(m.nlh, "creating bridge " + name);
  if (failed_with(r, EEXIST)) return false;
  if (!r.ok()) return r.error();
  return true;
}

// Both ends in one request: the peer is made in `peer_netns_fd` directly, so it never
// appears here under a name that could clash with a link of the host.
Result<void> Netlink::create_veth(const std::string& host_name, const std::string& peer_name, int peer_netns_fd,
                                  int mtu) {
  Message m(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
  m.link();
  mnl_attr_put_strz(m.nlh, IFLA_IFNAME, host_name.c_str());
  if (mtu > 0) mnl_attr_put_u32(m.nlh, IFLA_MTU, mtu);
  nlattr* info = mnl_attr_nest_start(m.nlh, IFLA_LINKINFO);
  mnl_attr_put_strz(m.nlh, IFLA_INFO_KIND, "veth");
  nlattr* data = mnl_attr_nest_start(m.nlh, IFLA_INFO_DATA);
  // VETH_INFO_PEER holds a whole link description: an ifinfomsg, then its attributes.
  nlattr* peer = mnl_attr_nest_start(m.nlh, VETH_INFO_PEER);
  m.link();
  mnl_attr_put_strz(m.nlh, IFLA_IFNAME, peer_name.c_str());
  mnl_attr_put_u32(m.nlh, IFLA_NET_NS_FD, peer_netns_fd);
  if (mtu > 0) mnl_attr_put_u32(m.nlh, IFLA_MTU, mtu);
  mnl_attr_nest_end(m.nlh, peer);
  mnl_attr_nest_end(m.nlh, data);
  mnl_attr_nest_end(m.nlh, info);
  return request(m.nlh, "creating veth " + host_name);
}

// RTM_SETLINK finds the link by IFLA_IFNAME when the index is 0: one round trip.
Result<void> Netlink::set_master(const std::string& link, const std::string& bridge) {
  int master = GUISE_TRY(link_index(bridge), "attaching " + link + " to bridge " + bridge);
  Message m(RTM_SETLINK, 0);
  m.link();
  mnl_attr_put_strz(m.nlh, IFLA_IFNAME, link.c_str());
  mnl_attr_put_u32(m.nlh, IFLA_MASTER, master);
  return request(m.nlh, "attaching " + link + " to bridge " + bridge);
}

Result<void> Netlink::set_up(const std::string& link) {
  Message m(RTM_SETLINK, 0);
  ifinfomsg* ifi = m.link();
  ifi->ifi_flags = IFF_UP;
  ifi->ifi_change = IFF_UP;
  mnl_attr_put_strz(m.nlh, IFLA_IFNAME, link.c_str());
  return request(m.nlh, "setting link " + link + " up");
}

Result<void> Netlink::set_mac(const std::string& link, const MacAddress& mac) {
  Message m(RTM_SETLINK, 0);
  m.link();
  mnl_attr_put_strz(m.nlh, IFLA_IFNAME, link.c_str());
  mnl_attr_put(m.nlh, IFLA_ADDRESS, mac.size(), mac.data());
  return request(m.nlh, "setting the MAC address of " + link);
}

Result<MacAddress> Netlink::mac_of(const std::string& link) {
  LinkInfo info = GUISE_TRY(get_link(sock_, portid_, ++seq_, link, "reading the MAC address of " + link));
  if (!info.has_mac) return sys::user_error("link " + link + " has no Ethernet address");
  return info.mac;
}

// A bridge port's own settings go to the bridge driver: RTM_SETLINK of family AF_BRIDGE
// on the port's index, with the settings nested in IFLA_PROTINFO (the nested form,
// NLA_F_NESTED, which mnl_attr_nest_start sets; the flat form is the old STP state).
Result<void> Netlink::set_hairpin(const std::string& port, bool on) {
  std::string what = std::string(on ? "enabling" : "disabling") + " hairpin mode on " + port;
  int index = GUISE_TRY(link_index(port), what);
  Message m(RTM_SETLINK, 0);
  m.link(index, AF_BRIDGE);
  nlattr* prot = mnl_attr_nest_start(m.nlh, IFLA_PROTINFO);
  mnl_attr_put_u8(m.nlh, IFLA_BRPORT_MODE, on ? 1 : 0);
  mnl_attr_nest_end(m.nlh, prot);
  return request(m.nlh, what);
}

Result<void> Netlink::add_address(const std::string& link, const IpAddress& address, int prefix_length) {
  std::string what = "adding address " + address.str() + "/" + std::to_string(prefix_length) + " to " + link;
  int index = GUISE_TRY(link_index(link), what);
  Message m(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL);
  auto* ifa = m.extra<ifaddrmsg>();
  ifa->ifa_family = address.family;
  ifa->ifa_prefixlen = prefix_length;
  ifa->ifa_scope = RT_SCOPE_UNIVERSE;
  ifa->ifa_index = index;
  if (address.v4()) {
    // IFA_LOCAL is the interface's own address; IFA_ADDRESS the same on a broadcast link.
    mnl_attr_put(m.nlh, IFA_LOCAL, address.size(), address.bytes.data());
    mnl_attr_put(m.nlh, IFA_ADDRESS, address.size(), address.bytes.data());
  } else {
    // No duplicate address detection: the address is usable at once, not "tentative"
    // for a second or two (the subnet's addresses are ours to hand out).
    ifa->ifa_flags = IFA_F_NODAD;
    mnl_attr_put(m.nlh, IFA_ADDRESS, address.size(), address.bytes.data());
    mnl_attr_put_u32(m.nlh, IFA_FLAGS, IFA_F_NODAD);
  }
  auto r = request(m.nlh, what);
  if (failed_with(r, EEXIST)) return Ok();
  return r;
}

// The kernel finds the link to the gateway from the connected route of the link's own
// address, so the address must be there (and the link up) before this.
Result<void> Netlink::add_default_route(const IpAddress& gateway) {
  Message m(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL);
  auto* rt = m.extra<rtmsg>();
  rt->rtm_family = gateway.family;
  rt->rtm_dst_len = 0;
  rt->rtm_table = RT_TABLE_MAIN;
  rt->rtm_protocol = RTPROT_BOOT;
  rt->rtm_scope = RT_SCOPE_UNIVERSE;
  rt->rtm_type = RTN_UNICAST;
  mnl_attr_put(m.nlh, RTA_GATEWAY, gateway.size(), gateway.bytes.data());
  return request(m.nlh, "adding the default route via " + gateway.str());
}

Result<void> Netlink::delete_link(const std::string& name) {
  Message m(RTM_DELLINK, 0);
  m.link();
  mnl_attr_put_strz(m.nlh, IFLA_IFNAME, name.c_str());
  auto r = request(m.nlh, "deleting link " + name);
  if (failed_with(r, ENODEV)) return Ok();
  return r;
}

}  // namespace guise::network
