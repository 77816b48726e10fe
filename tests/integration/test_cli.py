"""The command line: what runc users and container engines rely on."""

import json
import os
import re
import shutil
import subprocess

import pytest

from conftest import CGROUP_PARENT, TESTBIN, runc_xfail
from hostprobe import cgroup_dirs, v1_host


def test_version_mentions_spec_version(ct):
    r = ct.rt("--version")
    assert r.rc == 0, r
    assert re.search(r"^spec: 1\.\d+\.\d+", r.out, re.M), r.out


def test_version_in_runcs_shape(ct):
    # Scripts read runc's lines: "NAME version X", then "key: value" lines.
    name = os.path.basename(ct.runtime)
    for flag in ("--version", "-v"):
        r = ct.rt(flag)
        assert r.rc == 0, r
        lines = r.out.splitlines()
        assert re.fullmatch(re.escape(name) + r" version \S+", lines[0]), lines
        keys = [l.split(": ", 1)[0] for l in lines[1:]]
        assert {"commit", "spec", "libseccomp"} <= set(keys), lines
        assert keys.index("commit") < keys.index("spec") < keys.index("libseccomp"), lines
        commit = dict(l.split(": ", 1) for l in lines[1:])["commit"]
        assert commit.strip(), lines
        assert re.fullmatch(r"\d+\.\d+\.\d+", dict(l.split(": ", 1) for l in lines[1:])["libseccomp"]), lines


def test_spec_writes_config_that_run_accepts(ct):
    d = ct.tmpdir("specbundle")
    r = ct.rt("spec", "--bundle", d)
    assert r.rc == 0, r
    with open(os.path.join(d, "config.json")) as f:
        cfg = json.load(f)
    assert cfg["ociVersion"].startswith("1.")
    assert cfg["root"]["path"] == "rootfs"
    assert cfg["process"]["args"] == ["sh"]
    # The default spec asks for a terminal; nothing here provides one.
    cfg["process"]["terminal"] = False
    cfg["process"]["args"] = [TESTBIN, "echo", "hello"]
    shutil.copytree(ct.rootfs, os.path.join(d, "rootfs"), symlinks=True)
    ct.write_config(cfg=cfg, bundle=d)
    r = ct.run(bundle=d, write=False)
    assert r.rc == 0, r
    assert r.out == "hello\n"


def test_spec_refuses_to_overwrite(ct):
    d = ct.tmpdir("specbundle")
    assert ct.rt("spec", "--bundle", d).rc == 0
    r = ct.rt("spec", "--bundle", d)
    assert r.rc != 0
    assert "exists" in r.err


@runc_xfail("runc 1.1 exits 3 (urfave/cli 'No help topic') on an unknown command")
def test_unknown_command_exits_1(ct):
    r = ct.rt("no-such-command")
    assert r.rc == 1, r
    assert "no-such-command" in r.err


def test_unknown_command_fails_naming_it(ct):
    r = ct.rt("no-such-command")
    assert r.rc != 0, r
    assert "no-such-command" in r.err


def test_help_lists_every_command(ct):
    r = ct.rt("--help")
    assert r.rc == 0, r
    for cmd in ("create", "start", "run", "state", "kill", "delete", "pause", "resume", "list", "ps",
                "exec", "update", "events", "features", "spec"):
        assert re.search(rf"^\s+{cmd}\b", r.out, re.M), (cmd, r.out)


def test_help_of_one_command(ct):
    r = ct.rt("exec", "--help")
    assert r.rc == 0, r
    assert "--tty" in r.out and "--detach" in r.out, r.out


def _sections(text):
    return [l[:-1] for l in text.splitlines() if re.fullmatch(r"[A-Z][A-Z ]+:", l)]


