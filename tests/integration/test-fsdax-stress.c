// SPDX-License-Identifier: MIT
/*
 * fsdax stress: rounds of truncate, hole punch, rewrite and
 * memory_failure() on one file on a namespace, while churn threads in
 * two other processes map, fault, write, read and unmap the file's
 * first MiB.  Each round: the early-kill holder (mapping 1 of the whole
 * file) gets exactly one AO for the poisoned page, a process that
 * mapped it and unmapped before the poison gets none, the churners
 * (which never map the poisoned half) get none, and the daemon's log
 * names the poisoner and the holder alone; after a recovery write
 * all read the new data.  At the end every churner reports no word that
 * went back or belonged to another writer, and the daemon still answers;
 * killed with SIGKILL and started again, it mounts the file system (the
 * mount runs fs_check(): a daemon that cannot mount dies, and restarting
 * fails) and the file has its size and every page what was last written.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"

#define FILE_LEN	(4u << 20)
#define CHURN_LEN	(1u << 20)
#define NR_CHURN	2
#define CHURN_THREADS	4
#define NR_SLOTS	(NR_CHURN * CHURN_THREADS)
#define ROUNDS		1000

struct fx {
	struct tdaemon d;
	struct actor p, holder, gone, churn[NR_CHURN];
	char mnt[160];
	char file[200];
};

static struct fx fx;

static int setup(void **state)
{
	memset(&fx, 0, sizeof(fx));
	if (td_start_fsdax(&fx.d, "", "64M", fx.mnt, sizeof(fx.mnt)))
		return -1;
	snprintf(fx.file, sizeof(fx.file), "%s/f", fx.mnt);
	*state = &fx;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	int i;

	actor_kill(&f->p);
	actor_kill(&f->holder);
	actor_kill(&f->gone);
	for (i = 0; i < NR_CHURN; i++)
		actor_kill(&f->churn[i]);
	td_destroy(&f->d);
	umount2(f->mnt, MNT_DETACH);
	rmdir(f->mnt);
	return 0;
}

static uint64_t rnd(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

static void put_page(int fd, uint64_t page, int byte)
{
	char buf[4096];

	memset(buf, byte, sizeof(buf));
	assert_int_equal(pwrite(fd, buf, sizeof(buf), (off_t)(page << 12)), 4096);
}

static void start_mapper(struct actor *a, const char *name, size_t len)
{
	assert_int_equal(actor_start(a, &fx.d, name), 0);
	assert_true(reply_has(actor_cmd(a, "open %s", fx.file), "ok"));
	assert_true(reply_has(actor_cmd(a, "mmap %#zx 0", len), "ok"));
}

/*
 * After the restart: the churners' slot pages hold their last words, the
 * pages they fault (NR_SLOTS to CHURN_LEN/2) 0x41 but for byte w, which
 * writer w may have set to w + 1, and every other page expect[page].
 */
static void check_content(const unsigned char *expect, const uint64_t *last)
{
	unsigned char buf[4096];
	uint64_t word;
	int fd, pg, k;

	fd = open(fx.file, O_RDONLY);
	assert_true(fd >= 0);
	for (pg = 0; pg < (int)(FILE_LEN >> 12); pg++) {
		assert_int_equal(pread(fd, buf, sizeof(buf), (off_t)pg << 12), 4096);
		for (k = 0; k < 4096; k++) {
			int want = expect[pg];

			if (pg < NR_SLOTS && k < 8)
				continue;
			if (pg >= NR_SLOTS && pg < (int)(CHURN_LEN >> 13) && k < NR_SLOTS &&
			    buf[k] == k + 1)
				continue;
			if (buf[k] != want)
				fail_msg("page %d byte %d: %#x, not %#x", pg, k, buf[k], want);
		}
		if (pg < NR_SLOTS) {
			memcpy(&word, buf, sizeof(word));
			if (word != last[pg])
				fail_msg("slot %d: %#llx, not %#llx", pg, (unsigned long long)word,
					 (unsigned long long)last[pg]);
		}
	}
	close(fd);
}

