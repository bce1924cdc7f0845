// SPDX-License-Identifier: MIT
/*
 * bench-fsdax: files on an fsdax namespace (served by memfaild through
 * FUSE, mapped in place by the shim), each figure next to the same work
 * measured in the same run.
 *
 * Run under `memfail run --namespace SIZE --namespace SIZE,mode=fsdax
 * --mount DIR -- bench-fsdax -d DIR`: the first namespace is a devdax one
 * (for the memory_failure baseline), the files are under DIR.
 *
 * 1. create + write + fsync + close of many files, in batches that
 *    alternate between DIR and a directory on the host's disk (A B, then
 *    B A): files/s and MB/s, and the median of the paired batch ratios.
 * 2. streaming reads of a MAP_SHARED mapping of one large file, the fsdax
 *    one through the shim (in place, 2 MiB chunks PMD-aligned) against a
 *    2 MiB-aligned kernel mapping of a plain file of the same size, both
 *    written, fsynced and faulted in before any pass: A B B A as bench-bw.
 * 3. memory_failure latency with N mappers of one file under DIR, and of
 *    the devdax namespace, by the series bench-mflat runs (mflat.c), each
 *    with its floor, and the ratio fsdax / devdax.
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
#include "mflat.h"

#define MAX_BATCHES	64
#define MAX_REPS	64
#define CHUNK		(1U << 20)
#define ALIGN_2M	(2UL << 20)

static volatile uint64_t sink;
static unsigned char *chunk;

static __attribute__((noinline)) uint64_t pass_read(const void *p, size_t len)
{
	const uint64_t *w = p, *end = w + len / sizeof(*w);
	uint64_t a = 0, b = 0, c = 0, d = 0;

	for (; w < end; w += 4) {
		a += w[0];
		b += w[1];
		c += w[2];
		d += w[3];
	}
	return a + b + c + d;
}

static void write_file(int fd, size_t size, const char *what)
{
	size_t off, n;

	for (off = 0; off < size; off += n) {
		n = size - off < CHUNK ? size - off : CHUNK;
		if (pwrite(fd, chunk, n, (off_t)off) != (ssize_t)n)
			bench_die(what);
	}
}

/* ---- 1. create + write + fsync ---- */

/* Seconds to create, write, fsync and close nr files of size in dir. */
static double batch_create(const char *dir, unsigned batch, unsigned nr, size_t size)
{
	char path[4200];
	uint64_t t0, t;
	unsigned i;

	t0 = bench_now_ns();
	for (i = 0; i < nr; i++) {
		int fd;

		snprintf(path, sizeof(path), "%s/c%u-%u", dir, batch, i);
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd < 0)
			bench_die(path);
		write_file(fd, size, path);
		if (fsync(fd))
			bench_die("fsync");
		close(fd);
	}
	t = bench_now_ns() - t0;
	/* the space back before the next batch, outside the timing */
	for (i = 0; i < nr; i++) {
		snprintf(path, sizeof(path), "%s/c%u-%u", dir, batch, i);
		unlink(path);
	}
	return (double)t / 1e9;
}

static void bench_create(const char *dir[2], unsigned files, unsigned per_batch, size_t size)
{
	double sec[2][MAX_BATCHES], tot[2] = { 0, 0 }, ratio[MAX_BATCHES], q;
	unsigned b, nb = files / per_batch, k;

	if (nb > MAX_BATCHES)
		nb = MAX_BATCHES;
	for (b = 0; b < nb; b++) {
		for (k = 0; k < 2; k++) {
			int m = (b & 1) ? 1 - (int)k : (int)k;

			sec[m][b] = batch_create(dir[m], b, per_batch, size);
			tot[m] += sec[m][b];
		}
		/* rate ratio fsdax / plain is the inverse of the times' */
		ratio[b] = sec[1][b] / sec[0][b];
	}
	q = bench_median(ratio, nb);
	printf("  %5zu KiB x %u: fsdax %8.1f files/s %7.1f MB/s   plain %8.1f files/s %7.1f MB/s   ratio %.3f\n",
	       size >> 10, nb * per_batch,
	       nb * per_batch / tot[0], nb * per_batch * (double)size / tot[0] / 1e6,
	       nb * per_batch / tot[1], nb * per_batch * (double)size / tot[1] / 1e6, q);
}

/* ---- 2. mmap read bandwidth ---- */

/* FilePmdMapped (kB) summed over the mappings inside [addr, addr + len). */
static long pmd_mapped_kb(const void *addr, size_t len)
{
	unsigned long lo = (unsigned long)addr, hi = lo + len, s, e;
	char line[512];
	bool in = false;
	long v = 0;
	FILE *f = fopen("/proc/self/smaps", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx ", &s, &e) == 2 && strchr(line, '-') < strchr(line, ' ')) {
			in = s >= lo && e <= hi;
			continue;
		}
		if (in && !strncmp(line, "FilePmdMapped:", 14))
			v += strtol(line + 14, NULL, 10);
	}
	fclose(f);
	return v;
}

