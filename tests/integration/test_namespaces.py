"""Namespaces: new when asked, shared when not, joined by path; user ns maps; uts names."""

import os
import subprocess

import pytest

import hostprobe as host
from conftest import host_ns_inode, parse_facts, proc_ns_inode, proc_status, runc_xfail
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


def test_mount_namespace_is_required(ct):
    # A rootfs cannot be set up without a private mount namespace; whether the
    # runtime refuses or copes, the host's mount table must not change.
    before = open("/proc/self/mountinfo").read().count("\n")
    ct.set_namespaces([t for t in BASE if t != "mount"])
    r = ct.probe("echo", "x")
    after = open("/proc/self/mountinfo").read().count("\n")
    assert after == before
    if r.rc != 0:
        assert "mount" in r.err.lower() or "mnt" in r.err.lower(), r


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
