// SPDX-License-Identifier: MIT
/*
 * A private anonymous page shared copy-on-write since fork(), poisoned
 * by one of the processes that share it.  Linux (6.12 and 6.1, the
 * conformance record's m3, m4, m6): it is one page; memory_failure()
 * unmaps it from every process that still has it (hwpoison entries in
 * each pagemap), the caller gets AR (6.12), an early-kill relative AO
 * with lsb 12 and the same address, a default-policy relative nothing
 * until its touch, which is AR.  A relative that wrote its copy has a
 * page of its own and is not affected; neither is a process of another
 * fork lineage whatever it has at the same address.
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

#include "harness.h"

static struct tdaemon d;
static struct actor a, b;

static int setup_612(void **state)
{
	(void)state;
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	return td_start(&d, "");
}

static int setup_61(void **state)
{
	(void)state;
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	return td_start(&d, "--kernel linux-6.1");
}

static int teardown(void **state)
{
	(void)state;
	actor_kill(&a);
	actor_kill(&b);
	td_destroy(&d);
	return 0;
}

/*
 * An actor with 16 pages of private anonymous memory filled with 0xce
 * and a forked child that has read page 2: both have it shared.  Each
 * reads its pagemap once, which registers it with memfaild (a child
 * that never uses anything memfail watches is not registered, see the
 * last test).
 */
static void forked_pair(const char *name, bool child_early)
{
	const char *r;

	assert_int_equal(actor_start(&a, &d, name), 0);
	assert_true(reply_has(actor_cmd(&a, "mapmem anon 0x10000"), "ok"));
	assert_true(reply_has(actor_cmd(&a, "fill 0 0xce"), "ok"));
	assert_true(reply_has(actor_cmd(&a, "fork"), "ok"));
	if (child_early)
		assert_int_equal(reply_int(actor_cmd(&a, "child prctl set early"), "ret", -1), 0);
	assert_int_equal(reply_int(actor_cmd(&a, "child touch 0 0x2000"), "value", -1), 0xce);
	r = actor_cmd(&a, "pm 0 0x2000");
	assert_int_equal(reply_int(r, "present", -1), 1);
	assert_int_equal(reply_int(r, "exclusive", -1), 0);
	r = actor_cmd(&a, "child pm 0 0x2000");
	assert_int_equal(reply_int(r, "present", -1), 1);
	assert_int_equal(reply_int(r, "exclusive", -1), 0);
}

/* the hwpoison entry of x's page 0:off: swap type 27 (6.12), pfn */
static void assert_hwpoison_entry(const char *r, int swp_type, long long pfn)
{
	assert_int_equal(reply_int(r, "present", -1), 0);
	assert_int_equal(reply_int(r, "swap", -1), 1);
	assert_int_equal(reply_int(r, "swp_type", -1), swp_type);
	assert_int_equal(reply_int(r, "swp_off", -1), pfn);
}

/* m3: the parent poisons; the default-policy child is only unmapped */
static void parent_poisons_default_child(void **state)
{
	long long pfn;
	const char *r;

	(void)state;
	forked_pair("cow", false);
	r = actor_cmd(&a, "madvise 0 0x2000 4096 hwpoison");
	assert_int_equal(reply_int(r, "ret", -9), 0);
	assert_int_equal(reply_int(r, "during", -1), 1);
	assert_int_equal(reply_int(r, "code", -1), 4);
	assert_int_equal(reply_int(r, "addr_off", -1), 0x2000);
	assert_int_equal(reply_int(r, "lsb", -1), 12);
	pfn = reply_int(actor_cmd(&a, "pm 0 0x2000"), "swp_off", -1);
	assert_true(pfn > 0);
	/* late kill: no signal, but the page is gone from the child too,
	 * with the same pfn in its hwpoison entry */
	assert_true(reply_has(actor_cmd(&a, "child wait-signal 500"), "timeout"));
	assert_hwpoison_entry(actor_cmd(&a, "child pm 0 0x2000"), 27, pfn);
	assert_int_equal(reply_int(actor_cmd(&a, "child kpf %lld", pfn), "hwpoison", -1), 1);
	r = actor_cmd(&a, "child touch 0 0x2000");
	assert_true(reply_has(r, "sigbus"));
	assert_int_equal(reply_int(r, "code", -1), 4);
	assert_int_equal(reply_int(r, "addr_off", -1), 0x2000);
	assert_int_equal(reply_int(r, "lsb", -1), 12);
	/* only that page */
	assert_int_equal(reply_int(actor_cmd(&a, "child touch 0 0x3000"), "value", -1), 0xce);
	assert_int_equal(reply_int(actor_cmd(&a, "child touch 0 0x1000"), "value", -1), 0xce);
	r = actor_cmd(&a, "touch 0 0x2000");
	assert_int_equal(reply_int(r, "code", -1), 4);
	assert_int_equal(td_log_count(&d, "Sending SIGBUS to cow:"), 1);
	assert_int_equal(td_log_count(&d, "recovery action for dirty LRU page: Recovered"), 1);
	assert_int_equal(td_log_count(&d, "MCE: Killing cow:"), 2);
	/* one page poisoned, not two */
	assert_int_equal(reply_int(actor_cmd(&a, "hc"), "kb", -1), 4);
}

