// SPDX-License-Identifier: MIT
/*
 * tests/progs/mfactor-churn.c: threads of one actor that map, fault,
 * write, read and unmap one file over and over while the actor's main
 * thread answers commands (test-fsdax-stress).
 *
 *   churn start PATH LEN ID NTHREADS NSLOTS   start the threads
 *   churn stop                                join them: their counts
 *   slots PATH LEN NSLOTS                     the slot words, through a
 *                                             new mapping
 *   m1 map LEN | m1 unmap                     mapping 1 of the file opened
 *                                             last, made and dropped again
 *
 * Writer w (thread t of actor ID: w = ID * NTHREADS + t) owns page w of
 * the file: it stores (w + 1) << 32 | iteration there, through each new
 * mapping, and reads every other writer's page: a word is 0 (not written
 * yet) or its writer's, and never goes back.  Every other page from
 * NSLOTS on is faulted (read, and a byte of its own stored) without a
 * check: another process punches and rewrites them.  The threads block
 * SIGBUS: none is expected, and the actor's handler is the main
 * thread's.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "mfactor.h"

#define MAX_CHURN	8
#define MAX_SLOTS	64

struct churner {
	pthread_t th;
	unsigned w;
	uint64_t iters, mmap_fail, bad;
	char first_bad[160];
};

static struct churner churners[MAX_CHURN];
static unsigned nr_churners, nr_slots;
static char churn_path[256];
static size_t churn_len;
static atomic_int churn_stop;
static bool m1_mapped;

static uint64_t churn_rnd(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

static void churn_bad(struct churner *c, const char *fmt, unsigned long long a,
		      unsigned long long b, unsigned long long d)
{
	if (!c->bad++)
		snprintf(c->first_bad, sizeof(c->first_bad), fmt, a, b, d);
}

static void *churn_main(void *arg)
{
	struct churner *c = arg;
	uint64_t last[MAX_SLOTS] = { 0 }, seed = 0x9e3779b97f4a7c15ULL * (c->w + 1);
	size_t pages = churn_len / 4096;
	sigset_t set;
	int fd;

	sigemptyset(&set);
	sigaddset(&set, SIGBUS);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	fd = open(churn_path, O_RDWR);
	if (fd < 0) {
		churn_bad(c, "open errno=%llu%llu%llu", (unsigned long long)errno, 0, 0);
		return NULL;
	}
	while (!atomic_load(&churn_stop)) {
		volatile uint64_t *own;
		uint64_t val, r = churn_rnd(&seed);
		unsigned j;
		char *p;

		p = mmap(NULL, churn_len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (p == MAP_FAILED) {
			c->mmap_fail++;
			continue;
		}
		c->iters++;
		own = (volatile uint64_t *)(p + (size_t)c->w * 4096);
		val = ((uint64_t)(c->w + 1) << 32) | (c->iters & 0xffffffffu);
		*own = val;
		if (*own != val)
			churn_bad(c, "own page %llu: stored %#llx, read %#llx", c->w, val, *own);
		for (j = 0; j < nr_slots; j++) {
			uint64_t v = *(volatile uint64_t *)(p + (size_t)j * 4096);

			if ((!v && last[j]) || (v && (v >> 32) != j + 1) || v < last[j])
				churn_bad(c, "page %llu: read %#llx after %#llx", j, v, last[j]);
			last[j] = v;
		}
		/* a page the other process punches: faulted in again */
		if (pages > nr_slots) {
			volatile char *q = p + (nr_slots + r % (pages / 2 - nr_slots)) * 4096;

			(void)*q;
			q[c->w] = (char)(c->w + 1);
		}
		/* sometimes a hole in the middle first: the mapping in two */
		if (r & 0x100) {
			size_t mid = (1 + (r >> 12) % (pages - 2)) * 4096;

			munmap(p + mid, 4096);
		}
		munmap(p, churn_len);
	}
	close(fd);
	return NULL;
}

static void churn_start(char **argv, char *out, size_t n)
{
	unsigned id = (unsigned)atoi(argv[4]), i;

	if (nr_churners) {
		snprintf(out, n, "err running");
		return;
	}
	snprintf(churn_path, sizeof(churn_path), "%s", argv[2]);
	churn_len = strtoull(argv[3], NULL, 0);
	nr_churners = (unsigned)atoi(argv[5]);
	nr_slots = (unsigned)atoi(argv[6]);
	if (nr_churners > MAX_CHURN || nr_slots > MAX_SLOTS || churn_len < 8 * 4096 ||
	    churn_len / 4096 < 2 * nr_slots) {
		nr_churners = 0;
		snprintf(out, n, "err bad-args");
		return;
	}
	atomic_store(&churn_stop, 0);
	for (i = 0; i < nr_churners; i++) {
		memset(&churners[i], 0, sizeof(churners[i]));
		churners[i].w = id * nr_churners + i;
		if (churners[i].w >= nr_slots ||
		    pthread_create(&churners[i].th, NULL, churn_main, &churners[i])) {
			snprintf(out, n, "err thread");
			atomic_store(&churn_stop, 1);
			while (i--)
				pthread_join(churners[i].th, NULL);
			nr_churners = 0;
			return;
		}
	}
	snprintf(out, n, "ok");
}

