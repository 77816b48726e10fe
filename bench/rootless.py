"""Rootless run latency: `guise` against podman (with runc: crun refuses this hybrid cgroup
host rootless), both as one throwaway unprivileged user with a subordinate id range.

    sudo /usr/bin/python3 bench/rootless.py [--n 20]

Cases: `run --rm IMAGE true` with --network none, and with slirp4netns (podman 4.3's default
rootless network; guise's when pasta is not installed), and guise's default pasta. One
rootfs tar is imported into each; a first run of each starts its long-lived process
(guise-pause, podman's pause) outside the timings. Then N cycles, each running every
(case, engine) pair once in an order rotated every cycle. Time is bench/engine_run.py's
timer: CLOCK_MONOTONIC around posix_spawn .. waitpid of `setpriv --reuid U -- CLIENT ...`
(setpriv's own exec is in both). /dev/net/tun is made usable for the run and its mode
restored; the user, its ranges, processes and files are removed at the end, also on failure.
Writes bench/results/ROOTLESS.md and rootless-raw.json.
"""

import argparse
import json
import os
import pwd
import shutil
import signal
import stat
import statistics
import subprocess
import sys
import tempfile
import time
import uuid

BENCH = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(BENCH)
sys.path.insert(0, BENCH)
import engine_run as er  # noqa: E402

CASES = {
    "none": ["--network", "none"],
    "slirp4netns": ["--network", "slirp4netns"],
    "pasta": ["--network", "pasta"],
}
ENGINES = {"guise": ["none", "slirp4netns", "pasta"], "podman-runc": ["none", "slirp4netns"]}


def ranges_end():
    end = 100000
    for path in ("/etc/subuid", "/etc/subgid"):
        if os.path.exists(path):
            for line in open(path):
                p = line.strip().split(":")
                if len(p) == 3 and p[1].isdigit() and p[2].isdigit():
                    end = max(end, int(p[1]) + int(p[2]))
    return (end + 65535) // 65536 * 65536


