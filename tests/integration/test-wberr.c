// SPDX-License-Identifier: MIT
/*
 * A dirty page-cache page lost to poison is a writeback error of its
 * file, reported as Linux's errseq reports it: once per open file opened
 * before the error, where an open file is a descriptor, its dup()s and
 * the mappings made from it (one struct file); a file opened after the
 * error never sees it.  Under the shim, under the 6.12 profile.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

static struct tdaemon d;
static struct actor a;
static char dir[64], path[128];

static int setup(void **state)
{
	static int n;

	(void)state;
	memset(&a, 0, sizeof(a));
	snprintf(path, sizeof(path), "%s/f%d", dir, n++);
	return td_start(&d, "");
}

static int teardown(void **state)
{
	(void)state;
	actor_kill(&a);
	td_destroy(&d);
	unlink(path);
	return 0;
}

/* a 64 KiB file mapped MAP_SHARED (mapping 0), dirtied, one page poisoned */
static void lose_a_dirty_page(const char *name)
{
	assert_int_equal(actor_start(&a, &d, name), 0);
	assert_true(reply_has(actor_cmd(&a, "mapmem file 0x10000 %s", path), "ok"));
	assert_true(reply_has(actor_cmd(&a, "fill 0 0xce"), "ok"));
}

static void poison(void)
{
	assert_int_equal(reply_int(actor_cmd(&a, "madvise 0 0x2000 4096 hwpoison"), "code", -1), 4);
}

static long long fd_of(const char *reply)
{
	long long fd = reply_int(reply, "fd", -1);

	assert_true(fd >= 0);
	return fd;
}

/* fsyncfd: -errno or 0 */
static int fsync_fd(long long fd)
{
	const char *r = actor_cmd(&a, "fsyncfd %lld", fd);

	return reply_int(r, "ret", 1) ? -(int)reply_int(r, "errno", 0) : 0;
}

static void mapping_and_descriptor_are_one_open_file(void **state)
{
	const char *r;

	(void)state;
	lose_a_dirty_page("msyncfirst");
	poison();
	r = actor_cmd(&a, "msync 0");
	assert_int_equal(reply_int(r, "errno", -1), EIO);
	/* the descriptor the mapping was made from reported it with it */
	assert_int_equal(reply_int(actor_cmd(&a, "fsync 0"), "ret", -1), 0);
	assert_int_equal(reply_int(actor_cmd(&a, "msync 0"), "ret", -1), 0);
}

static void dup_shares_the_report(void **state)
{
	long long fd, d1;

	(void)state;
	lose_a_dirty_page("dupper");
	fd = reply_int(actor_cmd(&a, "mapfd 0"), "fd", -1);
	d1 = fd_of(actor_cmd(&a, "dupfd %lld", fd));
	poison();
	assert_int_equal(fsync_fd(d1), -EIO);
	assert_int_equal(fsync_fd(fd), 0);
	assert_int_equal(fsync_fd(d1), 0);
	/* a dup() made after the report has seen it too */
	assert_int_equal(fsync_fd(fd_of(actor_cmd(&a, "dupfd %lld", fd))), 0);
}

static void each_open_file_reports_once(void **state)
{
	long long other, later;

	(void)state;
	lose_a_dirty_page("twoopens");
	other = fd_of(actor_cmd(&a, "openfd %s", path));
	poison();
	later = fd_of(actor_cmd(&a, "openfd %s", path));
	assert_int_equal(reply_int(actor_cmd(&a, "fsync 0"), "errno", -1), EIO);
	/* another open file, opened before the error: its own report */
	assert_int_equal(fsync_fd(other), -EIO);
	assert_int_equal(fsync_fd(other), 0);
	/* opened after it: nothing */
	assert_int_equal(fsync_fd(later), 0);
	/* a closed number opened again is a new open file */
	assert_int_equal(reply_int(actor_cmd(&a, "closefd %lld", other), "ret", -1), 0);
	assert_int_equal(fsync_fd(fd_of(actor_cmd(&a, "openfd %s", path))), 0);
}

/* past the shim's table of descriptors: the same rules */
static void high_descriptors(void **state)
{
	long long fd, hi, hi2;

	(void)state;
	lose_a_dirty_page("highfds");
	fd = reply_int(actor_cmd(&a, "mapfd 0"), "fd", -1);
	hi = fd_of(actor_cmd(&a, "dupfd %lld 10000", fd));
	assert_int_equal(hi, 10000);
	hi2 = fd_of(actor_cmd(&a, "openfd %s", path));
	hi2 = fd_of(actor_cmd(&a, "dupfd %lld 10001", hi2));
	poison();
	assert_int_equal(fsync_fd(hi), -EIO);
	assert_int_equal(fsync_fd(hi), 0);
	assert_int_equal(fsync_fd(fd), 0);
	assert_int_equal(fsync_fd(hi2), -EIO);
	assert_int_equal(fsync_fd(hi2), 0);
}

int main(void)
{
	const struct CMUnitTest t[] = {
		cmocka_unit_test_setup_teardown(mapping_and_descriptor_are_one_open_file, setup, teardown),
		cmocka_unit_test_setup_teardown(dup_shares_the_report, setup, teardown),
		cmocka_unit_test_setup_teardown(each_open_file_reports_once, setup, teardown),
		cmocka_unit_test_setup_teardown(high_descriptors, setup, teardown),
	};
	int ret;

	snprintf(dir, sizeof(dir), "/tmp/mf-wberr.XXXXXX");
	if (!mkdtemp(dir))
		return 1;
	ret = cmocka_run_group_tests(t, NULL, NULL);
	rmdir(dir);
	return ret;
}
