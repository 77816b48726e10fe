"""Fixtures for the `guise` engine tests (test_engine_*.py).

Each test gets its own store (`guise --root`), a copy of a template store made once
per module by importing a busybox rootfs ("bb") and loading a docker-archive with an
image config ("cfg").  Teardown removes every container (`guise rm -f` of each
`guise ps -aq`) and fails the test if anything is left: a mount under the store, a
container's monitor or process, or a cgroup directory named after a container.

The binary under test is $GUISE_ENGINE (default <repo>/build/guise).  The same cases
run through podman (with crun) in test_engine_podman.py to prove the expectations.
"""
import hashlib
import io
import json
import os
import re
import shutil
import signal
import subprocess
import tarfile
import tempfile
import time

import pytest

import image_builder as ib
from conftest import REPO, cgroup_dirs_named, mountinfo, pid_alive, wait_for

GUISE = os.environ.get("GUISE_ENGINE", os.path.join(REPO, "build", "guise"))
CMD_TIMEOUT = 30

EXTRA_APPLETS = ["tty", "ip", "dd", "nproc", "pwd", "whoami", "yes", "timeout", "cut", "tr", "sort", "printf",
                 "ulimit", "xargs", "seq", "date", "nc", "wget", "stty", "tee", "awk", "basename", "expr",
                 "httpd", "nslookup", "ping", "route", "ifconfig"]

CFG_ENV = ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "FOO=from-image", "BAR=bar"]
CFG_ENTRYPOINT = ["/bin/echo", "ep"]
CFG_CMD = ["from-cmd"]
CFG_WORKDIR = "/srv"


def busybox_rootfs_entries():
    """image_builder's busybox rootfs, more applets, /tmp, /srv, a file that is not executable."""
    entries = ib.busybox_entries()
    names = {e.name for e in entries}
    entries += [ib.L("bin/" + a, "busybox") for a in EXTRA_APPLETS if "bin/" + a not in names]
    for d in ("tmp", "srv", "data", "root", "home", "home/app"):
        if d not in names:
            entries.append(ib.D(d, 0o1777 if d == "tmp" else 0o755))
    entries.append(ib.F("data/seed", b"from the image\n"))
    entries.append(ib.F("bin/noexec", b"#!/bin/sh\necho never\n", 0o644))
    return entries


def rootfs_tar_bytes():
    return ib.layer_tar(busybox_rootfs_entries())


def docker_archive(path, tag, config):
    """A docker-archive (as `docker save` writes it) of the busybox rootfs with CONFIG."""
    layer = rootfs_tar_bytes()
    cfg = {"architecture": "amd64", "os": "linux", "created": ib.CREATED, "config": config,
           "rootfs": {"type": "layers", "diff_ids": [ib.sha256(layer)]},
           "history": [{"created": ib.CREATED, "created_by": "engine test"}]}
    cfg_bytes = json.dumps(cfg).encode()
    cfg_name = ib.sha256(cfg_bytes).split(":")[1] + ".json"
    manifest = [{"Config": cfg_name, "RepoTags": [tag], "Layers": ["layer/layer.tar"]}]
    with tarfile.open(path, "w") as t:
        for name, data in ((cfg_name, cfg_bytes), ("layer/layer.tar", layer),
                           ("manifest.json", json.dumps(manifest).encode())):
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            ti.mtime = ib.MTIME
            t.addfile(ti, io.BytesIO(data))


CFG_CONFIG = {"Env": CFG_ENV, "Entrypoint": CFG_ENTRYPOINT, "Cmd": CFG_CMD, "WorkingDir": CFG_WORKDIR}


class Images:
    """The module's image files: a rootfs tar for import and a docker-archive with a config."""

    def __init__(self, d):
        self.dir = d
        self.rootfs_tar = os.path.join(d, "rootfs.tar")
        with open(self.rootfs_tar, "wb") as f:
            f.write(rootfs_tar_bytes())
        self.cfg_archive = os.path.join(d, "cfg.tar")
        docker_archive(self.cfg_archive, "cfg:1", CFG_CONFIG)