class BenchUser:
    def __init__(self, build):
        self.name = "guisebn" + uuid.uuid4().hex[:6]
        self.home = tempfile.mkdtemp(prefix="guise-bench-rootless-", dir="/tmp")
        os.chmod(self.home, 0o755)
        er.must(["useradd", "-M", "-d", self.home, "-s", "/bin/sh", self.name])
        self.drop_ranges()
        start = ranges_end()
        er.must(["usermod", "--add-subuids", "%d-%d" % (start, start + 65535),
                 "--add-subgids", "%d-%d" % (start, start + 65535), self.name])
        pw = pwd.getpwnam(self.name)
        self.uid, self.gid = pw.pw_uid, pw.pw_gid
        self.bin = os.path.join(self.home, "bin")
        os.mkdir(self.bin)
        for b in ("guise", "guise-full", "guise-monitor", "guise-init", "guise-procview"):
            shutil.copy2(os.path.join(build, b), self.bin)
        self.run_dir = os.path.join(self.home, "run")
        os.mkdir(self.run_dir, 0o700)
        for root, dirs, files in os.walk(self.home):
            for n in dirs + files:
                os.chown(os.path.join(root, n), self.uid, self.gid)
        os.chown(self.home, self.uid, self.gid)
        self.env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "HOME": self.home, "XDG_RUNTIME_DIR": self.run_dir,
                    "LANG": "C.UTF-8"}

    def drop_ranges(self):
        for path in ("/etc/subuid", "/etc/subgid"):
            if os.path.exists(path):
                subprocess.run(["sed", "-i", "/^%s:/d" % self.name, path], check=True)

    def argv(self, engine, *args):
        client = [os.path.join(self.bin, "guise")] if engine == "guise" else ["/usr/bin/podman", "--runtime", "runc"]
        return ["/usr/bin/setpriv", "--reuid", str(self.uid), "--regid", str(self.gid), "--clear-groups", "--"] + \
            client + list(args)

    def run(self, engine, *args):
        return subprocess.run(self.argv(engine, *args), env=self.env, cwd=self.home, capture_output=True, text=True,
                              timeout=300)

    def remove(self):
        self.run("guise", "system", "migrate")
        self.run("podman", "system", "migrate")
        for d in os.listdir("/proc"):
            if d.isdigit():
                try:
                    if os.stat("/proc/" + d).st_uid == self.uid:
                        os.kill(int(d), signal.SIGKILL)
                except (FileNotFoundError, ProcessLookupError):
                    pass
        time.sleep(0.5)
        subprocess.run(["userdel", self.name], capture_output=True)
        self.drop_ranges()
        shutil.rmtree(self.home, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=20)
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("rootless.py: run as root (it makes and removes a throwaway user)")
    build = os.path.join(REPO, "build")
    tun_mode = stat.S_IMODE(os.stat("/dev/net/tun").st_mode)
    user = BenchUser(build)
    logdir = tempfile.mkdtemp(prefix="guise-bench-rootless-logs-")
    raw = {"n": args.n, "results": {}, "versions": {}}
    try:
        os.chmod("/dev/net/tun", tun_mode | 0o666)
        tar = os.path.join(user.home, "bb.tar")
        er.must(["sh", os.path.join(REPO, "examples", "make-image.sh"), tar])
        os.chmod(tar, 0o644)
        for engine in ENGINES:
            r = user.run(engine, "import", tar, "bb")
            if r.returncode != 0:
                sys.exit("rootless.py: %s import failed: %s" % (engine, r.stderr[-500:]))
            for case in ENGINES[engine]:  # warm: pause processes, caches
                r = user.run(engine, "run", "--rm", *CASES[case], "bb", "true")
                if r.returncode != 0:
                    sys.exit("rootless.py: %s %s failed: %s" % (engine, case, r.stderr[-500:]))
        raw["versions"] = {"guise": user.run("guise", "version", "--format", "{{.Client.Version}}").stdout.strip(),
                           "podman": user.run("podman", "version", "--format", "{{.Client.Version}}").stdout.strip(),
                           "kernel": os.uname().release}
        timer = er.Timer(logdir)
        pairs = [(e, c) for e in ENGINES for c in ENGINES[e]]
        samples = {"%s/%s" % p: [] for p in pairs}
        for i in range(args.n):
            order = pairs[i % len(pairs):] + pairs[:i % len(pairs)]
            for engine, case in order:
                dt, rc, err = timer.time("%s-%s" % (engine, case), user.argv(engine, "run", "--rm", *CASES[case],
                                                                              "bb", "true"), user.env)
                if rc != 0:
                    sys.exit("rootless.py: %s %s failed: %s" % (engine, case, err))
                samples["%s/%s" % (engine, case)].append(dt)
        raw["results"] = samples
    finally:
        os.chmod("/dev/net/tun", tun_mode)
        user.remove()
        shutil.rmtree(logdir, ignore_errors=True)

    out = os.path.join(BENCH, "results")
    with open(os.path.join(out, "rootless-raw.json"), "w") as f:
        json.dump(raw, f, indent=1)
    lines = ["# Rootless: `guise run --rm` against podman's, as one unprivileged user", "",
             "From `sudo /usr/bin/python3 bench/rootless.py --n %d`: guise %s, podman %s (runtime runc: crun "
             "refuses this hybrid cgroup host rootless), kernel %s, %d cores. Medians and p90 of %d runs of "
             "`run --rm IMAGE true`, every (engine, network) pair once per cycle, the order rotated." % (
                 args.n, raw["versions"]["guise"], raw["versions"]["podman"], raw["versions"]["kernel"],
                 os.cpu_count(), args.n), "",
             "| network | guise median | guise p90 | podman median | podman p90 | guise / podman |",
             "|---|---:|---:|---:|---:|---:|"]
    for case in CASES:
        g = samples.get("guise/" + case)
        p = samples.get("podman-runc/" + case)
        gm = statistics.median(g) if g else None
        pm = statistics.median(p) if p else None
        cell = lambda x: "%.1f ms" % (x * 1000) if x is not None else "—"
        lines.append("| %s | %s | %s | %s | %s | %s |" % (
            case, cell(gm), cell(er.pct(g, 90) if g else None), cell(pm), cell(er.pct(p, 90) if p else None),
            "%.2fx" % (gm / pm) if gm and pm else "—"))
    lines += ["", "pasta is guise's default rootless network; podman 4.3 has no pasta, so that row has no peer.",
              "Raw samples: rootless-raw.json."]
    with open(os.path.join(out, "ROOTLESS.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
