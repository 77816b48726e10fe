"""Fixtures for guise-oci integration tests.

The runtime under test is $GUISE_RUNTIME (default <repo>/build/guise-oci); the
same tests run against runc to prove them right:

    GUISE_RUNTIME=/usr/bin/runc /usr/bin/python3 -m pytest tests/integration -q

Every test gets a fresh bundle (a copy of a template built once per session by
examples/make-bundle.sh), a unique container id, and a `--root` state dir shared
by the session.  Teardown force-deletes every container the test made and
fails the test if anything is left: a state dir entry, a process, a mount under
the bundle, or a cgroup directory named after a container id.
"""

import copy
import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import uuid

import pytest

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
RUNTIME = os.environ.get("GUISE_RUNTIME", os.path.join(REPO, "build", "guise-oci"))
TESTBIN_SRC = os.path.join(REPO, "tests", "testbin", "testbin.c")
MAKE_BUNDLE = os.path.join(REPO, "examples", "make-bundle.sh")
TESTBIN = "/bin/guise-testbin"  # path inside the container
CGROUP_PARENT = "guise-it"      # relative: runtimes put it below their own cgroup
CGROUP_ROOT = "/sys/fs/cgroup"

CMD_TIMEOUT = 30


def _runtime_name():
    base = os.path.basename(RUNTIME)
    if "runc" in base:
        return "runc"
    if "crun" in base:
        return "crun"
    return base


RUNTIME_NAME = _runtime_name()
IS_RUNC = RUNTIME_NAME == "runc"


def runc_xfail(reason):
    """Marks a test as an expected failure for runc only, never for guise."""
    return pytest.mark.xfail(IS_RUNC, reason="runc: " + reason, strict=False)


def skip_unless(cond, reason):
    return pytest.mark.skipif(not cond, reason=reason)


# --------------------------------------------------------------- results


class Result:
    """What one runtime invocation produced."""

    def __init__(self, argv, rc, out_path, err_path):
        self.argv = argv
        self.rc = rc
        self.out_path = out_path
        self.err_path = err_path

    # The container may go on writing to the files after the runtime exits
    # (create, run -d), so they are re-read on each access.
    @property
    def out(self):
        with open(self.out_path, errors="replace") as f:
            return f.read()

    @property
    def err(self):
        with open(self.err_path, errors="replace") as f:
            return f.read()

    @property
    def lines(self):
        return self.out.splitlines()

    @property
    def facts(self):
        """testbin "KEY VALUE" lines as a dict (later keys win)."""
        return parse_facts(self.out)

    def __repr__(self):
        return "Result(argv=%r, rc=%r, out=%r, err=%r)" % (
            self.argv, self.rc, self.out[-2000:], self.err[-2000:])


MARK = "@@@testbin"


class Probe:
    """One testbin command's output inside a multi-probe run."""

    def __init__(self, rc, out):
        self.rc, self.out = rc, out

    @property
    def facts(self):
        return parse_facts(self.out)

    def __repr__(self):
        return "Probe(rc=%r, out=%r)" % (self.rc, self.out)


def split_multi(text):
    probes, cur = [], None
    for line in text.splitlines(keepends=True):
        if line.startswith(MARK + " rc "):
            probes.append(Probe(int(line.split()[-1]), "".join(cur or [])))
            cur = None
        elif line.startswith(MARK + " "):
            cur = []
        elif cur is not None:
            cur.append(line)
    return probes


def parse_facts(text):
    facts = {}
    for line in text.splitlines():
        key, _, value = line.partition(" ")
        facts[key] = value
    return facts


# --------------------------------------------------------------- host facts


def host_ns_inode(kind):
    return os.stat("/proc/self/ns/%s" % kind).st_ino


def proc_ns_inode(pid, kind):
    return os.stat("/proc/%d/ns/%s" % (pid, kind)).st_ino


