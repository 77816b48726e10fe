"""save, load and import: guise's docker-archive is what `podman load` and `docker load`
take, and guise loads what `podman save` (docker-archive and oci-archive) and `docker save`
write."""

import json
import os
import tarfile

import pytest

import image_builder as ib
from imagetest import (guise, podman, needs_guise, needs_root, check_expected, docker,  # noqa: F401
                       assert_one_line_error)
from registry_fixture import registry, seed  # noqa: F401

pytestmark = [needs_guise, needs_root]


@pytest.fixture
def pulled(guise, registry, tmp_path):
    """Two images pulled into the store: (img, ref) each."""
    a = ib.whiteouts(str(tmp_path / "a"))
    b = ib.special_files(str(tmp_path / "b"))
    ra, rb = seed(registry, a, "wh:latest"), seed(registry, b, "special:v1")
    guise.ok("pull", ra)
    guise.ok("pull", rb)
    return [(a, ra), (b, rb)]


def test_save_writes_a_docker_archive(guise, pulled, tmp_path):
    out = str(tmp_path / "both.tar")
    guise.ok("save", "-o", out, pulled[0][1], pulled[1][1])
    with tarfile.open(out) as t:
        names = t.getnames()
        manifest = json.load(t.extractfile("manifest.json"))
        assert len(manifest) == 2
        for (img, ref), entry in zip(pulled, manifest):
            assert entry["RepoTags"] == [ref]
            assert entry["Config"] in names and len(entry["Layers"]) == len(img.layer_digests)
            assert all(l in names for l in entry["Layers"])
            cfg = json.load(t.extractfile(entry["Config"]))
            assert cfg["rootfs"]["diff_ids"] == img.diff_ids


def drained_fifo(path):
    """A FIFO at PATH and a thread reading it whole: (thread, chunks)."""
    import threading
    os.mkfifo(path)
    chunks = []

    def read():
        with open(path, "rb") as f:
            chunks.append(f.read())
    t = threading.Thread(target=read, daemon=True)
    t.start()
    return t, chunks


def test_save_to_a_fifo_writes_it_and_leaves_it_a_fifo(guise, pulled, tmp_path):
    """-o names something that is not a regular file (/dev/null, /dev/stdout, a FIFO): it is
    written to, not replaced by a file renamed over it."""
    import stat
    out = str(tmp_path / "pipe")
    t, chunks = drained_fifo(out)
    guise.ok("save", "-o", out, pulled[0][1])
    t.join(10)
    assert stat.S_ISFIFO(os.lstat(out).st_mode)
    assert len(chunks) == 1 and chunks[0][257:262] == b"ustar"  # a tar came through the pipe
    assert not [n for n in os.listdir(str(tmp_path)) if n.startswith(".")]  # no temp file left


def test_save_then_podman_load(guise, podman, pulled, tmp_path):
    out = str(tmp_path / "both.tar")
    guise.ok("save", "-o", out, pulled[0][1], pulled[1][1])
    podman.ok("load", "-i", out)
    for img, ref in pulled:
        iid = podman.ok("image", "inspect", "--format", "{{.Id}}", ref).out.strip()
        assert "sha256:" + iid == img.config_digest


def test_save_then_docker_load(guise, docker, pulled, tmp_path):
    out = str(tmp_path / "both.tar")
    guise.ok("save", "-o", out, pulled[0][1], pulled[1][1])
    try:
        docker.ok("load", "-i", out)
        for img, ref in pulled:
            info = json.loads(docker.ok("image", "inspect", ref).out)[0]
            assert info["Id"] == img.config_digest
            assert info["RootFS"]["Layers"] == img.diff_ids
    finally:
        docker("rmi", "-f", *[ref for _, ref in pulled])


@pytest.mark.parametrize("fmt", ["docker-archive", "oci-archive"])
def test_podman_save_then_guise_load(guise, podman, registry, tmp_path, fmt):
    img = ib.special_files(str(tmp_path / "img"))
    ref = seed(registry, img, "fromPodman:latest".lower())
    podman.ok("pull", "-q", "--tls-verify=false", ref)
    out = str(tmp_path / ("podman-%s.tar" % fmt))
    podman.ok("save", "--format", fmt, "-o", out, ref)
    guise.ok("load", "-i", out)
    # oci-archive carries no docker RepoTags; guise names it from the archive's ref.name
    # annotation when there is one, so find the image by id.
    info = guise.inspect(img.config_digest)
    assert info["RootFS"]["Layers"] == img.diff_ids
    path = guise.mount(img.config_digest)
    try:
        assert not check_expected(path, img)
    finally:
        guise.unmount(img.config_digest)


def test_docker_save_then_guise_load(guise, docker, registry, tmp_path):
    img = ib.basic(str(tmp_path / "img"))
    ref = seed(registry, img, "fromdocker:latest", format="v2s2")
    out = str(tmp_path / "docker.tar")
    try:
        # docker treats 127.0.0.0/8 registries as insecure: plain HTTP works without config.
        docker.ok("pull", "-q", ref)
        docker.ok("save", "-o", out, ref)
    finally:
        docker("rmi", "-f", ref)
    guise.ok("load", "-i", out)
    info = guise.inspect(ref)
    assert info["Id"] == img.config_digest
    assert info["RootFS"]["Layers"] == img.diff_ids
    path = guise.mount(ref)
    try:
        assert not check_expected(path, img)
    finally:
        guise.unmount(ref)


def test_save_load_round_trip(guise, pulled, tmp_path):
    out = str(tmp_path / "one.tar")
    img, ref = pulled[1]
    guise.ok("save", "-o", out, ref)
    guise.ok("rmi", ref)
    guise.ok("image", "prune", "-a", "-f")
    r = guise.ok("load", "-i", out)
    assert ref in r.out, r  # docker: "Loaded image: NAME"
    assert guise.inspect(ref)["Id"] == img.config_digest
    path = guise.mount(ref)
    try:
        assert not check_expected(path, img)
    finally:
        guise.unmount(ref)


def test_import_rootfs_tarball(guise, tmp_path):
    tarball = str(tmp_path / "rootfs.tar")
    files = ib.rootfs_tarball(tarball)
    guise.ok("import", tarball, "imported:v1")
    info = guise.inspect("imported:v1")
    assert info["RepoTags"] == ["docker.io/library/imported:v1"] or info["RepoTags"] == ["imported:v1"], info
    assert len(info["RootFS"]["Layers"]) == 1
    path = guise.mount("imported:v1")
    try:
        assert not check_expected(path, ib.BuiltImage("", "", None, "", "", [], [], [], {}, files=files))
    finally:
        guise.unmount("imported:v1")


def test_import_of_a_missing_file(guise, tmp_path):
    r = guise("import", str(tmp_path / "nope.tar"), "x:y")
    assert_one_line_error(r, "nope.tar")
