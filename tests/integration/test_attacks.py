"""Escapes: one test per known runc escape class, and the plain escapes a default
container must not make.

Each test is a container process, a hostile image or a racing helper container
that tries the escape; it asserts that the attempt fails AND that the host is
unchanged afterwards.  Targets are copies and files in the test's own directory
(a copy of the runtime binary, sentinel files), never the machine's own.  Where a
test would otherwise touch a global file (core_pattern), it only opens it, and
the teardown restores it if it changed anyway.

Against runc 1.1.5 a test is marked runc_xfail only where that release is
vulnerable; the CVE is named in the reason.
"""

import contextlib
import hashlib
import json
import os
import shutil
import stat
import subprocess
import time

import pytest

from conftest import (IS_RUNC, TESTBIN, Probe, _copy_rootfs, mountinfo, mounts_under, parse_facts,
                      parse_mountinfo_text, runc_xfail, split_multi, wait_for)

DOCKER_PROFILE = os.path.join(os.path.dirname(__file__), "..", "..", "profiles", "docker-default.json")
PROC_SUPER_MAGIC = "0x9fa0"  # statfs f_type of procfs


# ------------------------------------------------------------------ helpers


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def extra_bundle(ct, name):
    """A second bundle (own rootfs copy and config) in the test's directory."""
    b = os.path.join(ct.dir, name)
    os.mkdir(b)
    _copy_rootfs(os.path.join(ct.template_dir, "rootfs"), os.path.join(b, "rootfs"))
    return b


def write_cfg(ct, bundle, cid, cfg):
    ct.write_config(cid=cid, cfg=cfg, bundle=bundle)


def start_racer(ct, bundle, cfg, cid):
    """Starts a helper container in the background (its run returns when it exits)."""
    write_cfg(ct, bundle, cid, cfg)
    return ct.spawn("run", "--bundle", bundle, cid, track=cid)


@contextlib.contextmanager
def guarded_core_pattern():
    """The host's core_pattern must come out unchanged; restored if it did not."""
    path = "/proc/sys/kernel/core_pattern"
    with open(path) as f:
        before = f.read()
    try:
        yield
    finally:
        with open(path) as f:
            after = f.read()
        if after != before:
            with open(path, "w") as f:
                f.write(before)
        assert after == before, "the host's core_pattern changed: %r -> %r" % (before, after)


def shared_volume_cfg(ct, volume, dest="/vol"):
    cfg = json.loads(json.dumps(ct.cfg))
    cfg["mounts"].append({"destination": dest, "type": "bind", "source": volume,
                          "options": ["rbind", "rw"]})
    return cfg


def assert_raced(race, outcomes):
    """The racing helper really swapped while the victims were made."""
    r = race.wait(timeout=30)
    swaps = sum(int(v) for k, v in (l.split(" ", 1) for l in r.out.splitlines() if " " in l) if k == "swaps")
    assert swaps > 1000, (r, outcomes)
    assert len(outcomes) > 3, outcomes


def host_mounts_of(path):
    """Host mounts on, or of, anything under PATH (other tests may mount elsewhere)."""
    return [(m["root"], m["mountpoint"]) for m in mountinfo()
            if m["mountpoint"].startswith(path) or m["root"].startswith(path)]


# ------------------------------------------------------------------ CVE-2019-5736


def test_cve_2019_5736_exec_cannot_overwrite_runtime_binary(ct):
    """A container process opens the runtime binary through /proc/PID/exe while
    `exec` joins it, and writes to it once the runtime has exited.

    The hostile image makes the exec'd program reach the runtime itself
    (/evil is "#!/proc/self/exe", and /proc/self/exe is exec'd directly), the
    classic vector; meanwhile the container's main process hammers
    /proc/PID/exe of every new pid and keeps every fd whose file is not in the
    container's filesystem, retrying a write until the deadline.
    The runtime run is a copy in the test directory: its hash must not change.
    """
    bindir = ct.tmpdir("bin")
    copy = os.path.join(bindir, os.path.basename(ct.runtime) + "-copy")
    shutil.copy2(ct.runtime, copy)
    before = sha256(copy)
    # The hostile program blocks on a fifo (the runtime's --log, written when
    # its command line fails) so that it lives until the attacker has its fd.
    os.mkfifo(os.path.join(ct.rootfs, "evil-fifo"), 0o666)
    with open(os.path.join(ct.rootfs, "evil"), "w") as f:
        f.write("#!/proc/self/exe --log=/evil-fifo\n")
    os.chmod(os.path.join(ct.rootfs, "evil"), 0o755)
    ct.probe_args("exe-hijack", "6", "/evil-fifo")
    created = ct.create()
    assert created.rc == 0, created
    assert ct.start().rc == 0
    original = ct.runtime
    ct.runtime = copy
    try:
        deadline = time.monotonic() + 4.5
        joins = 0
        while time.monotonic() < deadline:
            for prog in (["/evil"], ["/proc/self/exe", "--log", "/evil-fifo", "state", "none"],
                         [TESTBIN, "pid"]):
                ct.rt("exec", ct.id, *prog, timeout=10)
                joins += 1
    finally:
        ct.runtime = original
    ct.wait_status("stopped", timeout=15)
    facts = created.facts  # the container's stdout is the create's
    assert "written" in facts, created
    assert facts["written"] == "0", (facts, joins)
    assert sha256(copy) == before, "the runtime binary was overwritten from the container"


