"""create, start, stop, restart, kill, rm, ps, inspect, wait, pause, rename, top; the
monitor outliving the CLI; rm -f of a container whose monitor was killed."""
import json
import os
import re
import signal
import subprocess
import time

import pytest

from engine_fixture import (cgroup_dirs_named, cgroup_of, eng, images, leftovers, monitor_pids,  # noqa: F401
                            pid_alive, read, store_mounts, template_store, wait_for)

TIME_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$")
ZERO_TIME = "0001-01-01T00:00:00Z"


def test_create_start_stop_start_restart_kill_rm(eng):
    cid = eng.ok("create", "--name", "life", "bb", "sleep", "100").out.strip()
    assert re.fullmatch(r"[0-9a-f]{64}", cid)
    st = eng.inspect("life")["State"]
    assert (st["Status"], st["Running"], st["Pid"], st["ExitCode"]) == ("created", False, 0, 0)
    assert st["StartedAt"] == ZERO_TIME and st["FinishedAt"] == ZERO_TIME

    assert eng.ok("start", "life").out.strip() == "life"
    st = eng.inspect("life")["State"]
    assert (st["Status"], st["Running"], st["Paused"]) == ("running", True, False)
    pid1 = st["Pid"]
    assert pid_alive(pid1) and TIME_RE.match(st["StartedAt"]) and st["FinishedAt"] == ZERO_TIME

    t0 = time.monotonic()
    assert eng.ok("stop", "-t", "1", "life").out.strip() == "life"
    # sleep as PID 1 ignores SIGTERM: the stop ends in SIGKILL after the timeout
    assert 0.8 < time.monotonic() - t0 < 8
    st = eng.inspect("life")["State"]
    assert (st["Status"], st["Running"], st["Pid"], st["ExitCode"]) == ("exited", False, 0, 137)
    assert TIME_RE.match(st["FinishedAt"]) and st["FinishedAt"] >= st["StartedAt"]
    assert not pid_alive(pid1)

    eng.ok("start", "life")
    pid2 = eng.pid("life")
    assert pid2 != pid1 and pid_alive(pid2)
    eng.ok("restart", "-t", "1", "life")
    pid3 = eng.pid("life")
    assert pid3 not in (pid1, pid2) and pid_alive(pid3) and eng.status("life") == "running"

    eng.ok("kill", "-s", "USR1", "life")  # sleep has no handler: as PID 1, it ignores it
    time.sleep(0.2)
    assert eng.status("life") == "running"
    eng.ok("kill", "-s", "KILL", "life")
    assert eng.wait_status("life", "exited")
    assert eng.fmt("life", "{{.State.ExitCode}}") == "137"

    assert eng.ok("rm", "life").out.strip() == "life"
    assert eng("inspect", "life").rc != 0
    assert leftovers(eng, [cid]) == []


def test_kill_with_signal_reaches_a_handler(eng):
    cid = eng.run_d("bb", "sh", "-c", "trap 'echo got-usr1; exit 9' USR1; while :; do sleep 0.1; done")
    time.sleep(0.3)
    eng.ok("kill", "-s", "SIGUSR1", cid)
    assert eng.ok("wait", cid).out == "9\n"
    assert "got-usr1" in eng.ok("logs", cid).out


def test_rm_of_running_needs_force(eng):
    cid = eng.run_d("bb", "sleep", "100")
    r = eng("rm", cid)
    assert r.rc != 0 and len(r.err.strip().splitlines()) == 1, r
    assert eng.status(cid) == "running"
    eng.ok("rm", "-f", cid)
    assert leftovers(eng, [cid]) == []


def test_ps_columns_and_filters(eng):
    a = eng.run_d("--name", "up1", "bb", "sleep", "100")
    b = eng.ok("create", "--name", "new1", "bb", "true").out.strip()
    c = eng.run_d("--name", "done1", "bb", "sh", "-c", "exit 2")
    eng.ok("wait", c)
    ps = eng.ok("ps").out.splitlines()
    assert re.split(r"\s{2,}", ps[0].strip()) == ["CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS",
                                                  "NAMES"]
    assert len(ps) == 2 and ps[1].startswith(a[:12]) and ps[1].rstrip().endswith("up1")
    assert '"sleep 100"' in ps[1] and re.search(r"\bUp\b", ps[1])
    psa = eng.ok("ps", "-a").out
    assert "Exited (2)" in psa and "Created" in psa and "new1" in psa
    assert sorted(eng.ok("ps", "-aq").out.split()) == sorted(x[:12] for x in (a, b, c))
    assert eng.ok("ps", "-q").out.split() == [a[:12]]
    assert eng.ok("ps", "-aq", "--no-trunc", "--filter", "status=exited").out.split() == [c]
    assert eng.ok("ps", "-aq", "--filter", "status=created").out.split() == [b[:12]]
    assert eng.ok("ps", "-a", "--filter", "name=done", "--format", "{{.Names}} {{.Status}}").out.startswith(
        "done1 Exited (2)")
    out = eng.ok("ps", "-a", "--format", "{{.ID}}|{{.Image}}|{{.Command}}|{{.Names}}").out.splitlines()
    assert "%s|bb|\"sleep 100\"|up1" % a[:12] in out
    js = [json.loads(l) for l in eng.ok("ps", "-a", "--format", "json").out.splitlines()]
    assert {j["Names"] for j in js} == {"up1", "new1", "done1"}


