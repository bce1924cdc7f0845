// SPDX-License-Identifier: MIT
/*
 * libmemfail's public API against a private memfaild: the return codes
 * each call documents, and that a refused call changes nothing.
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
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "memfail.h"

static struct tdaemon d;
static struct memfail_ctx *ctx;

static int setup(void **state)
{
	struct memfail_namespace_args args = { .size = 8u << 20, .align = 2u << 20 };
	struct memfail_namespace ns;

	(void)state;
	memset(&d, 0, sizeof(d));
	if (td_start(&d, ""))
		return -1;
	if (memfail_connect(d.sock, &ctx))
		return -1;
	return memfail_namespace_create(ctx, &args, &ns);
}

static int teardown(void **state)
{
	(void)state;
	memfail_disconnect(ctx);
	ctx = NULL;
	td_destroy(&d);
	return 0;
}

static size_t nr_badblocks(void)
{
	struct memfail_badblock *bb = NULL;
	size_t n = 0;

	assert_int_equal(memfail_badblocks(ctx, "dax0.0", &bb, &n), 0);
	free(bb);
	return n;
}

static void namespace_lookup(void **state)
{
	struct memfail_namespace ns;
	struct memfail_namespace_args bad = { .size = 3u << 20, .align = 2u << 20 };

	(void)state;
	assert_int_equal(memfail_namespace_get(ctx, "namespace0.0", &ns), 0);
	assert_string_equal(ns.chardev, "dax0.0");
	assert_int_equal(ns.size, 8u << 20);
	assert_int_equal(ns.align, 2u << 20);
	assert_int_equal(memfail_namespace_get(ctx, "dax0.9", &ns), -ENODEV);
	/* a size that is not a multiple of the alignment is refused */
	assert_int_equal(memfail_namespace_create(ctx, &bad, &ns), -EINVAL);
	assert_int_equal(memfail_namespace_get(ctx, "dax0.1", &ns), -ENODEV);
}

/* fsdax calls on a devdax namespace change nothing; on an fsdax one,
 * the mount wants an absolute existing directory, and a fresh file
 * system has no media errors. */
static void fsdax_calls(void **state)
{
	struct memfail_namespace_args fa = { .size = 8u << 20, .mode = "fsdax" };
	struct memfail_namespace_args xa = { .size = 8u << 20, .mode = "xfs" };
	struct memfail_file_error *fe = NULL;
	struct memfail_namespace ns;
	uint64_t fp = 99;
	size_t n = 9;

	(void)state;
	assert_int_equal(memfail_fs_mount(ctx, "dax0.0", "/tmp"), -EINVAL);
	assert_int_equal(memfail_fs_media_errors(ctx, "dax0.0", &fe, &n, &fp), -EINVAL);
	assert_null(fe);
	assert_int_equal(memfail_namespace_create(ctx, &xa, &ns), -EOPNOTSUPP);
	assert_int_equal(memfail_namespace_create(ctx, &fa, &ns), 0);
	assert_string_equal(ns.mode, "fsdax");
	assert_int_equal(memfail_fs_mount(ctx, ns.dev, "relative"), -EINVAL);
	assert_int_equal(memfail_fs_mount(ctx, ns.dev, "/nonexistent/memfail"), -ENOENT);
	assert_int_equal(memfail_fs_umount(ctx, ns.dev, NULL), -ENOENT);
	/* shown somewhere: not twice there, nor inside it (the daemon would
	 * wait for itself) */
	{
		struct memfail_namespace ns2;
		char dir[200], sub[220];

		snprintf(dir, sizeof(dir), "%s/mnt", d.dir);
		snprintf(sub, sizeof(sub), "%s/x", dir);
		assert_int_equal(mkdir(dir, 0755), 0);
		assert_int_equal(memfail_namespace_create(ctx, &fa, &ns2), 0);
		assert_int_equal(memfail_fs_mount(ctx, ns.dev, dir), 0);
		assert_int_equal(memfail_fs_mount(ctx, ns2.dev, dir), -EBUSY);
		assert_int_equal(memfail_fs_mount(ctx, ns2.dev, sub), -EBUSY);
		assert_int_equal(memfail_fs_umount(ctx, ns.dev, dir), 0);
		assert_int_equal(memfail_fs_mount(ctx, ns2.dev, dir), 0);
		assert_int_equal(memfail_namespace_destroy(ctx, ns2.dev), 0);
		assert_int_equal(rmdir(dir), 0);
	}
	assert_int_equal(memfail_fs_media_errors(ctx, ns.dev, &fe, &n, &fp), 0);
	assert_int_equal(n, 0);
	assert_int_equal(fp, 0);
	free(fe);
	assert_int_equal(memfail_namespace_destroy(ctx, ns.dev), 0);
}

