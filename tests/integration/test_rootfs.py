"""The container's filesystem: mounts, devices, masked and read-only paths, pivot_root."""

import json
import os
import subprocess

import pytest

from conftest import IS_RUNC, runc_xfail, mounts_under, parse_mountinfo_text, split_multi, wait_for


def _writable_root(ct):
    ct.cfg["root"]["readonly"] = False


def _mount_at(mounts, dest):
    found = [m for m in mounts if m["mountpoint"] == dest]
    assert found, "no mount at %s in %s" % (dest, [m["mountpoint"] for m in mounts])
    return found[-1]


# ------------------------------------------------------------------ mounts


def test_mounts_applied_in_order(ct, host_tmp):
    with open(os.path.join(host_tmp, "hello"), "w") as f:
        f.write("from the host\n")
    ct.add_tmpfs("/mnt/a")
    ct.add_mount("/mnt/a/sub", "bind", host_tmp, ["rbind", "ro"])
    r, (cat, mounts) = ct.multi_probe(["cat", "/mnt/a/sub/hello"], ["mounts"])
    assert r.rc == 0, r
    assert cat.rc == 0 and cat.out == "from the host\n", cat
    points = [m["mountpoint"] for m in parse_mountinfo_text(mounts.out)]
    assert points.index("/mnt/a") < points.index("/mnt/a/sub")


def test_ro_bind_is_read_only(ct, host_tmp):
    ct.add_mount("/data", "bind", host_tmp, ["rbind", "ro"])
    r = ct.probe("write", "/data/x", "nope")
    assert r.rc == 1, r
    assert r.facts["errno"] == "EROFS"
    assert os.listdir(host_tmp) == []


def test_rw_bind_writes_reach_host(ct, host_tmp):
    ct.add_mount("/data", "bind", host_tmp, ["rbind", "rw"])
    r = ct.probe("write", "/data/x", "hello")
    assert r.rc == 0, r
    with open(os.path.join(host_tmp, "x")) as f:
        assert f.read() == "hello"


def test_bind_of_a_file(ct, host_tmp):
    src = os.path.join(host_tmp, "file.txt")
    with open(src, "w") as f:
        f.write("single file\n")
    ct.add_mount("/etc/single.txt", "bind", src, ["bind", "ro"])
    r = ct.probe("cat", "/etc/single.txt")
    assert r.rc == 0, r
    assert r.out == "single file\n"


def test_bind_with_filesystem_data_options_runs(ct, host_tmp):
    # As some generators write a bind: tmpfs-style data options the kernel ignores on
    # a bind mount. It runs, with the flags that are flags.
    with open(os.path.join(host_tmp, "hello"), "w") as f:
        f.write("bound\n")
    ct.add_mount("/data", "bind", host_tmp, ["nosuid", "strictatime", "mode=755", "size=65536k", "bind"])
    log = os.path.join(ct.dir, "debug.json")
    ct.multi_probe_args(["cat", "/data/hello"], ["mounts"])
    r = ct.run(global_args=("--debug", "--log", log, "--log-format", "json"))
    assert r.rc == 0, r
    probes = split_multi(r.out)
    assert probes[0].out == "bound\n", probes
    assert "nosuid" in _mount_at(parse_mountinfo_text(probes[1].out), "/data")["options"]
    if not IS_RUNC:  # guise names what it left out
        with open(log) as f:
            debug = [json.loads(l)["msg"] for l in f if l.strip()]
        assert any("mounts[" in m and "mode=755" in m and "size=65536k" in m for m in debug), debug


