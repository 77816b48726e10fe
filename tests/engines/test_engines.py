"""The flows a container engine puts an OCI runtime through, driven through
containerd (ctr), docker and podman, with guise-oci and with runc.

Every test runs once per engine x runtime (the `combo` fixture); runc is the
reference, so a flow that fails on both is the engine's or this machine's, and
one that fails on guise alone is guise's.  A failing test prints every runtime
command the engine ran during it (argv, exit status, stderr, stdin of update).
"""

import json
import os
import re
import subprocess
import time

import pytest

import engines
import hostprobe
import support
from conftest import ENGINES, REPO

MiB = 1024 * 1024


def need(engine, verb, why):
    if getattr(engine, verb, None) is None:
        pytest.skip(why)


def use_shared(shared):
    cid, err = shared
    if cid is None:
        pytest.fail("the shared detached container did not start:\n" + err, pytrace=False)
    return cid


def need_v1(*controllers):
    """The flows read the engine's limits back from v1 files (freezer.state,
    memory.limit_in_bytes, cpu.cfs_quota_us, pids.max): a v1 or hybrid host with
    each controller's hierarchy."""
    for c in controllers:
        f = hostprobe.need(hostprobe.controller(c))
        if f.value != 1:
            pytest.skip("host: the %s controller is cgroup v2's; these flows read its v1 files" % c)


def cgroup_value(pid, ctrl, name):
    return support.cgroup_file(pid, ctrl, name)


# --------------------------------------------------------------- run


def test_run_output(ctx):
    """Foreground run: stdout and stderr reach the user apart, the exit status
    comes back."""
    e = ctx.engine
    r = e.run(ctx.rt, ctx.new_id(), ["sh", "-c", "echo out-line; echo err-line >&2; exit 3"])
    assert r.rc == 3, r
    assert "out-line" in r.out, r
    assert "err-line" in r.err, r


def test_run_tty(ctx):
    """run with a terminal: the process has a pty of the terminal's size, its
    output comes back through it."""
    e = ctx.engine
    # the size reaches the pty after start (a resize) on some engines: wait a bit
    r = e.run_tty(ctx.rt, ctx.new_id(), ["sh", "-c", "tty; sleep 1; stty size; exit 4"])
    assert r.rc == 4, r
    assert re.search(r"/dev/pts/\d+", r.out), r
    assert "30 100" in r.out, r


# --------------------------------------------------------------- a running container


def test_exec(ctx, shared):
    cid = use_shared(shared)
    r = ctx.engine.exec(cid, ["sh", "-c", "echo in-exec; echo exec-err >&2; exit 5"])
    assert r.rc == 5, r
    assert "in-exec" in r.out and "exec-err" in r.err, r


def test_exec_tty(ctx, shared):
    cid = use_shared(shared)
    # ctr loses a pty's output when the process is gone before it attached
    r = ctx.engine.exec_tty(cid, ["sh", "-c", "sleep 0.5; tty; echo tty-exec; sleep 0.5; exit 6"])
    assert r.rc == 6, r
    assert re.search(r"/dev/pts/\d+", r.out) and "tty-exec" in r.out, r


def test_ps(ctx, shared):
    """ctr task ps / docker top / podman top: the container's three processes."""
    cid = use_shared(shared)
    e = ctx.engine
    r = e.top(cid)
    assert r.rc == 0, r
    pids = e.top_pids(cid)
    assert len(pids) >= 3, r
    if e.name != "podman":  # podman top shows pids as the container sees them
        assert e.pid(cid) in pids, r


def test_pause(ctx, shared):
    need_v1("freezer")
    cid = use_shared(shared)
    e = ctx.engine
    pid = e.pid(cid)
    r = e.pause(cid)
    try:
        assert r.rc == 0, r
        assert support.wait_for(lambda: e.status(cid) == "paused", 10), e.status(cid)
        assert cgroup_value(pid, "freezer", "freezer.state") == "FROZEN"
    finally:
        if e.status(cid) == "paused":
            e.resume(cid)