def test_help_in_runcs_shape(ct):
    name = os.path.basename(ct.runtime)
    for argv in (("--help",), ("help",), ("h",)):
        r = ct.rt(*argv)
        assert r.rc == 0, (argv, r)
        assert _sections(r.out) == ["NAME", "USAGE", "VERSION", "COMMANDS", "GLOBAL OPTIONS"], (argv, r.out)
        assert re.search(r"^   %s - " % re.escape(name), r.out, re.M), r.out
        assert re.search(r"^   help, h ", r.out, re.M), r.out
        assert re.search(r"^   --root value +\S", r.out, re.M), r.out
        assert re.search(r"^   --debug +\S", r.out, re.M), r.out  # a flag takes no value
    for argv in (("kill", "--help"), ("help", "kill")):
        r = ct.rt(*argv)
        assert r.rc == 0, (argv, r)
        assert _sections(r.out)[:2] == ["NAME", "USAGE"] and _sections(r.out)[-1] == "OPTIONS", (argv, r.out)
        assert re.search(r"^   %s kill - " % re.escape(name), r.out, re.M), r.out
        assert re.search(r"^   %s kill \[command options\] <container-id> \[signal\]$" % re.escape(name),
                         r.out, re.M), r.out
        assert re.search(r"^   --all, -a +\S", r.out, re.M), r.out
    r = ct.rt("help", "list")
    assert re.search(r"^   --format value, -f value +\S", r.out, re.M), r.out


def test_help_of_an_unknown_topic(ct):
    r = ct.rt("help", "foo")
    assert r.rc == 3, r  # urfave/cli's code
    assert "No help topic for 'foo'" in r.err, r
    assert r.out == "", r


def test_global_flag_value_is_not_taken_for_the_command(ct):
    # "--log DIR/list": list is the log file's name, state is the command.
    r = ct.rt("--log", os.path.join(ct.tmpdir("logs"), "list"), "state", "no-such-container")
    assert r.rc == 1, r
    assert "does not exist" in r.err, r


def test_missing_id_exits_1(ct):
    for verb in ("state", "start", "delete", "kill", "create"):
        r = ct.rt(verb)
        assert r.rc == 1, (verb, r)
        assert r.err.strip(), verb


def test_state_of_unknown_id(ct):
    r = ct.rt("state", "no-such-container")
    assert r.rc == 1, r
    assert "does not exist" in r.err


def test_id_with_slash_rejected(ct):
    ct.write_config()
    parent = os.path.dirname(ct.root)
    before = (sorted(os.listdir(ct.root)), sorted(os.listdir(parent)))
    for bad in ("a/b", "..", "../x"):
        r = ct.rt("create", "--bundle", ct.bundle, bad)
        assert r.rc == 1, (bad, r)
        assert (sorted(os.listdir(ct.root)), sorted(os.listdir(parent))) == before, bad


def test_id_in_use_rejected(ct):
    ct.probe_args("sleep", "30")
    assert ct.create().rc == 0
    r = ct.rt("create", "--bundle", ct.bundle, ct.id)
    assert r.rc == 1, r
    assert "exist" in r.err
    assert ct.status() == "created"  # the first one is untouched


def test_delete_force_of_missing_id(ct):
    r = ct.rt("delete", "--force", "no-such-container")
    assert r.rc == 0, r


def test_delete_of_missing_id_fails(ct):
    r = ct.rt("delete", "no-such-container")
    assert r.rc == 1, r
    assert "does not exist" in r.err


def _list_rows(ct):
    r = ct.rt("list")
    assert r.rc == 0, r
    lines = r.out.splitlines()
    assert lines[0].split() == ["ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"], lines
    return [l.split() for l in lines[1:]]


def test_list_shows_container(ct):
    ct.probe_args("sleep", "30")
    assert ct.create().rc == 0
    st = ct.state()
    rows = [r for r in _list_rows(ct) if r[0] == ct.id]
    assert len(rows) == 1, rows
    row = rows[0]
    assert row[1] == str(st["pid"])
    assert row[2] == "created"
    assert row[3] == ct.bundle
    assert row[5] == "root"


def test_list_quiet(ct):
    ct.probe_args("sleep", "30")
    assert ct.create().rc == 0
    r = ct.rt("list", "-q")
    assert r.rc == 0, r
    assert ct.id in r.out.split()
    assert "ID" not in r.out.split()


def test_list_json(ct):
    ct.probe_args("sleep", "30")
    assert ct.create().rc == 0
    r = ct.rt("list", "--format", "json")
    assert r.rc == 0, r
    entries = [e for e in json.loads(r.out) if e["id"] == ct.id]
    assert len(entries) == 1
    e = entries[0]
    assert e["status"] == "created"
    assert e["bundle"] == ct.bundle
    assert e["pid"] == ct.state()["pid"]
    assert "created" in e and "ociVersion" in e


