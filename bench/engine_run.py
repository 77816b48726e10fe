"""Container run latency of the engines: guise against podman and docker on one busybox image.
Driven by bench/engine-run.sh (as root, inside a private mount namespace without the cgroup2
mount at /sys/fs/cgroup/unified, so that crun accepts this hybrid cgroup host); writes
bench/results/ENGINE-RUN.md and engine-run-raw.json and prints the table.

    /usr/bin/python3 bench/engine_run.py [--n 30] [--only guise,podman,podman-runc,docker]
                                         [--cases run-rm,run-d,rm-f,version]

One rootfs tar (examples/make-image.sh) is imported into each engine (`guise import`,
`podman import`, `docker import`).  Then N cycles; each cycle runs every (case, engine) pair
once, the engines in an order rotated every cycle, so drift of this shared machine lands on
all of them alike.  Time is CLOCK_MONOTONIC around posix_spawn .. waitpid of the client.
Then the idle memory of one detached container's monitor (guise-monitor, conmon,
containerd-shim).  Everything (stores, the private dockerd and its containerd, cgroups,
mounts) is removed on the way out, also on failure or a signal.

An engine is a class with import_image(), argv(case, name) and cleanup(); a case is a name
in CASES.  bench/engine.py drives the same classes through more cases (ALL_CASES: a bridge,
a published port, exec) and imports this module's timer and report pieces.
"""

import argparse
import ctypes
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import types

BENCH = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(BENCH)
sys.path.insert(0, os.path.join(REPO, "tests", "engines"))

import engines  # noqa: E402
import support  # noqa: E402

ENV = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C", "HOME": "/root"}
IMAGE_CMD = ["true"]
LONG_CMD = ["sleep", "3600"]
# case -> what the table calls it
CASES = {
    "run-rm": "run --rm IMAGE true",
    "run-d": "run -d IMAGE sleep 3600",
    "rm-f": "rm -f (the container run -d started)",
    "version": "CLIENT --version (startup alone)",
}
# Every case an engine's argv() knows (bench/engine.py uses them all).
ALL_CASES = dict(CASES, **{
    "run-rm-bridge": "run --rm IMAGE true, default bridge",
    "run-rm-port": "run --rm -p HOSTPORT:80 IMAGE true",
    "exec": "exec NAME true (into a running container)",
})
# The cgroup parent podman and docker put their containers under (guise uses /guise/ID and
# removes its own); removed at the end.
CGROUP_PARENT = "guise-bench-engine"


def log(msg):
    print("bench: " + msg, file=sys.stderr, flush=True)


def sh(argv, env=None, timeout=300, **kw):
    return subprocess.run(argv, capture_output=True, text=True, env=env or ENV, timeout=timeout, **kw)


def must(argv, what=None, **kw):
    r = sh(argv, **kw)
    if r.returncode != 0:
        raise RuntimeError("%s failed (%d): %s" % (what or " ".join(argv[:4]), r.returncode,
                                                  (r.stderr or r.stdout).strip()[-1500:]))
    return r


def first_line(argv, env=None):
    try:
        r = sh(argv, env=env, timeout=30)
        return ((r.stdout or r.stderr).strip().splitlines() or ["?"])[0]
    except (OSError, subprocess.TimeoutExpired):
        return "?"


def net_opts(case, port):
    """The network options of a run case: none, the engine's default bridge, or the bridge
    with one published port (PORT on the host)."""
    if case == "run-rm-bridge":
        return []
    if case == "run-rm-port":
        return ["-p", "%d:80" % port]
    return ["--network", "none"]


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


# --------------------------------------------------------------- engines


