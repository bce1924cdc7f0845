// SPDX-License-Identifier: MIT
/*
 * Ordinary memory shared between processes, under the shim: a child
 * forked just before the poison, a shared page one process never faulted
 * (no hwpoison entry in its pagemap, yet the touch is AR), a shared page
 * poisoned before fork(), the hwpoison entry of a page unpoisoned since,
 * SysV segment 0, the pfn a soft-offlined page moves to, and 6.1's wording of a soft offline of a poisoned pfn.  The facts are
 * the oracle's (tests/conformance/mfmemcases.c, m1, m2, m15, m16, m23).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "harness.h"

static struct tdaemon d;
static struct actor a;

static int setup_612(void **state)
{
	(void)state;
	memset(&a, 0, sizeof(a));
	return td_start(&d, "");
}

static int setup_61(void **state)
{
	(void)state;
	memset(&a, 0, sizeof(a));
	return td_start(&d, "--kernel linux-6.1");
}

static int teardown(void **state)
{
	(void)state;
	actor_kill(&a);
	td_destroy(&d);
	return 0;
}

/*
 * On Linux the child maps what its parent maps as soon as fork() returns:
 * a page poisoned at once is unmapped in the child too.  The child has
 * said nothing to anyone when the poison comes, and looks much later.
 */
static void child_forked_just_before(void **state)
{
	const char *r;
	int i;

	(void)state;
	assert_int_equal(actor_start(&a, &d, "parent"), 0);
	for (i = 0; i < 3; i++) {
		assert_true(reply_has(actor_cmd(&a, "mapmem memfd 0x10000"), "ok"));
		assert_true(reply_has(actor_cmd(&a, "fill %d 0xce", i), "ok"));
		assert_true(reply_has(actor_cmd(&a, "fork"), "ok"));
		r = actor_cmd(&a, "madvise %d 0x2000 4096 hwpoison", i);
		assert_int_equal(reply_int(r, "ret", -9), 0);
		assert_true(reply_has(actor_cmd(&a, "child sleep 300"), "ok"));
		r = actor_cmd(&a, "child touch %d 0x2000", i);
		assert_int_equal(reply_int(r, "code", -1), 4);
		assert_int_equal(reply_int(actor_cmd(&a, "child touch %d 0x3000", i), "value", -1), 0xce);
		assert_true(reply_has(actor_cmd(&a, "child exit 0"), "dead"));
	}
}

/* try_to_unmap() puts a hwpoison entry only where the page was mapped */
static void untouched_shared_page_has_no_entry(void **state)
{
	const char *r;

	(void)state;
	assert_int_equal(actor_start(&a, &d, "parent"), 0);
	assert_true(reply_has(actor_cmd(&a, "mapmem anon-shared 0x10000"), "ok"));
	assert_true(reply_has(actor_cmd(&a, "fill 0 0xce"), "ok"));
	assert_true(reply_has(actor_cmd(&a, "fork"), "ok"));
	assert_int_equal(reply_int(actor_cmd(&a, "child prctl set early"), "ret", -1), 0);
	assert_int_equal(reply_int(actor_cmd(&a, "madvise 0 0x2000 4096 hwpoison"), "code", -1), 4);
	/* collect_procs_file(): the early-kill child gets its AO all the same */
	r = actor_cmd(&a, "child wait-signal 3000");
	assert_int_equal(reply_int(r, "code", -1), 5);
	r = actor_cmd(&a, "child pm 0 0x2000");
	assert_int_equal(reply_int(r, "present", -1), 0);
	assert_int_equal(reply_int(r, "swap", -1), 0);
	assert_int_equal(reply_int(r, "softdirty", -1), 1);
	/* the page is poisoned in its file: the fault finds it */
	assert_int_equal(reply_int(actor_cmd(&a, "child touch 0 0x2000"), "code", -1), 4);
	r = actor_cmd(&a, "child pm 0 0x2000");
	assert_int_equal(reply_int(r, "swap", -1), 0);
	/* the parent had it mapped: its entry */
	r = actor_cmd(&a, "pm 0 0x2000");
	assert_int_equal(reply_int(r, "swap", -1), 1);
	assert_int_equal(reply_int(r, "file", -1), 1);
}

