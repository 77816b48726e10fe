#!/bin/bash
# sudo bash bench/image-pull.sh [--n N] [--mb MB] [--mount-n N] [--only guise,podman,skopeo+umoci,ctr]
#                               [--extra-guise LABEL=BINARY]
#
# Pull + unpack of a 5-layer image (about 200 MB uncompressed, gzip and zstd) from a registry on
# loopback: guise against podman, skopeo copy + umoci unpack, and containerd's ctr, each run into
# an empty store, runs alternated (N each, default 5).  Also the rootfs mount time of a 5-layer
# and a 128-layer image and the disk used by two images sharing a base.  Writes
# bench/results/IMAGES.md and images-raw.json and prints the table.  About 10 minutes.
# The built images are kept in bench/work/images/cache (deterministic; delete it to rebuild).
set -euo pipefail
BENCH=$(cd "$(dirname "$0")" && pwd)
export BENCH
. "$BENCH/lib/common.sh"

case ${1:-} in -h|--help) sed -n '2,10p' "$0"; exit 0 ;; esac
require_root
for tool in podman skopeo umoci ctr containerd zstd /usr/bin/docker-registry; do
  command -v "$tool" >/dev/null || die "missing $tool (Debian packages podman skopeo umoci containerd zstd docker-registry)"
done
for b in guise guise-full; do
  [ -x "$REPO/build/$b" ] || die "no $REPO/build/$b: ninja -C build guise-engine"
done
mkdir -p "$WORK"
exec 9>"$WORK/.images.lock"
flock -n 9 || die "another bench/image-pull.sh is running"
exec $PY "$BENCH/image_pull.py" "$@"
