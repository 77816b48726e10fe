"""guise's image commands against a real registry on loopback (see registry_fixture.py),
with images from image_builder.py.  Each test has its own store (imagetest.guise)."""

import base64
import json
import os
import subprocess

import pytest

import image_builder as ib
from imagetest import (guise, needs_guise, needs_root, assert_one_line_error, check_expected,  # noqa: F401
                       tree_facts, compare_trees, leftovers)
from registry_fixture import (registry, tls_registry, basic_registry, token_registry,  # noqa: F401
                              registry_factory, seed, skopeo_inspect)

pytestmark = [needs_guise, needs_root]

MT_V2S2 = "application/vnd.docker.distribution.manifest.v2+json"


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    d = tmp_path_factory.mktemp("layouts")
    return {
        "gzip": ib.basic(str(d / "gzip")),
        "zstd": ib.basic(str(d / "zstd"), compression="zstd"),
        "none": ib.basic(str(d / "none"), compression="none"),
        "multi": ib.multi_layer(str(d / "multi"), 4),
        "whiteouts": ib.whiteouts(str(d / "whiteouts")),
        "special": ib.special_files(str(d / "special")),
        "index": ib.multi_arch(str(d / "index")),
    }


def _manifest(reg, ref):
    r = skopeo_inspect(reg, ref, raw=True)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def _digest_of(reg, ref):
    import hashlib
    r = skopeo_inspect(reg, ref, raw=True)
    return "sha256:" + hashlib.sha256(r.stdout.encode()).hexdigest()


def assert_inspect_matches(info, ref, repo_digest, img):
    assert info["Id"] == img.config_digest, info
    assert info["RepoTags"] == [ref], info
    assert repo_digest in info["RepoDigests"], info
    assert info["Architecture"] == "amd64" and info["Os"] == "linux", info
    assert info["Config"]["Cmd"] == ["sh"] and info["Config"]["Env"] == [ib.PATH_ENV], info
    assert info["RootFS"]["Type"] == "layers" and info["RootFS"]["Layers"] == img.diff_ids, info
    assert info["Created"].startswith("2023-11-14T22:13:20"), info
    assert info["Size"] > 0, info


def assert_content(guise, ref, img):
    path = guise.mount(ref)
    try:
        problems = check_expected(path, img)
        assert not problems, problems
    finally:
        guise.unmount(ref)


# --------------------------------------------------------------- formats and compressions


@pytest.mark.parametrize("fmt,comp", [("oci", "gzip"), ("oci", "zstd"), ("oci", "none"), ("v2s2", "gzip")])
def test_pull_format_and_compression(guise, registry, built, fmt, comp):
    img = built[comp]
    ref = seed(registry, img, "busybox-%s-%s:latest" % (fmt, comp), format=fmt)
    manifest = _manifest(registry, ref)
    assert manifest["mediaType"] == (ib.MT_OCI_MANIFEST if fmt == "oci" else MT_V2S2)
    r = guise.ok("pull", ref)
    assert r.err.strip() == "" or "rror" not in r.err, r
    info = guise.inspect(ref)
    repo_digest = ref.rsplit(":", 1)[0] + "@" + _digest_of(registry, ref)
    assert_inspect_matches(info, ref, repo_digest, img)
    assert_content(guise, ref, img)


def test_pull_multi_layer(guise, registry, built):
    ref = seed(registry, built["multi"], "multi:latest")
    guise.ok("pull", ref)
    info = guise.inspect(ref)
    assert info["RootFS"]["Layers"] == built["multi"].diff_ids
    assert_content(guise, ref, built["multi"])
    hist = guise.ok("history", ref).out.splitlines()
    assert len(hist) == 1 + len(built["multi"].layer_digests), hist  # a header and one line a layer
    assert "guise-test layer 3" in hist[1], hist


def test_pull_quiet_prints_the_reference(guise, registry, built):
    ref = seed(registry, built["gzip"], "busybox:latest")
    r = guise.ok("pull", "-q", ref)
    assert r.out == ref + "\n", r  # as docker pull -q: the full reference name, nothing else
    assert r.err == "", r


def test_pull_by_digest(guise, registry, built):
    ref = seed(registry, built["gzip"], "busybox:latest")
    digest = _digest_of(registry, ref)
    by_digest = "%s/busybox@%s" % (registry.host, digest)
    guise.ok("pull", by_digest)
    info = guise.inspect(by_digest)
    assert info["Id"] == built["gzip"].config_digest
    assert by_digest in info["RepoDigests"], info
    assert info["RepoTags"] == [], info


