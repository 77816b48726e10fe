"""The engine tests' expectations, run through podman (with crun) on the same image, to
prove them right: exit codes, inspect's State fields, ps's columns, the log formats.
Skipped, with the host's reason, where podman cannot run a container here."""
import json
import os
import re
import shutil
import subprocess

import pytest

from engine_fixture import eng, images, template_store  # noqa: F401

PODMAN = shutil.which("podman")


# podman's default RLIMIT_NOFILE/NPROC are above this VM's hard limits, and crun refuses
# the host's hybrid cgroup layout: the probe tries crun, then runc, with lower limits.
ULIMITS = ["--ulimit", "nofile=1024:1024", "--ulimit", "nproc=4096:4096"]


class Podman:
    def __init__(self, d, runtime):
        self.base = ["podman", "--root", os.path.join(d, "root"), "--runroot", os.path.join(d, "run"),
                     "--cgroup-manager", "cgroupfs", "--events-backend", "file", "--runtime", runtime]
        self.extra = []

    def __call__(self, *args, input=None, timeout=60):
        args = list(args)
        if args and args[0] in ("run", "create"):
            args[1:1] = self.extra
        p = subprocess.run(self.base + args, input=input, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=timeout, stdin=None if input is not None else subprocess.DEVNULL)
        return p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")


@pytest.fixture(scope="module")
def podman(images, tmp_path_factory):
    if not PODMAN:
        pytest.skip("host: podman is not installed")
    d = str(tmp_path_factory.mktemp("podman"))
    pm = Podman(d, "crun")
    rc, out, err = pm("import", images.rootfs_tar, "bb:latest")
    if rc != 0:
        pytest.skip("host: podman import fails: %s" % err.strip()[-200:])
    errors = []
    for runtime, extra in (("crun", []), ("crun", ULIMITS), ("/usr/sbin/runc", ULIMITS)):
        pm.base[-1], pm.extra = runtime, extra
        rc, out, err = pm("run", "--rm", "bb", "true")
        if rc == 0:
            break
        errors.append("%s: %s" % (runtime, (err.strip().splitlines() or ["?"])[-1][:160]))
    else:
        pytest.skip("host: podman cannot run a container: %s" % "; ".join(errors))
    yield pm
    rc, out, _ = pm("ps", "-aq")
    for cid in out.split():
        pm("rm", "-f", cid)
    subprocess.run(pm.base + ["system", "reset", "-f"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


@pytest.mark.parametrize("args,code", [
    (["bb", "true"], 0),
    (["bb", "sh", "-c", "exit 3"], 3),
    (["bb", "no-such-command"], 127),
    (["bb", "/bin/noexec"], 126),
    (["--no-such-flag", "bb", "true"], 125),
    (["--pull", "never", "no-such-image:1", "true"], 125),
])
def test_exit_codes_agree(podman, eng, args, code):
    assert podman("run", "--rm", *args)[0] == code
    assert eng("run", "--rm", *args).rc == code


def test_inspect_state_fields_agree(podman, eng):
    rc, cid, _ = podman("run", "-d", "bb", "sh", "-c", "exit 4")
    podman("wait", cid.strip())
    pst = json.loads(podman("inspect", cid.strip())[1])[0]["State"]
    gid = eng.run_d("bb", "sh", "-c", "exit 4")
    eng.ok("wait", gid)
    gst = eng.inspect(gid)["State"]
    for key in ("Status", "Running", "Paused", "Pid", "ExitCode", "OOMKilled", "StartedAt", "FinishedAt"):
        assert key in pst and key in gst, key
        assert type(pst[key]) == type(gst[key]), key
    for key in ("Status", "Running", "Paused", "Pid", "ExitCode", "OOMKilled"):
        assert pst[key] == gst[key], key


def test_ps_columns_agree(podman, eng):
    podman("create", "--name", "c1", "bb", "true")
    eng.ok("create", "--name", "c1", "bb", "true")
    cols = lambda text: re.split(r"\s{2,}", text.splitlines()[0].strip())
    assert cols(podman("ps", "-a")[1]) == cols(eng.ok("ps", "-a").out)


def test_k8s_file_format_agrees(podman, eng):
    script = "echo out1; echo err1 >&2; printf partial"
    rc, cid, _ = podman("run", "-d", "--log-driver", "k8s-file", "bb", "sh", "-c", script)
    podman("wait", cid.strip())
    ppath = json.loads(podman("inspect", cid.strip())[1])[0]["HostConfig"]["LogConfig"]["Path"]
    gid = eng.run_d("--log-driver", "k8s-file", "bb", "sh", "-c", script)
    eng.ok("wait", gid)
    gpath = eng.fmt(gid, "{{.LogPath}}")
    # the order across the two streams is a race in both: compare them apart
    strip = lambda text: sorted(l.split(" ", 1)[1] for l in text.splitlines())
    assert strip(open(ppath).read()) == strip(open(gpath).read())
