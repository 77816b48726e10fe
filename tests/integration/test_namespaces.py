"""Namespaces: new when asked, shared when not, joined by path; user ns maps; uts names."""

import os
import subprocess

import pytest

import hostprobe as host
from conftest import IS_RUNC, TESTBIN, host_ns_inode, parse_facts, proc_ns_inode, proc_status, runc_xfail, split_multi
from hostprobe import need

# OCI namespace type -> /proc/PID/ns entry
NS_FILE = {"pid": "pid", "network": "net", "mount": "mnt", "ipc": "ipc", "uts": "uts",
           "cgroup": "cgroup", "time": "time", "user": "user"}

RUNC_NO_TIMENS = "runc 1.1 does not know the time namespace (added in 1.2)"

# Default for these tests: runc's spec namespaces.
BASE = ["pid", "network", "ipc", "uts", "mount"]

USER_MAP = [{"containerID": 0, "hostID": 100000, "size": 65536}]


def _add_userns(ct):
    ct.cfg["linux"]["uidMappings"] = USER_MAP
    ct.cfg["linux"]["gidMappings"] = USER_MAP


def _inode(text):
    # "net:[4026531833]" -> 4026531833
    return int(text.split("[", 1)[1].rstrip("]"))


def _ns_inside_and_outside(ct):
    """Creates the container, reads ns inodes from outside, starts it, reads inside."""
    ct.probe_args("ns")
    r = ct.create()
    assert r.rc == 0, r
    pid = ct.state()["pid"]
    outside = {k: proc_ns_inode(pid, f) for k, f in NS_FILE.items()
               if os.path.exists("/proc/self/ns/" + f)}
    assert ct.start().rc == 0, "start failed"
    ct.wait_status("stopped")
    inside = {k: _inode(v) for k, v in parse_facts(r.out).items()}
    return outside, inside


def _params(kinds, xfail_time):
    out = []
    for k in kinds:
        marks = [runc_xfail(RUNC_NO_TIMENS)] if k == "time" and xfail_time else []
        out.append(pytest.param(k, marks=marks, id=k))
    return out


@pytest.mark.parametrize("kind", _params(["pid", "network", "mount", "ipc", "uts", "cgroup",
                                          "time", "user"], xfail_time=True))
def test_namespace_is_new_when_asked(ct, kind):
    need(host.user_namespaces() if kind == "user" else host.namespace(kind))
    types = BASE + ([kind] if kind not in BASE else [])
    ct.set_namespaces(types)
    if kind == "user":
        _add_userns(ct)
    outside, inside = _ns_inside_and_outside(ct)
    f = NS_FILE[kind]
    host_ino = host_ns_inode(f)
    assert outside[kind] != host_ino, "outside: %s ns is the host's" % kind
    assert inside[f] == outside[kind], (inside, outside)


@pytest.mark.parametrize("kind", _params(["pid", "network", "ipc", "uts", "cgroup", "time",
                                          "user"], xfail_time=False))
def test_namespace_is_shared_when_not_asked(ct, kind):
    need(host.namespace(kind))
    need(host.namespace("cgroup"))
    ct.set_namespaces([t for t in BASE + ["cgroup"] if t != kind])
    if kind == "uts":
        ct.cfg.pop("hostname", None)  # a hostname needs a private uts ns
    if kind == "network":
        # sysfs can only be mounted from the netns's owning user ns; bind it.
        for m in ct.cfg["mounts"]:
            if m["destination"] == "/sys":
                m.update(type="bind", source="/sys", options=["rbind", "nosuid", "noexec",
                                                             "nodev", "ro"])
    outside, inside = _ns_inside_and_outside(ct)
    f = NS_FILE[kind]
    host_ino = host_ns_inode(f)
    assert outside[kind] == host_ino
    assert inside[f] == host_ino


# ------------------------------------------------ no mount namespace of its own


def _without_own_mount_namespace(ct, path=None):
    """runc's spec, with no mount namespace made for the container (none, or `path`
    joined), and without the masked and read-only paths runc refuses there."""
    types = [t for t in BASE if t != "mount"] + (["mount"] if path else [])
    ct.set_namespaces(types, paths={"mount": path} if path else None)
    ct.cfg["linux"].pop("maskedPaths", None)
    ct.cfg["linux"].pop("readonlyPaths", None)
    if path:  # what could leave a chroot in the joined namespace (guise refuses it there)
        for caps in ct.cfg["process"].get("capabilities", {}).values():
            for cap in ("CAP_SYS_CHROOT", "CAP_SYS_ADMIN"):
                if cap in caps:
                    caps.remove(cap)
    marker = "rootfs of %s\n" % ct.id
    with open(os.path.join(ct.rootfs, "marker"), "w") as f:
        f.write(marker)
    return marker


