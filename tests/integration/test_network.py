"""Container networking, from the host and from inside containers: the default bridge and
user networks, published TCP and UDP ports (from 127.0.0.1, the host's own address, and
a namespace standing in for a remote client), hairpin, egress NAT, isolation between
networks, none, host, container:NAME, names and DNS, port conflicts, and what `rm`,
a failed `run` and a killed monitor leave behind (nothing)."""
import json
import os
import random
import re
import signal
import socket
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from network_fixture import (Peer, endpoint_files, host_address, host_links, http_get, http_get_retry,  # noqa: F401
                             httpd_args, net, netns_pins, nft_table, peer, sh, table_name, bridge_prefix)
from engine_fixture import eng, images, template_store  # noqa: F401
from conftest import testbin_host, wait_for  # noqa: F401


def _bindable(port, proto):
    s = socket.socket(socket.AF_INET, proto)
    try:
        s.bind(("0.0.0.0", port))
        return True
    except OSError:
        return False
    finally:
        s.close()


def free_ports(count, proto=socket.SOCK_STREAM):
    """`count` consecutive host ports that nothing holds now. They are drawn below the kernel's
    ephemeral range (ip_local_port_range), so a connection another test opens meanwhile cannot
    be given one of them as its local port before the container publishes it."""
    low = int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0])
    rng = random.Random()
    for _ in range(200):
        base = rng.randrange(10000, max(10001, low - count))
        if all(_bindable(base + i, proto) for i in range(count)):
            return base
    raise RuntimeError("no %d consecutive free ports below %d" % (count, low))


def free_port(proto=socket.SOCK_STREAM):
    return free_ports(1, proto)


def ip_of(net, name, network=None):
    settings = net.inspect(name)["NetworkSettings"]
    if network:
        return settings["Networks"][network]["IPAddress"]
    return settings["IPAddress"]


def in_ctr(net, name, *cmd, check=0, timeout=30):
    return net("exec", name, *cmd, check=check, timeout=timeout)


def get_in(net, name, host, port=80):
    """GET / from inside container NAME (busybox nc; this busybox's wget is not usable):
    the body's last line, or None when the connection failed."""
    r = in_ctr(net, name, "sh", "-c", "printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 5 %s %d" % (host, port), check=None)
    lines = r.out.strip().splitlines()
    return lines[-1].strip() if r.rc == 0 and lines and lines[0].startswith("HTTP/") else None


# --------------------------------------------------------------- the seeds' case


def test_two_containers_on_8080_each_reachable_through_its_own_port(net):
    p1, p2 = free_port(), free_port()
    net.run_d("--name", "one", "-p", "%d:8080" % p1, "bb", *httpd_args("one"))
    net.run_d("--name", "two", "-p", "%d:8080" % p2, "bb", *httpd_args("two"))
    assert http_get_retry("http://127.0.0.1:%d/" % p1).strip() == "one"
    assert http_get_retry("http://127.0.0.1:%d/" % p2).strip() == "two"
    # Both bound :8080, each in a namespace of its own, with its own address.
    ip1, ip2 = ip_of(net, "one"), ip_of(net, "two")
    assert ip1 and ip2 and ip1 != ip2
    addr = host_address()
    if addr:
        assert http_get_retry("http://%s:%d/" % (addr, p1)).strip() == "one"
    # The mapping as docker shows it.
    assert "8080/tcp -> 0.0.0.0:%d" % p1 in net.ok("port", "one").out
    assert "0.0.0.0:%d->8080/tcp" % p1 in net.ok("ps").out
    ports = net.inspect("one")["NetworkSettings"]["Ports"]["8080/tcp"]
    assert {"HostIp": "0.0.0.0", "HostPort": str(p1)} in ports


def test_published_port_from_a_remote_client(net, peer):
    p = free_port()
    net.run_d("--name", "web", "-p", "%d:8080" % p, "bb", *httpd_args("remote-ok"))
    http_get_retry("http://127.0.0.1:%d/" % p)
    # The peer reaches the host at its address on the peer's link, as a LAN client would.
    out = peer.run("python3", "-c", "import urllib.request as u;o=u.build_opener(u.ProxyHandler({}));"
                   "print(o.open('http://%s:%d/', timeout=5).read().decode())" % (peer.host_ip, p))
    assert out.strip() == "remote-ok"