# ------------------------------------------------------------------ CVE-2024-21626


LEAK_FDS = range(3, 13)


@runc_xfail("CVE-2024-21626: runc 1.1.5 leaks a host cgroup fd and accepts cwd /proc/self/fd/N")
def test_cve_2024_21626_cwd_through_leaked_fd(ct, host_tmp):
    """process.cwd /proc/self/fd/N names an fd the runtime still holds (a cgroup
    or state directory): the process must not start with a cwd on the host."""
    target = os.path.join(host_tmp, "escaped")
    rel = "../" * 24 + target.lstrip("/")
    escaped = []
    for n in LEAK_FDS:
        ct.cfg["process"]["cwd"] = "/proc/self/fd/%d" % n
        ct.multi_probe_args(["cwd"], ["write", rel, "x"])
        r = ct.run(cid=ct.new_id())
        probes = split_multi(r.out)
        if probes and _cwd_outside(probes[0]) or os.path.exists(target):
            escaped.append((n, r.out))
    assert not escaped, escaped
    assert not os.path.exists(target)


def _cwd_outside(probe):
    """getcwd fails (ENOENT: "(unreachable)") when the cwd is outside the root."""
    if probe.rc != 0:
        return probe.facts.get("errno") == "ENOENT"
    return not probe.facts.get("cwd", "/").startswith("/")


@runc_xfail("CVE-2024-21626: runc 1.1.5 exec accepts --cwd /proc/self/fd/N of a leaked fd")
def test_cve_2024_21626_exec_cwd_through_leaked_fd(ct, host_tmp):
    target = os.path.join(host_tmp, "escaped")
    rel = "../" * 24 + target.lstrip("/")
    ct.probe_args("sleep", "60")
    assert ct.create().rc == 0
    assert ct.start().rc == 0
    escaped = []
    for n in LEAK_FDS:
        r = ct.rt("exec", "--cwd", "/proc/self/fd/%d" % n, ct.id, TESTBIN, "cwd")
        w = ct.rt("exec", "--cwd", "/proc/self/fd/%d" % n, ct.id, TESTBIN, "write", rel, "x")
        started = "testbin:" in r.err or r.rc == 0
        if (started and _cwd_outside(Probe(r.rc, r.out))) or os.path.exists(target):
            escaped.append((n, r.out, w.out))
    assert not escaped, escaped
    assert not os.path.exists(target)


@runc_xfail("CVE-2024-21626: runc 1.1.5 does not check that process.cwd resolves inside the root")
def test_cve_2024_21626_cwd_through_preserved_directory_fd(ct, host_tmp):
    """The same escape made certain: a host directory passed as a preserved fd,
    and process.cwd naming it through /proc/self/fd."""
    outside = os.path.join(host_tmp, "outside")
    os.makedirs(outside)
    target = os.path.join(host_tmp, "escaped")
    ct.cfg["process"]["cwd"] = "/proc/self/fd/3"
    ct.multi_probe_args(["cwd"], ["write", "../escaped", "x"])
    r = ct.run("--preserve-fds", "1", extra_fds={3: outside})
    probes = split_multi(r.out)
    assert not (probes and _cwd_outside(probes[0])), r
    assert not os.path.exists(target), "the container wrote next to the host directory"
    ct.cfg["process"]["cwd"] = "/"
    ct.probe_args("sleep", "60")
    cid = ct.new_id()
    assert ct.create(cid=cid).rc == 0
    assert ct.start(cid).rc == 0
    r = ct.rt("exec", "--preserve-fds", "1", "--cwd", "/proc/self/fd/3", cid, TESTBIN, "write",
              "../escaped", "x", extra_fds={3: outside})
    assert not os.path.exists(target), "exec wrote next to the host directory: %r" % r


