#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Record the real Linux kernel's transcripts of every mfscenario scenario:
# boot the oracle's QEMU guest (Debian's 6.12 kernel, emulated NVDIMM,
# /dev/dax0.0 align 2M and /dev/dax0.1 align 4K, 256M each), run
# `mfscenario run NAME` in it once per scenario, under the
# vm.memory_failure_early_kill each scenario is meant for, and write
#
#   tests/golden/linux-6.12/oracle-raw.txt   what the guest printed
#   tests/golden/linux-6.12/NAME.txt         normalized (normalize.pl)
#
# Needs root, Debian 12 and its apt mirror (see the oracle's README).
# Usage: tests/conformance/record-oracle.sh [GOLDEN_DIR]
#   ORACLE_DIR   the oracle (default /work/shared/oracle)
#   ORACLE_WORK  its build dir (default: a fresh temporary one; the kernel
#                package is reused from /tmp/oracle-work/debs when present)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
oracle=${ORACLE_DIR:-/work/shared/oracle}
golden=${1:-$top/tests/golden/linux-6.12}
tmp=$(mktemp -d /tmp/mfscenario-oracle.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

[ "$(id -u)" = 0 ] || { echo "record-oracle.sh: needs root (QEMU, apt)" >&2; exit 1; }
mkdir -p "$golden"

# the scenario list, from a host build of the same source
gcc -O2 -o "$tmp/mfscenario-host" "$here/mfscenario.c"
mapfile -t ek0 < <("$tmp/mfscenario-host" list -v | awk '$2 == "early_kill=0" { print $1 }')
mapfile -t ek1 < <("$tmp/mfscenario-host" list -v | awk '$2 == "early_kill=1" { print $1 }')

# ORACLE_EXTRA_DIR must hold nothing but the programs to build
mkdir -p "$tmp/src"
cp "$here/mfscenario.c" "$tmp/src/"

# one invocation per scenario; the sysctl is set by the guest's busybox,
# and each run is told the value so it can print it
dev="DAX2M=/dev/dax0.0 DAX4K=/dev/dax0.1"
extra="sysctl -w vm.memory_failure_early_kill=0"
for n in "${ek0[@]}"; do
	extra+="; $dev MFSCENARIO_EARLY_KILL=0 mfscenario run $n"
done
extra+="; sysctl -w vm.memory_failure_early_kill=1"
for n in "${ek1[@]}"; do
	extra+="; $dev MFSCENARIO_EARLY_KILL=1 mfscenario run $n"
done
extra+="; sysctl -w vm.memory_failure_early_kill=0"

# a work dir of our own: run.sh rewrites its initramfs and NVDIMM image
work=${ORACLE_WORK:-$tmp/work}
mkdir -p "$work/debs"
if [ -z "${ORACLE_WORK:-}" ] && ls /tmp/oracle-work/debs/*.deb >/dev/null 2>&1; then
	cp -l /tmp/oracle-work/debs/*.deb "$work/debs/" 2>/dev/null ||
		cp /tmp/oracle-work/debs/*.deb "$work/debs/"
fi

ORACLE_WORK="$work" ORACLE_RESULTS="$tmp/results" ORACLE_NVDIMM_IMG="$tmp/nvdimm.img" \
ORACLE_EXTRA="$extra" ORACLE_EXTRA_DIR="$tmp/src" \
	bash "$oracle/run.sh"

raw=$(ls "$tmp"/results/probes-linux-*.txt | head -1)
case "$raw" in
*probes-linux-6.12.*) ;;
*) echo "record-oracle.sh: expected a 6.12 kernel, got $(basename "$raw")" >&2; exit 1 ;;
esac
# the devices must be the ones the scenarios name
grep -q 'ORACLE_DAX2M=/dev/dax0.0 ORACLE_DAX4K=/dev/dax0.1' "$raw" ||
	{ echo "record-oracle.sh: the guest's dax devices are not dax0.0 (2M), dax0.1 (4K)" >&2; exit 1; }
cp "$raw" "$golden/oracle-raw.txt"
"$here/normalize.pl" oracle "$golden/oracle-raw.txt" "$golden"