def _mounts(text):
    return sorted(l.split(" ", 4)[4] for l in text.splitlines() if l.strip())


class PrivateMountNamespace:
    """Runs the runtime in a mount namespace of its own, a private copy of this one,
    which is then "the runtime's mount namespace": whatever a runtime leaves in it
    (runc 1.1 makes "/" rslave there and leaves its mounts) goes with it, never to the
    machine. Each script line sees RT (the runtime with --root) and D (a scratch dir)."""

    def __init__(self, ct):
        self.ct = ct
        self.d = ct.tmpdir("private-ns")

    def run(self, script, timeout=60):
        full = ("RT='%s --root %s'; D='%s'\n"
                "stat -L -c %%i /proc/self/ns/mnt > $D/ns\n"
                "cat /proc/self/mountinfo > $D/before\n%s\n"
                "cat /proc/self/mountinfo > $D/after\n") % (self.ct.runtime, self.ct.root, self.d, script)
        r = subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c", full],
                           capture_output=True, text=True, timeout=timeout)
        if not os.path.exists(os.path.join(self.d, "after")):
            pytest.skip("no private mount namespace here: " + r.stderr)
        return r

    def read(self, name):
        with open(os.path.join(self.d, name)) as f:
            return f.read()


def _run_in_private_namespace(ct, extra=()):
    ns = PrivateMountNamespace(ct)
    ct.write_config(ct.id)
    ct.ids.append(ct.id)
    ns.run("$RT run %s --bundle %s %s > $D/out 2> $D/err; echo $? > $D/rc" % (" ".join(extra), ct.bundle, ct.id))
    assert ns.read("rc").strip() == "0", ns.read("err")
    return ns


@runc_xfail("runc leaves a new network namespace's loopback down (crun brings it up)")
def test_new_network_namespace_has_its_loopback_up(ct):
    """As crun: in a network namespace the runtime makes itself (no path), lo is up, so a
    container without any network (guise run --network none) still reaches 127.0.0.1."""
    ct.set_namespaces(BASE)
    ct.probe_args("cat", "/sys/class/net/lo/flags")
    r = ct.run()
    assert r.rc == 0, r
    assert int(r.out.strip(), 16) & 0x1, "lo is down: flags %s" % r.out.strip()  # IFF_UP


def test_no_mount_namespace_runs_in_the_runtimes(ct):
    # runc runs it: the container shares the runtime's mount namespace, chrooted into
    # its rootfs, with the mounts of its config (its /proc shows its own namespaces).
    marker = _without_own_mount_namespace(ct)
    ct.multi_probe_args(["ns"], ["cat", "/marker"])
    ns = _run_in_private_namespace(ct)
    probes = split_multi(ns.read("out"))
    assert len(probes) == 2, ns.read("out")
    assert _inode(probes[0].facts["mnt"]) == int(ns.read("ns")), probes[0]
    assert probes[1].out == marker


# --no-pivot means nothing here: no root is moved, no /proc or /sys of the namespace hidden.
@pytest.mark.parametrize("extra", [
    pytest.param([], id="plain", marks=runc_xfail(
        "runc 1.1 makes the runtime's \"/\" rslave and leaves the container's mounts in its mount namespace")),
    pytest.param(["--no-pivot"], id="no-pivot", marks=runc_xfail(
        "runc 1.1 detaches the runtime's own /proc and /sys here, then cannot reach its cgroup and leaves it")),
])
def test_no_mount_namespace_leaves_the_runtimes_mount_table_as_it_was(ct, extra):
    _without_own_mount_namespace(ct)
    ct.probe_args("echo", "x")
    ns = _run_in_private_namespace(ct, extra)
    assert ns.read("out") == "x\n"
    assert _mounts(ns.read("after")) == _mounts(ns.read("before"))


@runc_xfail("runc 1.1's exec joins no mount namespace here and runs in the runtime's root")
def test_exec_without_mount_namespace_runs_in_the_container_root(ct):
    marker = _without_own_mount_namespace(ct)
    ct.probe_args("sleep", "30")
    ct.write_config(ct.id)
    ct.ids.append(ct.id)
    ns = PrivateMountNamespace(ct)
    ns.run("$RT run -d --bundle %s %s > $D/run.out 2>&1 < /dev/null\n"
           "$RT exec %s %s cat /marker > $D/out 2> $D/err; echo $? > $D/rc\n"
           "$RT delete --force %s" % (ct.bundle, ct.id, ct.id, TESTBIN, ct.id))
    assert ns.read("rc").strip() == "0", ns.read("err")
    assert ns.read("out") == marker
    assert _mounts(ns.read("after")) == _mounts(ns.read("before"))