def test_pull_again_is_a_no_op(guise, registry, built):
    ref = seed(registry, built["gzip"], "busybox:latest")
    guise.ok("pull", ref)
    before = guise.ok("images", "-q", "--no-trunc").out
    guise.ok("pull", ref)
    assert guise.ok("images", "-q", "--no-trunc").out == before


# --------------------------------------------------------------- registry modes


def test_pull_tls_with_cert_dir(guise, tls_registry, built):
    ref = seed(tls_registry, built["gzip"], "busybox:latest")
    guise.ok("pull", "--tls-verify=true", "--cert-dir", tls_registry.cert_dir, ref)
    assert guise.inspect(ref)["Id"] == built["gzip"].config_digest


def test_pull_tls_without_ca_fails_naming_the_certificate(guise, tls_registry, built):
    ref = seed(tls_registry, built["gzip"], "busybox:latest")
    # Loopback registries are insecure by default (as docker), so verification is asked for.
    r = guise("pull", "--tls-verify=true", ref)
    assert_one_line_error(r)
    assert "certificate" in r.err.lower(), r
    assert guise("image", "inspect", ref).rc != 0


def test_pull_tls_verify_false_skips_verification(guise, tls_registry, built):
    ref = seed(tls_registry, built["gzip"], "busybox:latest")
    guise.ok("pull", "--tls-verify=false", ref)


def test_basic_auth_login_pull_logout(guise, basic_registry, built, tmp_path):
    reg = basic_registry
    ref = seed(reg, built["gzip"], "private:latest")
    authfile = str(tmp_path / "auth.json")
    r = guise("pull", "--authfile", authfile, ref)
    assert_one_line_error(r)
    guise.ok("login", "-u", reg.user, "-p", reg.password, "--authfile", authfile, reg.host)
    with open(authfile) as f:
        auths = json.load(f)["auths"]
    assert base64.b64decode(auths[reg.host]["auth"]).decode() == reg.creds, auths
    guise.ok("pull", "--authfile", authfile, ref)
    assert guise.inspect(ref)["Id"] == built["gzip"].config_digest
    guise.ok("logout", "--authfile", authfile, reg.host)
    with open(authfile) as f:
        assert reg.host not in json.load(f).get("auths", {})


def test_login_wrong_password_fails(guise, basic_registry, tmp_path):
    reg = basic_registry
    authfile = str(tmp_path / "auth.json")
    # --password-stdin: with -p docker (and guise) first warn that -p is insecure.
    r = guise("login", "-u", reg.user, "--password-stdin", "--authfile", authfile, reg.host, input="wrong\n")
    assert_one_line_error(r)
    assert "401" in r.err
    assert not os.path.exists(authfile) or reg.host not in open(authfile).read()


def test_login_password_stdin(guise, basic_registry, built, tmp_path):
    reg = basic_registry
    ref = seed(reg, built["gzip"], "private:latest")
    authfile = str(tmp_path / "auth.json")
    guise.ok("login", "-u", reg.user, "--password-stdin", "--authfile", authfile, reg.host,
             input=reg.password + "\n")
    guise.ok("pull", "--authfile", authfile, ref)


def test_token_auth_pull(guise, token_registry, built, tmp_path):
    reg = token_registry
    ref = seed(reg, built["gzip"], "private:latest")
    authfile = str(tmp_path / "auth.json")
    anon = guise("pull", "--authfile", authfile, ref)
    assert_one_line_error(anon)
    guise.ok("login", "-u", reg.user, "-p", reg.password, "--authfile", authfile, reg.host)
    guise.ok("pull", "--authfile", authfile, ref)
    assert guise.inspect(ref)["Id"] == built["gzip"].config_digest
    # The client asked our token server for a pull scope on the repository.
    assert any("scope=repository%3Aprivate%3Apull" in p or "scope=repository:private:pull" in p
               for p, _ in reg.token_server.requests), reg.token_server.requests


def test_push_with_token_auth(guise, token_registry, built, tmp_path):
    reg = token_registry
    src = seed(reg, built["gzip"], "src:latest")
    authfile = str(tmp_path / "auth.json")
    guise.ok("login", "-u", reg.user, "-p", reg.password, "--authfile", authfile, reg.host)
    guise.ok("pull", "--authfile", authfile, src)
    dst = "%s/pushed:v1" % reg.host
    guise.ok("tag", src, dst)
    guise.ok("push", "--authfile", authfile, dst)
    r = skopeo_inspect(reg, dst)
    assert r.returncode == 0, r.stderr


