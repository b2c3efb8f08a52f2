#!/usr/bin/env bash
# Leaves a ready demo host to play with under DIR (default
# /var/tmp/reinstall-demo): vz.conf, a busybox OS template (and the Debian 12
# systemd one if scripts/debian-template.sh has cached it), and container
# 101, named web, created and running. `make demo-host` runs it. Running it
# again keeps what is there and starts web if it is stopped. BIN names the
# reinstall binary to use (default: bin/reinstall, built by make).
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "the demo host needs root (namespaces, mounts): run as root" >&2; exit 1; }
ROOT=${1:-/var/tmp/reinstall-demo}
if [ -z "${BIN:-}" ]; then
  source scripts/install-deps.sh
  export PATH="/usr/local/go/bin:$PATH"
  make --no-print-directory build >/dev/null
  BIN=$PWD/bin/reinstall
fi
R() { "$BIN" --root "$ROOT" "$@"; }

mkdir -p "$ROOT"/etc/vz/conf "$ROOT"/etc/vz/names "$ROOT"/vz/{private,root,lock,template/cache}
[ -e "$ROOT/etc/vz/vz.conf" ] || cat >"$ROOT/etc/vz/vz.conf" <<'CONF'
VE_ROOT=/vz/root/$VEID
VE_PRIVATE=/vz/private/$VEID
TEMPLATE=/vz/template
LOCKDIR=/vz/lock
CONF
busybox=$ROOT/vz/template/cache/busybox-1.35-x86_64.tar.zst
if [ ! -e "$busybox" ]; then
  bb=$(command -v busybox || true)
  [ -n "$bb" ] || { echo "no busybox: install Debian's busybox-static" >&2; exit 1; }
  rootfs=$(mktemp -d /tmp/reinstall-rootfs.XXXXXX)
  trap 'rm -rf "$rootfs"' EXIT
  mkdir -p "$rootfs"/{bin,sbin,usr/bin,usr/sbin,etc/init.d,proc,sys,dev,tmp,root,var/log,run,home}
  cp "$bb" "$rootfs/bin/busybox"
  chroot "$rootfs" /bin/busybox --install -s
  printf 'root:x:0:0:root:/root:/bin/sh\n' >"$rootfs/etc/passwd"
  printf 'root:*:19000:0:99999:7:::\n' >"$rootfs/etc/shadow"; chmod 640 "$rootfs/etc/shadow"
  printf 'root:x:0:\n' >"$rootfs/etc/group"
  printf '::sysinit:/etc/init.d/rcS\n::respawn:/bin/sleep 3600\n' >"$rootfs/etc/inittab"
  printf '#!/bin/sh\nmkdir -p /run\n' >"$rootfs/etc/init.d/rcS"; chmod 755 "$rootfs/etc/init.d/rcS"
  echo "fresh busybox template" >"$rootfs/etc/motd"
  tar --numeric-owner --zstd -cpf "$busybox.tmp" -C "$rootfs" . && mv "$busybox.tmp" "$busybox"
fi
debian=${REINSTALL_TEST_CACHE:-/var/cache/reinstall-test}/debian-12-systemd-x86_64.tar.zst
if [ -s "$debian" ] && [ ! -e "$ROOT/vz/template/cache/debian-12-systemd-x86_64.tar.zst" ]; then
  ln "$debian" "$ROOT/vz/template/cache/" 2>/dev/null || cp "$debian" "$ROOT/vz/template/cache/"
fi
[ -e "$ROOT/etc/vz/conf/101.conf" ] || R ct create 101 --ostemplate busybox-1.35-x86_64 --hostname web.example --name web >/dev/null
[ "$(R ct status web)" = running ] || R ct start web
R ct list
cat <<EOF_GUIDE

A demo host is ready under $ROOT. Try:
  $BIN --root $ROOT ct enter web                 # a shell inside (exit to leave)
  $BIN --root $ROOT plan --stop web              # what a reinstall would do
  $BIN --root $ROOT --stop web                   # reinstall it; the old files are at /old
  $BIN --root $ROOT ct create 102 --ostemplate debian-12-systemd-x86_64   # if listed above
To remove it: $BIN --root $ROOT ct stop web; rm -rf $ROOT
EOF_GUIDE
