// SPDX-License-Identifier: MIT
/*
 * bench-mfmem: memfaild's memory with a big namespace, many poisoned
 * pages and many mappers, against the same daemon idle.
 *
 *   bench-mfmem BUILD_DIR [-p PAGES] [-m MAPPERS] [-a PAGES_AFTER]
 *
 * Starts its own memfaild (--region-size 4T, private state and socket),
 * reads its VmRSS/VmHWM idle, creates a 1 TiB sparse namespace with
 * `memfail create-namespace`, poisons PAGES distinct pages with
 * inject-error (libmemfail, the same request as the command), starts
 * MAPPERS processes under the preload library that each map the whole
 * namespace, and poisons PAGES_AFTER more of the PAGES while they are
 * attached, so the daemon's shootdown path runs too.  The pages are
 * spread evenly over the namespace, one per 2 MiB unit at least: no two
 * bad ranges merge, the worst case for per-range bookkeeping.
 *
 * The daemon's hot state must be sized by what is poisoned and mapped,
 * never by the namespace size (DESIGN.md, section 6): target < 64 MiB.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "memfail.h"
#include "bench.h"

#define NS_SIZE		(1ULL << 40)
#define NS_ALIGN	(2ULL << 20)
#define PAGE		4096ULL
#define SECTORS_PER_PAGE (PAGE / MEMFAIL_SECTOR_SIZE)
#define TARGET_KB	(64 * 1024)

static struct bench_daemon bd;

/* Poison pages [from, to) of the evenly spread set; seconds taken. */
static double inject(struct memfail_ctx *ctx, const char *name, unsigned from,
		     unsigned to, unsigned total)
{
	uint64_t stride = NS_SIZE / PAGE / total, t0 = bench_now_ns();
	unsigned i;
	int err;

	for (i = from; i < to; i++) {
		/* off the unit boundary, so that no page is a unit's first */
		uint64_t page = (uint64_t)i * stride + 7;

		err = memfail_inject_error(ctx, name, page * SECTORS_PER_PAGE, SECTORS_PER_PAGE,
					   MEMFAIL_INJECT_NOTIFY);
		if (err)
			bench_fail("inject-error", -err);
	}
	return (double)(bench_now_ns() - t0) / 1e9;
}

static int count_lines(pid_t pid, const char *file)
{
	char path[64], line[512];
	int n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		n++;
	fclose(f);
	return n;
}

int main(int argc, char **argv)
{
	unsigned pages = 10000, after = 1000, nr_mappers = 64, i;
	static struct bench_mappers m;
	struct memfail_namespace ns;
	struct memfail_ctx *ctx;
	char dax[64], label[96];
	long idle_rss, idle_hwm, hwm, pte = 0, maps = 0;
	double t_inject, t_map, t_after;
	uint64_t t0;
	int k, err;

	if (bench_mapper_main(argc, argv) >= 0)
		return 0;
	while ((k = getopt(argc, argv, "p:m:a:")) != -1) {
		switch (k) {
		case 'p': pages = (unsigned)atoi(optarg); break;
		case 'm': nr_mappers = (unsigned)atoi(optarg); break;
		case 'a': after = (unsigned)atoi(optarg); break;
		default:
			fprintf(stderr, "usage: bench-mfmem BUILD_DIR [-p PAGES] [-m MAPPERS] [-a PAGES_AFTER]\n");
			return 2;
		}
	}
	if (optind != argc - 1 || !pages || after > pages || nr_mappers > BENCH_MAX_MAPPERS) {
		fprintf(stderr, "usage: bench-mfmem BUILD_DIR [-p PAGES] [-m MAPPERS] [-a PAGES_AFTER]\n");
		return 2;
	}

	printf("daemon memory: 1 TiB namespace (align 2M, sparse), %u poisoned pages, %u mappers of the whole namespace\n",
	       pages, nr_mappers);
	fflush(stdout);
	bench_daemon_start(&bd, argv[optind], "4T");
	usleep(200000);
	idle_rss = bench_status_kb(bd.pid, "VmRSS");
	idle_hwm = bench_status_kb(bd.pid, "VmHWM");
	bench_print_mem(bd.pid, "idle (baseline)");

	if (bench_cli(&bd, "create-namespace", "--size", "1T", "--align", "2M", "--sparse", NULL))
		bench_fail("memfail create-namespace --size 1T --align 2M --sparse", EIO);
	bench_print_mem(bd.pid, "1 TiB namespace created");

	err = memfail_connect(bd.sock, &ctx);
	if (err)
		bench_fail("connect", -err);
	err = memfail_namespace_get(ctx, "namespace0.0", &ns);
	if (err)
		bench_fail("namespace0.0", -err);
	snprintf(dax, sizeof(dax), "/dev/%s", ns.chardev);
	t_inject = inject(ctx, ns.dev, 0, pages - after, pages);
	snprintf(label, sizeof(label), "%u pages poisoned (%.1f s)", pages - after, t_inject);
	bench_print_mem(bd.pid, label);

	t0 = bench_now_ns();
	bench_mappers_start(&m, &bd, dax, NS_SIZE, nr_mappers);
	t_map = (double)(bench_now_ns() - t0) / 1e9;
	snprintf(label, sizeof(label), "%u mappers attached (%.1f s)", nr_mappers, t_map);
	bench_print_mem(bd.pid, label);

	t_after = inject(ctx, ns.dev, pages - after, pages, pages);
	snprintf(label, sizeof(label), "+%u pages poisoned while mapped (%.1f s)", after, t_after);
	bench_print_mem(bd.pid, label);
	hwm = bench_status_kb(bd.pid, "VmHWM");

	for (i = 0; i < nr_mappers; i++) {
		long v = bench_status_kb(m.pid[i], "VmPTE");

		pte += v > 0 ? v : 0;
		maps += count_lines(m.pid[i], "maps");
	}
	printf("  mappers, mean: VmPTE %.1f MiB, %ld VMAs (how their %u fences are held)\n",
	       pte / 1024.0 / nr_mappers, maps / (long)nr_mappers, pages);
	printf("  peak %.1f MiB = idle %.1f MiB + %.1f MiB   ratio %.2f x idle   (target < 64 MiB: %s)\n",
	       hwm / 1024.0, idle_hwm / 1024.0, (hwm - idle_hwm) / 1024.0,
	       (double)hwm / (double)idle_rss, bench_verdict(hwm < TARGET_KB));

	bench_mappers_stop(&m);
	memfail_disconnect(ctx);
	bench_daemon_stop(&bd);
	return 0;
}