/* m4: an early-kill child that has the page mapped gets AO at once */
static void early_child_gets_ao(void **state)
{
	long long pfn;
	const char *r;

	(void)state;
	forked_pair("cow", true);
	r = actor_cmd(&a, "madvise 0 0x2000 4096 hwpoison");
	assert_int_equal(reply_int(r, "code", -1), 4);
	pfn = reply_int(actor_cmd(&a, "pm 0 0x2000"), "swp_off", -1);
	r = actor_cmd(&a, "child wait-signal 3000");
	assert_true(reply_has(r, "signal"));
	assert_int_equal(reply_int(r, "code", -1), 5);
	assert_int_equal(reply_int(r, "addr_off", -1), 0x2000);
	assert_int_equal(reply_int(r, "lsb", -1), 12);
	assert_hwpoison_entry(actor_cmd(&a, "child pm 0 0x2000"), 27, pfn);
	r = actor_cmd(&a, "child touch 0 0x2000");
	assert_int_equal(reply_int(r, "code", -1), 4);
	assert_int_equal(reply_int(r, "addr_off", -1), 0x2000);
	assert_int_equal(reply_int(actor_cmd(&a, "child touch 0 0x3000"), "value", -1), 0xce);
	assert_int_equal(td_log_count(&d, "Sending SIGBUS to cow:"), 2);
}

/* m6: the child poisons; the parent loses the page too */
static void child_poisons_parent_touch_ar(void **state)
{
	long long pfn;
	const char *r;

	(void)state;
	forked_pair("cow", false);
	r = actor_cmd(&a, "child madvise 0 0x2000 4096 hwpoison");
	assert_int_equal(reply_int(r, "ret", -9), 0);
	assert_int_equal(reply_int(r, "code", -1), 4);
	assert_int_equal(reply_int(r, "addr_off", -1), 0x2000);
	assert_int_equal(reply_int(actor_cmd(&a, "child touch 0 0x2000"), "code", -1), 4);
	pfn = reply_int(actor_cmd(&a, "child pm 0 0x2000"), "swp_off", -1);
	assert_true(pfn > 0);
	assert_hwpoison_entry(actor_cmd(&a, "pm 0 0x2000"), 27, pfn);
	r = actor_cmd(&a, "touch 0 0x2000");
	assert_true(reply_has(r, "sigbus"));
	assert_int_equal(reply_int(r, "code", -1), 4);
	assert_int_equal(reply_int(r, "addr_off", -1), 0x2000);
	assert_int_equal(reply_int(r, "lsb", -1), 12);
	assert_int_equal(reply_int(actor_cmd(&a, "touch 0 0x3000"), "value", -1), 0xce);
	assert_int_equal(td_log_count(&d, "Sending SIGBUS to cow:"), 1);
}

/* the child wrote its copy before: a page of its own, unaffected */
static void child_wrote_its_copy(void **state)
{
	const char *r;

	(void)state;
	forked_pair("cow", true);
	assert_true(reply_has(actor_cmd(&a, "child store 0 0x2000 0x11"), "ok"));
	assert_int_equal(reply_int(actor_cmd(&a, "child pm 0 0x2000"), "exclusive", -1), 1);
	r = actor_cmd(&a, "madvise 0 0x2000 4096 hwpoison");
	assert_int_equal(reply_int(r, "code", -1), 4);
	assert_true(reply_has(actor_cmd(&a, "child wait-signal 500"), "timeout"));
	r = actor_cmd(&a, "child pm 0 0x2000");
	assert_int_equal(reply_int(r, "present", -1), 1);
	assert_int_equal(reply_int(r, "swap", -1), 0);
	assert_int_equal(reply_int(actor_cmd(&a, "child touch 0 0x2000"), "value", -1), 0x11);
	assert_int_equal(td_log_count(&d, "Sending SIGBUS to cow:"), 1);
}

/* the parent wrote its copy: the child keeps the page, which is now
 * its alone; the parent's poison is the parent's */
static void parent_wrote_its_copy(void **state)
{
	(void)state;
	forked_pair("cow", true);
	assert_true(reply_has(actor_cmd(&a, "store 0 0x2000 0x22"), "ok"));
	assert_int_equal(reply_int(actor_cmd(&a, "madvise 0 0x2000 4096 hwpoison"), "code", -1), 4);
	assert_true(reply_has(actor_cmd(&a, "child wait-signal 500"), "timeout"));
	assert_int_equal(reply_int(actor_cmd(&a, "child touch 0 0x2000"), "value", -1), 0xce);
}

/*
 * A process of another fork lineage with the same content at the same
 * address, itself shared with a child of its own (so that its pagemap
 * says "not exclusive" too): not the same page, not touched.
 */
