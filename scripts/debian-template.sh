#!/usr/bin/env bash
# Builds (once) a real Debian 12 OS template with systemd, the one the
# real-OS tests and `make bench` use, and prints its path. It is cached
# outside the checkout, so a later run (or CI on the same machine) reuses it:
#   $REINSTALL_TEST_CACHE (default /var/cache/reinstall-test)/debian-12-systemd-x86_64.tar.zst
# The first build takes several minutes (mmdebstrap from Debian's packages).
set -euo pipefail
cache=${REINSTALL_TEST_CACHE:-/var/cache/reinstall-test}
out=$cache/debian-12-systemd-x86_64.tar.zst
if [ -s "$out" ]; then echo "$out"; exit 0; fi
command -v mmdebstrap >/dev/null 2>&1 || {
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends mmdebstrap zstd >/dev/null
}
mkdir -p "$cache"
tmp=$(mktemp "$cache/.build.XXXXXX")
trap 'rm -f "$tmp" "$tmp.tar"' EXIT
echo "building the Debian 12 systemd template (once, a few minutes): $out" >&2
mmdebstrap --quiet --variant=minbase \
  --include=systemd-sysv,openssh-server,cron,iproute2,procps \
  --customize-hook='echo debian > "$1"/etc/hostname' \
  bookworm "$tmp.tar" >&2
zstd -q -T0 -3 -f -o "$tmp" "$tmp.tar"
mv -f "$tmp" "$out"
echo "$out"
