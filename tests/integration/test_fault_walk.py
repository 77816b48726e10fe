"""Fault injection at every step (tests only): with the build-fault binaries (cmake
-DGUISE_FAULT_INJECTION=ON; scripts/test.sh makes them), step N of guise-oci's create,
exec and delete and of `guise run` fails with an injected error or is killed by SIGKILL,
for N from 1 until the command has no step N. After each: a failure the command itself
met is one clear line, and after `delete --force` / `rm -f` nothing is left: no cgroup
directory in any hierarchy, process, state directory, mount, monitor, veth, pinned
namespace, lease, published-port rule, rootfs or name."""

import os
import subprocess
import tempfile
import time

import pytest

from conftest import REPO, cgroup_dirs_named, processes_matching, wait_for
from engine_fixture import Engine, eng, images, leftovers, template_store  # noqa: F401
from network_fixture import net, network_leftovers  # noqa: F401

FAULT_BUILD = os.environ.get("GUISE_FAULT_BUILD", os.path.join(REPO, "build-fault"))
FAULT_OCI = os.path.join(FAULT_BUILD, "guise-oci")
FAULT_GUISE = os.path.join(FAULT_BUILD, "guise")

pytestmark = pytest.mark.skipif(
    not (os.access(FAULT_OCI, os.X_OK) and os.access(FAULT_GUISE, os.X_OK)),
    reason="no fault-injection build at %s (scripts/test.sh makes it with -DGUISE_FAULT_INJECTION=ON)" % FAULT_BUILD)

MAX_STEPS = 100
WALKED = {}  # (command, mode) -> steps walked, printed at the end


def _steps(log):
    try:
        with open(log) as f:
            return [line.split(None, 1) for line in f.read().splitlines()]
    except FileNotFoundError:
        return []


def _walk(tmp_path, what, mode, attempt, cleanup, left):
    """attempt(env) -> (Popen-like result with .rc/.err, pid of the command). Walks N."""
    log = str(tmp_path / ("faults-%s-%s" % (what, mode)))
    problems = []
    n = 1
    while n <= MAX_STEPS:
        if os.path.exists(log):
            os.unlink(log)
        env = dict(os.environ, GUISE_FAULT_LOG=log, GUISE_FAULT="%d:%s" % (n, mode))
        rc, err, pid = attempt(env, n)
        time.sleep(0.05)  # steps of processes the command started (monitor, exit command)
        steps = _steps(log)
        hit = len(steps) >= n
        if hit and mode == "fail" and steps[n - 1][0] == str(pid):
            lines = [l for l in err.strip().splitlines() if l]
            if rc == 0 or len(lines) != 1 or "injected fault at step %d" % n not in lines[0]:
                problems.append("step %d (%s): the command said rc %d, %r" % (n, steps[n - 1][1].strip(), rc, err))
        cleanup(n)
        wait_for(lambda: not left(n), 15)
        remains = left(n)
        if remains:
            problems.append("step %d (%s) %s: left %s" % (
                n, steps[n - 1][1].strip() if hit else "-", mode, "; ".join(remains)))
            break
        if not hit:
            break
        n += 1
    WALKED[(what, mode)] = n - 1
    print("\n%s, %s: %d steps walked" % (what, mode, n - 1))
    assert not problems, "\n".join(problems)
    assert n - 1 >= 3, "the %s walk found only %d steps: is %s a fault build?" % (what, n - 1, FAULT_BUILD)


class _Spawned:
    """Runs a command, returning rc, stderr and its pid (the pid the fault log names).
    Its stderr goes to a file: a container's init keeps the runtime's stdio open."""

    def __init__(self, argv, env, timeout=60):
        with tempfile.TemporaryFile() as err:
            self.popen = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                          stderr=err, env=env, start_new_session=True)
            self.popen.wait(timeout=timeout)
            err.seek(0)
            self.err = err.read().decode(errors="replace")
        self.rc, self.pid = self.popen.returncode, self.popen.pid
        self.returncode = self.rc


