"""A runtime killed in the middle of `create` or `run` (a shim's OOM kill, a node
drain): from the first thing it makes on the host, `delete --force` finds the
container and undoes all of it: no cgroup directory in any hierarchy, no process,
no state directory."""

import os
import signal
import time

import pytest

from conftest import cgroup_dirs_named, processes_matching, wait_for

# Kills spread over the runtime's first 25 ms: a create takes about 10 ms here,
# so every step of it (state directory, cgroups, clone, rootfs, ready) is hit.
TRIES = 40
SPREAD_S = 0.025


@pytest.mark.parametrize("command", ["create", "run"])
def test_a_runtime_killed_at_any_moment_leaves_nothing_after_delete_force(ct, command):
    ct.set_args("/bin/sleep", "30")
    leaks = []
    for i in range(TRIES):
        cid = "%s-k%d" % (ct.id, i)
        ct.write_config(cid)
        pending = ct.spawn(command, "--bundle", ct.bundle, cid, track=cid)
        time.sleep(SPREAD_S * i / TRIES)
        os.kill(pending.popen.pid, signal.SIGKILL)
        pending.popen.wait()
        r = ct.delete(cid, force=True)
        if r.rc != 0 and "does not exist" not in r.err:
            leaks.append("%s: delete --force: rc %d: %s" % (cid, r.rc, r.err.strip()))
        # The init may take a moment to go once its cgroup is killed.
        wait_for(lambda: not processes_matching(ct.bundle, cid), timeout=5)
        left = cgroup_dirs_named(cid)
        procs = processes_matching(ct.bundle, cid)
        state = os.path.join(ct.root, cid)
        if left or procs or os.path.exists(state):
            leaks.append("%s (killed after %.1f ms): cgroups %s, processes %s, state dir %s" % (
                cid, 1000 * SPREAD_S * i / TRIES, left, procs, os.path.exists(state)))
    assert not leaks, "\n".join(leaks)
