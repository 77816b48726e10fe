"""The engine benchmark of issue 19: guise against podman (crun, runc) and docker, and against
its own floor, `guise-oci run` of the same rootfs as a plain bundle.  Driven by
bench/engine.sh (as root, in a private mount namespace without /sys/fs/cgroup/unified, as
bench/engine-run.sh); writes bench/results/ENGINE.md, engine.png (engine_report.py) and
engine-raw.json.

    /usr/bin/python3 bench/engine.py [--n 20] [--only guise,podman,podman-runc,docker]
                                     [--cases run-rm,...,burst,many] [--quick] [--many 100]
    /usr/bin/python3 bench/engine.py --check 15     # bench/check.sh's engine ratio

Cases (ALL below): `run --rm IMAGE true` with --network none, the default bridge and one
published port; `run -d` and `rm -f` timed apart; `exec NAME true`; BURST `run --rm` at
once; MANY detached containers started in a loop (wall time, and the memory of the
per-container processes).  Engines run alternated, cycle by cycle, the order rotated; the
timer, the engines' command lines and the machine section are bench/engine_run.py's.  The
pull and network headlines come from the last bench/image-pull.sh and bench/network.sh
results (rerun by `engine.sh --all`).
"""

import argparse
import hashlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import time

BENCH = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(BENCH)
sys.path.insert(0, BENCH)
sys.path.insert(0, os.path.join(BENCH, "lib"))

import engine_report as report  # noqa: E402
import engine_run as er  # noqa: E402
import netclean  # noqa: E402

ENGINES = ["guise", "podman", "podman-runc", "docker"]
SEQ, FLOOR_CASES = report.SEQ, report.FLOOR_CASES
ALL = SEQ + ["burst", "many"]
DOCKER_BRIDGE, DOCKER_BRIDGE_ADDR = report.DOCKER_BRIDGE, report.DOCKER_BRIDGE_ADDR
# The processes each engine runs per container, beside the container's own (comm names).
PER_CONTAINER = {"guise": {"guise-monitor", "guise-procview"}, "podman": {"conmon"},
                 "podman-runc": {"conmon"}, "docker": {"containerd-shim"}, "floor": set()}
BASELINE = os.path.join(BENCH, "results", "baseline.json")


def log(msg):
    er.log(msg)


# --------------------------------------------------------------- the floor


class Floor:
    """guise's floor: `guise-oci run` of the image's rootfs as a plain bundle (`guise-oci
    spec`, args true, terminal false, its namespaces (network among them), no network
    set up).  One config per container: each gets its own cgroupsPath."""

    name = "floor"
    env = er.ENV

    def __init__(self, work, oci, tar):
        self.oci = oci
        self.dir = os.path.join(work, "floor")
        self.state = os.path.join(self.dir, "state")
        self.rootfs = os.path.join(self.dir, "rootfs")
        os.makedirs(self.rootfs)
        er.must(["tar", "-C", self.rootfs, "-xf", tar], "unpacking the floor's rootfs")
        er.must([oci, "spec", "--bundle", self.dir], "guise-oci spec")
        with open(os.path.join(self.dir, "config.json")) as f:
            self.template = json.load(f)
        self.made = []

    def bundle(self, name, args):
        d = os.path.join(self.dir, "b", name)
        cfg = json.loads(json.dumps(self.template))
        cfg["root"]["path"] = self.rootfs
        cfg["process"]["args"] = args
        cfg["process"]["terminal"] = False
        cfg["linux"]["cgroupsPath"] = "/%s/floor-%s" % (er.CGROUP_PARENT, name)
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "config.json"), "w") as f:
            json.dump(cfg, f)
        return d

    def cli(self, *args):
        return [self.oci, "--root", self.state, *args]

    def argv(self, case, name):
        if case.startswith("run-rm"):
            return self.cli("run", "--bundle", self.bundle(name, er.IMAGE_CMD), name)
        if case == "run-d":
            return self.cli("run", "-d", "--bundle", self.bundle(name, er.LONG_CMD), name)
        if case == "rm-f":
            return self.cli("delete", "--force", name)
        if case == "exec":
            return self.cli("exec", name, *er.IMAGE_CMD)
        raise ValueError(case)

    def version(self):
        return er.first_line([self.oci, "--version"])

    def cleanup(self):
        if os.path.isdir(self.state):
            for cid in os.listdir(self.state):
                er.sh(self.cli("delete", "--force", cid))
        er.support.unmount_all_under(self.dir)


