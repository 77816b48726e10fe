"""The registry client (image/registry.h) through build/registry-probe.

Two kinds of registry, both on 127.0.0.1 and started per test:
  * Debian's docker-registry (distribution 2.8), anonymous and with htpasswd auth:
    blobs and manifests pushed and pulled back, digests verified;
  * a scripted HTTP server of this file's own, for what a real registry will not do
    on demand: 429 and 5xx before an answer, a connection closed half-way through a
    blob, Bearer tokens from its own realm, a manifest that is not what was asked for.
"""

import base64
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
PROBE = os.environ.get("GUISE_REGISTRY_PROBE", os.path.join(REPO, "build", "registry-probe"))
DOCKER_REGISTRY = "/usr/bin/docker-registry"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"

pytestmark = pytest.mark.skipif(not os.path.exists(PROBE), reason="no " + PROBE + " (ninja registry-probe)")


def sha256(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def probe(*args, timeout=60, env=None):
    p = subprocess.run([PROBE, *args], capture_output=True, text=True, timeout=timeout,
                       env=dict(os.environ, **(env or {})))
    lines = p.stdout.strip().splitlines()
    assert lines, "registry-probe printed nothing; stderr: " + p.stderr
    out = json.loads(lines[-1])
    assert (p.returncode == 0) == out["ok"], p.stdout + p.stderr
    return out


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port, proc, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            return False
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.05)
    return False


def make_manifest(config, layers):
    doc = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": sha256(config),
                   "size": len(config)},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": sha256(l), "size": len(l)}
                   for l in layers],
    }
    return json.dumps(doc, indent=2).encode()


# --- Debian's docker-registry -------------------------------------------------------


def bcrypt_hash(password):
    """A bcrypt hash for htpasswd, or None when this host cannot make one."""
    if shutil.which("htpasswd"):
        p = subprocess.run(["htpasswd", "-nbB", "u", password], capture_output=True, text=True)
        if p.returncode == 0:
            return p.stdout.strip().split(":", 1)[1]
    try:
        import bcrypt  # noqa: PLC0415
        return bcrypt.hashpw(password.encode(), bcrypt.gensalt()).decode()
    except ImportError:
        pass
    try:
        import warnings  # noqa: PLC0415
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            import crypt  # noqa: PLC0415
        h = crypt.crypt(password, crypt.mksalt(crypt.METHOD_BLOWFISH))
        if h and h.startswith("$2"):
            return h
    except (ImportError, AttributeError, ValueError):
        pass
    return None


class Distribution:
    def __init__(self, tmp, htpasswd=None):
        self.port = free_port()
        self.domain = "127.0.0.1:%d" % self.port
        self.dir = tmp
        auth = ""
        if htpasswd:
            path = os.path.join(tmp, "htpasswd")
            with open(path, "w") as f:
                f.write(htpasswd)
            auth = "auth:\n  htpasswd:\n    realm: guise-test\n    path: %s\n" % path
        cfg = os.path.join(tmp, "config.yml")
        with open(cfg, "w") as f:
            f.write(
                "version: 0.1\n"
                "log:\n  level: error\n  accesslog:\n    disabled: true\n"
                "storage:\n  filesystem:\n    rootdirectory: %s\n"
                "  maintenance:\n    uploadpurging:\n      enabled: false\n"
                "http:\n  addr: 127.0.0.1:%d\n  secret: guise-test-secret\n%s"
                % (os.path.join(tmp, "data"), self.port, auth))
        self.log = open(os.path.join(tmp, "registry.log"), "w")
        self.proc = subprocess.Popen([DOCKER_REGISTRY, "serve", cfg], stdout=self.log, stderr=subprocess.STDOUT,
                                     start_new_session=True)

    def stop(self):
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait()
        self.log.close()


@pytest.fixture
def registry_dir():
    d = tempfile.mkdtemp(prefix="guise-registry-")
    yield d
    shutil.rmtree(d, ignore_errors=True)


def start_distribution(tmp, htpasswd=None):
    if not os.access(DOCKER_REGISTRY, os.X_OK):
        pytest.skip("host: no " + DOCKER_REGISTRY)
    reg = Distribution(tmp, htpasswd)
    if not wait_for_port(reg.port, reg.proc):
        reg.stop()
        with open(os.path.join(tmp, "registry.log")) as f:
            pytest.fail("docker-registry did not start: " + f.read()[-2000:])
    return reg


