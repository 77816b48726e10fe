"""OCI image layouts built in Python from the host's static busybox, for the image tests.

Each variant writes an OCI image layout (oci-layout, index.json, blobs/sha256) to a
directory and returns a BuiltImage: the layout, its tag, the digests a registry and a store
will see, and the facts the unpacked image must show (Expect per path, paths that must be
absent).  Everything is deterministic (fixed mtimes, sorted entries, gzip mtime 0, JSON
with sorted keys), so the same call gives the same digests on any host with the same
busybox and zstd.

    img = image_builder.basic(tmpdir, compression="zstd")
    skopeo copy oci:{img.layout}:{img.tag} docker://...

Docker schema 2 images are made from these by `skopeo copy --format v2s2`.
"""

import gzip
import hashlib
import io
import json
import os
import random
import shutil
import stat
import struct
import subprocess
import tarfile
from dataclasses import dataclass, field
from typing import Dict, List, Optional

BUSYBOX = "/bin/busybox"
MTIME = 1700000000          # every entry's mtime
CREATED = "2023-11-14T22:13:20Z"  # the same instant, for configs and history

MT_OCI_INDEX = "application/vnd.oci.image.index.v1+json"
MT_OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MT_OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
MT_LAYER_TAR = "application/vnd.oci.image.layer.v1.tar"
MT_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
MT_LAYER_ZSTD = "application/vnd.oci.image.layer.v1.tar+zstd"
LAYER_MEDIA_TYPES = {"none": MT_LAYER_TAR, "gzip": MT_LAYER_GZIP, "zstd": MT_LAYER_ZSTD}

PATH_ENV = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
APPLETS = ["sh", "ls", "cat", "echo", "true", "false", "sleep", "id", "stat", "mkdir", "rm", "cp",
           "mv", "ln", "touch", "chmod", "chown", "env", "grep", "sed", "head", "tail", "wc",
           "sha256sum", "find", "readlink", "test", "ps", "kill", "hostname", "uname", "mount"]
PASSWD = ("root:x:0:0:root:/root:/bin/sh\n"
          "daemon:x:1:1:daemon:/usr/sbin:/bin/false\n"
          "app:x:1000:1000:app:/home/app:/bin/sh\n"
          "nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n")
GROUP = "root:x:0:\ndaemon:x:1:\napp:x:1000:\nnogroup:x:65534:\n"

# security.capability, VFS_CAP_REVISION_2 with the effective bit: cap_net_bind_service (10)
# permitted and effective.
CAP_NET_BIND_SERVICE_XATTR = struct.pack("<IIIII", 0x02000001, 1 << 10, 0, 0, 0)