def test_resume(ctx, shared):
    need_v1("freezer")
    cid = use_shared(shared)
    e = ctx.engine
    pid = e.pid(cid)
    assert e.pause(cid).rc == 0
    assert support.wait_for(lambda: e.status(cid) == "paused", 10)
    r = e.resume(cid)
    assert r.rc == 0, r
    assert support.wait_for(lambda: e.status(cid) == "running", 10), e.status(cid)
    assert cgroup_value(pid, "freezer", "freezer.state") == "THAWED"
    r = e.exec(cid, ["echo", "after-resume"])
    assert r.rc == 0 and "after-resume" in r.out, r


def test_stats(ctx, shared):
    """ctr task metrics / docker stats / podman stats, read by the engine from
    the cgroup at linux.cgroupsPath."""
    cid = use_shared(shared)
    e = ctx.engine
    s = e.stats(cid)
    assert s["memory"] and s["memory"] > 0, s
    if e.name == "podman" and len(set(support.own_cgroups(e.pid(cid)).values())) > 1:
        # podman 4.3 reads every controller at the longest of the container's
        # cgroup paths (here memory's, which lies below the sandbox's memory
        # cgroup while the others are below /): its pids and cpu read 0
        pytest.skip("host: the container's cgroups differ between hierarchies (%s), and podman reads "
                    "pids at memory's path: its pids count is not checked" % sorted(
                        set(support.own_cgroups(e.pid(cid)).values())))
    assert s["pids"] and s["pids"] >= 3, s


def test_update(ctx, shared):
    """docker update / podman update of memory and cpu: the runtime's
    `update --resources` reaches the cgroup."""
    e = ctx.engine
    need(e, "update", "ctr 1.6 has no `task update`; containerd's Update (the shim's "
         "`update --resources -`) is driven through docker here")
    need_v1("memory", "cpu")
    cid = use_shared(shared)
    pid = e.pid(cid)
    # memory+swap moves with the limit only where swap is accounted
    swap = 2 * 96 * MiB if hostprobe.swap_accounting() else None
    r = e.update(cid, memory=96 * MiB, cpus=0.5, swap=swap)
    assert r.rc == 0, r
    assert int(cgroup_value(pid, "memory", "memory.limit_in_bytes")) == 96 * MiB
    quota = int(cgroup_value(pid, "cpu", "cpu.cfs_quota_us"))
    period = int(cgroup_value(pid, "cpu", "cpu.cfs_period_us"))
    assert (quota, period) == (50000, 100000)


# --------------------------------------------------------------- ends


def test_stop(ctx):
    """stop: SIGTERM, and SIGKILL when the process outlives the grace period."""
    e = ctx.engine
    handles = e.run_detached(ctx.rt, ctx.new_id("term"),
                             ["sh", "-c", "trap 'exit 42' TERM; while :; do sleep 0.2; done"])
    ignores = e.run_detached(ctx.rt, ctx.new_id("kill"), ["sleep", "3600"])  # pid 1: TERM ignored
    time.sleep(0.5)  # the trap is set
    t0 = time.monotonic()
    assert e.stop(handles, timeout=10) == 42
    assert time.monotonic() - t0 < 8, "SIGTERM did not end a process that handles it"
    t0 = time.monotonic()
    assert e.stop(ignores, timeout=2) == 137
    assert time.monotonic() - t0 >= 1.5, "killed before the grace period"


def test_kill(ctx):
    """kill with a signal by name; SIGKILL gives 137."""
    e = ctx.engine
    usr = e.run_detached(ctx.rt, ctx.new_id("usr1"),
                         ["sh", "-c", "trap 'exit 11' USR1; while :; do sleep 0.2; done"])
    nine = e.run_detached(ctx.rt, ctx.new_id("nine"), ["sleep", "3600"])
    time.sleep(0.5)
    r = e.kill(usr, "SIGUSR1")
    assert r.rc == 0, r
    assert e.status(usr) == "exited"
    assert e.exit_code(usr) == 11
    r = e.kill(nine, "SIGKILL")
    assert r.rc == 0, r
    assert e.status(nine) == "exited"
    assert e.exit_code(nine) == 137


def _created(ctx, since):
    """(--root, id) of the containers the runtime created since SINCE."""
    out = []
    for c in ctx.calls(since):
        a = c["argv"]
        if "create" in a and c["rc"] == 0:
            root = c.get("root")  # added by the wrapper
            for i, arg in enumerate(a):
                if arg == "--root":
                    root = a[i + 1]
                elif arg.startswith("--root="):
                    root = arg.split("=", 1)[1]
            out.append((root, a[-1]))
    return out


