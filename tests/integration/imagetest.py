"""Helpers for the image tests: the `guise` CLI in a private store, trees compared by their
facts, and the store's listing before and after a failure.

The CLI under test is $GUISE (default <repo>/build/guise).  Every test that needs it is
marked @needs_guise and skips while it is not built."""

import hashlib
import json
import os
import shutil
import signal
import stat
import subprocess
import types

import pytest

import image_builder as ib

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
GUISE = os.environ.get("GUISE", os.path.join(REPO, "build", "guise"))
CMD_TIMEOUT = 120

needs_guise = pytest.mark.skipif(not (os.path.isfile(GUISE) and os.access(GUISE, os.X_OK)),
                                 reason="guise CLI not built (%s)" % GUISE)
needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="host: the image store tests run as root")


# --------------------------------------------------------------- the CLI


class Run:
    def __init__(self, argv, rc, out, err):
        self.argv, self.rc, self.out, self.err = argv, rc, out, err

    @property
    def err_lines(self):
        return [l for l in self.err.splitlines() if l.strip()]

    def __repr__(self):
        return "Run(argv=%r, rc=%r, out=%r, err=%r)" % (self.argv, self.rc, self.out[-3000:], self.err[-3000:])


class Guise:
    """`guise --root STORE ...` for one test, with its own registries config."""

    def __init__(self, root, registries_config=None):
        self.root = root
        self.env = dict(os.environ)
        self.env.pop("DOCKER_CONFIG", None)
        self.env.pop("REGISTRY_AUTH_FILE", None)
        if registries_config is not None:
            self.env["GUISE_REGISTRIES_CONFIG"] = registries_config
        self.mounted = []

    def argv(self, *args):
        return [GUISE, "--root", self.root] + [str(a) for a in args]

    def __call__(self, *args, input=None, timeout=CMD_TIMEOUT, env=None):
        argv = self.argv(*args)
        e = dict(self.env, **(env or {}))
        try:
            p = subprocess.run(argv, input=input, capture_output=True, text=True, timeout=timeout, env=e)
        except subprocess.TimeoutExpired as ex:
            raise AssertionError("%s timed out after %ss: %s" % (argv, timeout, ex.stderr))
        return Run(argv, p.returncode, p.stdout, p.stderr)

    def ok(self, *args, **kw):
        r = self(*args, **kw)
        assert r.rc == 0, r
        return r

    def popen(self, *args):
        return subprocess.Popen(self.argv(*args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                env=self.env, start_new_session=True)

    def inspect(self, image):
        return json.loads(self.ok("image", "inspect", image).out)[0]

    def mount(self, image):
        path = self.ok("image", "mount", image).out.strip().splitlines()[-1]
        self.mounted.append(image)
        assert os.path.isdir(path), path
        return path

    def unmount(self, image):
        r = self.ok("image", "unmount", image)
        if image in self.mounted:
            self.mounted.remove(image)
        return r

    def cleanup(self):
        for image in list(self.mounted):
            self("image", "unmount", image)
        for m in sorted(mounts_under(self.root), key=len, reverse=True):
            subprocess.run(["umount", "-l", m], check=False)


def mounts_under(path):
    path = os.path.realpath(path)
    out = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            mp = line.split()[4].replace("\\040", " ")
            if mp == path or mp.startswith(path + "/"):
                out.append(mp)
    return out


@pytest.fixture
def guise(tmp_path):
    """A Guise on a fresh store under the test's tmp dir; unmounts and removes it after."""
    root = str(tmp_path / "store")
    g = Guise(root)
    yield g
    g.cleanup()
    shutil.rmtree(root, ignore_errors=True)


def assert_one_line_error(r, *names):
    """Exit non-zero, and one line on stderr that names each of NAMES."""
    assert r.rc != 0, r
    lines = r.err_lines
    assert len(lines) == 1, r
    for n in names:
        assert n in lines[0], (n, r)


# --------------------------------------------------------------- the store's listing


def store_listing(root, ignore=("locks",)):
    """{relative path: (type, mode, size, sha256 of small files)} of everything under ROOT
    but the IGNORE top-level dirs.  Equal before and after: nothing added, removed or changed."""
    out = {}
    if not os.path.exists(root):
        return out
    for dirpath, dirnames, filenames in os.walk(root):
        rel_dir = os.path.relpath(dirpath, root)
        if rel_dir == ".":
            dirnames[:] = [d for d in dirnames if d not in ignore]
        for name in dirnames + filenames:
            p = os.path.join(dirpath, name)
            st = os.lstat(p)
            digest = None
            if stat.S_ISREG(st.st_mode) and st.st_size <= 1 << 20:
                with open(p, "rb") as f:
                    digest = hashlib.sha256(f.read()).hexdigest()
            out[os.path.relpath(p, root)] = (stat.S_IFMT(st.st_mode), stat.S_IMODE(st.st_mode),
                                             st.st_size if stat.S_ISREG(st.st_mode) else None, digest)
    return out


def diff_listings(before, after):
    added = sorted(set(after) - set(before))
    removed = sorted(set(before) - set(after))
    changed = sorted(p for p in set(before) & set(after) if before[p] != after[p]
                     and not (before[p][0] == stat.S_IFDIR and after[p][0] == stat.S_IFDIR))
    return {k: v for k, v in (("added", added), ("removed", removed), ("changed", changed)) if v}


def leftovers(root):
    """Paths in the store's scratch areas (tmp/, ingest/, leases/) that should be empty at rest."""
    out = []
    for sub in ("tmp", "ingest", "leases"):
        d = os.path.join(root, sub)
        if os.path.isdir(d):
            out += [os.path.join(sub, n) for n in os.listdir(d)]
    return out


# --------------------------------------------------------------- trees


XATTR_IGNORE_PREFIXES = ("trusted.overlay.", "security.selinux", "system.")


def xattrs_of(path):
    try:
        names = os.listxattr(path, follow_symlinks=False)
    except OSError:
        return {}
    out = {}
    for n in names:
        if n.startswith(XATTR_IGNORE_PREFIXES):
            continue
        try:
            out[n] = os.getxattr(path, n, follow_symlinks=False)
        except OSError:
            pass
    return out


_KINDS = {stat.S_IFREG: "file", stat.S_IFDIR: "dir", stat.S_IFLNK: "symlink", stat.S_IFIFO: "fifo",
          stat.S_IFCHR: "char", stat.S_IFBLK: "block", stat.S_IFSOCK: "socket"}


def tree_facts(root):
    """{relative path: facts} for every entry under ROOT, and hard-link groups (sets of
    paths sharing an inode).  Facts: kind, mode bits, uid, gid, size, content sha256 of
    files, link target, xattrs, rdev."""
    facts, inodes = {}, {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in sorted(dirnames + filenames):
            p = os.path.join(dirpath, name)
            rel = os.path.relpath(p, root)
            st = os.lstat(p)
            kind = _KINDS[stat.S_IFMT(st.st_mode)]
            f = {"kind": kind, "mode": oct(stat.S_IMODE(st.st_mode)), "uid": st.st_uid, "gid": st.st_gid,
                 "xattrs": xattrs_of(p)}
            if kind == "file":
                with open(p, "rb") as fh:
                    f["sha256"] = hashlib.sha256(fh.read()).hexdigest()
                if st.st_nlink > 1:
                    inodes.setdefault((st.st_dev, st.st_ino), []).append(rel)
            elif kind == "symlink":
                f["target"] = os.readlink(p)
                del f["mode"]  # always 0777 on Linux
            elif kind in ("char", "block"):
                f["rdev"] = (os.major(st.st_rdev), os.minor(st.st_rdev))
            facts[rel] = f
    groups = sorted(sorted(g) for g in inodes.values() if len(g) > 1)
    return facts, groups


def compare_trees(a, b):
    """Human-readable differences between two tree_facts results."""
    (fa, ga), (fb, gb) = a, b
    problems = []
    for p in sorted(set(fa) - set(fb)):
        problems.append("only in the first: " + p)
    for p in sorted(set(fb) - set(fa)):
        problems.append("only in the second: " + p)
    for p in sorted(set(fa) & set(fb)):
        if fa[p] != fb[p]:
            keys = sorted(k for k in set(fa[p]) | set(fb[p]) if fa[p].get(k) != fb[p].get(k))
            problems.append("%s differs in %s: %r vs %r" % (p, ",".join(keys), {k: fa[p].get(k) for k in keys},
                                                              {k: fb[p].get(k) for k in keys}))
    if ga != gb:
        problems.append("hard-link groups differ: %r vs %r" % (ga, gb))
    return problems


def check_expected(root, img):
    """What of IMG's Expect facts and absent paths the tree at ROOT does not show."""
    problems = []
    bb = ib.busybox_sha256()
    for rel, e in sorted(img.files.items()):
        p = os.path.join(root, rel)
        try:
            st = os.lstat(p)
        except FileNotFoundError:
            problems.append("missing: " + rel)
            continue
        kind = _KINDS[stat.S_IFMT(st.st_mode)]
        if kind != e.kind:
            problems.append("%s: a %s, not a %s" % (rel, kind, e.kind))
            continue
        if e.mode is not None and kind != "symlink" and stat.S_IMODE(st.st_mode) != e.mode:
            problems.append("%s: mode %o, not %o" % (rel, stat.S_IMODE(st.st_mode), e.mode))
        if e.uid is not None and (st.st_uid, st.st_gid) != (e.uid, e.gid):
            problems.append("%s: owner %d:%d, not %d:%d" % (rel, st.st_uid, st.st_gid, e.uid, e.gid))
        if kind == "file":
            with open(p, "rb") as f:
                data = f.read()
            if e.data is not None and data != e.data:
                problems.append("%s: content %r, not %r" % (rel, data[:40], e.data[:40]))
            if rel == "bin/busybox" and hashlib.sha256(data).hexdigest() != bb:
                problems.append("bin/busybox: not the host's busybox")
        if e.target is not None and os.readlink(p) != e.target:
            problems.append("%s: points at %r, not %r" % (rel, os.readlink(p), e.target))
        if e.rdev is not None and (os.major(st.st_rdev), os.minor(st.st_rdev)) != e.rdev:
            problems.append("%s: device %r, not %r" % (rel, (os.major(st.st_rdev), os.minor(st.st_rdev)), e.rdev))
        got_x = xattrs_of(p)
        for k, v in e.xattrs.items():
            if got_x.get(k) != v:
                problems.append("%s: xattr %s is %r, not %r" % (rel, k, got_x.get(k), v))
        if e.same_inode_as is not None:
            other = os.lstat(os.path.join(root, e.same_inode_as))
            if (other.st_dev, other.st_ino) != (st.st_dev, st.st_ino):
                problems.append("%s: not a hard link of %s" % (rel, e.same_inode_as))
    for rel in img.absent:
        if os.path.lexists(os.path.join(root, rel)):
            problems.append("present, should be hidden: " + rel)
    return problems


# --------------------------------------------------------------- misc


def kill_group(popen):
    if popen.poll() is None:
        try:
            os.killpg(popen.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    popen.wait()


class PrivateDocker:
    """A dockerd (and the containerd it needs) with its data root, exec root, sockets and
    pidfile under one temp dir, started by tests/engines/engines.py's helpers; `docker`
    reaches it through DOCKER_HOST, never the host's daemon."""

    def __init__(self, d):
        import sys
        sys.path.insert(0, os.path.join(REPO, "tests", "engines"))
        import engines
        self.dir, self.engines = d, engines
        self.containerd = self.dockerd = None
        runc = types.SimpleNamespace(path=shutil.which("runc") or "/usr/bin/runc")
        runtimes = {"guise": runc, "runc": runc}  # no containers run: both names reach runc
        try:
            self.containerd = engines.Containerd(os.path.join(d, "containerd"), runtimes)
            self.dockerd = engines.Dockerd(os.path.join(d, "docker"), runtimes, self.containerd,
                                           "guise-it-docker")
        except RuntimeError:
            self.stop()
            raise
        self.env = engines.base_env({"DOCKER_HOST": "unix://" + self.dockerd.sock,
                                     "DOCKER_CONFIG": self.dockerd.cli_config})

    def __call__(self, *args, timeout=CMD_TIMEOUT):
        argv = [self.engines.DOCKER] + [str(a) for a in args]
        p = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=self.env)
        return Run(argv, p.returncode, p.stdout, p.stderr)

    def ok(self, *args, **kw):
        r = self(*args, **kw)
        assert r.rc == 0, r
        return r

    def stop(self):
        for daemon in (self.dockerd, self.containerd):
            if daemon:
                daemon.stop()
        import support
        support.kill_pids(support.pids_mentioning(self.dir))  # shims, if any
        support.unmount_all_under(self.dir)
        shutil.rmtree(self.dir, ignore_errors=True)


def private_docker_missing():
    """None, or the skip reason when no private dockerd can run here."""
    for path in ("/usr/sbin/dockerd", "/usr/bin/containerd", "/usr/bin/docker"):
        if not os.access(path, os.X_OK):
            return "host: no %s (Debian packages docker.io, containerd)" % path
    return None


@pytest.fixture(scope="module")
def docker():
    """A PrivateDocker for the module; skips with the reason when dockerd cannot start."""
    why = private_docker_missing()
    if why:
        pytest.skip(why)
    import tempfile
    d = tempfile.mkdtemp(prefix="gdk-", dir="/tmp")  # unix socket paths stay short
    try:
        dk = PrivateDocker(d)
    except RuntimeError as e:
        shutil.rmtree(d, ignore_errors=True)
        pytest.skip("host: %s" % str(e).splitlines()[0])  # "dockerd did not start (rc N):"
    yield dk
    dk.stop()


class Podman:
    """podman with its own --root and --runroot (vfs: no mounts to leave behind)."""

    def __init__(self, d):
        self.root = os.path.join(d, "podman-root")
        # podman refuses a runroot path longer than 50 characters.
        import tempfile
        self.runroot = tempfile.mkdtemp(prefix="gpm-", dir="/tmp")

    def __call__(self, *args, timeout=CMD_TIMEOUT):
        argv = ["podman", "--root", self.root, "--runroot", self.runroot, "--storage-driver", "vfs",
                "--cgroup-manager", "cgroupfs", "--events-backend", "none"] + [str(a) for a in args]
        p = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
        return Run(argv, p.returncode, p.stdout, p.stderr)

    def ok(self, *args, **kw):
        r = self(*args, **kw)
        assert r.rc == 0, r
        return r

    def cleanup(self):
        self("system", "reset", "-f")
        for m in sorted(mounts_under(self.root) + mounts_under(self.runroot), key=len, reverse=True):
            subprocess.run(["umount", "-l", m], check=False)
        shutil.rmtree(self.root, ignore_errors=True)
        shutil.rmtree(self.runroot, ignore_errors=True)


@pytest.fixture
def podman(tmp_path):
    if not shutil.which("podman"):
        pytest.skip("host: no podman")
    p = Podman(str(tmp_path))
    yield p
    p.cleanup()