# --------------------------------------------------------------- running guise


class Out:
    def __init__(self, argv, rc, out, err):
        self.argv, self.rc, self.out, self.err = argv, rc, out, err

    def __repr__(self):
        return "%s -> rc %d\nstdout: %s\nstderr: %s" % (" ".join(self.argv), self.rc, self.out[-2000:],
                                                         self.err[-2000:])


class Engine:
    """One store and the guise command bound to it."""

    def __init__(self, root):
        self.root = root
        self.seen_ids = set()

    def argv(self, *args):
        return [GUISE, "--root", self.root] + [str(a) for a in args]

    def __call__(self, *args, input=None, timeout=CMD_TIMEOUT, check=None):
        argv = self.argv(*args)
        p = subprocess.run(argv, input=input, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout,
                           stdin=None if input is not None else subprocess.DEVNULL)
        r = Out(argv, p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace"))
        if check is not None:
            assert r.rc == check, r
        for tok in r.out.split():
            if re.fullmatch(r"[0-9a-f]{64}", tok):
                self.seen_ids.add(tok)
        return r

    def ok(self, *args, **kw):
        return self(*args, check=0, **kw)

    def run_d(self, *args):
        """`run -d ARGS`; returns the full id."""
        cid = self.ok("run", "-d", *args).out.strip()
        assert re.fullmatch(r"[0-9a-f]{64}", cid), cid
        return cid

    def inspect(self, name):
        data = json.loads(self.ok("inspect", name).out)
        assert len(data) == 1
        return data[0]

    def fmt(self, name, template):
        return self.ok("inspect", "--format", template, name).out.strip()

    def pid(self, name):
        return int(self.fmt(name, "{{.State.Pid}}"))

    def status(self, name):
        r = self("inspect", "--format", "{{.State.Status}}", name)
        return r.out.strip() if r.rc == 0 else ""

    def wait_status(self, name, want, timeout=10):
        return wait_for(lambda: self.status(name) == want, timeout)

    def state_json(self, cid):
        with open(os.path.join(self.root, "containers", cid, "state.json")) as f:
            return json.load(f)

    def entries(self, sub):
        try:
            return sorted(os.listdir(os.path.join(self.root, sub)))
        except FileNotFoundError:
            return []

    def ids(self):
        r = self("ps", "-aq", "--no-trunc")
        return r.out.split() if r.rc == 0 else []


def memory_controller():
    """Whether the host has a memory cgroup controller (v1's hierarchy, or v2's list)."""
    if os.path.isdir("/sys/fs/cgroup/memory"):
        return True
    try:
        with open("/sys/fs/cgroup/cgroup.controllers") as f:
            return "memory" in f.read().split()
    except FileNotFoundError:
        return False


def cgroup_of(pid, controller):
    """The host path of PID's cgroup directory for CONTROLLER (v1 or v2)."""
    with open("/proc/%d/cgroup" % pid) as f:
        lines = f.read().splitlines()
    for line in lines:
        _, ctrls, path = line.split(":", 2)
        if controller in ctrls.split(","):
            return "/sys/fs/cgroup/%s%s" % (controller, path)
    for line in lines:
        if line.startswith("0::"):
            return "/sys/fs/cgroup" + line[3:]
    raise AssertionError("no %s cgroup for pid %d" % (controller, pid))


def read(path):
    with open(path) as f:
        return f.read().strip()


def ns_inode(pid, kind):
    return os.readlink("/proc/%s/ns/%s" % (pid, kind))


def store_mounts(root):
    root = os.path.realpath(root)
    return [m["mountpoint"] for m in mountinfo() if m["mountpoint"].startswith(root + "/")]


def process_cmdlines():
    """(pid, argv as bytes) of every process that can be read."""
    for e in os.listdir("/proc"):
        if not e.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % e, "rb") as f:
                yield int(e), f.read().split(b"\0")
        except OSError:
            continue


