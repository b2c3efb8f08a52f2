#!/usr/bin/env bash
# The reinstall story on a demo host under a temporary --root: a busybox
# container with customer files is reinstalled with the custom scripts, its
# old files show up at /old, then it is reinstalled again with --skipbackup.
# Everything it creates is removed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "the demo needs root (namespaces, mounts): run as root" >&2; exit 1; }
source scripts/install-deps.sh
export PATH="/usr/local/go/bin:$PATH"
make --no-print-directory build >/dev/null
BIN=$PWD/bin/reinstall

ROOT=$(mktemp -d /tmp/reinstall-demo.XXXXXX)
R() { "$BIN" --root "$ROOT" --stop-timeout 10s "$@"; }
cleanup() {
  R ct stop 101 >/dev/null 2>&1 || true
  rm -rf "$ROOT"
}
trap cleanup EXIT
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
inside() { echo "\$ $*"; R ct exec 101 -- /bin/sh -c "$*"; }

say "A demo host under $ROOT"
mkdir -p "$ROOT"/etc/vz/conf "$ROOT"/etc/vz/names "$ROOT"/vz/{private,root,lock,template/cache}
cat >"$ROOT/etc/vz/vz.conf" <<'CONF'
VE_ROOT=/vz/root/$VEID
VE_PRIVATE=/vz/private/$VEID
TEMPLATE=/vz/template
LOCKDIR=/vz/lock
CONF
ROOTFS=$(mktemp -d /tmp/reinstall-rootfs.XXXXXX)
mkdir -p "$ROOTFS"/{bin,sbin,usr/bin,usr/sbin,etc/init.d,proc,sys,dev,tmp,root,var/log,run,home}
cp /bin/busybox "$ROOTFS/bin/busybox"
chroot "$ROOTFS" /bin/busybox --install -s
printf 'root:x:0:0:root:/root:/bin/sh\n' >"$ROOTFS/etc/passwd"
printf 'root:x:0:\n' >"$ROOTFS/etc/group"
printf '::sysinit:/etc/init.d/rcS\n::respawn:/bin/sleep 3600\n' >"$ROOTFS/etc/inittab"
printf '#!/bin/sh\nmkdir -p /run\n' >"$ROOTFS/etc/init.d/rcS"; chmod 755 "$ROOTFS/etc/init.d/rcS"
echo "fresh busybox template" >"$ROOTFS/etc/motd"
tar --numeric-owner --zstd -cpf "$ROOT/vz/template/cache/busybox-1.35-x86_64.tar.zst" -C "$ROOTFS" .
rm -rf "$ROOTFS"
ls -l "$ROOT/vz/template/cache"

say "Create container 101 (name: web) and start it"
R ct create 101 --ostemplate busybox-1.35-x86_64 --hostname web.example --name web
R ct start web
R ct list
inside 'hostname; ps; ls /'

say "The customer's files"
inside 'mkdir -p /home/customer && echo "precious data" > /home/customer/notes.txt && rm /etc/motd && echo broken > /etc/broken-config'

say "Custom scripts: vps.reinstall adds a file to the new area, vps.configure copies from /old"
cat >"$ROOT/etc/vz/conf/vps.reinstall" <<'SH'
#!/bin/sh
# Called as: vps.reinstall --veid CTID --ve_private_tmp NEW --ve_private OLD
while [ $# -gt 0 ]; do
  case "$1" in
    --veid) VEID=$2; shift ;;
    --ve_private_tmp) NEW=$2; shift ;;
    --ve_private) OLD=$2; shift ;;
  esac
  shift
done
echo "vps.reinstall: customising $NEW for container $VEID"
echo "reinstalled by the site's vps.reinstall" > "$NEW/etc/reinstalled-by"
exit 0
SH
chmod 755 "$ROOT/etc/vz/conf/vps.reinstall"
cat >"$ROOT/etc/vz/conf/vps.configure" <<'SH'
# Runs inside the new container, old files at /old.
echo "vps.configure: running inside $(hostname), pid 1 is $(cat /proc/1/comm)"
mkdir -p /home/customer
cp -a /old/home/customer/notes.txt /home/customer/notes.txt
SH

say "reinstall --stop 101 (custom mode: both scripts run)"
R --stop web

say "Inside the new container"
inside 'cat /etc/reinstalled-by; cat /home/customer/notes.txt; ls /old/home/customer; cat /etc/motd; ls /etc/broken-config 2>&1 || true; cat /old/etc/broken-config'

say "reinstall --stop --skipbackup 101 without scripts (default mode: old area deleted)"
mv "$ROOT/etc/vz/conf/vps.reinstall" "$ROOT/etc/vz/conf/vps.reinstall.off"
R --stop --skipbackup 101
inside 'ls / ; ls /old 2>&1 || true; cat /etc/motd'
ls "$ROOT/vz/private"

say "Stop and clean up"
R ct stop 101
R ct status 101
