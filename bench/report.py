#!/usr/bin/python3
"""report.py meta OUT.json           -- describe the machine and the runtimes
   report.py write RAW.json META.json -- bench/results/{RESULTS.md,latency.png,baseline.json}"""
import datetime
import hashlib
import json
import os
import platform
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import benchlib as B  # noqa: E402

ORDER = ["guise", "runc", "crun", "floor"]


# ---------------------------------------------------------------- meta

def sh(argv):
    try:
        r = subprocess.run(argv, capture_output=True, text=True, timeout=30)
        return (r.stdout + r.stderr).strip()
    except OSError as e:
        return f"({e.strerror})"


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def mem_total():
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 1048576:.1f} GiB"
    return "?"


def meta(out):
    guise = B.runtime_binary("guise")
    with open(guise, "rb") as f:
        sha = hashlib.sha256(f.read()).hexdigest()[:16]
    head = sh(["git", "-C", B.REPO, "rev-parse", "--short", "HEAD"])
    dirty = sh(["git", "-C", B.REPO, "status", "--porcelain", "--", "src", "CMakeLists.txt"])
    hybrid = ""
    p = os.path.join(B.WORK, "crun-hybrid.txt")
    if os.path.exists(p):
        with open(p) as f:
            hybrid = f.read().strip()
    m = {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "nproc": os.cpu_count(),
        "kernel": " ".join(platform.uname()[2:4]),
        "cpu": cpu_model(),
        "memory": mem_total(),
        "versions": {
            "guise": sh([guise, "--version"]).splitlines()[0] +
            f" (git {head}{', uncommitted changes in src/' if dirty else ''}; "
            f"binary sha256 {sha}, copied from build/guise-oci)",
            "runc": sh([B.runtime_binary("runc"), "--version"]).splitlines()[0],
            "crun": sh([B.runtime_binary("crun"), "--version"]).splitlines()[0],
            "libseccomp": sh(["dpkg-query", "-W", "-f", "${Version}", "libseccomp2"]),
            "busybox": sh(["/bin/busybox"]).splitlines()[0],
        },
        "cgroups": sh(["sh", "-c", "grep cgroup /proc/self/mounts | cut -d' ' -f2,3 | tr '\\n' ' '"]),
        "crun_outside_ns": hybrid,
        "loadavg_before": open("/proc/loadavg").read().split()[:3],
    }
    with open(out, "w") as f:
        json.dump(m, f, indent=1)


# ---------------------------------------------------------------- statistics

def pct(xs, p):
    xs = sorted(xs)
    if not xs:
        return float("nan")
    k = (len(xs) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)


def med(xs):
    return pct(xs, 50)


def ms(x):
    return f"{x * 1000:.2f}"


def ratio(a, b):
    if not a or not b or b != b or a != a:
        return "n/a"
    return f"{a / b:.2f}x"


def present(d):
    return [rt for rt in ORDER if rt in d and d[rt]]


def latency_table(d, unit="ms"):
    """d: runtime -> samples in seconds."""
    rows = ["| runtime | median (ms) | p10 | p90 | min | max | n |", "|---|---:|---:|---:|---:|---:|---:|"]
    for rt in present(d):
        x = d[rt]
        rows.append(f"| {rt} | **{ms(med(x))}** | {ms(pct(x, 10))} | {ms(pct(x, 90))} | "
                    f"{ms(min(x))} | {ms(max(x))} | {len(x)} |")
    return "\n".join(rows)


def ratio_line(d, lower_is_better=True, what="median"):
    g = med(d["guise"]) if d.get("guise") else None
    parts = []
    for other in ("crun", "runc", "floor"):
        if d.get(other) and g:
            parts.append(f"guise/{other} = **{ratio(g, med(d[other]))}**")
    if not parts:
        return ""
    note = "" if lower_is_better else " (throughput: above 1 means guise does more)"
    return f"Ratios of {what}s: " + ", ".join(parts) + note + "."


# ---------------------------------------------------------------- plot