def test_rm(ctx):
    """rm of an exited container, rm -f of a running one: the engine forgets
    them, the runtime's state and the cgroups are gone."""
    e = ctx.engine
    for force in (False, True):
        since = time.time_ns()
        cid = e.run_detached(ctx.rt, ctx.new_id("force" if force else "exited"),
                             ["sleep", "3600"])
        pid = e.pid(cid)
        cgroups = support.own_cgroups(pid)
        (root, rid), = _created(ctx, since)
        assert root and os.path.isdir(os.path.join(root, rid))
        if not force:
            e.kill(cid, "SIGKILL")
        r = e.rm(cid, force=force)
        assert r.rc == 0, r
        assert not e.exists(cid)
        assert not os.path.exists(os.path.join(root, rid)), "runtime state left"
        for ctrl, path in cgroups.items():
            d = os.path.join(support.mount_dir_of(ctrl), path.lstrip("/"))
            assert support.wait_for(lambda: not os.path.isdir(d), 5), "cgroup left: " + d
        assert not support.pid_alive(pid)


# --------------------------------------------------------------- resources


def _ctr_spec(ctx, host_rootfs, cid, pids):
    """`ctr oci spec` with the busybox rootfs and a pids limit."""
    r = engines.ok(ctx.engine.ctr("oci", "spec"))
    spec = json.loads(r.out)
    spec["root"] = {"path": host_rootfs, "readonly": True}
    spec["process"]["args"] = ["/bin/sleep", "3600"]
    spec["process"]["env"] = ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"]
    spec["process"]["terminal"] = False
    spec["linux"]["cgroupsPath"] = "%s/%s" % (ctx.engine.cgroup_parent, cid)
    spec["linux"].setdefault("resources", {})["pids"] = {"limit": pids}
    path = os.path.join(ctx.engine.work, cid + ".json")
    with open(path, "w") as f:
        json.dump(spec, f)
    return path


def test_limits(ctx, host_rootfs):
    """--memory, --cpus and --pids-limit land in the container's cgroup, and
    the cgroup is below our own (the engine's cgroup parent)."""
    e = ctx.engine
    need_v1("memory", "cpu", "pids")
    pids_by_engine = e.name != "ctr"
    cid = e.run_detached(ctx.rt, ctx.new_id(), ["sleep", "3600"], memory=64 * MiB, cpus=0.5,
                         **({"pids": 50} if pids_by_engine else {}))
    pid = e.pid(cid)
    assert support.misplaced_cgroups(pid, e.cgroup_parent) == []
    assert int(cgroup_value(pid, "memory", "memory.limit_in_bytes")) == 64 * MiB
    assert int(cgroup_value(pid, "cpu", "cpu.cfs_quota_us")) == 50000
    assert int(cgroup_value(pid, "cpu", "cpu.cfs_period_us")) == 100000
    if pids_by_engine:
        assert cgroup_value(pid, "pids", "pids.max") == "50"
    else:
        # ctr has no pids flag: a whole spec through `ctr run --config`
        pcid = ctx.new_id("pids")
        r = e.run_spec(ctx.rt, pcid, _ctr_spec(ctx, host_rootfs, pcid, 50))
        assert r.rc == 0, r
        ppid = e.pid(pcid)
        assert support.misplaced_cgroups(ppid, e.cgroup_parent) == []
        assert cgroup_value(ppid, "pids", "pids.max") == "50"


def test_oom(ctx):
    """A process over its memory limit is OOM killed: exit 137, and the engine
    says so (docker/podman inspect OOMKilled; containerd's /tasks/oom event)."""
    e = ctx.engine
    cid = ctx.new_id()
    hog = ["sh", "-c", "a=0123456789abcdef; while :; do a=$a$a; done"]
    events = e.events() if e.name == "ctr" else None
    try:
        r = e.run(ctx.rt, cid, hog, memory=32 * MiB)
    finally:
        log = events.stop() if events else ""
    assert r.rc == 137, r
    if e.name == "ctr":
        assert re.search(r"/tasks/oom\s.*%s" % re.escape(cid), log), log
    else:
        assert e.oom_killed(cid), e.inspect(cid, "{{json .State}}")


# --------------------------------------------------------------- errors