/*
 * Drop the clean page cache behind [addr, addr + len): for each mapping
 * in the range, the file it maps (for fsdax, the namespace's data, which
 * the shim mapped) at its offset.  The write path filled it with small
 * folios; faulted back through a mapping, readahead grows them to PMD
 * size, as bench-bw's mappings get them.
 */
static void drop_cache(const void *addr, size_t len)
{
	unsigned long lo = (unsigned long)addr, hi = lo + len, s, e, off;
	char line[4400], path[4200];
	FILE *f = fopen("/proc/self/maps", "r");

	if (!f)
		bench_die("/proc/self/maps");
	while (fgets(line, sizeof(line), f)) {
		int fd;

		if (sscanf(line, "%lx-%lx %*s %lx %*s %*s %4199s", &s, &e, &off, path) != 4 ||
		    s < lo || e > hi || path[0] != '/')
			continue;
		fd = open(path, O_RDONLY);
		if (fd < 0)
			continue;
		posix_fadvise(fd, (off_t)off, (off_t)(e - s), POSIX_FADV_DONTNEED);
		close(fd);
	}
	fclose(f);
}

/* A kernel mapping of fd (the shim bypassed) at a 2 MiB-aligned address. */
static void *map_plain_aligned(int fd, size_t len)
{
	unsigned long base, at;
	void *p;

	p = (void *)syscall(SYS_mmap, NULL, len + ALIGN_2M, PROT_NONE,
			    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		bench_die("mmap reserve");
	base = (unsigned long)p;
	at = (base + ALIGN_2M - 1) & ~(ALIGN_2M - 1);
	if (at > base)
		syscall(SYS_munmap, p, at - base);
	syscall(SYS_munmap, (void *)(at + len), base + ALIGN_2M - at);
	p = (void *)syscall(SYS_mmap, (void *)at, len, PROT_READ | PROT_WRITE,
			    MAP_SHARED | MAP_FIXED, fd, 0);
	if (p == MAP_FAILED)
		bench_die("mmap (plain)");
	return p;
}

static void bench_mmap(const char *dir[2], size_t len, int reps)
{
	double rd[2][MAX_REPS], ratio[MAX_REPS], med[2], q;
	char path[2][4200];
	unsigned char *map[2];
	int fd[2], k, r;

	for (k = 0; k < 2; k++) {
		snprintf(path[k], sizeof(path[k]), "%s/bw", dir[k]);
		fd[k] = open(path[k], O_RDWR | O_CREAT | O_TRUNC, 0644);
		if (fd[k] < 0)
			bench_die(path[k]);
		write_file(fd[k], len, path[k]);
		if (fsync(fd[k]))
			bench_die("fsync");
	}
	/* the shim maps the file's extents in place, 2 MiB chunks aligned */
	map[0] = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd[0], 0);
	if (map[0] == MAP_FAILED)
		bench_die("mmap (fsdax)");
	map[1] = map_plain_aligned(fd[1], len);
	/* page cache and page tables exist before any timing, the same way */
	for (k = 0; k < 2; k++) {
		drop_cache(map[k], len);
		madvise(map[k], len, MADV_HUGEPAGE);
		sink += pass_read(map[k], len);
		sink += pass_read(map[k], len);
	}
	for (r = 0; r < reps; r++) {
		uint64_t t[2] = { 0, 0 };

		for (k = 0; k < 4; k++) {
			int m = (k == 0 || k == 3) ? (r & 1) : 1 - (r & 1);
			uint64_t t0 = bench_now_ns();

			sink += pass_read(map[m], len);
			t[m] += bench_now_ns() - t0;
		}
		for (k = 0; k < 2; k++)
			rd[k][r] = (double)(2 * len) / (double)t[k];
		ratio[r] = rd[0][r] / rd[1][r];
	}
	q = bench_median(ratio, (size_t)reps);
	for (k = 0; k < 2; k++)
		med[k] = bench_median(rd[k], (size_t)reps);
	printf("  mappings: fsdax at %p (PMD-mapped %ld kB), plain at %p (PMD-mapped %ld kB)\n",
	       (void *)map[0], pmd_mapped_kb(map[0], len), (void *)map[1], pmd_mapped_kb(map[1], len));
	printf("  read   fsdax %7.2f GB/s   plain %7.2f GB/s   ratio %.3f  (target >= 0.98: %s)\n",
	       med[0], med[1], q, bench_verdict(q >= 0.98));
	munmap(map[0], len);
	syscall(SYS_munmap, map[1], len);
	for (k = 0; k < 2; k++) {
		close(fd[k]);
		unlink(path[k]);
	}
}

/* ---- 3. memory_failure latency ---- */

/*
 * Four series of reps / 2 repetitions, fsdax devdax devdax fsdax (fresh
 * units each time), so that drift falls on both alike; the quantiles are
 * over each target's pooled repetitions, the floor is the lowest seen.
 */
