"""create, start, state, kill, delete, run: the container's life as seen from outside."""

import json
import os
import time

import pytest

from conftest import pid_alive, proc_status, wait_for


def _no_pid_ns(ct):
    # pid 1 of a pid namespace cannot be killed by its own signals.
    ct.set_namespaces([t for t in ct.namespaces() if t != "pid"])


def test_create_gives_created_state_with_live_pid(ct):
    ct.probe_args("sleep", "30")
    r = ct.create()
    assert r.rc == 0, r
    st = ct.state()
    assert st["status"] == "created"
    assert st["id"] == ct.id
    assert st["bundle"] == ct.bundle
    assert st["ociVersion"].startswith("1.")
    assert isinstance(st["pid"], int) and st["pid"] > 0
    assert os.path.isdir("/proc/%d" % st["pid"])
    assert pid_alive(st["pid"])


def test_pid_file_written_before_create_returns(ct):
    pidfile = os.path.join(ct.dir, "container.pid")
    ct.probe_args("sleep", "30")
    r = ct.create("--pid-file", pidfile)
    assert r.rc == 0, r
    with open(pidfile) as f:  # no waiting: create has returned
        text = f.read()
    assert text.strip().isdigit(), repr(text)
    assert int(text) == ct.state()["pid"]


def test_start_runs_the_process(ct):
    ct.probe_args("sleep", "30")
    assert ct.create().rc == 0
    pid = ct.state()["pid"]
    r = ct.start()
    assert r.rc == 0, r
    assert ct.status() == "running"
    assert ct.state()["pid"] == pid  # the init process is the user's process
    cmdline = wait_for(lambda: open("/proc/%d/cmdline" % pid, "rb").read()
                       .split(b"\0")[1:3] == [b"sleep", b"30"], 5)
    assert cmdline, open("/proc/%d/cmdline" % pid, "rb").read()


def test_process_exit_gives_stopped_then_delete_removes(ct):
    ct.probe_args("echo", "bye")
    assert ct.create().rc == 0
    pid = ct.state()["pid"]
    assert ct.start().rc == 0
    ct.wait_status("stopped")
    assert wait_for(lambda: not pid_alive(pid), 5)
    r = ct.delete()
    assert r.rc == 0, r
    r = ct.state_result()
    assert r.rc == 1 and "does not exist" in r.err, r


def test_start_twice_fails(ct):
    ct.probe_args("sleep", "30")
    assert ct.create().rc == 0
    assert ct.start().rc == 0
    r = ct.start()
    assert r.rc != 0, r
    assert ct.status() == "running"


def test_output_of_created_container_goes_to_create_stdio(ct):
    ct.probe_args("echo", "from-the-container")
    r = ct.create()
    assert r.rc == 0, r
    assert r.out == ""
    assert ct.start().rc == 0
    ct.wait_status("stopped")
    assert wait_for(lambda: r.out == "from-the-container\n", 5), r.out


def test_kill_created_container(ct):
    ct.probe_args("sleep", "30")
    assert ct.create().rc == 0
    pid = ct.state()["pid"]
    r = ct.kill("KILL")
    assert r.rc == 0, r
    assert wait_for(lambda: not pid_alive(pid), 5)
    ct.wait_status("stopped")
    assert ct.delete().rc == 0


def _catches(pid, sig):
    try:
        return int(proc_status(pid)["SigCgt"], 16) & (1 << (sig - 1)) != 0
    except (FileNotFoundError, KeyError):
        return False


def test_kill_default_signal_is_term(ct):
    ct.probe_args("sleep", "30")
    p = ct.run_async()
    pid = wait_for(lambda: ct.state_result().rc == 0 and ct.status() == "running"
                   and ct.state()["pid"], 10)
    assert pid
    # pid 1 ignores SIGTERM until testbin has installed its handler.
    assert wait_for(lambda: _catches(pid, 15), 10)
    r = ct.kill()
    assert r.rc == 0, r
    res = p.wait()
    assert res.rc == 128 + 15, res
    assert "signal SIGTERM" in res.out


@pytest.mark.parametrize("sig", ["KILL", "9", "SIGKILL"])
def test_kill_signal_spellings(ct, sig):
    ct.probe_args("sleep", "30")
    assert ct.create().rc == 0
    assert ct.start().rc == 0
    pid = ct.state()["pid"]
    r = ct.kill(sig)
    assert r.rc == 0, r
    assert wait_for(lambda: not pid_alive(pid), 5)
    ct.wait_status("stopped")