/* fork() copies no page table of a shared mapping (vma_needs_copy()) */
static void shared_page_poisoned_before_fork(void **state)
{
	const char *r;

	(void)state;
	assert_int_equal(actor_start(&a, &d, "parent"), 0);
	assert_true(reply_has(actor_cmd(&a, "mapmem memfd 0x10000"), "ok"));
	assert_true(reply_has(actor_cmd(&a, "fill 0 0xce"), "ok"));
	assert_int_equal(reply_int(actor_cmd(&a, "madvise 0 0x2000 4096 hwpoison"), "code", -1), 4);
	assert_true(reply_has(actor_cmd(&a, "fork"), "ok"));
	r = actor_cmd(&a, "child pm 0 0x2000");
	assert_int_equal(reply_int(r, "swap", -1), 0);
	assert_int_equal(reply_int(actor_cmd(&a, "child touch 0 0x2000"), "code", -1), 4);
	assert_int_equal(reply_int(actor_cmd(&a, "child touch 0 0x3000"), "value", -1), 0xce);
	assert_int_equal(reply_int(actor_cmd(&a, "pm 0 0x2000"), "swap", -1), 1);
}

/* pagemap_pte_to_pme(): PM_FILE once the entry's page is not anonymous */
static void unpoisoned_entry_is_not_anonymous(void **state)
{
	const char *r;
	long long pfn;

	(void)state;
	assert_int_equal(actor_start(&a, &d, "anon"), 0);
	assert_true(reply_has(actor_cmd(&a, "mapmem anon 0x10000"), "ok"));
	assert_true(reply_has(actor_cmd(&a, "fill 0 0xce"), "ok"));
	pfn = reply_int(actor_cmd(&a, "pm 0 0x2000"), "pfn", -1);
	assert_true(pfn > 0);
	assert_int_equal(reply_int(actor_cmd(&a, "madvise 0 0x2000 4096 hwpoison"), "code", -1), 4);
	assert_int_equal(reply_int(actor_cmd(&a, "pm 0 0x2000"), "file", -1), 0);
	r = actor_cmd(&a, "fwrite /sys/kernel/debug/hwpoison/unpoison-pfn %#llx", pfn);
	assert_int_equal(reply_int(r, "errno", -1), 0);
	/* the entry stays, and so does the AR */
	r = actor_cmd(&a, "pm 0 0x2000");
	assert_int_equal(reply_int(r, "swap", -1), 1);
	assert_int_equal(reply_int(r, "file", -1), 1);
	assert_int_equal(reply_int(r, "swp_off", -1), pfn);
	assert_int_equal(reply_int(actor_cmd(&a, "touch 0 0x2000"), "code", -1), 4);
}

/* SysV shm is shmem; a segment's inode in maps is its id, 0 the first */
static void sysv_segment_zero(void **state)
{
	const char *r;

	(void)state;
	assert_int_equal(actor_start(&a, &d, "sysv"), 0);
	r = actor_cmd(&a, "unshare-ipc");
	if (reply_int(r, "ret", -1) != 0)
		skip();		/* needs CAP_SYS_ADMIN */
	assert_true(reply_has(actor_cmd(&a, "mapmem sysv 0x10000"), "ok"));
	assert_true(reply_has(actor_cmd(&a, "fill 0 0xce"), "ok"));
	r = actor_cmd(&a, "madvise 0 0x2000 4096 hwpoison");
	assert_int_equal(reply_int(r, "ret", -9), 0);
	assert_int_equal(reply_int(r, "code", -1), 4);
	assert_int_equal(reply_int(actor_cmd(&a, "touch 0 0x2000"), "code", -1), 4);
	assert_int_equal(reply_int(actor_cmd(&a, "touch 0 0x3000"), "value", -1), 0xce);
	r = actor_cmd(&a, "pm 0 0x2000");
	assert_int_equal(reply_int(r, "swap", -1), 1);
	assert_int_equal(reply_int(r, "file", -1), 1);
}

