"""guise and guise-full (src/cli/guise/transfer.h): guise links no libcurl and no
libarchive, and execs guise-full, beside it, for the commands that need them, with its
own argv, environment and unread stdin; everything else stays in guise."""

import os
import subprocess

import pytest

import image_builder as ib
from imagetest import GUISE, guise, needs_guise, needs_root  # noqa: F401
from registry_fixture import registry, seed  # noqa: F401

pytestmark = [needs_guise, needs_root]

FULL = os.path.join(os.path.dirname(GUISE), "guise-full")


@pytest.fixture(scope="module")
def busybox(tmp_path_factory):
    return ib.basic(str(tmp_path_factory.mktemp("layout") / "bb"))


def test_guise_links_neither_libcurl_nor_libarchive():
    assert os.access(FULL, os.X_OK), "guise-full is not built beside %s" % GUISE
    libs = subprocess.run(["ldd", GUISE], capture_output=True, text=True, check=True).stdout
    assert "libcurl" not in libs and "libarchive" not in libs, libs
    full = subprocess.run(["ldd", FULL], capture_output=True, text=True, check=True).stdout
    assert "libcurl" in full and "libarchive" in full, full


def test_run_of_a_missing_image_pulls_in_guise_full_once(guise, registry, busybox):
    ref = seed(registry, busybox, "full-binary/bb:latest")
    r = guise("run", "--rm", "--network", "none", ref, "echo", "pulled")
    assert r.rc == 0, r
    assert r.out == "pulled\n", r
    # The lines guise would print before the exec are printed by guise-full alone.
    assert r.err.count("Unable to find image") == 1, r
    assert r.err.count("Status: Downloaded newer image") == 1, r
    # Present now: the next run is guise's own, and pulls nothing.
    r = guise("run", "--rm", "--network", "none", ref, "echo", "again", env={"GUISE_FULL": "/nonexistent"})
    assert r.rc == 0 and r.out == "again\n" and "Unable to find" not in r.err, r


def test_without_guise_full_the_transfer_commands_say_so(guise, tmp_path):
    env = {"GUISE_FULL": str(tmp_path / "no-such-guise-full")}
    for args in (["pull", "busybox"], ["save", "busybox"], ["load", "-i", "x.tar"], ["cp", "a:/x", "/tmp/x"],
                 ["export", "a"], ["commit", "a"], ["login", "-u", "u", "-p", "p", "localhost:1"],
                 ["import", "-", "x"], ["push", "busybox"]):
        r = guise(*args, env=env)
        assert r.rc != 0, r
        assert r.err_lines == ["Error: this command runs in guise-full, installed beside guise: exec %s: "
                               "No such file or directory" % env["GUISE_FULL"]], r
    r = guise("pull", "busybox", env={"GUISE_FULL": GUISE})
    assert r.rc != 0 and r.err_lines == ["Error: %s is this guise, not guise-full: this command needs guise-full "
                                         "beside guise" % GUISE], r
    r = guise("run", "--rm", "--network", "none", "no-such-image", "true", env=env)
    assert r.rc == 125 and "runs in guise-full" in r.err and "Unable to find" not in r.err, r
    # The rest never needs it.
    for args in (["ps", "-a"], ["images"], ["version"], ["logout", "--authfile", str(tmp_path / "a.json"), "x"]):
        r = guise(*args, env=env)
        assert "guise-full" not in r.err, r
