"""Rootless `guise`: the engine run by a throwaway unprivileged user with subordinate id
ranges, as podman runs by default.

Each module makes its users (useradd, with ranges added to /etc/subuid and /etc/subgid
past every range there), copies the engine's binaries where they can run them, and
at the end ends their guise-pause (`guise system migrate`), kills whatever of theirs is
left (by pid), and removes the users, their ranges and their files. Checked from inside
the containers (ids, maps, files, network) and from outside (file owners on the host,
published ports, processes and mounts left).

On this host cgroups are v1: a rootless container runs without limits, with a warning.
/dev/net/tun and /dev/fuse are often mode 600: the tests that need them make them usable
for their own duration and restore the mode after.
"""
import grp
import os
import pwd
import random
import re
import shutil
import socket
import stat
import subprocess
import tempfile
import time
import urllib.request
import uuid

import pytest

import hostprobe as host
import image_builder as ib
from engine_fixture import GUISE, busybox_rootfs_entries
from hostprobe import need
from registry_fixture import registry, seed, skopeo_inspect  # noqa: F401

CMD_TIMEOUT = 60
BINARIES = ("guise", "guise-full", "guise-monitor", "guise-init", "guise-procview")


def _ranges_end():
    """The first id past every range of /etc/subuid and /etc/subgid, rounded up."""
    end = 100000
    for path in ("/etc/subuid", "/etc/subgid"):
        try:
            lines = open(path).read().splitlines()
        except FileNotFoundError:
            continue
        for line in lines:
            parts = line.split(":")
            if len(parts) == 3 and parts[1].isdigit() and parts[2].isdigit():
                end = max(end, int(parts[1]) + int(parts[2]))
    return (end + 65535) // 65536 * 65536


def _drop_ranges(name):
    for path in ("/etc/subuid", "/etc/subgid"):
        if os.path.exists(path):
            subprocess.run(["sed", "-i", "/^%s:/d" % name, path], check=True)


class User:
    """A throwaway user, its home (its store and run dir below it) and guise bound to it."""

    def __init__(self, count):
        self.name = "guiserl" + uuid.uuid4().hex[:6]
        self.home = tempfile.mkdtemp(prefix="guise-rootless-", dir="/tmp")
        os.chmod(self.home, 0o755)
        subprocess.run(["useradd", "-M", "-d", self.home, "-s", "/bin/sh", self.name], check=True,
                       capture_output=True)
        pw = pwd.getpwnam(self.name)
        self.uid, self.gid = pw.pw_uid, pw.pw_gid
        # useradd may have given ranges of its own: the test's replace them.
        _drop_ranges(self.name)
        self.sub_start, self.sub_count = _ranges_end(), count
        last = self.sub_start + count - 1
        subprocess.run(["usermod", "--add-subuids", "%d-%d" % (self.sub_start, last),
                        "--add-subgids", "%d-%d" % (self.sub_start, last), self.name], check=True)
        self.bin = os.path.join(self.home, "bin")
        os.mkdir(self.bin)
        for b in BINARIES:
            src = os.path.join(os.path.dirname(GUISE), b)
            if os.path.exists(src):
                shutil.copy2(src, self.bin)
        self.run_dir = os.path.join(self.home, "run")
        os.mkdir(self.run_dir, 0o700)
        for d in (self.home, self.bin, self.run_dir):
            os.chown(d, self.uid, self.gid)
        for b in os.listdir(self.bin):
            os.chown(os.path.join(self.bin, b), self.uid, self.gid)
        self.store = os.path.join(self.home, ".local", "share", "guise")

    def env(self, extra=None):
        e = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "HOME": self.home, "XDG_RUNTIME_DIR": self.run_dir,
             "LANG": "C.UTF-8"}
        e.update(extra or {})
        return e

    def __call__(self, *args, check=None, env=None, input=None, timeout=CMD_TIMEOUT):
        argv = ["setpriv", "--reuid", str(self.uid), "--regid", str(self.gid), "--clear-groups", "--",
                os.path.join(self.bin, "guise")] + [str(a) for a in args]
        p = subprocess.run(argv, env=self.env(env), cwd=self.home, capture_output=True, text=True,
                           input=input, stdin=None if input is not None else subprocess.DEVNULL, timeout=timeout)
        if check is not None:
            assert p.returncode == check, "%s -> %d\nstdout: %s\nstderr: %s" % (
                " ".join(argv), p.returncode, p.stdout[-2000:], p.stderr[-2000:])
        return p

    def ok(self, *args, **kw):
        return self(*args, check=0, **kw)

    def pause_pid(self):
        try:
            return int(open(os.path.join(self.run_dir, "guise", "pause.pid")).read())
        except (FileNotFoundError, ValueError):
            return 0

    def processes(self):
        """Live processes of this user (zombies left to their reaper are not counted)."""
        out = []
        for d in os.listdir("/proc"):
            if not d.isdigit():
                continue
            try:
                st = os.stat("/proc/" + d)
                state = open("/proc/%s/stat" % d).read().rsplit(")", 1)[1].split()[0]
                comm = open("/proc/%s/comm" % d).read().strip()
            except (FileNotFoundError, ProcessLookupError, IndexError):
                continue
            if st.st_uid in (self.uid,) or self.sub_start <= st.st_uid < self.sub_start + self.sub_count:
                if state not in ("Z", "X"):
                    out.append((int(d), comm))
        return out

    def mounts_in_pause(self):
        pid = self.pause_pid()
        if not pid:
            return []
        try:
            lines = open("/proc/%d/mountinfo" % pid).read().splitlines()
        except FileNotFoundError:
            return []
        return [l.split()[4] for l in lines if l.split()[4].startswith(self.store)]

    def remove(self):
        if self.pause_pid():
            ids = self("ps", "-aq").stdout.split()
            if ids:
                self("rm", "-f", *ids, timeout=60)
            self("system", "migrate")
        for pid, _ in self.processes():  # this user's, all started by this test
            try:
                os.kill(pid, 9)
            except ProcessLookupError:
                pass
        wait(lambda: not self.processes(), 5)
        subprocess.run(["userdel", self.name], capture_output=True)
        _drop_ranges(self.name)
        shutil.rmtree(self.home, ignore_errors=True)