def test_published_udp_port(net, testbin_host):
    p = free_port(socket.SOCK_DGRAM)
    net.run_d("--name", "udp1", "-p", "%d:5353/udp" % p, "-v", "%s:/bin/t:ro" % testbin_host, "bb",
              "/bin/t", "udp-echo", "5353")
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(0.5)
    try:
        def answered():
            s.sendto(b"over-udp", ("127.0.0.1", p))
            try:
                return s.recvfrom(100)[0]
            except socket.timeout:
                return None
        assert wait_for(answered, 10) == b"echo:over-udp"
    finally:
        s.close()


def test_published_port_on_one_host_address_only(net):
    p = free_port()
    net.run_d("--name", "lo-only", "-p", "127.0.0.1:%d:8080" % p, "bb", *httpd_args("lo-only"))
    assert http_get_retry("http://127.0.0.1:%d/" % p).strip() == "lo-only"
    addr = host_address()
    if addr:
        with pytest.raises(OSError):
            http_get("http://%s:%d/" % (addr, p), timeout=2)
    assert "8080/tcp -> 127.0.0.1:%d" % p in net.ok("port", "lo-only").out


def test_hairpin_a_container_reaches_a_published_port_through_the_host(net):
    p = free_port()
    net.run_d("--name", "srv", "-p", "%d:8080" % p, "bb", *httpd_args("hairpin"))
    net.run_d("--name", "cli", "bb", "sleep", "100")
    http_get_retry("http://127.0.0.1:%d/" % p)
    gw = net.fmt("srv", "{{.NetworkSettings.Gateway}}")
    for who in ("cli", "srv"):  # another container, and the server itself
        assert get_in(net, who, gw, p) == "hairpin", who


def test_publish_all_uses_exposed_ports_on_free_host_ports(net):
    net.run_d("--name", "pa", "-P", "--expose", "8080", "bb", *httpd_args("all"))
    line = net.ok("port", "pa", "8080").out.splitlines()[0]
    host_port = int(line.rsplit(":", 1)[1])
    assert host_port > 0
    assert http_get_retry("http://127.0.0.1:%d/" % host_port).strip() == "all"


def test_port_range(net):
    a = free_ports(2)
    b = a + 1
    net.run_d("--name", "rng", "-p", "%d-%d:8080-8081" % (a, b), "bb", "sh", "-c",
              "mkdir /w; echo r > /w/index.html; httpd -p 8080 -h /w; exec httpd -f -p 8081 -h /w")
    out = net.ok("port", "rng").out
    assert "8080/tcp -> 0.0.0.0:%d" % a in out and "8081/tcp -> 0.0.0.0:%d" % b in out
    assert http_get_retry("http://127.0.0.1:%d/" % b).strip() == "r"


# --------------------------------------------------------------- egress, host, isolation


def test_egress_is_masqueraded_to_the_host(net, peer):
    # A server "on the internet" (the peer namespace) records who connected.
    srv = peer.popen("python3", "-c", (
        "import socket;s=socket.socket();s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1);"
        "s.bind(('0.0.0.0',9099));s.listen(1);s.settimeout(20);c,a=s.accept();"
        "c.sendall(b'hello\\n');print(a[0],flush=True)"), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        time.sleep(0.3)
        net.run_d("--name", "out", "bb", "sleep", "100")
        r = in_ctr(net, "out", "sh", "-c", "nc -w 5 %s 9099 </dev/null" % peer.peer_ip)
        assert "hello" in r.out
        seen = srv.communicate(timeout=20)[0].decode().strip()
        # The peer saw the host's address, not the container's private one.
        assert seen == peer.host_ip, (seen, ip_of(net, "out"))
    finally:
        if srv.poll() is None:
            srv.kill()
            srv.wait()


def test_container_reaches_a_server_on_the_host(net):
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("0.0.0.0", 0))
    srv.listen(1)
    port = srv.getsockname()[1]
    got = []

    def accept():
        srv.settimeout(15)
        try:
            c, a = srv.accept()
            got.append(a[0])
            c.sendall(b"from-host\n")
            c.close()
        except OSError:
            pass

    t = threading.Thread(target=accept)
    t.start()
    try:
        net.run_d("--name", "cc", "bb", "sleep", "100")
        gw = net.fmt("cc", "{{.NetworkSettings.Gateway}}")
        r = in_ctr(net, "cc", "sh", "-c", "nc -w 5 %s %d </dev/null" % (gw, port))
        assert "from-host" in r.out
    finally:
        t.join()
        srv.close()
    assert got == [ip_of(net, "cc")]