def test_no_runtime_fd_survives_into_exec(ct):
    ct.probe_args("sleep", "60")
    assert ct.create().rc == 0
    assert ct.start().rc == 0
    r = ct.rt("exec", ct.id, TESTBIN, "fds")
    assert r.rc == 0, r
    fds = sorted(int(l.split()[0]) for l in r.out.splitlines())
    assert fds == [0, 1, 2], r.out


# ------------------------------------------------------------------ CVE-2021-30465


def test_cve_2021_30465_symlink_exchange_on_mount_destination(ct, host_tmp):
    """A helper container swaps, in a volume it shares with the victim, each
    mount destination with a symlink to "/" (renameat2 RENAME_EXCHANGE), while
    victims are created again and again.  A runtime that mounts by a path
    re-resolved after the swap puts the victim's second volume over the host's
    "/" in its mount namespace; the next volume's host path then resolves
    through planted symlinks to the host's root, which the victim gets mounted.
    The victim must never see the host's root, and the host's mounts must not
    change."""
    vol = os.path.join(host_tmp, "vol")
    v2 = os.path.join(host_tmp, "v2")
    v3 = os.path.join(host_tmp, "v3")
    for d in (vol, v2, v3):
        os.makedirs(d)
    with open(os.path.join(v3, "v3-content"), "w") as f:
        f.write("v3\n")
    # v2 mirrors v3's host path, ending in a symlink to "/".
    mirror = os.path.join(v2, os.path.dirname(v3).lstrip("/"))
    os.makedirs(mirror)
    os.symlink("/", os.path.join(mirror, os.path.basename(v3)))
    n = 4
    for i in range(n):
        os.makedirs(os.path.join(vol, "m%d" % i))
        os.symlink("/", os.path.join(vol, "l%d" % i))

    racer = extra_bundle(ct, "racer")
    rcfg = shared_volume_cfg(ct, vol)
    rcfg["process"]["args"] = ["/bin/sh", "-c", " ".join(
        "%s swap-race /vol/m%d /vol/l%d 12 &" % (TESTBIN, i, i) for i in range(n)) + " wait"]
    rid = ct.new_id()
    race = start_racer(ct, racer, rcfg, rid)
    wait_for(lambda: ct.state_result(rid).rc == 0, 5)

    vcfg = shared_volume_cfg(ct, vol)
    for i in range(n):
        vcfg["mounts"].append({"destination": "/vol/m%d" % i, "type": "bind", "source": v2,
                               "options": ["rbind", "ro"]})
    vcfg["mounts"].append({"destination": "/last", "type": "bind", "source": v3,
                           "options": ["rbind", "ro"]})
    vcfg["process"]["args"] = [TESTBIN, "ls", "/last"]
    seen, outcomes = [], []
    deadline = time.monotonic() + 9
    tries = 0
    while time.monotonic() < deadline:
        vid = ct.new_id()
        ct.ids.append(vid)
        write_cfg(ct, ct.bundle, vid, vcfg)
        r = ct.rt("run", "--bundle", ct.bundle, vid, track=vid)
        tries += 1
        outcomes.append("ok" if r.rc == 0 else "refused")
        if r.rc == 0 and "v3-content" not in r.out:
            seen.append(r.out)
        ct.rt("delete", "--force", vid)
    assert not seen, "a victim saw something other than its volume at /last: %s" % seen[:2]
    assert tries > 3
    assert_raced(race, outcomes)
    assert host_mounts_of(host_tmp) == []
    assert sorted(os.listdir(v3)) == ["v3-content"]


# ------------------------------------------------------------------ CVE-2024-45310


