// SPDX-License-Identifier: MIT
/*
 * fsdax: files on a namespace, served by memfaild through FUSE, mapped
 * in place by the shim.  The dax-poison flow Linux's own tests use on
 * fsdax (LINUX-FACTS.md, Filesystem DAX): write and fsync a 4 MiB file,
 * map it 2 MiB-aligned with MAP_SYNC, madvise(MADV_HWPOISON) one page
 * (AR during the call, lsb 21, the exact page), pread of it fails with
 * EIO, punch the hole, rewrite, fsync, and the mapping reads the new
 * data with no fault.  Bystanders mapping the same file: early-kill gets
 * AO (exact page, lsb 21), late gets nothing.  The files are there for
 * every process (this test reads them without the shim) and outlive a
 * kill -9 of the daemon.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"

#define PAGE_OFF 0x102000	/* 1 MiB + 8 KiB into the file */

struct fx {
	struct tdaemon d;
	struct actor p, early, late;
	char mnt[160];
	char file[200];
};

static struct fx fx;

static int setup(void **state)
{
	memset(&fx, 0, sizeof(fx));
	if (td_start(&fx.d, ""))
		return -1;
	snprintf(fx.mnt, sizeof(fx.mnt), "%s/mnt", fx.d.dir);
	snprintf(fx.file, sizeof(fx.file), "%s/f", fx.mnt);
	if (mkdir(fx.mnt, 0755))
		return -1;
	if (td_cli(&fx.d, NULL, 0, "create-namespace --size 64M --mode fsdax --mount %s", fx.mnt))
		return -1;
	*state = &fx;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	actor_kill(&f->p);
	actor_kill(&f->early);
	actor_kill(&f->late);
	td_destroy(&f->d);
	/* the daemon unmounts at exit; a killed one leaves it to us */
	umount2(f->mnt, MNT_DETACH);
	rmdir(f->mnt);
	return 0;
}

/* An actor with the file mapped whole (MAP_SHARED_VALIDATE | MAP_SYNC). */
static void mapper(struct actor *a, const char *name, size_t len)
{
	const char *r;

	assert_int_equal(actor_start(a, &fx.d, name), 0);
	assert_true(reply_has(actor_cmd(a, "open %s", fx.file), "ok"));
	r = actor_cmd(a, "mmap %#zx 0 sync", len);
	assert_true(reply_has(r, "ok"));
	/* a PMD-sized file mapping sits on a 2 MiB boundary */
	if (len >= (2u << 20))
		assert_true(reply_int(r, "align", 0) >= 21);
}

static void write_file(size_t len, int byte)
{
	const char *r;

	assert_int_equal(actor_start(&fx.p, &fx.d, "poisoner"), 0);
	r = actor_cmd(&fx.p, "fwrite %s 0 %#zx %d", fx.file, len, byte);
	assert_int_equal(reply_int(r, "written", -1), (long long)len);
	actor_kill(&fx.p);
}