def test_user_networks_resolve_names_and_are_isolated(net):
    net.ok("network", "create", "front")
    net.ok("network", "create", "back")
    net.run_d("--name", "a1", "--network", "front", "--network-alias", "web", "bb", *httpd_args("a1", 80))
    net.run_d("--name", "a2", "--network", "front", "bb", "sleep", "100")
    net.run_d("--name", "b1", "--network", "back", "bb", "sleep", "100")
    a1 = ip_of(net, "a1", "front")
    # By IP, by name and by alias within the network.
    for target in (a1, "a1", "web"):
        assert get_in(net, "a2", target) == "a1", target
    r = in_ctr(net, "a2", "nslookup", "a1", check=None)
    assert a1 in r.out, r
    # Not from another network: neither by address nor by name.
    assert get_in(net, "b1", a1) is None
    r = in_ctr(net, "b1", "nslookup", "a1", check=None)
    assert a1 not in r.out, r


def test_internal_network_has_no_route_out(net, peer):
    net.ok("network", "create", "--internal", "sealed")
    net.run_d("--name", "s1", "--network", "sealed", "bb", "sleep", "100")
    net.run_d("--name", "s2", "--network", "sealed", "bb", *httpd_args("s2", 80))
    routes = in_ctr(net, "s1", "ip", "route").out
    assert "default" not in routes, routes
    r = in_ctr(net, "s1", "sh", "-c", "nc -w 3 %s 9 </dev/null" % peer.peer_ip, check=None)
    assert r.rc != 0
    # Its members still reach each other.
    assert get_in(net, "s1", "s2") == "s2"


def test_default_bridge_reaches_by_ip_not_by_name(net):
    net.run_d("--name", "d1", "bb", *httpd_args("d1", 80))
    net.run_d("--name", "d2", "bb", "sleep", "100")
    d1 = ip_of(net, "d1")
    assert get_in(net, "d2", d1) == "d1"
    assert get_in(net, "d2", "d1") is None


# --------------------------------------------------------------- modes


def test_network_none_has_only_loopback_up(net):
    r = net.ok("run", "--rm", "--network", "none", "bb", "ip", "-o", "link")
    names = re.findall(r"^\d+: ([^:@]+)", r.out, re.M)
    assert names == ["lo"], r.out
    assert "UP" in r.out or "LOWER_UP" in r.out, r.out


def test_network_host_sees_the_hosts_links(net):
    r = net.ok("run", "--rm", "--network", "host", "bb", "ip", "-o", "link")
    names = set(re.findall(r"^\d+: ([^:@]+)", r.out, re.M))
    assert set(host_links()) <= names | {l for l in host_links() if l.startswith("gv")}


def test_network_container_shares_the_namespace(net):
    net.run_d("--name", "owner", "bb", "sleep", "100")
    ip = ip_of(net, "owner")
    r = net.ok("run", "--rm", "--network", "container:owner", "bb", "ip", "-o", "-4", "addr")
    assert ip in r.out, r


