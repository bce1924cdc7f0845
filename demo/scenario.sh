#!/bin/bash
# The demo's story, run inside `memfail run` (MEMFAIL_SOCKET points at its
# daemon, /dev/dax0.0 is a 1 GiB namespace with 2 MiB alignment).
set -u
BUILD=$1
PROFILE=$2
MEMFAIL="$BUILD/memfail"
DEMO="$BUILD/demo/dax-demo"
OFF=0x102000            # 1 MiB + 8 KiB: sector 2064 of the namespace
say() { printf '\n--- %s\n' "$*"; sleep 0.2; }
fields() { grep -E '^ *"(dev|badblock_count|offset|length|hwpoison_pages)":'; }

dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
mkfifo "$dir/byst.in" "$dir/byst.out" "$dir/work.in"

say "a worker and a bystander map /dev/dax0.0"
"$DEMO" worker <"$dir/work.in" &
worker=$!
exec 5>"$dir/work.in"
"$DEMO" bystander $OFF <"$dir/byst.in" >"$dir/byst.out" &
exec 6>"$dir/byst.in" 7<"$dir/byst.out"
read -r -t 5 line <&7 && echo "$line"

say "hardware poison appears in the media: memfail inject-error dax0.0 --block 2064 --count 1"
"$MEMFAIL" inject-error dax0.0 --block 2064 --count 1 | fields
echo "(nothing has happened to anyone yet: poison is found when it is touched)"

say "a consumer reads the poisoned page"
"$DEMO" consumer $OFF
status=$?
echo "consumer   exit status $status: killed by SIG$(kill -l $((status - 128)))"
sleep 0.5

say "the bystander has the unit mapped; under $PROFILE it gets:"
if read -r -t 2 line <&7; then
	echo "$line"
	read -r -t 1 line <&7 && echo "$line"
else
	echo "bystander  nothing (it is not an early-kill process)"
fi

say "the bystander touches the page itself"
echo touch >&6
while read -r -t 2 line <&7; do echo "$line"; done

say "memfail list --media-errors"
"$MEMFAIL" list --media-errors | fields

say "memfail clear-errors dax0.0 (the sector is rewritten: its old data is lost)"
"$MEMFAIL" clear-errors dax0.0 2>&1 | grep -E '^ *"dev":|cleared'
echo touch >&6
read -r -t 2 line <&7 && echo "$line  (access restored)"

say "memfail stats"
"$MEMFAIL" stats --text

echo quit >&6
read -r -t 2 line <&7 && echo "$line"
exec 5>&-
wait $worker
