#!/bin/bash
# SPDX-License-Identifier: MIT
#
# completion.sh BUILD_DIR: source contrib/bash-completion/memfail and drive
# _memfail as bash would (COMP_WORDS, COMP_CWORD), checking COMPREPLY:
# command names, options, enumerated values, file names, and namespace
# names asked of a memfaild started here in a temporary directory.
# Prints TAP; exits non-zero if any case fails.
set -u

BUILD=${1:-build}
BUILD=$(cd "$BUILD" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
comp=$top/contrib/bash-completion/memfail

if [ ! -x "$BUILD/memfail" ] || [ ! -x "$BUILD/memfaild" ]; then
	echo "1..0 # SKIP $BUILD/memfail or memfaild not built"
	exit 0
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/mf-completion.XXXXXX")
daemon=
cleanup() {
	if [ -n "$daemon" ]; then
		kill "$daemon" 2>/dev/null
		wait "$daemon" 2>/dev/null
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT

export PATH=$BUILD:$PATH
unset MEMFAIL_SOCKET
# as an interactive bash has it
COMP_WORDBREAKS=$' \t\n"\'><=;|&(:'
# shellcheck source=/dev/null
source "$comp" || { echo "not ok 1 - source $comp"; exit 1; }
complete -p memfail >/dev/null || { echo "not ok 1 - complete -F _memfail memfail"; exit 1; }

n=0 nfail=0

# comp EXPECTED WORD... : complete the last WORD of the command line WORD...
# and expect exactly the space-separated words of EXPECTED, in any order
comp() {
	local want=$1; shift
	COMP_WORDS=("$@")
	COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
	COMP_LINE="$*"
	COMP_POINT=${#COMP_LINE}
	COMPREPLY=()
	_memfail "$1" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]:-}" 2>"$tmp/stderr"
	local got w err
	err=$(cat "$tmp/stderr")
	got=$(printf '%s\n' "${COMPREPLY[@]}" | sed '/^$/d' | sort | tr '\n' ' ')
	# shellcheck disable=SC2086 # the words of want
	w=$(printf "%s\n" $want | sed "/^$/d" | sort | tr "\n" " ")
	n=$((n + 1))
	if [ "$got" = "$w" ] && [ -z "$err" ]; then
		echo "ok $n - [$*] -> ${got% }"
	else
		nfail=$((nfail + 1))
		echo "not ok $n - [$*]"
		echo "#   want: ${w% }"
		echo "#   got:  ${got% }"
		[ -z "$err" ] || echo "#   stderr: $err"
	fi
}

cmds="run create-namespace destroy-namespace list inject-error clear-errors
read write stats config start-scrub wait-scrub cancel-scrub inject-campaign
monitor history"

# command names
comp "$cmds" memfail ""
comp "clear-errors" memfail cl
comp "inject-error inject-campaign" memfail inject-
comp "wait-scrub" memfail --socket /x wa
comp "start-scrub stats" memfail -S /x st
comp "--socket" memfail --so
comp "$cmds" memfail --socket=/x ""

# options, as each command's --help lists them
comp "--block --count --uninject --status --no-notify --saturate --human --help" \
	memfail inject-error dax0.0 --
comp "-B --block -n --count -d --uninject -t --status -N --no-notify -S --saturate -u --human -h --help" \
	memfail inject-error dax0.0 -
comp "--status" memfail inject-error dax0.0 --st
comp "--rate --duration --seed --pattern --no-notify --dry-run --help" \
	memfail inject-campaign dax0.0 --
comp "--summary --errors --since --type --json --help" memfail history --
comp "--kernel" memfail run --k
comp "--offset --output" memfail read dax0.0 --o
comp "--offset" memfail write dax0.0 --o
comp "-N --node -t --text -h --help" memfail stats ""
comp "" memfail destroy-namespace --

# enumerated values
comp "uniform clustered row" memfail inject-campaign dax0.0 --pattern ""
comp "uniform clustered row" memfail inject-campaign dax0.0 -p ""
comp "clustered" memfail inject-campaign dax0.0 --pattern = cl
comp "uniform clustered row" memfail inject-campaign dax0.0 --pattern =
comp "row" memfail inject-campaign dax0.0 -p r
comp "linux-6.12 linux-6.1 linux-4.19 linux-4.19.0" memfail run --kernel ""
comp "linux-4.19 linux-4.19.0" memfail run -k linux-4
comp "linux-4.19 linux-4.19.0" memfail run --kernel = linux-4
comp "memory_failure signal kill inject uninject clear found scrub_start scrub_end panic" \
	memfail history --errors --type ""
comp "scrub_start scrub_end" memfail history -t scrub
comp "memory_failure_early_kill= memory_failure_recovery= unmap_timeout_ms= enable_soft_offline=" memfail config ""
comp "0 1" memfail config enable_soft_offline =
comp "memory_failure_recovery=" memfail config memory_failure_r
comp "0 1" memfail config memory_failure_early_kill =
comp "0 1" memfail config unmap_timeout_ms=100 memory_failure_recovery =
comp "" memfail config unmap_timeout_ms = 1
comp "4K 2M 1G" memfail create-namespace --size 1G --align ""
# '=' not a word break: the replies keep their "--option=" prefix
COMP_WORDBREAKS=$' \t\n"\'><;|&(:'
comp "--pattern=clustered" memfail inject-campaign dax0.0 --pattern=cl
comp "memory_failure_early_kill=0 memory_failure_early_kill=1" \
	memfail config memory_failure_early_kill=
COMP_WORDBREAKS=$' \t\n"\'><=;|&(:'

# file names
mkdir -p "$tmp/files/dir.d"
: >"$tmp/files/data.bin"
comp "$tmp/files/data.bin" memfail read dax0.0 --offset 0 --length 4K --output "$tmp/files/da"
comp "$tmp/files/data.bin" memfail write dax0.0 -i "$tmp/files/da"
comp "$tmp/files/data.bin" memfail write dax0.0 --input = "$tmp/files/da"
comp "$tmp/files/dir.d" memfail run --state-dir "$tmp/files/d"
comp "$tmp/files/data.bin $tmp/files/dir.d" memfail run --log-file "$tmp/files/d"
comp "$tmp/files/dir.d" memfail --socket "$tmp/files/di"

# namespace names: none without a daemon, and nothing said about it
MEMFAIL_SOCKET=$tmp/nothing.sock comp "" memfail inject-error ""
comp "" memfail --socket "$tmp/nothing.sock" read ""

# ... and the daemon's, with one running
sock=$tmp/memfaild.sock
"$BUILD/memfaild" --state-dir "$tmp/state" --socket "$sock" >"$tmp/memfaild.log" 2>&1 &
daemon=$!
for _ in $(seq 100); do
	[ -S "$sock" ] && break
	sleep 0.05
done
if ! MEMFAIL_SOCKET=$sock "$BUILD/memfail" create-namespace --size 64M >/dev/null ||
   ! MEMFAIL_SOCKET=$sock "$BUILD/memfail" create-namespace --size 64M --align 4K >/dev/null; then
	n=$((n + 1)); nfail=$((nfail + 1))
	echo "not ok $n - start memfaild and create two namespaces"
	sed 's/^/#   /' "$tmp/memfaild.log"
else
	names="namespace0.0 dax0.0 namespace0.1 dax0.1"
	export MEMFAIL_SOCKET=$sock
	comp "$names" memfail inject-error ""
	comp "dax0.0 dax0.1" memfail read dax
	comp "namespace0.1" memfail write namespace0.1
	comp "$names" memfail inject-campaign --rate 10 ""
	comp "$names" memfail start-scrub -f ""
	comp "$names" memfail destroy-namespace dax0.0 ""
	comp "$names all" memfail clear-errors ""
	comp "all" memfail clear-errors a
	comp "$names" memfail monitor -j dax0.0 ""
	comp "$names" memfail list -n ""
	comp "dax0.1" memfail list --namespace = dax0.1
	# one NAME given: options only
	comp "-B --block -n --count -d --uninject -t --status -N --no-notify -S --saturate -u --human -h --help" \
		memfail inject-error dax0.0 ""
	comp "" memfail inject-error dax0.0 --block ""
	unset MEMFAIL_SOCKET
	# the socket from the command line
	comp "$names" memfail --socket "$sock" inject-error ""
	comp "dax0.0 dax0.1" memfail --socket="$sock" read dax
fi

echo "1..$n"
[ "$nfail" -eq 0 ]
