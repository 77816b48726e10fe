"""Fixtures for the engine tests: containerd (ctr), docker and podman driving
guise-oci, and runc as the reference, through the same flows.

    /usr/bin/python3 -m pytest tests/engines          # or: bash scripts/engine-test.sh

The runtime under test is $GUISE_RUNTIME (default <repo>/build/guise-oci),
the reference $RUNC_RUNTIME (default runc from PATH).  GUISE_ENGINES=ctr,docker
and GUISE_ENGINE_RUNTIMES=guise narrow the matrix.

Everything lives under one temporary directory: daemons' roots, states and
sockets, podman's storage, the runtimes' state roots, and a logging wrapper
around each runtime (support.WRAPPER) that records every command an engine
ran; a failing test prints the calls it made.  At the end of the session every
container is removed, each daemon stopped, leftover processes that name the
directory killed, mounts under it unmounted, it and the cgroups the
containers had are removed.
"""

import io
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import uuid

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(1, os.path.join(HERE, "..", "integration"))  # hostprobe, shared with those tests

import engines  # noqa: E402
import hostprobe  # noqa: E402
import image  # noqa: E402
import support  # noqa: E402

REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
GUISE = os.environ.get("GUISE_RUNTIME", os.path.join(REPO, "build", "guise-oci"))
RUNC = os.environ.get("RUNC_RUNTIME") or shutil.which("runc") or "/usr/sbin/runc"

ALL_ENGINES = ("ctr", "docker", "podman")
ALL_RUNTIMES = ("guise", "runc")
ENGINES = [e for e in os.environ.get("GUISE_ENGINES", ",".join(ALL_ENGINES)).split(",") if e]
RUNTIMES = [r for r in os.environ.get("GUISE_ENGINE_RUNTIMES", ",".join(ALL_RUNTIMES)).split(",")
            if r]
COMBOS = [(e, r) for e in ENGINES for r in RUNTIMES]

# What each engine needs, and the Debian packages that bring it.
NEEDS = {
    "ctr": ([engines.CONTAINERD, engines.CTR, "/usr/bin/containerd-shim-runc-v2"],
            ["containerd"]),
    "docker": ([engines.DOCKERD, engines.DOCKER, engines.CONTAINERD], ["docker.io", "containerd"]),
    "podman": ([engines.PODMAN, engines.CONMON], ["podman", "conmon"]),
}


# --------------------------------------------------------------- session


def _missing(paths):
    return [p for p in paths if not os.access(p, os.X_OK)]


@pytest.fixture(scope="session")
def packages():
    """apt-get installs what the engines need; {engine: reason it can't run}."""
    want = sorted({pkg for e in ENGINES for pkg in NEEDS[e][1]
                   if _missing(NEEDS[e][0])} | ({"runc"} if not os.access(RUNC, os.X_OK) else set()))
    log = ""
    if want:
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        r = subprocess.run(["apt-get", "install", "-y", "--no-install-recommends", *want],
                           env=env, capture_output=True, text=True)
        log = r.stdout[-2000:] + r.stderr[-2000:]
        if r.returncode != 0:
            subprocess.run(["apt-get", "update", "-qq"], env=env, capture_output=True)
            r = subprocess.run(["apt-get", "install", "-y", "--no-install-recommends", *want],
                               env=env, capture_output=True, text=True)
            log = r.stdout[-2000:] + r.stderr[-2000:]
    reasons = {}
    for e in ENGINES:
        miss = _missing(NEEDS[e][0])
        if miss:
            reasons[e] = "apt-get could not provide %s (%s): %s" % (
                ", ".join(NEEDS[e][1]), ", ".join(miss), log.strip()[-500:])
    if not os.access(RUNC, os.X_OK):
        for e in ENGINES:
            reasons.setdefault(e, "no runc to compare with at %s" % RUNC)
    return reasons


@pytest.fixture(scope="session")
def work():
    d = tempfile.mkdtemp(prefix="guise-engines-")
    existed = {p: os.path.exists(p) for p in ("/run/containerd", "/run/containerd/s",
                                              "/run/containerd/fifo", "/etc/docker",
                                              "/etc/docker/key.json")}
    yield d
    # Whatever the daemons left running: shims, conmons, a stuck runtime.
    # Each names our unique directory on its command line.
    support.kill_pids(support.pids_mentioning(d))
    support.remove_tree(d)
    # containerd 1.6 puts its shims' sockets in /run/containerd/s whatever its
    # config says; remove what this session made there, if empty.
    for p in ("/run/containerd/fifo", "/run/containerd/s", "/run/containerd"):
        if not existed[p]:
            try:
                os.rmdir(p)
            except OSError:
                pass
    if not existed["/etc/docker/key.json"]:
        try:
            os.unlink("/etc/docker/key.json")
        except FileNotFoundError:
            pass
    if not existed["/etc/docker"]:
        try:
            os.rmdir("/etc/docker")
        except OSError:
            pass