def wait(pred, timeout=10.0):
    end = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > end:
            return False
        time.sleep(0.05)
    return True


def rootfs_tar(path, extra=()):
    with open(path, "wb") as f:
        f.write(ib.layer_tar(busybox_rootfs_entries() + list(extra)))
    os.chmod(path, 0o644)


@pytest.fixture(scope="module")
def files():
    d = tempfile.mkdtemp(prefix="guise-rootless-images-", dir="/tmp")
    os.chmod(d, 0o755)
    rootfs_tar(os.path.join(d, "bb.tar"), [
        ib.D("srv/app", uid=65532, gid=65532),
        ib.F("srv/app/owned", "by 65532\n", uid=65532, gid=65532),
        ib.F("srv/root-file", "by root\n")])
    rootfs_tar(os.path.join(d, "big-owner.tar"), [ib.F("srv/far", "far\n", uid=70000, gid=70000)])
    layout = ib.whiteouts(os.path.join(d, "wh"))
    subprocess.run(["tar", "-C", layout.layout, "-cf", os.path.join(d, "wh.tar"), "."], check=True)
    os.chmod(os.path.join(d, "wh.tar"), 0o644)
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="module")
def user(files):
    need(host.unprivileged_userns())
    need(host.newuidmap())
    u = User(65536)
    try:
        u.ok("import", os.path.join(files, "bb.tar"), "bb")
        yield u
    finally:
        u.remove()
    assert not u.processes(), u.processes()
    assert u.name not in open("/etc/subuid").read()


@pytest.fixture
def device_open_to_all(request):
    """Makes a device node usable by every user for the test, as pasta/slirp4netns
    (/dev/net/tun) and fuse-overlayfs (/dev/fuse) need; its mode is restored after."""
    made = []

    def make(path):
        if not os.path.exists(path):
            pytest.skip("%s is missing on this host" % path)
        mode = stat.S_IMODE(os.stat(path).st_mode)
        made.append((path, mode))
        os.chmod(path, mode | 0o666)

    yield make
    for path, mode in made:
        os.chmod(path, mode)