def _oci(ct, env, *args, timeout=30):
    return _Spawned([FAULT_OCI, "--root", ct.root, *args], env, timeout=timeout)


def _runtime_left(ct, cid):
    def left(_n=None):
        out = []
        cg = cgroup_dirs_named(cid)
        if cg:
            out.append("cgroups %s" % cg)
        procs = processes_matching(ct.bundle, cid)
        if procs:
            out.append("processes %s" % procs)
        if os.path.exists(os.path.join(ct.root, cid)):
            out.append("state directory")
        return out
    return left


@pytest.mark.parametrize("mode", ["fail", "kill"])
def test_fault_walk_create(ct, tmp_path, mode):
    ct.set_args("/bin/sleep", "30")

    def attempt(env, n):
        cid = "%s-%d" % (ct.id, n)
        ct.ids.append(cid)
        ct.write_config(cid)
        s = _Spawned([FAULT_OCI, "--root", ct.root, "create", "--bundle", ct.bundle, cid], env)
        return s.rc, s.err, s.pid

    def cleanup(n):
        _oci(ct, dict(os.environ), "delete", "--force", "%s-%d" % (ct.id, n))

    _walk(tmp_path, "create", mode, attempt, cleanup, lambda n: _runtime_left(ct, "%s-%d" % (ct.id, n))())


def _walk_on_a_running_container(ct, tmp_path, what, mode, command):
    """Walks COMMAND (the runtime's arguments after --root, with {cid}) against a container
    created and started without faults."""
    ct.set_args("/bin/sleep", "300")

    def attempt(env, n):
        cid = "%s-%d" % (ct.id, n)
        ct.ids.append(cid)
        ct.write_config(cid)
        plain = dict(os.environ)
        assert _oci(ct, plain, "create", "--bundle", ct.bundle, cid).returncode == 0
        assert _oci(ct, plain, "start", cid).returncode == 0
        s = _Spawned([FAULT_OCI, "--root", ct.root] + [a.format(cid=cid) for a in command], env)
        return s.rc, s.err, s.pid

    def cleanup(n):
        _oci(ct, dict(os.environ), "delete", "--force", "%s-%d" % (ct.id, n))

    _walk(tmp_path, what, mode, attempt, cleanup, lambda n: _runtime_left(ct, "%s-%d" % (ct.id, n))())


@pytest.mark.parametrize("mode", ["fail", "kill"])
def test_fault_walk_exec(ct, tmp_path, mode):
    # --detach: the exec returns once its process runs, as an engine's exec does.
    _walk_on_a_running_container(ct, tmp_path, "exec", mode, ["exec", "--detach", "{cid}", "/bin/sleep", "300"])


@pytest.mark.parametrize("mode", ["fail", "kill"])
def test_fault_walk_delete(ct, tmp_path, mode):
    _walk_on_a_running_container(ct, tmp_path, "delete", mode, ["delete", "--force", "{cid}"])


class _FaultEngine(Engine):
    def argv(self, *args):
        return [FAULT_GUISE, "--root", self.root] + [str(a) for a in args]


@pytest.mark.parametrize("mode", ["fail", "kill"])
def test_fault_walk_engine_run(net, tmp_path, mode):
    fe = _FaultEngine(net.root)

    def attempt(env, n):
        s = _Spawned(fe.argv("run", "-d", "--name", "f%d" % n, "-p", "%d:80" % (21000 + n), "bb", "sleep", "300"),
                     env)
        return s.rc, s.err, s.pid

    def cleanup(n):
        net.seen_ids |= set(net.ids())
        fe("rm", "-f", "f%d" % n)
        fe("ps", "-a")  # a half-made container is removed by the next command

    def left(n):
        ids = net.seen_ids
        out = leftovers(net, ids) + network_leftovers(net.root, ids)
        names = os.path.join(net.root, "container-names")
        if os.path.isdir(names) and [x for x in os.listdir(names) if not x.startswith(".")]:
            out.append("names %s" % os.listdir(names))
        return out

    _walk(tmp_path, "engine run", mode, attempt, cleanup, left)
