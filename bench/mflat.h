/* SPDX-License-Identifier: MIT */
/*
 * bench/mflat.h: the memory_failure() latency series of bench-mflat,
 * shared with bench-fsdax: N processes map PATH (a /dev/daxX.Y or a file
 * under an fsdax mount), one poisons a page of a fresh 2 MiB unit per
 * repetition, the others are early-kill bystanders; the time from
 * madvise(MADV_HWPOISON) to the last SIGBUS, and the floor of telling N
 * processes to unmap a page, measured before and after the series.
 */
#ifndef MF_BENCH_MFLAT_H
#define MF_BENCH_MFLAT_H

#include <stdbool.h>
#include <stddef.h>

#define MFLAT_MAX_PROCS	128
#define MFLAT_MAX_REPS	2000
#define MFLAT_UNIT	(2ULL << 20)

struct mflat_result {
	int n;
	unsigned reps, missing, wrong;
	double med, p99, ar;		/* µs */
	double floor_us, rtt, rtt_x, mprot;
};

/* -c of bench-mflat: the clock starts at a load of injected poison
 * (PATH must then be a /dev/daxX.Y). */
extern bool mflat_consume;

/* Once, before any series: the CPUs and the shared page. */
void mflat_init(void);
/* Units [base, base + reps) of the first need bytes of path; 0 or -1. */
int mflat_series(const char *path, int n, unsigned base, unsigned reps, size_t need,
		 struct mflat_result *res);
void mflat_print(const struct mflat_result *r);
/* The last series' latencies and the poisoner's AR times (µs), in
 * repetition order, until the next series. */
const double *mflat_latencies(unsigned *n, const double **ar);

#endif /* MF_BENCH_MFLAT_H */
