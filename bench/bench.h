/* SPDX-License-Identifier: MIT */
/*
 * bench/bench.h: what memfail's benchmarks share: a clock, order
 * statistics, the /dev/daxX.Y a run made, and /proc/PID/status fields.
 *
 * Every benchmark prints its figure next to a baseline measured in the
 * same run, and the ratio: the machines are shared and noisy, so only
 * the ratio is compared with a target.
 */
#ifndef MF_BENCH_H
#define MF_BENCH_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

uint64_t bench_now_ns(void);

/* Sorts v in place; q in [0, 1], nearest rank (q = 0.99: p99). */
double bench_quantile(double *v, size_t n, double q);
static inline double bench_median(double *v, size_t n)
{
	return bench_quantile(v, n, 0.5);
}

/* The first /dev/daxX.Y of $MEMFAIL_DAX (what `memfail run` created). */
const char *bench_dax_path(void);

/* A "Key:   123 kB" field of /proc/PID/status, in KiB; -1 if absent. */
long bench_status_kb(pid_t pid, const char *key);

/* "PASS" or "MISS" for a figure against its target. */
const char *bench_verdict(int ok);

void bench_die(const char *what) __attribute__((noreturn));

/* ---- daemon.c ---- */

/* A private memfaild: its own state directory, socket and log file. */
struct bench_daemon {
	char build[4096];
	char dir[64];
	char sock[128];
	pid_t pid;
};

void bench_daemon_start(struct bench_daemon *b, const char *build, const char *region_size);
/* SIGTERM it, wait, remove its directory. */
void bench_daemon_stop(struct bench_daemon *b);
/* Report, stop the daemon, exit 1. */
void bench_fail(const char *what, int err) __attribute__((noreturn));
/* Run `memfail --socket SOCK ARGS... NULL` (stdout dropped); its status. */
int bench_cli(struct bench_daemon *b, ...) __attribute__((sentinel));
void bench_print_mem(pid_t pid, const char *when);

/*
 * Mappers: this benchmark again, under the preload library, each mapping
 * the first len bytes of dax and holding them until stopped.  A benchmark
 * starts with `if (bench_mapper_main(argc, argv) >= 0) return 0;`.
 */
#define BENCH_MAX_MAPPERS	256
struct bench_mappers {
	pid_t pid[BENCH_MAX_MAPPERS];
	int stdin_fd[BENCH_MAX_MAPPERS];
	unsigned n;
};

int bench_mapper_main(int argc, char **argv);
void bench_mappers_start(struct bench_mappers *m, struct bench_daemon *b, const char *dax,
			 uint64_t len, unsigned n);
void bench_mappers_stop(struct bench_mappers *m);

#endif /* MF_BENCH_H */
