"""guise exec: environment, user, working directory, detached, exit codes, a tty, and a
stopped container."""
import os
import re
import time

from engine_fixture import eng, images, pid_alive, template_store, wait_for  # noqa: F401
from test_engine_run import _run_in_pty


def test_exec_runs_in_the_container(eng):
    cid = eng.run_d("-e", "FROM_RUN=1", "bb", "sleep", "100")
    pid = eng.pid(cid)
    r = eng.ok("exec", cid, "sh", "-c", "echo $FROM_RUN; cat /proc/1/cmdline | tr '\\0' ' '; echo; readlink /proc/self/ns/pid")
    lines = r.out.splitlines()
    assert lines[0] == "1" and lines[1].startswith("sleep 100")
    assert lines[2] == os.readlink("/proc/%d/ns/pid" % pid)


def test_exec_env_user_workdir(eng):
    cid = eng.run_d("bb", "sleep", "100")
    r = eng.ok("exec", "-e", "E1=v1", "-u", "1000:1000", "-w", "/tmp", cid, "sh", "-c", "echo $E1; id -u; id -g; pwd")
    assert r.out == "v1\n1000\n1000\n/tmp\n"
    assert eng.ok("exec", "-u", "app", cid, "id", "-un").out == "app\n"


def test_exec_exit_code_passthrough(eng):
    cid = eng.run_d("bb", "sleep", "100")
    assert eng("exec", cid, "sh", "-c", "exit 5").rc == 5
    r = eng("exec", cid, "no-such-cmd")
    assert r.rc == 127 and "no-such-cmd" in r.err, r
    r = eng("exec", cid, "/bin/noexec")
    assert r.rc == 126, r


def test_exec_stdin(eng):
    cid = eng.run_d("bb", "sleep", "100")
    assert eng.ok("exec", "-i", cid, "cat", input=b"via exec\n").out == "via exec\n"


def test_exec_detached(eng):
    cid = eng.run_d("bb", "sleep", "100")
    r = eng.ok("exec", "-d", cid, "sh", "-c", "sleep 0.3; echo done > /tmp/marker")
    assert r.out == ""
    assert wait_for(lambda: eng("exec", cid, "cat", "/tmp/marker").out == "done\n", 5)


def test_exec_tty(eng):
    cid = eng.run_d("bb", "sleep", "100")
    code, out = _run_in_pty(eng.argv("exec", "-t", cid, "sh", "-c", "tty; exit 3"))
    assert code == 3, out
    assert re.search(r"/dev/pts/\d+", out), out


def test_exec_in_stopped_container_fails(eng):
    cid = eng.ok("create", "bb", "sleep", "100").out.strip()
    r = eng("exec", cid, "true")
    assert r.rc != 0 and len(r.err.strip().splitlines()) == 1 and "not running" in r.err, r
    eng.ok("start", cid)
    eng.ok("stop", "-t", "0", cid)
    r = eng("exec", cid, "true")
    assert r.rc != 0 and len(r.err.strip().splitlines()) == 1 and "not running" in r.err, r
