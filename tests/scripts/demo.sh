#!/bin/bash
# SPDX-License-Identifier: MIT
#
# demo.sh BUILD_DIR: `make demo`'s story, checked.  Runs demo/demo.sh and
# asserts, for each profile, what the README promises the user sees.
# Prints TAP.
set -u
BUILD=$(cd "${1:-build}" && pwd)
top=$(cd "$(dirname "$0")/../.." && pwd)
out=$(mktemp /tmp/mf-demo-test.XXXXXX)
trap 'rm -f "$out" "$out".*' EXIT

timeout 120 "$top/demo/demo.sh" "$BUILD" > "$out" 2>&1
echo "1..14"
n=0
check() {	# check DESCRIPTION FILE PATTERN [COUNT]
	n=$((n + 1))
	local got
	got=$(grep -c -- "$3" "$2")
	if [ "$got" -eq "${4:-1}" ]; then
		echo "ok $n - $1"
	else
		echo "not ok $n - $1 (\"$3\" seen $got times, wanted ${4:-1})"
		sed 's/^/# /' "$2"
	fi
}
# the two runs, apart
csplit -s -f "$out." "$out" '/--kernel linux-6.12/' || { echo "not ok 1 - demo output"; exit 1; }
old=$out.00 new=$out.01
for f in "$old" "$new"; do
	p=$([ "$f" = "$old" ] && echo 4.19 || echo 6.12)
	# si_addr: 4.19 the page, 6.12 the start of its 2 MiB unit
	a=$([ "$f" = "$old" ] && echo 0x102000 || echo 0)
	check "$p: the consumer gets AR at mapping+$a, lsb 21" "$f" "consumer   SIGBUS BUS_MCEERR_AR at mapping+$a, si_addr_lsb 21"
	check "$p: the consumer dies of it" "$f" "consumer   exit status 135: killed by SIGBUS"
	check "$p: the bystander survives its own touch" "$f" "bystander  survived the SIGBUS and carries on"
	check "$p: clear-errors gives the page back" "$f" "bystander  reads mapping+0x102000: 0  (access restored)"
	check "$p: the worker never noticed" "$f" "worker     still running: .*sum 65536 (expected 65536)"
done
check "4.19: the bystander gets AO at once" "$old" "bystander  SIGBUS BUS_MCEERR_AO at mapping+0x102000, si_addr_lsb 21"
check "6.12: the bystander gets nothing" "$new" "bystander  nothing (it is not an early-kill process)"
check "4.19: nothing is cut short" "$old" "Broken pipe" 0
check "6.12: nothing is cut short" "$new" "Broken pipe" 0
