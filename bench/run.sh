#!/bin/bash
# Run memfail's benchmarks against a build directory and print the
# figures, each next to a baseline measured in the same run and their
# ratio.  About 2 minutes on 2 cores.  See bench/README.md.
#
#   bench/run.sh [BUILD_DIR]
#
# MF_BENCH_REPS    memory_failure repetitions per N (default 400)
# MF_BENCH_BW_REPS bandwidth repetitions (default 31)
# MF_BENCH_FS_FILES files per size for bench-fsdax's create rate (default 200)
set -u
BUILD=${1:-build}
BUILD=$(cd "$BUILD" 2>/dev/null && pwd) || { echo "bench: no build directory $1" >&2; exit 2; }
REPS=${MF_BENCH_REPS:-400}
BW_REPS=${MF_BENCH_BW_REPS:-31}
FS_FILES=${MF_BENCH_FS_FILES:-200}

for f in memfail memfaild libmemfail-preload.so bench/bench-bw bench/bench-mflat bench/bench-mfmem bench/bench-ops bench/bench-shim bench/bench-fsdax; do
	[ -e "$BUILD/$f" ] || { echo "bench: $BUILD/$f is missing: build first (ninja -C $BUILD)" >&2; exit 2; }
done

TMP=$(mktemp -d /tmp/mf-bench.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
# a socket nobody listens on: every `memfail run` starts its own embedded
# daemon instead of borrowing whatever memfaild this user has running
export MEMFAIL_SOCKET=$TMP/no-daemon.sock
unset LD_PRELOAD MEMFAIL_DAX

run() {
	"$BUILD/memfail" run -q "$@"
}

status=0
echo "memfail benchmarks: $(date -u '+%Y-%m-%d %H:%M UTC'), $(uname -r), $(nproc) CPUs, $(git -C "$(dirname "$0")" describe --always --dirty 2>/dev/null || echo '?')"
echo

# 1. data path: a 1 GiB namespace, memfail mapping vs plain mmap
run --namespace 1G -- "$BUILD/bench/bench-bw" -r "$BW_REPS" || status=1
echo

# 2. memory_failure latency: one fresh 2 MiB unit per repetition per N;
# the state directory is memfail run's default (/tmp), so the durable
# poison records cost what they cost there
run --namespace $((3 * REPS * 2))M -- "$BUILD/bench/bench-mflat" -n 1,8,64 -r "$REPS" || status=1
# memory_failure() from the consuming load of injected poison: no new
# bad sector to record durably inside the timing
run --namespace $((3 * REPS * 2))M -- "$BUILD/bench/bench-mflat" -c -n 1,8,64 -r "$REPS" | tail -n +1 || status=1
# the same with the state on tmpfs: fdatasync() costs next to nothing
# there, which shows how much of the latency is durability
if [ -d /dev/shm ] && [ -w /dev/shm ]; then
	SHM=$(mktemp -d /dev/shm/mf-bench.XXXXXX)
	echo "  (diagnostic: the same with the daemon's state on tmpfs)"
	run --state-dir "$SHM/state" --namespace $((2 * REPS * 2))M -- \
		"$BUILD/bench/bench-mflat" -n 1,64 -r "$REPS" | tail -n +2 || status=1
	rm -rf "$SHM"
fi
echo

# 3. daemon memory: 1 TiB namespace, 10,000 poisoned pages, 64 mappers
"$BUILD/bench/bench-mfmem" "$BUILD" -p 10000 -a 1000 -m 64 || status=1
echo

# 4. operations: scrub of 100,000 latent errors in 1 TiB; injection rate
"$BUILD/bench/bench-ops" "$BUILD" -l 100000 -m 8 -n 2000 || status=1
echo

# 5. the shim's cost to programs that never touch poison
"$BUILD/bench/bench-shim" "$BUILD" -r 100 || status=1
echo

# 6. fsdax: files on a namespace against a plain directory on the host's
# disk (/var/tmp), and memory_failure with 8 mappers of a file against a
# devdax namespace (the first one) in the same run; the mount is ours
FS_REPS=$((REPS / 2))
mkdir -p "$TMP/mnt"
run --namespace $((FS_REPS * 2))M --namespace $((FS_REPS * 2 + 512))M,mode=fsdax --mount "$TMP/mnt" -- \
	"$BUILD/bench/bench-fsdax" -d "$TMP/mnt" -t /var/tmp -f "$FS_FILES" -m 256 -r 15 -l "$FS_REPS" -n 8 || status=1
exit $status
