"""guise-monitor, driven by hand as the CLI will drive it: a store with
containers/ID/{monitor.json,bundle/}, the monitor started with a sync pipe, and what
it leaves in state.json, ctr.log and on the attach socket checked from outside.
"""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time
import uuid

import pytest

from conftest import (CGROUP_PARENT, REPO, TESTBIN, _copy_rootfs, cgroup_dirs_named, default_config, pid_alive,
                      remove_cgroup, wait_for)
from engine_fixture import memory_controller

MONITOR = os.path.join(REPO, "build", "guise-monitor")
GUISE_OCI = os.path.join(REPO, "build", "guise-oci")
TIME_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$")

K_STDOUT, K_STDERR, K_EXIT, K_STDIN, K_STDIN_EOF, K_RESIZE = 1, 2, 3, 10, 11, 12


class Mon:
    """One container of a hand-made store, and its monitor."""

    def __init__(self, store, state_root, template, name):
        self.store = store
        self.state_root = state_root
        self.id = "%s-%s" % (re.sub(r"[^A-Za-z0-9]+", "-", name).strip("-")[:20], uuid.uuid4().hex[:8])
        self.dir = os.path.join(store, "containers", self.id)
        self.bundle = os.path.join(self.dir, "bundle")
        os.makedirs(self.bundle)
        template_dir, template_cfg = template
        _copy_rootfs(os.path.join(template_dir, "rootfs"), os.path.join(self.bundle, "rootfs"))
        self.cfg = default_config(template_cfg)
        self.cfg["linux"]["cgroupsPath"] = "%s/%s" % (CGROUP_PARENT, self.id)
        self.mcfg = {"id": self.id, "store_root": store, "runtime_root": state_root}
        self.monitor_pid = None
        self.container_pids = set()
        self.starters = []

    def write(self, args, **mcfg):
        self.cfg["process"]["args"] = list(args)
        self.mcfg.update(mcfg)
        with open(os.path.join(self.bundle, "config.json"), "w") as f:
            json.dump(self.cfg, f)
        with open(os.path.join(self.dir, "monitor.json"), "w") as f:
            json.dump(self.mcfg, f)

    def start(self, via_shell=False):
        """Starts the monitor; returns the parsed sync line."""
        r, w = os.pipe()
        argv = [MONITOR, "--store", self.store, "--id", self.id, "--sync-fd", str(w)]
        if via_shell:  # a "CLI" that lives on after starting the monitor, to be killed
            argv = ["sh", "-c", " ".join(argv) + "; exec sleep 60"]
        p = subprocess.Popen(argv, pass_fds=(w,), start_new_session=True,
                             stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.starters.append(p)
        os.close(w)
        try:
            line = b""
            end = time.monotonic() + 30
            while not line.endswith(b"\n") and time.monotonic() < end:
                chunk = os.read(r, 4096)
                if not chunk:
                    break
                line += chunk
        finally:
            os.close(r)
        if not via_shell:
            p.wait(timeout=10)
        try:
            with open(os.path.join(self.dir, "monitor.pid")) as f:
                self.monitor_pid = int(f.read())
        except (FileNotFoundError, ValueError):
            pass
        assert line, "no sync line from the monitor"
        sync = json.loads(line)
        if "pid" in sync:
            self.container_pids.add(sync["pid"])
        return sync

    def state(self):
        try:
            with open(os.path.join(self.dir, "state.json")) as f:
                return json.load(f)
        except FileNotFoundError:
            return None

    def wait_state(self, pred, timeout=20):
        st = wait_for(lambda: (lambda s: s if s and pred(s) else None)(self.state()), timeout)
        assert st, "state never matched; last: %r" % (self.state(),)
        return st

    def wait_exited(self, timeout=20):
        st = self.wait_state(lambda s: s["status"] == "exited", timeout)
        assert wait_for(lambda: not self.monitor_alive(), 10), "the monitor outlived its container"
        return st

    def monitor_alive(self):
        return self.monitor_pid is not None and pid_alive(self.monitor_pid)

    def log_records(self):
        with open(os.path.join(self.dir, "ctr.log")) as f:
            return [json.loads(line) for line in f]

    def attach(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        s.connect(os.path.join(self.dir, "attach"))
        s.settimeout(20)
        return s

    def cleanup(self):
        for p in self.starters:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
        if self.monitor_alive():
            os.kill(self.monitor_pid, signal.SIGKILL)
        for pid in self.container_pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if os.access(GUISE_OCI, os.X_OK):
            subprocess.run([GUISE_OCI, "--root", self.state_root, "delete", "-f", self.id],
                           capture_output=True, timeout=30)
        shutil.rmtree(os.path.join(self.state_root, self.id), ignore_errors=True)
        for path in cgroup_dirs_named(self.id):
            remove_cgroup(path)
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture(scope="module")
def store(session_dir):
    if os.geteuid() != 0:
        pytest.skip("integration tests need root")
    if not os.access(MONITOR, os.X_OK):
        pytest.skip("build/guise-monitor not built")
    d = os.path.join(session_dir, "mstore")
    os.makedirs(os.path.join(d, "containers"), exist_ok=True)
    return d


@pytest.fixture
def mon(request, store, state_root, template_bundle):
    m = Mon(store, state_root, template_bundle, request.node.name)
    yield m
    m.cleanup()


def recv_until_exit(sock):
    frames = []
    while True:
        data = sock.recv(1 << 17)
        if not data:
            break
        frames.append((data[0], data[1:]))
        if data[0] == K_EXIT:
            break
    return frames


def test_runs_logs_and_records_exit_code(mon):
    mon.write(["/bin/sh", "-c", "echo out; echo err >&2; exit 3"])
    sync = mon.start()
    assert sync["pid"] > 0, sync
    st = mon.wait_exited()
    assert st["exit_code"] == 3 and st["exit_signal"] == 0 and not st["oom_killed"], st
    assert TIME_RE.match(st["started_at"]) and TIME_RE.match(st["finished_at"]), st
    recs = mon.log_records()
    assert sorted((r["stream"], r["log"]) for r in recs) == [("stderr", "err\n"), ("stdout", "out\n")], recs
    for r in recs:
        assert list(r) == ["log", "stream", "time"], r  # docker's key order
        assert TIME_RE.match(r["time"]), r
    # The runtime's part is gone; the store's record stays (no --rm).
    assert not os.path.exists(os.path.join(mon.state_root, mon.id))
    assert os.path.isfile(os.path.join(mon.dir, "state.json"))
    assert not os.path.exists(os.path.join(mon.dir, "attach"))
    assert cgroup_dirs_named(mon.id) == []


def test_running_state_and_sigkill_gives_137(mon):
    mon.write([TESTBIN, "sleep", "60"])
    sync = mon.start()
    st = mon.wait_state(lambda s: s["status"] == "running")
    assert st["pid"] == sync["pid"] and pid_alive(st["pid"]), st
    assert st["monitor_pid"] == mon.monitor_pid and mon.monitor_alive()
    # The monitor's cost per container (conmon 2.1.6: 2.0 MB RSS, 1.0 MB PSS): printed with -s.
    with open("/proc/%d/smaps_rollup" % mon.monitor_pid) as f:
        mem = dict(l.split(":", 1) for l in f if l.split(":", 1)[0] in ("Rss", "Pss", "Private_Dirty"))
    print("idle monitor:", ", ".join("%s %s" % (k, v.strip()) for k, v in mem.items()))
    assert int(mem["Rss"].split()[0]) < 4096, mem
    os.kill(st["pid"], signal.SIGKILL)
    st = mon.wait_exited()
    assert st["exit_code"] == 137 and st["exit_signal"] == 9 and not st["oom_killed"], st


def test_monitor_survives_the_process_that_started_it(mon):
    mon.write([TESTBIN, "sleep", "60"])
    sync = mon.start(via_shell=True)
    starter = mon.starters[-1]
    os.killpg(starter.pid, signal.SIGKILL)
    starter.wait()
    time.sleep(0.3)
    assert mon.monitor_alive() and pid_alive(sync["pid"])
    assert os.getsid(mon.monitor_pid) != starter.pid
    os.kill(sync["pid"], signal.SIGKILL)
    st = mon.wait_exited()
    assert st["exit_code"] == 137, st


def test_attach_gets_output_stdin_and_exit(mon):
    mon.write(["/bin/sh", "-c", "read x; echo got $x; echo oops >&2; exit 5"], open_stdin=True, stdin_once=True)
    mon.start()
    with mon.attach() as s:
        s.send(bytes([K_STDIN]) + b"hello\n")
        s.send(bytes([K_STDIN_EOF]))
        frames = recv_until_exit(s)
    out = b"".join(p for k, p in frames if k == K_STDOUT)
    err = b"".join(p for k, p in frames if k == K_STDERR)
    assert out == b"got hello\n" and err == b"oops\n", frames
    assert frames[-1][0] == K_EXIT, frames
    final = json.loads(frames[-1][1])
    assert final["status"] == "exited" and final["exit_code"] == 5, final
    assert mon.wait_exited()["exit_code"] == 5


def test_tty_output_and_resize(mon):
    mon.cfg["process"]["terminal"] = True
    mon.write(["/bin/sh", "-c", "sleep 0.5; stty size; exit 0"], tty=True, open_stdin=True)
    mon.start()
    with mon.attach() as s:
        s.send(bytes([K_RESIZE]) + b"33 111")
        frames = recv_until_exit(s)
    out = b"".join(p for k, p in frames if k == K_STDOUT)
    assert b"33 111" in out, frames
    assert mon.wait_exited()["exit_code"] == 0


def test_restart_on_failure_2(mon):
    mon.write(["/bin/sh", "-c", "echo run; exit 1"], restart_policy="on-failure", restart_max_retries=2)
    mon.start()
    st = mon.wait_exited(timeout=30)
    assert st["restart_count"] == 2 and st["exit_code"] == 1, st
    assert [r["log"] for r in mon.log_records()] == ["run\n"] * 3


def test_auto_remove(mon, store):
    names = os.path.join(store, "container-names")
    os.makedirs(names, exist_ok=True)
    name = "n-" + mon.id
    with open(os.path.join(names, name), "w") as f:
        f.write(mon.id)
    mon.write(["/bin/true"], auto_remove=True)
    mon.start()
    assert wait_for(lambda: not os.path.exists(mon.dir), 20), os.listdir(mon.dir)
    assert not os.path.exists(os.path.join(names, name))
    assert not os.path.exists(os.path.join(mon.state_root, mon.id))


def test_start_error_goes_to_the_sync_fd(mon):
    mon.write(["/no/such/binary"])
    sync = mon.start()
    assert "error" in sync and "/no/such/binary" in sync["error"], sync
    assert not os.path.exists(os.path.join(mon.state_root, mon.id))
    assert wait_for(lambda: not mon.monitor_alive(), 5)


def test_health_check_status(mon):
    mon.write([TESTBIN, "sleep", "60"], health_cmd=["CMD-SHELL", "test -e /tmp/ok"],
              health_interval_ns=200_000_000, health_timeout_ns=5_000_000_000, health_retries=2)
    sync = mon.start()
    st = mon.wait_state(lambda s: s["health_status"] == "unhealthy")
    assert st["health_failing_streak"] >= 2 and st["health_log"][-1]["exit_code"] == 1, st
    with open(os.path.join(mon.bundle, "rootfs", "tmp", "ok"), "w"):
        pass
    st = mon.wait_state(lambda s: s["health_status"] == "healthy")
    assert len(st["health_log"]) <= 5 and st["health_failing_streak"] == 0, st
    os.kill(sync["pid"], signal.SIGKILL)
    mon.wait_exited()


def test_oom_kill_is_recorded(mon):
    if not memory_controller():
        pytest.skip("host: no memory cgroup controller to cap the container")
    limit = 32 << 20
    mon.cfg["linux"].setdefault("resources", {})["memory"] = {"limit": limit, "swap": limit}
    mon.write(["/bin/sh", "-c", "x=aaaaaaaaaaaaaaaa; while :; do x=$x$x; done"])
    mon.start()
    st = mon.wait_exited(timeout=60)
    if st["exit_code"] != 137:
        pytest.skip("host: the memory cgroup did not OOM-kill the container (exit %d)" % st["exit_code"])
    assert st["oom_killed"] and st["oom_kills"] >= 1 and st["exit_signal"] == 9, st


def test_init_reports_arrive_on_fd_3(mon):
    # guise-init writes "PID SIGNAL" lines to fd 3; a shell stands in for it here.
    mon.write(["/bin/sh", "-c", "echo '4242 9' >&3; echo '77 15' >&3; exit 0"], init=True)
    mon.start()
    st = mon.wait_exited()
    assert st["init_deaths"] == [{"pid": 4242, "signal": 9}, {"pid": 77, "signal": 15}], st


def test_no_monitor_fd_leaks_into_the_container(mon):
    mon.write([TESTBIN, "fds"])
    mon.start()
    mon.wait_exited()
    out = "".join(r["log"] for r in mon.log_records() if r["stream"] == "stdout")
    fds = sorted(int(l.split()[0]) for l in out.splitlines() if l.split() and l.split()[0].isdigit())
    assert fds == [0, 1, 2], out


def test_sigterm_to_the_monitor_stops_without_restart(mon):
    mon.write([TESTBIN, "sleep", "60"], restart_policy="always")
    sync = mon.start()
    mon.wait_state(lambda s: s["status"] == "running")
    os.kill(mon.monitor_pid, signal.SIGTERM)
    st = mon.wait_exited()
    assert st["exit_code"] == 137 and st["restart_count"] == 0, st
    assert not pid_alive(sync["pid"])


def test_stopping_file_prevents_restart(mon):
    mon.write([TESTBIN, "sleep", "60"], restart_policy="always")
    sync = mon.start()
    mon.wait_state(lambda s: s["status"] == "running")
    open(os.path.join(mon.dir, "stopping"), "w").close()
    os.kill(sync["pid"], signal.SIGKILL)
    st = mon.wait_exited()
    assert st["restart_count"] == 0 and st["status"] == "exited", st