@pytest.fixture
def distribution(registry_dir):
    reg = start_distribution(registry_dir)
    try:
        yield reg
    finally:
        reg.stop()


@pytest.fixture
def distribution_htpasswd(registry_dir):
    h = bcrypt_hash("secret-pw")
    if h is None:
        pytest.skip("host: neither htpasswd, python3-bcrypt nor crypt's bcrypt to make an htpasswd file")
    reg = start_distribution(registry_dir, "u:%s\n" % h)
    try:
        yield reg
    finally:
        reg.stop()


def push_image(domain, tmp, repo, tag, creds=()):
    config = b'{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}'
    layer = os.urandom(300 * 1024)
    paths = []
    for name, data in (("config", config), ("layer", layer)):
        path = os.path.join(tmp, name)
        with open(path, "wb") as f:
            f.write(data)
        paths.append(path)
        out = probe(*creds, "push-blob", domain, repo, path)
        assert out["ok"], out
        assert out["digest"] == sha256(data)
    manifest = make_manifest(config, [layer])
    mpath = os.path.join(tmp, "manifest.json")
    with open(mpath, "wb") as f:
        f.write(manifest)
    out = probe(*creds, "put-manifest", domain, repo, tag, OCI_MANIFEST, mpath)
    assert out["ok"], out
    return config, layer, manifest


def test_distribution_push_and_pull_back(distribution, registry_dir):
    d = distribution.domain
    config, layer, manifest = push_image(d, registry_dir, "guise/test", "v1")
    assert probe("has-blob", d, "guise/test", sha256(layer))["exists"] is True
    # Pushing what is there already is a HEAD and nothing more.
    again = probe("push-blob", d, "guise/test", os.path.join(registry_dir, "layer"))
    assert again["ok"], again

    by_tag = probe("manifest", d, "guise/test", "v1")
    assert by_tag["ok"], by_tag
    assert by_tag["digest"] == sha256(manifest)
    assert by_tag["media_type"] == OCI_MANIFEST
    assert by_tag["body"].encode() == manifest
    by_digest = probe("manifest", d, "guise/test", sha256(manifest))
    assert by_digest["ok"] and by_digest["digest"] == sha256(manifest), by_digest

    store = os.path.join(registry_dir, "store")
    for data in (config, layer):
        out = probe("blob", d, "guise/test", sha256(data), store)
        assert out["ok"], out
        with open(out["path"], "rb") as f:
            assert f.read() == data


def test_distribution_missing_things_are_not_found(distribution, registry_dir):
    d = distribution.domain
    missing = sha256(b"nothing like this")
    out = probe("blob", d, "guise/test", missing, os.path.join(registry_dir, "store"))
    assert not out["ok"] and out["kind"] == "not found", out
    assert missing in out["message"] and d + "/guise/test" in out["message"], out
    assert "404" in out["message"]
    out = probe("manifest", d, "guise/test", "nosuchtag")
    assert not out["ok"] and out["kind"] == "not found", out
    assert d + "/guise/test:nosuchtag" in out["message"], out
    assert probe("has-blob", d, "guise/test", missing)["exists"] is False
    assert probe("ping", d)["ok"]


def test_distribution_basic_auth(distribution_htpasswd, registry_dir):
    d = distribution_htpasswd.domain
    anon = probe("ping", d)
    assert not anon["ok"] and "401" in anon["message"] and "unauthorized" in anon["message"], anon
    wrong = probe("--user", "u", "--password", "nope", "ping", d)
    assert not wrong["ok"] and "401" in wrong["message"], wrong
    creds = ("--user", "u", "--password", "secret-pw")
    assert probe(*creds, "ping", d)["ok"]
    _, layer, manifest = push_image(d, registry_dir, "private/img", "latest", creds)
    got = probe(*creds, "manifest", d, "private/img", "latest")
    assert got["ok"] and got["digest"] == sha256(manifest), got
    out = probe(*creds, "blob", d, "private/img", sha256(layer), os.path.join(registry_dir, "store"))
    assert out["ok"], out
    denied = probe("manifest", d, "private/img", "latest")
    assert not denied["ok"] and "401" in denied["message"], denied
    # The same login from a docker config file.
    auth_file = os.path.join(registry_dir, "docker", "config.json")
    os.makedirs(os.path.dirname(auth_file))
    with open(auth_file, "w") as f:
        json.dump({"auths": {d: {"auth": base64.b64encode(b"u:secret-pw").decode()}}}, f)
    assert probe("--auth-file", auth_file, "ping", d)["ok"]


