// SPDX-License-Identifier: MIT
/*
 * bench-ops: the operations' figures.
 *
 *   bench-ops BUILD_DIR [-l LATENT] [-m MAPPERS] [-n INJECTIONS]
 *
 * 1. Scrub: a 1 TiB sparse namespace with LATENT (100,000) latent errors,
 *    one sector each, spread evenly.  The scrub's time and the daemon's
 *    memory, next to the time it takes to read the same bad-block list
 *    back from the state database (SQLite, read-only, in the same run):
 *    the least a scrub that finds them all could cost.
 * 2. Injection throughput: INJECTIONS single-range injections, each its
 *    own request, accepted and recorded durably, with MAPPERS (8)
 *    processes mapping the namespace (so each also fences the page in
 *    all of them), and without; next to the floor measured in the same
 *    run: one-row SQLite transactions with synchronous=FULL in the same
 *    directory, the durability every injection pays.
 */
#include <errno.h>
#include <getopt.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "memfail.h"
#include "bench.h"

#define NS_SIZE		(1ULL << 40)
#define SECTORS		(NS_SIZE / MEMFAIL_SECTOR_SIZE)

static struct bench_daemon bd;

static double seconds_since(uint64_t t0)
{
	return (double)(bench_now_ns() - t0) / 1e9;
}

/* LATENT errors, one sector each, evenly spread: in batches, in order. */
static double inject_latent(struct memfail_ctx *ctx, unsigned n)
{
	static struct memfail_badblock batch[MEMFAIL_INJECT_MANY_MAX];
	uint64_t stride = SECTORS / n, t0 = bench_now_ns();
	unsigned i = 0, k;
	int err;

	while (i < n) {
		for (k = 0; k < MEMFAIL_INJECT_MANY_MAX && i < n; k++, i++) {
			batch[k].sector = (uint64_t)i * stride + 17;
			batch[k].count = 1;
		}
		err = memfail_inject_many(ctx, "namespace0.0", batch, k, MEMFAIL_INJECT_LATENT);
		if (err)
			bench_fail("inject latent errors", -err);
	}
	return seconds_since(t0);
}

static double scrub(struct memfail_ctx *ctx, uint64_t *found)
{
	struct memfail_scrub s;
	uint64_t t0 = bench_now_ns();
	int err;

	err = memfail_scrub_start(ctx, NULL, 0, &s);
	while (!err && s.active) {
		usleep(1000);
		err = memfail_scrub_status(ctx, &s);
	}
	if (err)
		bench_fail("scrub", -err);
	*found = s.found;
	return seconds_since(t0);
}

/* The badblock rows of the state database, read back; seconds. */
static double read_badblocks_db(uint64_t *rows)
{
	char path[256];
	sqlite3 *db;
	sqlite3_stmt *st;
	uint64_t t0 = bench_now_ns(), sum = 0;

	snprintf(path, sizeof(path), "%s/state/memfail.db", bd.dir);
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "SELECT ns, sector, count FROM badblock ORDER BY ns, sector",
			       -1, &st, NULL) != SQLITE_OK)
		bench_fail("read memfail.db", EIO);
	*rows = 0;
	while (sqlite3_step(st) == SQLITE_ROW) {
		sum += (uint64_t)sqlite3_column_int64(st, 1);
		(*rows)++;
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
	if (!sum && *rows)
		bench_fail("read memfail.db", EIO);
	return seconds_since(t0);
}

/* n injections of one page each, each its own request; per second. */
static double inject_rate(struct memfail_ctx *ctx, const char *name, unsigned n, unsigned base)
{
	uint64_t t0 = bench_now_ns();
	unsigned i;
	int err;

	for (i = 0; i < n; i++) {
		/* a page of its own in a 2 MiB unit of its own */
		err = memfail_inject_error(ctx, name, ((uint64_t)(base + i) << 12) + 8, 8,
					   MEMFAIL_INJECT_NOTIFY);
		if (err)
			bench_fail("inject-error", -err);
	}
	return n / seconds_since(t0);
}

