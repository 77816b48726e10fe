"""OCI hooks: all six kinds, their order, the state they read on stdin, failures."""

import json
import os
import time

from conftest import TESTBIN, runc_xfail, wait_for

# Hooks whose path resolves in the runtime's (host's) mount namespace; the
# startContainer hook's path resolves inside the container.
HOST_KINDS = ["prestart", "createRuntime", "createContainer", "poststart", "poststop"]
ALL_KINDS = ["prestart", "createRuntime", "createContainer", "startContainer",
             "poststart", "poststop"]


class Hooks:
    """Writes hook scripts that log their kind and save their stdin."""

    def __init__(self, ct):
        self.ct = ct
        self.dir = ct.tmpdir("hooks")
        self.log = os.path.join(self.dir, "order.log")
        # startContainer runs in the container: its script lives in the rootfs
        # and writes to the same directory through a bind mount.
        self.inner_dir = "/hooklog"
        ct.add_mount(self.inner_dir, "bind", self.dir, ["rbind", "rw"])
        os.makedirs(os.path.join(ct.rootfs, "hooks"), exist_ok=True)

    def script(self, kind, body="", inside=False):
        d = self.inner_dir if inside else self.dir
        text = "#!/bin/sh\ncat > %s/%s.json\necho %s >> %s/order.log\n%s\n" % (
            d, kind, kind, d, body)
        if inside:
            path = "/hooks/%s.sh" % kind
            host = os.path.join(self.ct.rootfs, path.lstrip("/"))
        else:
            path = host = os.path.join(self.dir, "%s.sh" % kind)
        with open(host, "w") as f:
            f.write(text)
        os.chmod(host, 0o755)
        return path

    def add(self, kind, body="", timeout=None, inside=None):
        if inside is None:
            inside = kind == "startContainer"
        path = self.script(kind, body, inside)
        hook = {"path": "/bin/sh", "args": ["sh", path], "env": ["HOOK_KIND=" + kind]}
        if timeout is not None:
            hook["timeout"] = timeout
        self.ct.cfg.setdefault("hooks", {}).setdefault(kind, []).append(hook)

    def order(self):
        if not os.path.exists(self.log):
            return []
        with open(self.log) as f:
            return f.read().split()

    def state(self, kind):
        with open(os.path.join(self.dir, kind + ".json")) as f:
            return json.load(f)


def test_all_hooks_run_in_order(ct):
    hooks = Hooks(ct)
    for kind in ALL_KINDS:
        hooks.add(kind)
    ct.probe_args("echo", "main")
    assert ct.create().rc == 0
    assert hooks.order()[:3] == ["prestart", "createRuntime", "createContainer"]
    assert ct.start().rc == 0
    ct.wait_status("stopped")
    order = hooks.order()
    assert order[:3] == ["prestart", "createRuntime", "createContainer"], order
    assert sorted(order[3:]) == ["poststart", "startContainer"], order
    assert ct.delete().rc == 0
    assert hooks.order()[-1] == "poststop"
    assert len(hooks.order()) == 6


@runc_xfail("runc 1.1 runs poststart hooks during create, not after start")
def test_poststart_waits_for_start(ct):
    hooks = Hooks(ct)
    for kind in ALL_KINDS:
        hooks.add(kind)
    ct.probe_args("echo", "main")
    assert ct.create().rc == 0
    assert hooks.order() == ["prestart", "createRuntime", "createContainer"]
    assert ct.start().rc == 0
    assert "poststart" in hooks.order()  # before start returns


@runc_xfail("runc 1.1 runs poststart hooks during create, before startContainer")
def test_start_container_hook_before_poststart(ct):
    hooks = Hooks(ct)
    hooks.add("startContainer", body="sleep 0.3")
    hooks.add("poststart")
    ct.probe_args("echo", "main")
    assert ct.create().rc == 0
    assert ct.start().rc == 0
    ct.wait_status("stopped")
    assert hooks.order() == ["startContainer", "poststart"]


@runc_xfail("runc 1.1 runs poststart hooks during create, before startContainer")
def test_run_runs_every_hook_in_order(ct):
    # `run` starts the init over its own channel, without the exec.fifo of `start`:
    # the hooks still come in the spec's order, poststart after the user's process began.
    hooks = Hooks(ct)
    hooks.add("startContainer", body="sleep 0.2")
    for kind in HOST_KINDS:
        hooks.add(kind)
    ct.probe_args("echo", "main")
    r = ct.run()
    assert r.rc == 0, r
    assert r.out == "main\n", r
    assert hooks.order() == ["prestart", "createRuntime", "createContainer", "startContainer",
                             "poststart", "poststop"]
    assert hooks.state("createContainer")["status"] == "creating"
    assert hooks.state("poststart")["status"] == "running"
    assert hooks.state("poststop")["status"] == "stopped"