# --- a scripted registry --------------------------------------------------------------


class Scripted:
    """An HTTP server whose answers the test scripts per (method, path): a list of
    handlers used in turn (the last one again once the list runs out)."""

    def __init__(self):
        self.routes = {}
        self.requests = []
        self.lock = threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def handle(self):
                try:
                    first = self.connection.recv(1, socket.MSG_PEEK)
                except OSError:
                    return
                if first[:1] == b"\x16":
                    return  # a TLS ClientHello: this server has no TLS
                super().handle()

            def log_message(self, *a):
                pass

            def do_any(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else b""
                owner.dispatch(self, body)

            do_GET = do_HEAD = do_PUT = do_POST = do_PATCH = do_any

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.domain = "127.0.0.1:%d" % self.port
        self.url = "http://" + self.domain
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def route(self, method, path, *handlers):
        self.routes[(method, path)] = list(handlers)

    def dispatch(self, h, body):
        parsed = urllib.parse.urlsplit(h.path)
        with self.lock:
            self.requests.append({"method": h.command, "path": parsed.path, "query": parsed.query,
                                  "headers": {k.lower(): v for k, v in h.headers.items()}, "body": body})
            handlers = self.routes.get((h.command, parsed.path))
            if handlers is None and parsed.path == "/v2/":
                handlers = [lambda h, b: reply(h, 200, b"{}")]
            fn = None
            if handlers:
                fn = handlers.pop(0) if len(handlers) > 1 else handlers[0]
        if fn is None:
            reply(h, 404, json.dumps({"errors": [{"code": "NAME_UNKNOWN", "message": "no route"}]}).encode())
        else:
            fn(h, body)

    def seen(self, method, path):
        with self.lock:
            return [r for r in self.requests if r["method"] == method and r["path"] == path]

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def reply(h, status, body=b"", headers=None):
    h.send_response(status)
    for k, v in (headers or {}).items():
        h.send_header(k, v)
    h.send_header("Content-Length", str(len(body)))
    h.end_headers()
    if h.command != "HEAD":
        h.wfile.write(body)


def answer(status, body=b"", headers=None):
    return lambda h, _: reply(h, status, body, headers)


@pytest.fixture
def scripted():
    s = Scripted()
    try:
        yield s
    finally:
        s.stop()


FAST = ("--backoff-ms", "10")


def manifest_route(body, media_type=OCI_MANIFEST, extra=None):
    headers = {"Content-Type": media_type}
    headers.update(extra or {})
    return answer(200, body, headers)


def test_scripted_429_then_200_honours_retry_after(scripted):
    body = make_manifest(b"{}", [])
    scripted.route("GET", "/v2/r/manifests/t",
                   answer(429, b'{"errors":[{"code":"TOOMANYREQUESTS","message":"slow down"}]}', {"Retry-After": "1"}),
                   manifest_route(body))
    start = time.time()
    out = probe(*FAST, "manifest", scripted.domain, "r", "t")
    assert out["ok"] and out["digest"] == sha256(body), out
    assert time.time() - start >= 0.9, "Retry-After: 1 was not waited for"
    assert len(scripted.seen("GET", "/v2/r/manifests/t")) == 2


def test_scripted_500_then_200_and_gives_up_after_max_attempts(scripted, registry_dir):
    blob = os.urandom(50000)
    path = "/v2/r/blobs/" + sha256(blob)
    scripted.route("GET", path, answer(500), answer(503), answer(200, blob))
    out = probe(*FAST, "blob", scripted.domain, "r", sha256(blob), os.path.join(registry_dir, "store"))
    assert out["ok"], out
    assert len(scripted.seen("GET", path)) == 3

    scripted.route("GET", path, answer(502))
    out = probe(*FAST, "--attempts", "3", "blob", scripted.domain, "r", sha256(blob),
                os.path.join(registry_dir, "store2"))
    assert not out["ok"] and "502" in out["message"], out
    assert len(scripted.seen("GET", path)) == 3 + 3


def half_then_close(blob):
    def fn(h, _):
        h.send_response(200)
        h.send_header("Content-Length", str(len(blob)))
        h.end_headers()
        h.wfile.write(blob[:len(blob) // 2])
        h.wfile.flush()
        h.close_connection = True
        h.connection.shutdown(socket.SHUT_RDWR)
    return fn


def rest_from_range(blob):
    def fn(h, _):
        start = int(h.headers["Range"].split("=")[1].rstrip("-"))
        reply(h, 206, blob[start:], {"Content-Range": "bytes %d-%d/%d" % (start, len(blob) - 1, len(blob))})
    return fn


def test_scripted_broken_blob_resumes_with_range(scripted, registry_dir):
    blob = os.urandom(200 * 1024)
    path = "/v2/r/blobs/" + sha256(blob)
    scripted.route("GET", path, half_then_close(blob), rest_from_range(blob))
    out = probe(*FAST, "blob", scripted.domain, "r", sha256(blob), os.path.join(registry_dir, "store"))
    assert out["ok"], out
    with open(out["path"], "rb") as f:
        assert f.read() == blob
    reqs = scripted.seen("GET", path)
    assert len(reqs) == 2
    assert "range" not in reqs[0]["headers"]
    assert reqs[1]["headers"]["range"] == "bytes=%d-" % (len(blob) // 2)


def test_scripted_range_ignored_starts_over(scripted, registry_dir):
    blob = os.urandom(100 * 1024)
    path = "/v2/r/blobs/" + sha256(blob)
    scripted.route("GET", path, half_then_close(blob), answer(200, blob))
    out = probe(*FAST, "blob", scripted.domain, "r", sha256(blob), os.path.join(registry_dir, "store"))
    assert out["ok"], out
    with open(out["path"], "rb") as f:
        assert f.read() == blob
    assert scripted.seen("GET", path)[1]["headers"]["range"] == "bytes=%d-" % (len(blob) // 2)


def test_scripted_blob_redirect_is_followed(scripted, registry_dir):
    blob = os.urandom(10000)
    scripted.route("GET", "/v2/r/blobs/" + sha256(blob), answer(307, b"", {"Location": "/storage/x"}))
    scripted.route("GET", "/storage/x", answer(200, blob))
    out = probe(*FAST, "blob", scripted.domain, "r", sha256(blob), os.path.join(registry_dir, "store"))
    assert out["ok"], out


def test_scripted_bearer_token(scripted):
    body = make_manifest(b"{}", [])
    realm = scripted.url + "/token"

    def protected(h, _):
        if h.headers.get("Authorization") == "Bearer tok-1":
            reply(h, 200, body, {"Content-Type": OCI_MANIFEST})
        else:
            reply(h, 401, b'{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}',
                  {"WWW-Authenticate": 'Bearer realm="%s",service="scripted",scope="repository:r:pull"' % realm})

    scripted.route("GET", "/v2/r/manifests/t", protected)
    scripted.route("GET", "/token", answer(200, b'{"token":"tok-1","expires_in":300}'))
    out = probe(*FAST, "--user", "u", "--password", "p:w", "manifest", scripted.domain, "r", "t")
    assert out["ok"] and out["digest"] == sha256(body), out
    tokens = scripted.seen("GET", "/token")
    assert len(tokens) == 1
    q = urllib.parse.parse_qs(tokens[0]["query"])
    assert q["service"] == ["scripted"] and q["scope"] == ["repository:r:pull"], q
    assert tokens[0]["headers"]["authorization"] == "Basic " + base64.b64encode(b"u:p:w").decode()
    reqs = scripted.seen("GET", "/v2/r/manifests/t")
    assert len(reqs) == 2
    assert "authorization" not in reqs[0]["headers"]
    assert reqs[1]["headers"]["authorization"] == "Bearer tok-1"


def test_scripted_token_refused_is_reported(scripted):
    realm = scripted.url + "/token"
    scripted.route("GET", "/v2/r/manifests/t",
                   answer(401, b"", {"WWW-Authenticate": 'Bearer realm="%s",service="s"' % realm}))
    scripted.route("GET", "/token", answer(401, b'{"errors":[{"code":"UNAUTHORIZED","message":"bad login"}]}'))
    out = probe(*FAST, "manifest", scripted.domain, "r", "t")
    assert not out["ok"], out
    assert "/token" in out["message"] and "401 unauthorized: bad login" in out["message"], out


def test_scripted_manifest_digest_mismatch(scripted):
    body = make_manifest(b"{}", [])
    wanted = sha256(b"some other manifest")
    scripted.route("GET", "/v2/r/manifests/" + wanted, manifest_route(body))
    out = probe(*FAST, "manifest", scripted.domain, "r", wanted)
    assert not out["ok"], out
    assert wanted in out["message"] and sha256(body) in out["message"], out

    lying = sha256(b"a third one")
    scripted.route("GET", "/v2/r/manifests/t", manifest_route(body, extra={"Docker-Content-Digest": lying}))
    out = probe(*FAST, "manifest", scripted.domain, "r", "t")
    assert not out["ok"], out
    assert lying in out["message"] and sha256(body) in out["message"], out


def test_scripted_manifest_size_cap_and_media_type(scripted):
    scripted.route("GET", "/v2/r/manifests/big", manifest_route(b" " * (4 * 1024 * 1024 + 1)))
    out = probe(*FAST, "manifest", scripted.domain, "r", "big")
    assert not out["ok"] and "larger than" in out["message"], out
    body = make_manifest(b"{}", [])
    scripted.route("GET", "/v2/r/manifests/json", manifest_route(body, media_type="application/json"))
    out = probe(*FAST, "manifest", scripted.domain, "r", "json")
    assert out["ok"] and out["media_type"] == OCI_MANIFEST, out


def test_scripted_push_with_relative_location_and_query(scripted, registry_dir):
    blob = os.urandom(70000)
    path = os.path.join(registry_dir, "blob")
    with open(path, "wb") as f:
        f.write(blob)
    scripted.route("HEAD", "/v2/r/blobs/" + sha256(blob), answer(404))
    scripted.route("POST", "/v2/r/blobs/uploads/", answer(202, b"", {"Location": "/upload/u1?_state=abc"}))
    scripted.route("PUT", "/upload/u1", answer(201))
    out = probe(*FAST, "push-blob", scripted.domain, "r", path)
    assert out["ok"], out
    put = scripted.seen("PUT", "/upload/u1")
    assert len(put) == 1
    assert urllib.parse.parse_qs(put[0]["query"]) == {"_state": ["abc"], "digest": [sha256(blob)]}
    assert put[0]["body"] == blob

    scripted.route("PUT", "/v2/r/manifests/v1", answer(400, b'{"errors":[{"code":"MANIFEST_INVALID","message":"bad"}]}'))
    mpath = os.path.join(registry_dir, "m.json")
    with open(mpath, "wb") as f:
        f.write(b"{}")
    out = probe(*FAST, "put-manifest", scripted.domain, "r", "v1", OCI_MANIFEST, mpath)
    assert not out["ok"] and "400 manifest_invalid: bad" in out["message"], out
    assert scripted.seen("PUT", "/v2/r/manifests/v1")[0]["headers"]["content-type"] == OCI_MANIFEST


def test_registries_config_is_read(scripted, registry_dir):
    good = os.path.join(registry_dir, "registries.json")
    with open(good, "w") as f:
        json.dump({"insecure-registries": [scripted.domain]}, f)
    assert probe("ping", scripted.domain, env={"GUISE_REGISTRIES_CONFIG": good})["ok"]
    bad = os.path.join(registry_dir, "bad.json")
    with open(bad, "w") as f:
        f.write('{"insecure-registries": "not a list"}')
    out = probe("ping", scripted.domain, env={"GUISE_REGISTRIES_CONFIG": bad})
    assert not out["ok"] and bad in out["message"], out
