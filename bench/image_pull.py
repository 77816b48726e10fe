"""Pull + unpack of a multi-layer image from a loopback registry: guise against podman,
skopeo copy + umoci unpack, and containerd's ctr; rootfs mount times; disk used by two
images that share layers.  Driven by bench/image-pull.sh (as root); writes
bench/results/IMAGES.md and images-raw.json and prints the table.

    /usr/bin/python3 bench/image_pull.py [--n 5] [--mb 200] [--mount-n 20] [--only guise,podman,...]

Every pull goes into an empty store (fresh dirs; for ctr a fresh containerd), so each run
downloads and unpacks every layer.  Runs are alternated: each cycle runs every
(tool, compression) pair once, in an order rotated every cycle.  The `sync` before each
run is not timed, so one tool's dirty pages are not written back on another's clock.
"""

import argparse
import ctypes
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import types

BENCH = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(BENCH)
sys.path.insert(0, os.path.join(REPO, "tests", "integration"))
sys.path.insert(0, os.path.join(REPO, "tests", "engines"))

import image_builder as ib  # noqa: E402
import registry_fixture as rf  # noqa: E402
import engines  # noqa: E402
import support  # noqa: E402

TOOLS = ["guise", "podman", "skopeo+umoci", "ctr"]
COMPRESSIONS = ["gzip", "zstd"]


def log(msg):
    print("bench: " + msg, file=sys.stderr, flush=True)


def sh(argv, **kw):
    return subprocess.run(argv, capture_output=True, text=True, **kw)


def must(argv, what=None, **kw):
    r = sh(argv, **kw)
    if r.returncode != 0:
        raise RuntimeError("%s failed (%d): %s" % (what or " ".join(argv[:4]), r.returncode,
                                                  (r.stderr or r.stdout).strip()[-2000:]))
    return r


def first_line(argv):
    try:
        r = sh(argv, timeout=30)
        return (r.stdout or r.stderr).strip().splitlines()[0]
    except (OSError, IndexError, subprocess.TimeoutExpired):
        return "?"


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def med(xs):
    return statistics.median(xs) if xs else None


def tree_bytes(path, apparent):
    argv = ["du", "-s", "--block-size=1"] + (["--apparent-size"] if apparent else []) + [path]
    return int(must(argv).stdout.split()[0])


# --------------------------------------------------------------- images


def build_images(cache, mb):
    """The bench's images, built once into CACHE (kept between runs: deterministic, and
    about a minute to make).  Returns {name: BuiltImage}."""
    os.makedirs(cache, exist_ok=True)
    per = mb // 4
    specs = {
        # busybox + 4 bulk layers: 5 layers, about MB MiB uncompressed
        "big-gzip": lambda p: ib.large(p, mb=mb, layers=4, compression="gzip"),
        "big-zstd": lambda p: ib.large(p, mb=mb, layers=4, compression="zstd"),
        "many128": lambda p: ib.many_layers(p, n=128),
        # two images sharing busybox + 2 bulk layers (the first half of big-gzip's bulk)
        "shared-a": lambda p: _shared(p, per, "a"),
        "shared-b": lambda p: _shared(p, per, "b"),
    }
    out = {}
    for name, make in specs.items():
        path = os.path.join(cache, "%s-%d" % (name, mb))
        facts = path + ".facts.json"
        if os.path.exists(facts):
            with open(facts) as f:
                out[name] = ib.BuiltImage(**json.load(f))
            continue
        log("building image %s (%d MiB)" % (name, mb))
        shutil.rmtree(path, ignore_errors=True)
        img = make(path)
        with open(facts + ".tmp", "w") as f:
            json.dump({k: getattr(img, k) for k in ("layout", "tag", "index_digest", "manifest_digest",
                                                     "config_digest", "layer_digests", "diff_ids",
                                                     "layer_media_types", "config")}, f)
        os.rename(facts + ".tmp", facts)
        out[name] = img
    return out


