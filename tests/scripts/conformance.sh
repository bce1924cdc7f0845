#!/bin/bash
# SPDX-License-Identifier: MIT
#
# conformance.sh BUILD_DIR: run every conformance scenario under
# `memfail run --kernel PROFILE` for each profile that has golden files in
# tests/golden/PROFILE/, normalize the transcript and memfaild's log the
# way the golden files were, and compare.  Four programs: mfscenario
# (device DAX, s* files, tests/conformance/normalize.pl), mford and
# mfmemcases (ordinary memory, o* and m* files, normalize-ord.pl), mffsdax
# (a file of an fsdax mount, f* files, normalize-ord.pl).  Prints
# TAP; a failure is followed by the diff (golden -> memfail) as "# " lines.
#
# A scenario listed in tests/conformance/known-differences.txt for a
# profile is a difference memfail knows it has: its mismatch is reported
# as "not ok N - ... # TODO known difference: WHY", which is neither a
# pass nor a failure (run-tests.sh counts it apart), with the diff.  If it
# matches after all, that is a failure: the list is out of date.
#
# tests/golden/linux-6.12 and linux-6.1 were recorded on real kernels
# (tests/conformance/record-oracle.sh); tests/golden/linux-4.19 is derived
# from the 4.19 source (see its README.md).
#
#   MF_CONFORMANCE_ONLY="NAME ..."   run only these scenarios
#   MF_CONFORMANCE_KEEP=DIR          keep every run's raw and normalized output
set -u

BUILD=${1:-build}
BUILD=$(cd "$BUILD" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
golden=$top/tests/golden
memfail=$BUILD/memfail
tmo=${MF_CONFORMANCE_TIMEOUT:-120}
declare -A prog=( [s]=$BUILD/tests/conformance/mfscenario [o]=$BUILD/tests/conformance/mford
		  [m]=$BUILD/tests/conformance/mfmemcases [f]=$BUILD/tests/conformance/mffsdax )
declare -A norm=( [s]=$top/tests/conformance/normalize.pl [o]=$top/tests/conformance/normalize-ord.pl
		  [m]=$top/tests/conformance/normalize-ord.pl [f]=$top/tests/conformance/normalize-ord.pl )

if [ ! -x "$memfail" ] || [ ! -x "${prog[s]}" ] || [ ! -x "${prog[o]}" ] || [ ! -x "${prog[m]}" ] ||
   [ ! -x "${prog[f]}" ]; then
	echo "1..0 # SKIP memfail, mfscenario, mford, mfmemcases or mffsdax not built"
	exit 0
fi

# PROFILE/NAME -> why memfail differs there
declare -A known=()
while read -r key why; do
	case $key in ''|'#'*) continue ;; esac
	known[$key]=$why
done < "$top/tests/conformance/known-differences.txt"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/mf-conformance.XXXXXX")
disk=$tmp/disk
dax=$tmp/dax
shm=$(mktemp -d /dev/shm/mf-conformance.XXXXXX)
mkdir -p "$disk"
hugepages=
restore() {
	[ -z "$hugepages" ] || echo "$hugepages" > /proc/sys/vm/nr_hugepages
	rm -rf "$tmp" "$shm"
}
trap restore EXIT
keep=${MF_CONFORMANCE_KEEP:-}
[ -z "$keep" ] || mkdir -p "$keep"

# huge pages for the hugetlb scenarios, if we may
if [ "$(id -u)" = 0 ] && [ -w /proc/sys/vm/nr_hugepages ]; then
	hugepages=$(cat /proc/sys/vm/nr_hugepages)
	echo $((hugepages + 4)) > /proc/sys/vm/nr_hugepages
fi