/* The floor: one-row transactions with synchronous=FULL, per second. */
static double commit_rate(unsigned n)
{
	char path[256];
	sqlite3 *db;
	sqlite3_stmt *st;
	uint64_t t0;
	unsigned i;

	snprintf(path, sizeof(path), "%s/floor.db", bd.dir);
	if (sqlite3_open(path, &db) != SQLITE_OK ||
	    sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
			 "CREATE TABLE IF NOT EXISTS t(a INTEGER PRIMARY KEY, b INTEGER)", NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "INSERT INTO t(b) VALUES(?)", -1, &st, NULL) != SQLITE_OK)
		bench_fail("floor database", EIO);
	t0 = bench_now_ns();
	for (i = 0; i < n; i++) {
		sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
		sqlite3_bind_int64(st, 1, i);
		sqlite3_step(st);
		sqlite3_reset(st);
		sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
	return n / seconds_since(t0);
}

int main(int argc, char **argv)
{
	unsigned latent = 100000, nr_mappers = 8, injections = 2000;
	static struct bench_mappers m;
	struct memfail_ctx *ctx;
	double t_inj, t_scrub, t_db, r_floor, r0, rm, r_floor2;
	uint64_t found, rows;
	long hwm_before, hwm_after;
	int k, err;

	if (bench_mapper_main(argc, argv) >= 0)
		return 0;
	while ((k = getopt(argc, argv, "l:m:n:")) != -1) {
		switch (k) {
		case 'l': latent = (unsigned)atoi(optarg); break;
		case 'm': nr_mappers = (unsigned)atoi(optarg); break;
		case 'n': injections = (unsigned)atoi(optarg); break;
		default:
			fprintf(stderr, "usage: bench-ops BUILD_DIR [-l LATENT] [-m MAPPERS] [-n INJECTIONS]\n");
			return 2;
		}
	}
	if (optind != argc - 1 || !latent || !injections || nr_mappers > BENCH_MAX_MAPPERS) {
		fprintf(stderr, "usage: bench-ops BUILD_DIR [-l LATENT] [-m MAPPERS] [-n INJECTIONS]\n");
		return 2;
	}
	bench_daemon_start(&bd, argv[optind], "4T");
	if (bench_cli(&bd, "create-namespace", "--size", "1T", "--align", "2M", "--sparse", NULL) ||
	    bench_cli(&bd, "create-namespace", "--size", "64G", "--align", "2M", "--sparse", NULL) ||
	    bench_cli(&bd, "create-namespace", "--size", "64G", "--align", "2M", "--sparse", NULL))
		bench_fail("memfail create-namespace", EIO);
	err = memfail_connect(bd.sock, &ctx);
	if (err)
		bench_fail("connect", -err);

	printf("scrub: 1 TiB namespace (sparse), %u latent errors of one sector, evenly spread\n", latent);
	t_inj = inject_latent(ctx, latent);
	printf("  injected in %.2f s (batches of %d, one transaction each)\n",
	       t_inj, MEMFAIL_INJECT_MANY_MAX);
	hwm_before = bench_status_kb(bd.pid, "VmHWM");
	bench_print_mem(bd.pid, "before the scrub");
	t_scrub = scrub(ctx, &found);
	hwm_after = bench_status_kb(bd.pid, "VmHWM");
	bench_print_mem(bd.pid, "after the scrub");
	if (found != latent)
		bench_fail("the scrub did not find every latent error", EIO);
	t_db = read_badblocks_db(&rows);
	printf("  scrub %.3f s for %llu found   baseline: reading the %llu rows back from memfail.db %.3f s   ratio %.1f\n",
	       t_scrub, (unsigned long long)found, (unsigned long long)rows, t_db, t_scrub / t_db);
	printf("  daemon peak %.1f MiB (%.1f MiB before the scrub)\n\n",
	       hwm_after / 1024.0, hwm_before / 1024.0);

	printf("injection throughput: %u single-page injections, each its own request, durable\n",
	       injections);
	r_floor = commit_rate(injections);
	r0 = inject_rate(ctx, "namespace0.1", injections, 0);
	bench_mappers_start(&m, &bd, "/dev/dax0.2", 64ULL << 30, nr_mappers);
	rm = inject_rate(ctx, "namespace0.2", injections, 0);
	bench_mappers_stop(&m);
	r_floor2 = commit_rate(injections);
	if (r_floor2 < r_floor)
		r_floor = r_floor2;
	printf("  no mappers      %8.0f /s\n", r0);
	printf("  %u mappers       %8.0f /s\n", nr_mappers, rm);
	printf("  baseline: one-row SQLite commits (synchronous=FULL) %8.0f /s   ratio %.2f (no mappers) %.2f (%u mappers)\n",
	       r_floor, r0 / r_floor, rm / r_floor, nr_mappers);
	memfail_disconnect(ctx);
	bench_daemon_stop(&bd);
	return 0;
}
