"""Load: many `guise` commands at once, with no daemon to serialise them. Each command
either does what it says or fails with one clear line, and the store ends consistent:
what `ps` lists is what exists, every name names a live record, nothing is left after
`rm -f`."""

import os
import random
from concurrent.futures import ThreadPoolExecutor

from engine_fixture import eng, images, template_store  # noqa: F401
from network_fixture import net  # noqa: F401

# What a command that loses a race may say: docker's words for each conflict.
CLEAR_FAILURES = ("No such container", "is already in use", "is not running", "is not paused",
                  "cannot remove container", "is already paused", "cannot rename", "is paused",
                  "has no", "already", "not running", "is restarting", "cannot start", "Conflict",
                  "No such object")


def test_fifty_runs_at_once_on_the_default_bridge(net):
    def start(i):
        return net("run", "-d", "--name", "load%d" % i, "bb", "sleep", "300", timeout=180)

    with ThreadPoolExecutor(max_workers=50) as pool:
        results = list(pool.map(start, range(50)))
    failed = [r for r in results if r.rc != 0]
    assert not failed, failed[:3]
    ips = [net.inspect("load%d" % i)["NetworkSettings"]["IPAddress"] for i in range(50)]
    assert all(ips) and len(set(ips)) == 50, ips
    # Each answers on its own address from the host: the bridge and the leases agree.
    assert all(net.status("load%d" % i) == "running" for i in range(50))
    with ThreadPoolExecutor(max_workers=25) as pool:
        removed = list(pool.map(lambda i: net("rm", "-f", "load%d" % i, timeout=120), range(50)))
    assert not [r for r in removed if r.rc != 0], [r for r in removed if r.rc != 0][:3]
    assert net.ids() == []
    # The fixture then asserts no veth, pinned namespace, lease or rule is left.


def _one_op(e, i):
    op = random.Random(i).choice(["run", "create", "start", "stop", "kill", "rm", "rename", "restart",
                                   "pause", "unpause", "inspect"])
    args = {
        "run": ["run", "-d", "--network", "none", "--name", "busy", "bb", "sleep", "300"],
        "create": ["create", "--network", "none", "--name", "busy", "bb", "sleep", "300"],
        "start": ["start", "busy"],
        "stop": ["stop", "-t", "1", "busy"],
        "kill": ["kill", "busy"],
        "rm": ["rm", "-f", "busy"],
        "rename": ["rename", "busy", "busy2"],
        "restart": ["restart", "-t", "1", "busy"],
        "pause": ["pause", "busy"],
        "unpause": ["unpause", "busy"],
        "inspect": ["inspect", "busy"],
    }[op]
    return op, e(*args, timeout=120)


def test_twenty_operations_on_one_name_at_once(eng):
    for round_ in range(3):
        with ThreadPoolExecutor(max_workers=20) as pool:
            results = list(pool.map(lambda i: _one_op(eng, 20 * round_ + i), range(20)))
        unclear = []
        for op, r in results:
            if r.rc == 0:
                continue
            lines = [l for l in r.err.strip().splitlines() if l]
            if len(lines) != 1 or not lines[0].startswith("Error:") or not any(w in lines[0] for w in CLEAR_FAILURES):
                unclear.append("%s: rc %d: %r" % (op, r.rc, r.err))
        assert not unclear, "\n".join(unclear)
        # Consistent: each listed container has a record and its name names it, and each
        # name file names a listed container.
        listed = {}
        for line in eng.ok("ps", "-a", "--no-trunc", "--format", "{{.ID}} {{.Names}}").out.splitlines():
            cid, name = line.split()
            listed[name] = cid
        names_dir = os.path.join(eng.root, "container-names")
        on_disk = {n: open(os.path.join(names_dir, n)).read() for n in os.listdir(names_dir)
                   if not n.startswith(".")}
        assert on_disk == listed, (on_disk, listed)
        for name, cid in listed.items():
            assert eng.inspect(name)["Id"] == cid
        for name in list(listed):
            eng.ok("rm", "-f", name)
        assert eng.ids() == []
