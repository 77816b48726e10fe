"""Fixtures for the networking tests (test_network*.py).

`net` is the engine fixture of engine_fixture.py (a store of its own, busybox images),
plus what networking may leave behind: after the test, every container is removed and
then nothing of it may remain — no veth on the host, no pinned namespace, no lease, no
rule in the store's nftables table.  The store's bridges and table (named after a hash
of the store's path: g<hash>-N, inet guise-<hash>) are removed at the end.

`Peer` is a network namespace standing in for another machine: a veth to the host with
a /30 of its own, so tests reach the host's published ports "from outside" and see
traffic a container sends "to the internet" without any packet leaving this machine.
"""
import os
import re
import subprocess
import time
import urllib.request

import pytest

from engine_fixture import (Engine, bridge_prefix, dns_responders, eng, images, remove_network_state,  # noqa: F401
                            table_name, template_store)
from conftest import wait_for

BUSYBOX = "/bin/busybox"


def sh(*argv, check=True, timeout=30):
    p = subprocess.run([str(a) for a in argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
    if check and p.returncode != 0:
        raise AssertionError("%s -> %d: %s %s" % (" ".join(map(str, argv)), p.returncode, p.stdout, p.stderr))
    return p.stdout.decode(errors="replace")


def host_links():
    """Link names in the host's namespace (without @peer)."""
    out = sh("ip", "-o", "link", "show")
    return sorted(re.findall(r"^\d+: ([^:@]+)", out, re.M))


def nft_table(root):
    p = subprocess.run(["nft", "list", "table", "inet", table_name(root)], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE)
    return p.stdout.decode() if p.returncode == 0 else ""


def endpoint_files(root):
    found = []
    base = os.path.join(root, "networks")
    for net in os.listdir(base) if os.path.isdir(base) else []:
        d = os.path.join(base, net, "endpoints")
        if os.path.isdir(d):
            found += [os.path.join(d, f) for f in os.listdir(d)]
    return found


def netns_pins(root):
    d = os.path.join(root, "netns")
    return [f for f in os.listdir(d) if len(f) == 64] if os.path.isdir(d) else []


def network_leftovers(root, ids):
    left = []
    veths = [l for l in host_links() if any(l.startswith("gv" + cid[:10]) for cid in ids)]
    if veths:
        left.append("veths: %s" % veths)
    pins = netns_pins(root)
    if pins:
        left.append("netns: %s" % pins)
    leases = endpoint_files(root)
    if leases:
        left.append("leases: %s" % leases)
    rules = [l.strip() for l in nft_table(root).splitlines() if "dnat ip" in l and " to " in l]
    if rules:
        left.append("nft rules: %s" % rules)
    return left


@pytest.fixture
def net(eng):  # noqa: F811
    if os.geteuid() != 0:
        pytest.skip("networking needs root")
    if not os.path.exists("/proc/sys/net/ipv4/ip_forward"):
        pytest.skip("no IPv4 forwarding sysctl")
    try:
        yield eng
        ids = set(eng.ids()) | eng.seen_ids
        for cid in eng.ids():
            eng("rm", "-f", cid)
        wait_for(lambda: not network_leftovers(eng.root, ids), 10)
        left = network_leftovers(eng.root, ids)
        assert not left, "left behind: %s" % "; ".join(left)
        assert wait_for(lambda: not dns_responders(eng.root), 10), "DNS responders outlived their containers"
    finally:
        for cid in eng.ids():
            eng("rm", "-f", cid)


def no_proxy_opener():
    return urllib.request.build_opener(urllib.request.ProxyHandler({}))


def http_get(url, timeout=5):
    with no_proxy_opener().open(url, timeout=timeout) as r:
        return r.read().decode()


def http_get_retry(url, timeout=10):
    """GET until it answers (a container's server may still be starting)."""
    end = time.monotonic() + timeout
    while True:
        try:
            return http_get(url, timeout=2)
        except OSError:
            if time.monotonic() > end:
                raise
            time.sleep(0.1)


def httpd_args(text, port=8080):
    """A container command serving TEXT at / on PORT."""
    return ["sh", "-c", "mkdir -p /www && echo %s > /www/index.html && exec httpd -f -p %d -h /www" % (text, port)]


def host_address():
    """The host's own address on its default route's interface (its address 'on the LAN')."""
    out = sh("ip", "-4", "-o", "route", "get", "192.0.2.1", check=False)
    m = re.search(r"\bsrc (\S+)", out)
    return m.group(1) if m else None


class Peer:
    """A namespace standing in for another machine: veth h-<name> (host side, .1) <->
    eth0 in netns (peer side, .2), on 10.<a>.<b>.0/30, with a route back to the host."""

    count = 0

    def __init__(self, tag):
        Peer.count += 1
        self.ns = "guisetest-%s-%d-%d" % (tag, os.getpid() % 10000, Peer.count)
        self.host_if = "gt%d%d" % (os.getpid() % 10000, Peer.count)
        third = (os.getpid() + Peer.count) % 250
        self.host_ip = "10.251.%d.1" % third
        self.peer_ip = "10.251.%d.2" % third
        sh("ip", "netns", "add", self.ns)
        try:
            sh("ip", "link", "add", self.host_if, "type", "veth", "peer", "name", "eth0", "netns", self.ns)
            sh("ip", "addr", "add", self.host_ip + "/30", "dev", self.host_if)
            sh("ip", "link", "set", self.host_if, "up")
            self.run("ip", "addr", "add", self.peer_ip + "/30", "dev", "eth0")
            self.run("ip", "link", "set", "eth0", "up")
            self.run("ip", "link", "set", "lo", "up")
            self.run("ip", "route", "add", "default", "via", self.host_ip)
        except Exception:
            self.close()
            raise

    def run(self, *argv, check=True, timeout=30):
        return sh("ip", "netns", "exec", self.ns, *argv, check=check, timeout=timeout)

    def popen(self, *argv, **kw):
        return subprocess.Popen(["ip", "netns", "exec", self.ns] + [str(a) for a in argv], **kw)

    def close(self):
        subprocess.run(["ip", "link", "del", self.host_if], stderr=subprocess.DEVNULL)
        subprocess.run(["ip", "netns", "del", self.ns], stderr=subprocess.DEVNULL)


@pytest.fixture
def peer():
    p = Peer("peer")
    yield p
    p.close()
