// SPDX-License-Identifier: MIT
/*
 * bench-bw: data-path bandwidth through a memfail mapping of /dev/daxX.Y,
 * against a plain mmap of the same backing file in the same process.
 *
 * Run under `memfail run --namespace 1G -- bench-bw`.  open() of the
 * device returns a descriptor of the namespace's backing file; mmap()
 * through the shim maps it at the device alignment and registers it with
 * memfaild, while syscall(SYS_mmap) on the same descriptor bypasses the
 * shim.  Both map the same page cache, so any difference is the cost of
 * memfail's mapping itself (placement, VMA, fences), not of the media.
 *
 * A pass streams over the whole namespace: memset() for writes, a
 * summing loop for reads.  A repetition makes two passes through each
 * mapping, in the order A B B A (which one is A swaps every repetition),
 * so that drift (writeback, a noisy neighbour) lands on both alike.
 * Reported: the median GB/s of each, and the median over repetitions of
 * their ratio.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "bench.h"

#define MAX_REPS	64

/* Keep the compiler from folding the passes into each other. */
static volatile uint64_t sink;

static __attribute__((noinline)) void pass_write(void *p, size_t len, int v)
{
	memset(p, v, len);
	__asm__ volatile("" : : "r"(p) : "memory");
}

static __attribute__((noinline)) uint64_t pass_read(const void *p, size_t len)
{
	const uint64_t *w = p, *end = w + len / sizeof(*w);
	uint64_t a = 0, b = 0, c = 0, d = 0;

	/* four chains: the loads, not one add chain, set the pace */
	for (; w < end; w += 4) {
		a += w[0];
		b += w[1];
		c += w[2];
		d += w[3];
	}
	return a + b + c + d;
}

static double gbps(size_t len, uint64_t ns)
{
	return (double)len / (double)ns;	/* bytes per ns = GB/s */
}

/* FilePmdMapped of the mapping at addr, from /proc/self/smaps (kB). */
static long pmd_mapped_kb(const void *addr)
{
	char line[512], want[32];
	long v = -1;
	bool in = false;
	FILE *f = fopen("/proc/self/smaps", "r");

	if (!f)
		return -1;
	snprintf(want, sizeof(want), "%lx-", (unsigned long)addr);
	while (fgets(line, sizeof(line), f)) {
		if (strchr(line, '-') && strchr(line, '-') < strchr(line, ' ')) {
			in = !strncmp(line, want, strlen(want));
			continue;
		}
		if (in && !strncmp(line, "FilePmdMapped:", 14)) {
			v = strtol(line + 14, NULL, 10);
			break;
		}
	}
	fclose(f);
	return v;
}

int main(int argc, char **argv)
{
	double rd[2][MAX_REPS], wr[2][MAX_REPS], med_rd[2], med_wr[2];
	double ratio_rd[MAX_REPS], ratio_wr[MAX_REPS], q_rd, q_wr;
	const char *dax = bench_dax_path();
	static const char *const name[2] = { "memfail", "plain mmap" };
	int reps = 31, c, fd, r, k;
	unsigned char *map[2];
	struct stat st;
	size_t len;

	while ((c = getopt(argc, argv, "r:")) != -1) {
		if (c == 'r')
			reps = atoi(optarg);
		else
			return 2;
	}
	if (reps < 1 || reps > MAX_REPS)
		reps = 31;

	fd = open(dax, O_RDWR);
	if (fd < 0)
		bench_die(dax);
	/* the descriptor is the backing file's: its size is the namespace's */
	if (fstat(fd, &st))
		bench_die("fstat");
	len = (size_t)st.st_size;
	map[0] = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (map[0] == MAP_FAILED)
		bench_die("mmap through memfail");
	map[1] = (void *)syscall(SYS_mmap, NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (map[1] == MAP_FAILED)
		bench_die("mmap (plain)");

	/* fault both in: page cache and page tables exist before any timing */
	pass_write(map[0], len, 0x11);
	sink += pass_read(map[1], len);
	sink += pass_read(map[0], len);
	pass_write(map[1], len, 0x22);

	for (r = 0; r < reps; r++) {
		uint64_t tw[2] = { 0, 0 }, tr[2] = { 0, 0 };

		/* A B B A: drift within a repetition falls on both alike */
		for (k = 0; k < 4; k++) {
			int m = (k == 0 || k == 3) ? (r & 1) : 1 - (r & 1);
			uint64_t t0 = bench_now_ns();

			pass_write(map[m], len, 0x30 + r);
			tw[m] += bench_now_ns() - t0;
		}
		for (k = 0; k < 4; k++) {
			int m = (k == 0 || k == 3) ? (r & 1) : 1 - (r & 1);
			uint64_t t0 = bench_now_ns();

			sink += pass_read(map[m], len);
			tr[m] += bench_now_ns() - t0;
		}
		for (k = 0; k < 2; k++) {
			wr[k][r] = gbps(2 * len, tw[k]);
			rd[k][r] = gbps(2 * len, tr[k]);
		}
	}
	/* a repetition's passes ran back to back, under the same
	 * conditions: the median of their ratios is the steadiest figure */
	for (r = 0; r < reps; r++) {
		ratio_rd[r] = rd[0][r] / rd[1][r];
		ratio_wr[r] = wr[0][r] / wr[1][r];
	}
	q_rd = bench_median(ratio_rd, (size_t)reps);
	q_wr = bench_median(ratio_wr, (size_t)reps);
	for (k = 0; k < 2; k++) {
		med_rd[k] = bench_median(rd[k], (size_t)reps);
		med_wr[k] = bench_median(wr[k], (size_t)reps);
	}

	printf("data path: %s, %zu MiB passes, %d repetitions of A B B A: median GB/s, median of paired ratios\n",
	       dax, len >> 20, reps);
	printf("  mappings: memfail at %p (PMD-mapped %ld kB), plain at %p (PMD-mapped %ld kB)\n",
	       (void *)map[0], pmd_mapped_kb(map[0]), (void *)map[1], pmd_mapped_kb(map[1]));
	printf("  %-6s %-10s %7.2f GB/s   %-10s %7.2f GB/s   ratio %.3f  (target >= 0.98: %s)\n",
	       "read", name[0], med_rd[0], name[1], med_rd[1], q_rd, bench_verdict(q_rd >= 0.98));
	printf("  %-6s %-10s %7.2f GB/s   %-10s %7.2f GB/s   ratio %.3f  (target >= 0.98: %s)\n",
	       "write", name[0], med_wr[0], name[1], med_wr[1], q_wr, bench_verdict(q_wr >= 0.98));
	munmap(map[0], len);
	syscall(SYS_munmap, map[1], len);
	close(fd);
	return 0;
}