static void stress_rounds(void **state)
{
	static unsigned char expect[FILE_LEN >> 12];
	uint64_t last[NR_SLOTS];
	uint64_t seed = 0xfeedf00dULL;
	struct stat st;
	int fd, round, i, j, sent, holder_sent;
	const char *r;
	char name[16];

	(void)state;
	fd = open(fx.file, O_RDWR | O_CREAT, 0644);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, FILE_LEN), 0);
	for (i = 0; i < (int)(FILE_LEN >> 12); i++)
		put_page(fd, (uint64_t)i, expect[i] = i < NR_SLOTS ? 0 : 0x41);
	assert_int_equal(fsync(fd), 0);
	start_mapper(&fx.p, "poisoner", FILE_LEN);
	/* the holder's mapping 0 is the first page; mapping 1 the file */
	start_mapper(&fx.holder, "holder", 4096);
	assert_true(reply_has(actor_cmd(&fx.holder, "m1 map %#x", FILE_LEN), "ok"));
	assert_int_equal(reply_int(actor_cmd(&fx.holder, "prctl set early"), "ret", -1), 0);
	start_mapper(&fx.gone, "gone", 4096);
	assert_int_equal(reply_int(actor_cmd(&fx.gone, "prctl set early"), "ret", -1), 0);
	for (i = 0; i < NR_CHURN; i++) {
		snprintf(name, sizeof(name), "churn%d", i);
		assert_int_equal(actor_start(&fx.churn[i], &fx.d, name), 0);
		r = actor_cmd(&fx.churn[i], "churn start %s %#x %d %d %d", fx.file, CHURN_LEN, i,
			      CHURN_THREADS, NR_SLOTS);
		if (!reply_has(r, "ok"))
			fail_msg("churn start: %s", r);
	}
	for (round = 0; round < ROUNDS; round++) {
		/* the second half: churners never map it */
		uint64_t page = 512 + rnd(&seed) % 512;
		unsigned long long off = (unsigned long long)(page << 12);
		unsigned op = (unsigned)(rnd(&seed) % 4);
		int v = 1 + round % 250, w = 1 + (round + 100) % 250;

		switch (op) {
		case 1:
			assert_int_equal(fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
						   (off_t)off, 4096), 0);
			break;
		case 2:
			assert_int_equal(ftruncate(fd, (off_t)off), 0);
			assert_int_equal(ftruncate(fd, FILE_LEN), 0);
			memset(expect + page, 0, sizeof(expect) - page);
			break;
		case 3:
			assert_int_equal(fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
						   (off_t)((page & ~511ULL) << 12), 2u << 20), 0);
			memset(expect + (page & ~511ULL), 0, 512);
			break;
		}
		put_page(fd, page, v);
		r = actor_cmd(&fx.holder, "touch 1 %#llx", off);
		if (reply_int(r, "value", -1) != v)
			fail_msg("round %d holder read: %s", round, r);
		/* mapped, faulted and gone again before the poison */
		assert_true(reply_has(actor_cmd(&fx.gone, "m1 map %#x", FILE_LEN), "ok"));
		assert_int_equal(reply_int(actor_cmd(&fx.gone, "touch 1 %#llx", off), "value", -1), v);
		assert_true(reply_has(actor_cmd(&fx.gone, "m1 unmap"), "ok"));
		sent = td_log_count(&fx.d, "Sending SIGBUS to");
		holder_sent = td_log_count(&fx.d, "Sending SIGBUS to holder:");
		r = actor_cmd(&fx.p, "madvise 0 %#llx 4096 hwpoison", off);
		if (reply_int(r, "code", -1) != 4 || reply_int(r, "addr_off", -1) != (long long)off)
			fail_msg("round %d op %u page %#llx poisoner: %s", round, op,
				 (unsigned long long)page, r);
		r = actor_cmd(&fx.holder, "signals");
		if (reply_int(r, "n", -1) != 1 || reply_int(r, "code", -1) != 5 ||
		    reply_int(r, "map", -1) != 1 || reply_int(r, "addr_off", -1) != (long long)off)
			fail_msg("round %d op %u page %#llx holder: %s", round, op,
				 (unsigned long long)page, r);
		r = actor_cmd(&fx.gone, "signals");
		if (reply_int(r, "n", -1) != 0)
			fail_msg("round %d unmapped process signalled: %s", round, r);
		/* and the daemon says it signalled those two and no one else
		 * (memory_failure() is done when the poisoner's call returns) */
		if (td_log_count(&fx.d, "Sending SIGBUS to") != sent + 2 ||
		    td_log_count(&fx.d, "Sending SIGBUS to holder:") != holder_sent + 1)
			fail_msg("round %d: the daemon's log does not name poisoner and holder alone",
				 round);
		/* a recovery write clears it */
		put_page(fd, page, w);
		assert_int_equal(reply_int(actor_cmd(&fx.p, "touch 0 %#llx", off), "value", -1), w);
		assert_int_equal(reply_int(actor_cmd(&fx.holder, "touch 1 %#llx", off), "value", -1), w);
		assert_int_equal(reply_int(actor_cmd(&fx.holder, "signals"), "n", -1), 0);
		assert_int_equal(fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
					   (off_t)off, 4096), 0);
		put_page(fd, page, w);
		expect[page] = (unsigned char)w;
	}
	close(fd);
	for (i = 0; i < NR_CHURN; i++) {
		r = actor_cmd(&fx.churn[i], "churn stop");
		if (!reply_has(r, "ok") || reply_int(r, "bad", -1) != 0 ||
		    reply_int(r, "iters", 0) <= 0)
			fail_msg("churn%d: %s", i, r);
		for (j = 0; j < CHURN_THREADS; j++) {
			char key[8];

			snprintf(key, sizeof(key), "w%d", i * CHURN_THREADS + j);
			last[i * CHURN_THREADS + j] = (uint64_t)reply_int(r, key, -1);
		}
		r = actor_cmd(&fx.churn[i], "signals");
		if (reply_int(r, "n", -1) != 0)
			fail_msg("churn%d signalled: %s", i, r);
	}
	/* the daemon still answers */
	assert_int_equal(td_cli(&fx.d, NULL, 0, "list"), 0);

	/* kill -9 and a restart on the same namespace: the metadata passes
	 * fs_check() at the mount, and the file is as last written */
	actor_kill(&fx.p);
	actor_kill(&fx.holder);
	actor_kill(&fx.gone);
	for (i = 0; i < NR_CHURN; i++)
		actor_kill(&fx.churn[i]);
	td_kill9(&fx.d);
	assert_int_equal(td_restart(&fx.d), 0);
	assert_int_equal(td_log_count(&fx.d, "cannot mount"), 0);
	assert_int_equal(stat(fx.file, &st), 0);
	assert_int_equal(st.st_size, FILE_LEN);
	check_content(expect, last);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(stress_rounds, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