static void inject_rejects_unknown_flags(void **state)
{
	(void)state;
	/* 4 is the wire's uninject bit: the API must not pass it through */
	assert_int_equal(memfail_inject_error(ctx, "dax0.0", 8, 1, 4), -EINVAL);
	assert_int_equal(memfail_inject_error(ctx, "dax0.0", 8, 1, 1u << 31), -EINVAL);
	assert_int_equal(nr_badblocks(), 0);
	assert_int_equal(memfail_inject_error(ctx, "dax0.0", 8, 1, MEMFAIL_INJECT_NOTIFY), 0);
	assert_int_equal(nr_badblocks(), 1);
	assert_int_equal(memfail_uninject_error(ctx, "dax0.0", 8, 1), 0);
	assert_int_equal(nr_badblocks(), 0);
}

static void inject_past_the_end_changes_nothing(void **state)
{
	(void)state;
	/* 8 MiB is 16384 sectors */
	assert_int_equal(memfail_inject_error(ctx, "dax0.0", 16383, 2, 0), -ERANGE);
	assert_int_equal(memfail_inject_error(ctx, "dax0.0", 1ull << 62, 1, 0), -ERANGE);
	assert_int_equal(nr_badblocks(), 0);
}

static void read_and_write_around_bad_sectors(void **state)
{
	static char buf[100000];
	char small[16];

	(void)state;
	memset(buf, 0x33, sizeof(buf));
	assert_int_equal(memfail_write(ctx, "dax0.0", 0, buf, sizeof(buf)), 0);
	assert_int_equal(memfail_inject_error(ctx, "dax0.0", 64, 1, 0), 0);
	assert_int_equal(memfail_read(ctx, "dax0.0", 32768 + 100, small, sizeof(small)), -EIO);
	assert_int_equal(memfail_read(ctx, "dax0.0", 33280, small, sizeof(small)), 0);
	assert_int_equal(small[0], 0x33);
	/* part of the bad sector: refused, still bad */
	assert_int_equal(memfail_write(ctx, "dax0.0", 32768 + 8, small, sizeof(small)), -EIO);
	assert_int_equal(nr_badblocks(), 1);
	/* an unaligned write covering it whole clears it */
	memset(buf, 0x44, sizeof(buf));
	assert_int_equal(memfail_write(ctx, "dax0.0", 7, buf, sizeof(buf)), 0);
	assert_int_equal(nr_badblocks(), 0);
	assert_int_equal(memfail_read(ctx, "dax0.0", 32768, small, sizeof(small)), 0);
	assert_int_equal(small[0], 0x44);
	/* past the end */
	assert_int_equal(memfail_read(ctx, "dax0.0", 8u << 20, small, 1), -ERANGE);
	assert_int_equal(memfail_write(ctx, "dax0.0", (8u << 20) - 1, small, 2), -ERANGE);
}