def test_list_json_keys_in_runcs_order(ct):
    ct.probe_args("sleep", "30")
    ct.cfg["annotations"] = {"org.example.k": "v"}
    assert ct.create().rc == 0
    plain = ct.new_id()
    ct.cfg.pop("annotations")
    assert ct.create(cid=plain).rc == 0
    r = ct.rt("list", "--format", "json")
    assert r.rc == 0, r
    entries = {e["id"]: e for e in json.loads(r.out)}  # dicts keep the document's order
    base = ["ociVersion", "id", "pid", "status", "bundle", "rootfs", "created"]
    assert list(entries[ct.id]) == base + ["annotations", "owner"], entries[ct.id]
    assert list(entries[plain]) == base + ["owner"], entries[plain]
    assert entries[ct.id]["annotations"] == {"org.example.k": "v"}
    assert entries[plain]["owner"] == "root"


def test_list_after_delete(ct):
    ct.probe_args("sleep", "30")
    assert ct.create().rc == 0
    assert ct.delete(force=True).rc == 0
    assert ct.id not in [r[0] for r in _list_rows(ct)]
    r = ct.rt("list", "--format", "json")
    assert r.rc == 0
    assert ct.id not in [e["id"] for e in (json.loads(r.out) or [])]


def test_log_json_on_error(ct):
    log = os.path.join(ct.dir, "log.json")
    shutil.rmtree(ct.rootfs)
    ct.write_config()
    r = ct.rt("create", "--bundle", ct.bundle, ct.id,
              global_args=("--log", log, "--log-format", "json"), track=ct.id)
    assert r.rc == 1, r
    with open(log) as f:
        lines = [l for l in f.read().splitlines() if l.strip()]
    assert lines, "no log lines written"
    records = [json.loads(l) for l in lines]
    for rec in records:
        assert {"level", "msg", "time"} <= set(rec), rec
    errors = [rec for rec in records if rec["level"] == "error"]
    assert errors, records
    assert any("rootfs" in rec["msg"] for rec in errors), errors


def _log_records(path):
    with open(path) as f:
        return [json.loads(l) for l in f.read().splitlines() if l.strip()]


def test_debug_log_carries_the_container_inits_lines(ct):
    # The init's own debug lines cross back to the runtime and land in --log, as
    # runc's init's (nsexec) lines do.
    log = os.path.join(ct.dir, "debug.json")
    ct.probe_args("exit", "0")
    r = ct.run(global_args=("--debug", "--log", log, "--log-format", "json"))
    assert r.rc == 0, r
    records = _log_records(log)
    assert records, "nothing logged with --debug"
    for rec in records:
        assert {"level", "msg", "time"} <= set(rec), rec
    debug = [rec["msg"] for rec in records if rec["level"] == "debug"]
    assert any("container init" in m or "nsexec" in m for m in debug), debug


DEBUG_TEXT = re.compile(r'^time="[^"]+" level=debug msg=".+"$')


def test_debug_lines_go_to_stderr_without_log(ct):
    ct.probe_args("exit", "0")
    r = ct.run()
    assert r.rc == 0, r
    assert not [l for l in r.err.splitlines() if "debug" in l], r  # only when asked for
    r = ct.run(global_args=("--debug",))
    assert r.rc == 0, r
    assert [l for l in r.err.splitlines() if DEBUG_TEXT.match(l)], r
    r = ct.run(global_args=("--debug", "--log-format", "json"))
    assert r.rc == 0, r
    records = [json.loads(l) for l in r.err.splitlines() if l.startswith("{")]
    assert [rec for rec in records if rec["level"] == "debug" and rec["msg"] and rec["time"]], r


