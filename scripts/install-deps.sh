#!/usr/bin/env bash
# Installs what building, testing and the demo need on a Debian host:
# a static busybox (the demo OS template), GNU tar and its compressors,
# util-linux's nsenter, make, ansible-core (the reinstall_ct module's tests
# run ansible-playbook), LXC (the lxc runtime's tests run real LXC
# containers) and xfsprogs (the reflink clone tests mount an XFS image). Go
# >= 1.26 is a prerequisite.
set -euo pipefail
need=()
have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
for pkg in busybox-static tar zstd xz-utils bzip2 gzip util-linux make ansible-core lxc xfsprogs; do
  have_pkg "$pkg" || need+=("$pkg")
done
if ((${#need[@]})); then
  echo "installing: ${need[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
if ! command -v go >/dev/null 2>&1; then
  for d in /usr/local/go/bin /usr/lib/go/bin; do [ -x "$d/go" ] && export PATH="$d:$PATH"; done
fi
command -v go >/dev/null 2>&1 || { echo "reinstall needs Go >= 1.26 (https://go.dev/dl)" >&2; exit 1; }
