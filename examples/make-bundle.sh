#!/bin/sh
# make-bundle.sh DIR [TESTBIN]
#
# Builds an OCI bundle in DIR from the host's static busybox (Debian package
# busybox-static):
#   DIR/rootfs/     bin/busybox and its applet symlinks, bin/guise-testbin
#                   (from TESTBIN, else build/guise-testbin when it exists),
#                   empty proc sys dev tmp etc, a minimal etc/passwd and etc/group
#   DIR/config.json runc 1.1's `runc spec` default, with process.terminal false
#                   and args ["sh"]; written here, no runtime is called.
#
# Idempotent: running it again over an existing bundle brings it back to the
# same content.  Fast: no copies beyond busybox and the test binary.
set -eu

usage() { echo "usage: $0 DIR [TESTBIN]" >&2; exit 2; }
[ $# -ge 1 ] && [ $# -le 2 ] || usage
dir=$1
here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")

busybox=${BUSYBOX:-/bin/busybox}
[ -x "$busybox" ] || { echo "$0: $busybox not found (apt-get install busybox-static)" >&2; exit 1; }
# A dynamic busybox would need the host's loader and libc in the rootfs.
if ! "$busybox" ls /proc/self/exe >/dev/null 2>&1; then
  echo "$0: $busybox does not run" >&2; exit 1
fi

testbin=${2:-}
if [ -z "$testbin" ] && [ -x "$repo/build/guise-testbin" ]; then
  testbin=$repo/build/guise-testbin
fi
if [ -n "$testbin" ] && [ ! -x "$testbin" ]; then
  echo "$0: test binary $testbin is not an executable file" >&2; exit 1
fi

rootfs=$dir/rootfs
mkdir -p "$rootfs/bin" "$rootfs/proc" "$rootfs/sys" "$rootfs/dev" "$rootfs/tmp" "$rootfs/etc" \
         "$rootfs/root"
chmod 1777 "$rootfs/tmp"
chmod 0700 "$rootfs/root"

# cp over a running busybox would fail with ETXTBSY; install via rename.
install_file() { # SRC DEST
  if ! cmp -s "$1" "$2" 2>/dev/null; then
    cp "$1" "$2.tmp.$$"
    chmod 0755 "$2.tmp.$$"
    mv -f "$2.tmp.$$" "$2"
  fi
}
install_file "$busybox" "$rootfs/bin/busybox"
if [ -n "$testbin" ]; then
  install_file "$testbin" "$rootfs/bin/guise-testbin"
fi

# Every applet busybox was built with, as a relative symlink in bin/.
for applet in $("$busybox" --list); do
  case $applet in busybox|*/*) continue ;; esac
  [ -L "$rootfs/bin/$applet" ] || ln -sf busybox "$rootfs/bin/$applet"
done

cat > "$rootfs/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/:/bin/false
nobody:x:65534:65534:nobody:/:/bin/false
EOF
cat > "$rootfs/etc/group" <<'EOF'
root:x:0:
daemon:x:1:
tty:x:5:
nogroup:x:65534:
EOF
echo "guise" > "$rootfs/etc/hostname"

# runc 1.1 `runc spec`, except process.terminal (false: bundles here are run
# without a console socket).
cat > "$dir/config.json" <<'EOF'
{
	"ociVersion": "1.0.2-dev",
	"process": {
		"terminal": false,
		"user": {
			"uid": 0,
			"gid": 0
		},
		"args": [
			"sh"
		],
		"env": [
			"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
			"TERM=xterm"
		],
		"cwd": "/",
		"capabilities": {
			"bounding": [
				"CAP_AUDIT_WRITE",
				"CAP_KILL",
				"CAP_NET_BIND_SERVICE"
			],
			"effective": [
				"CAP_AUDIT_WRITE",
				"CAP_KILL",
				"CAP_NET_BIND_SERVICE"
			],
			"permitted": [
				"CAP_AUDIT_WRITE",
				"CAP_KILL",
				"CAP_NET_BIND_SERVICE"
			],
			"ambient": [
				"CAP_AUDIT_WRITE",
				"CAP_KILL",
				"CAP_NET_BIND_SERVICE"
			]
		},
		"rlimits": [
			{
				"type": "RLIMIT_NOFILE",
				"hard": 1024,
				"soft": 1024
			}
		],
		"noNewPrivileges": true
	},
	"root": {
		"path": "rootfs",
		"readonly": true
	},
	"hostname": "runc",
	"mounts": [
		{
			"destination": "/proc",
			"type": "proc",
			"source": "proc"
		},
		{
			"destination": "/dev",
			"type": "tmpfs",
			"source": "tmpfs",
			"options": [
				"nosuid",
				"strictatime",
				"mode=755",
				"size=65536k"
			]
		},
		{
			"destination": "/dev/pts",
			"type": "devpts",
			"source": "devpts",
			"options": [
				"nosuid",
				"noexec",
				"newinstance",
				"ptmxmode=0666",
				"mode=0620",
				"gid=5"
			]
		},
		{
			"destination": "/dev/shm",
			"type": "tmpfs",
			"source": "shm",
			"options": [
				"nosuid",
				"noexec",
				"nodev",
				"mode=1777",
				"size=65536k"
			]
		},
		{
			"destination": "/dev/mqueue",
			"type": "mqueue",
			"source": "mqueue",
			"options": [
				"nosuid",
				"noexec",
				"nodev"
			]
		},
		{
			"destination": "/sys",
			"type": "sysfs",
			"source": "sysfs",
			"options": [
				"nosuid",
				"noexec",
				"nodev",
				"ro"
			]
		},
		{
			"destination": "/sys/fs/cgroup",
			"type": "cgroup",
			"source": "cgroup",
			"options": [
				"nosuid",
				"noexec",
				"nodev",
				"relatime",
				"ro"
			]
		}
	],
	"linux": {
		"resources": {
			"devices": [
				{
					"allow": false,
					"access": "rwm"
				}
			]
		},
		"namespaces": [
			{
				"type": "pid"
			},
			{
				"type": "network"
			},
			{
				"type": "ipc"
			},
			{
				"type": "uts"
			},
			{
				"type": "mount"
			}
		],
		"maskedPaths": [
			"/proc/acpi",
			"/proc/asound",
			"/proc/kcore",
			"/proc/keys",
			"/proc/latency_stats",
			"/proc/timer_list",
			"/proc/timer_stats",
			"/proc/sched_debug",
			"/sys/firmware",
			"/proc/scsi"
		],
		"readonlyPaths": [
			"/proc/bus",
			"/proc/fs",
			"/proc/irq",
			"/proc/sys",
			"/proc/sysrq-trigger"
		]
	}
}
EOF
