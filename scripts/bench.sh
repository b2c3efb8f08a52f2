#!/usr/bin/env bash
# `make bench`: measures reinstall against baselines measured in the same run
# (issue 8, P1–P5; P6 on the real Debian 12 systemd template) on a temporary demo host, prints the table and writes it as
# JSON to bin/bench.json. Arguments go to the benchmark program (e.g. -reps 3,
# -only P2,P4, -old-large-mb 512; see `bin/reinstall-bench -h`).
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "the benchmark needs root (containers, loop mounts, dropping caches): run as root" >&2; exit 1; }
source scripts/install-deps.sh
# The clone measurement formats loop file systems that can reflink; GNU time
# measures peak memory.
need=()
[ -x /usr/bin/time ] || need+=(time)
command -v mkfs.xfs >/dev/null 2>&1 || need+=(xfsprogs)
command -v mkfs.btrfs >/dev/null 2>&1 || need+=(btrfs-progs)
if ((${#need[@]})); then
  echo "installing: ${need[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  { apt-get install -y -qq --no-install-recommends "${need[@]}" ||
    { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${need[@]}"; }; } >/dev/null ||
    echo "could not install ${need[*]}: the clone measurement is skipped" >&2
fi
# P6 measures the real Debian template (built once, minutes, then cached).
REINSTALL_DEBIAN_TEMPLATE=$(bash scripts/debian-template.sh)
export REINSTALL_DEBIAN_TEMPLATE
export PATH="/usr/local/go/bin:$PATH"
make --no-print-directory build
go build -o bin/reinstall-bench ./cmd/reinstall-bench
exec bin/reinstall-bench -reinstall bin/reinstall -json bin/bench.json "$@"
