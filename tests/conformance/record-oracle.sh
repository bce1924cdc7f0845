#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Record a real Linux kernel's transcripts of every conformance scenario:
# boot the oracle's QEMU guest (Debian's 6.12 kernel, or 6.1 with
# ORACLE_KERNEL_META=linux-image-amd64; emulated NVDIMM, /dev/dax0.0 align
# 2M and /dev/dax0.1 align 4K, 256M each; ext4 on a ramdisk and a tmpfs
# directory for page cache), run `mfscenario run NAME` (device DAX) and
# `mford run NAME` and `mfmemcases run NAME` (ordinary memory) and
# `mffsdax run NAME` (fsdax: a file of the guest's ext4 mounted -o dax,
# /mnt/ext4dax, or for scenarios fNx_* of its xfs, /mnt/xfsdax) in it
# once per scenario, under the vm.memory_failure_early_kill each scenario
# is meant for, and write
#
#   tests/golden/linux-V/oracle-raw.txt   what the guest printed
#   tests/golden/linux-V/NAME.txt         normalized (normalize.pl, normalize-ord.pl)
#
# With RECORD_PROGRAMS="mfmemcases" (a subset of "mfscenario mford
# mfmemcases mffsdax") only those programs' scenarios run, and the
# guest's output goes to oracle-raw-PROGRAM.txt when it is one program:
# the other programs' golden files and raw record stay as they were.
#
# where V is the kernel's major.minor (6.12 or 6.1).
# Needs root, Debian 12 and its apt mirror (see the oracle's README).
# Usage: tests/conformance/record-oracle.sh [GOLDEN_DIR]
#   ORACLE_DIR   the oracle (default /work/shared/oracle)
#   ORACLE_WORK  its build dir (default: a fresh temporary one; the kernel
#                packages are reused from /tmp/oracle-work/debs when present)
#   ORACLE_KERNEL_META  the kernel package (the oracle's default: 6.12)
#   RECORD_PROGRAMS     the scenario programs to run (default: all four)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
oracle=${ORACLE_DIR:-/work/shared/oracle}
tmp=$(mktemp -d /tmp/mfscenario-oracle.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

[ "$(id -u)" = 0 ] || { echo "record-oracle.sh: needs root (QEMU, apt)" >&2; exit 1; }

# ORACLE_EXTRA_DIR must hold nothing but the programs to build
mkdir -p "$tmp/src"
cp "$here/mfscenario.c" "$tmp/src/"
programs=${RECORD_PROGRAMS:-mfscenario mford mfmemcases mffsdax}
ordprogs="mford mfmemcases mffsdax"
# mford, mfmemcases and mffsdax are mfactor's code, ordscript's and their
# own: one file each for the guest's gcc
for p in $ordprogs; do
	{
		printf '#define _GNU_SOURCE\n#define MFACTOR_NO_MAIN\n'
		cat "$top/tests/progs/mfactor.h" "$here/ordscript.h"
		for f in "$top/tests/progs/mfactor.c" "$top/tests/progs/mfactor-mem.c" \
			 "$top/tests/progs/mfactor-churn.c" "$top/tests/progs/mfactor-blk.c" \
			 "$here/ordscript.c" "$here/$p.c"; do
			grep -v '#include "\(\(\.\./progs/\)\?mfactor\|ordscript\)\.h"' "$f"
		done
	} > "$tmp/src/$p.c"
done

# the scenario lists, from host builds of the same sources
gcc -O2 -o "$tmp/mfscenario-host" "$here/mfscenario.c"
for p in $ordprogs; do
	gcc -O2 -pthread -o "$tmp/$p-host" "$tmp/src/$p.c"
done
scenarios() {	# PROGRAM EARLY_KILL
	case " $programs " in *" $1 "*) ;; *) return 0 ;; esac
	"$tmp/$1-host" list -v | awk -v ek="early_kill=$2" '$2 == ek && $3 != "needs=panic" { print $1 }'
}
# the scenarios that panic the kernel: one boot each, after the others
panics() {	# PROGRAM
	case " $programs " in *" $1 "*) ;; *) return 0 ;; esac
	"$tmp/$1-host" list -v | awk '$3 == "needs=panic" { print $1 }'
}

# one invocation per scenario; the sysctl is set by the guest's busybox,
# and each run is told the value so it can print it
dev="DAX2M=/dev/dax0.0 DAX4K=/dev/dax0.1"
dirs="MFORD_DISK_DIR=/mnt/brd MFORD_TMPFS_DIR=/tmp/tmpfsdir"
# an fsdax scenario's file system: fNx_* xfs, the others ext4
daxdir() {	# SCENARIO
	case $1 in
	f[0-9]x_*|f[0-9][0-9]x_*) echo MFORD_DAX_DIR=/mnt/xfsdax MFORD_DAX_BLK=pmem0.3 ;;
	*) echo MFORD_DAX_DIR=/mnt/ext4dax MFORD_DAX_BLK=pmem0.2 ;;
	esac
}
extra="sysctl -w vm.nr_hugepages=8"
for ek in 0 1; do
	extra+="; sysctl -w vm.memory_failure_early_kill=$ek"
	for n in $(scenarios mfscenario $ek); do
		extra+="; $dev MFSCENARIO_EARLY_KILL=$ek mfscenario run $n"
	done
	for p in mford mfmemcases; do
		for n in $(scenarios $p $ek); do
			extra+="; $dirs MFORD_EARLY_KILL=$ek $p run $n"
		done
	done
	for n in $(scenarios mffsdax $ek); do
		extra+="; $(daxdir "$n") MFORD_EARLY_KILL=$ek mffsdax run $n"
	done
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

# each panic its own boot; its output goes after the others'
for p in mford mfmemcases; do
	for n in $(panics $p); do
		mkdir -p "$tmp/results-$n"
		ORACLE_WORK="$work" ORACLE_RESULTS="$tmp/results-$n" ORACLE_NVDIMM_IMG="$tmp/nvdimm.img" \
		ORACLE_EXTRA="sysctl -w vm.memory_failure_early_kill=0; $dirs MFORD_EARLY_KILL=0 $p run $n" \
		ORACLE_EXTRA_DIR="$tmp/src" ORACLE_QEMU_TIMEOUT=300 \
			bash "$oracle/run.sh" || true
		cat "$tmp/results-$n"/probes-linux-*.txt >> "$raw"
	done
done

case "$raw" in
*probes-linux-6.12.*) ver=6.12 ;;
*probes-linux-6.1.*) ver=6.1 ;;
*) echo "record-oracle.sh: expected a 6.12 or 6.1 kernel, got $(basename "$raw")" >&2; exit 1 ;;
esac
golden=${1:-$top/tests/golden/linux-$ver}
mkdir -p "$golden"
# the devices must be the ones the scenarios name
grep -q 'ORACLE_DAX2M=/dev/dax0.0 ORACLE_DAX4K=/dev/dax0.1' "$raw" ||
	{ echo "record-oracle.sh: the guest's dax devices are not dax0.0 (2M), dax0.1 (4K)" >&2; exit 1; }
case "$programs" in
*" "*) rawname=oracle-raw.txt ;;
*) rawname=oracle-raw-$programs.txt ;;
esac
cp "$raw" "$golden/$rawname"
case " $programs " in *" mfscenario "*)
	"$here/normalize.pl" oracle "$golden/$rawname" "$golden" ;;
esac
case " $programs " in *" mford "*|*" mfmemcases "*|*" mffsdax "*)
	"$here/normalize-ord.pl" oracle "$golden/$rawname" "$golden" ;;
esac
