"""The engine killed at any moment: `guise run` (the CLI), the container's monitor or
its init gets SIGKILL, and `guise rm -f NAME` (or, for a name that never got a
record, the next `guise` command) leaves nothing: no record, rootfs mount, monitor,
cgroup, veth, pinned namespace, lease or published-port rule."""

import os
import signal
import subprocess
import time

import pytest

from conftest import pid_alive, wait_for
from engine_fixture import eng, images, leftovers, monitor_pids, template_store  # noqa: F401
from network_fixture import host_links, net, network_leftovers  # noqa: F401

TRIES = 30
# `guise run -d` with a published port takes about 60-90 ms here: kills spread over
# 150 ms reach every step (name, record, rootfs, network, monitor, init).
SPREAD_S = 0.150


def _all_leftovers(e, ids, links_before):
    left = leftovers(e, ids) + network_leftovers(e.root, ids)
    new_links = [l for l in host_links() if l.startswith("gv") and l not in links_before]
    if new_links:
        left.append("veths: %s" % new_links)
    names = os.path.join(e.root, "container-names")
    if os.path.isdir(names) and os.listdir(names):
        left.append("names: %s" % os.listdir(names))
    return left


def test_guise_run_killed_at_any_moment_is_undone_by_rm_f(net):
    links_before = host_links()
    problems = []
    for i in range(TRIES):
        name = "crash%d" % i
        p = subprocess.Popen(net.argv("run", "-d", "--name", name, "-p", "%d:80" % (20000 + i), "bb",
                                      "sleep", "30"),
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
        time.sleep(SPREAD_S * i / TRIES)
        p.kill()
        p.wait()
        net.seen_ids |= set(net.ids())
        r = net("rm", "-f", name)
        if r.rc != 0 and "No such container" not in r.err:
            problems.append("%s: rm -f: rc %d: %s" % (name, r.rc, r.err.strip()))
        # A name whose record was never written is freed by the next command that meets it.
        net("ps", "-a")
        ids = net.seen_ids
        wait_for(lambda: not _all_leftovers(net, ids, links_before), 5)
        left = _all_leftovers(net, ids, links_before)
        if left:
            problems.append("%s (killed after %.0f ms): %s" % (name, 1000 * SPREAD_S * i / TRIES, "; ".join(left)))
            break  # one is enough to tell; what it left would repeat in every later line
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("victim", ["monitor", "init"])
def test_a_killed_monitor_or_init_is_undone_by_rm_f(net, victim):
    links_before = host_links()
    cid = net.run_d("--name", "vic", "-p", "20100:80", "bb", "sleep", "30")
    if victim == "monitor":
        pids = monitor_pids(net.root)
        assert len(pids) == 1, pids
        pid = pids[0]
    else:
        pid = net.pid("vic")
    os.kill(pid, signal.SIGKILL)
    assert wait_for(lambda: not pid_alive(pid), 5)
    net.ok("rm", "-f", "vic")
    wait_for(lambda: not _all_leftovers(net, {cid}, links_before), 5)
    assert not _all_leftovers(net, {cid}, links_before)