def test_wait_prints_the_code(eng):
    cid = eng.run_d("bb", "sh", "-c", "sleep 0.3; exit 42")
    r = eng.ok("wait", cid)
    assert r.out == "42\n"
    assert eng.ok("wait", cid).out == "42\n"  # already exited


def test_pause_unpause(eng):
    cid = eng.run_d("bb", "sleep", "100")
    pid = eng.pid(cid)
    eng.ok("pause", cid)
    st = eng.inspect(cid)["State"]
    assert st["Paused"] is True and st["Status"] == "paused"
    assert "(Paused)" in eng.ok("ps").out
    assert read(cgroup_of(pid, "freezer") + "/freezer.state") == "FROZEN" if os.path.isdir(
        "/sys/fs/cgroup/freezer") else read(cgroup_of(pid, "") + "/cgroup.freeze") == "1"
    assert wait_for(lambda: open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()[0] in ("D", "t", "T", "S"))
    eng.ok("unpause", cid)
    st = eng.inspect(cid)["State"]
    assert st["Paused"] is False and st["Status"] == "running"
    assert "(Paused)" not in eng.ok("ps").out


def test_rename(eng):
    cid = eng.run_d("--name", "old", "bb", "sleep", "100")
    eng.ok("rename", "old", "new")
    assert eng.fmt("new", "{{.Id}}") == cid and eng.fmt(cid, "{{.Name}}") == "/new"
    assert eng("inspect", "old").rc != 0
    eng.ok("create", "--name", "old", "bb", "true")  # the old name is free again
    r = eng("rename", "new", "old")
    assert r.rc != 0 and "old" in r.err


def test_top(eng):
    cid = eng.run_d("bb", "sleep", "77")
    lines = eng.ok("top", cid).out.splitlines()
    assert lines[0].split()[:3] == ["UID", "PID", "PPID"]
    assert any(l.split()[1] == str(eng.pid(cid)) and "sleep 77" in l for l in lines[1:]), lines


def test_inspect_fields(eng):
    cid = eng.run_d("--name", "insp", "-e", "X=1", "bb", "sleep", "100")
    j = eng.inspect(cid)
    assert j["Id"] == cid and j["Name"] == "/insp" and j["Path"] == "sleep" and j["Args"] == ["100"]
    assert j["Config"]["Image"] == "bb" and "X=1" in j["Config"]["Env"]
    assert j["Image"].startswith("sha256:")
    assert j["State"]["Pid"] == eng.pid(cid) and j["State"]["OOMKilled"] is False
    assert TIME_RE.match(j["Created"])
    assert j["RestartCount"] == 0
    assert "HostConfig" in j and "NetworkSettings" in j and "Mounts" in j
    assert eng.fmt(cid, "{{json .State.Running}}") == "true"
    js = json.loads(eng.ok("inspect", "--format", "json", cid).out)
    assert (js[0] if isinstance(js, list) else js)["Id"] == cid


def test_monitor_survives_the_cli(eng):
    p = subprocess.Popen(eng.argv("run", "--name", "bg", "bb", "sh", "-c", "while :; do echo tick; sleep 0.1; done"),
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    try:
        assert eng.wait_status("bg", "running")
        time.sleep(0.3)
        os.kill(p.pid, signal.SIGKILL)
        p.wait()
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    pid = eng.pid("bg")
    assert pid_alive(pid)
    n1 = len(eng.ok("logs", "bg").out.splitlines())
    time.sleep(0.5)
    n2 = len(eng.ok("logs", "bg").out.splitlines())
    assert n2 > n1 > 0
    assert eng.status("bg") == "running"


def test_rm_f_after_the_monitor_was_killed(eng):
    cid = eng.run_d("bb", "sleep", "100")
    pid = eng.pid(cid)
    mon = eng.state_json(cid)["monitor_pid"]
    assert pid_alive(mon)
    os.kill(mon, signal.SIGKILL)
    assert wait_for(lambda: not pid_alive(mon))
    eng.ok("rm", "-f", cid)
    assert wait_for(lambda: not pid_alive(pid), 5)
    assert leftovers(eng, [cid]) == []


def test_container_prune(eng):
    a = eng.run_d("bb", "true")
    eng.ok("wait", a)
    b = eng.run_d("bb", "sleep", "100")
    r = eng.ok("container", "prune", "-f")
    assert a in r.out
    assert eng.ok("ps", "-aq", "--no-trunc").out.split() == [b]
