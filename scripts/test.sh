#!/usr/bin/env bash
# Runs every test of every module, as root, on real containers and real
# plugin processes. This is the README's test command and what CI runs.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "the tests need root (namespaces, mounts): run as root" >&2; exit 1; }
source scripts/install-deps.sh
export PATH="/usr/local/go/bin:$PATH"
make --no-print-directory lint build
go test -count=1 -timeout 20m ./...
(cd plugin-sdk && go test -count=1 -timeout 10m ./...)
# The example vendor plugin: its unit tests and the conformance test of its binary.
(cd examples/plugins/license-installer && go test -count=1 -timeout 10m ./...)
