"""The image tests' own machinery, proven with skopeo, umoci and urllib alone (no guise):
image_builder's layouts are valid and deterministic, and each registry mode serves them."""

import base64
import json
import os
import subprocess
import urllib.request

import pytest

import image_builder as ib
from registry_fixture import (registry, tls_registry, basic_registry, token_registry,  # noqa: F401 (fixtures)
                              registry_factory, seed, skopeo_inspect, SERVICE)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """One of each image_builder variant, built once for this module."""
    d = tmp_path_factory.mktemp("layouts")
    return {
        "gzip": ib.basic(str(d / "gzip")),
        "zstd": ib.basic(str(d / "zstd"), compression="zstd"),
        "none": ib.basic(str(d / "none"), compression="none"),
        "multi": ib.multi_layer(str(d / "multi"), 4),
        "whiteouts": ib.whiteouts(str(d / "whiteouts")),
        "special": ib.special_files(str(d / "special"), devices=os.geteuid() == 0),
        "many": ib.many_layers(str(d / "many")),
        "index": ib.multi_arch(str(d / "index")),
    }


def _blob(img, digest):
    with open(os.path.join(img.layout, "blobs", "sha256", digest.split(":")[1]), "rb") as f:
        return f.read()


# --------------------------------------------------------------- image_builder


def test_layouts_are_valid_to_skopeo(built):
    for name, img in built.items():
        r = subprocess.run(["skopeo", "inspect", "--raw", img.ref], capture_output=True, text=True)
        assert r.returncode == 0, (name, r.stderr)
        top = json.loads(r.stdout)
        if img.index_digest:
            assert top["mediaType"] == ib.MT_OCI_INDEX
            assert [m["platform"]["architecture"] for m in top["manifests"]] == ["amd64", "arm64", "s390x"]
        else:
            assert [l["digest"] for l in top["layers"]] == img.layer_digests, name


def test_layouts_are_deterministic(tmp_path):
    a = ib.whiteouts(str(tmp_path / "a"))
    b = ib.whiteouts(str(tmp_path / "b"))
    assert (a.manifest_digest, a.config_digest) == (b.manifest_digest, b.config_digest)
    c = ib.basic(str(tmp_path / "c"), compression="zstd")
    d = ib.basic(str(tmp_path / "d"), compression="zstd")
    assert c.manifest_digest == d.manifest_digest


def test_configs_name_the_layers(built):
    for name, img in built.items():
        cfg = json.loads(_blob(img, img.config_digest))
        assert cfg["rootfs"]["diff_ids"] == img.diff_ids, name
        assert len(cfg["history"]) == len(img.layer_digests), name
        assert cfg["config"]["Cmd"] == ["sh"] and cfg["config"]["Env"][0].startswith("PATH="), name
    assert len(built["many"].layer_digests) == 128


def test_layer_media_types(built):
    assert built["gzip"].layer_media_types == [ib.MT_LAYER_GZIP]
    assert built["zstd"].layer_media_types == [ib.MT_LAYER_ZSTD]
    assert built["none"].layer_media_types == [ib.MT_LAYER_TAR]
    assert _blob(built["zstd"], built["zstd"].layer_digests[0])[:4] == b"\x28\xb5\x2f\xfd"
    assert _blob(built["gzip"], built["gzip"].layer_digests[0])[:2] == b"\x1f\x8b"


def _umoci_unpack(img, dest):
    r = subprocess.run(["umoci", "unpack", "--image", "%s:%s" % (img.layout, img.tag), dest],
                       capture_output=True, text=True)
    if r.returncode != 0:
        pytest.fail("umoci unpack: " + r.stderr)
    return os.path.join(dest, "rootfs")


@pytest.mark.skipif(os.geteuid() != 0, reason="host: umoci keeps owners and devices only as root")
@pytest.mark.parametrize("variant", ["whiteouts", "special", "multi"])
def test_expected_facts_match_umoci(built, variant, tmp_path):
    """The Expect facts image_builder gives are what umoci unpacks: the tests' oracle is right."""
    import imagetest
    rootfs = _umoci_unpack(built[variant], str(tmp_path / "bundle"))
    problems = imagetest.check_expected(rootfs, built[variant])
    assert not problems, problems