@runc_xfail("CVE-2024-45310: runc 1.1.5 makes missing mount targets with a racing MkdirAll")
def test_cve_2024_45310_racing_symlinks_create_nothing_on_host(ct, host_tmp):
    """The victim's mount destinations pass through a directory in a shared
    volume that a helper swaps with a symlink to a host directory; the missing
    directories and files the runtime makes for the mounts must land in the
    container, never in the host directory."""
    vol = os.path.join(host_tmp, "vol")
    hostdir = os.path.join(host_tmp, "hostdir")
    os.makedirs(vol)
    os.makedirs(hostdir)
    n = 3
    for i in range(n):
        os.makedirs(os.path.join(vol, "d%d" % i))
        os.symlink(hostdir, os.path.join(vol, "s%d" % i))
    filesrc = os.path.join(host_tmp, "f")
    open(filesrc, "w").close()

    racer = extra_bundle(ct, "racer")
    rcfg = shared_volume_cfg(ct, vol)
    rcfg["process"]["args"] = ["/bin/sh", "-c", " ".join(
        "%s swap-race /vol/d%d /vol/s%d 12 &" % (TESTBIN, i, i) for i in range(n)) + " wait"]
    rid = ct.new_id()
    race = start_racer(ct, racer, rcfg, rid)
    wait_for(lambda: ct.state_result(rid).rc == 0, 5)

    vcfg = shared_volume_cfg(ct, vol)
    for i in range(n):
        vcfg["mounts"].append({"destination": "/vol/d%d/new/deep" % i, "type": "tmpfs",
                               "source": "tmpfs", "options": ["nosuid"]})
        vcfg["mounts"].append({"destination": "/vol/d%d/newfile" % i, "type": "bind",
                               "source": filesrc, "options": ["bind", "ro"]})
    vcfg["process"]["args"] = [TESTBIN, "pid"]
    deadline = time.monotonic() + 9
    outcomes = []
    while time.monotonic() < deadline:
        vid = ct.new_id()
        ct.ids.append(vid)
        write_cfg(ct, ct.bundle, vid, vcfg)
        r = ct.rt("run", "--bundle", ct.bundle, vid, track=vid)
        outcomes.append("ok" if r.rc == 0 else "refused")
        ct.rt("delete", "--force", vid)
        assert os.listdir(hostdir) == [], "made on the host: %s" % os.listdir(hostdir)
    assert os.listdir(hostdir) == []
    assert_raced(race, outcomes)


@runc_xfail("CVE-2026-41579: runc 1.1.5 makes /dev's symlinks and ptmx through an image's /dev symlink")
def test_cve_2026_41579_dev_symlink_creates_nothing_on_host(ct, host_tmp):
    """An image whose /dev is a symlink to a host directory (the same class as
    CVE-2024-45310): the runtime's /dev entries (symlinks, device nodes, ptmx)
    must not be made there."""
    hostdir = os.path.join(host_tmp, "hostdev")
    os.makedirs(hostdir)
    devdir = os.path.join(ct.rootfs, "dev")
    shutil.rmtree(devdir)
    os.symlink(hostdir, devdir)
    r = ct.probe("pid")
    assert os.listdir(hostdir) == [], "made on the host: %s" % os.listdir(hostdir)
    assert mounts_under(hostdir) == []
    if r.rc != 0:  # refused: the user is told it was /dev
        assert "/dev" in r.err, r
    else:
        assert "pid 1" in r.out, r


# ------------------------------------------------- CVE-2019-16884 / 2019-19921 / 2023-27561 / 2023-28642


def _fake_proc(ct, where):
    fake = os.path.join(ct.rootfs, where.lstrip("/"))
    os.makedirs(os.path.join(fake, "sys", "net", "ipv4"))
    with open(os.path.join(fake, "sys", "net", "ipv4", "ip_forward"), "w") as f:
        f.write("fake\n")
    os.makedirs(os.path.join(fake, "self", "attr"))
    with open(os.path.join(fake, "self", "attr", "exec"), "w") as f:
        f.write("fake\n")
    return fake


def _fake_untouched(fake):
    with open(os.path.join(fake, "sys", "net", "ipv4", "ip_forward")) as f:
        assert f.read() == "fake\n"
    with open(os.path.join(fake, "self", "attr", "exec")) as f:
        assert f.read() == "fake\n"


def test_cve_2023_27561_proc_symlink_in_image(ct):
    """/proc in the image is a symlink to a fake procfs tree: procfs must not be
    mounted through it, and no sysctl or label may be written into the fake."""
    fake = _fake_proc(ct, "/fakeproc")
    os.rmdir(os.path.join(ct.rootfs, "proc"))
    os.symlink("/fakeproc", os.path.join(ct.rootfs, "proc"))
    ct.cfg["linux"]["sysctl"] = {"net.ipv4.ip_forward": "1"}
    r = ct.probe("statfs", "/proc")
    if r.rc == 0:
        assert r.facts["fstype"] == PROC_SUPER_MAGIC, r  # procfs, not the fake
    else:  # refused, naming /proc and the symlink there
        if not IS_RUNC:  # runc refuses too, in its own words
            assert "/proc" in r.err and "symlink" in r.err, r
    _fake_untouched(fake)


