"""guise-init, the container's PID 1 under `guise run --init`, run straight on the host.

Each case runs twice: as a plain process (guise-init is then a child subreaper, so orphans
below it are still its own to reap) and as PID 1 of a new pid namespace
(`unshare --pid --fork --mount-proc`), as it runs in a container. The commands under it
are small python or sh scripts; every process a test starts is killed at teardown.
"""

import os
import select
import shutil
import signal
import subprocess
import sys
import textwrap
import time

import pytest

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
INIT = os.environ.get("GUISE_INIT", os.path.join(REPO, "build", "guise-init"))
PY = sys.executable
TIMEOUT = 20

pytestmark = [
    pytest.mark.skipif(not os.path.exists(INIT), reason=INIT + " not built"),
]

MODES = ["host", "pidns"]


def _can_unshare_pid():
    if os.geteuid() != 0 or not shutil.which("unshare"):
        return False
    r = subprocess.run(["unshare", "--pid", "--fork", "--mount-proc", "true"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return r.returncode == 0


CAN_PIDNS = _can_unshare_pid()


def _stat(pid):
    """(state, ppid, pgrp) of pid, or None when it is gone."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            data = f.read()
    except (FileNotFoundError, ProcessLookupError):
        return None
    fields = data[data.rindex(")") + 2:].split()
    return fields[0], int(fields[1]), int(fields[2])


def _parents():
    out = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            st = _stat(int(name))
            if st:
                out[int(name)] = st
    return out


def descendants(pid):
    """{pid: (state, ppid, pgrp)} of every process below pid."""
    table = _parents()
    found, todo = {}, [pid]
    while todo:
        p = todo.pop()
        for child, st in table.items():
            if st[1] == p and child not in found:
                found[child] = st
                todo.append(child)
    return found


def wait_for(cond, timeout=TIMEOUT, step=0.02):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = cond()
        if value:
            return value
        time.sleep(step)
    return cond()


class Init:
    """One guise-init run: the Popen of what was started; pid is guise-init's host pid."""

    def __init__(self, proc, mode):
        self.proc, self.mode, self._pid = proc, mode, None

    @property
    def pid(self):
        if self._pid is None and self.mode == "host":
            self._pid = self.proc.pid
        if self._pid is None:
            # unshare's only child, once it has exec'd guise-init.
            def find():
                for p in descendants(self.proc.pid):
                    try:
                        if os.readlink("/proc/%d/exe" % p) == os.path.realpath(INIT):
                            return p
                    except OSError:
                        pass
                return None
            self._pid = wait_for(find)
            assert self._pid, "guise-init did not start under unshare"
        return self._pid

    def wait(self):
        out, err = self.proc.communicate(timeout=TIMEOUT)
        return self.proc.returncode, out, err

    def read_line(self):
        """The next stdout line of the command, within the timeout."""
        ready, _, _ = select.select([self.proc.stdout], [], [], TIMEOUT)
        assert ready, "no output from the command under guise-init"
        return self.proc.stdout.readline()


@pytest.fixture
def start(tmp_path):
    """start(mode, cmd, group=False, monitor_fd=None, **popen) -> Init."""
    started = []

    def _start(mode, cmd, group=False, monitor_fd=None, extra=(), **kw):
        if mode == "pidns" and not CAN_PIDNS:
            pytest.skip("needs root and unshare --pid")
        argv = [INIT] + (["-g"] if group else []) + list(extra) + ["--"] + list(cmd)
        if mode == "pidns":
            argv = ["unshare", "--pid", "--fork", "--mount-proc"] + argv
        if monitor_fd is not None:
            def fd3():  # fd 3 in guise-init, inherited through unshare
                os.dup2(monitor_fd, 3)
                os.set_inheritable(3, True)
            kw["preexec_fn"] = fd3
            kw["close_fds"] = False  # python's own fds are all close-on-exec
        kw.setdefault("stdin", subprocess.DEVNULL)
        kw.setdefault("stdout", subprocess.PIPE)
        kw.setdefault("stderr", subprocess.PIPE)
        proc = subprocess.Popen(argv, text=True, start_new_session=True, **kw)
        started.append(proc)
        return Init(proc, mode)

    yield _start
    for proc in started:
        for p in list(descendants(proc.pid)) + [proc.pid]:
            try:
                os.kill(p, signal.SIGKILL)
            except ProcessLookupError:
                pass
        try:
            proc.wait(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            pass
        for f in (proc.stdout, proc.stderr):
            if f:
                f.close()


def script(body):
    return [PY, "-c", textwrap.dedent(body)]


def test_version():
    r = subprocess.run([INIT, "--version"], capture_output=True, text=True, timeout=TIMEOUT)
    assert r.returncode == 0
    assert r.stdout.startswith("guise-init version ") and r.stdout.count("\n") == 1, r.stdout


def test_no_command_is_an_error():
    r = subprocess.run([INIT, "--"], capture_output=True, text=True, timeout=TIMEOUT)
    assert r.returncode == 125
    assert r.stderr.startswith("guise-init: no command"), r.stderr


def test_unknown_option_is_an_error():
    r = subprocess.run([INIT, "--bogus", "--", "true"], capture_output=True, text=True,
                       timeout=TIMEOUT)
    assert r.returncode == 125
    assert "--bogus" in r.stderr and r.stderr.count("\n") == 1, r.stderr


@pytest.mark.parametrize("mode", MODES)
def test_exit_code_passes_through(start, mode):
    rc, out, err = start(mode, ["/bin/sh", "-c", "echo hello; exit 7"]).wait()
    assert (rc, out, err) == (7, "hello\n", "")


@pytest.mark.parametrize("mode", MODES)
def test_args_and_path_lookup(start, mode):
    rc, out, _ = start(mode, ["sh", "-c", 'printf "%s|" "$@"', "sh", "a b", "", "*"]).wait()
    assert (rc, out) == (0, "a b||*|")


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGUSR1])
def test_killed_child_gives_128_plus_signal(start, mode, sig):
    rc, _, _ = start(mode, ["/bin/sh", "-c", "kill -%d $$" % sig]).wait()
    assert rc == 128 + sig


@pytest.mark.parametrize("mode", MODES)
def test_missing_command_is_127(start, mode):
    rc, out, err = start(mode, ["no-such-command-guise"]).wait()
    assert rc == 127
    assert err == "guise-init: exec no-such-command-guise: No such file or directory\n"
    rc, _, err = start(mode, ["/nonexistent/cmd"]).wait()
    assert rc == 127
    assert err == "guise-init: exec /nonexistent/cmd: No such file or directory\n"


@pytest.mark.parametrize("mode", MODES)
def test_command_not_executable_is_126(start, mode, tmp_path):
    path = tmp_path / "not-exec"
    path.write_text("#!/bin/sh\n")
    path.chmod(0o644)
    rc, _, err = start(mode, [str(path)]).wait()
    assert rc == 126
    assert err == "guise-init: exec %s: Permission denied\n" % path


TRAP_TERM = """
    import os, signal, sys, time
    def on_term(*_):
        sys.exit(42)
    def on_other(sig, _):
        print("got", sig, flush=True)
    signal.signal(signal.SIGTERM, on_term)
    for s in (signal.SIGTSTP, signal.SIGTTIN, signal.SIGTTOU, signal.SIGUSR2, signal.SIGHUP):
        signal.signal(s, on_other)
    print("ready", flush=True)
    while True:
        time.sleep(0.05)
"""


@pytest.mark.parametrize("mode", MODES)
def test_sigterm_reaches_the_child(start, mode):
    run = start(mode, script(TRAP_TERM))
    assert run.read_line() == "ready\n"
    os.kill(run.pid, signal.SIGTERM)
    rc, _, err = run.wait()
    assert rc == 42, err


@pytest.mark.parametrize("mode", MODES)
def test_other_signals_forwarded_stop_signals_dropped(start, mode):
    run = start(mode, script(TRAP_TERM))
    assert run.read_line() == "ready\n"
    for sig in (signal.SIGTSTP, signal.SIGTTIN, signal.SIGTTOU, signal.SIGUSR2, signal.SIGHUP):
        os.kill(run.pid, sig)
        if sig in (signal.SIGUSR2, signal.SIGHUP):
            assert run.read_line() == "got %d\n" % sig
    # guise-init itself did not stop.
    assert _stat(run.pid)[0] != "T"
    os.kill(run.pid, signal.SIGTERM)
    rc, out, _ = run.wait()
    assert rc == 42
    assert out == "", "a stop signal was forwarded: %r" % out


ORPHANS = """
    import os, sys, time
    out = sys.argv[1]
    for i in range(5):
        if os.fork() == 0:
            if os.fork() == 0:
                time.sleep(0.3)   # by then its parent is gone: it is an orphan
                with open(out, "a") as f:
                    f.write("%d %d\\n" % (os.getpid(), os.getppid()))
                os._exit(3)
            os._exit(0)
    for i in range(5):
        os.wait()
    print("ready", flush=True)
    time.sleep(30)
"""


@pytest.mark.parametrize("mode", MODES)
def test_orphans_are_reaped(start, mode, tmp_path):
    record = tmp_path / "orphans"
    run = start(mode, script(ORPHANS) + [str(record)])
    assert run.read_line() == "ready\n"
    lines = wait_for(lambda: record.exists() and len(record.read_text().splitlines()) == 5
                     and record.read_text().splitlines())
    assert lines, "the grandchildren never ran"
    reported = [tuple(map(int, l.split())) for l in lines]
    # Reparented to guise-init: a subreaper on the host, PID 1 in its namespace.
    expected_parent = 1 if mode == "pidns" else run.pid
    assert all(ppid == expected_parent for _, ppid in reported), reported

    def settled():
        below = descendants(run.pid)
        zombies = {p: st for p, st in below.items() if st[0] == "Z"}
        return len(below) == 1 and not zombies and below
    below = wait_for(settled, timeout=5)
    assert below, "left below guise-init: %r" % descendants(run.pid)
    if mode == "host":
        for pid, _ in reported:
            assert _stat(pid) is None or _stat(pid)[1] != run.pid
    os.kill(run.pid, signal.SIGTERM)
    rc, _, _ = run.wait()
    assert rc == 128 + signal.SIGTERM


KILLED_GRANDCHILD = """
    import os, signal, sys, time
    r, w = os.pipe()
    if os.fork() == 0:
        if os.fork() == 0:
            os.close(r)
            os.write(w, b"%d\\n" % os.getpid())
            os.close(w)
            time.sleep(0.2)
            os.kill(os.getpid(), signal.SIGKILL)
        os._exit(0)
    os.close(w)
    os.wait()
    print(os.read(r, 100).decode().strip(), flush=True)
    time.sleep(1)
    os.kill(os.getpid(), signal.SIGKILL)
"""


def _read_all(fd, until):
    data = b""
    end = time.monotonic() + TIMEOUT
    while time.monotonic() < end:
        ready, _, _ = select.select([fd], [], [], 0.1)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:  # EIO: a pty whose other side is all closed
                break
            if not chunk:
                break
            data += chunk
        elif until():
            # guise-init gone: whatever it wrote is already in the pipe.
            ready, _, _ = select.select([fd], [], [], 0)
            if not ready:
                break
    return data.decode()


@pytest.mark.parametrize("mode", MODES)
def test_monitor_fd_hears_of_signal_deaths(start, mode):
    r, w = os.pipe()
    try:
        run = start(mode, script(KILLED_GRANDCHILD), monitor_fd=w)
        os.close(w)
        w = -1
        grandchild = int(run.read_line())
        lines = _read_all(r, lambda: run.proc.poll() is not None)
        rc, _, err = run.wait()
        assert rc == 128 + signal.SIGKILL, err
        reports = lines.splitlines()
        assert "%d 9" % grandchild in reports, lines
        # The main child died of SIGKILL too; its line is there, and nothing else.
        assert len(reports) == 2, reports
        child_pid = int([l for l in reports if l != "%d 9" % grandchild][0].split()[0])
        if mode == "pidns":
            assert child_pid == 2
        assert reports[1].endswith(" 9")
    finally:
        os.close(r)
        if w >= 0:
            os.close(w)


@pytest.mark.parametrize("mode", MODES)
def test_monitor_fd_gone_is_harmless(start, mode):
    """A monitor that closed its end: EPIPE, and no SIGPIPE forwarded to the child."""
    r, w = os.pipe()
    os.close(r)
    try:
        body = KILLED_GRANDCHILD.replace(
            "time.sleep(1)\n    os.kill(os.getpid(), signal.SIGKILL)",
            "signal.signal(signal.SIGPIPE, lambda *_: os._exit(99))\n"
            "    time.sleep(0.6)\n    sys.exit(5)")
        run = start(mode, script(body), monitor_fd=w)
        os.close(w)
        w = -1
        rc, _, err = run.wait()
        assert rc == 5, err
    finally:
        if w >= 0:
            os.close(w)


GROUP = """
    import os, signal, sys, time
    out = sys.argv[1]
    def note(who):
        with open(out, "a") as f:
            f.write(who + "\\n")
    r, w = os.pipe()
    child = os.fork()
    if child == 0:
        def on_term(*_):
            note("grandchild")
            os._exit(0)
        signal.signal(signal.SIGTERM, on_term)
        os.write(w, b"x")
        while True:
            time.sleep(0.05)
    os.read(r, 1)
    def on_term(*_):
        note("child")
        time.sleep(0.3)
        try:
            os.kill(child, signal.SIGKILL)
        except ProcessLookupError:
            pass
        os.waitpid(child, 0)
        sys.exit(42)
    signal.signal(signal.SIGTERM, on_term)
    print("ready", os.getpgrp() == os.getpid(), os.getpgid(child) == os.getpid(), flush=True)
    while True:
        time.sleep(0.05)
"""


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("group", [False, True])
def test_group_forwarding(start, mode, group, tmp_path):
    record = tmp_path / "who"
    run = start(mode, script(GROUP) + [str(record)], group=group)
    # The child leads its own process group, apart from guise-init's.
    assert run.read_line() == "ready True True\n"
    assert _stat(run.pid)[2] != [st for st in descendants(run.pid).values()][0][2]
    os.kill(run.pid, signal.SIGTERM)
    rc, _, err = run.wait()
    assert rc == 42, err
    who = sorted(record.read_text().split())
    assert who == (["child", "grandchild"] if group else ["child"])


def test_child_is_the_terminals_foreground_group(start):
    """On a terminal the child's group is the foreground one, so ^C reaches it."""
    import pty
    import fcntl
    import termios
    master, slave = pty.openpty()

    def ctty():
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)
    try:
        body = """
            import os
            print("fg", os.tcgetpgrp(0) == os.getpgrp() == os.getpid(), flush=True)
        """
        run = start("host", script(body), stdin=slave, stdout=slave, stderr=slave,
                    preexec_fn=ctty)
        os.close(slave)
        slave = -1
        out = _read_all(master, lambda: run.proc.poll() is not None)
        assert run.proc.wait(timeout=TIMEOUT) == 0
        assert "fg True" in out, out
    finally:
        os.close(master)
        if slave >= 0:
            os.close(slave)