class Guise:
    name = "guise"
    # Not 10.88.0.0/16: podman's CNI bridge may hold it (guise would step aside anyway).
    env = dict(ENV, GUISE_BRIDGE_SUBNET="10.199.0.0/16")
    port = None  # the host port of run-rm-port
    run_extra = ()  # more run options (bench/engine.py: --proc-view host)

    def __init__(self, work, bindir):
        self.store = os.path.join(work, "guise-store")
        self.bin = os.path.join(bindir, "guise")
        self.oci = os.path.join(bindir, "guise-oci")
        self.image = "bench-busybox"

    def cli(self, *args):
        return [self.bin, "--root", self.store, *args]

    def import_image(self, tar):
        must(self.cli("import", tar, self.image), "guise import")

    def argv(self, case, name):
        if case.startswith("run-rm"):
            return self.cli("run", "--rm", *self.run_extra, *net_opts(case, self.port), self.image, *IMAGE_CMD)
        if case == "run-d":
            return self.cli("run", "-d", "--name", name, *self.run_extra, "--network", "none", self.image,
                            *LONG_CMD)
        if case == "rm-f":
            return self.cli("rm", "-f", name)
        if case == "exec":
            return self.cli("exec", name, *IMAGE_CMD)
        if case == "version":
            return [self.bin, "--version"]
        raise ValueError(case)

    def version(self):
        return first_line([self.bin, "--version"])

    def container_pid(self, name):
        return int(must(self.cli("inspect", "--format", "{{.State.Pid}}", name)).stdout.strip())

    def cleanup(self):
        if os.path.isdir(self.store):
            r = sh(self.cli("ps", "-aq"))
            ids = r.stdout.split() if r.returncode == 0 else []
            if ids:
                sh(self.cli("rm", "-f", *ids))
        support.kill_pids(support.pids_mentioning(self.store))  # a monitor left by a failure
        support.unmount_all_under(self.store)


class Podman:
    """podman with its own root, runroot and tmpdir (events file there); the runtime is
    crun (podman's default) or runc."""

    port = None

    def __init__(self, work, runtime):
        self.runtime = runtime
        self.name = "podman" if runtime == "crun" else "podman-" + runtime
        self.dir = os.path.join(work, self.name)
        # podman refuses a runroot path over 50 characters
        self.runroot = tempfile.mkdtemp(prefix="gbe-", dir="/tmp")
        self.image = "localhost/bench-busybox"

    def cli(self, *args):
        d = self.dir
        return [engines.PODMAN, "--root", d + "/root", "--runroot", self.runroot, "--tmpdir", d + "/tmp",
                "--storage-driver", "overlay", "--cgroup-manager", "cgroupfs", "--events-backend", "file",
                "--runtime", shutil.which(self.runtime) or self.runtime, *args]

    def run_opts(self, case="run-d"):
        # podman's default ulimits (nofile and nproc 1048576 / 4194304) exceed this machine's
        # hard limits and the runtime cannot raise them (crun: "setrlimit RLIMIT_NOFILE:
        # Operation not permitted"): ask for what the host allows.
        return [*net_opts(case, self.port), "--cgroup-parent", "/" + CGROUP_PARENT,
                "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=4096:4096"]

    def import_image(self, tar):
        os.makedirs(self.dir + "/tmp", exist_ok=True)
        must(self.cli("import", tar, self.image), "podman import")

    def argv(self, case, name):
        if case.startswith("run-rm"):
            return self.cli("run", "--rm", *self.run_opts(case), self.image, *IMAGE_CMD)
        if case == "run-d":
            return self.cli("run", "-d", "--name", name, *self.run_opts(), self.image, *LONG_CMD)
        if case == "rm-f":
            # -t 0: SIGKILL at once, as docker's and guise's rm -f do; podman's own default
            # first sends the stop signal and waits 10 s, which `sleep` as PID 1 ignores
            return self.cli("rm", "-f", "-t", "0", name)
        if case == "exec":
            return self.cli("exec", name, *IMAGE_CMD)
        if case == "version":
            return [engines.PODMAN, "--version"]
        raise ValueError(case)

    def version(self):
        return "%s, %s" % (first_line([engines.PODMAN, "--version"]), first_line([self.runtime, "--version"]))

    def container_pid(self, name):
        return int(must(self.cli("inspect", "--format", "{{.State.Pid}}", name)).stdout.strip())

    def cleanup(self):
        if os.path.isdir(self.dir):
            sh(self.cli("rm", "-af"), timeout=120)
            sh(self.cli("rmi", "-af"), timeout=120)
        support.kill_pids(support.pids_mentioning(self.runroot))  # conmon left by a failure
        for d in (self.dir, self.runroot):
            support.unmount_all_under(d)
        shutil.rmtree(self.runroot, ignore_errors=True)