# --------------------------------------------------------------- multi-arch


def test_multi_arch_default_platform(guise, registry, built):
    ref = seed(registry, built["index"], "multi:latest")
    guise.ok("pull", ref)
    info = guise.inspect(ref)
    assert info["Architecture"] == "amd64" and info["Id"] == built["index"].config_digest
    assert_content(guise, ref, built["index"])


def test_multi_arch_platform_flag(guise, registry, built):
    ref = seed(registry, built["index"], "multi:latest")
    guise.ok("pull", "--platform", "linux/arm64/v8", ref)
    info = guise.inspect(ref)
    assert info["Architecture"] == "arm64" and info.get("Variant") == "v8", info
    guise.ok("pull", "--platform", "linux/s390x", ref)
    assert guise.inspect(ref)["Architecture"] == "s390x"


def test_multi_arch_missing_platform_lists_the_others(guise, registry, built):
    ref = seed(registry, built["index"], "multi:latest")
    guise.ok("images")
    r = guise("pull", "--platform", "linux/ppc64le", ref)
    assert_one_line_error(r, "linux/ppc64le")
    for p in built["index"].platforms:
        assert p in r.err, (p, r)
    assert guise("image", "inspect", ref).rc != 0


# --------------------------------------------------------------- many layers


def test_128_layers_pull_and_mount(guise, registry, tmp_path):
    img = ib.many_layers(str(tmp_path / "many"))
    ref = seed(registry, img, "many:latest")
    guise.ok("pull", ref, timeout=600)
    assert len(guise.inspect(ref)["RootFS"]["Layers"]) == 128
    assert_content(guise, ref, img)


# --------------------------------------------------------------- unpack equals umoci


