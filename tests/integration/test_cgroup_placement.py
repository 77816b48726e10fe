"""Where a container's cgroup goes, as runc 1.1 places it, when the host is not tidy: a
cgroup made beforehand by someone else (frozen, or a cpuset parent left empty as a pod's
can be), and a cgroup mount that /proc/self/mountinfo lists but something mounted over
it hides.  The runtime must neither wait forever nor make directories where no cgroup
filesystem is.
"""

import os
import subprocess

import pytest

import hostprobe as host
from conftest import CGROUP_PARENT, IS_RUNC, cgroup_dirs_named, parse_facts, remove_cgroup, runc_xfail
from hostprobe import cgroup_dirs, need

FROZEN_WORDS = "container's cgroup unexpectedly frozen"  # runc's


def read(d, name):
    with open(os.path.join(d, name)) as f:
        return f.read()


def write(d, name, value):
    with open(os.path.join(d, name), "w") as f:
        f.write(value)


def freezer_at(rel):
    """(directory, file, frozen, thawed) of the freezer that relative cgroupsPath REL gets."""
    own = cgroup_dirs()
    if host.v2():
        return os.path.join(own[""], rel), "cgroup.freeze", "1", "0"
    return os.path.join(own["freezer"], rel), "freezer.state", "FROZEN", "THAWED"


def make_frozen(d, name, frozen):
    os.makedirs(os.path.dirname(d), exist_ok=True)  # CGROUP_PARENT: the session removes it
    os.mkdir(d)
    write(d, name, frozen)


def assert_refused_as_frozen(r):
    assert r.rc != 0, r
    assert FROZEN_WORDS in r.err, r
    if not IS_RUNC:
        assert "linux.cgroupsPath" in r.err and r.err.count("\n") == 1, r


# --------------------------------------------------------------- frozen


def test_a_frozen_premade_cgroup_is_refused_not_waited_on(ct):
    need(host.freezer())
    d, name, frozen, thawed = freezer_at("%s/%s" % (CGROUP_PARENT, ct.id))
    make_frozen(d, name, frozen)
    try:
        ct.probe_args("pid")
        assert_refused_as_frozen(ct.run(timeout=15))
        assert_refused_as_frozen(ct.create(timeout=15))
        assert read(d, name).strip() == frozen, "the cgroup is not as it was found"
    finally:
        write(d, name, thawed)
        remove_cgroup(d)


@runc_xfail("runc 1.1 checks only the container's own cgroup (freezer.self_freezing) and waits forever below a "
            "frozen one")
def test_a_cgroup_below_a_frozen_one_is_refused_not_waited_on(ct):
    need(host.freezer())
    pod = "%s/%s-pod" % (CGROUP_PARENT, ct.id)
    ct.cfg["linux"]["cgroupsPath"] = "%s/%s" % (pod, ct.id)
    d, name, frozen, thawed = freezer_at(pod)
    make_frozen(d, name, frozen)
    try:
        assert_refused_as_frozen(ct.probe("pid", timeout=10))
        assert cgroup_dirs_named(ct.id) == [], "the container's cgroup was made below the frozen one"
    finally:
        write(d, name, thawed)
        for left in cgroup_dirs_named(ct.id + "-pod"):  # the pod, where a runtime made it in other hierarchies
            remove_cgroup(left)
        if IS_RUNC:  # its state directory, made before it waited
            subprocess.run(["rm", "-rf", os.path.join(ct.root, ct.id)], check=False)


# --------------------------------------------------------------- cpuset


def nearest_value(d, name):
    while not read(d, name).strip():
        d = os.path.dirname(d)
    return read(d, name).strip()


def test_an_empty_premade_cpuset_parent_is_filled_from_the_nearest_ancestor(ct):
    if host.v2():
        pytest.skip("host: cgroup v2, where an empty cpuset.cpus means the parent's (no ENOSPC)")
    need(host.controller("cpuset"))
    parent = os.path.join(cgroup_dirs()["cpuset"], CGROUP_PARENT)
    pod = os.path.join(parent, ct.id + "-pod")
    slice_ = os.path.join(pod, "slice")
    ct.cfg["linux"]["cgroupsPath"] = "%s/%s-pod/slice/%s" % (CGROUP_PARENT, ct.id, ct.id)
    os.makedirs(parent, exist_ok=True)
    try:
        os.makedirs(slice_)
        for d in (pod, slice_):  # made and never filled, as a pod's cgroup can be
            write(d, "cpuset.cpus", "\n")
            write(d, "cpuset.mems", "\n")
        want = {f: nearest_value(parent, f) for f in ("cpuset.cpus", "cpuset.mems")}
        ct.probe_args("sleep", "30")
        r = ct.run("-d")
        assert r.rc == 0, r
        leaf = cgroup_dirs(ct.state()["pid"])["cpuset"]
        assert leaf == os.path.join(slice_, ct.id)
        for d in (pod, slice_, leaf):
            assert {f: read(d, f).strip() for f in want} == want, d
        assert ct.delete(force=True).rc == 0
    finally:
        for left in cgroup_dirs_named(ct.id + "-pod"):  # the runtime made the pod in every hierarchy
            remove_cgroup(left)


# --------------------------------------------------------------- hidden mounts


def test_a_cgroup2_mount_that_mountinfo_lists_but_a_tmpfs_hides_is_not_used(ct):
    need(host.hybrid_unified())
    unified = host.CGROUP_ROOT + "/unified"
    need(host.program("unshare", "util-linux"))
    ct.probe_args("pid")
    ct.write_config()
    # As bench/ met it: a second cgroup2 mount stacked on the first, taken off again in a
    # private mount namespace; here a tmpfs lies between, and is what the path shows, while
    # mountinfo still lists the first cgroup2 mount at the path.
    script = ("mount -t tmpfs guise-hides-cgroup2 {u} && mount -t cgroup2 none {u} && umount {u} || exit 97\n"
              "grep -q ' {u} .* - cgroup2 ' /proc/self/mountinfo && [ \"$(stat -f -c %T {u})\" = tmpfs ] || exit 98\n"
              '"$@"; rc=$?\n'
              "echo @@@tmpfs; ls -A {u}; exit $rc\n").format(u=unified)
    argv = ["unshare", "-m", "--propagation", "private", "sh", "-c", script, "sh",
            ct.runtime, "--root", ct.root, "run", "--bundle", ct.bundle, ct.id]
    ct.ids.append(ct.id)
    r = subprocess.run(argv, capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL)
    assert r.returncode not in (97, 98), "the hidden mount could not be set up (%d): %s" % (r.returncode, r.stderr)
    out, _, made = r.stdout.partition("@@@tmpfs\n")
    assert r.returncode == 0, (r.returncode, r.stdout, r.stderr)
    assert parse_facts(out).get("pid") == "1", r.stdout
    assert made.split() == [], "made on the tmpfs: %s" % made.split()