def test_container_mode_is_resolved_again_at_each_start(net):
    """As docker: --network/--ipc container:NAME names a container, not the process it had
    at create; started again, the joiner joins the owner's namespaces of now, and it is
    refused, naming the flag, while the owner is down."""
    net.run_d("--name", "owner", "bb", "sleep", "1000")
    net.run_d("--name", "joiner", "--network", "container:owner", "--ipc", "container:owner", "bb", "sleep", "1000")
    net.ok("stop", "-t", "0", "joiner")
    net.ok("restart", "-t", "0", "owner")
    net.ok("start", "joiner")
    owner = net.pid("owner")
    for kind in ("net", "ipc"):
        assert os.readlink("/proc/%d/ns/%s" % (net.pid("joiner"), kind)) == \
            os.readlink("/proc/%d/ns/%s" % (owner, kind)), kind
    net.ok("stop", "-t", "0", "joiner")
    net.ok("stop", "-t", "0", "owner")
    r = net("start", "joiner")
    assert r.rc != 0 and r.err.count("\n") == 1, r
    assert "--network container:owner: cannot join container owner: it is not running" in r.err, r


def test_ip_mac_hostname_dns_and_add_host(net):
    net.ok("network", "create", "--subnet", "10.123.45.0/24", "fixed")
    r = net.ok("run", "--rm", "--network", "fixed", "--ip", "10.123.45.77", "--mac-address", "02:11:22:33:44:55",
               "--hostname", "box", "--add-host", "db.example:10.9.8.7", "--dns", "10.0.0.53",
               "--dns-search", "corp.example", "bb", "sh", "-c",
               "ip -o -4 addr show eth0; ip -o link show eth0; cat /etc/hosts; cat /etc/resolv.conf; hostname")
    assert "10.123.45.77/24" in r.out, r
    assert "02:11:22:33:44:55" in r.out, r
    assert re.search(r"^10\.9\.8\.7\s+db\.example$", r.out, re.M), r.out
    assert re.search(r"^10\.123\.45\.77\s+box$", r.out, re.M), r.out
    assert "nameserver 10.0.0.53" in r.out and "search corp.example" in r.out, r.out
    assert r.out.strip().endswith("box")


def test_user_network_resolv_conf_points_at_its_responder(net):
    net.ok("network", "create", "withdns")
    r = net.ok("run", "--rm", "--network", "withdns", "bb", "cat", "/etc/resolv.conf")
    gw = json.loads(net.ok("network", "inspect", "withdns").out)[0]["IPAM"]["Config"][0]["Gateway"]
    assert "nameserver %s" % gw in r.out, r.out


def test_ipv6_network_gives_v6_addresses_and_names(net):
    net.ok("network", "create", "--ipv6", "six")
    net.run_d("--name", "v6a", "--network", "six", "bb", "sleep", "100")
    six = net.inspect("v6a")["NetworkSettings"]["Networks"]["six"]
    v6 = six["GlobalIPv6Address"]
    assert v6.startswith("fd") and six["IPv6Gateway"], six
    r = net.ok("run", "--rm", "--network", "six", "bb", "sh", "-c",
               "ip -6 -o addr show eth0; ping -6 -c1 -W3 %s >/dev/null && echo ping-ok; nslookup v6a" % v6)
    assert "scope global" in r.out and "ping-ok" in r.out, r
    assert v6 in r.out.split("Name:")[-1], r.out  # AAAA from the network's responder


# --------------------------------------------------------------- network commands


