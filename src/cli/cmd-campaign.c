// SPDX-License-Identifier: MIT
/*
 * cli/cmd-campaign.c: memfail inject-campaign: a reproducible stream of
 * media errors.  The errors come from a seeded generator and depend on
 * nothing else (not on timing): the same seed, pattern, rate, duration
 * and namespace size give the same errors, so a test can replay exactly
 * what broke it.  The clock only spaces them out.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

static const char campaign_usage[] =
"usage: memfail inject-campaign NAME --rate R[/s] --duration T --seed S [options]\n"
"\n"
"Inject R errors a second for T into a namespace, from a generator seeded\n"
"with S: the same arguments always give the same errors.\n"
"\n"
"  -r, --rate R         errors per second (R or R/s)\n"
"  -d, --duration T     how long: seconds, or with s, m or h (10s, 2m)\n"
"  -s, --seed S         the generator's seed (a number)\n"
"  -p, --pattern P      uniform (default): any sector of the namespace;\n"
"                       clustered: groups of 8 within 128 KiB of a centre;\n"
"                       row: runs of 16 pages in a row, one sector each\n"
"  -N, --no-notify      latent errors, found only by a scrub or an access\n"
"  -n, --dry-run        print the errors as JSON, inject nothing\n"
"  -h, --help\n";

enum pattern { P_UNIFORM, P_CLUSTERED, P_ROW };

#define TICK_NS		(10 * 1000 * 1000ULL)	/* errors due are sent each 10 ms */
#define CLUSTER_SIZE	8
#define CLUSTER_SPAN	256			/* sectors either side of a centre */
#define ROW_PAGES	16