static void inject_many_all_or_nothing(void **state)
{
	struct memfail_badblock r[3] = { { 8, 1 }, { 100, 2 }, { 16384, 1 } };
	struct memfail_badblock *lat = NULL;
	size_t n = 0;

	(void)state;
	/* the last range is past the end: none of them goes in */
	assert_int_equal(memfail_inject_many(ctx, "dax0.0", r, 3, MEMFAIL_INJECT_LATENT), -ERANGE);
	assert_int_equal(memfail_latent_errors(ctx, "dax0.0", &lat, &n), 0);
	assert_int_equal(n, 0);
	free(lat);
	assert_int_equal(memfail_inject_many(ctx, "dax0.0", r, 0, 0), -EINVAL);
	assert_int_equal(memfail_inject_many(ctx, "dax0.0", r, 1,
					     MEMFAIL_INJECT_NOTIFY | MEMFAIL_INJECT_LATENT), -EINVAL);
	assert_int_equal(memfail_inject_many(ctx, "dax0.0", r, 2, 1u << 7), -EINVAL);
	assert_int_equal(memfail_inject_many(ctx, "dax0.0", r, 2, MEMFAIL_INJECT_LATENT), 0);
	assert_int_equal(memfail_latent_errors(ctx, "dax0.0", &lat, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(lat[1].sector, 100);
	assert_int_equal(lat[1].count, 2);
	free(lat);
	assert_int_equal(nr_badblocks(), 0);
}

/* Events name other users' processes: only root and the daemon's user. */
static void events_are_for_the_privileged(void **state)
{
	struct memfail_event *ev = NULL;
	struct memfail_scrub s;
	size_t n = 0;
	pid_t pid;
	int status;

	(void)state;
	if (geteuid() != 0) {
		skip();
		return;
	}
	assert_int_equal(memfail_inject_error(ctx, "dax0.0", 8, 1, 0), 0);
	assert_int_equal(memfail_history(ctx, 0, 0, 0, &ev, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(ev[0].type, MEMFAIL_EV_INJECT);
	assert_int_equal(ev[0].sector, 8);
	free(ev);
	/* the socket's directory must let another user reach it */
	assert_int_equal(chmod(d.dir, 0711), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (!pid) {
		struct memfail_ctx *other;
		int ok;

		if (setresgid(65534, 65534, 65534) || setresuid(65534, 65534, 65534) ||
		    memfail_connect(d.sock, &other))
			_exit(2);
		struct memfail_badblock *lat;
		size_t nl;

		ok = memfail_latent_errors(other, "dax0.0", &lat, &nl) == -EPERM &&
		     memfail_monitor_start(other) == -EPERM &&
		     memfail_history(other, 0, 0, 0, &ev, &n) == -EPERM &&
		     memfail_scrub_start(other, NULL, 0, &s) == -EPERM &&
		     memfail_scrub_status(other, &s) == 0;
		_exit(ok ? 0 : 1);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

/* Before any scrub: idle, and every figure 0 (nothing from the daemon's stack). */
static void scrub_state_before_the_first(void **state)
{
	struct memfail_scrub s;

	(void)state;
	memset(&s, 0x5a, sizeof(s));
	assert_int_equal(memfail_scrub_status(ctx, &s), 0);
	assert_false(s.active);
	assert_false(s.cancelled);
	assert_int_equal(s.count, 0);
	assert_int_equal(s.done, 0);
	assert_int_equal(s.total, 0);
	assert_int_equal(s.found, 0);
	assert_int_equal(s.flags, 0);
	assert_string_equal(s.dev, "region0");
}

/* A monitoring context serves nothing else, and says so. */
static void monitor_context_is_only_a_monitor(void **state)
{
	struct memfail_event ev;
	int64_t v;

	(void)state;
	assert_int_equal(memfail_monitor_start(ctx), 0);
	assert_int_equal(memfail_config_get(ctx, "memory_failure_early_kill", &v), -EBUSY);
	assert_int_equal(memfail_monitor_next(ctx, &ev, 0), 0);
}

static void config_keys(void **state)
{
	int64_t v = -1;

	(void)state;
	assert_int_equal(memfail_config_get(ctx, "memory_failure_early_kill", &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(memfail_config_set(ctx, "memory_failure_early_kill", 1), 0);
	assert_int_equal(memfail_config_get(ctx, "memory_failure_early_kill", &v), 0);
	assert_int_equal(v, 1);
	assert_int_equal(memfail_config_get(ctx, "no_such_key", &v), -ENOENT);
	assert_int_equal(memfail_config_set(ctx, "memory_failure_early_kill", 7), -EINVAL);
	assert_int_equal(memfail_config_get(ctx, "memory_failure_early_kill", &v), 0);
	assert_int_equal(v, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(namespace_lookup, setup, teardown),
		cmocka_unit_test_setup_teardown(fsdax_calls, setup, teardown),
		cmocka_unit_test_setup_teardown(inject_rejects_unknown_flags, setup, teardown),
		cmocka_unit_test_setup_teardown(inject_past_the_end_changes_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(read_and_write_around_bad_sectors, setup, teardown),
		cmocka_unit_test_setup_teardown(inject_many_all_or_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(events_are_for_the_privileged, setup, teardown),
		cmocka_unit_test_setup_teardown(scrub_state_before_the_first, setup, teardown),
		cmocka_unit_test_setup_teardown(monitor_context_is_only_a_monitor, setup, teardown),
		cmocka_unit_test_setup_teardown(config_keys, setup, teardown),
	};

	return cmocka_run_group_tests_name("test-libmemfail", tests, NULL, NULL);
}
