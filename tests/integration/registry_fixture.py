"""A real registry on loopback for the image tests: Debian's docker-registry (distribution 2.8).

    reg = start_registry(tmpdir, "plain" | "tls" | "basic" | "token")
    seed(reg, img, "busybox:latest")            # skopeo copy from an image_builder layout
    ...
    reg.stop()

Each registry has its own config.yml, storage, log and port in its directory.  Modes:
  plain  HTTP;
  tls    HTTPS with a test CA (reg.cert_dir holds ca.crt, as docker's certs.d wants);
  basic  HTTP with htpasswd basic auth (bcrypt), user reg.user / reg.password;
  token  HTTP with Bearer tokens from a token server of our own (TokenServer below): RS256
         JWTs whose signing cert is the registry's auth.token.rootcertbundle; the token
         server takes reg.user / reg.password by basic auth and gives an anonymous caller a
         token with no access.
The pytest fixtures at the bottom are imported by the test modules that use them.
"""

import base64
import hashlib
import http.server
import json
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid

import pytest

REGISTRY_BIN = "/usr/bin/docker-registry"
SERVICE = "guise-test-registry"
ISSUER = "guise-test-token-issuer"
USER, PASSWORD = "guise", "s3cret-pw"
READY_TIMEOUT = 15
ib_MT_LAYER_TAR = "application/vnd.oci.image.layer.v1.tar"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run(argv, **kw):
    r = subprocess.run(argv, capture_output=True, text=True, **kw)
    if r.returncode != 0:
        raise RuntimeError("%s failed (%d): %s" % (" ".join(argv), r.returncode, r.stderr.strip()))
    return r


def _b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


# --------------------------------------------------------------- host checks


def registry_missing():
    """None, or the skip reason when the registry cannot run here."""
    if not os.access(REGISTRY_BIN, os.X_OK):
        return "host: no docker-registry (Debian package docker-registry)"
    if not shutil.which("skopeo"):
        return "host: no skopeo (Debian package skopeo)"
    return None


def bcrypt_htpasswd_line(user, password):
    """USER:BCRYPT-HASH, from htpasswd -B or python3's bcrypt; None when neither is here."""
    if shutil.which("htpasswd"):
        r = subprocess.run(["htpasswd", "-nbB", user, password], capture_output=True, text=True)
        if r.returncode == 0 and r.stdout.strip():
            return r.stdout.strip().splitlines()[0]
    try:
        import bcrypt
    except ImportError:
        return None
    return "%s:%s" % (user, bcrypt.hashpw(password.encode(), bcrypt.gensalt()).decode())


# --------------------------------------------------------------- certificates


def make_ca_and_server_cert(d):
    """A test CA and a server cert for 127.0.0.1 / localhost signed by it (openssl CLI).
    Returns (ca.crt, server.crt, server.key)."""
    ca_key, ca_crt = os.path.join(d, "ca.key"), os.path.join(d, "ca.crt")
    key, csr, crt = os.path.join(d, "server.key"), os.path.join(d, "server.csr"), os.path.join(d, "server.crt")
    ext = os.path.join(d, "server.ext")
    _run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", ca_key, "-out", ca_crt,
          "-days", "2", "-subj", "/CN=guise test CA", "-addext", "basicConstraints=critical,CA:TRUE",
          "-addext", "keyUsage=critical,keyCertSign,cRLSign"])
    _run(["openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", csr,
          "-subj", "/CN=127.0.0.1"])
    with open(ext, "w") as f:
        f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n"
                "keyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n")
    _run(["openssl", "x509", "-req", "-in", csr, "-CA", ca_crt, "-CAkey", ca_key, "-CAcreateserial",
          "-out", crt, "-days", "2", "-extfile", ext])
    return ca_crt, crt, key