def _bulk_layer(li, per, seed):
    import random
    rng = random.Random(seed * 1000 + li)
    layer = [ib.D("bulk"), ib.D("bulk/%d" % li)]
    for fi in range(per):
        text = ("layer %d file %d line\n" % (li, fi)).encode() * (512 * 1024 // 24)
        layer.append(ib.F("bulk/%d/%04d" % (li, fi), rng.randbytes(512 * 1024) + text[:512 * 1024]))
    return layer


def _shared(path, per, which):
    """busybox + two shared bulk layers + one of its own."""
    layers = [ib.busybox_entries(), _bulk_layer(0, per, 7), _bulk_layer(1, per, 7),
              _bulk_layer(2, per, 8 if which == "a" else 9)]
    return ib._single(path, layers, "latest", "gzip")


def image_sizes(img):
    blobs = os.path.join(img.layout, "blobs", "sha256")
    comp = sum(os.path.getsize(os.path.join(blobs, d.split(":")[1])) for d in img.layer_digests)
    return comp


# --------------------------------------------------------------- the tools


class Runner:
    """One pull of REF by one tool into fresh dirs under SCRATCH."""

    def __init__(self, scratch, guise, podman_driver, extra_guises):
        self.scratch, self.guise, self.podman_driver = scratch, guise, podman_driver
        self.extra_guises = extra_guises  # {label: binary}: other guise builds, timed like guise
        self.containerd = None

    def fresh(self, name):
        d = tempfile.mkdtemp(prefix=name + "-", dir=self.scratch)
        return d

    def prepare(self, tool):
        """Untimed setup; returns the argv list(s) to time and the dirs to clean."""
        if tool == "guise" or tool in self.extra_guises:
            d = self.fresh("guise")
            binary = self.extra_guises.get(tool, self.guise)
            return [lambda ref: [binary, "--root", d + "/store", "pull", "-q", ref]], [d]
        if tool == "podman":
            d = self.fresh("podman")
            rr = tempfile.mkdtemp(prefix="gbp-", dir="/tmp")  # podman: runroot under 50 characters
            return [lambda ref: ["podman", "--root", d + "/root", "--runroot", rr, "--storage-driver",
                                 self.podman_driver, "--cgroup-manager", "cgroupfs", "--events-backend",
                                 "none", "pull", "-q", "--tls-verify=false", ref]], [d, rr]
        if tool == "skopeo+umoci":
            d = self.fresh("umoci")
            return [lambda ref: ["skopeo", "--insecure-policy", "copy", "--quiet", "--src-tls-verify=false",
                                 "docker://" + ref, "oci:%s/oci:latest" % d],
                    lambda ref: ["umoci", "unpack", "--image", "%s/oci:latest" % d, d + "/bundle"]], [d]
        if tool == "ctr":
            d = tempfile.mkdtemp(prefix="c-", dir="/tmp")  # socket paths stay short
            rt = types.SimpleNamespace(path=shutil.which("runc") or "/usr/bin/runc")
            self.containerd = engines.Containerd(d, {"guise": rt, "runc": rt})
            return [lambda ref: [engines.CTR, "--address", self.containerd.sock, "-n", "bench", "images",
                                 "pull", "--plain-http", ref]], [d]
        raise ValueError(tool)

    def daemon_cpu(self):
        if not self.containerd:
            return 0.0
        with open("/proc/%d/stat" % self.containerd.daemon.proc.pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def cleanup(self, dirs):
        if self.containerd:
            self.containerd.stop()
            self.containerd = None
        for d in dirs:
            support.unmount_all_under(d)
            shutil.rmtree(d, ignore_errors=True)

    def one(self, tool, ref):
        """(wall seconds of each step, client cpu seconds, daemon cpu seconds)."""
        steps, dirs = self.prepare(tool)
        try:
            subprocess.run(["sync"], check=False)
            walls = []
            ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
            d0 = self.daemon_cpu()
            for step in steps:
                argv = step(ref)
                t0 = time.monotonic()
                r = sh(argv, timeout=600)
                walls.append(time.monotonic() - t0)
                if r.returncode != 0:
                    raise RuntimeError("%s: %s" % (" ".join(argv[:3]), (r.stderr or r.stdout).strip()[-1500:]))
            ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu = (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime)
            return walls, cpu, self.daemon_cpu() - d0
        finally:
            self.cleanup(dirs)


def podman_storage_driver(scratch, ref):
    """overlay when a pull with it works here, else vfs."""
    d = tempfile.mkdtemp(prefix="probe-", dir=scratch)
    rr = tempfile.mkdtemp(prefix="gbp-", dir="/tmp")
    try:
        r = sh(["podman", "--root", d, "--runroot", rr, "--storage-driver", "overlay", "--cgroup-manager",
                "cgroupfs", "--events-backend", "none", "pull", "-q", "--tls-verify=false", ref], timeout=120)
        return ("overlay", "") if r.returncode == 0 else ("vfs", r.stderr.strip()[-300:])
    finally:
        for p in (d, rr):
            support.unmount_all_under(p)
            shutil.rmtree(p, ignore_errors=True)


# --------------------------------------------------------------- mounts


libc = ctypes.CDLL(None, use_errno=True)
SYS_move_mount, SYS_fsopen, SYS_fsconfig, SYS_fsmount = 429, 430, 431, 432
FSCONFIG_SET_STRING, FSCONFIG_CMD_CREATE = 1, 6
MOVE_MOUNT_F_EMPTY_PATH, AT_FDCWD = 4, -100


def _check(rv, what):
    if rv < 0:
        e = ctypes.get_errno()
        raise OSError(e, "%s: %s" % (what, os.strerror(e)))
    return rv


def overlay_mount_direct(lowers, upper, work, target):
    """fsopen + fsconfig lowerdir+ per layer + fsmount + move_mount: the kernel's share of
    a rootfs mount, no store lookups."""
    fs = _check(libc.syscall(SYS_fsopen, b"overlay", 1), "fsopen")
    try:
        for key, val in [("lowerdir+", l) for l in lowers] + [("upperdir", upper), ("workdir", work)]:
            _check(libc.syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, key.encode(), val.encode(), 0), key)
        _check(libc.syscall(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, None, None, 0), "create")
        mfd = _check(libc.syscall(SYS_fsmount, fs, 1, 0), "fsmount")
        try:
            _check(libc.syscall(SYS_move_mount, mfd, b"", AT_FDCWD, target.encode(),
                                MOVE_MOUNT_F_EMPTY_PATH), "move_mount")
        finally:
            os.close(mfd)
    finally:
        os.close(fs)


def chain_ids(diff_ids):
    import hashlib
    out = []
    for d in diff_ids:
        out.append(d if not out else "sha256:" + hashlib.sha256((out[-1] + " " + d).encode()).hexdigest())
    return out


def snapshot_lowers(store, img):
    """The image's snapshot dirs, top layer first (overlay's order)."""
    snaps = os.path.join(store, "snapshots")
    lowers = []
    for c in reversed(chain_ids(img.diff_ids)):
        # chains/HEX links to the layer's numbered snapshot dir
        lowers.append(os.path.join(os.path.realpath(os.path.join(snaps, "chains", c.split(":")[1])), "fs"))
    return lowers


def bench_mounts(guise, scratch, reg_refs, imgs, n):
    d = tempfile.mkdtemp(prefix="mounts-", dir=scratch)
    store = d + "/store"
    res = {}
    try:
        for name in ("big-gzip", "many128"):
            must([guise, "--root", store, "pull", "-q", reg_refs[name]])
        for _ in range(2):  # warm the dentry cache for both
            for name in ("big-gzip", "many128"):
                must([guise, "--root", store, "image", "mount", reg_refs[name]])
                must([guise, "--root", store, "image", "unmount", reg_refs[name]])
        samples = {(name, step): [] for name in ("big-gzip", "many128")
                   for step in ("guise mount", "guise unmount", "direct mount", "direct unmount")}
        targets = {}
        for name in ("big-gzip", "many128"):
            t = os.path.join(d, "direct-" + name)
            for sub in ("upper", "work", "merged"):
                os.makedirs(os.path.join(t, sub))
            targets[name] = (snapshot_lowers(store, imgs[name]), t)
        for i in range(n):
            for name in (("big-gzip", "many128") if i % 2 == 0 else ("many128", "big-gzip")):
                ref = reg_refs[name]
                t0 = time.monotonic()
                must([guise, "--root", store, "image", "mount", ref])
                t1 = time.monotonic()
                must([guise, "--root", store, "image", "unmount", ref])
                t2 = time.monotonic()
                lowers, t = targets[name]
                t3 = time.monotonic()
                overlay_mount_direct(lowers, t + "/upper", t + "/work", t + "/merged")
                t4 = time.monotonic()
                _check(libc.umount2((t + "/merged").encode(), 0), "umount2")
                t5 = time.monotonic()
                samples[(name, "guise mount")].append(t1 - t0)
                samples[(name, "guise unmount")].append(t2 - t1)
                samples[(name, "direct mount")].append(t4 - t3)
                samples[(name, "direct unmount")].append(t5 - t4)
        for (name, step), xs in samples.items():
            res.setdefault(name, {})[step] = xs
        return res
    finally:
        support.unmount_all_under(d)
        shutil.rmtree(d, ignore_errors=True)


# --------------------------------------------------------------- disk


def bench_disk(guise, scratch, reg_refs):
    out = {}
    for label, names in (("a alone", ["shared-a"]), ("b alone", ["shared-b"]), ("a and b", ["shared-a", "shared-b"])):
        d = tempfile.mkdtemp(prefix="disk-", dir=scratch)
        try:
            for n in names:
                must([guise, "--root", d + "/store", "pull", "-q", reg_refs[n]])
            subprocess.run(["sync"], check=False)
            out[label] = {"apparent": tree_bytes(d + "/store", True), "blocks": tree_bytes(d + "/store", False),
                          "snapshots": tree_bytes(d + "/store/snapshots", False),
                          "blobs": tree_bytes(d + "/store/blobs", False)}
        finally:
            support.unmount_all_under(d)
            shutil.rmtree(d, ignore_errors=True)
    return out


# --------------------------------------------------------------- report


def fmt_s(x):
    return "%.2f" % x if x is not None else "-"


def fmt_ms(x):
    return "%.1f" % (x * 1000) if x is not None else "-"


def mib(b):
    return "%.1f" % (b / 1048576)


def pull_table(raw):
    tools = TOOLS + list(raw.get("extra_guises", {}))
    lines = ["| tool | layers | median (s) | min (s) | max (s) | client CPU (s) | containerd CPU (s) | time / guise's | n |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    for comp in COMPRESSIONS:
        g = med(raw["pull"].get("guise/" + comp, {}).get("wall", []))
        for tool in tools:
            key = "%s/%s" % (tool, comp)
            s = raw["pull"].get(key)
            if s is None:
                continue
            if s.get("skipped"):
                lines.append("| %s | %s | %s | | | | | | 0 |" % (tool, comp, s["skipped"]))
                continue
            w = s["wall"]
            ratio = "%.2fx" % (med(w) / g) if g and tool != "guise" else ""
            if tool == "guise":
                fastest = min((med(v["wall"]) for k, v in raw["pull"].items()
                               if k.endswith("/" + comp) and not v.get("skipped") and v["wall"]
                               and k.split("/")[0] in TOOLS and k.split("/")[0] != "guise"), default=None)
                ratio = "fastest peer / guise = %.2fx" % (fastest / med(w)) if fastest else ""
            lines.append("| %s | %s | **%s** | %s | %s | %s | %s | %s | %d |" % (
                tool, comp, fmt_s(med(w)), fmt_s(min(w)), fmt_s(max(w)), fmt_s(med(s["cpu"])),
                fmt_s(med(s["daemon_cpu"])) if tool == "ctr" else "", ratio, len(w)))
    return lines


def write_report(raw, path):
    m = raw["meta"]
    L = ["# Image pull, mount and disk: guise vs podman, skopeo + umoci, ctr", "",
         "Produced by `sudo bash bench/image-pull.sh` on %s in %.1f minutes. N = %d alternated runs per "
         "(tool, compression) pair. Lower is better." % (m["date"], m["minutes"], raw["n"]), "",
         "## Machine", "",
         "- `nproc` = %s, kernel %s" % (m["nproc"], m["kernel"]),
         "- load average (1, 5, 15 min) before the run: %s, after: %s (a shared VM: other people's builds "
         "and tests ran on the same cores meanwhile; the alternation spreads that over the tools)"
         % (m["load_before"], m["load_after"]),
         "- filesystem of the stores: %s" % m["fs"],
         "- guise: %s" % m["guise"]] + [
         "- %s: %s" % (label, info) for label, info in m.get("extra_guises", {}).items()] + [
         "- podman: %s, storage driver **%s**%s" % (m["podman"], m["podman_driver"],
                                                    (" (overlay failed: %s)" % m["podman_overlay_error"])
                                                    if m["podman_overlay_error"] else ""),
         "- skopeo: %s; umoci: %s" % (m["skopeo"], m["umoci"]),
         "- containerd: %s (ctr %s), overlayfs snapshotter" % (m["containerd"], m["ctr"]),
         "- registry: %s, plain HTTP on 127.0.0.1" % m["registry"], "",
         "## Images", "",
         "| image | layers | uncompressed (MiB) | compressed layers (MiB) |", "|---|---:|---:|---:|"]
    for name, s in raw["images"].items():
        L.append("| %s | %d | %s | %s |" % (name, s["layers"], mib(s["uncompressed"]), mib(s["compressed"])))
    L += ["", "Built by `tests/integration/image_builder.py` (`large()`: busybox-static plus 4 layers of 1 MiB "
          "files, each half random bytes and half repeated text) and seeded with `skopeo copy` as OCI images.",
          "", "## Pull + unpack into an empty store", ""]
    L += pull_table(raw)
    L += ["", "What each tool does in the timed part:", "",
          "- guise: `guise --root EMPTY pull -q REF` (download, verify, unpack into snapshots, record).",
          "- podman: `podman --root EMPTY --runroot EMPTY --storage-driver %s pull -q --tls-verify=false REF`."
          % m["podman_driver"],
          "- skopeo+umoci: `skopeo copy docker://REF oci:DIR:latest` then `umoci unpack --image DIR:latest "
          "BUNDLE` (both timed, summed; medians of the steps: %s)." % raw.get("umoci_steps", "-"),
          "- ctr: `ctr -n bench images pull --plain-http REF` against a containerd started for that run "
          "with its own root, state and socket (start not timed); ctr pull also unpacks into the overlayfs "
          "snapshotter. The containerd column is the daemon's CPU during the pull (client CPU is ctr's).",
          "- umoci 0.4.7 cannot unpack zstd layers (`blob is not correct mediatype`), so skopeo+umoci has no "
          "zstd row.",
          "", "Client CPU is user + system time of the processes the driver waited for (not the registry's, "
          "not a daemon's).", ""]
    if raw["mounts"]:
        L += ["## Rootfs mount", "",
              "`guise image mount IMAGE` and `guise image unmount IMAGE` (whole commands: exec, store lookups, "
              "the overlay mount, its upper/work dirs), and the kernel's share alone: the same overlay (the "
              "image's snapshot dirs as `lowerdir+`, fresh upper and work) mounted by "
              "fsopen/fsconfig/fsmount/move_mount from Python and unmounted with umount2. "
              "N = %d, alternated. Median (min), ms." % raw["mount_n"], "",
              "| image | guise mount | guise unmount | direct mount | direct umount2 |", "|---|---:|---:|---:|---:|"]
        for name, label in (("big-gzip", "5 layers"), ("many128", "128 layers")):
            s = raw["mounts"].get(name)
            if not s:
                continue
            L.append("| %s | %s |" % (label, " | ".join(
                "%s (%s)" % (fmt_ms(med(s[k])), fmt_ms(min(s[k])))
                for k in ("guise mount", "guise unmount", "direct mount", "direct unmount"))))
    d = raw["disk"]
    if d:
        L += ["", "## Disk: two images sharing a base", "",
              "shared-a and shared-b: busybox + two bulk layers in common, one bulk layer each of their own. "
              "Each pulled alone into an empty store, then both into one store. `du -s --block-size=1`, MiB.",
              "", "| store | apparent size | blocks | of which snapshots (blocks) | of which blobs (blocks) |",
              "|---|---:|---:|---:|---:|"]
        for label in ("a alone", "b alone", "a and b"):
            x = d[label]
            L.append("| %s | %s | %s | %s | %s |" % (label, mib(x["apparent"]), mib(x["blocks"]),
                                                       mib(x["snapshots"]), mib(x["blobs"])))
        s_app = d["a alone"]["apparent"] + d["b alone"]["apparent"]
        s_blk = d["a alone"]["blocks"] + d["b alone"]["blocks"]
        L.append("| sum of the two alone | %s | %s | | |" % (mib(s_app), mib(s_blk)))
        L += ["", "Both in one store take %.0f%% of the blocks of the two stores alone." %
              (100.0 * d["a and b"]["blocks"] / s_blk)]
    L += ["", "Where guise's time goes, what the profiles showed: [IMAGES-PROFILE.md](IMAGES-PROFILE.md)."]
    if raw.get("notes"):
        L += ["", "## Notes", ""] + ["- " + n for n in raw["notes"]]
    with open(path, "w") as f:
        f.write("\n".join(L) + "\n")
    return L


# --------------------------------------------------------------- main


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=5)
    ap.add_argument("--mb", type=int, default=200)
    ap.add_argument("--mount-n", type=int, default=20)
    ap.add_argument("--only", default=",".join(TOOLS))
    ap.add_argument("--work", default=os.path.join(BENCH, "work", "images"))
    ap.add_argument("--guise", default=os.path.join(REPO, "build", "guise"))
    ap.add_argument("--results", default=os.path.join(BENCH, "results"))
    ap.add_argument("--extra-guise", action="append", default=[], metavar="LABEL=BINARY",
                    help="another guise build to time beside build/guise (e.g. a patched one)")
    ap.add_argument("--no-mounts", action="store_true")
    ap.add_argument("--no-disk", action="store_true")
    args = ap.parse_args()
    tools = [t for t in args.only.split(",") if t]
    for t in tools:
        if t not in TOOLS:
            sys.exit("unknown tool %s (%s)" % (t, ", ".join(TOOLS)))
    extra = {}
    for spec in args.extra_guise:
        label, _, path = spec.partition("=")
        if not label or not os.access(path, os.X_OK) or label in TOOLS:
            sys.exit("--extra-guise LABEL=BINARY: bad %r" % spec)
        # In a directory of its own, with the guise-full beside it (the one its pulls exec).
        d = os.path.join(args.work, "extra-" + label.replace("/", "_"))
        os.makedirs(d, exist_ok=True)
        extra[label] = os.path.join(d, "guise")
        shutil.copy2(path, extra[label])
        full = os.path.join(os.path.dirname(path), "guise-full")
        if os.access(full, os.X_OK):
            shutil.copy2(full, os.path.join(d, "guise-full"))
    tools += list(extra)

    start = time.monotonic()
    load_before = loadavg()
    os.makedirs(args.work, exist_ok=True)
    # A private copy of guise, and of the guise-full beside it that its pulls exec: build/
    # may be rebuilt while we measure.
    guise = os.path.join(args.work, "guise")
    copies = [(args.guise, guise)]
    full = os.path.join(os.path.dirname(args.guise), "guise-full")
    if os.access(full, os.X_OK):
        copies.append((full, os.path.join(args.work, "guise-full")))
    for src, dst in copies:
        shutil.copy2(src, dst + ".tmp")
        os.rename(dst + ".tmp", dst)
    imgs = build_images(os.path.join(args.work, "cache"), args.mb)
    scratch = tempfile.mkdtemp(prefix="run-", dir=args.work)
    reg = None
    try:
        reg = rf.start_registry(os.path.join(scratch, "registry"))
        refs = {name: rf.seed(reg, img, "bench-%s:latest" % name) for name, img in imgs.items()}
        driver, why = podman_storage_driver(scratch, refs["many128"]) if "podman" in tools else ("-", "")
        log("podman storage driver: %s" % driver)
        runner = Runner(scratch, guise, driver, extra)
        raw = {"n": args.n, "mount_n": args.mount_n, "pull": {}, "mounts": {}, "disk": {}, "notes": [],
               "images": {}, "extra_guises": extra}
        for name, img in imgs.items():
            raw["images"][name] = {"layers": len(img.layer_digests), "compressed": image_sizes(img),
                                   "uncompressed": None}
        pairs = [(t, c) for c in COMPRESSIONS for t in tools if not (t == "skopeo+umoci" and c == "zstd")]
        if "skopeo+umoci" in tools:
            raw["pull"]["skopeo+umoci/zstd"] = {"skipped": "n/a: umoci 0.4.7 has no zstd"}
        steps = {}
        for i in range(args.n):
            k = i % len(pairs)
            for tool, comp in pairs[k:] + pairs[:k]:
                ref = refs["big-" + comp]
                try:
                    walls, cpu, dcpu = runner.one(tool, ref)
                except (RuntimeError, subprocess.TimeoutExpired) as e:
                    raw["notes"].append("run %d of %s (%s) failed: %s" % (i + 1, tool, comp, str(e)[:300]))
                    log("run %d/%d %-13s %s FAILED: %s" % (i + 1, args.n, tool, comp, e))
                    continue
                s = raw["pull"].setdefault("%s/%s" % (tool, comp), {"wall": [], "cpu": [], "daemon_cpu": []})
                s["wall"].append(sum(walls))
                s["cpu"].append(cpu)
                s["daemon_cpu"].append(dcpu)
                if len(walls) > 1:
                    steps.setdefault(comp, []).append(walls)
                log("run %d/%d %-13s %s %6.2f s (cpu %.2f)" % (i + 1, args.n, tool, comp, sum(walls), cpu))
        if steps.get("gzip"):
            raw["umoci_steps"] = "skopeo copy %.2f s, umoci unpack %.2f s" % (
                med([w[0] for w in steps["gzip"]]), med([w[1] for w in steps["gzip"]]))
        # uncompressed sizes: what a guise pull unpacked (apparent size of the snapshots)
        for name in imgs:
            d = tempfile.mkdtemp(prefix="size-", dir=scratch)
            try:
                must([guise, "--root", d + "/store", "pull", "-q", refs[name]])
                raw["images"][name]["uncompressed"] = tree_bytes(d + "/store/snapshots", True)
            finally:
                shutil.rmtree(d, ignore_errors=True)
        if not args.no_mounts:
            log("mount times")
            raw["mounts"] = bench_mounts(guise, scratch, refs, imgs, args.mount_n)
        if not args.no_disk:
            log("disk use")
            raw["disk"] = bench_disk(guise, scratch, refs)
        if driver == "vfs":
            raw["notes"].append("podman used vfs: overlay failed here (%s)" % why)
        raw["meta"] = {
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "minutes": (time.monotonic() - start) / 60, "nproc": os.cpu_count(),
            "kernel": platform.release(), "load_before": load_before, "load_after": loadavg(),
            "fs": must(["findmnt", "-n", "-o", "FSTYPE,SOURCE", "-T", args.work]).stdout.strip(),
            "guise": "%s (git %s)" % (first_line([guise, "--version"]),
                                      first_line(["git", "-C", REPO, "rev-parse", "--short", "HEAD"])),
            "extra_guises": {label: "%s (%s, sha256 %s)" % (first_line([b, "--version"]), args.extra_guise[i].split("=", 1)[1],
                                                            must(["sha256sum", b]).stdout[:16])
                             for i, (label, b) in enumerate(extra.items())},
            "podman": first_line(["podman", "--version"]), "podman_driver": driver,
            "podman_overlay_error": why, "skopeo": first_line(["skopeo", "--version"]),
            "umoci": first_line(["umoci", "--version"]),
            "containerd": first_line([engines.CONTAINERD, "--version"]),
            "ctr": first_line([engines.CTR, "--version"]),
            "registry": first_line([rf.REGISTRY_BIN, "--version"]),
        }
        os.makedirs(args.results, exist_ok=True)
        with open(os.path.join(args.results, "images-raw.json"), "w") as f:
            json.dump(raw, f, indent=1)
        lines = write_report(raw, os.path.join(args.results, "IMAGES.md"))
        print("\n".join(lines))
    finally:
        if reg:
            reg.stop()
        support.unmount_all_under(scratch)
        shutil.rmtree(scratch, ignore_errors=True)
        for b in extra.values():
            os.unlink(b)


if __name__ == "__main__":
    main()