def free_port():
    low = int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0])
    for _ in range(200):
        port = random.randrange(10000, low)
        s = socket.socket()
        try:
            s.bind(("127.0.0.1", port))
            return port
        except OSError:
            continue
        finally:
            s.close()
    raise RuntimeError("no free port")


def fetch(url, tries=50):
    for _ in range(tries):
        try:
            return urllib.request.urlopen(url, timeout=2).read().decode()
        except OSError:
            time.sleep(0.1)
    raise AssertionError("nothing answered at " + url)


def assert_nothing_left(u):
    assert u("ps", "-aq").stdout.strip() == ""
    assert u.mounts_in_pause() == [], u.mounts_in_pause()
    left = [(p, c) for p, c in u.processes() if c != "guise-pause"]
    assert wait(lambda: not [(p, c) for p, c in u.processes() if c != "guise-pause"], 5), left


# --------------------------------------------------------------- ids and files


def test_root_in_the_container_is_the_user_and_ids_come_from_subuid(user):
    r = user.ok("run", "--rm", "--network", "none", "bb", "sh", "-c", "id -u; cat /proc/self/uid_map")
    lines = r.stdout.split("\n")
    assert lines[0] == "0"
    maps = [l.split() for l in lines[1:] if l.strip()]
    assert maps[0] == ["0", str(user.uid), "1"], maps
    assert maps[1] == ["1", str(user.sub_start), str(user.sub_count)], maps
    # From outside: the store is the user's, in its home, and holds no root-owned file.
    assert os.stat(user.store).st_uid == user.uid
    assert user.pause_pid() and open("/proc/%d/comm" % user.pause_pid()).read().strip() == "guise-pause"
    assert_nothing_left(user)


def test_an_image_file_owned_by_65532_keeps_its_owner(user):
    r = user.ok("run", "--rm", "--network", "none", "bb", "sh", "-c",
                "stat -c %u:%g /srv/app/owned /srv/root-file; cat /srv/app/owned")
    assert r.stdout.split() == ["65532:65532", "0:0", "by", "65532"], r.stdout
    # On the host, the layer's file belongs to the user's range: 65532 is its 65532nd id.
    owners = {os.stat(os.path.join(root, f)).st_uid
              for root, _, names in os.walk(os.path.join(user.store, "snapshots")) for f in names if f == "owned"}
    assert owners == {user.sub_start + 65532 - 1}, owners


def test_an_owner_beyond_the_range_is_refused_naming_subuid(files):
    need(host.unprivileged_userns())
    need(host.newuidmap())
    small = User(1000)
    try:
        r = small("import", os.path.join(files, "big-owner.tar"), "far")
        assert r.returncode != 0
        assert "70000:70000" in r.stderr and "/etc/subuid" in r.stderr, r.stderr
        assert len(r.stderr.strip().splitlines()) == 1, r.stderr
        # Nothing of the import stays: no image, no half-unpacked layer, no temp file.
        assert small.ok("images", "-q").stdout.strip() == ""
        tmp = os.path.join(small.store, "tmp")
        assert not os.path.isdir(tmp) or os.listdir(tmp) == []
        assert not os.listdir(os.path.join(small.store, "snapshots", "chains")) if os.path.isdir(
            os.path.join(small.store, "snapshots", "chains")) else True
    finally:
        small.remove()


def test_whiteouts_and_opaque_directories_hide_lower_files(user, files):
    before = set(user.ok("images", "-q").stdout.split())
    user.ok("load", "-i", os.path.join(files, "wh.tar"))
    ref = (set(user.ok("images", "-q").stdout.split()) - before).pop()
    r = user.ok("run", "--rm", "--network", "none", ref, "sh", "-c", "ls /keep; echo --; ls /opq; cat /opq/kept-by-upper")
    keep, opq = r.stdout.split("--\n")
    assert keep.split() == ["a", "new"], r.stdout
    assert opq.split() == ["fresh", "kept-by-upper", "upper"], r.stdout
    user.ok("rmi", "-f", ref)