@pytest.fixture(scope="session")
def cgroup_parent(work):
    """A relative cgroup path: every container lands below our own cgroup."""
    name = "guise-engines-%s" % uuid.uuid4().hex[:8]
    yield name
    # work's teardown runs after this one: kill what is left first
    support.kill_pids(support.pids_mentioning(work))
    left = support.remove_cgroup_tree(name)
    stray = support.stray_cgroups_at_roots(name)
    for d in stray:
        support.remove_cgroup_dir(d)
    assert not left, "cgroups left: %s" % left
    assert not stray, "cgroups made outside our own cgroup: %s" % stray


@pytest.fixture(scope="session")
def runtimes(work, packages):
    """{"guise": Runtime, "runc": Runtime}: the logging wrappers."""
    if not os.access(GUISE, os.X_OK):
        pytest.skip("no guise-oci at %s (bash scripts/setup.sh --build-only)" % GUISE)
    real = os.path.join(work, "real")
    os.makedirs(real)
    # A copy: the tree's build/ may be rebuilt while the session runs.
    guise = os.path.join(real, "guise-oci")
    for _ in range(30):
        try:
            shutil.copy2(GUISE, guise)
            if subprocess.run([guise, "--version"], capture_output=True).returncode == 0:
                break
        except OSError:
            pass
        time.sleep(2)
    else:
        pytest.fail("%s does not run (being rebuilt?)" % GUISE)
    return {
        "guise": support.Runtime("guise", guise, os.path.join(work, "bin", "guise"),
                                 os.path.join(work, "calls", "guise")),
        "runc": support.Runtime("runc", RUNC, os.path.join(work, "bin", "runc"),
                                os.path.join(work, "calls", "runc")),
    }


@pytest.fixture(scope="session")
def image_archive(work):
    path = os.path.join(work, "busybox-image.tar")
    image.build_archive(path)
    return path


@pytest.fixture(scope="session")
def host_rootfs(work):
    """The image's rootfs unpacked on the host, for `ctr run --config` and
    for bundles run by the runtimes directly."""
    d = os.path.join(work, "rootfs")
    os.makedirs(d)
    with tarfile.open(fileobj=io.BytesIO(image.rootfs_tar_bytes())) as t:
        t.extractall(d)
    return d


@pytest.fixture(scope="session")
def containerd(work, runtimes, packages):
    miss = _missing(NEEDS["ctr"][0])
    if miss:
        pytest.skip("apt-get could not provide containerd (%s)" % ", ".join(miss))
    c = engines.Containerd(os.path.join(work, "containerd"), runtimes)
    yield c
    c.stop()


def overlayfs():
    """docker's overlay2 and podman's overlay storage drivers need overlayfs."""
    with open("/proc/filesystems") as f:
        if any(l.split()[-1] == "overlay" for l in f if l.strip()):
            return hostprobe.Feature(True, "overlayfs")
    r = subprocess.run(["modinfo", "overlay"], capture_output=True)
    if r.returncode == 0:
        return hostprobe.Feature(True, "overlayfs (a module, loaded on first mount)")
    return hostprobe.Feature(False, "no overlayfs (not in /proc/filesystems, no overlay module): the "
                                    "overlay storage drivers of docker and podman need it")


@pytest.fixture(scope="session")
def dockerd(work, runtimes, containerd, cgroup_parent, packages):
    if "docker" in packages:
        pytest.skip(packages["docker"])
    hostprobe.need(overlayfs())
    d = engines.Dockerd(os.path.join(work, "docker"), runtimes, containerd, cgroup_parent)
    yield d
    r = d.docker("ps", "-aq")
    if r.rc == 0 and r.out.split():
        d.docker("rm", "-f", *r.out.split(), timeout=120)
    d.stop()


@pytest.fixture(scope="session")
def podman_env(work, runtimes, packages):
    if "podman" in packages:
        pytest.skip(packages["podman"])
    hostprobe.need(overlayfs())
    p = engines.PodmanEnv(os.path.join(work, "podman"), runtimes)
    yield p
    r = p.podman("ps", "-aq")
    if r.rc == 0 and r.out.split():
        p.podman("rm", "-f", "-t", "0", *r.out.split(), timeout=120)
    p.stop()


@pytest.fixture(scope="session")
def engine_cache():
    return {}


def _make_engine(name, request, work, runtimes, cgroup_parent, image_archive):
    if name == "ctr":
        e = engines.Ctr(os.path.join(work, "ctr"), runtimes, cgroup_parent,
                        request.getfixturevalue("containerd"))
    elif name == "docker":
        e = engines.Docker(os.path.join(work, "docker-cli"), runtimes, cgroup_parent,
                           request.getfixturevalue("dockerd"))
    else:
        e = engines.Podman(os.path.join(work, "podman-cli"), runtimes, cgroup_parent,
                           request.getfixturevalue("podman_env"))
    os.makedirs(e.work, exist_ok=True)
    e.load(image_archive)
    e.image = image.IMAGE_REF
    return e


