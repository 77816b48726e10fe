"""`guise run`: exit codes, stdio, the container's identity, the image's config, the
filesystem flags.  Each checked from inside (the command's output) and, where there is
something to see, from outside (the store, mountinfo, /proc)."""
import os
import pty
import re
import select
import subprocess
import time

import pytest

from engine_fixture import (CFG_WORKDIR, GUISE, cgroup_dirs_named, eng, images, store_mounts,  # noqa: F401
                            template_store, wait_for)


# --------------------------------------------------------------- exit codes


@pytest.mark.parametrize("cmd,code", [
    (["true"], 0),
    (["sh", "-c", "exit 3"], 3),
])
def test_exit_code_is_the_process_status(eng, cmd, code):
    r = eng("run", "--rm", "bb", *cmd)
    assert r.rc == code, r


def test_sigkill_from_outside_is_137(eng):
    # PID 1 of a pid namespace ignores signals it has no handler for when they come from
    # inside (`kill -9 $$` from the container's own sh), so the signal comes from `guise kill`.
    p = subprocess.Popen(eng.argv("run", "--name", "killme", "bb", "sleep", "100"), stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    try:
        assert eng.wait_status("killme", "running"), eng.status("killme")
        eng.ok("kill", "killme")
        assert p.wait(timeout=10) == 137
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    assert eng.fmt("killme", "{{.State.ExitCode}}") == "137"


def test_missing_command_is_127(eng):
    r = eng("run", "--rm", "bb", "no-such-command")
    assert r.rc == 127, r
    assert "no-such-command" in r.err and len(r.err.strip().splitlines()) == 1, r
    assert eng.entries("containers") == [] and eng.entries("rootfs") == []


def test_non_executable_file_is_126(eng):
    r = eng("run", "--rm", "bb", "/bin/noexec")
    assert r.rc == 126, r
    assert "/bin/noexec" in r.err and len(r.err.strip().splitlines()) == 1, r
    assert eng.entries("containers") == []


def test_unknown_flag_is_125(eng):
    r = eng("run", "--no-such-flag", "bb", "true")
    assert r.rc == 125, r
    assert "--no-such-flag" in r.err


def test_missing_image_with_pull_never_is_125(eng):
    r = eng("run", "--pull", "never", "no-such-image:1", "true")
    assert r.rc == 125, r
    assert "no-such-image" in r.err and len(r.err.strip().splitlines()) == 1, r
    assert eng.entries("containers") == []


# --------------------------------------------------------------- stdio


def test_stdout_and_stderr_are_separate(eng):
    r = eng.ok("run", "--rm", "bb", "sh", "-c", "echo to-out; echo to-err >&2")
    assert r.out == "to-out\n"
    assert r.err == "to-err\n"


def test_stdin_with_i(eng):
    r = eng.ok("run", "--rm", "-i", "bb", "cat", input=b"line one\nline two\n")
    assert r.out == "line one\nline two\n"


def test_stdin_without_i_is_not_connected(eng):
    r = eng.ok("run", "--rm", "bb", "cat", input=b"ignored\n")
    assert r.out == ""


def _run_in_pty(argv, timeout=20):
    """Runs ARGV with a pty as its stdio; returns (status, output)."""
    pid, fd = pty.fork()
    if pid == 0:
        os.execv(argv[0], argv)
    out = b""
    end = time.monotonic() + timeout
    try:
        while time.monotonic() < end:
            if select.select([fd], [], [], 0.2)[0]:
                try:
                    chunk = os.read(fd, 4096)
                except OSError:  # EIO: the last holder of the pty's other end is gone
                    chunk = b""
                if not chunk:
                    break
                out += chunk
        else:
            os.kill(pid, 9)
            raise AssertionError("timed out; output so far: %r" % out)
        _, status = os.waitpid(pid, 0)
        return os.waitstatus_to_exitcode(status), out.decode(errors="replace")
    finally:
        os.close(fd)
        try:
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            pass


def test_tty_with_t(eng):
    code, out = _run_in_pty(eng.argv("run", "--rm", "-t", "bb", "sh", "-c", "tty; exit 4"))
    assert code == 4, out
    assert re.search(r"/dev/pts/\d+", out), out


def test_no_tty_without_t(eng):
    r = eng("run", "--rm", "bb", "tty")
    assert r.rc == 1, r
    assert "not a tty" in r.out


def test_it_interactive_shell(eng):
    pid, fd = pty.fork()
    if pid == 0:
        argv = eng.argv("run", "--rm", "-it", "bb", "sh", "-c", "read x; echo got-$x")
        os.execv(argv[0], argv)
    time.sleep(0.5)
    os.write(fd, b"hello\n")
    out = b""
    end = time.monotonic() + 15
    while time.monotonic() < end and b"got-hello" not in out:
        if select.select([fd], [], [], 0.2)[0]:
            try:
                out += os.read(fd, 4096)
            except OSError:
                break
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    assert b"got-hello" in out, out
    assert os.waitstatus_to_exitcode(status) == 0


# --------------------------------------------------------------- --rm, -d, --name


def test_rm_leaves_nothing(eng):
    r = eng.ok("run", "--rm", "bb", "sh", "-c", "cat /proc/self/cgroup | head -1")
    cid_path = r.out.strip().split(":")[-1]
    cid = cid_path.rsplit("/", 1)[-1]
    assert re.fullmatch(r"[0-9a-f]{64}", cid), r.out
    assert eng.entries("containers") == []
    assert eng.entries("rootfs") == []
    assert store_mounts(eng.root) == []
    assert wait_for(lambda: cgroup_dirs_named(cid) == [], 5), cgroup_dirs_named(cid)
    assert eng.ok("ps", "-aq").out == ""


def test_detach_prints_the_id_and_runs(eng):
    cid = eng.run_d("bb", "sleep", "100")
    assert eng.status(cid) == "running"
    pid = eng.pid(cid)
    assert pid > 0 and os.path.exists("/proc/%d" % pid)
    with open("/proc/%d/cmdline" % pid) as f:
        assert f.read().split("\0")[:2] == ["sleep", "100"]
    assert cid[:12] in eng.ok("ps", "-q").out.split()


def test_name_and_conflict(eng):
    cid = eng.run_d("--name", "web", "bb", "sleep", "100")
    assert eng.fmt("web", "{{.Id}}") == cid
    assert eng.fmt(cid, "{{.Name}}") == "/web"
    before = eng.entries("containers")
    r = eng("run", "--name", "web", "bb", "true")
    assert r.rc == 125, r
    # docker: Conflict. The container name "/web" is already in use by container "ID".
    assert '"/web" is already in use' in r.err and cid in r.err, r
    assert len(r.err.strip().splitlines()) == 1
    assert eng.entries("containers") == before


# --------------------------------------------------------------- process settings


def test_env_and_env_file(eng, tmp_path):
    envf = tmp_path / "env.list"
    envf.write_text("# a comment\nFROM_FILE=file-value\n\nBOTH=file\n")
    os.environ["GUISE_TEST_PASSED"] = "from-host"
    try:
        r = eng.ok("run", "--rm", "-e", "A=1", "-e", "GUISE_TEST_PASSED", "--env-file", str(envf), "-e", "BOTH=flag",
                   "bb", "env")
    finally:
        del os.environ["GUISE_TEST_PASSED"]
    env = dict(l.split("=", 1) for l in r.out.splitlines() if "=" in l)
    assert env["A"] == "1"
    assert env["GUISE_TEST_PASSED"] == "from-host"
    assert env["FROM_FILE"] == "file-value"
    assert env["BOTH"] == "flag"
    assert env["PATH"].startswith("/usr/local/sbin")
    assert "HOSTNAME" in env


def test_workdir(eng):
    assert eng.ok("run", "--rm", "-w", "/tmp", "bb", "pwd").out == "/tmp\n"
    # a missing working directory is made, as docker does
    assert eng.ok("run", "--rm", "-w", "/new/dir", "bb", "pwd").out == "/new/dir\n"


def test_user(eng):
    r = eng.ok("run", "--rm", "-u", "1000:1000", "bb", "id")
    assert r.out.startswith("uid=1000(app) gid=1000(app)"), r
    r = eng.ok("run", "--rm", "-u", "app", "bb", "id", "-u")
    assert r.out == "1000\n"


def test_user_seen_from_outside(eng):
    cid = eng.run_d("-u", "1000:1000", "bb", "sleep", "100")
    status = open("/proc/%d/status" % eng.pid(cid)).read()
    assert re.search(r"^Uid:\t1000\t1000\t1000\t1000$", status, re.M), status
    assert re.search(r"^Gid:\t1000\t1000\t1000\t1000$", status, re.M), status


def test_hostname(eng):
    assert eng.ok("run", "--rm", "-h", "box1", "bb", "hostname").out == "box1\n"
    cid = eng.run_d("bb", "sleep", "100")
    r = eng.ok("exec", cid, "hostname")
    assert r.out == cid[:12] + "\n"
    assert os.readlink("/proc/%d/ns/uts" % eng.pid(cid)) != os.readlink("/proc/self/ns/uts")


def test_entrypoint(eng):
    assert eng.ok("run", "--rm", "--entrypoint", "echo", "bb", "a", "b").out == "a b\n"
    # --entrypoint replaces the image's entrypoint and drops its Cmd
    assert eng.ok("run", "--rm", "--entrypoint", "/bin/echo", "cfg:1").out == "\n"


def test_image_config_applied(eng):
    assert eng.ok("run", "--rm", "cfg:1").out == "ep from-cmd\n"
    assert eng.ok("run", "--rm", "cfg:1", "mine").out == "ep mine\n"
    r = eng.ok("run", "--rm", "--entrypoint", "env", "cfg:1")
    env = dict(l.split("=", 1) for l in r.out.splitlines())
    assert env["FOO"] == "from-image" and env["BAR"] == "bar"
    r = eng.ok("run", "--rm", "-e", "FOO=flag", "--entrypoint", "sh", "cfg:1", "-c", "echo $FOO $BAR; pwd")
    assert r.out == "flag bar\n%s\n" % CFG_WORKDIR
    cfg = eng.ok("inspect", "--format", "{{json .Config.Entrypoint}} {{json .Config.Cmd}} {{.Config.WorkingDir}}",
                 "cfg:1").out.strip()
    assert cfg == '["/bin/echo","ep"] ["from-cmd"] /srv'


# --------------------------------------------------------------- filesystem


def test_read_only(eng):
    r = eng("run", "--rm", "--read-only", "bb", "touch", "/x")
    assert r.rc == 1 and "Read-only file system" in r.err, r
    # /dev/shm and /dev stay writable, as under docker
    eng.ok("run", "--rm", "--read-only", "bb", "touch", "/dev/shm/x")
    r = eng.ok("run", "--rm", "--read-only", "bb", "sh", "-c", "grep ' / ' /proc/self/mounts")
    assert re.search(r"\bro\b", r.out.split()[3]), r.out


def test_tmpfs(eng):
    r = eng.ok("run", "--rm", "--read-only", "--tmpfs", "/run:size=1m,mode=1770", "bb", "sh", "-c",
               "touch /run/x && grep ' /run ' /proc/self/mounts && stat -c %a /run")
    line, mode = r.out.splitlines()
    f = line.split()
    assert f[0] == "tmpfs" and f[2] == "tmpfs", line
    assert "size=1024k" in f[3] and "rw" in f[3].split(","), line
    assert mode == "1770"


def test_bind_mount_rw_and_ro(eng, tmp_path):
    d = tmp_path / "shared"
    d.mkdir()
    (d / "in").write_text("from host\n")
    r = eng.ok("run", "--rm", "-v", "%s:/mnt" % d, "bb", "sh", "-c", "cat /mnt/in; echo back > /mnt/out")
    assert r.out == "from host\n"
    assert (d / "out").read_text() == "back\n"
    r = eng("run", "--rm", "-v", "%s:/mnt:ro" % d, "bb", "touch", "/mnt/x")
    assert r.rc == 1 and "Read-only file system" in r.err, r
    assert not (d / "x").exists()


def test_bind_mount_seen_from_outside(eng, tmp_path):
    d = tmp_path / "shared"
    d.mkdir()
    cid = eng.run_d("-v", "%s:/mnt:ro" % d, "bb", "sleep", "100")
    mi = open("/proc/%d/mountinfo" % eng.pid(cid)).read().splitlines()
    line = [l for l in mi if l.split()[4] == "/mnt"]
    assert line and "ro" in line[0].split()[5].split(","), mi
    mounts = eng.inspect(cid)["Mounts"]
    assert [(m["Type"], m["Source"], m["Destination"], m["RW"]) for m in mounts] == [("bind", str(d), "/mnt", False)]


def test_named_volume_persists(eng):
    r = eng.ok("run", "--rm", "-v", "vol1:/data", "bb", "sh", "-c", "cat /data/seed; echo kept > /data/new")
    # filled from the image's content at the path the first time
    assert r.out == "from the image\n"
    r = eng.ok("run", "--rm", "-v", "vol1:/other", "bb", "cat", "/other/new", "/other/seed")
    assert r.out == "kept\nfrom the image\n"
    assert os.path.isfile(os.path.join(eng.root, "volumes", "vol1", "_data", "new"))
    # what is not in a volume does not survive
    eng.ok("run", "--rm", "bb", "sh", "-c", "echo gone > /data/not-kept")
    r = eng("run", "--rm", "-v", "vol1:/data", "bb", "cat", "/data/not-kept")
    assert r.rc == 1