# profiles: directories of golden files
profiles=()
for d in "$golden"/*/; do
	d=${d%/}
	ls "$d"/[somf][0-9]*.txt >/dev/null 2>&1 && profiles+=("$(basename "$d")")
done

# scenarios, the program they are of, the vm.memory_failure_early_kill
# each is meant for and what it needs
names=() kinds=() eks=() needs=()
for k in s o m f; do
	while read -r name ek need _; do
		if [ -n "${MF_CONFORMANCE_ONLY:-}" ]; then
			case " $MF_CONFORMANCE_ONLY " in *" $name "*) ;; *) continue ;; esac
		fi
		names+=("$name")
		kinds+=("$k")
		eks+=("${ek#early_kill=}")
		case $need in needs=*) needs+=("${need#needs=}") ;; *) needs+=("-") ;; esac
	done < <("${prog[$k]}" list -v)
done

# golden files of scenarios that no program has any more
orphans=()
if [ -z "${MF_CONFORMANCE_ONLY:-}" ]; then
	for p in "${profiles[@]}"; do
		for f in "$golden/$p"/[somf][0-9]*.txt; do
			[ -e "$f" ] || continue
			n=$(basename "$f" .txt)
			case " ${names[*]} " in *" $n "*) ;; *) orphans+=("$p/$n") ;; esac
		done
	done
fi

# a scenario that cannot run here, and why (empty: it can)
cannot() {
	local n=$1 need=$2
	# dropping privileges needs them in the first place
	if [ "$n" = s9_devdax2m_nonroot ] || [ "$need" = root ]; then
		[ "$(id -u)" = 0 ] || { echo "needs root"; return; }
	fi
	if [ "$need" = hugetlb ]; then
		[ -n "$hugepages" ] || { echo "needs root for huge pages"; return; }
		[ "$(awk '/^HugePages_Free:/ { print $2 }' /proc/meminfo)" -gt 1 ] ||
			{ echo "the machine gave no huge pages"; return; }
	fi
}

# a profile is checked for a program's scenarios where it has golden
# files of that program (linux-4.19 has none for ordinary memory: no 4.19
# kernel ran them)
has_kind() {
	ls "$golden/$1/$2"[0-9]*.txt >/dev/null 2>&1
}
total=${#orphans[@]}
for p in "${profiles[@]}"; do
	for i in "${!names[@]}"; do
		has_kind "$p" "${kinds[$i]}" && total=$((total + 1))
	done
done

echo "1..$total"
t=0 failed=0 todo=0
for p in "${profiles[@]}"; do
	for i in "${!names[@]}"; do
		n=${names[$i]} k=${kinds[$i]} ek=${eks[$i]}
		has_kind "$p" "$k" || continue
		t=$((t + 1))
		exp=$golden/$p/$n.txt
		if [ ! -f "$exp" ]; then
			echo "not ok $t - $p/$n"
			echo "# no golden file $exp"
			failed=$((failed + 1))
			continue
		fi
		why=$(cannot "$n" "${needs[$i]}")
		if [ -n "$why" ]; then
			echo "ok $t - $p/$n # SKIP $why"
			continue
		fi
		rm -f "$tmp/log" "$disk"/* "$shm"/*
		if [ "$k" = s ]; then
			MFSCENARIO_EARLY_KILL=$ek timeout --kill-after=10 "$tmo" \
				"$memfail" run -q --kernel "$p" --early-kill "$ek" \
				--namespace 256M,align=2M --namespace 256M,align=4K \
				--log-file "$tmp/log" -- "${prog[s]}" run "$n" >"$tmp/out" 2>"$tmp/err"
		elif [ "$k" = f ]; then
			# a file of the fsdax namespace's filesystem, mounted at $dax
			mkdir -p "$dax"
			MFORD_EARLY_KILL=$ek MFORD_DAX_DIR=$dax MFORD_DAX_BLK=pmem0.0 timeout --kill-after=10 "$tmo" \
				"$memfail" run -q --kernel "$p" --early-kill "$ek" \
				--namespace 64M,mode=fsdax --mount "$dax" \
				--log-file "$tmp/log" -- "${prog[f]}" run "$n" >"$tmp/out" 2>"$tmp/err"
		else
			MFORD_EARLY_KILL=$ek MFORD_DISK_DIR=$disk MFORD_TMPFS_DIR=$shm \
				timeout --kill-after=10 "$tmo" \
				"$memfail" run -q --kernel "$p" --early-kill "$ek" \
				--log-file "$tmp/log" -- "${prog[$k]}" run "$n" >"$tmp/out" 2>"$tmp/err"
		fi
		rc=$?
		"${norm[$k]}" memfail "$tmp/out" "$tmp/log" "$rc" >"$tmp/got"
		if [ -n "$keep" ]; then
			mkdir -p "$keep/$p"
			cp "$tmp/out" "$keep/$p/$n.transcript"
			cp "$tmp/err" "$keep/$p/$n.stderr"
			[ -f "$tmp/log" ] && cp "$tmp/log" "$keep/$p/$n.log"
			cp "$tmp/got" "$keep/$p/$n.txt"
		fi
		kd=${known[$p/$n]:-}
		if diff -q "$exp" "$tmp/got" >/dev/null; then
			if [ -n "$kd" ]; then
				echo "not ok $t - $p/$n"
				echo "# listed in known-differences.txt but matches: take it out"
				failed=$((failed + 1))
			else
				echo "ok $t - $p/$n"
			fi
		elif [ -n "$kd" ]; then
			echo "not ok $t - $p/$n # TODO known difference: $kd"
			diff -u --label "golden/$p/$n.txt" --label memfail "$exp" "$tmp/got" |
				sed 's/^/# /'
			todo=$((todo + 1))
		else
			echo "not ok $t - $p/$n"
			diff -u --label "golden/$p/$n.txt" --label memfail "$exp" "$tmp/got" |
				sed 's/^/# /'
			if [ -s "$tmp/err" ]; then
				echo "# stderr:"
				tail -n 5 "$tmp/err" | sed 's/^/#   /'
			fi
			failed=$((failed + 1))
		fi
	done
done
for o in "${orphans[@]}"; do
	t=$((t + 1))
	echo "not ok $t - $o"
	echo "# golden file without a scenario"
	failed=$((failed + 1))
done
[ "$todo" -eq 0 ] || echo "# $todo known difference(s), not passed"
[ "$failed" -eq 0 ]