class Docker:
    """docker against a dockerd (and containerd) of our own, all state under one temp dir:
    cgroupfs, runc; no bridge and no iptables, or with BRIDGE (an existing bridge with an
    address, bench/engine.py's) and docker's iptables rules (removed by the caller)."""

    name = "docker"
    port = None

    def __init__(self, bridge=None):
        self.dir = tempfile.mkdtemp(prefix="gbd-", dir="/tmp")  # unix socket paths stay short
        self.image = "bench-busybox:latest"
        runc = types.SimpleNamespace(path=shutil.which("runc") or "/usr/sbin/runc")
        runtimes = {"guise": runc, "runc": runc}  # only runc, under both names engines.py declares
        # ip-forward off: the host's sysctl and FORWARD policy stay as they are.
        extra = {"bridge": bridge, "iptables": True, "ip-masq": True, "ip-forward": False} if bridge else None
        self.containerd = self.dockerd = None
        try:
            self.containerd = engines.Containerd(os.path.join(self.dir, "containerd"), runtimes)
            self.dockerd = engines.Dockerd(os.path.join(self.dir, "docker"), runtimes, self.containerd,
                                           CGROUP_PARENT, extra)
        except BaseException:
            self.cleanup()
            raise
        self.env = engines.base_env({"DOCKER_CONFIG": self.dockerd.cli_config})

    def cli(self, *args):
        return self.dockerd.argv(*args)

    def import_image(self, tar):
        must(self.cli("import", tar, self.image), "docker import", env=self.env)

    def argv(self, case, name):
        if case.startswith("run-rm"):
            return self.cli("run", "--rm", *net_opts(case, self.port), self.image, *IMAGE_CMD)
        if case == "run-d":
            return self.cli("run", "-d", "--name", name, "--network", "none", self.image, *LONG_CMD)
        if case == "rm-f":
            return self.cli("rm", "-f", name)
        if case == "exec":
            return self.cli("exec", name, *IMAGE_CMD)
        if case == "version":
            return [engines.DOCKER, "--version"]
        raise ValueError(case)

    def version(self):
        return "client %s; dockerd %s; %s" % (first_line([engines.DOCKER, "--version"]), first_line([engines.DOCKERD, "--version"]),
                               first_line([engines.CONTAINERD, "--version"]))

    def container_pid(self, name):
        return int(must(self.cli("inspect", "--format", "{{.State.Pid}}", name), env=self.env).stdout.strip())

    def cleanup(self):
        if self.dockerd:
            r = sh(self.cli("ps", "-aq"), env=self.dockerd.env())
            ids = r.stdout.split() if r.returncode == 0 else []
            if ids:
                sh(self.cli("rm", "-f", *ids), env=self.dockerd.env(), timeout=120)
        for daemon in (self.dockerd, self.containerd):
            if daemon:
                daemon.stop()
        support.kill_pids(support.pids_mentioning(self.dir))  # shims, if any
        support.unmount_all_under(self.dir)
        shutil.rmtree(self.dir, ignore_errors=True)


def remove_cgroups(parent):
    for hier in os.listdir("/sys/fs/cgroup"):
        top = os.path.join("/sys/fs/cgroup", hier, parent)
        if not os.path.isdir(top):
            continue
        for d, _, _ in sorted(os.walk(top), key=lambda w: -len(w[0])):
            try:
                os.rmdir(d)
            except OSError:
                pass