def plot(raw, path):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return "matplotlib not available: no plot"
    modes = raw["modes"]
    colors = {"guise": "#1b9e77", "runc": "#d95f02", "crun": "#7570b3", "floor": "#666666"}
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(13, 5.2))
    d = modes.get("run", {}).get("latency_s", {})
    for rt in present(d):
        xs = sorted(v * 1000 for v in d[rt])
        ys = [(i + 1) / len(xs) for i in range(len(xs))]
        ax1.step(xs, ys, where="post", label=f"{rt} (median {med(xs):.1f} ms)", color=colors[rt])
    ax1.set_xscale("log")
    ax1.set_xlabel("`run` of /bin/true, wall time (ms, log scale)")
    ax1.set_ylabel("fraction of runs")
    ax1.set_title(f"CDF, default config, n={raw['n']} each, alternated")
    ax1.grid(True, which="both", alpha=0.3)
    ax1.legend(loc="lower right")

    variants = [("run", "default"), ("run-userns", "+ user ns"), ("run-seccomp", "+ seccomp")]
    data, pos, cols, ticks, labels = [], [], [], [], []
    x = 0
    for mode, label in variants:
        dd = modes.get(mode, {}).get("latency_s", {})
        rts = present(dd)
        if not rts:
            continue
        start = x
        for rt in rts:
            data.append([v * 1000 for v in dd[rt]])
            pos.append(x)
            cols.append(colors[rt])
            x += 1
        ticks.append((start + x - 1) / 2)
        labels.append(label)
        x += 1
    if data:
        bp = ax2.boxplot(data, positions=pos, widths=0.7, whis=(10, 90), showfliers=True,
                         patch_artist=True, flierprops={"markersize": 2, "alpha": 0.4})
        for patch, c in zip(bp["boxes"], cols):
            patch.set_facecolor(c)
            patch.set_alpha(0.6)
        ax2.set_xticks(ticks)
        ax2.set_xticklabels(labels)
        ax2.set_yscale("log")
        ax2.set_ylabel("ms (log scale)")
        ax2.set_title("box: quartiles, whiskers p10-p90")
        ax2.grid(True, axis="y", which="both", alpha=0.3)
        from matplotlib.patches import Patch
        top = max(max(x) for x in data)
        ax2.set_ylim(top=top * 3)  # room for the legend above the boxes
        ax2.legend(handles=[Patch(color=colors[r], alpha=0.6, label=r) for r in ORDER],
                   loc="upper center", ncol=4)
    fig.suptitle("guise vs runc vs crun vs the kernel floor: `RUNTIME run` of /bin/true")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    return None


# ---------------------------------------------------------------- markdown

