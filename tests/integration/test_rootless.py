"""Rootless: the runtime run by an unprivileged user, as `runc --rootless` is.

The user's own id is mapped directly; several ranges go through the setuid helpers
newuidmap/newgidmap and /etc/subuid. The container has no cgroup unless one is
delegated, and the state lives under the user's $XDG_RUNTIME_DIR.
"""

import json
import os
import shutil
import subprocess
import uuid

import pytest

import hostprobe as host
from conftest import CMD_TIMEOUT, TESTBIN
from hostprobe import need

OWN_UID = 4321


def _as_user(uid, gid, argv, env, cwd):
    cmd = ["setpriv", "--reuid", str(uid), "--regid", str(gid), "--clear-groups", "--"] + argv
    return subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, timeout=CMD_TIMEOUT)


def _user_bundle(session_dir, template_bundle, uid, gid):
    """A bundle the user owns: rootfs copy and a config from `spec --rootless`."""
    need(host.unprivileged_userns(uid))
    template_dir, _ = template_bundle
    base = os.path.join(session_dir, "rootless-%s" % uuid.uuid4().hex[:8])
    bundle = os.path.join(base, "bundle")
    os.makedirs(bundle)
    shutil.copytree(os.path.join(template_dir, "rootfs"), os.path.join(bundle, "rootfs"), symlinks=True)
    run_dir = os.path.join(base, "xdg")
    os.mkdir(run_dir, 0o700)
    for root, dirs, files in os.walk(base):
        for name in dirs + files:
            os.lchown(os.path.join(root, name), uid, gid)
    os.chown(base, uid, gid)
    return base, bundle, run_dir


def _env(run_dir):
    return {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "XDG_RUNTIME_DIR": run_dir, "HOME": run_dir}


def _rootless_spec(runtime, bundle, uid, gid, env):
    r = _as_user(uid, gid, [runtime, "spec", "--rootless"], env, bundle)
    assert r.returncode == 0, r
    with open(os.path.join(bundle, "config.json")) as f:
        return json.load(f)


def _write(bundle, cfg, uid, gid):
    path = os.path.join(bundle, "config.json")
    with open(path, "w") as f:
        json.dump(cfg, f)
    os.chown(path, uid, gid)


def test_rootless_own_uid_runs_as_root_inside(runtime, session_dir, template_bundle):
    base, bundle, run_dir = _user_bundle(session_dir, template_bundle, OWN_UID, OWN_UID)
    env = _env(run_dir)
    cfg = _rootless_spec(runtime, bundle, OWN_UID, OWN_UID, env)
    cfg["process"]["terminal"] = False
    cfg["process"]["args"] = ["/bin/sh", "-c", TESTBIN + " id && cat /proc/self/uid_map /proc/self/gid_map"]
    _write(bundle, cfg, OWN_UID, OWN_UID)
    cid = "rl-" + uuid.uuid4().hex[:8]
    r = _as_user(OWN_UID, OWN_UID, [runtime, "run", cid], env, bundle)
    assert r.returncode == 0, r
    assert "uid 0" in r.stdout and "gid 0" in r.stdout, r.stdout
    maps = [line.split() for line in r.stdout.splitlines() if len(line.split()) == 3 and line.split()[0] == "0"]
    assert ["0", str(OWN_UID), "1"] in maps, r.stdout
    # State went to the user's runtime dir, and `run` removed it.
    state_root = os.path.join(run_dir, "guise")
    if os.path.basename(runtime) == "guise-oci":
        assert os.path.isdir(state_root)
        assert os.listdir(state_root) == []


def test_rootless_refuses_cgroup_limits_without_delegation(runtime, session_dir, template_bundle):
    if os.path.basename(runtime) != "guise-oci":
        pytest.skip("guise's own message is asserted")
    base, bundle, run_dir = _user_bundle(session_dir, template_bundle, OWN_UID, OWN_UID)
    env = _env(run_dir)
    cfg = _rootless_spec(runtime, bundle, OWN_UID, OWN_UID, env)
    cfg["process"]["terminal"] = False
    cfg["process"]["args"] = [TESTBIN, "pid"]
    cfg["linux"]["resources"] = {"pids": {"limit": 10}}
    _write(bundle, cfg, OWN_UID, OWN_UID)
    cid = "rl-" + uuid.uuid4().hex[:8]
    r = _as_user(OWN_UID, OWN_UID, [runtime, "run", cid], env, bundle)
    assert r.returncode == 1, r
    assert "linux.resources" in r.stderr and "no cgroup" in r.stderr, r.stderr
    assert os.listdir(os.path.join(run_dir, "guise")) == []


@pytest.fixture
def subid_user():
    """A temporary account with subordinate id ranges, removed afterwards."""
    need(host.newuidmap())
    need(host.program("useradd", "Debian package passwd, to make a user with subordinate ids"))
    name = "guise-rl-%s" % uuid.uuid4().hex[:6]
    uid = 4322
    subprocess.run(["useradd", "-M", "-N", "-u", str(uid), "-g", "nogroup", "-s", "/usr/sbin/nologin", name],
                   check=True, capture_output=True)
    gid = int(subprocess.run(["id", "-g", name], capture_output=True, text=True, check=True).stdout)
    saved = {}
    for f in ("/etc/subuid", "/etc/subgid"):
        saved[f] = open(f).read() if os.path.exists(f) else None
        with open(f, "a") as out:
            out.write("%s:300000:65536\n" % name)
    try:
        yield name, uid, gid
    finally:
        for f, text in saved.items():
            if text is None:
                os.remove(f)
            else:
                with open(f, "w") as out:
                    out.write(text)
        subprocess.run(["userdel", name], check=False, capture_output=True)


def test_rootless_several_ranges_through_newuidmap(runtime, session_dir, template_bundle, subid_user):
    name, uid, gid = subid_user
    base, bundle, run_dir = _user_bundle(session_dir, template_bundle, uid, gid)
    env = _env(run_dir)
    cfg = _rootless_spec(runtime, bundle, uid, gid, env)
    cfg["process"]["terminal"] = False
    cfg["process"]["args"] = ["/bin/sh", "-c", "cat /proc/self/uid_map /proc/self/gid_map"]
    cfg["linux"]["uidMappings"] = [{"containerID": 0, "hostID": uid, "size": 1},
                                   {"containerID": 1, "hostID": 300000, "size": 65536}]
    cfg["linux"]["gidMappings"] = [{"containerID": 0, "hostID": gid, "size": 1},
                                   {"containerID": 1, "hostID": 300000, "size": 65536}]
    _write(bundle, cfg, uid, gid)
    cid = "rl-" + uuid.uuid4().hex[:8]
    r = _as_user(uid, gid, [runtime, "run", cid], env, bundle)
    assert r.returncode == 0, r
    rows = [line.split() for line in r.stdout.splitlines()]
    assert ["1", "300000", "65536"] in rows, r.stdout
    assert ["0", str(uid), "1"] in rows, r.stdout
    assert ["0", str(gid), "1"] in rows, r.stdout
