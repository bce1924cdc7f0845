#!/bin/bash
# make demo: memfail's mission end to end, under both kernel profiles.
set -u
BUILD=$(cd "${1:-build}" && pwd)
HERE=$(cd "$(dirname "$0")" && pwd)
for profile in linux-4.19 linux-6.12; do
	printf '\n=============================================================\n'
	printf ' memfail run --kernel %s --namespace 1G,align=2M\n' "$profile"
	printf '   (the daemon'"'"'s log lines, in the kernel'"'"'s words, start with [ time ])\n'
	printf '=============================================================\n'
	# --state-dir unset: the embedded daemon's state goes with the run
	MEMFAIL_SOCKET=/nonexistent "$BUILD/memfail" run --kernel "$profile" \
		--namespace 1G,align=2M -- "$HERE/scenario.sh" "$BUILD" "$profile" 2>&1
done
