"""Shared pieces of the benchmark: where things live, the runtimes, cgroup bookkeeping, bundles.

Everything here runs as root.  The harness creates cgroups only below the cgroup it runs in
(the machine's sandbox owns a memory cgroup above us) and remembers every directory it made,
so that cleanup removes exactly those.
"""
import json
import os
import shutil
import subprocess

BENCH = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REPO = os.path.dirname(BENCH)
WORK = os.path.join(BENCH, "work")
BIN = os.path.join(WORK, "bin")
BUNDLES = os.path.join(WORK, "bundles")
LOGS = os.path.join(WORK, "logs")
RESULTS = os.path.join(BENCH, "results")
PROFILE = os.path.join(BENCH, "profiles", "seccomp-default.json")
PROFILE_BPF = os.path.join(WORK, "seccomp-default.bpf")
CG_MADE = os.path.join(WORK, "cgroups-made.json")
CG_ROOT = "/sys/fs/cgroup"

RUNTIMES = ["guise", "runc", "crun"]  # OCI runtimes; "floor" is measured beside them
VARIANTS = ["default", "userns", "seccomp"]
USERNS_HOST_ID = 100000
USERNS_SIZE = 65536


def runtime_binary(name):
    if name == "guise":
        return os.path.join(BIN, "guise-oci")  # a copy: others may rebuild build/ meanwhile
    return shutil.which(name, path="/usr/sbin:/usr/bin:/sbin:/bin") or "/usr/bin/" + name


def state_root(name):
    return f"/run/guise-bench-{name}"


def floor_binary():
    return os.path.join(BIN, "floor")


# ---------------------------------------------------------------- cgroups

def own_cgroups():
    """{hierarchy dir under /sys/fs/cgroup: our path in it} for every mounted v1 hierarchy."""
    out = {}
    with open("/proc/self/cgroup") as f:
        for line in f:
            _, ctrl, path = line.rstrip("\n").split(":", 2)
            if not ctrl:
                continue  # cgroup2: no controllers on this host, unmounted for the runs
            name = ctrl[5:] if ctrl.startswith("name=") else ctrl
            mnt = os.path.join(CG_ROOT, name)
            if os.path.isdir(mnt):
                out[mnt] = path
    return out


def cgroup_base():
    """The absolute cgroupsPath prefix every container of the benchmark gets.

    It is our own memory cgroup + /guise-bench.  Absolute, because crun 1.8.1 on a v1 host
    puts a *relative* cgroupsPath at the root of each hierarchy (it does not resolve it
    against its own cgroup as runc does), which for memory would be above the sandbox's
    cgroup.  In every other hierarchy our own cgroup is /, so the same absolute path is below
    our cgroup everywhere; all three runtimes and the floor get the identical path."""
    own = own_cgroups()
    mem = own.get(os.path.join(CG_ROOT, "memory"), "/")
    for mnt, path in own.items():
        if path != "/" and not (mem + "/").startswith(path.rstrip("/") + "/"):
            raise SystemExit(f"bench: our cgroup {path} in {mnt} is not above {mem}; "
                             "no single cgroupsPath is below our cgroup in every hierarchy")
    return mem.rstrip("/") + "/guise-bench"


def _load_made():
    try:
        with open(CG_MADE) as f:
            return json.load(f)
    except (OSError, ValueError):
        return []


def ensure_cgroup_parents(base):
    """mkdir -p base in every hierarchy (cpuset levels get their parent's cpus and mems),
    so each container creates and removes only its leaf.  Records what it made."""
    made = _load_made()
    for mnt in own_cgroups():
        cur = mnt
        for part in base.strip("/").split("/"):
            parent, cur = cur, os.path.join(cur, part)
            if os.path.isdir(cur):
                continue
            os.mkdir(cur)
            made.append(cur)
            if os.path.basename(mnt) == "cpuset":
                for f in ("cpuset.cpus", "cpuset.mems"):
                    with open(os.path.join(parent, f)) as src:
                        val = src.read()
                    with open(os.path.join(cur, f), "w") as dst:
                        dst.write(val)
    os.makedirs(WORK, exist_ok=True)
    with open(CG_MADE, "w") as f:
        json.dump(made, f)


def _kill_tasks(d):
    # Only ever our containers' processes: d is a cgroup this benchmark made.
    for procs in ("cgroup.procs",):
        try:
            with open(os.path.join(d, procs)) as f:
                pids = [int(x) for x in f.read().split()]
        except OSError:
            return
        for pid in pids:
            try:
                os.kill(pid, 9)
            except ProcessLookupError:
                pass


