"""The runtime's typed seam (src/runtime/runtime.h), driven as the engine drives it:
no command line, stdio of the caller's choosing, an exec'd process the caller owns,
errors told apart by kind. tests/integration/runtime_api_probe.cc makes the calls and
prints one JSON object a step; the container is checked from outside here too.
"""
import json
import os
import subprocess

import pytest

from conftest import IS_RUNC, REPO, TESTBIN, cgroup_dirs_named

PROBE = os.path.join(REPO, "build", "runtime-api-probe")


@pytest.fixture
def probe():
    if IS_RUNC:
        pytest.skip("the typed runtime API is guise's own; runc has only its command line")
    if not os.access(PROBE, os.X_OK):
        pytest.skip("build/runtime-api-probe not built")
    return PROBE


def test_typed_api_runs_execs_watches_and_removes(ct, probe):
    ct.set_args("/bin/sh", "-c", "echo started; exec %s sleep 60" % TESTBIN)
    ct.cfg["hostname"] = "api-probe"
    ct.write_config()
    ct.ids.append(ct.id)
    r = subprocess.run([probe, ct.root, ct.bundle, ct.id], capture_output=True, text=True, timeout=60)
    steps = {}
    for line in r.stdout.splitlines():
        rec = json.loads(line)
        steps[rec.pop("step")] = rec
    assert r.returncode == 0, (r.stdout, r.stderr)

    assert steps["run"]["ok"], steps["run"]
    again = steps["run-same-id"]
    assert not again["ok"] and again["kind"] == "already exists", again
    assert steps["state"]["status"] == "running", steps["state"]
    # The same id twice left the first container alone.
    assert steps["state"]["pid"] > 0

    ex = steps["exec"]
    assert ex["ok"], ex
    assert ex["exit_code"] == 0 and ex["stdout"] == "hostname api-probe\n", ex

    assert steps["stats"]["ok"] and steps["stats"]["pids_current"] >= 1, steps["stats"]
    running = steps["remove-running"]
    assert not running["ok"] and running["kind"] == "wrong state", running

    w = steps["watch"]
    assert w["ok"] and w["kill_ok"], w
    assert w["stats_ticks"] >= 1, w  # 50 ms ticks while the killer waited 200 ms
    assert steps["init-exit"]["exit_code"] == 128 + 9, steps["init-exit"]
    # The container's stdout was the caller's pipe.
    assert steps["container-stdout"]["text"] == "started\n", steps["container-stdout"]

    assert steps["remove"]["ok"], steps["remove"]
    after = steps["state-after"]
    assert not after["ok"] and after["kind"] == "not found", after
    missing = steps["remove-missing"]
    assert not missing["ok"] and missing["kind"] == "not found", missing
    # Nothing left on the host.
    assert not os.path.exists(os.path.join(ct.root, ct.id))
    assert cgroup_dirs_named(ct.id) == []
