#!/bin/sh
# make-image.sh TARBALL
#
# Writes a root filesystem tarball from the host's static busybox (Debian package
# busybox-static), ready for `guise import TARBALL NAME`: bin/busybox with every applet
# as a symlink, empty proc sys dev tmp, and a minimal etc/passwd and etc/group. The
# rootfs of examples/make-bundle.sh, as an image.
set -eu
[ $# -eq 1 ] || { echo "usage: $0 TARBALL" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
sh "$here/make-bundle.sh" "$work/bundle" /bin/true >/dev/null
rm -f "$work/bundle/rootfs/bin/guise-testbin"
tar -C "$work/bundle/rootfs" --numeric-owner -cf "$1" .