def mountinfo(pid="self"):
    """Parsed /proc/PID/mountinfo: list of dicts."""
    out = []
    with open("/proc/%s/mountinfo" % pid) as f:
        for line in f:
            out.append(parse_mountinfo_line(line))
    return out


def unescape_mount_path(p):
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), p)


def parse_mountinfo_line(line):
    fields = line.split()
    sep = fields.index("-")
    return {
        "id": int(fields[0]),
        "parent": int(fields[1]),
        "root": unescape_mount_path(fields[3]),
        "mountpoint": unescape_mount_path(fields[4]),
        "options": fields[5].split(","),
        "optional": fields[6:sep],
        "fstype": fields[sep + 1],
        "source": fields[sep + 2],
        "super": fields[sep + 3].split(",") if len(fields) > sep + 3 else [],
    }


def parse_mountinfo_text(text):
    return [parse_mountinfo_line(l) for l in text.splitlines() if l.strip()]


def mounts_under(path):
    path = os.path.realpath(path)
    return [m["mountpoint"] for m in mountinfo()
            if m["mountpoint"] == path or m["mountpoint"].startswith(path + "/")]


def cgroup_dirs_named(name):
    """Every directory called NAME in any hierarchy under /sys/fs/cgroup."""
    found = []
    if not os.path.isdir(CGROUP_ROOT):
        return found
    for hier in sorted(os.listdir(CGROUP_ROOT)):
        top = os.path.join(CGROUP_ROOT, hier)
        if not os.path.isdir(top) or os.path.islink(top):
            continue
        for dirpath, dirnames, _ in os.walk(top):
            if name in dirnames:
                found.append(os.path.join(dirpath, name))
    return found


def processes_matching(bundle, cid):
    """pids that belong to container CID of BUNDLE.

    A process belongs if its root is inside the rootfs, its cgroup path names
    the id, or its command line names the id or the bundle (a runtime's own
    helper left behind, e.g. an init stuck before pivot_root).
    """
    bundle = os.path.realpath(bundle)
    rootfs = os.path.join(bundle, "rootfs")
    cid_re = re.compile(r"(^|[/\0 ])%s([/\0 ]|$)" % re.escape(cid), re.M)
    pids = []
    me = os.getpid()
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == me:
            continue
        pid = int(entry)
        try:
            with open("/proc/%d/stat" % pid) as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
            if state in ("Z", "X"):
                continue
            with open("/proc/%d/cgroup" % pid) as f:
                cg = f.read()
            with open("/proc/%d/cmdline" % pid) as f:
                cmdline = f.read()
            try:
                root = os.readlink("/proc/%d/root" % pid)
            except OSError:
                root = ""
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
        if (root == rootfs or root.startswith(rootfs + "/") or cid_re.search(cg)
                or cid_re.search(cmdline) or bundle in cmdline):
            pids.append(pid)
    return pids


def remove_cgroup(path):
    """rmdir a cgroup left by a test, after killing what is left in it (ours)."""
    for dirpath, dirnames, _ in os.walk(path, topdown=False):
        try:
            with open(os.path.join(dirpath, "cgroup.procs")) as f:
                pids = [int(p) for p in f.read().split()]
        except OSError:
            pids = []
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        wait_for(lambda: all(not pid_alive(p) for p in pids), 5)
        for _ in range(50):
            try:
                os.rmdir(dirpath)
                break
            except FileNotFoundError:
                break
            except OSError:
                time.sleep(0.02)


def pid_alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state not in ("Z", "X")


def proc_status(pid):
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            out[k] = v.strip()
    return out


def wait_for(pred, timeout=10.0, interval=0.02):
    end = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > end:
            return v
        time.sleep(interval)


CAP_NAMES = [
    "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID",
    "CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW",
    "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE",
    "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ",
    "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
]


def cap_mask(names):
    mask = 0
    for n in names:
        mask |= 1 << CAP_NAMES.index(n)
    return mask


# --------------------------------------------------------------- session