@runc_xfail("runc 1.1 logs debug lines only where it starts a process")
def test_every_command_says_what_it_does_with_debug(ct):
    log = os.path.join(ct.dir, "debug.log")
    seen = 0

    def debug_lines_of(*argv):
        nonlocal seen
        r = ct.rt(*argv, global_args=("--debug", "--log", log), track=ct.id)
        assert r.rc == 0, r
        with open(log) as f:
            lines = f.read().splitlines()
        new, seen = lines[seen:], len(lines)
        assert all(DEBUG_TEXT.match(l) for l in new), new
        return new

    ct.probe_args("sleep", "30")
    ct.write_config()
    for argv in (("create", "--bundle", ct.bundle, ct.id), ("start", ct.id), ("state", ct.id),
                 ("ps", ct.id), ("pause", ct.id), ("resume", ct.id), ("kill", ct.id, "0"),
                 ("exec", ct.id, TESTBIN, "pid"), ("list",), ("update", "--pids-limit", "50", ct.id),
                 ("events", "--stats", ct.id), ("kill", ct.id, "KILL")):
        assert debug_lines_of(*argv), argv
    ct.wait_status("stopped")
    assert debug_lines_of("delete", ct.id)
    assert debug_lines_of("spec", "--bundle", ct.tmpdir("spec"))


def test_log_file_exists_when_nothing_was_logged(ct):
    log = os.path.join(ct.dir, "quiet.log")
    ct.probe_args("exit", "0")
    r = ct.run(global_args=("--log", log))
    assert r.rc == 0, r
    assert os.path.exists(log), "--log FILE not created"
    with open(log) as f:
        assert not [l for l in f.read().splitlines() if "level=error" in l or "level=warning" in l]


def test_delete_force_of_a_missing_container_is_quiet_without_force_an_error(ct):
    r = ct.rt("delete", "--force", "no-such-container-" + ct.id)
    assert r.rc == 0, r
    r = ct.rt("delete", "no-such-container-" + ct.id)
    assert r.rc != 0, r
    assert "does not exist" in r.err or "not found" in r.err or "not exist" in r.err, r


# --------------------------------------------------------------- runc's wording


def test_seccomp_agent_that_cannot_be_reached_in_runcs_words(ct):
    ct.cfg["linux"]["seccomp"] = {
        "defaultAction": "SCMP_ACT_ALLOW",
        "listenerPath": os.path.join(ct.dir, "no-agent.sock"),
        "syscalls": [{"names": ["getppid"], "action": "SCMP_ACT_NOTIFY"}],
    }
    ct.probe_args("pid")
    r = ct.run()
    assert r.rc == 1, r
    assert "failed to connect with seccomp agent specified in the seccomp profile" in r.err, r
    assert "no-agent.sock" in r.err, r


def test_create_warns_when_the_containers_cgroup_already_has_processes(ct):
    ct.probe_args("sleep", "30")
    # The cgroup the runtime will use (cgroupsPath is relative: below its own, which is ours).
    mine = cgroup_dirs(os.getpid())
    targets = {c: os.path.join(d, CGROUP_PARENT, ct.id) for c, d in mine.items()}
    for c, d in targets.items():
        os.makedirs(d, exist_ok=True)
        if c == "cpuset":  # a v1 cpuset takes no process before it has cpus and mems
            for level in (os.path.dirname(d), d):
                for f in ("cpuset.cpus", "cpuset.mems"):
                    with open(os.path.join(mine[c], f)) as src, open(os.path.join(level, f), "w") as dst:
                        dst.write(src.read())
    squatter = subprocess.Popen(["sleep", "60"])
    try:
        for d in targets.values():
            with open(os.path.join(d, "cgroup.procs"), "w") as f:
                f.write(str(squatter.pid))
        r = ct.create()
        assert r.rc == 0, r
        assert "container's cgroup is not empty: 1 process(es) found" in r.err, r
    finally:
        squatter.kill()
        squatter.wait()
    r = ct.create(cid=ct.new_id())
    assert r.rc == 0, r
    assert "not empty" not in r.err, r


@pytest.mark.skipif(not v1_host(), reason="host: a cgroup v2 host takes linux.resources.unified")
def test_a_v2_only_field_on_a_v1_host_is_an_invalid_configuration(ct):
    ct.cfg["linux"].setdefault("resources", {})["unified"] = {"memory.high": "100000000"}
    ct.probe_args("pid")
    r = ct.run()
    assert r.rc == 1, r
    assert "invalid configuration" in r.err and "unified" in r.err, r
