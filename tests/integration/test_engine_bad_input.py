"""A run that fails before the user's process starts: one line naming what is wrong,
docker's status, and nothing left behind (no record, rootfs, mount, monitor, cgroup)."""
import glob
import os

import pytest

from engine_fixture import eng, images, monitor_pids, store_mounts, template_store  # noqa: F401


def guise_cgroups():
    return set(glob.glob("/sys/fs/cgroup/*/guise/*/")) | set(glob.glob("/sys/fs/cgroup/guise/*/"))


CASES = [
    # (args, exit code, words the one line must hold)
    (["--memory", "12q", "bb", "true"], 125, ['invalid argument "12q" for "-m, --memory" flag']),
    (["--cpus", "-1", "bb", "true"], 125, ['"--cpus"']),
    (["-p", "99999:80", "bb", "true"], 125, ["99999"]),
    (["--no-such-flag", "bb", "true"], 125, ["unknown flag: --no-such-flag"]),
    (["--pull", "never", "no-such-image:1", "true"], 125, ["No such image: no-such-image:1"]),
    (["--mount", "type=bind,source=/no/such/dir,target=/x", "bb", "true"], 125,
     ['invalid mount config for type "bind": bind source path does not exist: /no/such/dir']),
    (["--runtime", "/bin/false", "bb", "true"], 125, ["/bin/false"]),
    (["--ulimit", "nofile=20:10", "bb", "true"], 125, ["nofile"]),
    (["--restart", "sometimes", "bb", "true"], 125, ["sometimes"]),
    (["--network", "bridge2", "bb", "true"], 125, ["bridge2"]),
    (["bb", "no-such-command"], 127, ['"no-such-command"', "executable file not found"]),
    (["bb", "/bin/noexec"], 126, ["/bin/noexec"]),
]


@pytest.mark.parametrize("args,code,words", CASES, ids=[" ".join(c[0][:2]) for c in CASES])
def test_bad_run_leaves_nothing(eng, args, code, words):
    cg_before = guise_cgroups()
    r = eng("run", "--rm", *args)
    assert r.rc == code, r
    lines = r.err.strip().splitlines()
    assert len(lines) == 1, r
    for w in words:
        assert w in lines[0], r
    assert r.out == ""
    assert eng.entries("containers") == [] and eng.entries("rootfs") == []
    assert store_mounts(eng.root) == []
    assert monitor_pids(eng.root) == []
    # other stores on the host may be making cgroups meanwhile: only this run's id counts
    new = [d for d in guise_cgroups() - cg_before if os.path.basename(d.rstrip("/")) in r.err]
    assert new == []
    assert eng.ok("ps", "-aq").out == ""


def test_name_in_use_leaves_nothing_new(eng):
    cid = eng.ok("create", "--name", "taken", "bb", "true").out.strip()
    r = eng("run", "--name", "taken", "bb", "true")
    assert r.rc == 125 and len(r.err.strip().splitlines()) == 1, r
    assert 'Conflict. The container name "/taken" is already in use by container "%s"' % cid in r.err, r
    assert eng.entries("containers") == [cid] and eng.entries("rootfs") == [cid]
    r = eng("create", "--name", "taken", "bb", "true")
    assert r.rc == 125


def test_missing_v_source_is_made_as_docker_does(eng, tmp_path):
    src = tmp_path / "made" / "by-run"
    eng.ok("run", "--rm", "-v", "%s:/x" % src, "bb", "touch", "/x/file")
    assert (src / "file").is_file()