@pytest.mark.parametrize("variant", ["whiteouts", "special", "multi"])
def test_unpack_equals_umoci(guise, registry, built, variant, tmp_path):
    img = built[variant]
    ref = seed(registry, img, "%s:latest" % variant)
    guise.ok("pull", ref)
    bundle = str(tmp_path / "umoci")
    r = subprocess.run(["umoci", "unpack", "--image", "%s:%s" % (img.layout, img.tag), bundle],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    want = tree_facts(os.path.join(bundle, "rootfs"))
    path = guise.mount(ref)
    try:
        got = tree_facts(path)
        problems = check_expected(path, img)
    finally:
        guise.unmount(ref)
    # Directory modes and owners are compared too; umoci's rootfs root itself is not an entry.
    assert not compare_trees(want, got), compare_trees(want, got)
    assert not problems, problems


def test_mount_hides_whiteouts_and_opaque_lowers(guise, registry, built):
    img = built["whiteouts"]
    ref = seed(registry, img, "wh:latest")
    guise.ok("pull", ref)
    path = guise.mount(ref)
    try:
        assert sorted(os.listdir(os.path.join(path, "keep"))) == ["a", "new"]
        assert sorted(os.listdir(os.path.join(path, "opq"))) == ["fresh", "kept-by-upper"]
        with open(os.path.join(path, "opq", "kept-by-upper")) as f:
            assert f.read() == "upper\n"
    finally:
        guise.unmount(ref)


# --------------------------------------------------------------- the image list


def test_images_tag_rmi(guise, registry, built):
    ref = seed(registry, built["gzip"], "busybox:latest")
    guise.ok("pull", ref)
    other = "%s/another:v2" % registry.host
    guise.ok("tag", ref, other)
    info = guise.inspect(other)
    assert sorted(info["RepoTags"]) == sorted([ref, other])
    ids = guise.ok("images", "-q").out.split()
    assert ids == [built["gzip"].config_digest.split(":")[1][:12]], ids  # one image, two names
    full = guise.ok("images", "-q", "--no-trunc").out.split()
    assert full == [built["gzip"].config_digest]
    table = guise.ok("images").out.splitlines()
    assert table[0].split()[:3] == ["REPOSITORY", "TAG", "IMAGE"], table
    assert len(table) == 3, table
    digests = guise.ok("images", "--digests").out
    assert _digest_of(registry, ref) in digests
    lines = [json.loads(l) for l in guise.ok("images", "--format", "json").out.splitlines() if l.strip()]
    assert {(l["Repository"], l["Tag"]) for l in lines} == {("%s/busybox" % registry.host, "latest"),
                                                              ("%s/another" % registry.host, "v2")}
    tmpl = guise.ok("images", "--format", "{{.Repository}}:{{.Tag}}").out.split()
    assert sorted(tmpl) == sorted([ref, other])
    fmt = guise.ok("image", "inspect", "--format", "{{.Id}}", ref).out.strip()
    assert fmt == built["gzip"].config_digest
    guise.ok("rmi", other)  # a name goes; the image stays for the other
    assert guise.inspect(ref)["RepoTags"] == [ref]
    guise.ok("rmi", ref)
    assert guise.ok("images", "-q").out.strip() == ""
    assert guise("image", "inspect", ref).rc != 0


def test_rmi_force_keeps_nothing(guise, registry, built):
    ref = seed(registry, built["multi"], "multi:latest")
    guise.ok("pull", ref)
    guise.ok("tag", ref, "%s/multi:other" % registry.host)
    guise.ok("rmi", "-f", built["multi"].config_digest)
    assert guise.ok("images", "-a", "-q").out.strip() == ""
    guise.ok("image", "prune", "-a", "-f")
    blobs = os.path.join(guise.root, "blobs", "sha256")
    assert not os.path.isdir(blobs) or os.listdir(blobs) == []
    chains = os.path.join(guise.root, "snapshots", "chains")
    assert not os.path.isdir(chains) or os.listdir(chains) == []
    assert leftovers(guise.root) == []


def test_rmi_unknown_image(guise):
    r = guise("rmi", "no-such-image:latest")
    assert_one_line_error(r, "no-such-image")


def test_image_prune_removes_dangling(guise, registry, built):
    ref = "%s/moving:latest" % registry.host
    seed(registry, built["gzip"], "moving:latest")
    guise.ok("pull", ref)
    old_id = built["gzip"].config_digest
    seed(registry, built["multi"], "moving:latest")  # the tag moves on
    guise.ok("pull", ref)
    assert guise.inspect(ref)["Id"] == built["multi"].config_digest
    assert old_id in guise.ok("images", "-a", "-q", "--no-trunc").out  # dangling: <none>:<none>
    guise.ok("image", "prune", "-f")
    ids = guise.ok("images", "-a", "-q", "--no-trunc").out.split()
    assert ids == [built["multi"].config_digest], ids
    assert guise("image", "inspect", old_id).rc != 0
    guise.ok("image", "prune", "-a", "-f")
    assert guise.ok("images", "-a", "-q").out.strip() == ""


def test_system_df(guise, registry, built):
    ref = seed(registry, built["gzip"], "busybox:latest")
    guise.ok("pull", ref)
    out = guise.ok("system", "df").out.splitlines()
    assert out[0].split()[:2] == ["TYPE", "TOTAL"], out
    assert any(l.startswith("Images") and l.split()[1] == "1" for l in out), out


# --------------------------------------------------------------- round trips


def test_import_push_rmi_pull_round_trip(guise, registry, tmp_path):
    tarball = str(tmp_path / "rootfs.tar")
    files = ib.rootfs_tarball(tarball)
    name = "%s/imported:v1" % registry.host
    guise.ok("import", tarball, name)
    path = guise.mount(name)
    before = tree_facts(path)
    guise.unmount(name)
    image_id = guise.inspect(name)["Id"]
    guise.ok("push", name)
    guise.ok("rmi", name)
    guise.ok("image", "prune", "-a", "-f")
    guise.ok("pull", name)
    assert guise.inspect(name)["Id"] == image_id
    path = guise.mount(name)
    try:
        after = tree_facts(path)
        img = ib.BuiltImage("", "", None, "", "", [], [], [], {}, files=files)
        assert not check_expected(path, img)
    finally:
        guise.unmount(name)
    assert not compare_trees(before, after), compare_trees(before, after)


def test_push_oci_image_keeps_digests(guise, registry, built):
    src = seed(registry, built["zstd"], "src:latest")
    guise.ok("pull", src)
    dst = "%s/copy:latest" % registry.host
    guise.ok("tag", src, dst)
    guise.ok("push", dst)
    pushed = _manifest(registry, dst)
    assert pushed["config"]["digest"] == built["zstd"].config_digest
    # Layers go up as the store holds them: compressed as pulled, same digests.
    assert [l["digest"] for l in pushed["layers"]] == built["zstd"].layer_digests