def start_engines(want, work, bindir, tar, skip, docker=None):
    """{name: engine} of the engines named in WANT, TAR imported into each; SKIP(name, why)
    for each that cannot start (its leftovers removed).  DOCKER makes the docker engine."""
    engs = {}
    for e in want:
        eng = None
        try:
            if e == "guise":
                eng = Guise(work, bindir)
            elif e in ("podman", "podman-runc"):
                eng = Podman(work, "crun" if e == "podman" else "runc")
            elif e == "docker":
                log("starting a private dockerd")
                eng = (docker or Docker)()
            else:
                sys.exit("unknown engine %s" % e)
            eng.import_image(tar)
            engs[e] = eng
        except RuntimeError as ex:
            why = str(ex).splitlines()[0][:300]
            log("%s: %s" % (e, why))
            skip(e, why)
            if eng:
                eng.cleanup()
    return engs


# --------------------------------------------------------------- timing


class Timer:
    def __init__(self, logdir):
        self.devnull = os.open("/dev/null", os.O_RDWR)
        self.logdir = logdir
        self.fds = {}

    def log_fd(self, name):
        if name not in self.fds:
            self.fds[name] = os.open(os.path.join(self.logdir, name + ".stderr"),
                                     os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        return self.fds[name]

    def time(self, name, argv, env):
        """(seconds, exit status, stderr of this run) of ARGV, stdout to /dev/null."""
        fd = self.log_fd(name)
        off = os.lseek(fd, 0, os.SEEK_END)
        acts = [(os.POSIX_SPAWN_DUP2, self.devnull, 0), (os.POSIX_SPAWN_DUP2, self.devnull, 1),
                (os.POSIX_SPAWN_DUP2, fd, 2)]
        t0 = time.perf_counter_ns()
        pid = os.posix_spawn(argv[0], argv, env, file_actions=acts)
        while True:
            # As a subreaper we also reap the orphans that died meanwhile (monitors,
            # conmon, shims), at once, as a host's init would.
            wpid, status = os.waitpid(-1, 0)
            if wpid == pid:
                break
        dt = (time.perf_counter_ns() - t0) / 1e9
        err = ""
        if status != 0:
            with open(os.path.join(self.logdir, name + ".stderr"), errors="replace") as f:
                f.seek(off)
                err = f.read().strip()[-500:]
        return dt, os.waitstatus_to_exitcode(status), err


def become_subreaper():
    """Orphans (a container's monitor once its `guise run -d` parent exits, conmon, the
    containerd shims) become our children, so that we reap them as soon as they die.  This
    machine's PID 1 reaps orphans only now and then (about a second late), and `guise rm -f`
    waits for its killed monitor to be gone: a zombie counts as alive to kill(PID, 0)."""
    PR_SET_CHILD_SUBREAPER = 36
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER)")


def reap_all():
    while True:
        try:
            wpid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if wpid == 0:
            return


def private_binaries(build, work):
    """A private copy of guise's binaries in WORK/bin: build/ may be rebuilt while we
    measure.  guise finds guise-monitor, guise-init, guise-procview and guise-full (its import)
    beside itself (without guise-procview beside guise-oci a container runs without its /proc
    view, with a warning)."""
    bindir = os.path.join(work, "bin")
    os.makedirs(bindir)
    for b in ("guise", "guise-full", "guise-monitor", "guise-init", "guise-oci", "guise-procview"):
        shutil.copy2(os.path.join(build, b), os.path.join(bindir, b))
    return bindir


def pct(xs, p):
    """Nearest-rank percentile."""
    s = sorted(xs)
    return s[max(0, min(len(s) - 1, int(round(p / 100.0 * len(s) + 0.5)) - 1))]


# --------------------------------------------------------------- monitor memory


def proc_status(pid, key):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(key + ":"):
                return line.split()[1]
    return None