def test_network_commands(net):
    nid = net.ok("network", "create", "--subnet", "10.124.0.0/24", "--gateway", "10.124.0.254",
                 "--label", "team=x", "n1").out.strip()
    assert re.fullmatch(r"[0-9a-f]{64}", nid)
    ls = net.ok("network", "ls").out
    assert re.search(r"^%s\s+n1\s+bridge\s+local$" % nid[:12], ls, re.M), ls
    assert "NETWORK ID" in ls and re.search(r"\bbridge\s+bridge\b", ls) and "host" in ls and "none" in ls
    info = json.loads(net.ok("network", "inspect", "n1").out)[0]
    assert info["IPAM"]["Config"] == [{"Subnet": "10.124.0.0/24", "Gateway": "10.124.0.254"}]
    assert info["Labels"] == {"team": "x"} and info["Driver"] == "bridge"
    r = net("network", "create", "n1")
    assert r.rc != 0 and "already exists" in r.err
    r = net("network", "create", "--subnet", "10.124.0.128/25", "n2")
    assert r.rc != 0 and "overlaps" in r.err
    r = net("network", "create", "--subnet", "10.124.1.1/24", "n3")
    assert r.rc != 0 and "10.124.1.0/24" in r.err
    net.run_d("--name", "user", "--network", "n1", "bb", "sleep", "100")
    assert net.ok("network", "inspect", "-f", "{{range .Containers}}{{.Name}}{{end}}", "n1").out.strip() == "user"
    r = net("network", "rm", "n1")
    assert r.rc != 0 and "active endpoints" in r.err
    # connect / disconnect a running container to a second network.
    net.ok("network", "create", "n4")
    net.ok("network", "connect", "n4", "user")
    assert "eth1" in in_ctr(net, "user", "ip", "-o", "link").out
    assert ip_of(net, "user", "n4")
    net.ok("network", "disconnect", "n4", "user")
    assert "eth1" not in in_ctr(net, "user", "ip", "-o", "link").out
    net.ok("rm", "-f", "user")
    net.ok("network", "rm", "n1")
    assert "n4" in net.ok("network", "prune", "-f").out
    ls = net.ok("network", "ls", "--format", "{{.Name}}").out.split()
    assert "n1" not in ls and "n4" not in ls and "bridge" in ls
    r = net("network", "rm", "bridge")
    assert r.rc != 0 and "pre-defined" in r.err
    r = net("network", "inspect", "nosuch")
    assert r.rc != 0 and "network nosuch not found" in r.err


def test_run_on_a_missing_network_makes_nothing(net):
    r = net("run", "--name", "lost", "--network", "nosuch", "bb", "true")
    assert r.rc == 125 and "network nosuch not found" in r.err, r
    assert net.ids() == []


# --------------------------------------------------------------- failures and cleanup


def test_host_port_taken_by_a_host_process_is_refused_naming_it(net):
    holder = socket.socket()
    holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    holder.bind(("0.0.0.0", 0))
    holder.listen(1)
    port = holder.getsockname()[1]
    links = host_links()
    try:
        r = net("run", "-d", "--name", "clash", "-p", "%d:80" % port, "bb", "sleep", "100")
        assert r.rc == 125, r
        assert "%d/tcp" % port in r.err and "already in use" in r.err and "(pid %d)" % os.getpid() in r.err, r.err
    finally:
        holder.close()
    assert net.ids() == []  # no container record either
    assert [l for l in host_links() if l.startswith("gv")] == [l for l in links if l.startswith("gv")]
    assert netns_pins(net.root) == [] and endpoint_files(net.root) == []


def test_host_port_published_by_another_container_is_refused(net):
    p = free_port()
    net.run_d("--name", "first", "-p", "%d:80" % p, "bb", "sleep", "100")
    r = net("run", "-d", "--name", "second", "-p", "%d:80" % p, "bb", "sleep", "100")
    assert r.rc == 125 and "first" in r.err and str(p) in r.err, r
    # The first one's rules are intact.
    assert "%d" % p in nft_table(net.root)


def test_rm_leaves_no_veth_rule_lease_or_namespace(net):
    before_links = host_links()
    p = free_port()
    cid = net.run_d("--name", "gone", "-p", "%d:8080" % p, "bb", *httpd_args("gone"))
    http_get_retry("http://127.0.0.1:%d/" % p)
    assert any(l.startswith("gv" + cid[:10]) for l in host_links())
    assert "dnat ip to" in nft_table(net.root) and endpoint_files(net.root) and netns_pins(net.root)
    net.ok("rm", "-f", "gone")
    assert wait_for(lambda: not any(l.startswith("gv") for l in set(host_links()) - set(before_links)), 5)
    assert "dnat ip to" not in nft_table(net.root)
    assert endpoint_files(net.root) == [] and netns_pins(net.root) == []
    with pytest.raises(OSError):
        http_get("http://127.0.0.1:%d/" % p, timeout=2)