/* splitmix64: small, fast, and the same everywhere */
static uint64_t next_random(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

struct generator {
	uint64_t state;
	enum pattern pattern;
	uint64_t nr_sectors;
	uint64_t base;		/* clustered: the centre; row: the first page */
	unsigned left;		/* errors left in this cluster or row */
};

/* The i-th error (called in order): one sector. */
static uint64_t next_error(struct generator *g)
{
	uint64_t nr = g->nr_sectors, s;

	switch (g->pattern) {
	case P_CLUSTERED:
		if (!g->left) {
			g->base = next_random(&g->state) % nr;
			g->left = CLUSTER_SIZE;
		}
		g->left--;
		s = g->base + next_random(&g->state) % (2 * CLUSTER_SPAN + 1);
		s = s < CLUSTER_SPAN ? 0 : s - CLUSTER_SPAN;
		return s < nr ? s : nr - 1;
	case P_ROW:
		if (!g->left) {
			uint64_t pages = nr / 8;

			g->base = pages > ROW_PAGES ? next_random(&g->state) % (pages - ROW_PAGES) : 0;
			g->left = ROW_PAGES;
		}
		s = (g->base + (ROW_PAGES - g->left)) * 8 + next_random(&g->state) % 8;
		g->left--;
		return s < nr ? s : nr - 1;
	default:
		return next_random(&g->state) % nr;
	}
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static volatile sig_atomic_t interrupted;

static void on_sigint(int sig)
{
	(void)sig;
	interrupted = 1;
}

static int parse_duration(const char *s, double *out)
{
	char *end;
	double v = strtod(s, &end);

	if (end == s || v < 0 || !isfinite(v))
		return -1;
	if (!strcmp(end, "m"))
		v *= 60;
	else if (!strcmp(end, "h"))
		v *= 3600;
	else if (*end && strcmp(end, "s"))
		return -1;
	*out = v;
	return 0;
}

static const char *const pattern_names[] = { "uniform", "clustered", "row" };

int cmd_inject_campaign(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "rate", required_argument, NULL, 'r' },
		{ "duration", required_argument, NULL, 'd' },
		{ "seed", required_argument, NULL, 's' },
		{ "pattern", required_argument, NULL, 'p' },
		{ "no-notify", no_argument, NULL, 'N' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct memfail_badblock *batch = NULL;
	struct memfail_ctx *ctx = NULL;
	struct memfail_namespace ns;
	struct generator g = { .pattern = P_UNIFORM };
	struct json_object *o, *list = NULL;
	double rate = -1, duration = -1, elapsed;
	bool have_seed = false, latent = false, dry = false;
	uint64_t total, sent = 0, start, seed = 0;
	const char *name;
	char *end;
	int c, err = 0, ret = 1;

	while ((c = getopt_long(argc, argv, "r:d:s:p:Nnh", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			rate = strtod(optarg, &end);
			if (end == optarg || (*end && strcmp(end, "/s")) || rate <= 0 || !isfinite(rate)) {
				cli_error("--rate: '%s' is not a positive number of errors per second", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'd':
			if (parse_duration(optarg, &duration)) {
				cli_error("--duration: '%s' is not a duration (10, 10s, 2m, 1h)", optarg);
				return EXIT_USAGE;
			}
			break;
		case 's':
			cli_parse_u64("--seed", optarg, &seed);
			have_seed = true;
			break;
		case 'p':
			for (g.pattern = P_UNIFORM; g.pattern <= P_ROW; g.pattern++)
				if (!strcmp(optarg, pattern_names[g.pattern]))
					break;
			if (g.pattern > P_ROW) {
				cli_error("--pattern: '%s' is not uniform, clustered or row", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'N': latent = true; break;
		case 'n': dry = true; break;
		case 'h': return cli_usage(campaign_usage, false);
		default: return cli_usage(campaign_usage, true);
		}
	}
	if (optind + 1 != argc) {
		cli_error(optind < argc ? "one namespace at a time" : "specify a namespace");
		return cli_usage(campaign_usage, true);
	}
	if (rate < 0 || duration < 0 || !have_seed) {
		cli_error("--rate, --duration and --seed are required");
		return EXIT_USAGE;
	}
	name = argv[optind];
	total = (uint64_t)llround(rate * duration);
	if (rate * duration > 1e8) {
		cli_error("%.0f errors is too many for one campaign", rate * duration);
		return EXIT_USAGE;
	}
	ctx = cli_connect();
	if (!ctx)
		return 1;
	err = memfail_namespace_get(ctx, name, &ns);
	if (err) {
		cli_error("%s: %s", name, cli_strerror(err));
		goto out;
	}
	g.nr_sectors = ns.size / MEMFAIL_SECTOR_SIZE;
	g.state = seed;
	batch = malloc(MEMFAIL_INJECT_MANY_MAX * sizeof(*batch));
	if (!batch) {
		cli_error("out of memory");
		goto out;
	}
	if (dry)
		list = json_object_new_array();
	signal(SIGINT, on_sigint);
	signal(SIGTERM, on_sigint);
	start = now_ns();
	while (sent < total && !interrupted) {
		uint64_t now = now_ns() - start;
		/* what is due by the end of this tick */
		uint64_t due = dry ? total : (uint64_t)((double)(now + TICK_NS) / 1e9 * rate);
		size_t n = 0;

		if (due > total)
			due = total;
		while (sent + n < due && n < MEMFAIL_INJECT_MANY_MAX) {
			batch[n].sector = next_error(&g);
			batch[n].count = 1;
			if (list)
				json_object_array_add(list, json_object_new_int64((int64_t)batch[n].sector));
			n++;
		}
		if (n && !dry) {
			err = memfail_inject_many(ctx, name, batch, n,
						  latent ? MEMFAIL_INJECT_LATENT : MEMFAIL_INJECT_NOTIFY);
			if (err) {
				cli_error("%s: after %llu errors: %s", name,
					  (unsigned long long)sent, cli_strerror(err));
				break;
			}
		}
		sent += n;
		if (!n && !dry) {
			struct timespec ts = { 0, (long)(TICK_NS - now % TICK_NS) };

			nanosleep(&ts, NULL);
		}
	}
	elapsed = (double)(now_ns() - start) / 1e9;
	o = json_object_new_object();
	json_object_object_add(o, "dev", json_object_new_string(ns.dev));
	json_object_object_add(o, "pattern", json_object_new_string(pattern_names[g.pattern]));
	json_object_object_add(o, "seed", json_object_new_uint64(seed));
	json_object_object_add(o, "latent", json_object_new_boolean(latent));
	json_object_object_add(o, "planned", json_object_new_int64((int64_t)total));
	json_object_object_add(o, dry ? "would_inject" : "injected",
			       json_object_new_int64((int64_t)sent));
	if (!dry) {
		char t[32];

		snprintf(t, sizeof(t), "%.3f", elapsed);
		json_object_object_add(o, "seconds", json_object_new_double_s(elapsed, t));
		snprintf(t, sizeof(t), "%.1f", elapsed > 0 ? sent / elapsed : 0);
		json_object_object_add(o, "rate_per_s",
				       json_object_new_double_s(elapsed > 0 ? sent / elapsed : 0, t));
	}
	if (interrupted)
		json_object_object_add(o, "interrupted", json_object_new_boolean(1));
	if (list)
		json_object_object_add(o, "sectors", list);
	json_print(o);
	ret = err ? 1 : interrupted ? 130 : 0;
out:
	free(batch);
	memfail_disconnect(ctx);
	return ret;
}
