#!/bin/bash
# SPDX-License-Identifier: MIT
#
# conformance.sh BUILD_DIR: run every mfscenario scenario under
# `memfail run --kernel PROFILE` for each profile that has golden files in
# tests/golden/PROFILE/, normalize the transcript and memfaild's log the
# way the golden files were (tests/conformance/normalize.pl), and compare.
# Prints TAP; a failure is followed by the diff (golden -> memfail) as
# "# " lines.
#
# tests/golden/linux-6.12 was recorded on a real 6.12 kernel
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
norm=$top/tests/conformance/normalize.pl
memfail=$BUILD/memfail
mfs=$BUILD/tests/conformance/mfscenario
tmo=${MF_CONFORMANCE_TIMEOUT:-120}

if [ ! -x "$memfail" ] || [ ! -x "$mfs" ]; then
	echo "1..0 # SKIP $memfail or $mfs not built"
	exit 0
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/mf-conformance.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
keep=${MF_CONFORMANCE_KEEP:-}
[ -z "$keep" ] || mkdir -p "$keep"

# profiles: directories of golden files
profiles=()
for d in "$golden"/*/; do
	d=${d%/}
	ls "$d"/s*.txt >/dev/null 2>&1 && profiles+=("$(basename "$d")")
done

# scenarios and the vm.memory_failure_early_kill each is meant for
names=() eks=()
while read -r name ek _; do
	if [ -n "${MF_CONFORMANCE_ONLY:-}" ]; then
		case " $MF_CONFORMANCE_ONLY " in *" $name "*) ;; *) continue ;; esac
	fi
	names+=("$name")
	eks+=("${ek#early_kill=}")
done < <("$mfs" list -v)

# golden files of scenarios that mfscenario no longer has
orphans=()
if [ -z "${MF_CONFORMANCE_ONLY:-}" ]; then
	for p in "${profiles[@]}"; do
		for f in "$golden/$p"/s*.txt; do
			n=$(basename "$f" .txt)
			case " ${names[*]} " in *" $n "*) ;; *) orphans+=("$p/$n") ;; esac
		done
	done
fi

echo "1..$(( ${#profiles[@]} * ${#names[@]} + ${#orphans[@]} ))"
t=0 failed=0
for p in "${profiles[@]}"; do
	for i in "${!names[@]}"; do
		n=${names[$i]} ek=${eks[$i]}
		t=$((t + 1))
		exp=$golden/$p/$n.txt
		if [ ! -f "$exp" ]; then
			echo "not ok $t - $p/$n"
			echo "# no golden file $exp"
			failed=$((failed + 1))
			continue
		fi
		# dropping privileges needs them in the first place
		if [ "$n" = s9_devdax2m_nonroot ] && [ "$(id -u)" != 0 ]; then
			echo "ok $t - $p/$n # SKIP needs root for setresuid(65534)"
			continue
		fi
		rm -f "$tmp/log"
		MFSCENARIO_EARLY_KILL=$ek timeout --kill-after=10 "$tmo" \
			"$memfail" run -q --kernel "$p" --early-kill "$ek" \
			--namespace 256M,align=2M --namespace 256M,align=4K \
			--log-file "$tmp/log" -- "$mfs" run "$n" >"$tmp/out" 2>"$tmp/err"
		rc=$?
		"$norm" memfail "$tmp/out" "$tmp/log" "$rc" >"$tmp/got"
		if [ -n "$keep" ]; then
			mkdir -p "$keep/$p"
			cp "$tmp/out" "$keep/$p/$n.transcript"
			cp "$tmp/err" "$keep/$p/$n.stderr"
			[ -f "$tmp/log" ] && cp "$tmp/log" "$keep/$p/$n.log"
			cp "$tmp/got" "$keep/$p/$n.txt"
		fi
		if diff -q "$exp" "$tmp/got" >/dev/null; then
			echo "ok $t - $p/$n"
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
	echo "# golden file without a scenario in mfscenario"
	failed=$((failed + 1))
done
[ "$failed" -eq 0 ]