static void dax_poison_flow(void **state)
{
	struct stat st;
	const char *r;

	(void)state;
	write_file(4u << 20, 0x41);
	/* every process sees the file, without the shim */
	assert_int_equal(stat(fx.file, &st), 0);
	assert_int_equal(st.st_size, 4u << 20);
	assert_int_equal(st.st_blocks, 8192);
	mapper(&fx.p, "poisoner", 4u << 20);
	assert_int_equal(reply_int(actor_cmd(&fx.p, "touch 0 %#x", PAGE_OFF), "value", -1), 0x41);
	/* AR during madvise: lsb 21 (PMD-mapped file), the exact page */
	r = actor_cmd(&fx.p, "madvise 0 %#x 4096 hwpoison", PAGE_OFF);
	assert_int_equal(reply_int(r, "ret", -9), 0);
	assert_int_equal(reply_int(r, "during", -1), 1);
	assert_int_equal(reply_int(r, "code", -1), 4);
	assert_int_equal(reply_int(r, "addr_off", -1), PAGE_OFF);
	assert_int_equal(reply_int(r, "lsb", -1), 21);
	assert_int_equal(td_log_count(&fx.d, "Sending SIGBUS to poisoner"), 1);
	/* touching it again is a consumption */
	r = actor_cmd(&fx.p, "touch 0 %#x", PAGE_OFF);
	assert_int_equal(reply_int(r, "code", -1), 4);
	assert_int_equal(reply_int(r, "lsb", -1), 21);
	/* the file's media error, as list --media-errors shows it */
	{
		char out[8192];

		assert_int_equal(td_cli(&fx.d, out, sizeof(out), "list -N -M"), 0);
		assert_non_null(strstr(out, "\"file\":\"f\""));
		assert_non_null(strstr(out, "\"offset_bytes\":1056768"));
		assert_non_null(strstr(out, "\"length_bytes\":4096"));
	}
	/* read() of it: EIO; of its neighbour: the data */
	r = actor_cmd(&fx.p, "fread %s %#x 4096", fx.file, PAGE_OFF);
	assert_int_equal(reply_int(r, "errno", -1), EIO);
	r = actor_cmd(&fx.p, "fread %s %#x 4096", fx.file, PAGE_OFF + 4096);
	assert_int_equal(reply_int(r, "ret", -1), 4096);
	assert_int_equal(reply_int(r, "first", -1), 0x41);
	/* punch the hole, rewrite, fsync: the mapping reads the new block */
	assert_true(reply_has(actor_cmd(&fx.p, "fpunch %s %#x 4096", fx.file, PAGE_OFF), "ok"));
	r = actor_cmd(&fx.p, "fwrite %s %#x 4096 0x42", fx.file, PAGE_OFF);
	assert_int_equal(reply_int(r, "written", -1), 4096);
	r = actor_cmd(&fx.p, "touch 0 %#x", PAGE_OFF);
	assert_true(reply_has(r, "ok"));
	assert_int_equal(reply_int(r, "value", -1), 0x42);
	assert_int_equal(reply_int(actor_cmd(&fx.p, "touch 0 %#x", PAGE_OFF + 4096), "value", -1), 0x41);
	r = actor_cmd(&fx.p, "fread %s %#x 4096", fx.file, PAGE_OFF);
	assert_int_equal(reply_int(r, "first", -1), 0x42);
	assert_int_equal(reply_int(actor_cmd(&fx.p, "signals"), "n", -1), 0);
	/* the punched block's poison went to the free-space list */
	{
		char out[8192];

		assert_int_equal(td_cli(&fx.d, out, sizeof(out), "list -N -M"), 0);
		assert_null(strstr(out, "\"offset_bytes\""));
		assert_non_null(strstr(out, "\"poisoned_free_pages\":1"));
	}
}

static void bystanders_early_and_late(void **state)
{
	const char *r;

	(void)state;
	write_file(4u << 20, 0x41);
	mapper(&fx.early, "early", 4u << 20);
	assert_int_equal(reply_int(actor_cmd(&fx.early, "prctl set early"), "ret", -1), 0);
	assert_true(reply_has(actor_cmd(&fx.early, "touch 0 %#x", PAGE_OFF), "ok"));
	mapper(&fx.late, "late", 4u << 20);
	assert_int_equal(reply_int(actor_cmd(&fx.late, "prctl set late"), "ret", -1), 0);
	assert_true(reply_has(actor_cmd(&fx.late, "touch 0 %#x", PAGE_OFF), "ok"));
	mapper(&fx.p, "poisoner", 4u << 20);
	r = actor_cmd(&fx.p, "madvise 0 %#x 4096 hwpoison", PAGE_OFF);
	assert_int_equal(reply_int(r, "code", -1), 4);
	assert_int_equal(reply_int(r, "lsb", -1), 21);
	/* early-kill: AO at once, the exact page, lsb 21 */
	r = actor_cmd(&fx.early, "wait-signal 3000");
	assert_true(reply_has(r, "signal"));
	assert_int_equal(reply_int(r, "code", -1), 5);
	assert_int_equal(reply_int(r, "addr_off", -1), PAGE_OFF);
	assert_int_equal(reply_int(r, "lsb", -1), 21);
	/* late: nothing until it touches the page itself */
	assert_string_equal(actor_cmd(&fx.late, "wait-signal 500"), "timeout");
	r = actor_cmd(&fx.late, "touch 0 %#x", PAGE_OFF);
	assert_int_equal(reply_int(r, "code", -1), 4);
	assert_int_equal(reply_int(r, "addr_off", -1), PAGE_OFF);
	assert_int_equal(td_log_count(&fx.d, "Sending SIGBUS to early"), 1);
	/* a recovery write gives every mapper the page back */
	r = actor_cmd(&fx.p, "fwrite %s %#x 4096 0x43", fx.file, PAGE_OFF);
	assert_int_equal(reply_int(r, "written", -1), 4096);
	assert_int_equal(reply_int(actor_cmd(&fx.late, "touch 0 %#x", PAGE_OFF), "value", -1), 0x43);
	assert_int_equal(reply_int(actor_cmd(&fx.p, "touch 0 %#x", PAGE_OFF), "value", -1), 0x43);
}

