// SPDX-License-Identifier: MIT
/* bench/bench.c: see bench.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench.h"

uint64_t bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

double bench_quantile(double *v, size_t n, double q)
{
	size_t k;

	if (!n)
		return 0;
	qsort(v, n, sizeof(*v), cmp_double);
	/* nearest rank: the smallest value with at least q of them at or below */
	k = (size_t)(q * (double)n + 0.999999);
	if (k)
		k--;
	if (k >= n)
		k = n - 1;
	/* an even count's median is the mean of the middle two */
	if (q == 0.5 && !(n & 1))
		return (v[n / 2 - 1] + v[n / 2]) / 2;
	return v[k];
}

const char *bench_dax_path(void)
{
	static char path[64];
	const char *env = getenv("MEMFAIL_DAX");
	size_t n;

	if (!env || !*env)
		return "/dev/dax0.0";
	n = strcspn(env, " ");
	if (n >= sizeof(path))
		n = sizeof(path) - 1;
	memcpy(path, env, n);
	path[n] = '\0';
	return path;
}

long bench_status_kb(pid_t pid, const char *key)
{
	char path[64], line[256];
	size_t klen = strlen(key);
	long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, key, klen) && line[klen] == ':') {
			v = strtol(line + klen + 1, NULL, 10);
			break;
		}
	}
	fclose(f);
	return v;
}

const char *bench_verdict(int ok)
{
	return ok ? "PASS" : "MISS";
}

void bench_die(const char *what)
{
	fprintf(stderr, "bench: %s: %s\n", what, strerror(errno));
	exit(1);
}
