"""Bad input from a registry (issue section 5): a one-line error naming the object, exit
non-zero, and the store exactly as before (locks/ aside).  And a pull killed with SIGKILL
leaves nothing that a second pull and a prune do not clear."""

import gzip
import os
import time

import pytest

import image_builder as ib
from imagetest import (guise, needs_guise, needs_root, assert_one_line_error, store_listing,  # noqa: F401
                       diff_listings, leftovers, check_expected, kill_group)
from registry_fixture import registry, basic_registry, seed, ThrottleProxy  # noqa: F401

pytestmark = [needs_guise, needs_root]


@pytest.fixture
def ready_store(guise, registry, tmp_path):
    """A store that holds one good image already (so "unchanged" means something), and its listing."""
    good = ib.basic(str(tmp_path / "good"))
    ref = seed(registry, good, "good:latest")
    guise.ok("pull", ref)
    return store_listing(guise.root)


def assert_store_unchanged(guise, before):
    after = store_listing(guise.root)
    assert diff_listings(before, after) == {}, diff_listings(before, after)


def test_blob_digest_mismatch(guise, registry, ready_store, tmp_path):
    img = ib.multi_layer(str(tmp_path / "img"), 2)
    ref = seed(registry, img, "corrupt:latest")
    victim = img.layer_digests[1]
    path = registry.blob_data_path(victim)
    with open(path, "rb") as f:
        data = bytearray(f.read())
    data[len(data) // 2] ^= 0xFF  # same size, other bytes
    with open(path, "wb") as f:
        f.write(bytes(data))
    r = guise("pull", ref)
    assert_one_line_error(r, victim)
    assert_store_unchanged(guise, ready_store)


@pytest.mark.parametrize("comp", ["gzip", "zstd"])
def test_truncated_layer(guise, registry, ready_store, tmp_path, comp):
    tar = ib.layer_tar(ib.busybox_entries())
    whole = ib.compress(tar, comp)
    img = ib.raw_layer_image(str(tmp_path / "img"), whole[:len(whole) // 2], ib.LAYER_MEDIA_TYPES[comp],
                             diff_id=ib.sha256(tar))
    ref = "%s/truncated-%s:latest" % (registry.host, comp)
    registry.push_layout(img.layout, "truncated-%s" % comp, "latest")
    r = guise("pull", ref)
    assert_one_line_error(r, img.layer_digests[0])
    assert_store_unchanged(guise, ready_store)


def test_layer_not_matching_its_diff_id(guise, registry, ready_store, tmp_path):
    """A layer that decompresses fine but is not the tar the config's diff_id names."""
    tar = ib.layer_tar(ib.busybox_entries())
    img = ib.raw_layer_image(str(tmp_path / "img"), gzip.compress(tar, mtime=0), ib.MT_LAYER_GZIP,
                             diff_id=ib.sha256(b"something else"))
    registry.push_layout(img.layout, "wrongdiff", "latest")
    r = guise("pull", "%s/wrongdiff:latest" % registry.host)
    assert_one_line_error(r)
    assert img.diff_ids[0] in r.err or img.layer_digests[0] in r.err, r
    assert_store_unchanged(guise, ready_store)


def test_manifest_references_missing_blob(guise, registry, ready_store, tmp_path):
    img = ib.multi_layer(str(tmp_path / "img"), 2)
    ref = seed(registry, img, "missing:latest")
    gone = img.layer_digests[1]
    os.unlink(registry.blob_data_path(gone))
    r = guise("pull", ref)
    assert_one_line_error(r, gone)
    assert_store_unchanged(guise, ready_store)


def test_unknown_layer_media_type(guise, registry, ready_store, tmp_path):
    mt = "application/vnd.guise.test.unknown"
    tar = ib.layer_tar(ib.busybox_entries())
    img = ib.raw_layer_image(str(tmp_path / "img"), gzip.compress(tar, mtime=0), mt, diff_id=ib.sha256(tar))
    registry.push_layout(img.layout, "oddtype", "latest")
    r = guise("pull", "%s/oddtype:latest" % registry.host)
    assert_one_line_error(r, mt)
    assert_store_unchanged(guise, ready_store)


def test_unauthorized(guise, basic_registry, tmp_path):
    img = ib.basic(str(tmp_path / "img"))
    ref = seed(basic_registry, img, "private:latest")
    guise.ok("images")
    before = store_listing(guise.root)
    r = guise("pull", "--authfile", str(tmp_path / "none.json"), ref)
    assert_one_line_error(r, "private")
    assert_store_unchanged(guise, before)


def test_not_found(guise, registry, ready_store):
    ref = "%s/good:no-such-tag" % registry.host
    r = guise("pull", ref)
    assert_one_line_error(r, "no-such-tag")
    r = guise("pull", "%s/no-such-repo:latest" % registry.host)
    assert_one_line_error(r, "no-such-repo")
    assert_store_unchanged(guise, ready_store)


def test_load_of_a_non_archive(guise, ready_store, tmp_path):
    junk = str(tmp_path / "junk.tar")
    with open(junk, "wb") as f:
        f.write(b"this is not a tar archive\n" * 100)
    r = guise("load", "-i", junk)
    assert_one_line_error(r, "junk.tar")
    assert_store_unchanged(guise, ready_store)


# --------------------------------------------------------------- kill -9 mid-pull


def _first_entry(d):
    try:
        for name in os.listdir(d):
            p = os.path.join(d, name)
            if os.path.isdir(p) or os.path.getsize(p) > 0:
                return p
    except FileNotFoundError:
        pass
    return None


@pytest.mark.parametrize("stage", ["ingest", "tmp"])
def test_kill_during_pull_then_pull_again(guise, registry, tmp_path, stage):
    """SIGKILL once the first blob is being downloaded (ingest/) or unpacked (tmp/); the next
    pull completes and a prune leaves no scratch behind."""
    img = ib.large(str(tmp_path / "big"), mb=24, layers=3)
    seed(registry, img, "big:latest")
    # The rate is per connection, and a pull opens several.
    proxy = ThrottleProxy(registry.port, rate=1 << 20)
    try:
        ref = "%s/big:latest" % proxy.host
        guise.ok("images")
        p = guise.popen("pull", ref)
        try:
            deadline = time.monotonic() + 60
            hit = None
            while time.monotonic() < deadline and p.poll() is None:
                hit = _first_entry(os.path.join(guise.root, stage))
                if hit:
                    break
                time.sleep(0.005)
            if p.poll() is not None:
                pytest.fail("the pull ended (rc %s) before anything showed in %s/" % (p.returncode, stage))
            assert hit, "nothing in %s/ within 60s" % stage
        finally:
            kill_group(p)
        proxy.rate = None
        guise.ok("pull", ref, timeout=300)
        path = guise.mount(ref)
        try:
            assert not check_expected(path, img)
        finally:
            guise.unmount(ref)
        guise.ok("image", "prune", "-f")
        assert leftovers(guise.root) == []
        guise.ok("rmi", ref)
        guise.ok("image", "prune", "-a", "-f")
        assert leftovers(guise.root) == []
        blobs = os.path.join(guise.root, "blobs", "sha256")
        assert not os.path.isdir(blobs) or os.listdir(blobs) == []
    finally:
        proxy.close()


def _blob_gets(registry, digest):
    """How many times the registry served the blob (its access log lines)."""
    return sum(1 for line in registry.log(10 ** 7).splitlines()
               if ('"GET /v2/' in line and "/blobs/" + digest in line and '" 200 ' in line))


def test_two_pulls_of_one_image_fetch_each_layer_once(guise, registry, tmp_path):
    """Pulls of the same image at once share the work: each layer comes from the registry
    once (the second pull waits on the first's layer lock, then finds the snapshot), and
    both end with the image."""
    img = ib.large(str(tmp_path / "big"), mb=6, layers=2)
    seed(registry, img, "shared:latest")
    proxy = ThrottleProxy(registry.port, rate=4 << 20)  # slow enough that the two overlap
    try:
        ref = "%s/shared:latest" % proxy.host
        before = {d: _blob_gets(registry, d) for d in img.layer_digests}
        a = guise.popen("pull", "-q", ref)
        b = guise.popen("pull", "-q", ref)
        out_a, err_a = a.communicate(timeout=300)
        out_b, err_b = b.communicate(timeout=300)
        assert a.returncode == 0 and b.returncode == 0, (err_a, err_b)
        for d in img.layer_digests:
            assert _blob_gets(registry, d) - before[d] == 1, "layer %s fetched more than once" % d
        assert guise.inspect(ref)["Id"] == img.config_digest
    finally:
        proxy.close()


def test_pulls_of_two_images_run_at_once(guise, registry, tmp_path):
    """No store-wide lock: while one pull is held up mid-layer, a pull of another image
    completes."""
    slow_img = ib.large(str(tmp_path / "slow"), mb=12, layers=1, seed=7)
    fast_img = ib.basic(str(tmp_path / "fast"))
    seed(registry, slow_img, "slow:latest")
    fast_ref = seed(registry, fast_img, "fast:latest")
    proxy = ThrottleProxy(registry.port, rate=256 << 10)
    try:
        slow = guise.popen("pull", "-q", "%s/slow:latest" % proxy.host)
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and not _first_entry(os.path.join(guise.root, "ingest")):
                time.sleep(0.01)
            assert slow.poll() is None, "the slow pull ended before the test could overlap it"
            guise.ok("pull", "-q", fast_ref, timeout=60)
            assert slow.poll() is None, "the slow pull was expected to still be running"
        finally:
            proxy.rate = None
        out, err = slow.communicate(timeout=300)
        assert slow.returncode == 0, err
    finally:
        proxy.close()


def test_disk_full_leaves_the_store_as_it_was(registry, tmp_path):
    """A store on a 24 MiB tmpfs, an image that does not fit: one line naming the lack of
    space, and nothing of the pull left (no blob, ingest, snapshot or record)."""
    import subprocess
    from imagetest import Guise
    mnt = str(tmp_path / "small")
    os.makedirs(mnt)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=24m", "tmpfs", mnt], check=True)
    try:
        g = Guise(os.path.join(mnt, "store"))
        good = ib.basic(str(tmp_path / "good"))
        g.ok("pull", seed(registry, good, "good:latest"))
        before = store_listing(g.root)
        big = ib.large(str(tmp_path / "big"), mb=20, layers=2, seed=11)
        r = g("pull", seed(registry, big, "big:latest"), timeout=300)
        assert_one_line_error(r)
        assert "No space left on device" in r.err, r.err
        assert diff_listings(before, store_listing(g.root)) == {}, diff_listings(before, store_listing(g.root))
        g.cleanup()
    finally:
        subprocess.run(["umount", "-l", mnt])


def test_rmi_and_prune_during_a_pull_leave_a_consistent_store(guise, registry, tmp_path):
    """While a pull is mid-layer, `rmi` of its image is a clean "no such image" and
    `image prune -a` takes nothing the pull holds (its lease); the pull then completes
    into a usable image, and removing that image returns the store to what it was."""
    img = ib.large(str(tmp_path / "big"), mb=8, layers=2, seed=5)
    seed(registry, img, "racy:latest")
    guise.ok("image", "prune", "-a", "-f")  # the store's directories, made by any command
    guise.ok("ps", "-a")
    before = store_listing(guise.root)
    proxy = ThrottleProxy(registry.port, rate=1 << 20)
    try:
        ref = "%s/racy:latest" % proxy.host
        pull = guise.popen("pull", "-q", ref)
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and not _first_entry(os.path.join(guise.root, "ingest")):
                time.sleep(0.01)
            assert pull.poll() is None, "the pull ended before the test could overlap it"
            r = guise("rmi", ref)
            assert r.rc != 0
            assert_one_line_error(r)
            assert "No such image" in r.err or "image not known" in r.err, r.err
            guise.ok("image", "prune", "-a", "-f")
            assert pull.poll() is None, "the pull was expected to still be running"
        finally:
            proxy.rate = None
        out, err = pull.communicate(timeout=300)
        assert pull.returncode == 0, err
    finally:
        proxy.close()
    assert guise.inspect(ref)["Id"] == img.config_digest
    mnt = guise.ok("image", "mount", ref).out.strip()
    try:
        check_expected(mnt, img)
    finally:
        guise.ok("image", "unmount", ref)
    guise.ok("rmi", ref)
    guise.ok("image", "prune", "-a", "-f")
    assert leftovers(guise.root) == []
    assert diff_listings(before, store_listing(guise.root)) == {}, diff_listings(before, store_listing(guise.root))
