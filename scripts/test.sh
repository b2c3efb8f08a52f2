#!/usr/bin/env bash
# Runs every test of every module, as root, on real containers and real
# plugin processes. This is the README's test command and what CI runs.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "the tests need root (namespaces, mounts): run as root" >&2; exit 1; }
steps=7 step=0 began=$SECONDS
step() { step=$((step + 1)); printf '\n== step %d/%d: %s (%ds so far)\n' "$step" "$steps" "$*" "$((SECONDS - began))" >&2; }

step "install what the tests need (scripts/install-deps.sh)"
source scripts/install-deps.sh
export PATH="/usr/local/go/bin:$PATH"
step "the real Debian 12 systemd template and the real vzctl (scripts/debian-template.sh, scripts/vzctl-real.sh; built once, minutes, then cached)"
REINSTALL_DEBIAN_TEMPLATE=$(bash scripts/debian-template.sh)
export REINSTALL_DEBIAN_TEMPLATE
# The vzctl runtime's tests drive the real legacy OpenVZ vzctl; set, the
# variable makes a missing binary fail them instead of skipping.
REINSTALL_VZCTL=$(bash scripts/vzctl-real.sh)
export REINSTALL_VZCTL
step "lint and build"
make --no-print-directory lint build
step "go test ./... (the main module, real containers)"
go test -count=1 -timeout 20m ./...
step "go test the plugin SDK"
(cd plugin-sdk && go test -count=1 -timeout 10m ./...)
# The example vendor plugin: its unit tests and the conformance test of its binary.
step "go test the example vendor plugin"
(cd examples/plugins/license-installer && go test -count=1 -timeout 10m ./...)
# The crash-safety suite (contract §5): a faultinject build SIGKILLs the host
# or a plugin after every journal record and in the middle of the long steps,
# then checks `reinstall recover`. Its demo hosts live on a tmpfs so that the
# ~220 runs fit the time budget (SIGKILL keeps the page cache, so the suite
# proves the same recovery logic; the fsync ordering covers power loss).
step "the crash-safety suite (go test -tags faultinject, about 5 minutes)"
fault_tmp=$(mktemp -d /tmp/rf.XXXX)
mount -t tmpfs -o size=4g tmpfs "$fault_tmp"
trap 'umount -l "$fault_tmp" 2>/dev/null; rmdir "$fault_tmp" 2>/dev/null' EXIT
TMPDIR=$fault_tmp go test -tags faultinject -count=1 -timeout 30m -parallel 8 -run 'TestFaultInjection|TestOSTemplateRecover' -v ./cmd/reinstall \
  | grep -v -E '^(=== (RUN|PAUSE|CONT)|[[:space:]]*--- PASS)'
printf '\n== all %d steps passed in %ds\n' "$steps" "$((SECONDS - began))" >&2