def test_stop_unpublishes_and_start_publishes_again_with_the_same_address(net):
    p = free_port()
    net.run_d("--name", "cycle", "-p", "%d:8080" % p, "bb", *httpd_args("cycle"))
    http_get_retry("http://127.0.0.1:%d/" % p)
    ip = ip_of(net, "cycle")
    net.ok("stop", "-t", "1", "cycle")
    assert "dnat ip to" not in nft_table(net.root)
    assert netns_pins(net.root) == []
    net.ok("start", "cycle")
    assert http_get_retry("http://127.0.0.1:%d/" % p).strip() == "cycle"
    assert ip_of(net, "cycle") == ip


def test_restart_keeps_the_network_and_its_published_port(net):
    p = free_port()
    net.run_d("--name", "again", "-p", "%d:8080" % p, "bb", *httpd_args("again"))
    http_get_retry("http://127.0.0.1:%d/" % p)
    for _ in range(2):
        net.ok("restart", "-t", "1", "again")
    # The exit commands of the runs that ended come late; they must not undo the new run.
    time.sleep(1.0)
    assert http_get_retry("http://127.0.0.1:%d/" % p).strip() == "again"
    assert "dnat ip to" in nft_table(net.root) and len(netns_pins(net.root)) == 1


def test_a_connected_network_is_joined_again_after_a_restart(net):
    net.ok("network", "create", "extra")
    net.run_d("--name", "joiner", "bb", "sleep", "100")
    net.ok("network", "connect", "--alias", "j", "extra", "joiner")
    net.ok("restart", "-t", "0", "joiner")
    assert "eth1" in in_ctr(net, "joiner", "ip", "-o", "link").out
    assert ip_of(net, "joiner", "extra")
    info = json.loads(net.ok("network", "inspect", "extra").out)[0]
    assert [c["Name"] for c in info["Containers"].values()] == ["joiner"]


def test_ports_of_a_container_dead_with_its_monitor_are_freed(net):
    p = free_port()
    cid = net.run_d("--name", "dead", "-p", "%d:80" % p, "bb", "sleep", "100")
    st = net.state_json(cid)
    os.kill(st["monitor_pid"], signal.SIGKILL)
    os.kill(st["pid"], signal.SIGKILL)
    assert wait_for(lambda: not os.path.exists("/proc/%d" % st["pid"]), 5)
    # Nobody tore its network down; the next setup finds it stopped and frees the port.
    net.run_d("--name", "alive", "-p", "%d:80" % p, "bb", "sleep", "100")
    assert "8080" not in nft_table(net.root) and nft_table(net.root).count("dport %d " % p) == 1


def test_killed_monitor_then_rm_leaves_nothing(net):
    p = free_port()
    cid = net.run_d("--name", "orphan", "-p", "%d:8080" % p, "bb", *httpd_args("orphan"))
    http_get_retry("http://127.0.0.1:%d/" % p)
    mon = net.state_json(cid)["monitor_pid"]
    os.kill(mon, signal.SIGKILL)
    net.ok("rm", "-f", "orphan")
    assert not any(l.startswith("gv" + cid[:10]) for l in host_links())
    assert "dnat ip to" not in nft_table(net.root)
    assert endpoint_files(net.root) == [] and netns_pins(net.root) == []


def test_run_rm_cleans_up_by_itself(net):
    r = net.ok("run", "--rm", "-p", "%d:80" % free_port(), "bb", "ip", "-o", "-4", "addr", "show", "eth0")
    assert "inet " in r.out
    assert wait_for(lambda: endpoint_files(net.root) == [] and netns_pins(net.root) == [], 5)


def test_fifty_containers_at_once_get_fifty_addresses(net):
    net.ok("network", "create", "many")

    def start(i):
        return net("run", "-d", "--name", "m%d" % i, "--network", "many", "bb", "sleep", "300", timeout=120)

    with ThreadPoolExecutor(max_workers=10) as pool:
        results = list(pool.map(start, range(50)))
    failed = [r for r in results if r.rc != 0]
    assert not failed, failed[:3]
    ips = [ip_of(net, "m%d" % i, "many") for i in range(50)]
    assert len(set(ips)) == 50 and all(ips), ips
