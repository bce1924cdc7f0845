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

#endif /* MF_BENCH_H */