def memory_of(pid):
    """{comm, VmRSS, Pss, Private_Clean, Private_Dirty (kB)} of PID."""
    out = {"pid": pid}
    with open("/proc/%d/comm" % pid) as f:
        out["comm"] = f.read().strip()
    out["rss_kb"] = int(proc_status(pid, "VmRSS"))
    with open("/proc/%d/smaps_rollup" % pid) as f:
        for line in f:
            k, _, rest = line.partition(":")
            if k in ("Pss", "Private_Clean", "Private_Dirty"):
                out[k] = int(rest.split()[0])
    out["pss_kb"] = out.pop("Pss")
    out["private_clean_kb"] = out.pop("Private_Clean")
    out["private_dirty_kb"] = out.pop("Private_Dirty")
    return out


def monitor_memory(eng, timer):
    """The memory of the parent of a detached container's process, a second after start."""
    name = "memprobe-%s" % eng.name
    env = getattr(eng, "env", ENV)
    argv = eng.argv("run-d", name)
    _, rc, err = timer.time(eng.name, argv, env)
    if rc != 0:
        return {"error": "run -d failed (%d): %s" % (rc, err)}
    try:
        time.sleep(1.0)
        pid = eng.container_pid(name)
        mon = int(proc_status(pid, "PPid"))
        return memory_of(mon)
    finally:
        timer.time(eng.name, eng.argv("rm-f", name), env)


# --------------------------------------------------------------- report


def fmt_ms(x):
    return "%.1f" % (x * 1000)


