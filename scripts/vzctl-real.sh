#!/usr/bin/env bash
# Builds (once) the real legacy OpenVZ vzctl 4.11.1 that the vzctl runtime's
# tests drive (cmd/reinstall/vzctl_real_test.go) and prints the path of its
# binary. The build script and vzctl's own source tarball live outside the
# repository ($REINSTALL_VZCTL_SRC, default ../shared/peers/vzctl beside the
# checkout); nothing of vzctl is copied here. The result is cached:
#   $REINSTALL_TEST_CACHE (default /var/cache/reinstall-test)/vzctl/prefix/sbin/vzctl
# The first build takes about a minute. vzctl runs in its upstream-kernel
# mode (namespaces + cgroup v1): the host needs cgroup v1 controllers.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache=${REINSTALL_TEST_CACHE:-/var/cache/reinstall-test}
w=$cache/vzctl
out=$w/prefix/sbin/vzctl
src=${REINSTALL_VZCTL_SRC:-$here/../../shared/peers/vzctl}
[ -f "$src/build.sh" ] || src=/work/shared/peers/vzctl
mkdir -p "$cache"
exec 9>"$cache/.vzctl.lock"
flock 9
if [ -x "$out" ] && [ -f "$w/.built" ]; then echo "$out"; exit 0; fi
[ -f "$src/build.sh" ] || { echo "vzctl-real.sh: no vzctl build script at $src (set REINSTALL_VZCTL_SRC)" >&2; exit 1; }
echo "building the real vzctl 4.11.1 (once, about a minute): $out" >&2
rm -rf "$w"; mkdir -p "$w"
W=$w bash "$src/build.sh" >&2
touch "$w/.built"
echo "$out"