# --------------------------------------------------------------- helpers


def free_ports(count):
    """COUNT TCP ports below the ephemeral range that nothing listens on (checked by bind),
    so that no outgoing connection takes one meanwhile."""
    with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
        low = int(f.read().split()[0])
    out = []
    for port in range(low - 9000, low):
        s = socket.socket()
        try:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("0.0.0.0", port))
            out.append(port)
        except OSError:
            continue
        finally:
            s.close()
        if len(out) == count:
            return out
    raise RuntimeError("no free ports below %d" % low)


def guise_net_names(store):
    """guise's bridge and nftables table for STORE (named by a hash of its path)."""
    h = hashlib.sha256(os.path.realpath(store).encode()).hexdigest()[:4]
    return "g%s-0" % h, "inet guise-" + h




def children_of(root):
    """{pid: comm} of every descendant of ROOT."""
    kids, comm = {}, {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                st = f.read()
        except OSError:
            continue
        name = st[st.index("(") + 1:st.rindex(")")]
        ppid = int(st[st.rindex(")") + 2:].split()[1])
        kids.setdefault(ppid, []).append(int(d))
        comm[int(d)] = name
    out, todo = {}, [root]
    while todo:
        for c in kids.get(todo.pop(), []):
            out[c] = comm[c]
            todo.append(c)
    return out


def pss_kb(pid):
    try:
        with open("/proc/%d/smaps_rollup" % pid) as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def spawn_quiet(timer, name, argv, env):
    fd = timer.log_fd(name)
    acts = [(os.POSIX_SPAWN_DUP2, timer.devnull, 0), (os.POSIX_SPAWN_DUP2, timer.devnull, 1),
            (os.POSIX_SPAWN_DUP2, fd, 2)]
    return os.posix_spawn(argv[0], argv, env, file_actions=acts)


def burst(timer, eng, size, tag):
    """SIZE `run --rm` of ENG spawned back to back (argv and bundles made first): the
    latency of each from its own spawn to its exit, and the failures."""
    env = getattr(eng, "env", er.ENV)
    argvs = [eng.argv("run-rm", "%s-%d" % (tag, j)) for j in range(size)]
    start, lat, failed = {}, [], 0
    for argv in argvs:
        t0 = time.perf_counter_ns()
        start[spawn_quiet(timer, eng.name, argv, env)] = t0
    while start:
        pid, status = os.waitpid(-1, 0)  # orphans too: we are their subreaper
        if pid in start:
            t0 = start.pop(pid)
            if status == 0:
                lat.append((time.perf_counter_ns() - t0) / 1e9)
            else:
                failed += 1
    return lat, failed


# --------------------------------------------------------------- measuring


class Bench:
    def __init__(self, args, work, engs, raw):
        self.args, self.work, self.engs, self.raw = args, work, engs, raw
        self.timer = er.Timer(work)
        self.skip = raw["skipped"]  # "case/engine" -> why

    def does(self, case, e):
        if "%s/%s" % (case, e) in self.skip:
            return False
        return e != "floor" or case in FLOOR_CASES

    def time(self, case, e, name):
        eng = self.engs[e]
        return self.timer.time(e, eng.argv(case, name), getattr(eng, "env", er.ENV))

    def retry(self, case, e, name):
        rc = self.time(case, e, name)[1]
        if case == "run-d":
            self.time("rm-f", e, name)
        return rc

    def sequential(self, cases):
        res = self.raw["results"]
        names = list(self.engs)
        exec_names = {}
        if "exec" in cases:
            for e in names:
                n = "exec-target-%s" % e
                _, rc, err = self.time("run-d", e, n)
                if rc == 0:
                    exec_names[e] = n
                else:
                    self.skip["exec/" + e] = "n/a: run -d of the exec target failed: " + err[:200]
        for i in range(-1, self.args.n):
            k = max(i, 0) % len(names)
            for case in cases:
                if case == "rm-f":
                    continue  # timed right after its run-d
                for e in names[k:] + names[:k]:
                    if not self.does(case, e):
                        continue
                    name = exec_names.get(e) if case == "exec" else "c%d-%s-%s" % (i + 1, case, e)
                    dt, rc, err = self.time(case, e, name)
                    if case == "run-d":
                        dt2, rc2, err2 = self.time("rm-f", e, name)
                    if i < 0:
                        # The warm-up: a case an engine cannot do here fails twice in a row.
                        if rc != 0 and self.retry(case, e, name + "b") != 0:
                            self.skip["%s/%s" % (case, e)] = "n/a: " + (err.splitlines() or ["?"])[-1][:240]
                            log("%s %s: not measured: %s" % (e, case, err[-300:]))
                        if case == "run-d" and rc == 0 and rc2 != 0:
                            self.skip["rm-f/" + e] = "n/a: " + err2[-240:]
                        continue
                    er.rec(self.raw, case, e, dt, rc, err)
                    if case == "run-d" and rc == 0 and "rm-f" in cases and self.does("rm-f", e):
                        er.rec(self.raw, "rm-f", e, dt2, rc2, err2)
            if i >= 0:
                log("cycle %d/%d: %s" % (i + 1, self.args.n, "  ".join(
                    "%s %s" % (e, er.fmt_ms(res["run-rm"][e]["t"][-1]) if res.get("run-rm", {}).get(e, {}).get("t")
                               else "-") for e in names)))
        for e, n in exec_names.items():
            self.time("rm-f", e, n)

    def bursts(self):
        names = list(self.engs)
        out = self.raw["burst"]
        for e in names:
            out[e] = {"runs": [], "failed": 0}
        for b in range(self.args.bursts):
            for e in names[b % len(names):] + names[:b % len(names)]:
                lat, failed = burst(self.timer, self.engs[e], self.args.burst_size, "b%d-%s" % (b, e))
                out[e]["runs"].append(lat)
                out[e]["failed"] += failed
                er.reap_all()
            log("burst %d/%d: %s" % (b + 1, self.args.bursts, "  ".join(
                "%s p90 %s" % (e, er.fmt_ms(er.pct(out[e]["runs"][-1], 90)) if out[e]["runs"][-1] else "-")
                for e in names)))

    def many(self, e, label, m):
        """M detached containers of engine E started in a loop; the wall time, the Pss of the
        new per-container processes (descendants of ours: we are the subreaper of monitors,
        conmon and shims) and of the daemons, and the removal of them all."""
        eng = self.engs[e]
        env = getattr(eng, "env", er.ENV)
        me = os.getpid()
        daemons = [d.daemon.proc.pid for d in (getattr(eng, "dockerd", None), getattr(eng, "containerd", None)) if d]
        before = set(children_of(me))
        d0 = sum(pss_kb(p) for p in daemons)
        names = ["m-%s-%d" % (e, k) for k in range(m)]
        failed, first = 0, ""
        t0 = time.monotonic()
        for n in names:
            _, rc, err = self.timer.time(e, eng.argv("run-d", n), env)
            if rc != 0:
                failed += 1
                first = first or err[-240:]
        start_s = time.monotonic() - t0
        time.sleep(1.0)  # let the monitors settle (and guise-procview start)
        procs = {p: c for p, c in children_of(me).items()
                 if p not in before and p not in daemons and c in PER_CONTAINER[e]}
        per = {}
        for p, c in procs.items():
            per.setdefault(c, [0, 0])
            per[c][0] += 1
            per[c][1] += pss_kb(p)
        d1 = sum(pss_kb(p) for p in daemons)
        t0 = time.monotonic()
        if e == "floor":
            for n in names:
                self.timer.time(e, eng.argv("rm-f", n), env)
        else:
            rm = eng.argv("rm-f", names[0])[:-1] + names
            _, rc, err = self.timer.time(e, rm, env)
            if rc != 0:
                first = first or "rm -f: " + err[-240:]
        rm_s = time.monotonic() - t0
        er.reap_all()
        ok = m - failed
        out = {"engine": e, "m": m, "failed": failed, "first_error": first, "start_s": start_s, "rm_s": rm_s,
               "procs": {c: {"count": v[0], "pss_kb": v[1]} for c, v in per.items()},
               "per_container_kb": sum(v[1] for v in per.values()) / ok if ok else None,
               "daemon_growth_kb": (d1 - d0) if daemons else None}
        if out["daemon_growth_kb"] is not None and ok:
            out["daemon_growth_per_container_kb"] = (d1 - d0) / ok
        self.raw["many"][label] = out
        log("many %s: %d started in %.1f s, %s kB per container, removed in %.1f s" % (
            label, ok, start_s, "%.0f" % out["per_container_kb"] if ok else "-", rm_s))


# --------------------------------------------------------------- baseline


def record_baseline(raw):
    """bench/check.sh's engine ratio: guise's `run --rm --network none` over the floor's."""
    g, f = report.med(raw, "run-rm", "guise"), report.med(raw, "run-rm", "floor")
    if not g or not f:
        return
    update_baseline(g / f, g, f, raw["n"], "bench/engine.sh")


def update_baseline(r, g, f, n, by):
    base = json.load(open(BASELINE)) if os.path.exists(BASELINE) else {}
    base.update({"engine_measure": "median wall time of `guise run --rm --network none IMAGE true` / "
                                   "`guise-oci run` of the same rootfs as a bundle",
                 "engine_floor_ratio": r, "engine_guise_median_ms": g * 1000, "engine_floor_median_ms": f * 1000,
                 "engine_n": n, "engine_by": by, "engine_date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())})
    with open(BASELINE, "w") as fh:
        json.dump(base, fh, indent=1)
        fh.write("\n")


# --------------------------------------------------------------- main


def setup_engines(args, work, bindir, tar, raw):
    def skip(e, why):
        raw["notes"].append("%s: not measured: %s" % (e, why))
        for c in ALL:
            raw["skipped"]["%s/%s" % (c, e)] = "n/a: " + why
    engs = er.start_engines(args.only, work, bindir, tar, skip, docker=lambda: docker_with_bridge(raw))
    if "guise" in engs:
        engs["floor"] = Floor(work, engs["guise"].oci, tar)
    return engs


def docker_with_bridge(raw):
    """A private dockerd with a bridge of ours and iptables; without them (the bridge cases
    n/a, with dockerd's reason) when it cannot start so."""
    subprocess.run(["ip", "link", "del", DOCKER_BRIDGE], stderr=subprocess.DEVNULL)  # a killed run's
    subprocess.run(["ip", "link", "add", DOCKER_BRIDGE, "type", "bridge"], check=True)
    subprocess.run(["ip", "addr", "add", DOCKER_BRIDGE_ADDR, "dev", DOCKER_BRIDGE], check=True)
    subprocess.run(["ip", "link", "set", DOCKER_BRIDGE, "up"], check=True)
    log("(dockerd with the bridge %s and iptables)" % DOCKER_BRIDGE)
    try:
        return er.Docker(bridge=DOCKER_BRIDGE)
    except RuntimeError as ex:
        why = [line for line in str(ex).splitlines() if "level=error" in line or "failed" in line.lower()]
        why = (why or str(ex).splitlines())[-1][:300]
        raw["docker_bridge_note"] = " dockerd did not start with a bridge and iptables here: %s." % why
        for c in ("run-rm-bridge", "run-rm-port"):
            raw["skipped"]["%s/docker" % c] = "n/a: dockerd with a bridge and iptables fails here: " + why
        log("docker: no bridge: %s; starting it without" % why)
        return er.Docker()


def check(args):
    """bench/check.sh's engine part: ~N alternated `guise run --rm --network none` and floor
    runs; exit 1 only past 2x the recorded ratio, 0 (with the reason) when it cannot measure."""
    for b in ("guise", "guise-full", "guise-monitor", "guise-init", "guise-oci", "guise-procview"):
        if not os.access(os.path.join(args.build, b), os.X_OK):
            print("check: engine: skipped: no %s/%s" % (args.build, b))
            return 0
    base = json.load(open(BASELINE)) if os.path.exists(BASELINE) else {}
    er.become_subreaper()
    os.makedirs(args.work, exist_ok=True)
    work = tempfile.mkdtemp(prefix="check-", dir=args.work)
    engs = {}
    try:
        bindir = er.private_binaries(args.build, work)
        tar = os.path.join(work, "busybox.tar")
        er.must(["sh", os.path.join(REPO, "examples", "make-image.sh"), tar], "examples/make-image.sh")
        engs["guise"] = er.Guise(work, bindir)
        engs["guise"].import_image(tar)
        engs["floor"] = Floor(work, engs["guise"].oci, tar)
        raw = {"results": {"run-rm": {e: {"t": [], "failed": 0, "first_error": ""} for e in engs}}}
        timer = er.Timer(work)
        for i in range(-1, args.check):
            for e in (list(engs) if i % 2 else list(engs)[::-1]):
                eng = engs[e]
                dt, rc, err = timer.time(e, eng.argv("run-rm", "k%d" % (i + 1)), eng.env)
                if i >= 0:
                    er.rec(raw, "run-rm", e, dt, rc, err)
    except (RuntimeError, OSError) as ex:
        print("check: engine: skipped: %s" % str(ex).splitlines()[0][:300])
        return 0
    finally:
        er.cleanup_run(engs, work)
    res = raw["results"]["run-rm"]
    if not res["guise"]["t"] or not res["floor"]["t"]:
        print("check: engine: skipped: every run failed: %s" % (res["guise"]["first_error"] or res["floor"]["first_error"]))
        return 0
    g, f = report.med(raw, "run-rm", "guise"), report.med(raw, "run-rm", "floor")
    r = g / f
    print("check: engine: guise run --rm --network none median %.1f ms, guise-oci run %.1f ms (n=%d/%d alternated)"
          % (g * 1000, f * 1000, len(res["guise"]["t"]), len(res["floor"]["t"])))
    if args.record:
        update_baseline(r, g, f, args.check, "bench/engine.py --check --record")
        print("check: engine: guise/floor = %.2f recorded in %s" % (r, BASELINE))
        return 0
    b = base.get("engine_floor_ratio")
    if not b:
        print("check: engine: guise/floor = %.2f; skipped: no engine_floor_ratio in %s (run bench/engine.sh)" % (r, BASELINE))
        return 0
    print("check: engine: guise/floor = %.2f  (baseline %.2f from %s, fails above %.2f)" % (
        r, b, base.get("engine_date", "?"), 2 * b))
    if r > 2 * b:
        print("check: engine: FAIL: guise/floor is more than 2x the baseline ratio")
        return 1
    print("check: engine: ok")
    return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=None, help="alternated runs per case and engine (20; --quick 5)")
    ap.add_argument("--only", default=",".join(ENGINES))
    ap.add_argument("--cases", default=",".join(ALL))
    ap.add_argument("--quick", action="store_true", help="n 5, 2 bursts, 20 detached containers")
    ap.add_argument("--bursts", type=int, default=None, help="bursts per engine (5; --quick 2)")
    ap.add_argument("--burst-size", type=int, default=16)
    ap.add_argument("--many", type=int, default=None, help="detached containers (100; --quick 20)")
    ap.add_argument("--no-proc-view-host", action="store_true",
                    help="skip the second guise pass of the detached containers with --proc-view=host")
    ap.add_argument("--build", default=os.path.join(REPO, "build"),
                    help="directory holding guise, guise-monitor, guise-init, guise-oci (another build to time)")
    ap.add_argument("--work", default=os.path.join(BENCH, "work", "engine"))
    ap.add_argument("--results", default=os.path.join(BENCH, "results"))
    ap.add_argument("--check", type=int, default=0, metavar="N", help="bench/check.sh's engine ratio, N runs each")
    ap.add_argument("--record", action="store_true", help="with --check: record the ratio as the baseline")
    ap.add_argument("--argv", default="", help=argparse.SUPPRESS)  # engine.sh's arguments, for the report
    args = ap.parse_args()
    if args.check:
        sys.exit(check(args))
    q = args.quick
    args.n = args.n if args.n is not None else (5 if q else 20)
    args.bursts = args.bursts if args.bursts is not None else (2 if q else 5)
    args.many = args.many if args.many is not None else (20 if q else 100)
    args.only = [e for e in args.only.split(",") if e]
    cases = er.parse_cases(args.cases, ALL)
    er.become_subreaper()

    start = time.monotonic()
    load_before = er.loadavg()
    net_before = netclean.snapshot()
    os.makedirs(args.work, exist_ok=True)
    work = tempfile.mkdtemp(prefix="run-", dir=args.work)
    engs = {}
    raw = {"n": args.n, "argv": args.argv, "cases": cases, "engines": [], "results": {c: {} for c in SEQ},
           "skipped": {}, "notes": [], "burst": {}, "burst_size": args.burst_size, "bursts": args.bursts,
           "many": {}, "many_m": args.many, "subreaper": True, "podman_backend": ""}
    guise_net = ()
    try:
        bindir = er.private_binaries(args.build, work)
        tar = os.path.join(work, "busybox.tar")
        er.must(["sh", os.path.join(REPO, "examples", "make-image.sh"), tar], "examples/make-image.sh")
        engs = setup_engines(args, work, bindir, tar, raw)
        if "guise" in engs:
            guise_net = guise_net_names(engs["guise"].store)
        raw["engines"] = [e for e in ["guise", "floor"] + ENGINES[1:] if e in engs or e in args.only]
        if "podman" in engs or "podman-runc" in engs:
            p = engs.get("podman") or engs.get("podman-runc")
            raw["podman_backend"] = er.sh(p.cli("info", "--format", "{{.Host.NetworkBackend}}")).stdout.strip()
        ports = free_ports(len(engs))
        for (e, eng), port in zip(engs.items(), ports):
            eng.port = port
            raw.setdefault("ports", {})[e] = port
        for c in SEQ:
            for e in engs:
                raw["results"][c][e] = {"t": [], "failed": 0, "first_error": ""}
        bench = Bench(args, work, engs, raw)
        seq = [c for c in SEQ if c in cases]
        if seq:
            bench.sequential(seq)
        if "burst" in cases:
            bench.bursts()
        if "many" in cases:
            for e in engs:
                bench.many(e, e, args.many)
            if "guise" in engs and not args.no_proc_view_host:
                engs["guise"].run_extra = ("--proc-view", "host")
                bench.many("guise", "guise --proc-view=host", args.many)
                engs["guise"].run_extra = ()
        raw["meta"] = er.run_meta(start, load_before, work, {e: engs[e].version() for e in engs})
    finally:
        er.cleanup_run(engs, work)
        raw["net_cleaned"] = netclean.clean(net_before, links_also=[DOCKER_BRIDGE] + list(guise_net[:1]),
                                            nft_also=list(guise_net[1:]))
        if raw["net_cleaned"]:
            log("removed from the host's network: %s" % report.cleaned_summary(raw["net_cleaned"]))
    os.makedirs(args.results, exist_ok=True)
    with open(os.path.join(args.results, "engine-raw.json"), "w") as f:
        json.dump(raw, f, indent=1)
    err = report.plot(raw, os.path.join(args.results, "engine.png"))
    lines = report.write_report(raw, args.results, err)
    if not args.quick and args.n >= 10:
        record_baseline(raw)
    print("\n".join(lines))


if __name__ == "__main__":
    er.run_main(main)