/* soft offline allocates the migration target as the page moves: the
 * old pfn, unpoisoned afterwards, is not the page's */
static void soft_offline_target_is_taken_at_once(void **state)
{
	long long pfn, moved;

	(void)state;
	assert_int_equal(actor_start(&a, &d, "mover"), 0);
	assert_true(reply_has(actor_cmd(&a, "mapmem anon 0x10000"), "ok"));
	assert_true(reply_has(actor_cmd(&a, "fill 0 0xce"), "ok"));
	pfn = reply_int(actor_cmd(&a, "pm 0 0x2000"), "pfn", -1);
	assert_true(pfn > 0);
	assert_int_equal(reply_int(actor_cmd(&a, "madvise 0 0x2000 4096 soft_offline"), "ret", -9), 0);
	assert_int_equal(reply_int(actor_cmd(&a, "fwrite /sys/kernel/debug/hwpoison/unpoison-pfn %#llx",
					     pfn), "errno", -1), 0);
	moved = reply_int(actor_cmd(&a, "pm 0 0x2000"), "pfn", -1);
	assert_true(moved > 0);
	assert_true(moved != pfn);
	assert_int_equal(reply_int(actor_cmd(&a, "touch 0 0x2000"), "value", -1), 0xce);
	/* and the sysfs file moves it again, to a third */
	assert_int_equal(reply_int(actor_cmd(&a, "fwrite /sys/devices/system/memory/soft_offline_page %#llx",
					     moved << 12), "errno", -1), 0);
	assert_int_equal(reply_int(actor_cmd(&a, "fwrite /sys/kernel/debug/hwpoison/unpoison-pfn %#llx",
					     moved), "errno", -1), 0);
	pfn = reply_int(actor_cmd(&a, "pm 0 0x2000"), "pfn", -1);
	assert_true(pfn > 0);
	assert_true(pfn != moved);
}

/* before 6.11: "soft_offline_page: %#lx page already poisoned" */
static void profile_61_soft_offline_wording(void **state)
{
	const char *r;
	long long pfn;

	(void)state;
	assert_int_equal(actor_start(&a, &d, "old"), 0);
	assert_true(reply_has(actor_cmd(&a, "mapmem anon 0x10000"), "ok"));
	assert_true(reply_has(actor_cmd(&a, "fill 0 0xce"), "ok"));
	pfn = reply_int(actor_cmd(&a, "pm 0 0x2000"), "pfn", -1);
	assert_true(pfn > 0);
	r = actor_cmd(&a, "fwrite /sys/devices/system/memory/soft_offline_page %#llx", pfn << 12);
	assert_int_equal(reply_int(r, "errno", -1), 0);
	r = actor_cmd(&a, "fwrite /sys/devices/system/memory/soft_offline_page %#llx", pfn << 12);
	assert_int_equal(reply_int(r, "errno", -1), 0);
	assert_int_equal(td_log_count(&d, "soft_offline_page: "), 1);
	assert_int_equal(td_log_count(&d, "page already poisoned"), 1);
	assert_int_equal(td_log_count(&d, "Soft offline: "), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(child_forked_just_before, setup_612, teardown),
		cmocka_unit_test_setup_teardown(untouched_shared_page_has_no_entry, setup_612, teardown),
		cmocka_unit_test_setup_teardown(shared_page_poisoned_before_fork, setup_612, teardown),
		cmocka_unit_test_setup_teardown(unpoisoned_entry_is_not_anonymous, setup_612, teardown),
		cmocka_unit_test_setup_teardown(sysv_segment_zero, setup_612, teardown),
		cmocka_unit_test_setup_teardown(soft_offline_target_is_taken_at_once, setup_612, teardown),
		cmocka_unit_test_setup_teardown(profile_61_soft_offline_wording, setup_61, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