def test_user_namespace_without_its_own_mount_namespace_is_refused(ct):
    # Its root could not mount anything in the runtime's mount namespace: one line
    # that names the field, and nothing left.
    _without_own_mount_namespace(ct)
    ct.cfg["linux"]["namespaces"].append({"type": "user"})
    _add_userns(ct)
    ct.probe_args("echo", "x")
    ct.write_config(ct.id)
    ct.ids.append(ct.id)
    ns = PrivateMountNamespace(ct)
    ns.run("$RT run --bundle %s %s > $D/out 2> $D/err; echo $? > $D/rc" % (ct.bundle, ct.id))
    assert ns.read("rc").strip() != "0", ns.read("out")
    assert _mounts(ns.read("after")) == _mounts(ns.read("before"))
    if not IS_RUNC:
        err = ns.read("err")
        assert "linux.namespaces" in err and "mount namespace" in err, err
        assert len(err.strip().splitlines()) == 1, err


@pytest.fixture
def mntns_file(ct):
    """A mount namespace made by `unshare`, kept alive by a bind mount on a file (in a
    private directory: the kernel refuses the pin below a shared mount)."""
    d = ct.tmpdir("mntns")
    path = os.path.join(d, "mnt")
    subprocess.run(["mount", "--bind", d, d], check=True)
    subprocess.run(["mount", "--make-private", d], check=True)
    open(path, "w").close()
    r = subprocess.run(["unshare", "--mount=" + path, "--propagation", "private", "true"],
                       capture_output=True, text=True)
    if r.returncode != 0:
        subprocess.run(["umount", d], check=False)
        pytest.skip("unshare --mount=FILE failed: " + r.stderr)
    yield path
    subprocess.run(["umount", path], check=False)
    subprocess.run(["umount", d], check=False)


def _mountinfo_of(ns_file):
    r = subprocess.run(["nsenter", "--mount=" + ns_file, "cat", "/proc/self/mountinfo"],
                       capture_output=True, text=True)
    return r.returncode, _mounts(r.stdout)


def test_join_mount_namespace_by_path(ct, mntns_file):
    marker = _without_own_mount_namespace(ct, mntns_file)
    ct.multi_probe_args(["ns"], ["cat", "/marker"])
    r = ct.run()
    assert r.rc == 0, r
    probes = split_multi(r.out)
    assert _inode(probes[0].facts["mnt"]) == os.stat(mntns_file).st_ino != host_ns_inode("mnt")
    assert probes[1].out == marker


@runc_xfail("runc 1.1 pivots the joined namespace's root instead (and so has no chroot to leave)")
def test_joined_mount_namespace_refuses_a_process_that_could_leave_its_root(ct, mntns_file):
    _without_own_mount_namespace(ct, mntns_file)
    ct.cfg["process"].setdefault("capabilities", {}).setdefault("bounding", []).append("CAP_SYS_CHROOT")
    ct.probe_args("echo", "x")
    r = ct.run()
    assert r.rc != 0, r
    assert "process.capabilities.bounding" in r.err and "CAP_SYS_CHROOT" in r.err, r


def test_no_mount_namespace_refuses_masked_paths(ct):
    _without_own_mount_namespace(ct)
    ct.cfg["linux"]["maskedPaths"] = ["/proc/kcore"]
    ct.probe_args("echo", "x")
    r = ct.run()
    assert r.rc != 0, r
    assert "unable to restrict sys entries without a private MNT namespace" in r.err, r


@runc_xfail("runc 1.1 pivots the joined namespace's root onto the rootfs and leaves its mounts there")
def test_joined_mount_namespace_is_as_it_was_after_delete(ct, mntns_file):
    _without_own_mount_namespace(ct, mntns_file)
    before = _mountinfo_of(mntns_file)
    assert before[0] == 0
    ct.probe_args("echo", "x")
    r = ct.run()
    assert r.rc == 0 and r.out == "x\n", r
    assert _mountinfo_of(mntns_file) == before