def sha256(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def canonical_json(obj):
    return json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()


# --------------------------------------------------------------- entries


@dataclass
class Entry:
    """One tar entry.  kind: file, dir, symlink, link (hard), fifo, char, block."""
    name: str
    kind: str = "file"
    data: bytes = b""
    mode: int = 0o644
    uid: int = 0
    gid: int = 0
    target: str = ""             # symlink or hard link target
    xattrs: Dict[str, bytes] = field(default_factory=dict)
    major: int = 0
    minor: int = 0
    mtime: int = MTIME


def F(name, data=b"", mode=0o644, **kw):
    return Entry(name, "file", data if isinstance(data, bytes) else data.encode(), mode, **kw)


def D(name, mode=0o755, **kw):
    return Entry(name, "dir", mode=mode, **kw)


def L(name, target, **kw):
    return Entry(name, "symlink", mode=0o777, target=target, **kw)


def H(name, target, **kw):
    return Entry(name, "link", target=target, **kw)


_TAR_TYPES = {"file": tarfile.REGTYPE, "dir": tarfile.DIRTYPE, "symlink": tarfile.SYMTYPE,
              "link": tarfile.LNKTYPE, "fifo": tarfile.FIFOTYPE, "char": tarfile.CHRTYPE,
              "block": tarfile.BLKTYPE}


def layer_tar(entries, sort=True):
    """An uncompressed PAX tar of ENTRIES (sorted by name unless sort=False: hostile
    layers need their own order)."""
    buf = io.BytesIO()
    seen = {}
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for e in (sorted(entries, key=lambda e: e.name) if sort else entries):
            if e.kind == "link" and e.target in seen:
                # A hard link's header carries its target's owner and mode, as docker writes it.
                t = seen[e.target]
                e = Entry(e.name, "link", mode=t.mode, uid=t.uid, gid=t.gid, target=e.target, mtime=t.mtime)
            seen[e.name] = e
            ti = tarfile.TarInfo(e.name + ("/" if e.kind == "dir" and not e.name.endswith("/") else ""))
            ti.type = _TAR_TYPES[e.kind]
            ti.mode = e.mode
            ti.uid, ti.gid = e.uid, e.gid
            ti.uname = ti.gname = ""
            ti.mtime = e.mtime
            if e.kind in ("symlink", "link"):
                ti.linkname = e.target
            if e.kind in ("char", "block"):
                ti.devmajor, ti.devminor = e.major, e.minor
            if e.xattrs:
                # Binary values (security.capability) go through surrogateescape; tarfile
                # then marks the header hdrcharset=BINARY and writes the bytes as they are.
                ti.pax_headers = {"SCHILY.xattr." + k: v.decode("utf-8", "surrogateescape")
                                  for k, v in sorted(e.xattrs.items())}
            if e.kind == "file":
                ti.size = len(e.data)
                tar.addfile(ti, io.BytesIO(e.data))
            else:
                tar.addfile(ti)
    return buf.getvalue()


def compress(data, compression):
    if compression == "none":
        return data
    if compression == "gzip":
        return gzip.compress(data, compresslevel=6, mtime=0)
    if compression == "zstd":
        return subprocess.run(["zstd", "-q", "-c", "-3", "--no-progress"], input=data,
                              stdout=subprocess.PIPE, check=True).stdout
    raise ValueError("unknown compression %r" % compression)


# --------------------------------------------------------------- expectations


@dataclass
class Expect:
    """What the merged view of an image shows at one path (None: not checked)."""
    kind: str                    # file, dir, symlink, fifo, char
    mode: Optional[int] = None   # permission bits with setuid/setgid/sticky
    uid: Optional[int] = None
    gid: Optional[int] = None
    data: Optional[bytes] = None
    target: Optional[str] = None
    xattrs: Dict[str, bytes] = field(default_factory=dict)
    rdev: Optional[tuple] = None
    same_inode_as: Optional[str] = None  # a hard link: the path it shares its inode with


@dataclass
class BuiltImage:
    layout: str
    tag: str
    index_digest: Optional[str]      # the multi-arch index (None for a single image)
    manifest_digest: str             # the linux/amd64 manifest
    config_digest: str               # docker's image id
    layer_digests: List[str]
    diff_ids: List[str]
    layer_media_types: List[str]
    config: dict
    files: Dict[str, Expect] = field(default_factory=dict)   # path (no leading /) -> Expect
    absent: List[str] = field(default_factory=list)
    platforms: List[str] = field(default_factory=list)       # for an index: "os/arch[/variant]"
    host_paths: List[str] = field(default_factory=list)      # hostile: host paths it aims at
    host_dirs: List[str] = field(default_factory=list)       # hostile: dirs the test makes first

    @property
    def image_id(self):
        return self.config_digest

    @property
    def ref(self):
        """skopeo's transport reference."""
        return "oci:%s:%s" % (self.layout, self.tag)


def expect_from_entries(entries):
    """The merged view of one layer with no whiteouts: every entry as it is."""
    out, first_of = {}, {}
    for e in entries:
        p = e.name.strip("/")
        if e.kind == "link":
            tgt = out[e.target.strip("/")]
            out[p] = Expect(tgt.kind, tgt.mode, tgt.uid, tgt.gid, tgt.data, xattrs=dict(tgt.xattrs),
                            same_inode_as=e.target.strip("/"))
            continue
        out[p] = Expect(e.kind, e.mode, e.uid, e.gid,
                        e.data if e.kind == "file" else None,
                        e.target if e.kind == "symlink" else None, dict(e.xattrs),
                        (e.major, e.minor) if e.kind in ("char", "block") else None)
        first_of[p] = e
    return out


# --------------------------------------------------------------- layout writer


class Layout:
    """An OCI image layout being written."""

    def __init__(self, path):
        self.path = path
        if os.path.exists(path):
            shutil.rmtree(path)
        os.makedirs(os.path.join(path, "blobs", "sha256"))
        with open(os.path.join(path, "oci-layout"), "w") as f:
            f.write('{"imageLayoutVersion":"1.0.0"}')

    def blob(self, data):
        d = sha256(data)
        p = os.path.join(self.path, "blobs", "sha256", d.split(":", 1)[1])
        if not os.path.exists(p):
            with open(p, "wb") as f:
                f.write(data)
        return d

    def image(self, layers, compression="gzip", arch="amd64", variant=None, env=None, cmd=None,
              history=None, layer_media_type=None):
        """Writes config, layers and manifest; LAYERS is a list of entry lists (or raw tar
        bytes).  Returns (manifest descriptor, facts dict)."""
        compressions = compression if isinstance(compression, list) else [compression] * len(layers)
        digests, diff_ids, mts, sizes = [], [], [], []
        for entries, comp in zip(layers, compressions):
            tar = entries if isinstance(entries, bytes) else layer_tar(entries)
            blob = compress(tar, comp)
            digests.append(self.blob(blob))
            sizes.append(len(blob))
            diff_ids.append(sha256(tar))
            mts.append(layer_media_type or LAYER_MEDIA_TYPES[comp])
        config = {
            "created": CREATED,
            "architecture": arch,
            "os": "linux",
            "config": {"Env": env or [PATH_ENV], "Cmd": cmd or ["sh"],
                       "WorkingDir": "/", "Labels": {"org.guise.test": "1"}},
            "rootfs": {"type": "layers", "diff_ids": diff_ids},
            "history": history or [
                {"created": CREATED, "created_by": "guise-test layer %d" % i, "comment": "image_builder"}
                for i in range(len(layers))],
        }
        if variant:
            config["variant"] = variant
        config_bytes = canonical_json(config)
        config_digest = self.blob(config_bytes)
        manifest = {
            "schemaVersion": 2,
            "mediaType": MT_OCI_MANIFEST,
            "config": {"mediaType": MT_OCI_CONFIG, "digest": config_digest, "size": len(config_bytes)},
            "layers": [{"mediaType": mt, "digest": d, "size": s} for mt, d, s in zip(mts, digests, sizes)],
        }
        mbytes = canonical_json(manifest)
        desc = {"mediaType": MT_OCI_MANIFEST, "digest": self.blob(mbytes), "size": len(mbytes)}
        facts = dict(manifest_digest=desc["digest"], config_digest=config_digest, layer_digests=digests,
                     diff_ids=diff_ids, layer_media_types=mts, config=config)
        return desc, facts

    def index(self, manifests):
        index = {"schemaVersion": 2, "mediaType": MT_OCI_INDEX, "manifests": manifests}
        ibytes = canonical_json(index)
        return {"mediaType": MT_OCI_INDEX, "digest": self.blob(ibytes), "size": len(ibytes)}

    def tag(self, desc, tag):
        d = dict(desc)
        d["annotations"] = {"org.opencontainers.image.ref.name": tag}
        with open(os.path.join(self.path, "index.json"), "wb") as f:
            f.write(canonical_json({"schemaVersion": 2, "mediaType": MT_OCI_INDEX, "manifests": [d]}))


def _single(path, layers, tag="latest", compression="gzip", files=None, absent=None, **kw):
    lay = Layout(path)
    desc, facts = lay.image(layers, compression, **kw)
    lay.tag(desc, tag)
    return BuiltImage(path, tag, None, files=files or {}, absent=absent or [], **facts)


# --------------------------------------------------------------- the base rootfs


def busybox_entries():
    """/bin/busybox, its applet links, /etc/passwd and /etc/group, the usual dirs."""
    with open(BUSYBOX, "rb") as f:
        bb = f.read()
    entries = [D("bin"), F("bin/busybox", bb, 0o755), D("etc"), F("etc/passwd", PASSWD),
               F("etc/group", GROUP), D("tmp", 0o1777), D("root", 0o700), D("home"),
               D("home/app", uid=1000, gid=1000), D("dev"), D("proc"), D("sys"), D("usr"), D("usr/bin")]
    entries += [L("bin/" + a, "busybox") for a in APPLETS]
    return entries


def _base_expect(entries):
    exp = expect_from_entries(entries)
    exp["bin/busybox"].data = None  # 2 MB: compared by digest below
    return exp


def busybox_sha256():
    with open(BUSYBOX, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


# --------------------------------------------------------------- variants


def basic(path, compression="gzip", tag="latest"):
    """One layer: the busybox rootfs."""
    entries = busybox_entries()
    return _single(path, [entries], tag, compression, files=_base_expect(entries))


def multi_layer(path, n=3, compression="gzip", tag="latest"):
    """The busybox rootfs, then N-1 layers each adding /data/layerI and changing /data/top."""
    base = busybox_entries()
    layers, files = [base], _base_expect(base)
    for i in range(1, n):
        layer = [D("data"), F("data/layer%d" % i, "layer %d\n" % i), F("data/top", "from layer %d\n" % i)]
        layers.append(layer)
        files.update(expect_from_entries(layer))
    return _single(path, layers, tag, compression, files=files)


def whiteouts(path, compression="gzip", tag="latest"):
    """Layer 2 deletes a file (.wh.NAME), a directory (.wh.DIR) and makes /opq opaque."""
    base = busybox_entries()
    lower = [D("keep"), F("keep/a", "a\n"), F("keep/gone", "gone\n"), D("keep/gonedir"),
             F("keep/gonedir/inner", "inner\n"), D("opq"), F("opq/old1", "old1\n"), D("opq/olddir"),
             F("opq/olddir/x", "x\n"), F("opq/kept-by-upper", "lower\n")]
    upper = [D("keep"), F("keep/.wh.gone"), F("keep/.wh.gonedir"), F("keep/new", "new\n"),
             D("opq"), F("opq/.wh..wh..opq"), F("opq/kept-by-upper", "upper\n"), F("opq/fresh", "fresh\n")]
    files = _base_expect(base)
    files.update(expect_from_entries(lower))
    for p in ("keep/gone", "keep/gonedir", "keep/gonedir/inner", "opq/old1", "opq/olddir", "opq/olddir/x"):
        files.pop(p)
    files.update(expect_from_entries([e for e in upper if ".wh." not in e.name]))
    absent = ["keep/gone", "keep/gonedir", "opq/old1", "opq/olddir", "keep/.wh.gone",
              "keep/.wh.gonedir", "opq/.wh..wh..opq"]
    return _single(path, [base, lower, upper], tag, compression, files=files, absent=absent)


def special_files(path, compression="gzip", tag="latest", devices=True):
    """Hard links, xattrs (user.* and security.capability), setuid and setgid, sticky, a
    symlink, a fifo, a char device (when DEVICES), owners other than 0."""
    base = busybox_entries()
    layer = [
        D("special"),
        F("special/data", "shared by two names\n", 0o640, uid=1000, gid=1000,
          xattrs={"user.note": b"hello", "user.bin": b"\x00\x01\xff"}),
        H("special/hardlink", "special/data"),
        F("special/setuid", "#!/bin/sh\n", 0o4755),
        F("special/setgid", "#!/bin/sh\n", 0o2755, gid=1),
        F("special/capped", "caps\n", 0o755, xattrs={"security.capability": CAP_NET_BIND_SERVICE_XATTR}),
        D("special/sticky", 0o1777),
        D("special/owned", 0o750, uid=1000, gid=65534),
        F("special/owned/file", "owned\n", 0o600, uid=65534, gid=1000),
        L("special/link", "../etc/passwd"),
        L("special/abslink", "/etc/group"),
        L("special/dangling", "does/not/exist"),
        Entry("special/fifo", "fifo", mode=0o640, uid=1, gid=1),
    ]
    if devices:
        layer.append(Entry("special/null", "char", mode=0o666, major=1, minor=3))
    files = _base_expect(base)
    files.update(expect_from_entries(layer))
    return _single(path, [base, layer], tag, compression, files=files)


def many_layers(path, n=128, compression="gzip", tag="latest"):
    """N layers: busybox, then N-1 layers each adding /layers/NNN."""
    base = busybox_entries()
    layers, files = [base], _base_expect(base)
    for i in range(1, n):
        layer = [D("layers"), F("layers/%03d" % i, "%d\n" % i)]
        layers.append(layer)
        files.update(expect_from_entries(layer))
    return _single(path, layers, tag, compression, files=files)


def multi_arch(path, tag="latest", compression="gzip"):
    """An OCI index: linux/amd64 (the real busybox image), linux/arm64/v8 and linux/s390x
    (one small layer each, not runnable).  manifest_digest etc. are the amd64 image's."""
    lay = Layout(path)
    base = busybox_entries()
    amd, facts = lay.image([base], compression)
    arm, _ = lay.image([[F("ARCH", "arm64\n")]], compression, arch="arm64", variant="v8")
    s390, _ = lay.image([[F("ARCH", "s390x\n")]], compression, arch="s390x")
    amd["platform"] = {"architecture": "amd64", "os": "linux"}
    arm["platform"] = {"architecture": "arm64", "os": "linux", "variant": "v8"}
    s390["platform"] = {"architecture": "s390x", "os": "linux"}
    idx = lay.index([amd, arm, s390])
    lay.tag(idx, tag)
    img = BuiltImage(path, tag, idx["digest"], files=_base_expect(base), **facts)
    img.platforms = ["linux/amd64", "linux/arm64/v8", "linux/s390x"]
    img.arm64_manifest_digest = arm["digest"]
    img.s390x_manifest_digest = s390["digest"]
    return img


def large(path, mb=20, layers=1, compression="gzip", tag="latest", seed=1):
    """The busybox rootfs and LAYERS layers of about MB MiB in all, half random bytes and
    half text, in 1 MiB files: a pull that takes a while, for the bench and the kill test."""
    rng = random.Random(seed)
    base = busybox_entries()
    out, files = [base], _base_expect(base)
    per_layer = max(1, mb // layers)
    for li in range(layers):
        layer = [D("bulk"), D("bulk/%d" % li)]
        for fi in range(per_layer):
            text = ("layer %d file %d line\n" % (li, fi)).encode() * (512 * 1024 // 24)
            data = rng.randbytes(512 * 1024) + text[:512 * 1024]
            layer.append(F("bulk/%d/%04d" % (li, fi), data))
        out.append(layer)
        files.update({k: v for k, v in expect_from_entries(layer).items() if v.kind == "dir"})
    return _single(path, out, tag, compression, files=files)


def from_rootfs_tar(path, tar_bytes, tag="latest", compression="gzip", layer_media_type=None):
    """One layer made of TAR_BYTES as they are (for bad and odd layers)."""
    return _single(path, [tar_bytes], tag, compression, layer_media_type=layer_media_type)


def rootfs_tarball(dest):
    """A plain rootfs tar of the busybox entries (for `import`); returns the expected files."""
    entries = busybox_entries()
    with open(dest, "wb") as f:
        f.write(layer_tar(entries))
    return _base_expect(entries)


# --------------------------------------------------------------- hostile layers


HOSTILE_KINDS = ["dotdot", "absolute", "symlink-then-file", "symlink-dir-then-file", "hardlink-dotdot",
                 "hardlink-absolute", "whiteout-dotdot", "whiteout-parent"]
_UP = "../" * 12   # more than any store path is deep: lands at /


def hostile(path, kind, token, tag="latest"):
    """A one-layer image whose layer aims at the host.  TOKEN makes the host paths unique
    (/tmp/guise-hostile-TOKEN-*).  host_dirs: make them before the pull (an attack needs
    its target directory); host_paths: must be unchanged after it (absent ones absent;
    present ones with the same content and link count)."""
    victim = "/tmp/guise-hostile-%s" % token
    ok = [D("bin"), F("bin/busybox-not-really", "x\n")]
    host_paths, host_dirs = [], []
    if kind == "dotdot":
        entries = ok + [F(_UP + victim.lstrip("/") + "-dotdot", "pwned\n"), F("../escape", "pwned\n")]
        host_paths = [victim + "-dotdot"]
    elif kind == "absolute":
        entries = ok + [F(victim + "-abs", "pwned\n")]
        host_paths = [victim + "-abs"]
    elif kind == "symlink-then-file":
        host_dirs = [victim + "-dir"]
        entries = ok + [L("evil", victim + "-dir"), F("evil/pwned", "pwned\n")]
        host_paths = [victim + "-dir/pwned"]
    elif kind == "symlink-dir-then-file":
        # A relative symlink that climbs out, then a file written through it.
        host_dirs = [victim + "-rdir"]
        entries = ok + [L("evil", _UP + victim.lstrip("/") + "-rdir"), F("evil/pwned", "pwned\n")]
        host_paths = [victim + "-rdir/pwned"]
    elif kind == "hardlink-dotdot":
        # A hard link to a host file, then a regular file over the link's name: an unpacker
        # that writes through an existing link changes the host file.
        entries = ok + [H("lnk", _UP + victim.lstrip("/") + "-target"), F("lnk", "pwned\n"),
                        H("passwd-link", "../../etc/passwd")]
        host_paths = [victim + "-target", "/etc/passwd"]
    elif kind == "hardlink-absolute":
        entries = ok + [H("lnk", victim + "-target"), F("lnk", "pwned\n")]
        host_paths = [victim + "-target"]
    elif kind == "whiteout-dotdot":
        host_dirs = [victim + "-wh"]
        entries = ok + [F(_UP + victim.lstrip("/") + "-wh/.wh.victim")]
        host_paths = [victim + "-wh/victim"]
    elif kind == "whiteout-parent":
        # ".wh..." whites out ".." (the layer's parent) and ".wh.../x" a name through it.
        # Nothing on the host is named: the target is the layer's own parent, inside the
        # store, so the test checks the store still works.
        entries = ok + [D("sub"), F("sub/.wh..."), F(".wh.../x")]
    else:
        raise ValueError(kind)
    lay = Layout(path)
    desc, facts = lay.image([layer_tar(entries, sort=False)], "gzip")
    lay.tag(desc, tag)
    img = BuiltImage(path, tag, None, **facts)
    img.host_paths, img.host_dirs = host_paths, host_dirs
    return img


def prepare_hostile_host(img):
    """Makes the host side of an attack: its dirs, and in each a victim file that must survive.
    Returns a snapshot of the host paths for host_untouched."""
    for d in img.host_dirs:
        os.makedirs(d, exist_ok=True)
    for p in img.host_paths:
        if p.endswith(("-target", "/victim")):
            with open(p, "w") as f:
                f.write("original\n")
    return snapshot_host_paths(img.host_paths)


def snapshot_host_paths(paths):
    snap = {}
    for p in paths:
        try:
            st = os.lstat(p)
        except FileNotFoundError:
            snap[p] = None
            continue
        data = None
        if stat.S_ISREG(st.st_mode):
            with open(p, "rb") as f:
                data = hashlib.sha256(f.read()).hexdigest()
        snap[p] = (stat.S_IFMT(st.st_mode), st.st_mode, st.st_nlink, st.st_uid, data)
    return snap


def cleanup_hostile_host(img):
    for p in img.host_paths:
        if p.startswith("/tmp/guise-hostile-"):
            try:
                os.unlink(p)
            except (FileNotFoundError, IsADirectoryError):
                pass
    for d in img.host_dirs:
        shutil.rmtree(d, ignore_errors=True)


def raw_layer_image(path, blob, media_type=MT_LAYER_GZIP, diff_id=None, tag="latest"):
    """A one-layer image whose layer blob is BLOB as given (truncated, corrupt, of an odd
    media type); DIFF_ID defaults to the digest of a valid busybox layer tar."""
    lay = Layout(path)
    digest = lay.blob(blob)
    diff_id = diff_id or sha256(layer_tar(busybox_entries()))
    config = {"created": CREATED, "architecture": "amd64", "os": "linux",
              "config": {"Env": [PATH_ENV], "Cmd": ["sh"]},
              "rootfs": {"type": "layers", "diff_ids": [diff_id]},
              "history": [{"created": CREATED, "created_by": "raw layer"}]}
    cbytes = canonical_json(config)
    cdigest = lay.blob(cbytes)
    manifest = {"schemaVersion": 2, "mediaType": MT_OCI_MANIFEST,
                "config": {"mediaType": MT_OCI_CONFIG, "digest": cdigest, "size": len(cbytes)},
                "layers": [{"mediaType": media_type, "digest": digest, "size": len(blob)}]}
    mbytes = canonical_json(manifest)
    desc = {"mediaType": MT_OCI_MANIFEST, "digest": lay.blob(mbytes), "size": len(mbytes)}
    lay.tag(desc, tag)
    return BuiltImage(path, tag, None, desc["digest"], cdigest, [digest], [diff_id], [media_type], config)