def test_cve_2019_16884_volume_over_proc(ct, host_tmp):
    """A volume mounted on /proc (a fake procfs): refused, or at least no write
    of the runtime lands in it."""
    fake = os.path.join(host_tmp, "fakeproc")
    os.makedirs(os.path.join(fake, "sys", "net", "ipv4"))
    with open(os.path.join(fake, "sys", "net", "ipv4", "ip_forward"), "w") as f:
        f.write("fake\n")
    ct.add_mount("/proc", "bind", fake, ["rbind", "rw"])
    ct.cfg["linux"]["sysctl"] = {"net.ipv4.ip_forward": "1"}
    r = ct.probe("statfs", "/proc")
    if r.rc == 0:
        assert r.facts["fstype"] == PROC_SUPER_MAGIC, r
    else:  # refused, naming the mount on /proc
        if not IS_RUNC:  # runc refuses too, in its own words
            assert "/proc" in r.err and "mounts[" in r.err, r
    with open(os.path.join(fake, "sys", "net", "ipv4", "ip_forward")) as f:
        assert f.read() == "fake\n"


def test_cve_2025_52881_mount_inside_proc_redirects_no_write(ct, host_tmp):
    """A volume over /proc/sys (a fake tree): the sysctl must not be written into
    it, whatever the runtime decides about the mount."""
    fake = os.path.join(host_tmp, "fakesys")
    os.makedirs(os.path.join(fake, "net", "ipv4"))
    with open(os.path.join(fake, "net", "ipv4", "ip_forward"), "w") as f:
        f.write("fake\n")
    ct.add_mount("/proc/sys", "bind", fake, ["rbind", "rw"])
    ct.cfg["linux"]["sysctl"] = {"net.ipv4.ip_forward": "1"}
    r = ct.probe("sysctl", "net.ipv4.ip_forward")
    with open(os.path.join(fake, "net", "ipv4", "ip_forward")) as f:
        assert f.read() == "fake\n", "the runtime's sysctl write landed in the fake /proc/sys"
    if r.rc == 0:  # the sysctl landed in the container's own namespace
        assert r.facts["net.ipv4.ip_forward"] == "1", r
    else:  # refused, naming the mount over /proc/sys
        assert "/proc/sys" in r.err, r


def test_sysctl_lands_in_the_container_namespace(ct):
    """The runtime's own procfs writes the value the container then reads."""
    with open("/proc/sys/net/ipv4/ip_forward") as f:
        host = f.read()
    want = "0" if host.strip() == "1" else "1"
    ct.cfg["linux"]["sysctl"] = {"net.ipv4.ip_forward": want}
    r = ct.probe("sysctl", "net.ipv4.ip_forward")
    assert r.rc == 0, r
    assert r.facts["net.ipv4.ip_forward"] == want
    with open("/proc/sys/net/ipv4/ip_forward") as f:
        assert f.read() == host


# ------------------------------------------------------------------ CVE-2025-31133 / 52565


MASKABLE_PROC_FILES = ("/proc/kcore", "/proc/timer_list", "/proc/sched_debug", "/proc/keys")


