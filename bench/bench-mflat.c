// SPDX-License-Identifier: MIT
/*
 * bench-mflat: memory_failure() latency as the mappers see it, from the
 * poisoner's madvise(MADV_HWPOISON) call to the moment every mapper has
 * been unmapped and signalled, for N mapping processes.
 *
 * Run under `memfail run --namespace SIZE -- bench-mflat`.  One process
 * poisons, N - 1 bystanders map the same namespace with early kill set
 * (prctl(PR_MCE_KILL_EARLY)) and have the poisoned unit in their page
 * tables, so under the linux-6.12 profile each gets BUS_MCEERR_AO and the
 * poisoner gets BUS_MCEERR_AR.  Every SIGBUS handler stamps
 * CLOCK_MONOTONIC into shared memory; the daemon signals only after
 * every mapper acknowledged its unmap, so the last stamp is the end.
 * Each repetition poisons a page of a fresh 2 MiB unit.  The series
 * itself is in mflat.c, which bench-fsdax shares.
 *
 * With -c the poison is injected first (memfail_inject_error(), durable,
 * outside the timing) and the clock starts at the poisoner's load of the
 * page: what memory_failure() itself costs from the consuming access,
 * where hardware would raise the machine check, without the durable
 * record of a new bad sector that MADV_HWPOISON pays for.
 *
 * The floor, measured in the same run by the coordinator (which maps
 * nothing) before and after each series: one SOCK_SEQPACKET round trip
 * between two processes plus one mprotect() of a page, times N: what
 * telling N processes to unmap a page costs at the least.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "mflat.h"

#define MAX_SERIES	8

int main(int argc, char **argv)
{
	int ns[MAX_SERIES] = { 1, 8, 64 }, nr = 3, c, i, err = 0;
	const char *dax = bench_dax_path();
	unsigned reps = 200, base = 0;
	size_t need;
	char *s, *tok;

	while ((c = getopt(argc, argv, "cn:r:")) != -1) {
		switch (c) {
		case 'c':
			mflat_consume = true;
			break;
		case 'n':
			nr = 0;
			for (s = optarg; nr < MAX_SERIES && (tok = strtok(s, ",")); s = NULL)
				ns[nr++] = atoi(tok);
			break;
		case 'r':
			reps = (unsigned)atoi(optarg);
			break;
		default:
			fprintf(stderr, "usage: bench-mflat [-c] [-n 1,8,64] [-r REPS]\n");
			return 2;
		}
	}
	if (!reps || reps > MFLAT_MAX_REPS)
		reps = 200;
	for (i = 0; i < nr; i++) {
		if (ns[i] < 1 || ns[i] > MFLAT_MAX_PROCS) {
			fprintf(stderr, "bench-mflat: N must be 1..%d\n", MFLAT_MAX_PROCS);
			return 2;
		}
	}
	/* one fresh 2 MiB unit per repetition of every series */
	need = (size_t)(nr * reps) * MFLAT_UNIT;
	mflat_init();

	printf("memory_failure latency: %s, %u repetitions per N, %s to the last SIGBUS\n",
	       dax, reps, mflat_consume ? "the consuming load of injected poison"
				  : "madvise(MADV_HWPOISON)");
	for (i = 0; i < nr; i++, base += reps) {
		struct mflat_result res;

		if (mflat_series(dax, ns[i], base, reps, need, &res))
			err = 1;
		else
			mflat_print(&res);
	}
	return err;
}
