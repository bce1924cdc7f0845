#!/bin/bash
# SPDX-License-Identifier: MIT
#
# model-check.sh [BUILD_DIR]: check tests/model/entry-lock.pml, the fsdax
# entry-lock protocol, with spin over all interleavings: the protocol
# must pass (assertions, invariants, no deadlock, every run terminates)
# and every deliberately broken variant must fail, on a property that
# variant breaks.  BUILD_DIR is not used (the model needs no build).
# Prints TAP; exits non-zero if any case fails.
set -u

here=$(cd "$(dirname "$0")" && pwd)
model=$here/../model/entry-lock.pml

if ! command -v spin >/dev/null || ! command -v gcc >/dev/null; then
	echo "1..0 # SKIP spin or gcc not installed (Debian package spin)"
	exit 0
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/mf-model.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
cp "$model" "$tmp/entry-lock.pml" || exit 1
cd "$tmp" || exit 1

n=0 bad=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() {
	n=$((n + 1)); bad=$((bad + 1))
	echo "not ok $n - $1"
	[ -n "${2:-}" ] && [ -f "$2" ] && sed 's/^/# /' "$2" | head -40
}

# verify OUT MODE [-DVARIANT]: generate, compile and run the verifier,
# pan's report in OUT.  MODE safety: assertions and invalid end states
# (deadlock); MODE liveness: the ltl claim "terminates", acceptance.
# The whole search of the protocol is about 2.3 million states: -O1
# compiles pan in a third of -O2's time and runs as fast; a broken
# variant stops at its first error, so -O0.  -w22: a 4M-slot hash table.
verify() {
	local out=$1 mode=$2 opt=-O1
	shift 2
	[ $# -gt 0 ] && opt=-O0
	rm -f pan pan.* ./*.trail
	if ! spin "$@" -a entry-lock.pml > "$out" 2>&1; then
		echo "spin -a failed" >> "$out"
		return 1
	fi
	# pan.c is generated: its warnings are spin's, not ours
	if [ "$mode" = safety ]; then
		gcc $opt -w -DNOCLAIM -o pan pan.c >> "$out" 2>&1 || return 1
		./pan -m200000 -w22 > "$out" 2>&1
	else
		gcc $opt -w -o pan pan.c >> "$out" 2>&1 || return 1
		./pan -a -m200000 -w22 -N terminates > "$out" 2>&1
	fi
	return 0
}

errors() { sed -n 's/.*errors: \([0-9]*\).*/\1/p' "$1" | tail -1; }

# a complete search: no error, nothing truncated by the depth limit
complete_clean() {
	[ "$(errors "$1")" = 0 ] &&
		grep -q 'Full statespace search' "$1" &&
		! grep -q 'max search depth too small' "$1"
}

figures() {	# the state-space figures, as TAP comments
	local f=$1
	echo "# $(grep -o 'State-vector.*errors: [0-9]*' "$f")"
	grep -E 'states, stored|transitions \(|total actual memory|elapsed time' "$f" |
		sed 's/^[[:space:]]*/# /'
}

echo "1..9"

# 1: the protocol, safety (every assertion and invariant, no deadlock)
out=$tmp/safety.out
if verify "$out" safety && complete_clean "$out"; then
	ok "entry-lock protocol: no assertion, invariant or deadlock violated over all interleavings"
	figures "$out"
else
	not_ok "entry-lock protocol: safety" "$out"
fi

# 2: ... and the search went everywhere: every statement of
# memory_failure, punch and user is reached (the model is not vacuous)
unreached=$(awk '/^unreached in proctype (memory_failure|punch|user)$/ { p = 1; next }
		 /^unreached in/ { p = 0 }
		 p && /entry-lock\.pml:[0-9]+/ { print }' "$out")
if grep -q 'unreached in proctype memory_failure' "$out" && [ -z "$unreached" ]; then
	ok "entry-lock protocol: every step of memory_failure, punch and the processes is reached"
else
	n=$((n + 1)); bad=$((bad + 1))
	echo "not ok $n - entry-lock protocol: unreached steps"
	sed 's/^/# /' <<<"$unreached"
fi

# 3: the protocol, liveness: every run ends with memory_failure and the
# punch done (no one waits forever on the entry lock)
out=$tmp/liveness.out
if verify "$out" liveness && complete_clean "$out"; then
	ok "entry-lock protocol: every run terminates (ltl <> (mf_done && punch_done))"
	figures "$out"
else
	not_ok "entry-lock protocol: liveness" "$out"
fi

# the broken variants: spin must find an error, of a kind the variant
# breaks (pan prints the violated assertion's expression)
touched='assertion violated \(owned\[0\]&&\(entry==0\)\)'	# freed metadata touched
collect='assertion violated \(coll\['				# a mapper missed / one too many
lost='assertion violated .*noted'				# poison lost
mapped='assertion violated .*mf_unmapped'			# B mapped after the unmap
freed='assertion violated .*owned\[pte\['			# a freed block mapped
deadlock='invalid end state'

caught() {	# caught DESCRIPTION VARIANT REGEX
	local out=$tmp/$2.out first
	verify "$out" safety "-D$2"
	first=$(grep -m1 -E '^pan:[0-9]+: ' "$out")
	if [ "${first:+x}" ] && [ "$(errors "$out")" -gt 0 ] 2>/dev/null &&
	   grep -qE -- "$3" <<<"$first"; then
		ok "-D$2 ($1) is caught: ${first#pan:*: }"
	else
		not_ok "-D$2 ($1) is not caught as expected (first error: ${first:-none})" "$out"
	fi
}

caught "memory_failure without the entry lock" BROKEN_NO_ENTRY_LOCK \
	"$touched|$collect|$lost|$mapped|$freed"
caught "a fault without the entry lock" BROKEN_FAULT_NO_LOCK "$mapped|$freed"
caught "no check of the entry under the lock" BROKEN_NO_RECHECK "$touched|$collect"
caught "punch takes i_mmap_lock before the entry lock" BROKEN_LOCK_ORDER "$deadlock"
caught "punch drops the poison record" BROKEN_PUNCH_DROPS_POISON "$lost|$mapped"

# 9: the deadlock is also a run that never ends
out=$tmp/lock-order-liveness.out
verify "$out" liveness -DBROKEN_LOCK_ORDER
if grep -qE 'acceptance cycle|never claim' "$out" && [ "$(errors "$out")" -gt 0 ] 2>/dev/null; then
	ok "-DBROKEN_LOCK_ORDER: a run that never terminates is found"
else
	not_ok "-DBROKEN_LOCK_ORDER: liveness violation not found" "$out"
fi

[ "$bad" -eq 0 ]