def test_kill_unknown_signal_fails(ct):
    ct.probe_args("sleep", "30")
    assert ct.create().rc == 0
    r = ct.kill("NOSUCHSIG")
    assert r.rc != 0, r
    assert ct.status() == "created"


def test_kill_0_says_whether_the_container_is_alive(ct):
    # Signal 0 sends nothing: runc passes it to kill(2) to check the init is there, in
    # any live state, and says "container not running" once it has stopped.
    ct.probe_args("sleep", "30")
    assert ct.create().rc == 0
    pid = ct.state()["pid"]
    for step in ("created", "start", "pause", "resume"):
        if step != "created":
            assert ct.rt(step, ct.id).rc == 0, step
        r = ct.kill(0)
        assert r.rc == 0, (step, r)
        assert pid_alive(pid), step
    assert ct.status() == "running"  # nothing was delivered
    # (not while paused: runc 1.1's --all thaws a paused container afterwards)
    assert ct.rt("kill", "--all", ct.id, "0").rc == 0
    assert ct.kill("KILL").rc == 0
    ct.wait_status("stopped")
    r = ct.kill(0)
    assert r.rc == 1, r
    assert "not running" in r.err, r


def test_delete_running_needs_force(ct):
    ct.probe_args("sleep", "30")
    assert ct.create().rc == 0
    assert ct.start().rc == 0
    pid = ct.state()["pid"]
    r = ct.delete()
    assert r.rc != 0, r
    assert ct.status() == "running"
    assert pid_alive(pid)
    r = ct.delete(force=True)
    assert r.rc == 0, r
    assert not pid_alive(pid)
    assert ct.state_result().rc != 0
    assert not os.path.exists(os.path.join(ct.root, ct.id))


def test_run_returns_exit_code(ct):
    r = ct.probe("exit", "3")
    assert r.rc == 3, r
    assert ct.state_result().rc != 0  # run deletes what it made


def test_run_returns_zero(ct):
    r = ct.probe("echo", "ok")
    assert r.rc == 0, r
    assert r.out == "ok\n"


def test_run_killed_by_own_signal_gives_128_plus_sig(ct):
    _no_pid_ns(ct)
    r = ct.probe("kill-self", "9")
    assert r.rc == 137, r


def test_run_killed_from_outside_gives_128_plus_sig(ct):
    ct.probe_args("sleep", "30")
    p = ct.run_async()
    assert wait_for(lambda: ct.state_result().rc == 0 and ct.status() == "running", 10)
    assert ct.kill("KILL").rc == 0
    res = p.wait()
    assert res.rc == 137, res


def test_pid1_cannot_kill_itself(ct):
    # The kernel drops signals that a pid namespace's init sends itself.
    r = ct.probe("kill-self", "9")
    assert r.rc == 1, r
    assert "alive" in r.out


def test_run_detached_returns_at_once(ct):
    ct.probe_args("sleep", "30")
    t0 = time.monotonic()
    r = ct.run("-d")
    took = time.monotonic() - t0
    assert r.rc == 0, r
    assert took < 10, took
    st = ct.state()
    assert st["status"] == "running"
    assert pid_alive(st["pid"])


def test_run_keep_leaves_stopped(ct):
    ct.probe_args("exit", "5")
    r = ct.run("--keep")
    assert r.rc == 5, r
    st = ct.state()
    assert st["status"] == "stopped"
    assert ct.delete().rc == 0


def test_ps_json_lists_pid(ct):
    ct.probe_args("sleep", "30")
    assert ct.create().rc == 0
    assert ct.start().rc == 0
    pid = ct.state()["pid"]
    r = ct.rt("ps", "--format", "json", ct.id)
    assert r.rc == 0, r
    assert pid in json.loads(r.out)


def test_state_of_running_seen_from_outside(ct):
    ct.probe_args("sleep", "30")
    assert ct.run("-d").rc == 0
    pid = ct.state()["pid"]
    status = proc_status(pid)
    # In its own pid namespace the process is pid 1.
    assert status["NSpid"].split()[-1] == "1", status["NSpid"]
    assert status["NSpid"].split()[0] == str(pid)


def test_two_containers_from_one_bundle(ct):
    ct.probe_args("sleep", "30")
    other = ct.new_id()
    assert ct.create().rc == 0
    assert ct.create(cid=other).rc == 0
    a, b = ct.state()["pid"], ct.state(other)["pid"]
    assert a != b
    assert ct.delete(force=True).rc == 0
    assert ct.status(other) == "created"
    assert pid_alive(b)
