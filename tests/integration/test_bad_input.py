"""Bad bundles and configs: exit 1, a message that points at the problem, nothing left."""

import os
import shutil

from conftest import runc_xfail


def _create_raw(ct, bundle=None):
    """create without rewriting config.json (the test has broken it on purpose)."""
    return ct.rt("create", "--bundle", bundle or ct.bundle, ct.id, track=ct.id)


def _assert_nothing_left(ct):
    r = ct.state_result()
    assert r.rc != 0 and "does not exist" in r.err, r
    assert not os.path.exists(os.path.join(ct.root, ct.id))
    r = ct.rt("list", "-q")
    assert ct.id not in r.out.split()


def _write_raw(ct, text):
    with open(os.path.join(ct.bundle, "config.json"), "w") as f:
        f.write(text)


def test_malformed_config_fails_cleanly(ct):
    _write_raw(ct, '{"ociVersion": "1.0.2", "process": ')
    r = _create_raw(ct)
    assert r.rc == 1, r
    assert r.err.strip()
    _assert_nothing_left(ct)


@runc_xfail("runc 1.1 reports a bare JSON decoder error ('unexpected EOF') "
            "without naming config.json")
def test_malformed_config_message_names_file(ct):
    _write_raw(ct, '{"ociVersion": "1.0.2", "process": ')
    r = _create_raw(ct)
    assert r.rc == 1, r
    assert "config.json" in r.err, r


def test_config_not_an_object(ct):
    _write_raw(ct, '["not", "an", "object"]')
    r = _create_raw(ct)
    assert r.rc == 1, r
    _assert_nothing_left(ct)


def test_wrong_field_type(ct):
    ct.cfg["process"]["args"] = "sh"  # must be an array
    ct.write_config()
    r = _create_raw(ct)
    assert r.rc == 1, r
    _assert_nothing_left(ct)


def test_missing_config_json(ct):
    assert not os.path.exists(os.path.join(ct.bundle, "config.json"))  # never written
    r = _create_raw(ct)
    assert r.rc == 1, r
    assert "config.json" in r.err, r
    _assert_nothing_left(ct)


def test_unknown_namespace_type(ct):
    ct.cfg["linux"]["namespaces"].append({"type": "bogusns"})
    ct.write_config()
    r = _create_raw(ct)
    assert r.rc == 1, r
    assert "bogusns" in r.err, r
    _assert_nothing_left(ct)


def test_duplicate_namespace(ct):
    ct.cfg["linux"]["namespaces"].append({"type": "pid"})
    ct.write_config()
    r = _create_raw(ct)
    assert r.rc == 1, r
    _assert_nothing_left(ct)


def test_missing_rootfs(ct):
    shutil.rmtree(ct.rootfs)
    ct.write_config()
    r = _create_raw(ct)
    assert r.rc == 1, r
    assert "rootfs" in r.err, r
    _assert_nothing_left(ct)


def test_rootfs_is_a_file(ct):
    shutil.rmtree(ct.rootfs)
    open(ct.rootfs, "w").close()
    ct.write_config()
    r = _create_raw(ct)
    assert r.rc == 1, r
    _assert_nothing_left(ct)


@runc_xfail("runc 1.1 fails with 'fork/exec /proc/self/exe: not a directory', "
            "naming neither the rootfs nor its path")
def test_rootfs_is_a_file_message_names_rootfs(ct):
    shutil.rmtree(ct.rootfs)
    open(ct.rootfs, "w").close()
    ct.write_config()
    r = _create_raw(ct)
    assert r.rc == 1, r
    assert "rootfs" in r.err, r


def test_missing_bundle(ct):
    missing = os.path.join(ct.dir, "no-such-bundle")
    r = _create_raw(ct, bundle=missing)
    assert r.rc == 1, r
    assert missing in r.err, r
    _assert_nothing_left(ct)


def test_missing_mount_source(ct):
    missing = os.path.join(ct.dir, "no-such-source")
    ct.add_mount("/mnt/x", "bind", missing, ["rbind"])
    ct.write_config()
    r = _create_raw(ct)
    assert r.rc == 1, r
    assert missing in r.err, r
    _assert_nothing_left(ct)


def test_relative_mount_destination_in_cwd_rootfs(ct):
    # Not an error in runc 1.1 for old specs; at the least nothing may leak.
    ct.add_tmpfs("relative/dest")
    ct.probe_args("echo", "x")
    ct.write_config()
    r = ct.rt("run", "--bundle", ct.bundle, ct.id, track=ct.id)
    if r.rc == 0:
        assert r.out == "x\n"
    _assert_nothing_left(ct)


def test_bad_uid_mapping_fails_cleanly(ct):
    ct.cfg["linux"]["namespaces"].append({"type": "user"})
    # Overlapping ranges: the kernel refuses this uid_map.
    ct.cfg["linux"]["uidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 10},
                                      {"containerID": 5, "hostID": 200000, "size": 10}]
    ct.cfg["linux"]["gidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 10}]
    ct.write_config()
    r = _create_raw(ct)
    assert r.rc == 1, r
    _assert_nothing_left(ct)


def test_user_namespace_without_mappings_fails(ct):
    ct.cfg["linux"]["namespaces"].append({"type": "user"})
    ct.write_config()
    r = _create_raw(ct)
    assert r.rc == 1, r
    _assert_nothing_left(ct)


def test_bad_rlimit_name(ct):
    ct.cfg["process"]["rlimits"] = [{"type": "RLIMIT_BOGUS", "soft": 1, "hard": 1}]
    ct.write_config()
    r = _create_raw(ct)
    assert r.rc == 1, r
    assert "RLIMIT_BOGUS" in r.err, r
    _assert_nothing_left(ct)


def test_no_args(ct):
    ct.cfg["process"]["args"] = []
    ct.write_config()
    r = _create_raw(ct)
    assert r.rc == 1, r
    assert "args" in r.err, r
    _assert_nothing_left(ct)


def test_failed_run_leaves_nothing(ct):
    # Fails inside the container's init (exec of a missing file), after the
    # namespaces, mounts and cgroups were made.
    ct.set_args("/no/such/binary")
    r = ct.run()
    assert r.rc != 0, r
    _assert_nothing_left(ct)
