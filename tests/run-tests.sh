#!/bin/bash
# Run memfail's whole test suite against a build directory and print
# "N passed, N failed" last.  Every test program speaks TAP (cmocka's
# TAP output, or our own); a program that crashes or times out counts
# as one failure on top of what it reported.
set -u
BUILD=${1:-build}
BUILD=$(cd "$BUILD" && pwd)
export MF_BUILD_DIR=$BUILD
export CMOCKA_MESSAGE_OUTPUT=TAP
TIMEOUT=${MF_TEST_TIMEOUT:-600}
passed=0 failed=0 skipped=0 todo=0
failures=()

run_one() {
	local name=$1; shift
	# MF_ONLY="test-a test-b": run just those
	if [ -n "${MF_ONLY:-}" ] && ! grep -qw -- "$name" <<<"$MF_ONLY"; then
		return
	fi
	local out rc
	out=$(timeout --kill-after=10 "$TIMEOUT" "$@" 2>&1)
	rc=$?
	local p f s d
	# a skipped test ("ok N # SKIP" or cmocka's "not ok N # SKIP") is
	# neither passed nor failed, nor is a known difference ("not ok N #
	# TODO", conformance.sh): each is counted apart
	s=$(grep -cE '^(not )?ok [0-9]+.*# *SKIP' <<<"$out")
	d=$(grep -cE '^not ok [0-9]+.*# *TODO' <<<"$out")
	p=$(grep -E '^ok [0-9]+' <<<"$out" | grep -cvE '# *(SKIP|TODO)')
	f=$(grep -E '^not ok [0-9]+' <<<"$out" | grep -cvE '# *(SKIP|TODO)')
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		# died or timed out without saying which test failed
		f=1
		out+=$'\n'"not ok - $name exited with status $rc"
	fi
	passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s)); todo=$((todo + d))
	printf '%-28s %3d passed, %d failed%s%s\n' "$name" "$p" "$f" \
		"$([ "$s" -gt 0 ] && echo ", $s skipped")" "$([ "$d" -gt 0 ] && echo ", $d known differences")"
	if [ "$f" -gt 0 ]; then
		failures+=("$name")
		grep -vE '# *SKIP' <<<"$out" | grep -E '^not ok|^# (ERROR|FAIL|error|fail)|^\[  (ERROR|FAILED)|error:|Error:' | head -20 | sed 's/^/    /'
		[ -n "${MF_TEST_VERBOSE:-}" ] && sed 's/^/    | /' <<<"$out"
	fi
}

for t in "$BUILD"/tests/unit-*; do
	[ -f "$t" ] && [ -x "$t" ] && run_one "$(basename "$t")" "$t"
done
for t in "$BUILD"/tests/test-*; do
	[ -f "$t" ] && [ -x "$t" ] && run_one "$(basename "$t")" "$t"
done
for t in "$(dirname "$0")"/scripts/*.sh; do
	[ -f "$t" ] && [ -x "$t" ] && run_one "$(basename "$t" .sh)" "$t" "$BUILD"
done

# under the sanitizers, any report from any process is a failure
if [ -n "${MF_SANITIZE_DIR:-}" ]; then
	reports=$(find "$MF_SANITIZE_DIR" -type f -size +0 2>/dev/null)
	if [ -n "$reports" ]; then
		failed=$((failed + 1))
		failures+=("sanitizers")
		echo "sanitizer reports:"
		for f in $reports; do sed 's/^/    /' "$f" | head -40; done
	else
		echo "sanitizers: no reports"
	fi
fi
[ "$skipped" -gt 0 ] && echo "$skipped skipped (not counted as passed)"
[ "$todo" -gt 0 ] && echo "$todo known differences (TODO, not counted as passed; doc/conformance.md)"
[ ${#failures[@]} -gt 0 ] && echo "failed: ${failures[*]}"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