def test_bind_source_only_the_host_root_may_traverse(ct, host_tmp):
    # The source sits below a directory only the host's root may enter: the container's
    # user namespace cannot reach it, the runtime can, and the bind works (runc opens
    # every source before its init enters the user namespace).
    secret = os.path.join(host_tmp, "secret")
    data = os.path.join(secret, "data")
    os.makedirs(data)
    os.chmod(secret, 0o700)
    os.chmod(data, 0o755)
    with open(os.path.join(data, "hello"), "w") as f:
        f.write("behind a closed door\n")
    os.chmod(os.path.join(data, "hello"), 0o644)
    ct.cfg["linux"]["namespaces"].append({"type": "user"})
    ct.cfg["linux"]["uidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
    ct.cfg["linux"]["gidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
    # (/tmp: the image belongs to the host's root, and only there may the container's root make the mountpoint)
    ct.add_mount("/tmp/data", "bind", data, ["rbind", "ro"])
    r, probes = ct.multi_probe(["cat", "/tmp/data/hello"], ["write", "/tmp/data/x", "no"])
    assert r.rc == 0 and len(probes) == 2, r
    cat, write = probes
    assert r.rc == 0, r
    assert cat.out == "behind a closed door\n", cat
    assert write.facts.get("errno") == "EROFS", write
    assert os.listdir(data) == ["hello"]


def test_read_only_dev_still_gets_its_mountpoints(ct):
    # /dev read-only in the config: /dev/pts, /dev/shm, /dev/mqueue and the device
    # nodes are still made in it, and it is read-only once they are.
    for m in ct.cfg["mounts"]:
        if m["destination"] == "/dev":
            m["options"] = ["nosuid", "strictatime", "mode=755", "size=65536k", "ro"]
    r, (mounts, null, write) = ct.multi_probe(
        ["mounts"], ["write", "/dev/null", "x"], ["write", "/dev/new", "x"])
    assert r.rc == 0, r
    table = parse_mountinfo_text(mounts.out)
    assert "ro" in _mount_at(table, "/dev")["options"]
    assert _mount_at(table, "/dev/pts")["fstype"] == "devpts"
    assert _mount_at(table, "/dev/shm")["fstype"] == "tmpfs"
    assert null.rc == 0, null
    assert write.facts.get("errno") == "EROFS", write


def test_read_only_dev_still_gets_the_console(ct):
    for m in ct.cfg["mounts"]:
        if m["destination"] == "/dev":
            m["options"] = ["nosuid", "strictatime", "mode=755", "size=65536k", "ro"]
    ct.cfg["process"]["terminal"] = True
    cs = ct.console_socket()
    ct.multi_probe_args(["stat", "/dev/console"], ["write", "/dev/new", "x"])
    r = ct.create("--console-socket", cs.path)
    assert r.rc == 0, r
    assert ct.start().rc == 0
    ct.wait_status("stopped")
    out = cs.wait().decode(errors="replace").replace("\r\n", "\n")
    probes = split_multi(out)
    assert len(probes) == 2, out
    assert probes[0].facts.get("rdev", "").startswith("136:"), out  # the terminal
    assert probes[1].facts.get("errno") == "EROFS", out


def test_read_only_tmpfs_gets_the_mounts_below_it(ct, host_tmp):
    ct.add_tmpfs("/run", ["nosuid", "nodev", "mode=755", "ro"])
    ct.add_mount("/run/inner/data", "bind", host_tmp, ["rbind"])
    r, (mounts, write) = ct.multi_probe(["mounts"], ["write", "/run/x", "x"])
    assert r.rc == 0, r
    table = parse_mountinfo_text(mounts.out)
    assert "ro" in _mount_at(table, "/run")["options"]
    _mount_at(table, "/run/inner/data")
    assert write.facts.get("errno") == "EROFS", write


def test_mount_flags_visible(ct):
    ct.add_tmpfs("/mnt/flags", ["nosuid", "nodev", "noexec", "ro"])
    r = ct.probe("mounts")
    assert r.rc == 0, r
    m = _mount_at(parse_mountinfo_text(r.out), "/mnt/flags")
    assert {"nosuid", "nodev", "noexec", "ro"} <= set(m["options"]), m


def test_tmpfs_size_and_mode(ct):
    ct.add_tmpfs("/mnt/small", ["size=1m", "mode=0710"])
    r, (mounts, st, full) = ct.multi_probe(
        ["mounts"], ["stat", "/mnt/small"], ["write", "/mnt/small/big", "x" * 1024])
    assert r.rc == 0, r
    m = _mount_at(parse_mountinfo_text(mounts.out), "/mnt/small")
    assert m["fstype"] == "tmpfs"
    assert "size=1024k" in m["super"], m
    assert "mode=710" in m["super"], m
    assert st.facts["mode"] == "0710"
    assert full.rc == 0, full


def test_tmpfs_size_limits_writes(ct):
    ct.add_tmpfs("/mnt/small", ["size=64k"])
    # busybox dd writes until the filesystem is full.
    ct.set_args("/bin/sh", "-c", "dd if=/dev/zero of=/mnt/small/fill bs=4k count=64 2>&1;"
                " echo rc=$?")
    r = ct.run()
    assert r.rc == 0, r
    assert "rc=1" in r.out, r.out
    assert "space" in r.out.lower(), r.out


def test_mount_propagation_flags(ct):
    ct.add_tmpfs("/mnt/shared", ["shared"])
    ct.add_tmpfs("/mnt/private", ["private"])
    r = ct.probe("mounts")
    assert r.rc == 0, r
    mounts = parse_mountinfo_text(r.out)
    shared = _mount_at(mounts, "/mnt/shared")
    private = _mount_at(mounts, "/mnt/private")
    assert any(o.startswith("shared:") for o in shared["optional"]), shared
    assert private["optional"] == [], private


def test_rslave_bind_sees_host_mounts(ct, host_tmp):
    """A mount made on the host after start shows through an rslave bind."""
    src = os.path.join(host_tmp, "src")
    os.makedirs(os.path.join(src, "sub"))
    ctl = ct.tmpdir("ctl")
    subprocess.run(["mount", "--bind", src, src], check=True)
    try:
        subprocess.run(["mount", "--make-shared", src], check=True)
        ct.add_mount("/mnt/d", "bind", src, ["rbind", "rslave"])
        ct.add_mount("/ctl", "bind", ctl, ["rbind", "rw"])
        ct.set_args("/bin/sh", "-c",
                    "while [ ! -e /ctl/go ]; do usleep 20000; done; ls /mnt/d/sub")
        r = ct.create()
        assert r.rc == 0, r
        assert ct.start().rc == 0
        subprocess.run(["mount", "-t", "tmpfs", "tmpfs", os.path.join(src, "sub")], check=True)
        open(os.path.join(src, "sub", "late-file"), "w").close()
        open(os.path.join(ctl, "go"), "w").close()
        ct.wait_status("stopped")
        assert wait_for(lambda: "late-file" in r.out, 5), r.out
    finally:
        subprocess.run(["umount", "-R", src], check=False)


def test_container_mounts_do_not_reach_host(ct, host_tmp):
    ct.add_mount("/mnt/d", "bind", host_tmp, ["rbind", "rw"])
    ct.set_args("/bin/sh", "-c", "mkdir -p /mnt/d/sub && mount -t tmpfs tmpfs /mnt/d/sub "
                "&& echo mounted")
    ct.cfg["process"]["capabilities"]["bounding"].append("CAP_SYS_ADMIN")
    ct.cfg["process"]["capabilities"]["effective"].append("CAP_SYS_ADMIN")
    ct.cfg["process"]["capabilities"]["permitted"].append("CAP_SYS_ADMIN")
    r = ct.run()
    assert r.rc == 0 and "mounted" in r.out, r
    assert mounts_under(host_tmp) == []


@pytest.mark.parametrize("prop, tag", [
    ("private", None),
    pytest.param("shared", "shared:", marks=runc_xfail(
        "runc 1.1.5 does not re-apply rootfsPropagation to / after pivot_root")),
])
def test_rootfs_propagation(ct, prop, tag):
    ct.cfg["linux"]["rootfsPropagation"] = prop
    r = ct.probe("mounts")
    assert r.rc == 0, r
    root = _mount_at(parse_mountinfo_text(r.out), "/")
    if tag is None:
        assert root["optional"] == [], root
    else:
        assert any(o.startswith(tag) for o in root["optional"]), root


# ------------------------------------------------------------------ root


def test_readonly_root(ct):
    assert ct.cfg["root"]["readonly"] is True
    r, (root, tmp) = ct.multi_probe(["write", "/x", "no"], ["write", "/tmp/x", "no"])
    assert r.rc == 0, r
    assert root.rc == 1 and root.facts["errno"] == "EROFS", root
    assert tmp.rc == 1 and tmp.facts["errno"] == "EROFS", tmp
    m = _mount_at(parse_mountinfo_text(ct.probe("mounts").out), "/")
    assert "ro" in m["options"]


def test_writable_root(ct):
    _writable_root(ct)
    r = ct.probe("write", "/tmp/x", "yes")
    assert r.rc == 0, r
    with open(os.path.join(ct.rootfs, "tmp", "x")) as f:
        assert f.read() == "yes"


@pytest.mark.parametrize("extra", [[], ["--no-pivot"]], ids=["pivot_root", "no-pivot"])
def test_host_files_invisible(ct, extra):
    r, (ls, up, work, cfg_file) = ct.multi_probe(
        ["ls", "/"], ["ls", "/.."], ["stat", "/work"], ["stat", "/../config.json"],
        extra=extra)
    assert r.rc == 0, r
    assert ls.out == up.out  # / is its own parent
    names = set(ls.out.split())
    assert names <= set(os.listdir(ct.rootfs)) | {"dev", "proc", "sys"}, names
    assert work.rc == 1 and work.facts["errno"] == "ENOENT", work
    assert cfg_file.rc == 1 and cfg_file.facts["errno"] == "ENOENT", cfg_file


def test_host_mounts_invisible(ct):
    r = ct.probe("mounts")
    assert r.rc == 0, r
    points = [m["mountpoint"] for m in parse_mountinfo_text(r.out)]
    assert points[0] == "/", points
    for p in points:
        assert p == "/" or p.startswith(("/proc", "/dev", "/sys")), p


# ------------------------------------------------------------------ devices

DEFAULT_DEVICES = {
    "/dev/null": "1:3", "/dev/zero": "1:5", "/dev/full": "1:7",
    "/dev/random": "1:8", "/dev/urandom": "1:9", "/dev/tty": "5:0",
}


def test_default_devices(ct):
    paths = sorted(DEFAULT_DEVICES)
    r, probes = ct.multi_probe(*[["stat", p] for p in paths],
                               ["stat", "/dev/pts/ptmx"], ["stat", "/dev/ptmx"])
    assert r.rc == 0, r
    for path, p in zip(paths, probes):
        assert p.rc == 0, (path, p)
        assert p.facts["type"] == "chr", (path, p)
        assert p.facts["rdev"] == DEFAULT_DEVICES[path], (path, p)
        assert p.facts["mode"] == "0666", (path, p)
    pts_ptmx, ptmx = probes[-2], probes[-1]
    assert pts_ptmx.facts["type"] == "chr" and pts_ptmx.facts["rdev"] == "5:2", pts_ptmx
    if ptmx.facts["type"] == "link":
        assert ptmx.facts["target"] in ("pts/ptmx", "/dev/pts/ptmx"), ptmx
    else:
        assert ptmx.facts["type"] == "chr" and ptmx.facts["rdev"] == "5:2", ptmx


def test_default_devices_usable(ct):
    r, (null, zero, urandom) = ct.multi_probe(
        ["write", "/dev/null", "x"], ["open", "/dev/zero", "r"], ["open", "/dev/urandom", "r"])
    assert r.rc == 0, r
    assert null.rc == 0 and zero.rc == 0 and urandom.rc == 0, (null, zero, urandom)


def test_dev_symlinks(ct):
    links = {"/dev/fd": "/proc/self/fd", "/dev/stdin": "/proc/self/fd/0",
             "/dev/stdout": "/proc/self/fd/1", "/dev/stderr": "/proc/self/fd/2"}
    r, probes = ct.multi_probe(*[["stat", p] for p in sorted(links)])
    assert r.rc == 0, r
    for path, p in zip(sorted(links), probes):
        assert p.facts.get("type") == "link", (path, p)
        assert p.facts["target"] == links[path], (path, p)


def test_no_host_devices(ct):
    r = ct.probe("ls", "/dev")
    assert r.rc == 0, r
    names = set(r.out.split())
    for host_only in ("sda", "vda", "loop0", "fuse", "kmsg", "mem"):
        assert host_only not in names, names


def test_linux_devices_creates_node(ct):
    ct.cfg["linux"]["devices"] = [
        {"path": "/dev/mynull", "type": "c", "major": 1, "minor": 3, "fileMode": 0o640,
         "uid": 1000, "gid": 1001}]
    ct.cfg["linux"]["resources"]["devices"].append(
        {"allow": True, "type": "c", "major": 1, "minor": 3, "access": "rwm"})
    ct.cfg["process"]["user"] = {"uid": 1000, "gid": 1001}  # the owner may write
    r, (st, wr) = ct.multi_probe(["stat", "/dev/mynull"], ["write", "/dev/mynull", "x"])
    assert r.rc == 0, r
    f = st.facts
    assert (f["type"], f["rdev"], f["mode"], f["uid"], f["gid"]) == (
        "chr", "1:3", "0640", "1000", "1001"), st
    assert wr.rc == 0, wr


def test_device_cgroup_denies_unlisted_device(ct):
    # /dev/fuse (c 10:229) is not among the default allowed devices.
    ct.cfg["linux"]["devices"] = [
        {"path": "/dev/fuse", "type": "c", "major": 10, "minor": 229, "fileMode": 0o666}]
    r = ct.probe("open", "/dev/fuse", "rw")
    assert r.rc == 1, r
    assert r.facts["errno"] == "EPERM", r


def test_device_cgroup_allows_listed_device(ct):
    if not os.path.exists("/dev/fuse"):
        pytest.skip("host: no /dev/fuse (the fuse module is not loaded)")
    ct.cfg["linux"]["devices"] = [
        {"path": "/dev/fuse", "type": "c", "major": 10, "minor": 229, "fileMode": 0o666}]
    ct.cfg["linux"]["resources"]["devices"].append(
        {"allow": True, "type": "c", "major": 10, "minor": 229, "access": "rw"})
    r = ct.probe("open", "/dev/fuse", "rw")
    assert r.rc == 0, r


def test_mknod_without_cap_fails(ct):
    ct.add_tmpfs("/tmp")
    r = ct.probe("mknod-test", "/tmp/node")
    assert r.rc == 0, r
    assert r.facts["mknod"] == "EPERM", r


# ------------------------------------------------------------------ masked / readonly


def test_masked_paths(ct):
    with open(os.path.join(ct.rootfs, "secret"), "w") as f:
        f.write("top secret\n")
    os.makedirs(os.path.join(ct.rootfs, "secretdir"))
    with open(os.path.join(ct.rootfs, "secretdir", "inner"), "w") as f:
        f.write("inner secret\n")
    ct.cfg["linux"]["maskedPaths"] += ["/secret", "/secretdir"]
    # Host /proc files of the default list that this kernel has.
    proc_files = [p for p in ("/proc/kcore", "/proc/keys", "/proc/timer_list")
                  if os.path.exists(p)]
    r, probes = ct.multi_probe(
        ["cat", "/secret"], ["ls", "/secretdir"], ["cat", "/secretdir/inner"],
        *[["cat", p] for p in proc_files])
    assert r.rc == 0, r
    secret, secretdir, inner = probes[:3]
    assert secret.rc == 0 and secret.out == "", secret
    assert secretdir.rc == 0 and secretdir.out == "", secretdir
    assert inner.rc == 1 and inner.facts["errno"] == "ENOENT", inner
    for path, p in zip(proc_files, probes[3:]):
        assert p.rc == 0 and p.out == "", (path, p)


def test_masked_path_that_does_not_exist_is_ignored(ct):
    ct.cfg["linux"]["maskedPaths"].append("/no/such/path")
    r = ct.probe("echo", "fine")
    assert r.rc == 0, r
    assert not os.path.exists(os.path.join(ct.rootfs, "no"))


def test_readonly_paths(ct):
    _writable_root(ct)
    os.makedirs(os.path.join(ct.rootfs, "data"))
    ct.cfg["linux"]["readonlyPaths"].append("/data")
    r, (data, tmp, sysctl) = ct.multi_probe(
        ["write", "/data/x", "no"], ["write", "/tmp/y", "yes"],
        ["write", "/proc/sys/kernel/domainname", "no"])
    assert r.rc == 0, r
    assert data.rc == 1 and data.facts["errno"] == "EROFS", data
    assert tmp.rc == 0, tmp
    assert sysctl.rc == 1 and sysctl.facts["errno"] == "EROFS", sysctl


# ------------------------------------------------------------------ escapes


@pytest.mark.parametrize("style", ["absolute", "relative"])
def test_symlinked_mount_destination_stays_in_rootfs(ct, host_tmp, style):
    """rootfs/evil -> a host directory: a mount on /evil must land inside the rootfs."""
    target = host_tmp if style == "absolute" else "../" * 12 + host_tmp.lstrip("/")
    os.symlink(target, os.path.join(ct.rootfs, "evil"))
    ct.add_tmpfs("/evil")
    ct.probe_args("write", "/evil/pwned", "x")
    r = ct.create()
    if r.rc == 0:
        assert mounts_under(host_tmp) == [], "mounted on the host path"
        assert ct.start().rc == 0
        ct.wait_status("stopped")
    assert mounts_under(host_tmp) == []
    assert os.listdir(host_tmp) == [], "the container wrote to the host"


def test_symlinked_bind_source_is_host_path(ct, host_tmp):
    # Bind sources are host paths (resolved on the host), destinations are not.
    os.makedirs(os.path.join(host_tmp, "real"))
    with open(os.path.join(host_tmp, "real", "f"), "w") as f:
        f.write("via link\n")
    os.symlink(os.path.join(host_tmp, "real"), os.path.join(host_tmp, "link"))
    ct.add_mount("/mnt/x", "bind", os.path.join(host_tmp, "link"), ["rbind", "ro"])
    r = ct.probe("cat", "/mnt/x/f")
    assert r.rc == 0, r
    assert r.out == "via link\n"


def test_proc_and_sys_mounted(ct):
    r = ct.probe("mounts")
    assert r.rc == 0, r
    mounts = parse_mountinfo_text(r.out)
    assert _mount_at(mounts, "/proc")["fstype"] == "proc"
    sys_ = _mount_at(mounts, "/sys")
    assert sys_["fstype"] == "sysfs"
    assert "ro" in sys_["options"]
    assert _mount_at(mounts, "/dev/pts")["fstype"] == "devpts"
    assert _mount_at(mounts, "/dev/shm")["fstype"] == "tmpfs"
    assert _mount_at(mounts, "/dev/mqueue")["fstype"] == "mqueue"