def _hostile_dev(host_tmp, null_device=False, **links):
    """A host directory to bind on /dev, holding LINKS (name -> target) and pts/; with
    null_device, a real null device (c 1:3) as null."""
    d = os.path.join(host_tmp, "dev")
    os.makedirs(os.path.join(d, "pts"))
    if null_device:
        os.mknod(os.path.join(d, "null"), 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    for name, target in links.items():
        os.symlink(target, os.path.join(d, name))
    return d


def _with_dev_bind(ct, devdir):
    ct.cfg["mounts"] = [m for m in ct.cfg["mounts"] if m["destination"] != "/dev"]
    ct.cfg["mounts"].insert(1, {"destination": "/dev", "type": "bind", "source": devdir,
                                "options": ["rbind", "rw"]})


def _assert_only_mount_points_made(ct, devdir, before):
    """What the runtime made in the host's directory bound on /dev: only the points the
    config's own mounts below /dev need (empty directories, or empty files for bound
    device nodes), never a device node or a symlink of its own."""
    points = {m["destination"].split("/")[2] for m in ct.cfg["mounts"]
              if m["destination"].startswith("/dev/")}
    made = sorted(set(os.listdir(devdir)) - set(before))
    for name in made:
        path = os.path.join(devdir, name)
        st = os.lstat(path)
        empty = (stat.S_ISDIR(st.st_mode) and os.listdir(path) == []) or (stat.S_ISREG(st.st_mode) and st.st_size == 0)
        assert empty, "the runtime made %s on the host: %s" % (path, oct(st.st_mode))
    return set(made) - points


@runc_xfail("CVE-2025-31133: runc 1.1.5 masks with whatever /dev/null resolves to")
def test_cve_2025_31133_dev_null_symlink_cannot_unmask(ct, host_tmp):
    """/dev/null is a symlink to core_pattern when maskedPaths are applied: the
    mask must not bind a writable procfs file over the masked paths.  The runtime
    may refuse the container (saying which mask and why), or mask with a real null
    device; either way the host's /dev directory keeps its symlink."""
    targets = [p for p in MASKABLE_PROC_FILES if os.path.exists(p)]
    if not targets:
        pytest.skip("host: none of %s in this kernel: nothing to mask" % ", ".join(MASKABLE_PROC_FILES))
    devdir = _hostile_dev(host_tmp, null="/proc/sys/kernel/core_pattern")
    before = os.listdir(devdir)
    _with_dev_bind(ct, devdir)
    ct.cfg["linux"]["maskedPaths"] = list(MASKABLE_PROC_FILES)
    with guarded_core_pattern():
        r, probes = ct.multi_probe(*[[cmd, p] for p in targets for cmd in ("statfs", "stat")])
        if r.rc == 0:
            assert len(probes) == 2 * len(targets), r
            for p, fs_, st in zip(targets, probes[0::2], probes[1::2]):
                assert fs_.facts.get("fstype") != PROC_SUPER_MAGIC, (p, fs_)  # covered, not procfs
                assert (st.facts.get("type"), st.facts.get("rdev")) == ("chr", "1:3"), (p, st)
        else:
            # Refused: before the process ran, and the user is told which mask and why.
            assert probes == [], r
            assert "/dev/null" in r.err and "mask" in r.err, r
            assert "not the null device" in r.err or "symlink" in r.err, r
    assert os.readlink(os.path.join(devdir, "null")) == "/proc/sys/kernel/core_pattern"
    unexpected = _assert_only_mount_points_made(ct, devdir, before)
    if r.rc != 0:
        assert not unexpected, "made on the host by a container that was refused: %s" % sorted(unexpected)


@runc_xfail("CVE-2025-52565: runc 1.1.5 bind-mounts the terminal through an image's /dev/console symlink")
def test_cve_2025_52565_dev_console_symlink(ct, host_tmp):
    """With a terminal, /dev/console is a symlink to core_pattern: the terminal
    must not be mounted through it, nor the file exposed writable.  (The bound /dev
    has a real null device, so that the masks are made and the runtime reaches the
    terminal.)  The runtime may refuse, naming /dev/console and why, or mount the
    terminal on a /dev/console of its own."""
    devdir = _hostile_dev(host_tmp, null_device=True, console="/proc/sys/kernel/core_pattern",
                          ptmx="pts/ptmx")
    before = os.listdir(devdir)
    _with_dev_bind(ct, devdir)
    ct.cfg["process"]["terminal"] = True
    cs = ct.console_socket()
    ct.multi_probe_args(["statfs", "/dev/console"], ["open", "/proc/sys/kernel/core_pattern", "w"])
    with guarded_core_pattern():
        r = ct.create("--console-socket", cs.path)
        if r.rc == 0:
            assert ct.start().rc == 0
            ct.wait_status("stopped")
            out = cs.wait().decode(errors="replace").replace("\r\n", "\n")
            probes = split_multi(out)
            assert len(probes) == 2, out
            assert probes[0].rc == 0 and probes[0].facts["fstype"] != PROC_SUPER_MAGIC, out
            assert probes[1].rc != 0, out  # core_pattern is not writable from inside
        else:
            assert "/dev/console" in r.err and "symlink" in r.err, r
    assert os.readlink(os.path.join(devdir, "console")) == "/proc/sys/kernel/core_pattern"
    _assert_only_mount_points_made(ct, devdir, before)


def test_console_is_the_terminal(ct):
    ct.cfg["process"]["terminal"] = True
    cs = ct.console_socket()
    ct.multi_probe_args(["stat", "/dev/console"], ["tty"])
    r = ct.create("--console-socket", cs.path)
    assert r.rc == 0, r
    assert ct.start().rc == 0
    ct.wait_status("stopped")
    out = cs.wait().decode(errors="replace").replace("\r\n", "\n")
    facts = parse_facts(out)
    assert facts.get("type") == "chr", out
    assert facts.get("rdev", "").startswith("136:"), out


# ------------------------------------------------------------------ plain escapes


def test_cannot_write_host_files_outside_mounts(ct, host_tmp):
    sentinel = os.path.join(host_tmp, "sentinel")
    with open(sentinel, "w") as f:
        f.write("host\n")
    ct.add_mount("/data", "bind", host_tmp, ["rbind", "ro"])
    rel = "../" * 24 + sentinel.lstrip("/")
    r, probes = ct.multi_probe(
        ["write", "/data/sentinel", "pwned"], ["write", rel, "pwned"],
        ["write", "/proc/1/root" + sentinel, "pwned"],
        ["write", "/proc/sysrq-trigger", "h"], ["write", "/proc/sys/kernel/core_pattern", "|/x"],
        ["write", "/sys/kernel/uevent_helper", "/x"], ["open", "/proc/1/root/../../etc/hostname", "w"])
    for p in probes:
        assert p.rc != 0, probes
    with open(sentinel) as f:
        assert f.read() == "host\n"


def test_cannot_load_kernel_modules(ct):
    r = ct.probe("syscall", "init_module", "finit_module", "delete_module")
    assert r.rc == 0, r
    # EPERM without CAP_SYS_MODULE; ENOSYS on a kernel built without modules.
    for k in ("init_module", "finit_module", "delete_module"):
        assert r.facts[k] in ("EPERM", "ENOSYS"), r.facts


def test_cannot_mount_host_block_devices(ct):
    devs = [d for d in sorted(os.listdir("/sys/class/block")) if not d.startswith(("loop", "ram"))][:1]
    if not devs:
        pytest.skip("host: no block device in /sys/class/block (other than loop and ram)")
    with open("/sys/class/block/%s/dev" % devs[0]) as f:
        major, minor = f.read().strip().split(":")
    ct.add_tmpfs("/tmp")
    ct.set_args("/bin/sh", "-c",
                "mknod /tmp/blk b %s %s; echo mknod=$?; %s open /tmp/blk r; %s syscall mount"
                % (major, minor, TESTBIN, TESTBIN))
    r = ct.run()
    assert "mknod=0" not in r.out, r
    assert "\nok\n" not in r.out, r
    assert "mount ok" not in r.out, r


def test_cannot_see_or_signal_host_pids(ct):
    sleeper = subprocess.Popen(["sleep", "60"])
    try:
        pid = sleeper.pid
        r, (kill0, ls) = ct.multi_probe(["kill", str(pid), "0"], ["ls", "/proc"])
        assert r.rc == 0, r
        assert kill0.facts["kill"] == "ESRCH", kill0
        pids = [int(x) for x in ls.out.split() if x.isdigit()]
        assert pids and max(pids) < 100, pids
        assert sleeper.poll() is None
    finally:
        sleeper.kill()
        sleeper.wait()


def test_cannot_see_host_mounts(ct):
    r = ct.probe("mounts")
    assert r.rc == 0, r
    points = [m["mountpoint"] for m in parse_mountinfo_text(r.out)]
    # (The mount root field names a bind's source, as on any runtime; the mount
    # points are what the container can reach.)
    assert not any(p.startswith(("/work", ct.session_dir, "/home", "/boot")) for p in points), points


def test_setuid_binary_gains_nothing_under_no_new_privs(ct):
    suid = os.path.join(ct.rootfs, "bin", "suid-testbin")
    shutil.copy(os.path.join(ct.rootfs, "bin", "guise-testbin"), suid)
    os.chown(suid, 0, 0)
    os.chmod(suid, 0o4755)
    ct.cfg["process"]["user"] = {"uid": 1000, "gid": 1000}
    ct.cfg["process"]["noNewPrivileges"] = True
    ct.multi_probe_args(["id"], ["caps"])
    ct.cfg["process"]["args"][-1] = ct.cfg["process"]["args"][-1].replace(TESTBIN, "/bin/suid-testbin")
    r = ct.run()
    assert r.rc == 0, r
    facts = parse_facts(r.out)
    assert facts["euid"] == "1000", r.out
    assert int(facts["CapEff"], 16) == 0 and int(facts["CapPrm"], 16) == 0, r.out
    # Without no_new_privs the same binary does become root: the probe works.
    ct.cfg["process"]["noNewPrivileges"] = False
    r = ct.run(cid=ct.new_id())
    assert parse_facts(r.out)["euid"] == "0", r.out


BLOCKED = ["keyctl", "add_key", "request_key", "unshare-user", "clone-user", "unshare-mnt", "mount",
           "init_module", "finit_module", "delete_module", "reboot", "kexec_load", "swapon", "bpf",
           "perf_event_open", "userfaultfd", "open_by_handle_at", "setns", "pivot_root", "acct",
           "settimeofday", "iopl", "ioperm", "personality-bad", "socket-vsock"]


def test_default_seccomp_profile_blocks_syscalls(ct):
    with open(DOCKER_PROFILE) as f:
        ct.cfg["linux"]["seccomp"] = json.load(f)
    r = ct.probe("syscall", "getpid", "personality-query", *BLOCKED)
    assert r.rc == 0, r
    assert r.facts["getpid"] == "ok" and r.facts["personality-query"] == "ok", r.facts
    allowed = [k for k in BLOCKED if r.facts[k] != "EPERM"]
    assert not allowed, {k: r.facts[k] for k in allowed}


def test_without_profile_the_same_syscalls_are_reachable(ct):
    """The control for the test above: the profile is what denies keyctl and
    user namespaces (capabilities alone do not)."""
    r = ct.probe("syscall", "keyctl", "unshare-user", "clone-user")
    assert r.rc == 0, r
    assert r.facts["keyctl"] == "ok" and r.facts["unshare-user"] == "ok", r.facts


def test_masked_paths_read_empty(ct):
    """The default masks: each /proc file this kernel has is the null device (it reads
    empty, and a write goes nowhere), /sys/firmware an empty read-only directory."""
    proc_files = [p for p in MASKABLE_PROC_FILES if os.path.exists(p)]
    if not proc_files:
        pytest.skip("host: none of %s in this kernel: nothing to mask" % ", ".join(MASKABLE_PROC_FILES))
    masked = ct.cfg["linux"]["maskedPaths"]
    assert set(proc_files) <= set(masked) and "/sys/firmware" in masked, masked
    r, probes = ct.multi_probe(*[[cmd, p] for p in proc_files for cmd in ("cat", "stat")],
                               ["ls", "/sys/firmware"], ["statfs", "/sys/firmware"])
    assert r.rc == 0, r
    assert len(probes) == 2 * len(proc_files) + 2, r
    for p, cat, st in zip(proc_files, probes[0:-2:2], probes[1:-2:2]):
        assert cat.rc == 0 and cat.out == "", (p, cat)
        assert (st.facts.get("type"), st.facts.get("rdev")) == ("chr", "1:3"), (p, st)
    ls, fs_ = probes[-2:]
    assert ls.rc == 0 and ls.out == "", ls
    assert fs_.facts.get("fstype") != "0x62656572" and fs_.facts.get("readonly") == "1", fs_  # not sysfs


@pytest.mark.parametrize("extra, userns", [([], False), (["--no-pivot"], False), (["--no-pivot"], True)],
                         ids=["pivot_root", "no-pivot", "no-pivot-in-user-namespace"])
def test_nested_user_namespace_cannot_mount_a_fresh_procfs_or_sysfs(ct, extra, userns):
    """A process in the container makes a user namespace of its own and mounts a fresh
    procfs or sysfs: the kernel allows that only where one is already visible whole in
    the mount namespace. The container's own are masked; with --no-pivot the host's
    stay in the namespace below the moved root, and must be gone or covered too. The
    host keeps its own /proc and /sys (nothing propagates back)."""
    if userns:  # the host's mounts are locked there: covered, not detached
        ct.cfg["linux"]["namespaces"].append({"type": "user"})
        ct.cfg["linux"]["uidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
        ct.cfg["linux"]["gidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
    before = [(m["mountpoint"], m["fstype"]) for m in mountinfo()]
    r = ct.probe("nested-mount", "tmpfs", "proc", "sysfs", extra=extra)
    assert r.rc == 0, r
    if r.facts["unshare"] != "ok":
        pytest.skip("host: no nested user namespace in a container (unshare: %s)" % r.facts["unshare"])
    assert r.facts["tmpfs"] == "ok", r  # the control: mounting as such works there
    assert r.facts["proc"] == "EPERM", r
    assert r.facts["sysfs"] == "EPERM", r
    assert [(m["mountpoint"], m["fstype"]) for m in mountinfo()] == before
    assert os.path.ismount("/proc") and os.path.ismount("/sys")
    assert os.path.exists("/proc/self/status") and os.path.isdir("/sys/kernel")