@pytest.fixture
def netns_file(ct):
    """A network namespace made by `unshare`, kept alive by a bind mount on a file."""
    path = os.path.join(ct.tmpdir("ns"), "net")
    open(path, "w").close()
    r = subprocess.run(["unshare", "--net=" + path, "true"], capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip("host: no network namespace on a file (unshare --net=FILE: %s)" % r.stderr.strip())
    yield path
    subprocess.run(["umount", path], check=False)


def test_join_network_namespace_by_path(ct, netns_file):
    ino = os.stat(netns_file).st_ino
    assert ino != host_ns_inode("net")
    ct.set_namespaces(BASE, paths={"network": netns_file})
    outside, inside = _ns_inside_and_outside(ct)
    assert outside["network"] == ino
    assert inside["net"] == ino


def test_join_namespaces_of_another_container(ct):
    holder = ct.new_id()
    ct.probe_args("sleep", "30")
    assert ct.create(cid=holder).rc == 0
    hpid = ct.state(holder)["pid"]
    paths = {"ipc": "/proc/%d/ns/ipc" % hpid, "uts": "/proc/%d/ns/uts" % hpid}
    ct.set_namespaces(BASE, paths=paths)
    ct.cfg.pop("hostname", None)  # the joined uts ns already has one
    outside, inside = _ns_inside_and_outside(ct)
    for kind, f in (("ipc", "ipc"), ("uts", "uts")):
        want = proc_ns_inode(hpid, f)
        assert outside[kind] == want
        assert inside[f] == want
    assert outside["network"] != proc_ns_inode(hpid, "net")


def test_join_bad_namespace_path_fails(ct):
    path = os.path.join(ct.tmpdir("ns"), "not-a-namespace")
    open(path, "w").close()
    ct.set_namespaces(BASE, paths={"network": path})
    r = ct.probe("echo", "x")
    assert r.rc != 0, r


def test_user_namespace_mappings(ct):
    need(host.user_namespaces())
    ct.set_namespaces(BASE + ["user"])
    _add_userns(ct)
    ct.cfg["process"]["user"] = {"uid": 0, "gid": 0}
    ct.probe_args("cat", "/proc/self/uid_map", "/proc/self/gid_map")
    r = ct.create()
    assert r.rc == 0, r
    pid = ct.state()["pid"]
    with open("/proc/%d/uid_map" % pid) as f:
        assert f.read().split() == ["0", "100000", "65536"]
    assert ct.start().rc == 0
    ct.wait_status("stopped")
    lines = [l.split() for l in r.out.splitlines()]
    assert lines == [["0", "100000", "65536"], ["0", "100000", "65536"]], r.out


def test_user_namespace_ids_inside_and_outside(ct):
    need(host.user_namespaces())
    ct.set_namespaces(BASE + ["user"])
    _add_userns(ct)
    ct.cfg["process"]["user"] = {"uid": 1000, "gid": 1000}
    ct.probe_args("sleep", "30")
    assert ct.create().rc == 0
    assert ct.start().rc == 0
    pid = ct.state()["pid"]
    st = proc_status(pid)
    assert st["Uid"].split() == ["101000"] * 4, st["Uid"]
    assert st["Gid"].split() == ["101000"] * 4, st["Gid"]


def test_user_namespace_root_inside(ct):
    need(host.user_namespaces())
    ct.set_namespaces(BASE + ["user"])
    _add_userns(ct)
    r = ct.probe("id")
    assert r.rc == 0, r
    f = r.facts
    assert (f["uid"], f["gid"], f["euid"]) == ("0", "0", "0")


@runc_xfail(RUNC_NO_TIMENS)
def test_time_offsets(ct):
    need(host.namespace("time"))
    ct.set_namespaces(BASE + ["time"])
    ct.cfg["linux"]["timeOffsets"] = {"monotonic": {"secs": 86400, "nanosecs": 0},
                                      "boottime": {"secs": 7200, "nanosecs": 500}}
    r = ct.probe("cat", "/proc/self/timens_offsets")
    assert r.rc == 0, r
    offsets = {l.split()[0]: l.split()[1:] for l in r.out.splitlines()}
    assert offsets["monotonic"] == ["86400", "0"], r.out
    assert offsets["boottime"] == ["7200", "500"], r.out


def test_hostname(ct):
    ct.cfg["hostname"] = "guise-host-test"
    r = ct.probe("hostname")
    assert r.rc == 0, r
    assert r.facts["hostname"] == "guise-host-test"
    assert os.uname().nodename != "guise-host-test"


@runc_xfail("runc 1.1 ignores the domainname field (support came in 1.2)")
def test_domainname(ct):
    ct.cfg["domainname"] = "guise.example"
    r = ct.probe("domainname")
    assert r.rc == 0, r
    assert r.facts["domainname"] == "guise.example"


def test_hostname_needs_uts_namespace(ct):
    ct.set_namespaces([t for t in BASE if t != "uts"])
    ct.cfg["hostname"] = "must-not-leak"
    r = ct.probe("hostname")
    assert r.rc != 0, r
    assert os.uname().nodename != "must-not-leak"