def table(raw, case):
    res = raw["results"].get(case, {})
    g = res.get("guise", {}).get("t")
    gm = statistics.median(g) if g else None
    L = ["| engine | median (ms) | p90 (ms) | min (ms) | max (ms) | median / guise's | n | failed |",
         "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for eng in res:
        s = res[eng]
        if s.get("skipped"):
            L.append("| %s | %s | | | | | 0 | |" % (eng, s["skipped"]))
            continue
        t = s["t"]
        if not t:
            L.append("| %s | all %d runs failed: %s | | | | | 0 | %d |" % (
                eng, s["failed"], s["first_error"].replace("|", "/").replace("\n", " ")[:200], s["failed"]))
            continue
        m = statistics.median(t)
        ratio = "%.2fx" % (m / gm) if gm and eng != "guise" else ""
        L.append("| %s | **%s** | %s | %s | %s | %s | %d | %d |" % (
            eng, fmt_ms(m), fmt_ms(pct(t, 90)), fmt_ms(min(t)), fmt_ms(max(t)), ratio, len(t), s["failed"]))
    return L


def machine_lines(raw):
    """The machine section and the setup every engine shares (ENGINE-RUN.md, ENGINE.md)."""
    m = raw["meta"]
    return ["## Machine", "",
            "- `nproc` = %s, kernel %s, %s" % (m["nproc"], m["kernel"], m["cpu"]),
            "- load average (1, 5, 15 min) before the run: %s, after: %s (a shared VM: other people's builds "
            "and tests ran on the same cores meanwhile; the alternation spreads that over the engines)"
            % (m["load_before"], m["load_after"]),
            "- filesystem of the stores: %s" % m["fs"],
            "- guise: %s (git %s)" % (m["versions"].get("guise", "-"), m["git"])] + [
            "- %s: %s" % (e, v) for e, v in m["versions"].items() if e != "guise"] + [
            "", "All engines run in one private mount namespace without the cgroup2 mount at "
            "/sys/fs/cgroup/unified (crun refuses this hybrid v1 host otherwise: \"cgroups in hybrid mode not "
            "supported\"), cgroupfs, and overlay storage. The image: examples/make-image.sh's busybox-static "
            "rootfs tar, imported into each engine.", ""]


def method_lines(raw):
    """What each engine's command line is and why (ENGINE-RUN.md, ENGINE.md)."""
    m = raw["meta"]
    return ["What each engine runs (timed: the whole client command, posix_spawn .. waitpid, output to "
            "/dev/null):", "",
            "- guise: `guise --root STORE run --rm --network none bench-busybox true` (the CLI returns after the "
            "monitor has removed the container); `run -d --name N ... sleep 3600`, `rm -f N`.",
            "- podman: `podman --root R --runroot RR --tmpdir T --storage-driver overlay --cgroup-manager cgroupfs "
            "--events-backend file --runtime RUNTIME run --rm --network none --cgroup-parent /%s --ulimit "
            "nofile=1024:1024 --ulimit nproc=4096:4096 localhost/bench-busybox true`. The ulimits are needed: "
            "podman's defaults (nofile 1048576, nproc 4194304) exceed this machine's hard limits (nofile "
            "%s) and crun fails with \"setrlimit RLIMIT_NOFILE: Operation not permitted\". `podman` is crun "
            "(podman's default), `podman-runc` the same with runc." % (CGROUP_PARENT, m["nofile_hard"]),
            "- docker: `docker run --rm --network none bench-busybox:latest true` against a dockerd started for "
            "this run (tests/engines/engines.py: its own data root, exec root, socket and containerd; "
            "cgroupfs, runc). The client waits for the daemon's removal of the container.",
            "- podman's `rm -f` is `rm -f -t 0` (SIGKILL at once, as docker's and guise's `rm -f` do); "
            "without `-t 0` podman sends the stop signal first and waits its 10 s stop timeout, which "
            "`sleep` as PID 1 ignores (about 10.5 s here).",
            "- The driver is a child subreaper and reaps every orphan (a detached container's monitor, "
            "conmon, the containerd shims) the moment it dies, as a host's init does; %s" % (
                "this run: on." if raw.get("subreaper") else
                "this run: OFF (--no-subreaper): orphans wait for this VM's PID 1, which reaps late."),
            "- `--version`: the client binary's start-up alone (guise links libcurl and libarchive "
            "dynamically); guise-oci is the static runtime binary, for comparison.", ""]


def write_report(raw, path):
    m = raw["meta"]
    L = ["# Engine run latency: guise against podman and docker", "",
         "Produced by `sudo bash bench/engine-run.sh` on %s in %.1f minutes. N = %d alternated runs of "
         "each (case, engine) pair. Lower is better. The ratio is the engine's median over guise's."
         % (m["date"], m["minutes"], raw["n"]), ""] + machine_lines(raw)
    L[-2] += (" Every case runs with `--network none` (guise's default network is a bridge now; "
              "bench/engine.sh times the bridge too); docker's daemon has no bridge and no iptables.")
    for case in raw["cases"]:
        L += ["## %s" % CASES[case], ""] + table(raw, case) + [""]
    L += method_lines(raw)
    mem = raw.get("memory") or {}
    if mem:
        L += ["## Idle monitor memory", "",
              "The parent process of a container started with `run -d IMAGE sleep 3600`, one second after "
              "the start (kB; from /proc/PID/status and smaps_rollup). For docker the container's parent is "
              "containerd-shim-runc-v2 (dockerd and containerd are shared by all containers and not counted). "
              "Private dirty is the process's own memory (heap, stack, written data); the rest of its RSS is "
              "file pages (its binary, its libraries) that the same process of further containers shares, so "
              "Pss per container falls toward private dirty as containers are added. guise-monitor is static: "
              "with one container its binary's pages are mapped once and count in full as private clean.",
              "", "| engine | process | VmRSS (kB) | Pss (kB) | private clean (kB) | private dirty (kB) | "
              "Pss / guise-monitor's | private dirty / guise-monitor's |",
              "|---|---|---:|---:|---:|---:|---:|---:|"]
        gp = (mem.get("guise") or {}).get("pss_kb")
        gd = (mem.get("guise") or {}).get("private_dirty_kb")
        for eng in raw["engines"]:
            x = mem.get(eng)
            if not x:
                continue
            if "error" in x:
                L.append("| %s | %s | | | | | | |" % (eng, x["error"].replace("|", "/")[:200]))
                continue
            L.append("| %s | %s | %d | %d | %d | %d | %s | %s |" % (
                eng, x["comm"], x["rss_kb"], x["pss_kb"], x["private_clean_kb"], x["private_dirty_kb"],
                "%.1fx" % (x["pss_kb"] / gp) if gp and eng != "guise" else "",
                "%.1fx" % (x["private_dirty_kb"] / gd) if gd and eng != "guise" else ""))
        L.append("")
    if raw.get("notes"):
        L += ["## Notes", ""] + ["- " + n for n in raw["notes"]] + [""]
    L += ["Where guise's time goes: [ENGINE-RUN-PROFILE.md](ENGINE-RUN-PROFILE.md)."]
    with open(path, "w") as f:
        f.write("\n".join(L) + "\n")
    return L


# --------------------------------------------------------------- main


def on_term(signum, frame):
    raise KeyboardInterrupt("signal %d" % signum)


def run_main(main):
    """MAIN with SIGTERM as Ctrl-C: its finally clauses clean up; exit 130."""
    signal.signal(signal.SIGTERM, on_term)
    try:
        main()
    except KeyboardInterrupt as e:
        log("interrupted (%s): cleaned up" % (e or "Ctrl-C"))
        sys.exit(130)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=30)
    ap.add_argument("--only", default="guise,podman,podman-runc,docker")
    ap.add_argument("--cases", default=",".join(CASES))
    ap.add_argument("--build", default=os.path.join(REPO, "build"),
                    help="directory holding guise, guise-monitor, guise-init, guise-oci")
    ap.add_argument("--work", default=os.path.join(BENCH, "work", "engine"))
    ap.add_argument("--results", default=os.path.join(BENCH, "results"))
    ap.add_argument("--no-memory", action="store_true")
    ap.add_argument("--no-subreaper", action="store_true",
                    help="leave orphans to PID 1 (here: reaped about a second late)")
    args = ap.parse_args()
    want = [e for e in args.only.split(",") if e]
    cases = parse_cases(args.cases, CASES)
    if not args.no_subreaper:
        become_subreaper()

    start = time.monotonic()
    load_before = loadavg()
    os.makedirs(args.work, exist_ok=True)
    work = tempfile.mkdtemp(prefix="run-", dir=args.work)
    bindir = private_binaries(args.build, work)
    engs = {}
    raw = {"n": args.n, "cases": cases, "engines": [], "results": {c: {} for c in cases}, "notes": [],
           "memory": {}, "subreaper": not args.no_subreaper}
    try:
        tar = os.path.join(work, "busybox.tar")
        must(["sh", os.path.join(REPO, "examples", "make-image.sh"), tar], "examples/make-image.sh")
        def skip(e, why):
            raw["notes"].append("%s: not measured: %s" % (e, why))
            for c in cases:
                raw["results"][c][e] = {"skipped": "not measured: " + why.replace("|", "/")}
        engs = start_engines(want, work, bindir, tar, skip)
        raw["engines"] = want
        timer = Timer(work)
        names = list(engs)
        for c in cases:
            for e in names:
                raw["results"][c][e] = {"t": [], "failed": 0, "first_error": ""}
        if "version" in cases and "guise" in engs:
            raw["results"]["version"]["guise-oci"] = {"t": [], "failed": 0, "first_error": ""}
        # One untimed warm-up cycle (page cache, the daemons' first-request paths).
        for i in range(-1, args.n):
            k = max(i, 0) % len(names)
            order = names[k:] + names[:k]
            for c in cases:
                if c == "rm-f":
                    continue  # timed right after its run-d, below
                for e in order:
                    eng = engs[e]
                    env = getattr(eng, "env", ENV)
                    cname = "bench-%s-%d" % (e, i + 1)
                    dt, rc, err = timer.time(e, eng.argv(c, cname), env)
                    ok = rc == 0
                    if i >= 0:
                        rec(raw, c, e, dt, rc, err)
                    if c == "version" and e == "guise":
                        dt2, rc2, err2 = timer.time(e, [eng.oci, "--version"], env)
                        if i >= 0:
                            rec(raw, c, "guise-oci", dt2, rc2, err2)
                    if c == "run-d":
                        dt2, rc2, err2 = timer.time(e, eng.argv("rm-f", cname), env)
                        if i >= 0 and ok and "rm-f" in cases:
                            rec(raw, "rm-f", e, dt2, rc2, err2)
            if i >= 0:
                log("cycle %d/%d: %s" % (i + 1, args.n, "  ".join(
                    "%s %s" % (e, fmt_ms(raw["results"][cases[0]][e]["t"][-1])
                               if raw["results"][cases[0]][e]["t"] else "-") for e in names)))
        if not args.no_memory:
            for e in names:
                try:
                    raw["memory"][e] = monitor_memory(engs[e], timer)
                except (RuntimeError, OSError, ValueError) as ex:
                    raw["memory"][e] = {"error": str(ex).splitlines()[0][:200]}
        raw["meta"] = run_meta(start, load_before, work, {e: engs[e].version() for e in names})
        if "guise" in engs:
            raw["meta"]["versions"]["guise-oci"] = first_line([engs["guise"].oci, "--version"])
        os.makedirs(args.results, exist_ok=True)
        with open(os.path.join(args.results, "engine-run-raw.json"), "w") as f:
            json.dump(raw, f, indent=1)
        lines = write_report(raw, os.path.join(args.results, "ENGINE-RUN.md"))
        print("\n".join(lines))
    finally:
        cleanup_run(engs, work)