def make_signing_cert(d):
    """An RSA key and its self-signed cert for signing tokens.  Returns (cert, key, DER bytes)."""
    key, crt = os.path.join(d, "token.key"), os.path.join(d, "token.crt")
    _run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", crt,
          "-days", "2", "-subj", "/CN=guise test token signer"])
    der = subprocess.run(["openssl", "x509", "-in", crt, "-outform", "DER"], capture_output=True,
                         check=True).stdout
    return crt, key, der


# --------------------------------------------------------------- token server


class TokenServer:
    """Issues distribution-style Bearer tokens: GET /token?service=S&scope=repository:NAME:ACTIONS.

    Basic auth with the right user and password: every action asked for.  No credentials:
    a token with no access (the registry then answers 401 insufficient_scope).  Wrong
    credentials: 401.  `requests` records each request's (path, authorization header)."""

    def __init__(self, d, user=USER, password=PASSWORD):
        self.cert, self.key, self.der = make_signing_cert(d)
        self.user, self.password = user, password
        self.requests = []
        self.port = free_port()
        self.realm = "http://127.0.0.1:%d/token" % self.port
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_GET(self):
                server.requests.append((self.path, self.headers.get("Authorization")))
                url = urllib.parse.urlparse(self.path)
                if url.path != "/token":
                    return self._reply(404, {"error": "not found"})
                q = urllib.parse.parse_qs(url.query)
                auth = self.headers.get("Authorization", "")
                account = None
                if auth.startswith("Basic "):
                    u, _, p = base64.b64decode(auth[6:]).decode().partition(":")
                    if (u, p) != (server.user, server.password):
                        return self._reply(401, {"errors": [{"code": "UNAUTHORIZED", "message": "bad credentials"}]})
                    account = u
                access = []
                if account:
                    for scope in q.get("scope", []):
                        for one in scope.split(" "):
                            typ, _, rest = one.partition(":")
                            name, _, actions = rest.rpartition(":")
                            access.append({"type": typ, "name": name, "actions": actions.split(",")})
                token = server.issue(account or "", q.get("service", [SERVICE])[0], access)
                self._reply(200, {"token": token, "access_token": token, "expires_in": 300,
                                  "issued_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())})

            def _reply(self, code, obj):
                body = json.dumps(obj).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def issue(self, subject, audience, access, lifetime=300):
        now = int(time.time())
        header = {"typ": "JWT", "alg": "RS256", "x5c": [base64.b64encode(self.der).decode()]}
        claims = {"iss": ISSUER, "sub": subject, "aud": audience, "exp": now + lifetime, "nbf": now - 10,
                  "iat": now, "jti": uuid.uuid4().hex, "access": access}
        signing_input = (_b64url(json.dumps(header).encode()) + "." + _b64url(json.dumps(claims).encode()))
        sig = subprocess.run(["openssl", "dgst", "-sha256", "-sign", self.key], input=signing_input.encode(),
                             capture_output=True, check=True).stdout
        return signing_input + "." + _b64url(sig)

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


# --------------------------------------------------------------- the registry


class Registry:
    def __init__(self, d, mode):
        self.dir, self.mode = d, mode
        self.port = None
        self.host = None            # "127.0.0.1:PORT": what image names start with
        self.storage = os.path.join(d, "storage")
        self.log_path = os.path.join(d, "registry.log")
        self.cert_dir = None        # tls: a dir with ca.crt (for --cert-dir / --dest-cert-dir)
        self.ca_cert = None
        self.user = self.password = None
        self.token_server = None
        self.proc = None

    @property
    def scheme(self):
        return "https" if self.mode == "tls" else "http"

    @property
    def url(self):
        return "%s://%s" % (self.scheme, self.host)

    @property
    def creds(self):
        return "%s:%s" % (self.user, self.password) if self.user else None

    def config(self):
        cfg = ["version: 0.1",
               "log:", "  level: info", "  formatter: text",
               "storage:", "  filesystem:", "    rootdirectory: %s" % self.storage,
               "  delete:", "    enabled: true",
               "  maintenance:", "    uploadpurging:", "      enabled: false",
               "http:", "  addr: 127.0.0.1:%d" % self.port, "  secret: guise-test-%s" % uuid.uuid4().hex,
               "  headers:", "    X-Content-Type-Options: [nosniff]"]
        if self.mode == "tls":
            cfg += ["  tls:", "    certificate: %s" % self.server_crt, "    key: %s" % self.server_key]
        if self.mode == "basic":
            cfg += ["auth:", "  htpasswd:", "    realm: guise-test", "    path: %s" % self.htpasswd]
        if self.mode == "token":
            ts = self.token_server
            cfg += ["auth:", "  token:", "    realm: %s" % ts.realm, "    service: %s" % SERVICE,
                    "    issuer: %s" % ISSUER, "    rootcertbundle: %s" % ts.cert]
        return "\n".join(cfg) + "\n"

    def start(self):
        if self.mode == "tls":
            certs = os.path.join(self.dir, "pki")
            os.mkdir(certs)
            self.ca_cert, self.server_crt, self.server_key = make_ca_and_server_cert(certs)
            self.cert_dir = os.path.join(self.dir, "certs.d")
            os.mkdir(self.cert_dir)
            shutil.copy(self.ca_cert, os.path.join(self.cert_dir, "ca.crt"))
        if self.mode in ("basic", "token"):
            self.user, self.password = USER, PASSWORD
        if self.mode == "basic":
            line = bcrypt_htpasswd_line(self.user, self.password)
            if line is None:
                pytest.skip("host: no bcrypt (neither htpasswd -B from apache2-utils nor python3 bcrypt)")
            self.htpasswd = os.path.join(self.dir, "htpasswd")
            with open(self.htpasswd, "w") as f:
                f.write(line + "\n")
        if self.mode == "token":
            self.token_server = TokenServer(self.dir)
        for _ in range(3):  # the free port may be taken between the probe and the bind
            self.port = free_port()
            self.host = "127.0.0.1:%d" % self.port
            cfg_path = os.path.join(self.dir, "config.yml")
            with open(cfg_path, "w") as f:
                f.write(self.config())
            log = open(self.log_path, "ab")
            self.proc = subprocess.Popen([REGISTRY_BIN, "serve", cfg_path], stdout=log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, start_new_session=True)
            log.close()
            if self._wait_ready():
                return self
            self._kill()
        raise RuntimeError("registry (%s) did not become ready on %s:\n%s" % (self.mode, self.host, self.log()))

    def _wait_ready(self):
        end = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                return False
            try:
                code, _, _ = self.get("/v2/", auth=False)
                if code in (200, 401):
                    return True
            except (OSError, urllib.error.URLError):
                pass
            time.sleep(0.05)
        return False

    def _kill(self):
        if self.proc and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
        if self.proc:
            self.proc.wait()

    def stop(self):
        self._kill()
        if self.token_server:
            self.token_server.stop()

    def log(self, tail=8000):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()[-tail:]
        except FileNotFoundError:
            return ""

    # --- direct HTTP, for checks and for objects skopeo will not write

    def _ssl_context(self):
        import ssl
        if self.mode != "tls":
            return None
        return ssl.create_default_context(cafile=self.ca_cert)

    def _auth_header(self, scope):
        if self.mode == "basic":
            return "Basic " + base64.b64encode(self.creds.encode()).decode()
        if self.mode == "token":
            url = "%s?service=%s&scope=%s" % (self.token_server.realm, SERVICE, urllib.parse.quote(scope))
            req = urllib.request.Request(url, headers={
                "Authorization": "Basic " + base64.b64encode(self.creds.encode()).decode()})
            with urllib.request.urlopen(req, timeout=10) as r:
                return "Bearer " + json.load(r)["token"]
        return None

    def request(self, method, path, body=None, headers=None, auth=True, scope="registry:catalog:*"):
        """(status, headers, body) of one request; auth adds our credentials (basic or a token for SCOPE)."""
        h = dict(headers or {})
        if auth and self.mode in ("basic", "token"):
            h["Authorization"] = self._auth_header(scope)
        req = urllib.request.Request(self.url + path, data=body, headers=h, method=method)
        try:
            with urllib.request.urlopen(req, timeout=30, context=self._ssl_context()) as r:
                return r.status, dict(r.headers), r.read()
        except urllib.error.HTTPError as e:
            return e.code, dict(e.headers), e.read()

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def push_blob(self, name, data):
        scope = "repository:%s:pull,push" % name
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        code, h, body = self.request("POST", "/v2/%s/blobs/uploads/" % name, body=b"", scope=scope)
        if code != 202:
            raise RuntimeError("upload start for %s: %d %s" % (name, code, body[:300]))
        loc = h["Location"]
        if loc.startswith("/"):
            loc = self.url + loc
        sep = "&" if "?" in loc else "?"
        path = loc[len(self.url):] + sep + "digest=" + digest
        code, _, body = self.request("PUT", path, body=data, scope=scope,
                                     headers={"Content-Type": "application/octet-stream"})
        if code != 201:
            raise RuntimeError("upload of %s to %s: %d %s" % (digest, name, code, body[:300]))
        return digest

    def push_manifest(self, name, ref, manifest_bytes, media_type):
        code, _, body = self.request("PUT", "/v2/%s/manifests/%s" % (name, ref), body=manifest_bytes,
                                     headers={"Content-Type": media_type},
                                     scope="repository:%s:pull,push" % name)
        if code != 201:
            raise RuntimeError("manifest %s:%s: %d %s" % (name, ref, code, body[:500]))
        return "sha256:" + hashlib.sha256(manifest_bytes).hexdigest()

    def push_layout(self, layout, name, ref):
        """Pushes every blob of an OCI layout and its tagged manifest as they are (skopeo
        would refuse or rewrite the odd ones)."""
        bdir = os.path.join(layout, "blobs", "sha256")
        with open(os.path.join(layout, "index.json")) as f:
            top = json.load(f)["manifests"][0]
        manifest = None
        for hexd in sorted(os.listdir(bdir)):
            with open(os.path.join(bdir, hexd), "rb") as f:
                data = f.read()
            if "sha256:" + hexd == top["digest"]:
                manifest = data
            else:
                self.push_blob(name, data)
        return self.push_manifest(name, ref, manifest, top["mediaType"])

    # --- registry storage, for the bad-input tests

    def blob_data_path(self, digest):
        hexd = digest.split(":", 1)[1]
        return os.path.join(self.storage, "docker", "registry", "v2", "blobs", "sha256", hexd[:2], hexd, "data")


def start_registry(d, mode="plain"):
    reason = registry_missing()
    if reason:
        pytest.skip(reason)
    os.makedirs(d, exist_ok=True)
    return Registry(d, mode).start()


# --------------------------------------------------------------- seeding


def skopeo_dest_args(reg):
    args = ["--dest-tls-verify=false"]
    if reg.cert_dir:
        args += ["--dest-cert-dir", reg.cert_dir]
    if reg.creds:
        args += ["--dest-creds", reg.creds]
    return args


def skopeo_src_args(reg):
    args = ["--src-tls-verify=false"]
    if reg.cert_dir:
        args += ["--src-cert-dir", reg.cert_dir]
    if reg.creds:
        args += ["--src-creds", reg.creds]
    return args


def seed(reg, img, name, format="oci", all_platforms=None):
    """Copies image_builder's IMG (or an OCI layout path with tag "latest") to REG as NAME
    ("repo:tag"); FORMAT "oci" keeps it as built, "v2s2" converts to docker schema 2 (gzip
    layers only; zstd ones are recompressed by skopeo).  A multi-arch index goes whole.
    Returns the full reference "127.0.0.1:PORT/repo:tag"."""
    ref = "%s/%s" % (reg.host, name)
    if format == "oci" and ib_MT_LAYER_TAR in getattr(img, "layer_media_types", []):
        # skopeo compresses uncompressed layers on their way to a registry: push as built.
        repo, _, tag = name.rpartition(":")
        reg.push_layout(img.layout, repo, tag)
        return ref
    src = img.ref if hasattr(img, "ref") else "oci:%s:latest" % img
    if all_platforms is None:
        all_platforms = getattr(img, "index_digest", None) is not None
    argv = ["skopeo", "--insecure-policy", "copy", "--quiet"] + skopeo_dest_args(reg)
    if all_platforms:
        argv.append("--all")
    if format == "v2s2":
        argv += ["--format", "v2s2"]
    elif format != "oci":
        raise ValueError(format)
    argv += [src, "docker://" + ref]
    r = subprocess.run(argv, capture_output=True, text=True, timeout=300)
    if r.returncode != 0:
        raise RuntimeError("%s failed: %s\nregistry log:\n%s" % (" ".join(argv), r.stderr, reg.log(3000)))
    return ref


def skopeo_inspect(reg, ref, raw=False):
    argv = ["skopeo", "inspect", "--tls-verify=false"]
    if reg.cert_dir:
        argv += ["--cert-dir", reg.cert_dir]
    if reg.creds:
        argv += ["--creds", reg.creds]
    if raw:
        argv.append("--raw")
    argv.append("docker://" + ref)
    return subprocess.run(argv, capture_output=True, text=True, timeout=60)


# --------------------------------------------------------------- fixtures


def _registry_fixture(mode):
    @pytest.fixture
    def fixture(request, tmp_path_factory):
        d = str(tmp_path_factory.mktemp("registry-" + mode))
        reg = start_registry(d, mode)
        yield reg
        reg.stop()
        # pytest shows a teardown's output only when the test failed.
        print("\n--- registry (%s) log, %s\n%s" % (mode, reg.log_path, reg.log()))
        shutil.rmtree(d, ignore_errors=True)
    return fixture


registry = _registry_fixture("plain")
tls_registry = _registry_fixture("tls")
basic_registry = _registry_fixture("basic")
token_registry = _registry_fixture("token")


@pytest.fixture
def registry_factory(request, tmp_path_factory):
    """start(mode) -> Registry; all stopped at teardown."""
    started = []

    def start(mode="plain"):
        d = str(tmp_path_factory.mktemp("registry-" + mode))
        reg = start_registry(d, mode)
        started.append(reg)
        return reg
    yield start
    for reg in started:
        reg.stop()
        print("\n--- registry (%s) log, %s\n%s" % (reg.mode, reg.log_path, reg.log()))
        shutil.rmtree(reg.dir, ignore_errors=True)


# --------------------------------------------------------------- a slow path to the registry


class ThrottleProxy:
    """A TCP proxy on 127.0.0.1 to a registry, sending at most `rate` bytes a second
    downstream (None: no limit), so a pull can be caught in the middle.  Image names
    through it start with proxy.host."""

    def __init__(self, upstream_port, rate=2 << 20):
        self.upstream_port, self.rate = upstream_port, rate
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.host = "127.0.0.1:%d" % self.port
        self.closed = False
        self.conns = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self.closed:
            try:
                down, _ = self.sock.accept()
            except OSError:
                return
            try:
                up = socket.create_connection(("127.0.0.1", self.upstream_port))
            except OSError:
                down.close()
                continue
            self.conns += [down, up]
            threading.Thread(target=self._pump, args=(down, up, False), daemon=True).start()
            threading.Thread(target=self._pump, args=(up, down, True), daemon=True).start()

    def _pump(self, src, dst, throttled):
        try:
            while True:
                chunk = src.recv(16384)
                if not chunk:
                    break
                dst.sendall(chunk)
                if throttled and self.rate:
                    time.sleep(len(chunk) / self.rate)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def close(self):
        self.closed = True
        self.sock.close()
        for c in self.conns:
            try:
                c.close()
            except OSError:
                pass
