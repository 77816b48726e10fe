"""Values in config.json beyond what the JSON library, the stack or the kernel take:
each is refused before anything is made, with exit 1 and one line naming the JSON
path, quoting at most a little of the value; nothing is left behind."""

import json
import os

import pytest

from conftest import IS_RUNC, cgroup_dirs_named

pytestmark = pytest.mark.skipif(IS_RUNC, reason="guise's own limits and wording")

RAW = "@@raw@@"
BIG = "a" * (10 << 20)


def _spec_config(ct):
    """`guise-oci spec`'s config.json, running /bin/true without a terminal."""
    r = ct.rt("spec", "--bundle", ct.bundle)
    assert r.rc == 0, r
    path = os.path.join(ct.bundle, "config.json")
    with open(path) as f:
        cfg = json.load(f)
    os.unlink(path)
    cfg["process"]["terminal"] = False
    cfg["process"]["args"] = ["/bin/true"]
    return cfg


def _write(ct, cfg, raw=None):
    """Writes cfg as the test fixture does (its cgroupsPath), with RAW's string
    replaced by the JSON text `raw`: numbers and nesting Python's json cannot write."""
    ct.write_config(cfg=cfg)
    if raw is None:
        return
    path = os.path.join(ct.bundle, "config.json")
    with open(path) as f:
        text = f.read()
    assert text.count('"%s"' % RAW) == 1
    with open(path, "w") as f:
        f.write(text.replace('"%s"' % RAW, raw))


def _set(cfg, path, value):
    node = cfg
    for key in path[:-1]:
        node = node.setdefault(key, {}) if isinstance(key, str) else node[key]
    node[path[-1]] = value


def _assert_refused(ct, r, named):
    assert r.rc == 1, r
    err = r.err.strip()
    assert len(err.splitlines()) == 1, r
    assert named in err, r
    assert len(err) < 400, r  # the value is quoted in part only
    state = ct.state_result()
    assert state.rc != 0 and "does not exist" in state.err, state
    assert not os.path.exists(os.path.join(ct.root, ct.id))
    assert ct.id not in ct.rt("list", "-q").out.split()
    assert cgroup_dirs_named(ct.id) == []


# (name, JSON path in the config, value or None, raw JSON text or None, words of the error)
CASES = [
    ("uid-overflow", ("process", "user", "uid"), None, "1e400", "process.user.uid: number out of range"),
    ("uid-underflow", ("process", "user", "uid"), None, "-1e400", "process.user.uid: number out of range"),
    ("uid-too-big", ("process", "user", "uid"), None, "4294967296", "process.user.uid: must be between"),
    ("uid-float", ("process", "user", "uid"), None, "1.5", "process.user.uid: expected an unsigned integer"),
    ("deep-hostname", ("hostname",), None, "[" * 75000 + "]" * 75000, "config.json: nested deeper than 512 levels"),
    ("deep-annotation", ("annotations",), None, '{"x": %s}' % ("[" * 75000 + "]" * 75000),
     "config.json: nested deeper than 512 levels"),
    ("nul-arg", ("process", "args", 0), "/bin/true\0x", None, "process.args[0]: must not contain a NUL byte"),
    ("nul-root", ("root", "path"), "rootfs\0/../..", None, "root.path: must not contain a NUL byte"),
    ("big-hostname", ("hostname",), BIG, None, "hostname: is 10485760 bytes"),
    ("big-arg", ("process", "args"), ["/bin/true", BIG], None, "process.args[1]: is 10485760 bytes"),
    ("big-arg0", ("process", "args", 0), "/" + BIG, None, "process.args[0]: is 10485761 bytes"),
    ("big-cwd", ("process", "cwd"), "/" + BIG, None, "process.cwd: is 10485761 bytes"),
    ("big-root", ("root", "path"), BIG, None, "root.path: is 10485760 bytes"),
    ("big-mount-destination", ("mounts", 0, "destination"), "/" + BIG, None,
     "mounts[0].destination: is 10485761 bytes"),
    ("big-capability", ("process", "capabilities", "bounding", 0), BIG, None,
     "process.capabilities.bounding[0]: unknown capability"),
    ("big-selinux-label", ("process", "selinuxLabel"), BIG, None, "process.selinuxLabel: is 10485760 bytes"),
    ("big-mount-label", ("linux", "mountLabel"), BIG, None, "linux.mountLabel: is 10485760 bytes"),
]


@pytest.mark.parametrize("verb", ["create", "run"])
@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_config_value_refused(ct, case, verb):
    _, path, value, raw, named = case
    cfg = _spec_config(ct)
    _set(cfg, list(path), RAW if raw is not None else value)
    _write(ct, cfg, raw)
    r = ct.rt(verb, "--bundle", ct.bundle, ct.id, track=ct.id)
    _assert_refused(ct, r, named)


def _has_resctrl():
    with open("/proc/self/mounts") as f:
        return any(line.split()[1] == "/sys/fs/resctrl" and line.split()[2] == "resctrl" for line in f)


@pytest.mark.skipif(_has_resctrl(), reason="the host has Intel RDT (resctrl mounted at /sys/fs/resctrl)")
def test_intel_rdt_refused_without_resctrl(ct):
    cfg = _spec_config(ct)
    cfg["linux"]["intelRdt"] = {"closID": "guise-test"}
    _write(ct, cfg)
    r = ct.rt("create", "--bundle", ct.bundle, ct.id, track=ct.id)
    _assert_refused(ct, r, "linux.intelRdt: Intel RDT is not available on this host")


def test_limits_leave_valid_config_alone(ct):
    """The spec's config itself, with values at the limits, still runs."""
    cfg = _spec_config(ct)
    cfg["hostname"] = "h" * 64
    _write(ct, cfg)
    r = ct.rt("run", "--bundle", ct.bundle, ct.id, track=ct.id)
    assert r.rc == 0, r