@pytest.mark.parametrize("kind", ib.HOSTILE_KINDS)
def test_hostile_layouts_carry_their_entries(kind, tmp_path):
    img = ib.hostile(str(tmp_path / "h"), kind, "selftest")
    r = subprocess.run(["skopeo", "inspect", img.ref], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    import gzip, io, tarfile
    names = tarfile.open(fileobj=io.BytesIO(gzip.decompress(_blob(img, img.layer_digests[0])))).getnames()
    assert any(".." in n or n.startswith("/") or n == "evil/pwned" or n == "lnk" for n in names), names


# --------------------------------------------------------------- registry modes


def test_plain_registry_serves_oci_and_schema2(registry, built):
    ref = seed(registry, built["gzip"], "busybox:oci")
    r = skopeo_inspect(registry, ref, raw=True)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["mediaType"] == ib.MT_OCI_MANIFEST
    ref = seed(registry, built["gzip"], "busybox:v2s2", format="v2s2")
    r = skopeo_inspect(registry, ref, raw=True)
    assert json.loads(r.stdout)["mediaType"] == "application/vnd.docker.distribution.manifest.v2+json"
    code, _, body = registry.get("/v2/busybox/tags/list")
    assert code == 200 and sorted(json.loads(body)["tags"]) == ["oci", "v2s2"]


def test_plain_registry_keeps_zstd_and_index(registry, built):
    ref = seed(registry, built["zstd"], "zstd:latest")
    raw = json.loads(skopeo_inspect(registry, ref, raw=True).stdout)
    assert raw["layers"][0]["mediaType"] == ib.MT_LAYER_ZSTD
    assert raw["layers"][0]["digest"] == built["zstd"].layer_digests[0]
    ref = seed(registry, built["none"], "plain-tar:latest")
    raw = json.loads(skopeo_inspect(registry, ref, raw=True).stdout)
    assert raw["layers"][0]["mediaType"] == ib.MT_LAYER_TAR
    ref = seed(registry, built["index"], "multi:latest")
    served = skopeo_inspect(registry, ref, raw=True).stdout
    raw = json.loads(served)
    assert raw["mediaType"] == ib.MT_OCI_INDEX and len(raw["manifests"]) == 3
    # skopeo may write the index anew (its own JSON spacing): the registry's digest is of what it serves.
    code, h, _ = registry.request("HEAD", "/v2/multi/manifests/latest",
                                  headers={"Accept": ib.MT_OCI_INDEX})
    assert code == 200 and h["Docker-Content-Digest"] == ib.sha256(served.encode())


def test_plain_registry_takes_raw_pushes(registry, tmp_path):
    img = ib.basic(str(tmp_path / "raw"))
    digest = registry.push_layout(img.layout, "raw", "v1")
    assert digest == img.manifest_digest
    assert os.path.exists(registry.blob_data_path(img.layer_digests[0]))


def test_tls_registry_needs_its_ca(tls_registry, built):
    ref = seed(tls_registry, built["gzip"], "busybox:latest")
    r = skopeo_inspect(tls_registry, ref)
    assert r.returncode == 0, r.stderr
    # Verified against the CA: works with it, fails without it naming the certificate.
    with_ca = subprocess.run(["skopeo", "inspect", "--cert-dir", tls_registry.cert_dir, "docker://" + ref],
                             capture_output=True, text=True)
    assert with_ca.returncode == 0, with_ca.stderr
    without = subprocess.run(["skopeo", "inspect", "docker://" + ref], capture_output=True, text=True)
    assert without.returncode != 0 and "certificate" in without.stderr, without.stderr
    code, _, _ = tls_registry.get("/v2/")
    assert code == 200


def test_basic_registry_wants_credentials(basic_registry, built):
    ref = seed(basic_registry, built["gzip"], "busybox:latest")
    assert skopeo_inspect(basic_registry, ref).returncode == 0
    code, h, _ = basic_registry.get("/v2/", auth=False)
    assert code == 401 and h["Www-Authenticate"].startswith("Basic ")
    anon = subprocess.run(["skopeo", "inspect", "--tls-verify=false", "docker://" + ref], capture_output=True, text=True)
    assert anon.returncode != 0
    wrong = subprocess.run(["skopeo", "inspect", "--tls-verify=false", "--creds", "guise:wrong", "docker://" + ref],
                           capture_output=True, text=True)
    assert wrong.returncode != 0


def test_token_registry_challenges_and_honours_tokens(token_registry, built):
    reg = token_registry
    code, h, _ = reg.get("/v2/", auth=False)
    assert code == 401
    challenge = h["Www-Authenticate"]
    assert challenge.startswith("Bearer ") and 'realm="%s"' % reg.token_server.realm in challenge
    assert 'service="%s"' % SERVICE in challenge
    # A token from our server opens /v2/ ...
    token = reg.token_server.issue(reg.user, SERVICE, [])
    req = urllib.request.Request(reg.url + "/v2/", headers={"Authorization": "Bearer " + token})
    with urllib.request.urlopen(req, timeout=10) as r:
        assert r.status == 200
    # ... a token signed for another audience does not.
    bad = reg.token_server.issue(reg.user, "someone-else", [])
    code, _, _ = reg.get("/v2/", auth=False, headers={"Authorization": "Bearer " + bad})
    assert code == 401
    # skopeo goes through the token dance to push and pull.
    ref = seed(reg, built["gzip"], "busybox:latest")
    r = skopeo_inspect(reg, ref)
    assert r.returncode == 0, r.stderr
    assert any(auth and auth.startswith("Basic ") for _, auth in reg.token_server.requests)
    # Anonymous: a token with no access, so the repository stays closed.
    anon = subprocess.run(["skopeo", "inspect", "--tls-verify=false", "docker://" + ref], capture_output=True, text=True)
    assert anon.returncode != 0


def test_factory_runs_registries_side_by_side(registry_factory):
    a, b = registry_factory("plain"), registry_factory("plain")
    assert a.port != b.port
    assert a.get("/v2/")[0] == 200 and b.get("/v2/")[0] == 200
    a.stop()
    assert a.proc.poll() is not None  # killed and reaped
    assert b.get("/v2/")[0] == 200


def test_throttle_proxy_passes_a_copy(registry, built, tmp_path):
    from registry_fixture import ThrottleProxy
    ref = seed(registry, built["gzip"], "busybox:latest")
    proxy = ThrottleProxy(registry.port, rate=8 << 20)
    try:
        via = ref.replace(registry.host, proxy.host)
        r = subprocess.run(["skopeo", "copy", "--quiet", "--src-tls-verify=false", "docker://" + via,
                            "oci:%s:x" % (tmp_path / "out")], capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stderr
    finally:
        proxy.close()


def test_podman_pulls_and_saves_from_the_registry(registry, built, tmp_path):
    """What the archive tests rely on: podman (own root) pulls from the loopback registry and
    writes docker-archive and oci-archive files."""
    from imagetest import Podman
    import shutil as _sh
    if not _sh.which("podman"):
        pytest.skip("host: no podman")
    ref = seed(registry, built["gzip"], "busybox:latest")
    pm = Podman(str(tmp_path))
    try:
        pm.ok("pull", "-q", "--tls-verify=false", ref)
        for fmt in ("docker-archive", "oci-archive"):
            out = str(tmp_path / (fmt + ".tar"))
            pm.ok("save", "--format", fmt, "-o", out, ref)
            assert os.path.getsize(out) > 1 << 20
        iid = pm.ok("image", "inspect", "--format", "{{.Id}}", ref).out.strip()
        assert "sha256:" + iid == built["gzip"].config_digest
    finally:
        pm.cleanup()