static void churn_stop_all(char *out, size_t n)
{
	uint64_t iters = 0, fail = 0, bad = 0;
	int len;
	unsigned i;

	atomic_store(&churn_stop, 1);
	for (i = 0; i < nr_churners; i++) {
		pthread_join(churners[i].th, NULL);
		iters += churners[i].iters;
		fail += churners[i].mmap_fail;
		bad += churners[i].bad;
	}
	len = snprintf(out, n, "ok iters=%llu mmap_fail=%llu bad=%llu", (unsigned long long)iters,
		       (unsigned long long)fail, (unsigned long long)bad);
	/* each writer's last word, and the first thing that was wrong */
	for (i = 0; i < nr_churners && len < (int)n - 200; i++)
		len += snprintf(out + len, n - len, " w%u=%#llx", churners[i].w,
				(unsigned long long)(((uint64_t)(churners[i].w + 1) << 32) |
						     (churners[i].iters & 0xffffffffu)));
	for (i = 0; i < nr_churners && len < (int)n - 200; i++)
		if (churners[i].bad)
			len += snprintf(out + len, n - len, " [w%u: %s]", churners[i].w,
					churners[i].first_bad);
	nr_churners = 0;
}

static void slots_read(char **argv, char *out, size_t n)
{
	size_t len = strtoull(argv[2], NULL, 0);
	unsigned ns = (unsigned)atoi(argv[3]), j;
	int fd = open(argv[1], O_RDWR), o;
	char *p;

	if (fd < 0) {
		snprintf(out, n, "err errno=%d", errno);
		return;
	}
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED || ns > MAX_SLOTS || ns * 4096ULL > len) {
		if (p != MAP_FAILED)
			munmap(p, len);
		snprintf(out, n, "err mmap errno=%d", errno);
		return;
	}
	o = snprintf(out, n, "ok");
	for (j = 0; j < ns && o < (int)n - 32; j++)
		o += snprintf(out + o, n - o, " w%u=%#llx", j,
			      (unsigned long long)*(volatile uint64_t *)(p + (size_t)j * 4096));
	munmap(p, len);
}

/* Mapping 1 of the file opened last (mapping 0 stays as it is). */
static void m1_command(int argc, char **argv, char *out, size_t n)
{
	if (!strcmp(argv[1], "map") && argc >= 3) {
		size_t len = strtoull(argv[2], NULL, 0);
		void *p;

		if (nr_maps < 1 || m1_mapped) {
			snprintf(out, n, "err state");
			return;
		}
		p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, maps[0].fd, 0);
		if (p == MAP_FAILED) {
			snprintf(out, n, "err errno=%d", errno);
			return;
		}
		maps[1].fd = maps[0].fd;
		maps[1].len = len;
		__atomic_store_n(&maps[1].addr, (char *)p, __ATOMIC_RELEASE);
		if (nr_maps < 2)
			nr_maps = 2;
		m1_mapped = true;
		snprintf(out, n, "ok");
	} else if (!strcmp(argv[1], "unmap")) {
		if (!m1_mapped) {
			snprintf(out, n, "err state");
			return;
		}
		if (munmap(maps[1].addr, maps[1].len)) {
			snprintf(out, n, "err errno=%d", errno);
			return;
		}
		m1_mapped = false;
		/* the address stays known: a late AO still says map=1 */
		snprintf(out, n, "ok");
	} else {
		snprintf(out, n, "err usage");
	}
}

int churn_command(int argc, char **argv, char *out, size_t n)
{
	if (!strcmp(argv[0], "churn") && argc >= 2) {
		if (!strcmp(argv[1], "start") && argc >= 7)
			churn_start(argv, out, n);
		else if (!strcmp(argv[1], "stop"))
			churn_stop_all(out, n);
		else
			snprintf(out, n, "err usage");
		return 1;
	}
	if (!strcmp(argv[0], "slots") && argc >= 4) {
		slots_read(argv, out, n);
		return 1;
	}
	if (!strcmp(argv[0], "m1") && argc >= 2) {
		m1_command(argc, argv, out, n);
		return 1;
	}
	return 0;
}