def test_hooks_read_state_on_stdin(ct):
    hooks = Hooks(ct)
    for kind in ALL_KINDS:
        hooks.add(kind)
    ct.probe_args("sleep", "0.3")
    assert ct.create().rc == 0
    pid = ct.state()["pid"]
    assert ct.start().rc == 0
    ct.wait_status("stopped")
    assert ct.delete().rc == 0
    for kind in ALL_KINDS:
        st = hooks.state(kind)
        assert st["id"] == ct.id, (kind, st)
        assert st["bundle"] == ct.bundle, (kind, st)
        assert st["ociVersion"].startswith("1."), (kind, st)
        assert "status" in st, (kind, st)
    for kind in ("prestart", "createRuntime", "poststart"):
        assert hooks.state(kind)["pid"] == pid, kind
    # These run in the container's pid namespace, where the process may be 1.
    for kind in ("createContainer", "startContainer"):
        assert hooks.state(kind)["pid"] in (pid, 1), kind
    assert hooks.state("poststart")["status"] in ("running", "created")
    assert hooks.state("poststop")["status"] == "stopped"


def test_hook_args_and_env(ct):
    hooks = Hooks(ct)
    out = os.path.join(hooks.dir, "argsenv")
    ct.cfg["hooks"] = {"createRuntime": [{
        "path": "/bin/sh",
        "args": ["sh", "-c", 'echo "$0 $1 $HOOK_VAR" > %s; cat >/dev/null' % out, "one", "two"],
        "env": ["HOOK_VAR=three"],
    }]}
    assert ct.create().rc == 0
    with open(out) as f:
        assert f.read() == "one two three\n"


def _assert_nothing_left(ct):
    r = ct.state_result()
    assert r.rc != 0 and "does not exist" in r.err, r
    assert not os.path.exists(os.path.join(ct.root, ct.id))


def test_failing_prestart_fails_create(ct):
    hooks = Hooks(ct)
    hooks.add("prestart", body="exit 7")
    r = ct.create()
    assert r.rc != 0, r
    _assert_nothing_left(ct)


def test_failing_create_runtime_fails_create(ct):
    hooks = Hooks(ct)
    hooks.add("createRuntime", body="exit 7")
    hooks.add("createContainer")
    r = ct.create()
    assert r.rc != 0, r
    assert "createContainer" not in hooks.order()
    _assert_nothing_left(ct)


def test_failing_create_container_fails_create(ct):
    hooks = Hooks(ct)
    hooks.add("createContainer", body="exit 7")
    r = ct.create()
    assert r.rc != 0, r
    _assert_nothing_left(ct)


def test_missing_hook_binary_fails_create(ct):
    ct.cfg["hooks"] = {"createRuntime": [{"path": "/nonexistent/hook"}]}
    r = ct.create()
    assert r.rc != 0, r
    _assert_nothing_left(ct)


@runc_xfail("runc 1.1 runs poststart hooks during create and fails create when one fails")
def test_failing_poststart_is_only_a_warning(ct):
    hooks = Hooks(ct)
    hooks.add("poststart", body="exit 7")
    ct.probe_args("sleep", "30")
    assert ct.create().rc == 0
    r = ct.start()
    assert r.rc == 0, r
    assert ct.status() == "running"


def test_failing_poststop_still_deletes(ct):
    hooks = Hooks(ct)
    hooks.add("poststop", body="exit 7")
    ct.probe_args("exit", "0")
    assert ct.create().rc == 0
    assert ct.start().rc == 0
    ct.wait_status("stopped")
    ct.delete()
    assert "poststop" in hooks.order()
    _assert_nothing_left(ct)


def test_hook_timeout_honoured(ct):
    hooks = Hooks(ct)
    hooks.add("createRuntime", body="exec sleep 20", timeout=1)
    t0 = time.monotonic()
    r = ct.create()
    took = time.monotonic() - t0
    assert r.rc != 0, r
    assert took < 10, took
    _assert_nothing_left(ct)


def test_poststop_runs_when_run_ends(ct):
    hooks = Hooks(ct)
    hooks.add("poststop")
    r = ct.probe("echo", "x")
    assert r.rc == 0, r
    assert wait_for(lambda: "poststop" in hooks.order(), 5), hooks.order()


def test_create_container_hook_runs_in_the_container_root(ct):
    # As runc runs them: in the container's mount namespace, before pivot_root, with
    # the rootfs as the working directory.
    hooks = Hooks(ct)
    out = os.path.join(hooks.dir, "cwd")
    ct.cfg["hooks"] = {"createContainer": [{
        "path": "/bin/sh",
        "args": ["sh", "-c", "pwd -P > %s; ls > %s.ls; cat >/dev/null" % (out, out)],
    }]}
    ct.probe_args("echo", "x")
    r = ct.run()
    assert r.rc == 0, r
    with open(out) as f:
        assert f.read().strip() == os.path.realpath(ct.rootfs)
    with open(out + ".ls") as f:
        assert TESTBIN.split("/")[1] in f.read().split()  # the rootfs's own "bin"


def test_start_container_hook_sees_container_root(ct):
    # Inside the container, the rootfs's own files are at /.
    hooks = Hooks(ct)
    marker = os.path.join(hooks.dir, "seen")
    ct.cfg["hooks"] = {"startContainer": [{
        "path": "/bin/sh",
        "args": ["sh", "-c", "ls %s > /hooklog/seen; cat >/dev/null" % TESTBIN],
    }]}
    ct.probe_args("echo", "x")
    assert ct.run().rc == 0
    with open(marker) as f:
        assert f.read().strip() == TESTBIN
