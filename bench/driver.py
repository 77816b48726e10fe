#!/usr/bin/python3
"""The timing loop.  Runs inside the private mount namespace run.sh sets up (cgroup2 at
/sys/fs/cgroup/unified unmounted, for every runtime alike), as a child subreaper so that
container inits left by `create`/`run -d` become our children and can be waited for exactly.

Every measurement alternates the runtimes sample by sample (A B C F, B C F A, ...: the order
rotates too) so slow drift of the machine (other tenants, page cache, thermal) lands on all
of them alike.  Time is CLOCK_MONOTONIC around posix_spawn .. wait4 of the runtime command.

    driver.py --out RAW.json [--quick] [--n N] [--only MODES] [--runtimes a,b]
"""
import argparse
import ctypes
import json
import os
import signal
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import benchlib as B  # noqa: E402

NS = 1e9
ENV = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
       "LANG": "C", "HOME": "/root"}


class Failure(Exception):
    pass


class Bench:
    def __init__(self, args):
        self.args = args
        self.base = B.cgroup_base()
        # Normally done by run.sh already; here too so that the runtimes never mkdir -p the
        # parents themselves (cleanup removes only what is recorded as ours).
        B.ensure_cgroup_parents(self.base)
        self.devnull = os.open("/dev/null", os.O_RDWR)
        os.makedirs(B.LOGS, exist_ok=True)
        self.logs = {}
        self.live = {}  # runtime -> set of container ids that may exist
        self.seq = 0
        self.failures = {}  # "mode/runtime" -> {"count": n, "first": text}
        self.unsupported = {}  # "mode/runtime" -> reason

    # ------------------------------------------------------------ processes

    def log_fd(self, rt):
        if rt not in self.logs:
            self.logs[rt] = os.open(os.path.join(B.LOGS, f"{rt}.stderr"),
                                    os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        return self.logs[rt]

    def spawn(self, rt, argv):
        fd = self.log_fd(rt)
        off = os.lseek(fd, 0, os.SEEK_END)
        acts = [(os.POSIX_SPAWN_DUP2, self.devnull, 0), (os.POSIX_SPAWN_DUP2, self.devnull, 1),
                (os.POSIX_SPAWN_DUP2, fd, 2)]
        t0 = time.perf_counter_ns()
        pid = os.posix_spawn(argv[0], argv, ENV, file_actions=acts)
        return pid, t0, off

    def wait(self, pid):
        while True:
            try:
                _, status, ru = os.wait4(pid, 0)
                return time.perf_counter_ns(), status, ru
            except InterruptedError:
                continue

    def error_text(self, rt, off):
        try:
            with open(os.path.join(B.LOGS, f"{rt}.stderr"), "rb") as f:
                f.seek(off)
                return f.read(2000).decode(errors="replace").strip()
        except OSError:
            return ""

    def call(self, rt, argv):
        """Run one command to completion: (seconds, rusage) or raise Failure."""
        pid, t0, off = self.spawn(rt, argv)
        t1, status, ru = self.wait(pid)
        if status != 0:
            code = os.waitstatus_to_exitcode(status)
            raise Failure(f"{' '.join(argv)}: exit {code}: {self.error_text(rt, off)}")
        return (t1 - t0) / NS, ru

    def fail(self, key, err):
        f = self.failures.setdefault(key, {"count": 0, "first": str(err)[:1500]})
        f["count"] += 1

    # ------------------------------------------------------------ commands

    def rt_cmd(self, rt, *rest):
        return [B.runtime_binary(rt), "--root", B.state_root(rt), *rest]

    def new_id(self, rt, tag):
        self.seq += 1
        cid = f"gb-{tag}-{rt}-{os.getpid()}-{self.seq}"
        self.live.setdefault(rt, set()).add(cid)
        return cid

    def run_argv(self, rt, variant, slot, tag):
        """argv of one `run` of /bin/true (or the floor's equivalent) and its container id."""
        if rt == "floor":
            argv = [B.floor_binary()]
            if variant == "userns":
                argv.append("-U")
            if variant == "seccomp":
                argv += ["-S", B.PROFILE_BPF]
            argv += ["-c", B.cgroup_path(self.base, variant, "floor", slot),
                     B.rootfs(variant, "floor"), "/bin/true"]
            return argv, None
        cid = self.new_id(rt, tag)
        return self.rt_cmd(rt, "run", "--bundle", B.slot_bundle(variant, rt, slot), cid), cid

    def one_run(self, rt, variant, slot=0, tag="run"):
        argv, cid = self.run_argv(rt, variant, slot, tag)
        try:
            return self.call(rt, argv)
        except Failure:
            if cid:
                self.force_delete(rt, cid)
            raise
        finally:
            if cid:
                self.forget(rt, cid)

    def forget(self, rt, cid):
        # `run` in the foreground deletes its container when it succeeds.
        if not os.path.exists(os.path.join(B.state_root(rt), cid)):
            self.live[rt].discard(cid)

    def force_delete(self, rt, cid):
        if rt == "floor" or cid is None:
            return
        pid, _, _ = self.spawn(rt, self.rt_cmd(rt, "delete", "--force", cid))
        self.wait(pid)
        self.live[rt].discard(cid)

    def reap_orphans(self):
        while True:
            try:
                pid, _ = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return

    def cleanup(self):
        for rt, ids in self.live.items():
            for cid in list(ids):
                try:
                    self.force_delete(rt, cid)
                except OSError:
                    pass
        self.reap_orphans()

    # ------------------------------------------------------------ helpers

    @staticmethod
    def rotations(names, i):
        k = i % len(names)
        return names[k:] + names[:k]

    def probe(self, mode, rts, fn, tries=3):
        """Runs fn(rt) a few times per runtime before timing; a runtime that never succeeds
        is dropped from this mode and the reason kept for the results."""
        ok = []
        for rt in rts:
            err = None
            for _ in range(tries):
                try:
                    fn(rt)
                    err = None
                except Failure as e:
                    err = e
            if err is None:
                ok.append(rt)
            else:
                self.unsupported[f"{mode}/{rt}"] = str(err)[:1500]
                print(f"  {rt}: FAILS in {mode}: {str(err)[:300]}", flush=True)
        return ok

    # ------------------------------------------------------------ measurements

    def m_run(self, variants, rts, n, warm):
        """a and h: `run` of /bin/true, sequential, for every (variant, runtime) pair at once:
        the variants are alternated with each other too, so that "cost of a user namespace"
        (a difference between two variants' medians) is measured under the same conditions."""
        combos = [(v, rt) for v in variants for rt in rts]
        print(f"[run] {n} alternated runs of each of {len(combos)} (config, runtime) pairs: "
              f"{', '.join(variants)} x {', '.join(rts)}", flush=True)

        def mode(v):
            return "run" if v == "default" else f"run-{v}"
        ok = []
        for v in variants:
            good = self.probe(mode(v), rts, lambda rt: self.one_run(rt, v))
            ok += [(v, rt) for rt in good]
        for _ in range(warm):
            for v, rt in ok:
                try:
                    self.one_run(rt, v)
                except Failure as e:
                    self.fail(f"{mode(v)}/{rt}", e)
        lat = {(v, rt): [] for v, rt in ok}
        for i in range(n):
            for v, rt in self.rotations(ok, i):
                try:
                    secs, _ = self.one_run(rt, v)
                except Failure as e:
                    self.fail(f"{mode(v)}/{rt}", e)
                    continue
                lat[(v, rt)].append(secs)
        return {mode(v): {"latency_s": {rt: lat[(vv, rt)] for vv, rt in ok if vv == v}}
                for v in variants}

    def m_verify(self, rts):
        """Each runtime once per variant with a shell that prints what the container got, so
        the results can show that the variants are what they claim, for every runtime."""
        print(f"[verify] what each variant's container sees, {', '.join(rts)}", flush=True)
        script = ("echo uid_map: $(cat /proc/self/uid_map); "
                  "grep -E '^(Seccomp|NoNewPrivs|CapEff):' /proc/self/status | tr -s '\\t\\n' '  '; "
                  "echo; echo mounts: $(wc -l < /proc/self/mounts); "
                  "echo pidns-pid: $$; echo hostname: $(hostname)")
        out = {}
        for variant in B.VARIANTS:
            for rt in rts:
                key = f"{variant}/{rt}"
                if rt == "floor":
                    argv = [B.floor_binary()] + (["-U"] if variant == "userns" else []) + \
                        (["-S", B.PROFILE_BPF] if variant == "seccomp" else []) + \
                        ["-c", B.cgroup_path(self.base, variant, "floor", "verify"),
                         B.rootfs(variant, "floor"), "/bin/sh", "-c", script]
                    cid = None
                else:
                    d = os.path.join(B.bundle_dir(variant, rt), "verify")
                    with open(os.path.join(B.slot_bundle(variant, rt, 0), "config.json")) as f:
                        cfg = json.load(f)
                    cfg["process"]["args"] = ["/bin/sh", "-c", script]
                    cfg["linux"]["cgroupsPath"] = B.cgroup_path(self.base, variant, rt, "verify")
                    os.makedirs(d, exist_ok=True)
                    with open(os.path.join(d, "config.json"), "w") as f:
                        json.dump(cfg, f)
                    cid = self.new_id(rt, "verify")
                    argv = self.rt_cmd(rt, "run", "--bundle", d, cid)
                tmp = os.path.join(B.WORK, "verify.out")
                fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
                err = self.log_fd(rt)
                off = os.lseek(err, 0, os.SEEK_END)
                pid = os.posix_spawn(argv[0], argv, ENV, file_actions=[
                    (os.POSIX_SPAWN_DUP2, self.devnull, 0), (os.POSIX_SPAWN_DUP2, fd, 1),
                    (os.POSIX_SPAWN_DUP2, err, 2)])
                os.close(fd)
                _, status, _ = self.wait(pid)
                with open(tmp) as f:
                    text = " ".join(f.read().split())
                if status != 0:
                    text = f"FAILED (status {status}): {self.error_text(rt, off)} {text}"
                if cid:
                    self.force_delete(rt, cid)
                out[key] = text
                print(f"  {key}: {text}", flush=True)
        return out

    def m_spawn(self, n):
        """What the method itself costs: posix_spawn + wait4 of a static busybox `true`."""
        out = []
        for _ in range(n):
            secs, _ = self.call("true", ["/bin/busybox", "true"])
            out.append(secs)
        return {"latency_s": out}

    def m_maxrss(self, rts, n):
        """f: ru_maxrss of `run`, through bench/maxrss.c (see there why not from here)."""
        print(f"[maxrss] {n} alternated runs of {', '.join(rts)} under maxrss", flush=True)
        out = {rt: [] for rt in rts + ["true"]}
        tmp = os.path.join(B.WORK, "maxrss.out")
        helper = os.path.join(B.BIN, "maxrss")
        for i in range(n):
            for rt in self.rotations(rts + ["true"], i):
                if rt == "true":  # what the method itself reads for a bare static /bin/true
                    argv, cid = ["/bin/busybox", "true"], None
                else:
                    argv, cid = self.run_argv(rt, "default", 0, "rss")
                try:
                    self.call(rt, [helper, tmp] + argv)
                    with open(tmp) as f:
                        out[rt].append(int(f.read().split()[1]))
                except Failure as e:
                    self.fail(f"maxrss/{rt}", e)
                    if cid:
                        self.force_delete(rt, cid)
                finally:
                    if cid:
                        self.forget(rt, cid)
        return {"maxrss_kb": out}

    def lifecycle_once(self, rt):
        cid = self.new_id(rt, "life")
        pidfile = os.path.join(B.WORK, f"pid-{rt}")
        try:
            os.unlink(pidfile)
        except FileNotFoundError:
            pass
        bundle = B.slot_bundle("default", rt, 0)
        try:
            t_create, _ = self.call(rt, self.rt_cmd(rt, "create", "--bundle", bundle,
                                                    "--pid-file", pidfile, cid))
            with open(pidfile) as f:
                pid = int(f.read().strip())
            vmrss = pss = None
            with open(f"/proc/{pid}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        vmrss = int(line.split()[1])
            try:
                with open(f"/proc/{pid}/smaps_rollup") as f:
                    for line in f:
                        if line.startswith("Pss:"):
                            pss = int(line.split()[1])
            except OSError:
                pass
            t_start, _ = self.call(rt, self.rt_cmd(rt, "start", cid))
            t0 = time.perf_counter_ns()
            try:
                # We are a subreaper: the init `create` left behind is our child now.
                os.waitpid(pid, 0)
            except ChildProcessError:
                while os.path.exists(f"/proc/{pid}"):
                    time.sleep(0.0002)
            t_exit = (time.perf_counter_ns() - t0) / NS
            t_delete, _ = self.call(rt, self.rt_cmd(rt, "delete", cid))
            self.live[rt].discard(cid)
        except BaseException:
            self.force_delete(rt, cid)
            raise
        return {"create": t_create, "start": t_start, "exit": t_exit, "delete": t_delete,
                "init_vmrss_kb": vmrss, "init_pss_kb": pss}

    def m_lifecycle(self, rts, n, warm):
        """b: create, start, (wait for exit), delete, each timed alone; f: init RSS."""
        print(f"[lifecycle] {n} alternated create/start/delete of {', '.join(rts)}", flush=True)
        rts = self.probe("lifecycle", rts, self.lifecycle_once)
        for _ in range(warm):
            for rt in rts:
                try:
                    self.lifecycle_once(rt)
                except Failure as e:
                    self.fail(f"lifecycle/{rt}", e)
        out = {rt: {k: [] for k in ("create", "start", "exit", "delete", "init_vmrss_kb",
                                    "init_pss_kb")} for rt in rts}
        for i in range(n):
            for rt in self.rotations(rts, i):
                try:
                    r = self.lifecycle_once(rt)
                except Failure as e:
                    self.fail(f"lifecycle/{rt}", e)
                    continue
                for k, v in r.items():
                    if v is not None:
                        out[rt][k].append(v)
        return out

    def m_serial100(self, rts, rounds, count):
        """c: `count` containers one after another, total wall time, `rounds` times."""
        print(f"[serial{count}] {rounds} round(s) of {count} sequential runs each, "
              f"{', '.join(rts)}", flush=True)
        out = {rt: [] for rt in rts}
        fails = {rt: 0 for rt in rts}
        for r in range(rounds):
            for rt in self.rotations(rts, r):
                t0 = time.perf_counter_ns()
                for _ in range(count):
                    try:
                        self.one_run(rt, "default")
                    except Failure as e:
                        fails[rt] += 1
                        self.fail(f"serial/{rt}", e)
                out[rt].append((time.perf_counter_ns() - t0) / NS)
        return {"total_s": out, "failed_runs": fails, "count": count}

    def m_throughput(self, rts, rounds, seconds, par):
        """d: `par` runs in flight at all times for `seconds`; containers per second."""
        print(f"[throughput] {par} in parallel, {seconds:g}s x {rounds} round(s), "
              f"{', '.join(rts)}", flush=True)
        out = {rt: [] for rt in rts}
        fails = {rt: 0 for rt in rts}
        for r in range(rounds):
            for rt in self.rotations(rts, r):
                free = list(range(par))
                inflight = {}  # pid -> (slot, cid, log offset)
                done = 0
                t0 = time.perf_counter_ns()
                deadline = t0 + seconds * NS
                while True:
                    while free and time.perf_counter_ns() < deadline:
                        slot = free.pop()
                        argv, cid = self.run_argv(rt, "default", slot, "tput")
                        pid, _, off = self.spawn(rt, argv)
                        inflight[pid] = (slot, cid, off, argv)
                    if not inflight:
                        break
                    pid, status, _ = os.wait4(-1, 0)
                    if pid not in inflight:
                        continue  # an orphan handed to us as subreaper
                    slot, cid, off, argv = inflight.pop(pid)
                    free.append(slot)
                    if cid:
                        self.forget(rt, cid)
                    if status == 0:
                        done += 1
                    else:
                        fails[rt] += 1
                        self.fail(f"throughput/{rt}",
                                  f"{' '.join(argv)}: status {status}: {self.error_text(rt, off)}")
                        if cid:
                            self.force_delete(rt, cid)
                elapsed = (time.perf_counter_ns() - t0) / NS
                out[rt].append(done / elapsed)
        return {"per_s": out, "failed_runs": fails, "parallel": par, "seconds": seconds}

    def m_exec(self, rts, n, warm):
        """e: `exec ID /bin/true` into a running `sleep 1000` container."""
        print(f"[exec] {n} alternated execs into a running container, {', '.join(rts)}",
              flush=True)
        ids = {}
        ok = []
        for rt in rts:
            cid = self.new_id(rt, "exec")
            try:
                self.call(rt, self.rt_cmd(rt, "run", "-d", "--bundle", B.sleep_bundle(rt), cid))
                ids[rt] = cid
                ok.append(rt)
            except Failure as e:
                self.unsupported[f"exec/{rt}"] = f"starting the sleep container: {e}"[:1500]
                self.force_delete(rt, cid)
        try:
            ok = self.probe("exec", ok, lambda rt: self.call(
                rt, self.rt_cmd(rt, "exec", ids[rt], "/bin/true")))
            for _ in range(warm):
                for rt in ok:
                    try:
                        self.call(rt, self.rt_cmd(rt, "exec", ids[rt], "/bin/true"))
                    except Failure as e:
                        self.fail(f"exec/{rt}", e)
            out = {rt: [] for rt in ok}
            for i in range(n):
                for rt in self.rotations(ok, i):
                    try:
                        secs, _ = self.call(rt, self.rt_cmd(rt, "exec", ids[rt], "/bin/true"))
                        out[rt].append(secs)
                    except Failure as e:
                        self.fail(f"exec/{rt}", e)
        finally:
            for rt, cid in ids.items():
                self.force_delete(rt, cid)
            self.reap_orphans()
        return {"latency_s": out}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--n", type=int)
    ap.add_argument("--only", default="verify,run,maxrss,lifecycle,serial,throughput,exec,userns,seccomp")
    ap.add_argument("--runtimes", default="guise,runc,crun,floor")
    args = ap.parse_args()

    # run.sh stops us with SIGTERM: unwind through the finally below, which deletes what
    # we started.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    PR_SET_CHILD_SUBREAPER = 36
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        raise SystemExit("driver: PR_SET_CHILD_SUBREAPER failed")

    n = args.n or (30 if args.quick else 200)
    warm = 3 if args.quick else 10
    modes = args.only.split(",")
    all_rts = args.runtimes.split(",")
    oci = [r for r in all_rts if r != "floor"]
    par = os.cpu_count() or 1
    b = Bench(args)
    res = {"n": n, "warmup": warm, "quick": args.quick, "cgroup_base": b.base,
           "nproc": par, "runtimes": all_rts, "modes": {}}
    t_start = time.time()
    try:
        if "verify" in modes:
            res["verify"] = b.m_verify(all_rts)
        if "run" in modes:
            res["modes"]["spawn"] = b.m_spawn(max(20, n // 4))
            variants = ["default"] + [v for v in ("userns", "seccomp") if v in modes]
            res["modes"].update(b.m_run(variants, all_rts, n, warm))
        if "maxrss" in modes:
            res["modes"]["maxrss"] = b.m_maxrss(all_rts, max(10, n // 5))
        if "lifecycle" in modes:
            res["modes"]["lifecycle"] = b.m_lifecycle(oci, n, warm)
        if "serial" in modes:
            res["modes"]["serial"] = b.m_serial100(all_rts, 1 if args.quick else 3, 100)
        if "throughput" in modes:
            res["modes"]["throughput"] = b.m_throughput(
                all_rts, 1 if args.quick else 4, 2.0 if args.quick else 5.0, par)
        if "exec" in modes:
            res["modes"]["exec"] = b.m_exec(oci, n, warm)
    finally:
        b.cleanup()
        res["failures"] = b.failures
        res["unsupported"] = b.unsupported
        res["wall_s"] = time.time() - t_start
        with open("/proc/loadavg") as f:
            res["loadavg_after"] = f.read().split()[:3]
        with open(args.out, "w") as f:
            json.dump(res, f)
        for k, v in b.failures.items():
            print(f"  failures {k}: {v['count']} (first: {v['first'][:200]})")
    print(f"driver: done in {res['wall_s']:.0f}s, raw results in {args.out}")


if __name__ == "__main__":
    main()