BAD_SYSCTL = "net.ipv4.guise_no_such_sysctl"
BAD_MOUNT_SRC = "/nonexistent-guise-bind-source"


def _core(msg):
    """A runtime's error without the parts an engine's call changes: the
    program name, runc's verb, an index into the spec's mounts."""
    msg = msg.strip().splitlines()[-1] if msg.strip() else ""
    m = re.search(r'msg="((?:[^"\\]|\\.)*)"', msg)
    if m:
        msg = m.group(1).encode().decode("unicode_escape")
    msg = re.sub(r"^guise-oci: ", "", msg)
    msg = re.sub(r"^runc (run|create) failed: ", "", msg)
    return re.sub(r"\[\d+\]", "[N]", msg).strip()


@pytest.fixture(scope="session")
def direct_errors(work, runtimes, cgroup_parent):
    """What each runtime says, run by hand on a bundle, about the bad configs."""
    bundle = os.path.join(work, "direct-bundle")
    r = subprocess.run(["sh", os.path.join(REPO, "examples", "make-bundle.sh"), bundle],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    with open(os.path.join(bundle, "config.json")) as f:
        base = json.load(f)
    out = {}
    for key, rt in runtimes.items():
        for what in ("sysctl", "mount"):
            cfg = json.loads(json.dumps(base))
            cfg["process"]["args"] = ["true"]
            cid = "direct-%s-%s" % (what, key)
            cfg["linux"]["cgroupsPath"] = "%s/%s" % (cgroup_parent, cid)
            if what == "sysctl":
                cfg["linux"]["sysctl"] = {BAD_SYSCTL: "1"}
            else:
                cfg["mounts"].append({"destination": "/x", "type": "bind",
                                      "source": BAD_MOUNT_SRC, "options": ["rbind"]})
            with open(os.path.join(bundle, "config.json"), "w") as f:
                json.dump(cfg, f)
            root = os.path.join(work, "direct-root-" + key)
            os.makedirs(root, exist_ok=True)
            p = subprocess.run([rt.real, "--root", root, "run", "--bundle", bundle, cid],
                               capture_output=True, text=True, timeout=60)
            subprocess.run([rt.real, "--root", root, "delete", "--force", cid],
                           capture_output=True)
            assert p.returncode != 0, "%s accepted the bad %s" % (key, what)
            out[key, what] = _core(p.stderr)
    return out


def test_rejected_config(ctx, direct_errors):
    """A config the runtime refuses: the engine's user reads the runtime's own
    message (the one it prints when run by hand)."""
    e = ctx.engine
    if e.name == "ctr":  # ctr has no --sysctl
        what = "mount"
        r = e.run(ctx.rt, ctx.new_id(), ["true"],
                  opts=["--mount", "type=bind,src=%s,dst=/x,options=rbind" % BAD_MOUNT_SRC])
    else:
        what = "sysctl"
        r = e.run(ctx.rt, ctx.new_id(), ["true"], opts=["--sysctl", BAD_SYSCTL + "=1"])
    assert r.rc not in (0, "timeout"), r
    want = direct_errors[ctx.rt, what]
    got = re.sub(r"\[\d+\]", "[N]", r.both)
    assert want and want in got, "engine output lacks the runtime's message %r:\n%r" % (want, r)


# --------------------------------------------------------------- Kubernetes' way in


@pytest.mark.skipif("ctr" not in ENGINES, reason="containerd not selected (GUISE_ENGINES)")
def test_containerd_cri_runtime_config(containerd):
    """The CRI plugin loads the runtime entry a Kubernetes RuntimeClass names
    (handler "guise"), as README's config.toml gives it.  (The CRI calls
    themselves, as kubelet makes them, are test_cri.py's.)"""
    assert containerd.plugin_status("cri") == "ok", containerd.daemon.tail()
    r = engines.run([engines.CONTAINERD, "--config", containerd.config, "config", "dump"])
    assert r.rc == 0, r
    # the merged configuration containerd runs with: the guise handler's table
    # and its options table, up to the next runtime
    m = re.search(r'runtimes\.guise\](.*?)runtimes\.(?!guise)', r.out, re.S)
    assert m, r.out
    section = m.group(1)
    assert 'runtime_type = "io.containerd.runc.v2"' in section, section
    assert 'BinaryName = "%s"' % containerd.guise_binary in section, section