def monitor_pids(root):
    """Live processes that are a guise-monitor of this store."""
    return [pid for pid, cmd in process_cmdlines()
            if cmd and cmd[0].endswith(b"guise-monitor") and root.encode() in cmd and pid_alive(pid)]


def leftovers(eng, ids):
    """What a removed set of containers may have left: mounts, monitors, cgroups, records."""
    left = []
    m = store_mounts(eng.root)
    if m:
        left.append("mounts: %s" % m)
    mons = monitor_pids(eng.root)
    if mons:
        left.append("monitors: %s" % mons)
    for cid in ids:
        cg = cgroup_dirs_named(cid)
        if cg:
            left.append("cgroups: %s" % cg)
    for sub in ("containers", "rootfs"):
        e = eng.entries(sub)
        if e:
            left.append("%s/: %s" % (sub, e))
    return left


def _kill_leftovers(eng, ids):
    for pid in monitor_pids(eng.root):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    for cid in ids:
        for cg in cgroup_dirs_named(cid):
            from conftest import remove_cgroup
            remove_cgroup(cg)
    for mp in sorted(store_mounts(eng.root), key=len, reverse=True):
        subprocess.run(["umount", "-l", mp], stderr=subprocess.DEVNULL)


def store_hash(root):
    """guise names a store's bridges and table after its real path."""
    return hashlib.sha256(os.path.realpath(root).encode()).hexdigest()[:4]


def bridge_prefix(root):
    """The store's bridges: g<hash>-0 (its default network), g<hash>-1, ..."""
    return "g%s-" % store_hash(root)


def table_name(root):
    """The store's nftables table (inet)."""
    return "guise-%s" % store_hash(root)


def remove_network_state(root):
    """The host-wide things a store's networks made: bridges, its nftables table, DNS
    responders (by pid, found by their command line naming the store)."""
    links = subprocess.run(["ip", "-o", "link", "show"], stdout=subprocess.PIPE, text=True).stdout
    for link in re.findall(r"^\d+: ([^:@]+)", links, re.M):
        if link.startswith(bridge_prefix(root)):
            subprocess.run(["ip", "link", "del", link], stderr=subprocess.DEVNULL)
    subprocess.run(["nft", "delete", "table", "inet", table_name(root)], stderr=subprocess.DEVNULL)
    for pid in dns_responders(root):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def dns_responders(root):
    """The store's network DNS responders (`guise network dns-serve`)."""
    return [pid for pid, cmd in process_cmdlines() if b"dns-serve" in cmd and root.encode() in cmd]


def _remove_containers(e):
    e.seen_ids |= set(e.ids())
    for cid in e.ids():
        e("rm", "-f", cid)


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    return Images(str(tmp_path_factory.mktemp("engine-images")))


@pytest.fixture(scope="module")
def template_store(images, tmp_path_factory):
    root = str(tmp_path_factory.mktemp("engine-template") / "store")
    eng = Engine(root)
    eng.ok("import", images.rootfs_tar, "bb:latest", timeout=60)
    eng.ok("load", "-i", images.cfg_archive, timeout=60)
    return root


@pytest.fixture
def eng(template_store, tmp_path):
    root = str(tmp_path / "store")
    subprocess.run(["cp", "-a", template_store, root], check=True)
    e = Engine(root)
    try:
        yield e
    finally:
        _remove_containers(e)
        try:
            ids = e.seen_ids
            # --rm containers and monitors finishing on their own
            wait_for(lambda: not leftovers(e, ids), 10)
            left = leftovers(e, ids)
            if left:
                _kill_leftovers(e, ids)
                pytest.fail("left behind: %s" % "; ".join(left))
        finally:
            remove_network_state(root)