/* A small file has 4 KiB blocks: its pages are PTE-mapped, lsb 12. */
static void small_file_lsb12(void **state)
{
	const char *r;

	(void)state;
	write_file(64u << 10, 0x11);
	mapper(&fx.p, "poisoner", 64u << 10);
	r = actor_cmd(&fx.p, "madvise 0 0x3000 4096 hwpoison");
	assert_int_equal(reply_int(r, "code", -1), 4);
	assert_int_equal(reply_int(r, "addr_off", -1), 0x3000);
	assert_int_equal(reply_int(r, "lsb", -1), 12);
}

/* Truncate below a mapped page: a touch past the new EOF is an ordinary
 * SIGBUS (BUS_ADRERR); below it, the data. */
static void truncate_while_mapped(void **state)
{
	const char *r;

	(void)state;
	write_file(4u << 20, 0x41);
	mapper(&fx.p, "mapper", 4u << 20);
	assert_true(reply_has(actor_cmd(&fx.p, "touch 0 0x300000"), "ok"));
	assert_int_equal(truncate(fx.file, 1u << 20), 0);
	r = actor_cmd(&fx.p, "touch 0 0x300000");
	assert_int_equal(reply_int(r, "code", -1), 2);
	assert_int_equal(reply_int(actor_cmd(&fx.p, "touch 0 0x1000"), "value", -1), 0x41);
}

static void files_outlive_kill9(void **state)
{
	struct dirent *e;
	struct stat st;
	char buf[16];
	int fd, n = 0;
	DIR *dir;

	(void)state;
	write_file(3u << 20, 0x5a);
	td_kill9(&fx.d);
	assert_int_equal(td_restart(&fx.d), 0);
	assert_int_equal(td_cli(&fx.d, NULL, 0, "list"), 0);
	{
		char out[4096];

		assert_int_equal(td_cli(&fx.d, out, sizeof(out), "list -N"), 0);
		assert_non_null(strstr(out, "fsdax"));
	}
	/* the restarted daemon shows them where they were */
	assert_int_equal(stat(fx.file, &st), 0);
	assert_int_equal(st.st_size, 3u << 20);
	fd = open(fx.file, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(pread(fd, buf, sizeof(buf), (2u << 20) + 5), (ssize_t)sizeof(buf));
	assert_int_equal(buf[0], 0x5a);
	close(fd);
	dir = opendir(fx.mnt);
	assert_non_null(dir);
	while ((e = readdir(dir)))
		n += e->d_name[0] != '.';
	closedir(dir);
	assert_int_equal(n, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(dax_poison_flow, setup, teardown),
		cmocka_unit_test_setup_teardown(bystanders_early_and_late, setup, teardown),
		cmocka_unit_test_setup_teardown(small_file_lsb12, setup, teardown),
		cmocka_unit_test_setup_teardown(truncate_while_mapped, setup, teardown),
		cmocka_unit_test_setup_teardown(files_outlive_kill9, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