static int bench_latency(const char *dax, const char *dir, int n, unsigned reps)
{
	static double lat[2][MFLAT_MAX_REPS], ar[2][MFLAT_MAX_REPS];
	static const char *const name[2] = { "fsdax file", "devdax" };
	struct mflat_result res, best[2];
	unsigned half = reps / 2, nr[2] = { 0, 0 }, missing[2] = { 0, 0 }, wrong[2] = { 0, 0 }, k;
	size_t need = (size_t)reps * MFLAT_UNIT;
	const char *path[2] = { NULL, dax };
	char file[4200];
	int fd, err = 0;

	snprintf(file, sizeof(file), "%s/mflat", dir);
	path[0] = file;
	fd = open(file, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		bench_die(file);
	/*
	 * Written and durable, as in Linux's dax-poison flow (2 MiB extents).
	 * Not left sparse: holes allocated by several mappers' concurrent
	 * mmap()s are not yet mapped alike by all of them.
	 */
	write_file(fd, need, file);
	if (fsync(fd))
		bench_die("fsync");
	close(fd);
	mflat_init();
	printf("memory_failure latency, N=%d (1 poisoner + %d early-kill bystanders), %u repetitions each, madvise(MADV_HWPOISON) to the last SIGBUS\n",
	       n, n - 1, 2 * half);
	printf("  series of %u in the order fsdax devdax devdax fsdax\n", half);
	for (k = 0; k < 4 && !err; k++) {
		int m = (k == 0 || k == 3) ? 0 : 1;
		unsigned base = k < 2 ? 0 : half, i, got;
		const double *v, *a;

		if (mflat_series(path[m], n, base, half, need, &res)) {
			err = -1;
			break;
		}
		v = mflat_latencies(&got, &a);
		for (i = 0; i < got; i++, nr[m]++) {
			lat[m][nr[m]] = v[i];
			ar[m][nr[m]] = a[i];
		}
		missing[m] += res.missing;
		wrong[m] += res.wrong;
		if (k < 2 || res.floor_us < best[m].floor_us)
			best[m] = res;
	}
	if (err) {
		unlink(file);
		return err;
	}
	for (k = 0; k < 2; k++) {
		best[k].reps = 2 * half;
		best[k].missing = missing[k];
		best[k].wrong = wrong[k];
		best[k].ar = bench_median(ar[k], nr[k]);
		best[k].med = bench_median(lat[k], nr[k]);
		best[k].p99 = bench_quantile(lat[k], nr[k], 0.99);
		printf("  %s %s\n", name[k], path[k]);
		mflat_print(&best[k]);
	}
	printf("  fsdax / devdax: median %.2f, p99 %.2f\n",
	       best[0].med / best[1].med, best[0].p99 / best[1].p99);
	unlink(file);
	return 0;
}

int main(int argc, char **argv)
{
	const char *dir[2] = { "/mnt/memfail0", NULL }, *tmp = getenv("TMPDIR");
	unsigned files = 200, per_batch = 25, lat_reps = 200;
	int c, reps = 15, n = 8, err = 0;
	size_t bw_len = 256UL << 20;
	char plain[4096];

	while ((c = getopt(argc, argv, "d:t:f:b:m:r:l:n:")) != -1) {
		switch (c) {
		case 'd': dir[0] = optarg; break;
		case 't': tmp = optarg; break;
		case 'f': files = (unsigned)atoi(optarg); break;
		case 'b': per_batch = (unsigned)atoi(optarg); break;
		case 'm': bw_len = (size_t)atol(optarg) << 20; break;
		case 'r': reps = atoi(optarg); break;
		case 'l': lat_reps = (unsigned)atoi(optarg); break;
		case 'n': n = atoi(optarg); break;
		default:
			fprintf(stderr, "usage: bench-fsdax [-d MOUNT] [-t TMPDIR] [-f FILES] [-b PER_BATCH] [-m MiB] [-r REPS] [-l LAT_REPS] [-n N]\n");
			return 2;
		}
	}
	if (reps < 1 || reps > MAX_REPS || !per_batch || files < per_batch || !bw_len ||
	    bw_len % ALIGN_2M || n < 1 || n > MFLAT_MAX_PROCS || !lat_reps ||
	    lat_reps > MFLAT_MAX_REPS) {
		fprintf(stderr, "bench-fsdax: bad arguments\n");
		return 2;
	}
	snprintf(plain, sizeof(plain), "%s/mf-bench-fsdax.XXXXXX", tmp && *tmp ? tmp : "/var/tmp");
	if (!mkdtemp(plain))
		bench_die(plain);
	dir[1] = plain;
	chunk = malloc(CHUNK);
	if (!chunk)
		bench_die("malloc");
	memset(chunk, 0x5a, CHUNK);

	printf("fsdax: files under %s against a plain directory %s (host disk)\n", dir[0], dir[1]);
	printf("create + write + fsync + close, batches of %u alternating (A B, B A): total rates, median of paired batch ratios\n",
	       per_batch);
	bench_create(dir, files, per_batch, 64UL << 10);
	bench_create(dir, files, per_batch, 4UL << 20);
	printf("mmap read bandwidth: %zu MiB MAP_SHARED, 2 MiB-aligned, %d repetitions of A B B A: median GB/s, median of paired ratios\n",
	       bw_len >> 20, reps);
	bench_mmap(dir, bw_len, reps);
	rmdir(plain);
	if (bench_latency(bench_dax_path(), dir[0], n, lat_reps))
		err = 1;
	return err;
}