def remove_cgroups(base):
    """Remove every cgroup below base (containers' leaves left by a failed run; their tasks
    are our containers and are killed first), then the directories ensure_cgroup_parents
    made, deepest first.  Directories someone else made are never touched."""
    import time
    for mnt in own_cgroups():
        top = mnt + base
        if not os.path.isdir(top):
            continue
        for dirpath, dirnames, _ in os.walk(top, topdown=False):
            for d in dirnames:
                p = os.path.join(dirpath, d)
                for _ in range(200):
                    try:
                        os.rmdir(p)
                        break
                    except FileNotFoundError:
                        break
                    except OSError:
                        _kill_tasks(p)
                        time.sleep(0.01)
    made = _load_made()
    left = []
    for d in reversed(made):
        try:
            os.rmdir(d)
        except FileNotFoundError:
            pass
        except OSError as e:
            left.append(d)
            print(f"bench: cannot remove cgroup {d}: {e.strerror}")
    with open(CG_MADE, "w") as f:
        json.dump(list(reversed(left)), f)


# ---------------------------------------------------------------- bundles

def bundle_dir(variant, rt):
    return os.path.join(BUNDLES, variant, rt)


def slot_bundle(variant, rt, slot):
    return os.path.join(bundle_dir(variant, rt), f"s{slot}")


def sleep_bundle(rt):
    return os.path.join(bundle_dir("default", rt), "sleep")


def rootfs(variant, rt):
    return os.path.join(bundle_dir(variant, rt), "rootfs")


def cgroup_path(base, variant, rt, slot):
    return f"{base}/{variant}-{rt}-{slot}"


def make_rootfs(variant, rt):
    """examples/make-bundle.sh into bundles/VARIANT/RT (rootfs + runc's default config)."""
    d = bundle_dir(variant, rt)
    subprocess.run(["sh", os.path.join(REPO, "examples", "make-bundle.sh"), d], check=True,
                   stdout=subprocess.DEVNULL)
    if variant == "userns":
        # Owned by the container's root (host uid/gid 100000), as podman and containerd
        # prepare a rootfs for a user namespace; make-bundle.sh rewrites files as root.
        subprocess.run(["chown", "-R", "-h", f"{USERNS_HOST_ID}:{USERNS_HOST_ID}",
                        rootfs(variant, rt)], check=True)


def write_config(path_dir, template, root_path, args, cgpath, variant):
    cfg = json.loads(json.dumps(template))
    cfg["root"]["path"] = root_path
    cfg["process"]["args"] = args
    cfg["process"]["terminal"] = False
    cfg["linux"]["cgroupsPath"] = cgpath
    if variant == "userns":
        cfg["linux"]["namespaces"].append({"type": "user"})
        m = [{"containerID": 0, "hostID": USERNS_HOST_ID, "size": USERNS_SIZE}]
        cfg["linux"]["uidMappings"] = m
        cfg["linux"]["gidMappings"] = m
    if variant == "seccomp":
        with open(PROFILE) as f:
            cfg["linux"]["seccomp"] = json.load(f)
    os.makedirs(path_dir, exist_ok=True)
    with open(os.path.join(path_dir, "config.json"), "w") as f:
        json.dump(cfg, f, indent=1)


def make_bundles(base, slots, variants=VARIANTS, runtimes=RUNTIMES + ["floor"]):
    """One rootfs per (variant, runtime), all built the same way; one config.json per
    parallel slot (each container in flight needs its own cgroupsPath).  Configs are
    rewritten every time: the cgroup base depends on the cgroup we run in."""
    for variant in variants:
        for rt in runtimes:
            make_rootfs(variant, rt)
            with open(os.path.join(bundle_dir(variant, rt), "config.json")) as f:
                template = json.load(f)
            if rt == "floor":
                continue  # the floor takes a rootfs, not a bundle
            for s in range(slots):
                write_config(slot_bundle(variant, rt, s), template, rootfs(variant, rt),
                             ["/bin/true"], cgroup_path(base, variant, rt, s), variant)
            if variant == "default":
                write_config(sleep_bundle(rt), template, rootfs(variant, rt),
                             ["/bin/sleep", "1000"], cgroup_path(base, "exec", rt, 0), variant)
