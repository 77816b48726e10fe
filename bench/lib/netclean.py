"""What the engines leave in the host's network: bridges, veths, nftables tables, iptables
rules and chains, named network namespaces.  snapshot() before the engines run, clean(before)
after: it removes what is new since and matches the engines' names (podman's CNI chains
and cni-podman0, docker's DOCKER chains and our gbe-* bridge, and the links and tables
named by the caller: guise's bridge and table of our store), so that what other people
make meanwhile is left alone.  Veths go with their namespaces.
"""
import os
import re
import shlex
import subprocess

LINK_RE = re.compile(r"^(cni-podman\d+|gbe-\w+)$")
IPT_RE = re.compile(r"DOCKER|CNI-|gbe-|cni-podman")
IPT_TABLES = ("filter", "nat", "mangle", "raw")


def _out(argv):
    try:
        r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, timeout=30)
        return r.stdout if r.returncode == 0 else ""
    except (OSError, subprocess.TimeoutExpired):
        return ""


def links():
    return {line.split()[0].split("@")[0] for line in _out(["ip", "-br", "link"]).splitlines() if line.strip()}


def nft_tables():
    return {line[len("table "):].strip() for line in _out(["nft", "list", "tables"]).splitlines()
            if line.startswith("table ")}


def iptables(table):
    """(chains, rules) of an iptables table: chain names, and '-A ...' lines."""
    chains, rules = [], []
    for line in _out(["iptables-save", "-t", table]).splitlines():
        if line.startswith(":"):
            chains.append(line[1:].split()[0])
        elif line.startswith("-A "):
            rules.append(line)
    return chains, rules


def netns():
    try:
        return set(os.listdir("/run/netns"))
    except OSError:
        return set()


def snapshot():
    return {"links": links(), "nft": nft_tables(), "netns": netns(),
            "ipt": {t: iptables(t) for t in IPT_TABLES}}


def clean(before, links_also=(), nft_also=()):
    """Remove what the engines made since BEFORE, and the links LINKS_ALSO and nft tables
    NFT_ALSO ("inet NAME"); returns what was removed (one line each)."""
    done = []
    for name in sorted(netns() - before["netns"]):
        if name.startswith("cni-"):
            subprocess.run(["umount", "/run/netns/" + name], stderr=subprocess.DEVNULL)
            try:
                os.unlink("/run/netns/" + name)
                done.append("netns " + name)
            except OSError:
                pass
    for t in IPT_TABLES:
        old_chains, old_rules = before["ipt"][t]
        chains, rules = iptables(t)
        old = set(old_rules)
        for rule in reversed(rules):
            if rule not in old and IPT_RE.search(rule):
                # iptables-save quotes (comments) as a shell would: -D takes the rule back
                argv = ["iptables", "-t", t, "-D"] + shlex.split(rule[3:])
                if subprocess.run(argv, stderr=subprocess.DEVNULL).returncode == 0:
                    done.append("iptables -t %s %s" % (t, rule))
        for c in chains:
            if c not in old_chains and IPT_RE.search(c):
                subprocess.run(["iptables", "-t", t, "-F", c], stderr=subprocess.DEVNULL)
                if subprocess.run(["iptables", "-t", t, "-X", c], stderr=subprocess.DEVNULL).returncode == 0:
                    done.append("iptables -t %s chain %s" % (t, c))
    for table in sorted(nft_tables() & set(nft_also)):
        subprocess.run(["nft", "delete", "table", *table.split()], stderr=subprocess.DEVNULL)
        done.append("nft table " + table)
    now = links()
    for link in sorted((now - before["links"]) | (now & set(links_also))):
        if LINK_RE.match(link) or link in links_also:
            subprocess.run(["ip", "link", "del", link], stderr=subprocess.DEVNULL)
            done.append("link " + link)
    return done