def cleanup_run(engs, work):
    """Remove the engines' containers, stores and daemons, the cgroups, and WORK."""
    for e, eng in engs.items():
        try:
            eng.cleanup()
        except Exception as ex:  # noqa: BLE001 -- keep cleaning the others
            log("cleanup of %s: %s" % (e, ex))
    remove_cgroups(CGROUP_PARENT)
    reap_all()
    support.unmount_all_under(work)
    shutil.rmtree(work, ignore_errors=True)


def parse_cases(text, known):
    """The comma-separated cases of TEXT, each one of KNOWN; exits on a mistake."""
    cases = [c for c in text.split(",") if c]
    for c in cases:
        if c not in known:
            sys.exit("unknown case %s (%s)" % (c, ", ".join(known)))
    if "rm-f" in cases and "run-d" not in cases:
        sys.exit("rm-f needs run-d (it removes what run-d started)")
    return cases


def run_meta(start, load_before, work, versions):
    """The machine and the run, for machine_lines(): START (time.monotonic()) and the load
    average at the start, the filesystem of WORK, the engines' VERSIONS."""
    return {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "minutes": (time.monotonic() - start) / 60, "nproc": os.cpu_count(),
        "kernel": platform.release(), "cpu": cpu_model(),
        "load_before": load_before, "load_after": loadavg(),
        "fs": must(["findmnt", "-n", "-o", "FSTYPE,SOURCE", "-T", work]).stdout.strip(),
        "git": first_line(["git", "-C", REPO, "rev-parse", "--short", "HEAD"]),
        "nofile_hard": first_line(["sh", "-c", "ulimit -Hn"]),
        "versions": versions,
    }


def rec(raw, case, eng, dt, rc, err):
    s = raw["results"][case][eng]
    if rc == 0:
        s["t"].append(dt)
    else:
        s["failed"] += 1
        if not s["first_error"]:
            s["first_error"] = "exit %d: %s" % (rc, err)
            log("%s %s failed: exit %d: %s" % (eng, case, rc, err))


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "?"


if __name__ == "__main__":
    run_main(main)
