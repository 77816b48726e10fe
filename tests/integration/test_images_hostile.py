"""Hostile layers (issue section 4): every entry stays inside the layer.  A pull either fails
with a one-line error or contains the entry; either way the host paths the layer aims at
are as they were, nothing lands beside the store, and the store still works."""

import os
import uuid

import pytest

import image_builder as ib
from imagetest import guise, needs_guise, needs_root, assert_one_line_error, check_expected, leftovers  # noqa: F401
from registry_fixture import registry, seed  # noqa: F401

pytestmark = [needs_guise, needs_root]


@pytest.mark.parametrize("kind", ib.HOSTILE_KINDS)
def test_hostile_layer_stays_inside(guise, registry, tmp_path, kind):
    good = ib.basic(str(tmp_path / "good"))
    good_ref = seed(registry, good, "good:latest")
    guise.ok("pull", good_ref)

    img = ib.hostile(str(tmp_path / "hostile"), kind, uuid.uuid4().hex[:12])
    ref = seed(registry, img, "hostile-%s:latest" % kind)
    before = ib.prepare_hostile_host(img)
    passwd_before = ib.snapshot_host_paths(["/etc/passwd", "/etc/shadow"])
    try:
        r = guise("pull", ref)
        if r.rc != 0:
            assert_one_line_error(r)
        else:
            path = guise.mount(ref)
            try:
                # Contained: whatever the entry became, it is inside the image.
                for dirpath, dirnames, filenames in os.walk(path):
                    for n in dirnames + filenames:
                        p = os.path.join(dirpath, n)
                        if os.path.islink(p):
                            continue
                        assert os.path.realpath(p).startswith(os.path.realpath(path) + "/"), p
            finally:
                guise.unmount(ref)
        assert ib.snapshot_host_paths(img.host_paths) == before
        assert ib.snapshot_host_paths(["/etc/passwd", "/etc/shadow"]) == passwd_before
        # Nothing climbed out beside the store: no "escape" in any directory above it.
        d = os.path.realpath(guise.root)
        while d != "/":
            d = os.path.dirname(d)
            assert not os.path.lexists(os.path.join(d, "escape")), d
        # The store still works: the good image is whole and mounts.
        path = guise.mount(good_ref)
        try:
            assert not check_expected(path, good)
        finally:
            guise.unmount(good_ref)
        assert leftovers(guise.root) == []
    finally:
        ib.cleanup_hostile_host(img)