def test_fuse_overlayfs_stands_in_when_asked(user, device_open_to_all):
    need(host.program("fuse-overlayfs", "rootless overlay without the kernel's"))
    device_open_to_all("/dev/fuse")
    r = user.ok("run", "--rm", "--network", "none", "bb", "sh", "-c",
                "grep ' / ' /proc/mounts | cut -d' ' -f3; echo new > /srv/app/owned; cat /srv/app/owned",
                env={"GUISE_OVERLAY": "fuse-overlayfs"})
    assert r.stdout.split() == ["fuse.fuse-overlayfs", "new"], r.stdout
    assert_nothing_left(user)


# --------------------------------------------------------------- lifecycle


def test_detached_exec_logs_stop_and_rm_share_one_namespace(user):
    user.ok("run", "-d", "--name", "long", "--network", "none", "bb", "sh", "-c", "echo started; sleep 300")
    try:
        pause = user.pause_pid()
        r = user.ok("exec", "long", "sh", "-c", "cat /proc/1/cmdline | tr '\\0' ' '; id -u")
        assert r.stdout.split() == ["sleep", "300", "0"], r.stdout
        assert wait(lambda: "started" in user("logs", "long").stdout)
        # The container's overlay lives in guise-pause's mount namespace, not the host's.
        assert any(m.startswith(os.path.join(user.store, "rootfs")) for m in user.mounts_in_pause())
        assert not [l for l in open("/proc/self/mountinfo") if user.store in l]
        # Every command joined the same guise-pause.
        assert user.pause_pid() == pause
        # system migrate refuses while a container runs: the overlay would be lost to it.
        r = user("system", "migrate")
        assert r.returncode != 0 and "long" in r.stderr and "running" in r.stderr, r.stderr
        user.ok("stop", "-t", "1", "long")
        assert user.ok("inspect", "--format", "{{.State.Status}}", "long").stdout.strip() == "exited"
    finally:
        user("rm", "-f", "long")
    assert_nothing_left(user)


def test_limits_without_a_delegated_cgroup_warn_and_the_container_still_runs(user):
    if os.path.exists("/sys/fs/cgroup/cgroup.controllers"):
        pytest.skip("a cgroup v2 host: whether a subtree is delegated depends on it (the VM test checks it)")
    r = user("run", "--rm", "--network", "none", "--memory", "64m", "--pids-limit", "50", "bb", "echo", "ran")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "ran\n"
    warning = [l for l in r.stderr.splitlines() if l.startswith("WARNING: rootless")]
    assert warning and "memory, pids" in warning[0] and "cgroup v2" in warning[0], r.stderr


# --------------------------------------------------------------- networking


def test_without_a_usable_tun_the_default_network_is_refused_naming_the_device(user):
    if os.access("/dev/net/tun", os.W_OK, effective_ids=False) and stat.S_IMODE(os.stat("/dev/net/tun").st_mode) & 0o006:
        pytest.skip("/dev/net/tun is open to every user on this host")
    r = user("run", "--rm", "bb", "true")
    assert r.returncode == 125
    assert "/dev/net/tun" in r.stderr and "chmod 0666 /dev/net/tun" in r.stderr and "--network none" in r.stderr
    assert user.ok("ps", "-aq").stdout.strip() == ""


def test_doctor_names_what_is_missing_with_its_fix(user):
    r = user("doctor")
    assert r.returncode == 0, r.stdout  # nothing required is missing for this user
    lines = r.stdout.splitlines()
    sub = [l for l in lines if "subordinate uids" in l][0]
    assert sub.split()[0] == "ok" and "%d-%d" % (user.sub_start, user.sub_start + 65535) in sub
    tun = [i for i, l in enumerate(lines) if "/dev/net/tun" in l and not l.strip().startswith("fix")][0]
    if stat.S_IMODE(os.stat("/dev/net/tun").st_mode) & 0o006 == 0:
        assert lines[tun].split()[0] == "missing" and lines[tun + 1].strip() == "fix: sudo chmod 0666 /dev/net/tun"
    info = user.ok("info").stdout
    assert "Rootless: true" in info and "Docker Root Dir: " + user.store in info


