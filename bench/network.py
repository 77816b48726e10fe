"""Container networking, guise against podman (its network backend on this host: CNI or
netavark), in one alternated run:

  setup:      `run --rm -p PORT:80 IMAGE true` against `run --rm --network none IMAGE true`;
              the difference of the medians is what a network (namespace wired to a bridge
              by a veth, an address, routes, one published port, all torn down again) adds
              to a container's run.
  throughput: iperf3 (5 s, one stream) from the host to a server in the container's
              network namespace: straight to the container's address over the veth, and
              through the published port at 127.0.0.1 and at the host's own address (DNAT,
              no proxy process).

    /usr/bin/python3 bench/network.py [--n 20] [--seconds 5] [--only guise,podman]

Writes bench/results/NETWORK.md and network-raw.json.
"""
import argparse
import hashlib
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

BENCH = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(BENCH)
sys.path.insert(0, BENCH)

import engine_run as er  # noqa: E402

SERVER_PORT = 5201


def free_port():
    s = socket.socket()
    s.bind(("0.0.0.0", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def host_address():
    out = subprocess.run(["ip", "-4", "-o", "route", "get", "192.0.2.1"], stdout=subprocess.PIPE, text=True).stdout
    m = re.search(r"\bsrc (\S+)", out)
    return m.group(1) if m else None


class GuiseNet(er.Guise):
    # Not 10.88.0.0/16: podman's CNI bridge may hold it (guise would step aside anyway).
    env = dict(er.ENV, GUISE_BRIDGE_SUBNET="10.199.0.0/16")

    def run_argv(self, net, detach=None):
        extra = ["-p", "%d:80" % free_port()] if net else ["--network", "none"]
        if detach:
            return self.cli("run", "-d", "--name", detach, *extra, self.image, "sleep", "3600")
        return self.cli("run", "--rm", *extra, self.image, "true")

    def rm_argv(self, name):
        return self.cli("rm", "-f", name)

    def start_server(self, name, port):
        er.must(self.cli("run", "-d", "--name", name, "-p", "%d:%d" % (port, SERVER_PORT), self.image,
                         "sleep", "3600"), "guise run -d")
        cid = er.must(self.cli("inspect", "--format", "{{.Id}}", name)).stdout.strip()
        ip = er.must(self.cli("inspect", "--format", "{{.NetworkSettings.IPAddress}}", name)).stdout.strip()
        return os.path.join(self.store, "netns", cid), ip

    def stop_server(self, name):
        er.sh(self.cli("rm", "-f", name))


class PodmanNet(er.Podman):
    def opts(self):
        return ["--cgroup-parent", "/" + er.CGROUP_PARENT, "--ulimit", "nofile=1024:1024",
                "--ulimit", "nproc=4096:4096"]

    def run_argv(self, net, detach=None):
        extra = ["-p", "%d:80" % free_port()] if net else ["--network", "none"]
        if detach:
            return self.cli("run", "-d", "--name", detach, *self.opts(), *extra, self.image, "sleep", "3600")
        return self.cli("run", "--rm", *self.opts(), *extra, self.image, "true")

    def rm_argv(self, name):
        return self.cli("rm", "-f", "-t", "0", name)

    def start_server(self, name, port):
        er.must(self.cli("run", "-d", "--name", name, *self.opts(), "-p", "%d:%d" % (port, SERVER_PORT),
                         self.image, "sleep", "3600"), "podman run -d")
        pid = er.must(self.cli("inspect", "--format", "{{.State.Pid}}", name)).stdout.strip()
        ip = er.must(self.cli("inspect", "--format", "{{.NetworkSettings.IPAddress}}", name)).stdout.strip()
        return "/proc/%s/ns/net" % pid, ip

    def stop_server(self, name):
        er.sh(self.cli("rm", "-f", "-t", "0", name))


def iperf(netns, target, port, seconds):
    """Gbit/s from the host to an iperf3 server (one test) inside `netns`."""
    srv = subprocess.Popen(["nsenter", "--net=" + netns, "iperf3", "-s", "-1", "-p", str(SERVER_PORT)],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(50):
            r = subprocess.run(["iperf3", "-c", target, "-p", str(port), "-t", str(seconds), "-J"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            try:
                data = json.loads(r.stdout)
            except ValueError:
                data = {}
            if r.returncode == 0 and "sum_received" in data.get("end", {}):
                return data["end"]["sum_received"]["bits_per_second"] / 1e9
            if "error" in data and "connect" not in data["error"]:
                break
            time.sleep(0.1)
        er.log("iperf3 -c %s -p %s failed: %s" % (target, port, (r.stdout[-300:] + r.stderr[-300:]).strip()))
        return None
    finally:
        srv.kill()
        srv.wait()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=20)
    ap.add_argument("--seconds", type=int, default=5)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--only", default="guise,podman")
    ap.add_argument("--build", default=os.path.join(REPO, "build"))
    ap.add_argument("--work", default=os.path.join(BENCH, "work", "network"))
    ap.add_argument("--results", default=os.path.join(BENCH, "results"))
    args = ap.parse_args()
    for tool in ("iperf3", "nsenter"):
        if not shutil.which(tool):
            sys.exit("missing %s (Debian packages iperf3, util-linux)" % tool)
    er.become_subreaper()
    os.makedirs(args.work, exist_ok=True)
    work = tempfile.mkdtemp(prefix="run-", dir=args.work)
    bindir = er.private_binaries(args.build, work)
    engs = {}
    raw = {"n": args.n, "setup": {}, "throughput": {}, "backend": ""}
    try:
        tar = os.path.join(work, "busybox.tar")
        er.must(["sh", os.path.join(REPO, "examples", "make-image.sh"), tar], "examples/make-image.sh")
        for e in args.only.split(","):
            eng = GuiseNet(work, bindir) if e == "guise" else PodmanNet(work, "crun")
            eng.import_image(tar)
            engs[e] = eng
        if "podman" in engs:
            raw["backend"] = er.sh(engs["podman"].cli("info", "--format", "{{.Host.NetworkBackend}}")).stdout.strip()
        timer = er.Timer(work)
        for e in engs:
            raw["setup"][e] = {"none": [], "net": [], "d-none": [], "d-net": [], "failed": 0}
        names = list(engs)
        for i in range(-1, args.n):  # one untimed warm-up round
            order = names[i % len(names):] + names[:i % len(names)] if i >= 0 else names
            for case in ("none", "net", "d-none", "d-net"):
                for e in order:
                    env = getattr(engs[e], "env", er.ENV)
                    name = "nb-%s-%d" % (case, i + 1) if case.startswith("d-") else None
                    dt, rc, err = timer.time(e, engs[e].run_argv(case.endswith("net"), name), env)
                    if name:
                        er.sh(engs[e].rm_argv(name), env=env)
                    er.reap_all()
                    if rc != 0:
                        raw["setup"][e]["failed"] += 1
                        er.log("%s %s: %s" % (e, case, err))
                    elif i >= 0:
                        raw["setup"][e][case].append(dt)
        addr = host_address()
        for e in names:
            raw["throughput"][e] = {"veth": [], "published 127.0.0.1": [], "published host address": []}
        for rep in range(args.reps):
            for e in names[rep % len(names):] + names[:rep % len(names)]:
                port = free_port()
                name = "netbench-%d" % rep
                netns, ip = engs[e].start_server(name, port)
                try:
                    t = raw["throughput"][e]
                    for key, target, p in (("veth", ip, SERVER_PORT), ("published 127.0.0.1", "127.0.0.1", port),
                                           ("published host address", addr, port)):
                        if not target:
                            continue
                        got = iperf(netns, target, p, args.seconds)
                        if got is None:
                            raw.setdefault("failed", []).append("%s %s" % (e, key))
                        else:
                            t[key].append(got)
                finally:
                    engs[e].stop_server(name)
    finally:
        for eng in engs.values():
            eng.cleanup()
        if "guise" in engs:  # the bench store's bridge and table
            store = engs["guise"].store
            h = hashlib.sha256(os.path.realpath(store).encode()).hexdigest()[:4]
            subprocess.run(["ip", "link", "del", "g%s-0" % h], stderr=subprocess.DEVNULL)
            subprocess.run(["nft", "delete", "table", "inet", "guise-" + h], stderr=subprocess.DEVNULL)
    write(raw, args.results)


def med_ms(xs):
    return statistics.median(xs) * 1000 if xs else float("nan")


def write(raw, results):
    os.makedirs(results, exist_ok=True)
    with open(os.path.join(results, "network-raw.json"), "w") as f:
        json.dump(raw, f, indent=1)
    L = ["# Container networking: guise against podman", "",
         "One alternated run on %s (%d CPUs), %s; podman's network backend here: %s. "
         "N = %d runs per case and engine." % (os.uname().release, os.cpu_count(), time.strftime("%Y-%m-%d"),
                                                raw["backend"] or "-", raw["n"]), "",
         "## Network setup and teardown",
         "", "`run -d` returns once the container runs: its difference is the network's setup alone. `run --rm` "
         "returns once the container is gone: its difference is setup and teardown (removing nftables rules "
         "waits for the kernel's RCU grace periods). guise's `--network none` already makes and pins a namespace "
         "with lo up (as docker's none has one).", "",
         "| engine | run -d, none (ms) | run -d -p P:80 (ms) | setup adds (ms) | run --rm, none (ms) | run --rm -p P:80 (ms) | setup + teardown add (ms) | failed |",
         "|---|---|---|---|---|---|---|---|"]
    for e, r in raw["setup"].items():
        a, b = med_ms(r["none"]), med_ms(r["net"])
        c, d = med_ms(r["d-none"]), med_ms(r["d-net"])
        L.append("| %s | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f | %d |" % (e, c, d, d - c, a, b, b - a, r["failed"]))
    L += ["", "## Throughput, host to container (iperf3, one TCP stream, Gbit/s, median of %d)" % len(
        next(iter(raw["throughput"].values()))["veth"]) if raw["throughput"] else "", "",
          "| engine | veth (container address) | published port via 127.0.0.1 | published port via the host's address | published / veth |",
          "|---|---|---|---|---|"]
    for e, t in raw["throughput"].items():
        v = statistics.median(t["veth"]) if t["veth"] else float("nan")
        lo = statistics.median(t["published 127.0.0.1"]) if t["published 127.0.0.1"] else float("nan")
        ha = statistics.median(t["published host address"]) if t["published host address"] else float("nan")
        L.append("| %s | %.2f | %.2f | %.2f | %.2f |" % (e, v, lo, ha, min(lo, ha) / v if v else float("nan")))
    for f in sorted(set(raw.get("failed", []))):
        L.append("")
        L.append("- not measured: %s (iperf3 could not connect)" % f)
    text = "\n".join(L) + "\n"
    with open(os.path.join(results, "NETWORK.md"), "w") as f:
        f.write(text)
    print(text)


if __name__ == "__main__":
    main()