static void unrelated_process_is_left_alone(void **state)
{
	unsigned long long addr;
	const char *r;

	(void)state;
	assert_int_equal(actor_start(&a, &d, "cow"), 0);
	addr = (unsigned long long)reply_int(actor_cmd(&a, "mapmem anon 0x10000"), "addr", 0);
	assert_true(addr != 0);
	assert_true(reply_has(actor_cmd(&a, "fill 0 0x5a"), "ok"));
	assert_true(reply_has(actor_cmd(&a, "fork"), "ok"));
	assert_int_equal(reply_int(actor_cmd(&a, "child prctl set early"), "ret", -1), 0);
	assert_int_equal(reply_int(actor_cmd(&a, "child pm 0 0x2000"), "exclusive", -1), 0);
	/* b: the same bytes at the same address, shared with its own child */
	assert_int_equal(actor_start(&b, &d, "other"), 0);
	r = actor_cmd(&b, "mapmem anon 0x10000 at=%#llx", addr);
	assert_int_equal((unsigned long long)reply_int(r, "addr", 0), addr);
	assert_true(reply_has(actor_cmd(&b, "fill 0 0x5a"), "ok"));
	assert_true(reply_has(actor_cmd(&b, "fork"), "ok"));
	assert_int_equal(reply_int(actor_cmd(&b, "prctl set early"), "ret", -1), 0);
	assert_int_equal(reply_int(actor_cmd(&b, "child prctl set early"), "ret", -1), 0);
	assert_int_equal(reply_int(actor_cmd(&b, "pm 0 0x2000"), "exclusive", -1), 0);
	assert_int_equal(reply_int(actor_cmd(&b, "child pm 0 0x2000"), "exclusive", -1), 0);
	/* a's own child is reached */
	assert_int_equal(reply_int(actor_cmd(&a, "madvise 0 0x2000 4096 hwpoison"), "code", -1), 4);
	r = actor_cmd(&a, "child wait-signal 3000");
	assert_int_equal(reply_int(r, "code", -1), 5);
	assert_int_equal(reply_int(r, "addr_off", -1), 0x2000);
	/* b and its child: no signal, their page intact */
	assert_true(reply_has(actor_cmd(&b, "wait-signal 500"), "timeout"));
	assert_true(reply_has(actor_cmd(&b, "child wait-signal 100"), "timeout"));
	assert_int_equal(reply_int(actor_cmd(&b, "pm 0 0x2000"), "present", -1), 1);
	assert_int_equal(reply_int(actor_cmd(&b, "child pm 0 0x2000"), "present", -1), 1);
	assert_int_equal(reply_int(actor_cmd(&b, "touch 0 0x2000"), "value", -1), 0x5a);
	assert_int_equal(reply_int(actor_cmd(&b, "child touch 0 0x2000"), "value", -1), 0x5a);
	assert_int_equal(td_log_count(&d, "Sending SIGBUS to other:"), 0);
	assert_int_equal(td_log_count(&d, "Sending SIGBUS to cow:"), 2);
}

/* 6.1: nothing during the call; the caller's and the relative's
 * touches are AR; an early-kill relative AO as on 6.12 */
static void profile_61_both_touches_ar(void **state)
{
	const char *r;

	(void)state;
	forked_pair("cow", true);
	r = actor_cmd(&a, "madvise 0 0x2000 4096 hwpoison");
	assert_int_equal(reply_int(r, "ret", -9), 0);
	assert_int_equal(reply_int(r, "during", -1), 0);
	r = actor_cmd(&a, "child wait-signal 3000");
	assert_int_equal(reply_int(r, "code", -1), 5);
	assert_int_equal(reply_int(r, "addr_off", -1), 0x2000);
	assert_int_equal(reply_int(actor_cmd(&a, "child pm 0 0x2000"), "swp_type", -1), 26);
	assert_int_equal(reply_int(actor_cmd(&a, "child touch 0 0x2000"), "code", -1), 4);
	assert_int_equal(reply_int(actor_cmd(&a, "touch 0 0x2000"), "code", -1), 4);
}

int main(void)
{
	const struct CMUnitTest t[] = {
		cmocka_unit_test_setup_teardown(parent_poisons_default_child, setup_612, teardown),
		cmocka_unit_test_setup_teardown(early_child_gets_ao, setup_612, teardown),
		cmocka_unit_test_setup_teardown(child_poisons_parent_touch_ar, setup_612, teardown),
		cmocka_unit_test_setup_teardown(child_wrote_its_copy, setup_612, teardown),
		cmocka_unit_test_setup_teardown(parent_wrote_its_copy, setup_612, teardown),
		cmocka_unit_test_setup_teardown(unrelated_process_is_left_alone, setup_612, teardown),
		cmocka_unit_test_setup_teardown(profile_61_both_touches_ar, setup_61, teardown),
	};

	return cmocka_run_group_tests(t, NULL, NULL);
}