def test_pause_takes_no_command():
    r = subprocess.run([INIT, "-P", "--", "true"], capture_output=True, text=True, timeout=TIMEOUT)
    assert r.returncode == 125
    assert r.stderr == "guise-init: -P takes no command\n", r.stderr


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT])
def test_pause_waits_for_term_or_int_and_exits_0(mode, stop):
    """-P (a pod's infra): other signals leave it running; SIGTERM or SIGINT end it with 0."""
    if mode == "pidns" and not CAN_PIDNS:
        pytest.skip("needs root and unshare --pid")
    argv = [INIT, "--pause"] if stop == signal.SIGINT else [INIT, "-P"]
    if mode == "pidns":
        argv = ["unshare", "--pid", "--fork", "--mount-proc"] + argv
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)
    try:
        run = Init(proc, mode)
        pid = run.pid
        time.sleep(0.1)  # its signal mask set up: a signal before that would take the default action
        for sig in (signal.SIGHUP, signal.SIGUSR1, signal.SIGCHLD, signal.SIGTSTP):
            os.kill(pid, sig)
        time.sleep(0.2)
        assert proc.poll() is None, "guise-init -P ended on a signal other than TERM or INT"
        assert _stat(pid)[0] in "SR", _stat(pid)
        os.kill(pid, stop)
        out, err = proc.communicate(timeout=TIMEOUT)
        assert (proc.returncode, out, err) == (0, b"", b"")
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=TIMEOUT)