def test_doctor_says_when_the_user_has_no_range(files):
    need(host.unprivileged_userns())
    u = User(65536)
    try:
        _drop_ranges(u.name)
        r = u("doctor")
        assert r.returncode == 1
        assert "MISSING  subordinate uids" in r.stdout
        assert "fix: sudo usermod --add-subuids 100000-165535 --add-subgids 100000-165535 " + u.name in r.stdout
        r = u("run", "--rm", "--network", "none", "bb", "true")
        assert r.returncode == 125 and "/etc/subuid" in r.stderr and u.name in r.stderr, r.stderr
        assert u.pause_pid() == 0
    finally:
        u.remove()


@pytest.mark.parametrize("network", ["pasta", "slirp4netns"])
def test_user_mode_network_publishes_a_port(user, device_open_to_all, network):
    need(host.program(network, "rootless networking"))
    device_open_to_all("/dev/net/tun")
    port = free_port()
    args = [] if network == "pasta" else ["--network", network]
    if network == "pasta" and shutil.which("pasta") != "/usr/bin/pasta":
        pytest.skip("pasta is not the default here")
    user.ok("run", "-d", "--name", "web", *args, "-p", "127.0.0.1:%d:80" % port, "bb", "sh", "-c",
            "echo hello-%s > /tmp/i; httpd -f -p 80 -h /tmp" % network)
    try:
        assert fetch("http://127.0.0.1:%d/i" % port) == "hello-%s\n" % network
        inside = user.ok("exec", "web", "ip", "-4", "route").stdout
        assert inside.startswith("default via"), inside
        helper = [c for _, c in user.processes() if c.startswith(("pasta", "passt", "slirp4netns"))]
        assert helper, user.processes()
        # Stopped and started again: the port is published anew.
        user.ok("stop", "-t", "1", "web")
        user.ok("start", "web")
        assert fetch("http://127.0.0.1:%d/i" % port) == "hello-%s\n" % network
    finally:
        user("rm", "-f", "web")
    # The helper ended with the container, and the port is free again.
    assert wait(lambda: not [c for _, c in user.processes() if c.startswith(("pasta", "passt", "slirp4netns"))], 5)
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", port))
    s.close()
    assert not os.listdir(os.path.join(user.store, "user-netns"))
    assert_nothing_left(user)


def test_user_defined_networks_are_refused(user):
    r = user("run", "--rm", "--network", "mynet", "bb", "true")
    assert r.returncode == 125
    assert "--network mynet" in r.stderr and "need root" in r.stderr, r.stderr
    assert user.ok("ps", "-aq").stdout.strip() == ""


def test_migrate_ends_the_pause_process(user):
    pid = user.pause_pid()
    assert pid
    user.ok("system", "migrate")
    assert wait(lambda: not os.path.exists("/proc/%d" % pid) or
                open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()[0] in "ZX", 3)
    # The next command starts a new one, and the store is as it was.
    assert "bb" in user.ok("images").stdout
    user.ok("run", "--rm", "--network", "none", "bb", "true")
    assert user.pause_pid() not in (0, pid)


def test_the_containers_root_cannot_touch_what_the_user_cannot(user):
    """An attack: root in a rootless container, given the host's root-owned files by a bind
    mount, tries to read a 0600 secret, write into a root-owned directory, and chown its
    way in. Each fails: its root is the user."""
    d = tempfile.mkdtemp(prefix="guise-rootless-attack-", dir="/tmp")
    try:
        os.chmod(d, 0o755)
        secret = os.path.join(d, "secret")
        with open(secret, "w") as f:
            f.write("host root only\n")
        os.chmod(secret, 0o600)
        r = user("run", "--rm", "--network", "none", "-v", d + ":/host", "bb", "sh", "-c",
                 "cat /host/secret; echo cat=$?; touch /host/new; echo touch=$?; "
                 "chown 0:0 /host/secret; echo chown=$?; chmod 666 /host/secret; echo chmod=$?")
        assert r.returncode == 0, r.stderr
        for step in ("cat", "touch", "chown", "chmod"):
            assert re.search(r"^%s=[1-9]" % step, r.stdout, re.M), r.stdout
        assert "host root only" not in r.stdout
        # The host after: the secret as it was, nothing new in the directory.
        st = os.stat(secret)
        assert (st.st_uid, stat.S_IMODE(st.st_mode)) == (0, 0o600)
        assert os.listdir(d) == ["secret"]
    finally:
        shutil.rmtree(d, ignore_errors=True)


