"""guise attach, cp, port, update, volume, commit and export, each against docker's
documented behaviour; cp's symlink attacks checked against the host's files."""
import hashlib
import io
import json
import os
import shutil
import subprocess
import tarfile
import tempfile

import pytest

from engine_fixture import remove_network_state

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
GUISE = os.path.join(REPO, "build", "guise")
BUSYBOX = shutil.which("busybox") or "/bin/busybox"

pytestmark = pytest.mark.skipif(os.geteuid() != 0 or not os.path.exists(GUISE), reason="needs root and build/guise")


def sha(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


class G:
    def __init__(self, root):
        self.root = root

    def __call__(self, *args, input=None, check=True, text=True):
        p = subprocess.run([GUISE, "--root", self.root, *args], input=input, capture_output=True, text=text, timeout=60)
        if check and p.returncode != 0:
            raise AssertionError("guise %s: %s %s" % (" ".join(args), p.returncode, p.stderr))
        return p


@pytest.fixture
def g():
    tmp = tempfile.mkdtemp(prefix="guise-ecmds-")
    root = os.path.join(tmp, "store")
    r = os.path.join(tmp, "r")
    os.makedirs(os.path.join(r, "bin"))
    os.makedirs(os.path.join(r, "etc"))
    os.makedirs(os.path.join(r, "data/sub"))
    shutil.copy(BUSYBOX, os.path.join(r, "bin", "busybox"))
    for c in ["sh", "echo", "cat", "ls", "id", "sleep", "rm", "true"]:
        os.symlink("busybox", os.path.join(r, "bin", c))
    with open(os.path.join(r, "etc/passwd"), "w") as f:
        f.write("root:x:0:0:root:/root:/bin/sh\n")
    with open(os.path.join(r, "data/keep"), "w") as f:
        f.write("keep\n")
    with open(os.path.join(r, "data/gone"), "w") as f:
        f.write("gone\n")
    os.symlink("/etc/passwd", os.path.join(r, "evil"))
    os.symlink("../../../../etc/hosts", os.path.join(r, "data/evil2"))
    os.symlink("/etc", os.path.join(r, "evildir"))
    with tarfile.open(os.path.join(tmp, "rootfs.tar"), "w") as t:
        t.add(r, arcname=".")
    gg = G(root)
    gg.tmp = tmp
    gg("import", os.path.join(tmp, "rootfs.tar"), "bb:1")
    yield gg
    ids = gg("ps", "-aq", check=False).stdout.split()
    if ids:
        gg("rm", "-f", *ids, check=False)
    with open("/proc/self/mountinfo") as f:
        left = [l for l in f if root in l]
    remove_network_state(root)
    shutil.rmtree(tmp, ignore_errors=True)
    assert not left, left


HOST_FILES = ["/etc/passwd", "/etc/hosts"]


def host_hashes():
    return {p: sha(p) for p in HOST_FILES if os.path.exists(p)}


def test_cp_out_of_container(g):
    g("run", "-d", "--name", "c1", "bb:1", "sleep", "100")
    out = os.path.join(g.tmp, "out")
    g("cp", "c1:/data/keep", out)
    assert open(out).read() == "keep\n"
    # A directory into a new name, then into an existing directory.
    g("cp", "c1:/data", os.path.join(g.tmp, "d1"))
    assert sorted(os.listdir(os.path.join(g.tmp, "d1"))) == ["evil2", "gone", "keep", "sub"]
    os.makedirs(os.path.join(g.tmp, "d2"))
    g("cp", "c1:/data", os.path.join(g.tmp, "d2"))
    assert os.path.exists(os.path.join(g.tmp, "d2/data/keep"))
    p = g("cp", "c1:/nope", out, check=False)
    assert p.returncode == 1 and "Could not find the file /nope in container c1" in p.stderr
    # "-": a tar on stdout with the base name on top.
    p = g("cp", "c1:/data", "-", text=False)
    names = tarfile.open(fileobj=io.BytesIO(p.stdout)).getnames()
    assert "data/keep" in names


def test_cp_symlink_attacks_stay_inside(g):
    g("run", "-d", "--name", "c1", "bb:1", "sleep", "100")
    before = host_hashes()
    # Without -L the link itself is copied (docker's behaviour): never the host file.
    out = os.path.join(g.tmp, "o1")
    g("cp", "c1:/evil", out)
    assert os.path.islink(out) and os.readlink(out) == "/etc/passwd"
    # With -L the link is followed inside the container: its /etc/passwd, not the host's.
    out = os.path.join(g.tmp, "o2")
    g("cp", "-L", "c1:/evil", out)
    assert open(out).read() == "root:x:0:0:root:/root:/bin/sh\n"
    # ../../../../etc/hosts climbs no higher than the container's root.
    out = os.path.join(g.tmp, "o3")
    g("cp", "-L", "c1:/data/evil2", out, check=False)
    assert not os.path.exists(out) or os.path.islink(out) or open(out).read() != open("/etc/hosts").read()
    # Through a directory symlink: /evildir -> /etc is the container's /etc.
    out = os.path.join(g.tmp, "o4")
    g("cp", "c1:/evildir/passwd", out)
    assert open(out).read() == "root:x:0:0:root:/root:/bin/sh\n"
    # Writing through the links lands inside the container.
    src = os.path.join(g.tmp, "in")
    with open(src, "w") as f:
        f.write("pwned\n")
    g("cp", src, "c1:/evil")
    g("cp", src, "c1:/data/evil2")
    g("cp", src, "c1:/evildir/newfile")
    assert host_hashes() == before
    assert not os.path.exists("/etc/newfile")
    assert g("exec", "c1", "cat", "/etc/passwd").stdout == "pwned\n"
    assert g("exec", "c1", "cat", "/etc/newfile").stdout == "pwned\n"


def test_cp_into_stopped_container_and_tar_stdin(g):
    g("create", "--name", "c1", "bb:1", "cat", "/new/f")
    src = os.path.join(g.tmp, "new")
    os.makedirs(src)
    with open(os.path.join(src, "f"), "w") as f:
        f.write("hello\n")
    g("cp", src, "c1:/")
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as t:
        info = tarfile.TarInfo("t.txt")
        info.size = 3
        t.addfile(info, io.BytesIO(b"abc"))
    g("cp", "-", "c1:/data", input=buf.getvalue(), text=False)
    p = g("start", "-a", "c1", check=False)
    out = g("export", "c1", text=False).stdout
    names = tarfile.open(fileobj=io.BytesIO(out)).getnames()
    assert "new/f" in names and "data/t.txt" in names


def test_port(g):
    # docker port: what a running container publishes; a created one publishes nothing yet.
    g("create", "--name", "c0", "-p", "18931:80", "bb:1", "true")
    assert g("port", "c0").stdout == ""
    g("run", "-d", "--name", "c1", "-p", "18932:80", "-p", "127.0.0.1:18933:53/udp", "bb:1", "sleep", "100")
    out = g("port", "c1").stdout.splitlines()
    assert "80/tcp -> 0.0.0.0:18932" in out and "53/udp -> 127.0.0.1:18933" in out
    assert g("port", "c1", "80").stdout.strip() == "0.0.0.0:18932"
    p = g("port", "c1", "81", check=False)
    assert p.returncode == 1 and "No public port '81/tcp' published for c1" in p.stderr


def test_update(g):
    g("run", "-d", "--name", "c1", "--memory", "64m", "bb:1", "sleep", "100")
    g("update", "--memory", "96m", "--memory-swap", "200m", "--pids-limit", "50", "--cpus", "0.5", "--restart", "on-failure:3", "c1")
    h = json.loads(g("inspect", "c1").stdout)[0]["HostConfig"]
    assert h["Memory"] == 96 << 20 and h["PidsLimit"] == 50 and h["NanoCpus"] == 500000000
    assert h["RestartPolicy"] == {"Name": "on-failure", "MaximumRetryCount": 3}
    pid = json.loads(g("inspect", "c1").stdout)[0]["State"]["Pid"]
    cg = open("/proc/%d/cgroup" % pid).read().strip().split("::")[-1]
    base = "/sys/fs/cgroup" + cg
    if os.path.exists(base + "/memory.max"):
        assert open(base + "/memory.max").read().strip() == str(96 << 20)
        assert open(base + "/pids.max").read().strip() == "50"
    mc = json.load(open(os.path.join(g.root, "containers", json.loads(g("inspect", "c1").stdout)[0]["Id"], "monitor.json")))
    assert mc["restart_policy"] == "on-failure"


def test_volumes(g):
    assert g("volume", "create", "v1", "--label", "a=b").stdout.strip() == "v1"
    ls = g("volume", "ls").stdout.splitlines()
    assert ls[0].split() == ["DRIVER", "VOLUME", "NAME"] and ls[1].split() == ["local", "v1"]
    assert g("volume", "ls", "-q").stdout.split() == ["v1"]
    v = json.loads(g("volume", "inspect", "v1").stdout)[0]
    assert v["Name"] == "v1" and v["Driver"] == "local" and v["Scope"] == "local" and v["Labels"] == {"a": "b"}
    assert v["Mountpoint"] == os.path.join(g.root, "volumes/v1/_data")
    assert g("volume", "inspect", "--format", "{{.Driver}}", "v1").stdout.strip() == "local"
    g("create", "--name", "c1", "-v", "v1:/v", "bb:1", "true")
    cid = json.loads(g("inspect", "c1").stdout)[0]["Id"]
    p = g("volume", "rm", "v1", check=False)
    assert p.returncode == 1 and ("volume is in use - [%s]" % cid) in p.stderr
    g("rm", "c1")
    assert g("volume", "rm", "v1").stdout.strip() == "v1"
    p = g("volume", "inspect", "v1", check=False)
    assert p.returncode == 1 and "No such volume: v1" in p.stderr
    anon = g("volume", "create").stdout.strip()
    g("volume", "create", "named")
    out = g("volume", "prune", "-f").stdout
    assert anon in out and "named" not in out
    assert "named" in g("volume", "prune", "-f", "-a").stdout


def test_commit_keeps_files_and_whiteouts(g):
    g("run", "--name", "c1", "bb:1", "sh", "-c", "echo new > /data/added; rm /data/gone")
    out = g("commit", "-m", "msg", "-c", "ENV FOO=bar", "-c", 'CMD ["cat", "/data/added"]', "c1", "bb:2").stdout.strip()
    assert out.startswith("sha256:") and len(out) == 71
    p = g("run", "--rm", "bb:2")
    assert p.stdout == "new\n"
    p = g("run", "--rm", "bb:2", "sh", "-c", "ls /data; echo $FOO")
    assert "gone" not in p.stdout and "keep" in p.stdout and "bar" in p.stdout


def test_export(g):
    g("create", "--name", "c1", "bb:1", "true")
    out = os.path.join(g.tmp, "c1.tar")
    g("export", "-o", out, "c1")
    names = subprocess.run(["tar", "-tf", out], capture_output=True, text=True, check=True).stdout.split()
    assert "bin/busybox" in names and "evil" in names and "data/keep" in names
    with tarfile.open(out) as t:
        assert t.getmember("evil").issym() and t.getmember("evil").linkname == "/etc/passwd"


def test_export_to_a_fifo_leaves_it_a_fifo(g):
    """As save: -o naming a pipe or a device writes to it, never renames a file over it."""
    import stat
    import threading
    g("create", "--name", "c1", "bb:1", "true")
    out = os.path.join(g.tmp, "pipe")
    os.mkfifo(out)
    got = []
    t = threading.Thread(target=lambda: got.append(open(out, "rb").read()), daemon=True)
    t.start()
    g("export", "-o", out, "c1")
    t.join(10)
    assert stat.S_ISFIFO(os.lstat(out).st_mode)
    assert got and got[0][257:262] == b"ustar"


def test_attach_exit_code(g):
    g("run", "-d", "--name", "c1", "bb:1", "sh", "-c", "sleep 1; echo hi; exit 3")
    p = g("attach", "c1", check=False)
    assert p.returncode == 3 and "hi" in p.stdout
    p = g("attach", "c1", check=False)
    assert p.returncode == 1 and "You cannot attach to a stopped container, start it first" in p.stderr
