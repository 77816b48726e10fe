"""A busybox image built here, from the host's static busybox; no registry.

build_archive() writes one tar that every engine here loads:
  - an OCI image layout (oci-layout, index.json, blobs/sha256/...) for
    `ctr image import` and `podman load`;
  - a docker-save manifest.json beside it, naming the same blobs, for
    docker 20.10's `docker load`, which reads no OCI layout.
The layer is an uncompressed tar: bin/busybox, a symlink per applet,
etc/passwd and etc/group, and empty dev proc sys tmp root.
"""

import hashlib
import io
import json
import os
import subprocess
import tarfile
import time

IMAGE_NAME = "guise-test/busybox"
IMAGE_TAG = "latest"
IMAGE_REF = "docker.io/%s:%s" % (IMAGE_NAME, IMAGE_TAG)

# The same layer as a pod's sandbox ("pause") image for containerd's CRI plugin:
# pid 1 of the pod waits, and leaves at once on SIGTERM as the real pause does.
PAUSE_NAME = "guise-test/pause"
PAUSE_REF = "docker.io/%s:%s" % (PAUSE_NAME, IMAGE_TAG)
PAUSE_CMD = ["sh", "-c", "trap 'exit 0' TERM INT; sleep 2147483647 & wait"]

PASSWD = b"root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n"
GROUP = b"root:x:0:\ntty:x:5:\nnogroup:x:65534:\n"

# A fixed time, so that the same busybox gives the same image digest.
MTIME = 1700000000


def _info(name, type_=tarfile.REGTYPE, mode=0o644, size=0, linkname=""):
    ti = tarfile.TarInfo(name)
    ti.type = type_
    ti.mode = mode
    ti.size = size
    ti.linkname = linkname
    ti.mtime = MTIME
    ti.uid = ti.gid = 0
    ti.uname = ti.gname = "root"
    return ti


def busybox_applets(busybox):
    out = subprocess.run([busybox, "--list"], check=True, capture_output=True, text=True).stdout
    return sorted(a for a in out.split() if a and a != "busybox" and "/" not in a)


def rootfs_tar_bytes(busybox="/bin/busybox"):
    """The image's single layer, as an uncompressed tar."""
    with open(busybox, "rb") as f:
        bb = f.read()
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for d, mode in (("bin", 0o755), ("dev", 0o755), ("etc", 0o755), ("proc", 0o555),
                        ("root", 0o700), ("sys", 0o555), ("tmp", 0o1777)):
            tar.addfile(_info(d + "/", tarfile.DIRTYPE, mode))
        tar.addfile(_info("bin/busybox", mode=0o755, size=len(bb)), io.BytesIO(bb))
        for applet in busybox_applets(busybox):
            tar.addfile(_info("bin/" + applet, tarfile.SYMTYPE, 0o777, linkname="busybox"))
        for name, data in (("etc/passwd", PASSWD), ("etc/group", GROUP)):
            tar.addfile(_info(name, size=len(data)), io.BytesIO(data))
    return buf.getvalue()


def _digest(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def build_archive(path, busybox="/bin/busybox", name=IMAGE_NAME, tag=IMAGE_TAG, cmd=("sh",)):
    """Writes the image archive to PATH; returns the image's reference."""
    ref = "docker.io/%s:%s" % (name, tag)
    layer = rootfs_tar_bytes(busybox)
    layer_digest = _digest(layer)
    created = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(MTIME))
    config = json.dumps({
        "architecture": "amd64",
        "os": "linux",
        "created": created,
        "config": {
            "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
            "Cmd": list(cmd),
            "WorkingDir": "/",
        },
        "rootfs": {"type": "layers", "diff_ids": [layer_digest]},
        "history": [{"created": created, "created_by": "tests/engines/image.py"}],
    }, sort_keys=True).encode()
    config_digest = _digest(config)
    manifest = json.dumps({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": config_digest, "size": len(config)},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar",
                    "digest": layer_digest, "size": len(layer)}],
    }, sort_keys=True).encode()
    manifest_digest = _digest(manifest)
    index = json.dumps({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [{
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": manifest_digest, "size": len(manifest),
            "platform": {"architecture": "amd64", "os": "linux"},
            "annotations": {"io.containerd.image.name": ref,
                            "org.opencontainers.image.ref.name": tag},
        }],
    }, sort_keys=True).encode()

    def blob(d):
        return "blobs/sha256/" + d.split(":", 1)[1]

    docker_manifest = json.dumps([{
        "Config": blob(config_digest),
        "RepoTags": ["%s:%s" % (name, tag)],
        "Layers": [blob(layer_digest)],
    }]).encode()

    tmp = path + ".tmp"
    with tarfile.open(tmp, "w", format=tarfile.PAX_FORMAT) as tar:
        for d in ("blobs/", "blobs/sha256/"):
            tar.addfile(_info(d, tarfile.DIRTYPE, 0o755))
        for name, data in (("oci-layout", b'{"imageLayoutVersion":"1.0.0"}'),
                           ("index.json", index),
                           ("manifest.json", docker_manifest),
                           (blob(config_digest), config),
                           (blob(manifest_digest), manifest),
                           (blob(layer_digest), layer)):
            tar.addfile(_info(name, size=len(data)), io.BytesIO(data))
    os.replace(tmp, path)
    return ref