def test_pull_and_push_through_a_registry_on_loopback(user, registry, tmp_path):
    """guise-full (pull, push) runs in the user's namespaces too; the registry is the host's."""
    ref = seed(registry, ib.multi_layer(str(tmp_path / "multi"), 3), "rl/multi:latest")
    user.ok("pull", "-q", ref)
    r = user.ok("run", "--rm", "--network", "none", ref, "cat", "/data/top")
    assert r.stdout == "from layer 2\n"
    pushed = registry.host + "/rl/pushed:1"
    user.ok("tag", ref, pushed)
    user.ok("push", "-q", pushed)
    assert skopeo_inspect(registry, pushed).returncode == 0
    user.ok("rmi", ref, pushed)


def test_commit_keeps_a_directory_made_anew_opaque(user):
    """A directory removed and made again is opaque in the upper layer (user.overlay.opaque
    when rootless); commit must carry that, or the lower files come back in the image."""
    user.ok("run", "--name", "remade", "--network", "none", "bb", "sh", "-c",
            "rm -rf /srv/app && mkdir /srv/app && echo new > /srv/app/fresh")
    try:
        user.ok("commit", "remade", "remade:1")
        r = user.ok("run", "--rm", "--network", "none", "remade:1", "ls", "/srv/app")
        assert r.stdout.split() == ["fresh"], r.stdout
    finally:
        user("rm", "-f", "remade")
        user("rmi", "remade:1")


def test_the_hosts_network_and_pids_are_bound_in_not_mounted(user):
    """proc and sysfs of the host's namespaces are not the user's to mount: with --network
    host and --pid host they are the host's, bound in; --ipc host goes without mqueue."""
    host_links = len(os.listdir("/sys/class/net"))
    r = user.ok("run", "--rm", "--network", "host", "--pid", "host", "--ipc", "host", "bb", "sh", "-c",
                "ls /sys/class/net | wc -l; cat /proc/1/comm; readlink /proc/self/ns/ipc")
    links, init, ipc = r.stdout.split()
    assert int(links) == host_links
    assert init == open("/proc/1/comm").read().strip()
    assert ipc == os.readlink("/proc/self/ns/ipc")
    # What needs a cgroup says so, in one line, when none is delegated.
    if not os.path.exists("/sys/fs/cgroup/cgroup.controllers"):
        user.ok("run", "-d", "--name", "nocg", "--network", "none", "bb", "sleep", "60")
        try:
            r = user("stats", "--no-stream", "nocg")
            assert r.returncode != 0 and "no cgroup is delegated" in r.stderr, r.stderr
        finally:
            user("rm", "-f", "nocg")


def test_a_rootless_pod_shares_localhost_and_publishes_its_port(user, device_open_to_all):
    need(host.program("pasta", "rootless networking"))
    device_open_to_all("/dev/net/tun")
    port = free_port()
    user.ok("pod", "create", "--name", "rlpod", "-p", "127.0.0.1:%d:80" % port)
    try:
        user.ok("run", "-d", "--pod", "rlpod", "--name", "rlweb", "bb", "sh", "-c",
                "echo from-the-pod > /tmp/i; httpd -f -p 80 -h /tmp")
        r = user.ok("run", "--rm", "--pod", "rlpod", "bb", "sh", "-c",
                    "hostname; for i in 1 2 3 4 5 6 7 8 9 10; do wget -qO- http://127.0.0.1/i && break; sleep 0.2; done")
        assert r.stdout.split() == ["rlpod", "from-the-pod"], r.stdout
        assert fetch("http://127.0.0.1:%d/i" % port) == "from-the-pod\n"
    finally:
        user("pod", "rm", "-f", "rlpod")
    assert user.ok("pod", "ps", "-q").stdout.strip() == ""
    assert wait(lambda: not [c for _, c in user.processes() if c.startswith(("pasta", "passt"))], 5)
    assert_nothing_left(user)