@pytest.fixture(scope="session")
def runtime():
    if not (os.path.isfile(RUNTIME) and os.access(RUNTIME, os.X_OK)):
        pytest.skip("runtime %s not built (set GUISE_RUNTIME)" % RUNTIME)
    if os.geteuid() != 0:
        pytest.skip("integration tests need root")
    return RUNTIME


@pytest.fixture(scope="session")
def session_dir():
    # Short and under /tmp: console sockets have a 108-byte path limit.
    d = tempfile.mkdtemp(prefix="guise-it-", dir="/tmp")
    os.chmod(d, 0o755)  # user-namespaced containers must reach their rootfs
    yield d
    leftover = mounts_under(d)
    for m in sorted(leftover, key=len, reverse=True):
        subprocess.run(["umount", "-l", m], check=False)
    shutil.rmtree(d, ignore_errors=True)
    # The parent cgroups the runtime made below its own cgroup, once empty.
    for path in cgroup_dirs_named(CGROUP_PARENT):
        try:
            os.rmdir(path)
        except OSError:
            pass  # another session's containers may still be in it


@pytest.fixture(scope="session")
def state_root(session_dir):
    d = os.path.join(session_dir, "state")
    os.mkdir(d, 0o700)
    return d


def _fresh(path, sources):
    return os.path.exists(path) and all(
        os.path.getmtime(path) >= os.path.getmtime(s) for s in sources)


@pytest.fixture(scope="session")
def testbin_host(session_dir):
    """The static test binary: $GUISE_TESTBIN, a fresh build/guise-testbin, or built here."""
    env = os.environ.get("GUISE_TESTBIN")
    if env:
        return env
    built = os.path.join(REPO, "build", "guise-testbin")
    if _fresh(built, [TESTBIN_SRC]):
        return built
    out = os.path.join(session_dir, "guise-testbin")
    r = subprocess.run(["gcc", "-static", "-O2", "-Wall", "-o", out, TESTBIN_SRC],
                       capture_output=True, text=True)
    if r.returncode != 0:
        pytest.fail("building testbin failed:\n" + r.stderr)
    return out


@pytest.fixture(scope="session")
def template_bundle(session_dir, testbin_host):
    d = os.path.join(session_dir, "template")
    r = subprocess.run(["sh", MAKE_BUNDLE, d, testbin_host], capture_output=True, text=True)
    if r.returncode != 0:
        pytest.fail("make-bundle.sh failed:\n" + r.stdout + r.stderr)
    with open(os.path.join(d, "config.json")) as f:
        cfg = json.load(f)
    return d, cfg


def _copy_rootfs(src, dst):
    # Binaries are hard-linked (read-only in every test); everything else is
    # copied so a test may change it freely.
    def copy(s, d):
        if os.path.basename(s) in ("busybox", "guise-testbin"):
            os.link(s, d)
        else:
            shutil.copy2(s, d)
    shutil.copytree(src, dst, symlinks=True, copy_function=copy)


def default_config(template_cfg):
    """runc's `spec` default, made fit for this machine and for probing."""
    cfg = copy.deepcopy(template_cfg)
    cfg["process"]["args"] = [TESTBIN, "pid"]
    return cfg


# --------------------------------------------------------------- per test


class ConsoleSocket:
    """Receives the pty master that the runtime sends to --console-socket."""

    def __init__(self, path):
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(path)
        self.sock.listen(1)
        self.sock.settimeout(CMD_TIMEOUT)
        self.master = None
        self.output = b""
        self.error = None
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self):
        try:
            conn, _ = self.sock.accept()
            with conn:
                conn.settimeout(CMD_TIMEOUT)
                msg, fds, _, _ = socket.recv_fds(conn, 4096, 4)
                if not fds:
                    raise RuntimeError("no fd received over the console socket")
                self.master = fds[0]
                for extra in fds[1:]:
                    os.close(extra)
            while True:
                try:
                    chunk = os.read(self.master, 4096)
                except OSError:  # EIO: every slave end is closed
                    break
                if not chunk:
                    break
                self.output += chunk
        except Exception as e:  # reported by wait()
            self.error = e
        finally:
            self._done.set()

    def wait(self, timeout=CMD_TIMEOUT):
        self._done.wait(timeout)
        if self.error:
            raise self.error
        return self.output

    def close(self):
        self.sock.close()
        if self.master is not None:
            try:
                os.close(self.master)
            except OSError:
                pass
            self.master = None
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass


class Pending:
    """A runtime invocation still running (`run` in the foreground)."""

    def __init__(self, argv, popen, out, err):
        self.argv, self.popen, self.out, self.err = argv, popen, out, err

    def wait(self, timeout=CMD_TIMEOUT):
        try:
            rc = self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError("%s timed out after %ss" % (self.argv, timeout))
        return Result(self.argv, rc, self.out, self.err)

    def kill(self):
        if self.popen.poll() is None:
            os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait()


class Container:
    """One test's bundle, config and container ids, and the runtime verbs."""

    def __init__(self, runtime, state_root, session_dir, template, name):
        self.runtime = runtime
        self.root = state_root
        self.session_dir = session_dir
        self.template_dir, template_cfg = template
        slug = re.sub(r"[^A-Za-z0-9]+", "-", name).strip("-")[:24]
        self.id = "%s-%s" % (slug, uuid.uuid4().hex[:8])
        self.dir = os.path.join(session_dir, "t", self.id)
        os.makedirs(self.dir)
        self.bundle = os.path.join(self.dir, "bundle")
        os.mkdir(self.bundle)
        _copy_rootfs(os.path.join(self.template_dir, "rootfs"),
                     os.path.join(self.bundle, "rootfs"))
        self.rootfs = os.path.join(self.bundle, "rootfs")
        self.cfg = default_config(template_cfg)
        self.ids = []          # every container id this test used
        self.pids = set()      # every container pid seen
        self.consoles = []
        self.pending = []      # runtime processes started without waiting
        self._calls = 0

    # -- config

    def tmpdir(self, name):
        """A host directory for this test (hooks, bind sources, logs)."""
        d = os.path.join(self.dir, name)
        os.makedirs(d, exist_ok=True)
        return d

    def write_config(self, cid=None, cfg=None, bundle=None):
        cid = cid or self.id
        cfg = copy.deepcopy(cfg if cfg is not None else self.cfg)
        linux = cfg.setdefault("linux", {})
        if "cgroupsPath" not in linux:
            linux["cgroupsPath"] = "%s/%s" % (CGROUP_PARENT, cid)
        with open(os.path.join(bundle or self.bundle, "config.json"), "w") as f:
            json.dump(cfg, f, indent=2)

    def set_args(self, *args):
        self.cfg["process"]["args"] = list(args)

    def probe_args(self, *args):
        self.set_args(TESTBIN, *args)

    def add_mount(self, dest, type_, source, options=None):
        m = {"destination": dest, "type": type_, "source": source}
        if options is not None:
            m["options"] = list(options)
        self.cfg.setdefault("mounts", []).append(m)

    def add_tmpfs(self, dest, options=("nosuid", "nodev", "mode=1777")):
        self.add_mount(dest, "tmpfs", "tmpfs", options)

    def namespaces(self):
        return [n["type"] for n in self.cfg["linux"].get("namespaces", [])]

    def set_namespaces(self, types, paths=None):
        paths = paths or {}
        self.cfg["linux"]["namespaces"] = [
            dict({"type": t}, **({"path": paths[t]} if t in paths else {})) for t in types]

    def new_id(self):
        return "%s-%d" % (self.id, len(self.ids) + 1)

    # -- runtime invocations

    def rt(self, *args, global_args=(), timeout=CMD_TIMEOUT, extra_fds=None, stdin=None,
           track=None):
        """Runs `RUNTIME --root ROOT GLOBAL... ARGS...`; stdio go to files.

        Files, not pipes: a created or detached container inherits the
        runtime's stdout, and would hold a pipe open past the runtime's exit.
        extra_fds {N: path} opens path read-only as fd N of the runtime (via a
        shell, so that the fds of this pytest process are left alone).
        """
        if track and track not in self.ids:
            self.ids.append(track)
        self._calls += 1
        out = os.path.join(self.dir, "call%03d.out" % self._calls)
        err = os.path.join(self.dir, "call%03d.err" % self._calls)
        argv = [self.runtime, "--root", self.root, *global_args, *args]
        cmd = argv
        if extra_fds:
            redirs = " ".join("%d<%s" % (n, shlex.quote(p)) for n, p in sorted(extra_fds.items()))
            cmd = ["/bin/sh", "-c", 'exec "$@" ' + redirs, "sh", *argv]
        with open(out, "wb") as fo, open(err, "wb") as fe:
            p = subprocess.Popen(cmd, stdin=stdin if stdin is not None else subprocess.DEVNULL,
                                 stdout=fo, stderr=fe, start_new_session=True)
            try:
                rc = p.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
                raise AssertionError("%s timed out after %ss" % (argv, timeout))
        return Result(argv, rc, out, err)

    def spawn(self, *args, track=None):
        """Starts `RUNTIME --root ROOT ARGS...` without waiting; see Pending."""
        if track and track not in self.ids:
            self.ids.append(track)
        self._calls += 1
        out = os.path.join(self.dir, "call%03d.out" % self._calls)
        err = os.path.join(self.dir, "call%03d.err" % self._calls)
        argv = [self.runtime, "--root", self.root, *args]
        with open(out, "wb") as fo, open(err, "wb") as fe:
            p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=fo, stderr=fe,
                                 start_new_session=True)
        pending = Pending(argv, p, out, err)
        self.pending.append(pending)
        return pending

    def run_async(self, *extra, cid=None):
        cid = cid or self.id
        self.write_config(cid)
        return self.spawn("run", "--bundle", self.bundle, *extra, cid, track=cid)

    def run(self, *extra, cid=None, bundle=None, write=True, **kw):
        """`run --bundle B [EXTRA] ID`, waiting for the container to exit."""
        cid = cid or self.id
        if write:
            self.write_config(cid, bundle=bundle)
        return self.rt("run", "--bundle", bundle or self.bundle, *extra, cid, track=cid, **kw)

    def probe(self, *args, extra=(), **kw):
        """Runs testbin ARGS in a fresh container; returns the Result."""
        self.probe_args(*args)
        return self.run(*extra, **kw)

    def multi_probe_args(self, *cmds):
        """Makes the container run several testbin commands; see split_multi()."""
        script = []
        for i, cmd in enumerate(cmds):
            q = " ".join(shlex.quote(a) for a in cmd)
            script.append('echo "%s %d"; %s %s; echo "%s rc $?"' % (MARK, i, TESTBIN, q, MARK))
        self.set_args("/bin/sh", "-c", "\n".join(script))

    def multi_probe(self, *cmds, extra=(), **kw):
        """Runs several testbin commands in one container; returns (run Result, [Probe])."""
        self.multi_probe_args(*cmds)
        r = self.run(*extra, **kw)
        return r, split_multi(r.out)

    def create(self, *extra, cid=None, bundle=None, write=True, **kw):
        cid = cid or self.id
        if write:
            self.write_config(cid, bundle=bundle)
        r = self.rt("create", "--bundle", bundle or self.bundle, *extra, cid, track=cid, **kw)
        if r.rc == 0:
            try:
                self.pids.add(self.state(cid)["pid"])
            except Exception:
                pass
        return r

    def start(self, cid=None):
        return self.rt("start", cid or self.id)

    def state_result(self, cid=None):
        return self.rt("state", cid or self.id)

    def state(self, cid=None):
        r = self.state_result(cid)
        assert r.rc == 0, r
        st = json.loads(r.out)
        if st.get("pid"):
            self.pids.add(st["pid"])
        return st

    def status(self, cid=None):
        return self.state(cid)["status"]

    def wait_status(self, want, cid=None, timeout=10):
        got = wait_for(lambda: self.status(cid) == want, timeout)
        assert got, "container %s never reached %r (now %r)" % (
            cid or self.id, want, self.status(cid))

    def kill(self, sig=None, cid=None, *extra):
        args = ["kill", *extra, cid or self.id]
        if sig is not None:
            args.append(str(sig))
        return self.rt(*args)

    def delete(self, cid=None, force=False):
        return self.rt("delete", *(["--force"] if force else []), cid or self.id)

    def console_socket(self):
        path = os.path.join(self.dir, "console.sock")
        cs = ConsoleSocket(path)
        self.consoles.append(cs)
        return cs

    # -- teardown

    def cleanup_and_check(self):
        problems = []
        for cs in self.consoles:
            cs.close()
        def force_delete(cid, report):
            try:
                r = self.rt("delete", "--force", cid, timeout=15)
            except AssertionError as e:  # a hung runtime
                problems.append(str(e))
                return
            if report and r.rc != 0 and "does not exist" not in r.err:
                problems.append("delete --force %s: rc %d: %s" % (cid, r.rc, r.err.strip()))

        # First pass: stop every container, so that foreground `run`s return.
        for cid in self.ids:
            force_delete(cid, report=False)
        for p in self.pending:
            try:
                p.popen.wait(timeout=5)
            except subprocess.TimeoutExpired:
                problems.append("runtime still running: %s" % p.argv)
                p.kill()
        for cid in self.ids:
            force_delete(cid, report=True)
        for cid in self.ids:
            if os.path.lexists(os.path.join(self.root, cid)):
                problems.append("state dir entry left: %s" % os.path.join(self.root, cid))
            left = wait_for(lambda: processes_matching(self.bundle, cid) == [], 5)
            if not left:
                pids = processes_matching(self.bundle, cid)
                problems.append("processes left for %s: %s" % (cid, pids))
                for pid in pids:  # ours: they run in this test's container
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                for pid in pids:
                    wait_for(lambda: not pid_alive(pid), 5)
        for pid in self.pids:
            if wait_for(lambda: not pid_alive(pid), 5) is False:
                # Reported, not killed: the pid may have been reused since;
                # processes_matching() above already killed what is ours.
                problems.append("container process %d still alive" % pid)
        mounts = mounts_under(self.dir)
        if mounts:
            problems.append("mounts left under the test dir: %s" % mounts)
            for m in sorted(mounts, key=len, reverse=True):
                subprocess.run(["umount", "-l", m], check=False)
        for cid in self.ids:
            dirs = cgroup_dirs_named(cid)
            if dirs:
                problems.append("cgroups left for %s: %s" % (cid, dirs))
                for d in sorted(dirs, key=len, reverse=True):
                    remove_cgroup(d)
        return problems


@pytest.fixture
def ct(request, runtime, state_root, session_dir, template_bundle):
    c = Container(runtime, state_root, session_dir, template_bundle, request.node.name)
    yield c
    problems = c.cleanup_and_check()
    if not problems:
        shutil.rmtree(c.dir, ignore_errors=True)
    else:
        pytest.fail("teardown found leftovers:\n  " + "\n  ".join(problems), pytrace=False)


@pytest.fixture
def host_tmp(ct):
    """A per-test host directory, for bind sources and marker files."""
    return ct.tmpdir("host")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A skip raised by a hostprobe helper is reported at the test that needed the
    feature (its node id), not at the helper, so `pytest -rs` says which test skipped."""
    outcome = yield
    rep = outcome.get_result()
    if rep.skipped and isinstance(rep.longrepr, tuple) and os.path.basename(str(rep.longrepr[0])) == "hostprobe.py":
        rep.longrepr = (item.nodeid, item.location[1] + 1, rep.longrepr[2])