def _combo_id(c):
    return "%s-%s" % c


@pytest.fixture(scope="module", params=COMBOS, ids=[_combo_id(c) for c in COMBOS])
def combo(request, packages, engine_cache, work, runtimes, cgroup_parent, image_archive):
    """(Engine, runtime key): tests are grouped by it, one daemon per engine."""
    name, rt = request.param
    if name in packages:
        pytest.skip(packages[name])
    if name not in engine_cache:
        engine_cache[name] = _make_engine(name, request, work, runtimes, cgroup_parent,
                                          image_archive)
    return engine_cache[name], rt


class Ctx:
    """One test's engine, runtime and names; removes its containers after."""

    def __init__(self, engine, rt, name):
        self.engine, self.rt = engine, rt
        self.runtime = engine.runtimes[rt]
        self.slug = "".join(ch if ch.isalnum() else "-" for ch in name.split("[")[0])[:20].strip("-")
        self.n = 0
        self.start_ns = time.time_ns()

    def new_id(self, what=""):
        self.n += 1
        return "g%s-%s%s-%s" % (self.n, what or self.slug, "-" + self.rt, uuid.uuid4().hex[:6])

    def calls(self, since_ns=None):
        return self.runtime.calls(self.start_ns if since_ns is None else since_ns)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, "rep_" + rep.when, rep)
    # a skip from a hostprobe helper is reported at the test that needed the feature
    if rep.skipped and isinstance(rep.longrepr, tuple) and os.path.basename(str(rep.longrepr[0])) == "hostprobe.py":
        rep.longrepr = (item.nodeid, item.location[1] + 1, rep.longrepr[2])
    c = item.funcargs.get("ctx") if hasattr(item, "funcargs") else None
    if rep.when == "call" and rep.failed and c is not None:
        rep.sections.append(("%s calls made by %s during the test" % (c.runtime.name,
                                                                       c.engine.name),
                             c.runtime.describe_calls(c.start_ns) or "(none)"))
    p = item.funcargs.get("pods") if hasattr(item, "funcargs") else None  # test_cri.py
    if rep.when == "call" and rep.failed and p is not None:
        rt = p.env.runtimes[p.handler]
        rep.sections.append(("%s calls made by containerd's CRI plugin during the test" % rt.name,
                             rt.describe_calls(p.start_ns) or "(none)"))


@pytest.fixture
def ctx(request, combo):
    engine, rt = combo
    c = Ctx(engine, rt, request.node.name)
    before = len(engine.ids)
    yield c
    mine = engine.ids[before:]
    del engine.ids[before:]
    saved, engine.ids = engine.ids, mine
    try:
        engine.cleanup()
    finally:
        engine.ids = saved


@pytest.fixture(scope="module")
def shared(combo):
    """One long-running container per engine and runtime, for the flows that
    only look at or act on a running container (exec, ps, pause, stats...)."""
    engine, rt = combo
    cid = "shared-%s-%s-%s" % (engine.name, rt, uuid.uuid4().hex[:6])
    since = time.time_ns()
    try:
        engine.run_detached(rt, cid, ["sh", "-c", "sleep 3600 & sleep 3600 & wait"])
    except AssertionError as e:
        engine.ids.remove(cid)
        engine.ids.append(cid)
        msg = str(e) + "\nfailed runtime calls:\n" + engine.runtimes[rt].describe_calls(
            since, only_failed=True)
        yield None, msg
    else:
        engine.ids.remove(cid)
        yield cid, None
    engine.ids.append(cid)
    saved, engine.ids = engine.ids, [cid]
    try:
        engine.cleanup()
    finally:
        engine.ids = [i for i in saved if i != cid]


# --------------------------------------------------------------- the matrix


_results = {}
COMBO_IDS = {"%s-%s" % c for c in COMBOS}


def pytest_runtest_logreport(report):
    if report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
        if "[" not in report.nodeid:
            return
        func, param = report.nodeid.split("::")[-1].split("[", 1)
        key = (func.replace("test_", ""), param.rstrip("]"))
        if key[1] not in COMBO_IDS:  # test_cri.py's runtime handlers: no engine column
            return
        if report.when == "call" and hasattr(report, "wasxfail"):
            outcome = "xfail" if report.skipped else "XPASS"
        else:
            outcome = {"passed": "pass", "failed": "FAIL", "skipped": "skip"}[report.outcome]
        _results[key] = outcome


def pytest_terminal_summary(terminalreporter):
    if not _results:
        return
    flows = []
    for f, _ in _results:
        if f not in flows:
            flows.append(f)
    cols = [_combo_id(c) for c in COMBOS]
    w = max(len(f) for f in flows)
    tr = terminalreporter
    tr.write_sep("=", "flows x engine-runtime")
    tr.write_line(" " * w + "  " + "  ".join("%-13s" % c for c in cols))
    for f in flows:
        tr.write_line("%-*s  " % (w, f) + "  ".join("%-13s" % _results.get((f, c), "-")
                                                    for c in cols))