def write(raw_path, meta_path):
    with open(raw_path) as f:
        raw = json.load(f)
    with open(meta_path) as f:
        m = json.load(f)
    modes = raw["modes"]
    os.makedirs(B.RESULTS, exist_ok=True)
    L = []
    add = L.append
    add("# guise-oci vs runc vs crun: side-by-side timings\n")
    add(f"Produced by `sudo bash bench/run.sh{' --quick' if raw['quick'] else ''}` on {m['date']} "
        f"in {raw['wall_s'] / 60:.1f} minutes. N = {raw['n']} alternated samples per runtime "
        f"where not said otherwise, after {raw['warmup']} warm-up runs each. Lower is better "
        "except for throughput. The floor is `bench/floor.c` (below).\n")

    add("## Machine\n")
    add(f"- CPU: {m['cpu']}, `nproc` = {m['nproc']}, memory {m['memory']}; a shared VM "
        "(other people's builds and tests ran on the same cores meanwhile, so expect noise "
        "in the tails; the alternation spreads it evenly over the runtimes)")
    add(f"- kernel: {m['kernel']}")
    if m.get("loadavg_before"):
        add(f"- load average (1, 5, 15 min) before the run: {' '.join(m['loadavg_before'])}, "
            f"after: {' '.join(raw.get('loadavg_after', ['?']))}")
    for k, v in m["versions"].items():
        add(f"- {k}: {v}")
    add(f"- cgroup mounts: {m['cgroups']}")
    add("")

    add("## Headline: `RUNTIME --root R run ID` of /bin/true, sequential\n")
    if modes.get("run-userns") or modes.get("run-seccomp"):
        add("Measured in one loop with the user-namespace and seccomp variants below: each "
            "cycle runs every (config, runtime) pair once, in an order rotated every cycle.\n")
    d = modes.get("run", {}).get("latency_s", {})
    if d:
        add(latency_table(d))
        add("")
        add(ratio_line(d))
        add("")
        add("![latency](latency.png)\n")
        add("Where the time goes, what the profiles showed and what was changed: [PROFILE.md](PROFILE.md).\n")

    lc = modes.get("lifecycle", {})
    if lc:
        add("## create / start / delete, each timed alone\n")
        add("`create --pid-file P`, then `start`, then the driver waits for the init to exit "
            "(it is a child subreaper, so the init `create` left behind is its child: "
            "`waitpid`, no polling), then `delete`. Median (p10-p90), ms.\n")
        rts = present(lc)
        add("| step | " + " | ".join(rts) + " | guise/crun | guise/runc |")
        add("|---|" + "---:|" * len(rts) + "---:|---:|")
        for step, label in (("create", "create"), ("start", "start"),
                            ("exit", "start returned -> init exited"), ("delete", "delete")):
            cells = [f"**{ms(med(lc[rt][step]))}** ({ms(pct(lc[rt][step], 10))}-"
                     f"{ms(pct(lc[rt][step], 90))})" for rt in rts]
            g = med(lc["guise"][step]) if "guise" in lc else None
            add(f"| {label} | " + " | ".join(cells) +
                f" | {ratio(g, med(lc['crun'][step])) if 'crun' in lc else 'n/a'}"
                f" | {ratio(g, med(lc['runc'][step])) if 'runc' in lc else 'n/a'} |")
        tot = {rt: med(lc[rt]["create"]) + med(lc[rt]["start"]) + med(lc[rt]["delete"])
               for rt in rts}
        add("| sum of the three medians | " + " | ".join(f"{ms(tot[rt])}" for rt in rts) +
            f" | {ratio(tot.get('guise'), tot.get('crun'))} | {ratio(tot.get('guise'), tot.get('runc'))} |")
        add("")

    se = modes.get("serial", {})
    if se:
        c = se["count"]
        add(f"## {c} containers one after another (`run`), total wall time\n")
        rounds = len(next(iter(se["total_s"].values())))
        add(f"{rounds} round(s) per runtime, rounds alternated. Median over rounds (min-max).\n")
        add(f"| runtime | total (s) | min-max (s) | per container (ms) | failed runs |")
        add("|---|---:|---:|---:|---:|")
        for rt in present(se["total_s"]):
            x = se["total_s"][rt]
            add(f"| {rt} | **{med(x):.2f}** | {min(x):.2f}-{max(x):.2f} | {med(x) / c * 1000:.2f} | "
                f"{se['failed_runs'].get(rt, 0)} |")
        add("")
        add(ratio_line(se["total_s"], what="median total"))
        add("")

    tp = modes.get("throughput", {})
    if tp:
        add(f"## Throughput: {tp['parallel']} `run`s in flight at all times (= nproc)\n")
        rounds = len(next(iter(tp["per_s"].values())))
        add(f"{rounds} round(s) of {tp['seconds']:g} s per runtime, rounds alternated; a new "
            "`run` starts the moment one ends, each in-flight container with its own bundle "
            "and cgroup. Containers completed per second, median over rounds (min-max).\n")
        add("| runtime | containers/s | min-max | failed runs |")
        add("|---|---:|---:|---:|")
        for rt in present(tp["per_s"]):
            x = tp["per_s"][rt]
            add(f"| {rt} | **{med(x):.1f}** | {min(x):.1f}-{max(x):.1f} | "
                f"{tp['failed_runs'].get(rt, 0)} |")
        add("")
        add(ratio_line(tp["per_s"], lower_is_better=False, what="median rate"))
        add("")

    ex = modes.get("exec", {}).get("latency_s", {})
    if ex:
        add("## exec latency: `exec ID /bin/true` into a running container (`sleep 1000`)\n")
        add(latency_table(ex))
        add("")
        add(ratio_line(ex))
        add("")

    mr = modes.get("maxrss", {}).get("maxrss_kb", {})
    if mr or lc:
        add("## Memory\n")
        if mr:
            n_rss = len(next(iter(mr.values())))
            add(f"Peak RSS of `run` (wait4 `ru_maxrss`: the runtime process, or any descendant "
                f"it waited for, whichever peaked higher: for `run` that includes the "
                f"container's init before it exec'd /bin/true, e.g. `runc init`). "
                f"{n_rss} alternated runs each, spawned through `bench/maxrss.c` (a static "
                "helper) so the Python driver's own RSS does not leak into the number.\n")
            add("| runtime | ru_maxrss median (KiB) | min-max |")
            add("|---|---:|---:|")
            for rt in present(mr) + (["true"] if mr.get("true") else []):
                x = mr[rt]
                label = "(method floor: busybox `true` alone)" if rt == "true" else rt
                add(f"| {label} | **{med(x):.0f}** | {min(x):.0f}-{max(x):.0f} |")
            add("")
            add(ratio_line({k: v for k, v in mr.items() if k != "true"}, what="median peak RSS"))
            add("")
        if lc:
            add("The container's init after `create`, before `start` (it is waiting on the "
                "exec fifo): `VmRSS` from /proc/PID/status, and `Pss` from "
                "/proc/PID/smaps_rollup (pages shared with other processes counted "
                "proportionally). Median over the lifecycle samples.\n")
            add("| runtime | init VmRSS (KiB) | init Pss (KiB) | what the init is |")
            add("|---|---:|---:|---|")
            what = {"guise": "a clone3 of guise-oci (no re-exec)",
                    "runc": "`runc init`: runc re-exec'd (Go runtime, nsexec)",
                    "crun": "a fork of crun"}
            for rt in present(lc):
                add(f"| {rt} | **{med(lc[rt]['init_vmrss_kb']):.0f}** | "
                    f"{med(lc[rt]['init_pss_kb']) if lc[rt]['init_pss_kb'] else float('nan'):.0f} | "
                    f"{what.get(rt, '')} |")
            add("")

    base = d
    for mode, title in (("run-userns", "with a user namespace"), ("run-seccomp", "with seccomp")):
        dd = modes.get(mode, {}).get("latency_s", {})
        if not dd:
            continue
        add(f"## Headline again {title}\n")
        if mode == "run-userns":
            add("Config: the default plus `{\"type\": \"user\"}` and uidMappings/gidMappings "
                "0 -> 100000, size 65536; the rootfs of this variant is chowned to "
                "100000:100000 (as podman/containerd prepare one). The floor adds CLONE_NEWUSER, "
                "writes the same maps, binds the host's device nodes instead of mknod.\n")
        else:
            add("Config: the default plus `linux.seccomp` = bench/profiles/seccomp-default.json: "
                "an **allow-list** profile shaped like docker's default (defaultAction "
                "SCMP_ACT_ERRNO/EPERM, arches x86_64+x86+x32, ~350 syscalls allowed "
                "unconditionally, personality and clone allowed only with docker's argument "
                "conditions, clone3 -> ENOSYS). The runtimes compile it with libseccomp on "
                "every `run`; the floor loads the same filter precompiled to BPF "
                "(bench/lib/seccomp_bpf.py, libseccomp) with one prctl, since compiling is "
                "runtime work.\n")
        add(latency_table(dd))
        add("")
        add(ratio_line(dd))
        add("")
        if base:
            add("Cost over the default config (difference of medians, ms; both measured in the "
                "same alternated loop): " + ", ".join(
                f"{rt} {(med(dd[rt]) - med(base[rt])) * 1000:+.2f}" for rt in present(dd)
                if base.get(rt)) + ".")
            add("")

    ver = raw.get("verify")
    if ver:
        add("## Same container from every runtime\n")
        add("Before measuring, each runtime (and the floor) ran each variant's config once with "
            "a shell in place of /bin/true that prints what the container got: uid_map, "
            "effective capabilities, no_new_privs, seccomp mode (2 = filter), the number of "
            "mounts, its pid, its hostname.\n")
        add("| variant / runtime | what the container saw |")
        add("|---|---|")
        for k, v in ver.items():
            add(f"| {k} | `{v}` |")
        add("")

    sp = modes.get("spawn", {}).get("latency_s")
    if sp:
        add(f"Method overhead, for scale: the driver's posix_spawn + wait4 of a static busybox "
            f"`true` takes {ms(med(sp))} ms median (p10 {ms(pct(sp, 10))}, p90 "
            f"{ms(pct(sp, 90))}); it is inside every number above, runtimes' and floor's alike.\n")

    add("## Summary (medians)\n")
    rows = []

    def row(label, dd, fmt, unit):
        if dd:
            rows.append((label, {rt: fmt(med(dd[rt])) for rt in present(dd)}, unit, dd))
    row("run /bin/true", d, ms, "ms")
    if lc:
        for step in ("create", "start", "delete"):
            row(step, {rt: lc[rt][step] for rt in present(lc)}, ms, "ms")
    if se:
        row(f"{se['count']} sequential runs", se["total_s"], lambda v: f"{v:.2f}", "s")
    if tp:
        row(f"throughput ({tp['parallel']} parallel)", tp["per_s"], lambda v: f"{v:.1f}", "containers/s")
    row("exec /bin/true", ex, ms, "ms")
    if mr:
        row("peak RSS of run", {k: v for k, v in mr.items() if k != "true"}, lambda v: f"{v:.0f}", "KiB")
    if lc:
        row("init VmRSS before start", {rt: lc[rt]["init_vmrss_kb"] for rt in present(lc)},
            lambda v: f"{v:.0f}", "KiB")
    row("run, user namespace", modes.get("run-userns", {}).get("latency_s", {}), ms, "ms")
    row("run, seccomp", modes.get("run-seccomp", {}).get("latency_s", {}), ms, "ms")
    add("| measurement | unit | guise | runc | crun | floor | guise/crun | guise/runc | guise/floor |")
    add("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for label, vals, unit, dd in rows:
        g = med(dd["guise"]) if dd.get("guise") else None
        rs = [ratio(g, med(dd[o])) if dd.get(o) and g else "" for o in ("crun", "runc", "floor")]
        add(f"| {label} | {unit} | " + " | ".join(vals.get(rt, "") for rt in ORDER) +
            " | " + " | ".join(rs) + " |")
    add("")

    add("## What did not work, and what had to be arranged\n")
    add("- **crun and this hybrid host.** crun 1.8.1 refuses a host with v1 controllers plus "
        "a cgroup2 mount at /sys/fs/cgroup/unified. Outside the benchmark's namespace it says: `"
        + (m["crun_outside_ns"].replace("\n", " ")[:300] or "(not probed)") + "`. So the whole "
        "driver (every runtime and the floor) runs in one private mount namespace, "
        "`unshare -m --propagation private`, in which /sys/fs/cgroup/unified is unmounted. "
        "The cgroup2 mount holds no controller on this host, so nothing measured loses "
        "anything; runc and guise simply no longer see it. " + (
            "Verified: `crun run` of /bin/true exits 0 there (each measurement first checks "
            "that every runtime succeeds)." if "run/crun" not in raw.get("unsupported", {})
            else "crun still FAILED there: see below."))
    add(f"- **cgroupsPath is absolute, not relative.** The sandbox owns a memory cgroup above "
        f"us; containers must go below our own cgroup. With a relative path (`guise-bench/x`) "
        "runc and guise do that, but crun 1.8.1 on cgroup v1 puts a relative path at the root "
        "of every hierarchy (seen: /sys/fs/cgroup/memory/guise-bench/x, outside the sandbox's "
        "memory cgroup). So every runtime, and the floor, gets the same absolute path: our own "
        f"memory cgroup + /guise-bench/VARIANT-RUNTIME-SLOT (`{raw['cgroup_base']}/...`). Our "
        "cgroup in every other hierarchy is /, so that path is below it everywhere. The "
        "harness creates the parents once (and removes them at the end), so each container "
        "creates and removes only its own leaf, for every runtime alike.")
    uns = raw.get("unsupported", {})
    fails = raw.get("failures", {})
    if not uns and not fails:
        add("- Every runtime completed every mode; no run failed.")
    for k, v in uns.items():
        add(f"- **{k} not measured**: `{v[:400]}`")
    for k, v in fails.items():
        add(f"- {k}: {v['count']} failed sample(s), first: `{v['first'][:300]}`")
    add("")

    add("## Method\n")
    add(f"""- One command: `sudo bash bench/run.sh [--quick]` (N = 30 samples with --quick,
  200 without; this run: {raw['n']}). It apt-get installs what is missing (runc, crun, busybox-static, gcc,
  python3-matplotlib), copies build/guise-oci to bench/work/bin (others rebuild build/ while
  this runs), compiles bench/floor.c and bench/maxrss.c with `gcc -O2 -static`, builds the
  bundles, runs bench/driver.py in the private mount namespace, then bench/report.py.
- Bundles: `examples/make-bundle.sh` (the host's static busybox 1.35, runc 1.1's `runc spec`
  config) once per runtime and variant into bench/work/bundles/, so each runtime has an
  identical rootfs of its own; config.json with process.args ["/bin/true"] (busybox
  `true`), terminal false, namespaces pid, network, ipc, uts, mount (runc's default, which
  also means: read-only root, the default masked/read-only paths, three capabilities,
  no_new_privs, RLIMIT_NOFILE 1024, devices cgroup deny-all). One config per parallel slot
  (`nproc` of them), differing only in cgroupsPath. State roots /run/guise-bench-RUNTIME.
  Network: none besides each container's own loopback.
- The driver (Python 3.11, Debian's) spawns each command with posix_spawn, stdio on
  /dev/null (stderr to bench/work/logs/RUNTIME.stderr), and times it with CLOCK_MONOTONIC
  from just before the spawn to the return of wait4: what a caller of the runtime waits.
  The same spawn overhead (measured, see "Method overhead") is in every runtime's number
  and in the floor's.
- Alternation: sample i runs the runtimes in the order rotated by i (guise runc crun floor,
  runc crun floor guise, ...), so drift and the position in the cycle fall on all alike.
  Every runtime is first checked to succeed (3 tries) and warmed up.
- Container ids are unique per sample; `run` deletes its container; anything left is
  `delete --force`d at the end, and a trap in run.sh deletes every container left in the
  state roots and removes every cgroup the run made, even after a failure or Ctrl-C.
- Spread: p10/p90 and min/max for per-sample measurements; min-max over rounds for the
  100-container and throughput measurements. Ratios are of medians.
- The floor, bench/floor.c, does only the kernel's part of the same container: cgroup dirs
  in every v1 hierarchy (below our own cgroup, cpuset.cpus/mems copied), clone(NEWPID|
  NEWNET|NEWIPC|NEWUTS|NEWNS [|NEWUSER]) with the child waiting on a pipe, maps, child into
  the cgroups; in the child: / private, rootfs bind, proc, /dev tmpfs, devpts, /dev/shm,
  mqueue, sysfs ro, /sys/fs/cgroup as runc builds it on v1 (tmpfs + a read-only bind of the
  container's cgroup per hierarchy), six device nodes and the /dev symlinks, pivot_root, the
  masked and read-only paths, / read-only, hostname, RLIMIT_NOFILE, capabilities dropped to
  the three, no_new_privs, [seccomp], execve /bin/true; the parent waits and rmdirs the
  cgroups. The container it makes has the same mount table (25 entries; 31 with a user
  namespace) as the three runtimes' (see "Same container" above). Left out: the devices
  cgroup's deny-all rule, and everything that is runtime logic (config parsing, state,
  locks, hooks, a second process to answer `start`).
""")
    err = plot(raw, os.path.join(B.RESULTS, "latency.png"))
    if err:
        add(f"(No plot: {err}.)")
    with open(os.path.join(B.RESULTS, "RESULTS.md"), "w") as f:
        f.write("\n".join(L) + "\n")

    if d.get("guise") and d.get("crun"):
        bl = {"measure": "median wall time of `run` of /bin/true, guise / crun",
              "guise_crun_ratio": med(d["guise"]) / med(d["crun"]),
              "guise_median_ms": med(d["guise"]) * 1000, "crun_median_ms": med(d["crun"]) * 1000,
              "n": raw["n"], "quick": raw["quick"], "date": m["date"],
              "guise": m["versions"]["guise"]}
        if d.get("runc"):
            bl["runc_median_ms"] = med(d["runc"]) * 1000
        # The check compares against the worst ratio any full run recorded here, so a
        # loaded machine (the ratio moves between about 0.5 and 0.9 with load) cannot
        # fail it, while a real 2x regression still does.
        path = os.path.join(B.RESULTS, "baseline.json")
        worst = bl["guise_crun_ratio"]
        if os.path.exists(path):
            old = json.load(open(path))
            worst = max(worst, old.get("guise_crun_ratio", 0), old.get("worst_guise_crun_ratio", 0))
            # bench/engine.sh's ratio (engine_*) shares the file: keep it.
            bl.update({k: v for k, v in old.items() if k.startswith("engine_")})
        bl["worst_guise_crun_ratio"] = worst
        with open(path, "w") as f:
            json.dump(bl, f, indent=1)
            f.write("\n")
    print(f"report: wrote {B.RESULTS}/RESULTS.md, latency.png, baseline.json")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "meta":
        meta(sys.argv[2])
    elif len(sys.argv) == 4 and sys.argv[1] == "write":
        write(sys.argv[2], sys.argv[3])
    else:
        sys.exit(__doc__)
