// SPDX-License-Identifier: MIT
/*
 * madvise(MADV_HWPOISON) and MADV_SOFT_OFFLINE on a devdax mapping, under
 * the linux-6.12 profile: the poisoner's BUS_MCEERR_AR arrives during the
 * call with the address and size Linux gives (LINUX-FACTS.md, "Device DAX").
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#define POISON_OFF 0x102000		/* 1 MiB + 8 KiB, as the oracle */

struct fx {
	struct tdaemon d;
	struct actor a;
};

static int setup(void **state)
{
	static struct fx fx;

	memset(&fx, 0, sizeof(fx));
	if (td_start(&fx.d, ""))
		return -1;
	*state = &fx;
	return 0;
}

static int teardown(void **state)
{
	struct fx *fx = *state;

	actor_kill(&fx->a);
	td_destroy(&fx->d);
	return 0;
}

/* create a namespace, open it in an actor, map len bytes and fill them */
static void map_ns(struct fx *fx, const char *align, const char *len)
{
	assert_int_equal(td_cli(&fx->d, NULL, 0,
				"create-namespace --size 4G --align %s --sparse", align), 0);
	assert_int_equal(actor_map(&fx->a, &fx->d, "poisoner", "/dev/dax0.0",
				   strtoull(len, NULL, 0), 0x5a), 0);
}

static void ar_during_madvise_2m(void **state)
{
	struct fx *fx = *state;
	const char *r;

	map_ns(fx, "2M", "0x400000");
	r = actor_cmd(&fx->a, "madvise 0 %#x 4096 hwpoison", POISON_OFF);
	assert_non_null(r);
	/* returns 0, AR came during the call, for the 2 MiB unit's start */
	assert_int_equal(reply_int(r, "ret", -9), 0);
	assert_int_equal(reply_int(r, "during", -1), 1);
	assert_int_equal(reply_int(r, "code", -1), 4);
	assert_int_equal(reply_int(r, "addr_off", -1), 0);
	assert_int_equal(reply_int(r, "lsb", -1), 21);
	assert_int_equal(td_log_wait(&fx->d, "recovery action for dax page: Recovered", 1, 2000), 1);
	assert_int_equal(td_log_count(&fx->d, "Injecting memory failure for pfn 0x100102 at process virtual address"), 1);
	assert_int_equal(td_log_count(&fx->d, "Memory failure: 0x100102: Sending SIGBUS to poisoner:"), 1);
}

static void ar_during_madvise_4k(void **state)
{
	struct fx *fx = *state;
	const char *r;

	map_ns(fx, "4K", "0x400000");
	r = actor_cmd(&fx->a, "madvise 0 %#x 4096 hwpoison", POISON_OFF);
	assert_int_equal(reply_int(r, "ret", -9), 0);
	assert_int_equal(reply_int(r, "code", -1), 4);
	assert_int_equal(reply_int(r, "addr_off", -1), POISON_OFF);
	assert_int_equal(reply_int(r, "lsb", -1), 12);
}

static void ar_during_madvise_1g(void **state)
{
	struct fx *fx = *state;
	const char *r;

	/* not observed on a real kernel (no 1G pages under QEMU): by the source */
	map_ns(fx, "1G", "0x80000000");
	r = actor_cmd(&fx->a, "madvise 0 0x40102000 4096 hwpoison");
	assert_int_equal(reply_int(r, "ret", -9), 0);
	assert_int_equal(reply_int(r, "code", -1), 4);
	assert_int_equal(reply_int(r, "addr_off", -1), 0x40000000);
	assert_int_equal(reply_int(r, "lsb", -1), 30);
	/* the whole 1 GiB unit was unmapped; its healthy pages map back */
	assert_int_equal(reply_int(actor_cmd(&fx->a, "touch 0 0x40000000"), "value", -1), 0x5a);
	assert_int_equal(reply_int(actor_cmd(&fx->a, "touch 0 0x7ffff000"), "value", -1), 0x5a);
	assert_true(reply_has(actor_cmd(&fx->a, "touch 0 0x40102000"), "sigbus"));
}

static void touch_after_poison_consumes_again(void **state)
{
	struct fx *fx = *state;
	char out[4096];
	const char *r;

	map_ns(fx, "2M", "0x400000");
	r = actor_cmd(&fx->a, "madvise 0 %#x 4096 hwpoison", POISON_OFF);
	assert_int_equal(reply_int(r, "during", -1), 1);
	/* the media is bad now: every touch is a consumption, a full run */
	r = actor_cmd(&fx->a, "touch 0 %#x", POISON_OFF + 16);
	assert_true(reply_has(r, "sigbus"));
	assert_int_equal(reply_int(r, "code", -1), 4);
	assert_int_equal(reply_int(r, "addr_off", -1), 0);
	assert_int_equal(reply_int(r, "lsb", -1), 21);
	r = actor_cmd(&fx->a, "touch 0 %#x", POISON_OFF);
	assert_true(reply_has(r, "sigbus"));
	/* healthy pages of the same unit and of the next one are fine */
	r = actor_cmd(&fx->a, "touch 0 0x110000");
	assert_true(reply_has(r, "ok"));
	assert_int_equal(reply_int(r, "value", -1), 0x5a);
	r = actor_cmd(&fx->a, "touch 0 0x300000");
	assert_int_equal(reply_int(r, "value", -1), 0x5a);
	r = actor_cmd(&fx->a, "scan 0");
	assert_int_equal(reply_int(r, "faulted", -1), 1);
	assert_int_equal(reply_int(r, "first", -1), POISON_OFF);
	assert_int_equal(td_log_wait(&fx->d, "recovery action for dax page: Recovered", 4, 2000), 4);
	assert_int_equal(td_cli(&fx->d, out, sizeof(out), "stats --text"), 0);
	assert_non_null(strstr(out, "total 4\n"));
	assert_non_null(strstr(out, "recovered 4\n"));
	assert_non_null(strstr(out, "HardwareCorrupted 16 kB"));
}

static void default_disposition_dies(void **state)
{
	struct fx *fx = *state;

	map_ns(fx, "2M", "0x400000");
	assert_true(reply_has(actor_cmd(&fx->a, "handler none"), "ok"));
	assert_null(actor_cmd(&fx->a, "madvise 0 %#x 4096 hwpoison", POISON_OFF));
	assert_true(actor_killed_by(&fx->a, SIGBUS));
}

static void blocked_or_ignored_ar_still_kills(void **state)
{
	struct fx *fx = *state;
	struct actor b;

	map_ns(fx, "2M", "0x400000");
	/* force_sig_mceerr(): blocked SIGBUS is unblocked and defaulted */
	assert_true(reply_has(actor_cmd(&fx->a, "handler block"), "ok"));
	assert_null(actor_cmd(&fx->a, "madvise 0 %#x 4096 hwpoison", POISON_OFF));
	assert_true(actor_killed_by(&fx->a, SIGBUS));

	assert_int_equal(actor_start(&b, &fx->d, "ignorer"), 0);
	assert_true(reply_has(actor_cmd(&b, "open /dev/dax0.0"), "ok"));
	assert_true(reply_has(actor_cmd(&b, "mmap 0x400000 0"), "ok"));
	assert_true(reply_has(actor_cmd(&b, "handler ignore"), "ok"));
	assert_null(actor_cmd(&b, "touch 0 %#x", POISON_OFF));
	assert_true(actor_killed_by(&b, SIGBUS));
}

static void soft_offline_is_eio(void **state)
{
	struct fx *fx = *state;
	char out[4096];
	const char *r;

	map_ns(fx, "2M", "0x400000");
	r = actor_cmd(&fx->a, "madvise 0 %#x 4096 soft_offline", POISON_OFF);
	assert_int_equal(reply_int(r, "ret", 0), -1);
	assert_int_equal(reply_int(r, "errno", 0), 5);
	assert_int_equal(reply_int(r, "during", -1), 0);
	r = actor_cmd(&fx->a, "touch 0 %#x", POISON_OFF);
	assert_int_equal(reply_int(r, "value", -1), 0x5a);
	assert_int_equal(td_log_wait(&fx->d, "Soft offlining pfn 0x100102 at process virtual address", 1, 2000), 1);
	assert_int_equal(td_cli(&fx->d, out, sizeof(out), "stats --text"), 0);
	assert_non_null(strstr(out, "total 0\n"));
}

/*
 * A range that runs past the device's end: the page before the end is
 * poisoned (AR for its unit) and the call still fails with EFAULT, as
 * the oracle showed for 6.12 (mpe probe: madvise over the last unit and
 * 2 MiB beyond it).
 */
static void madvise_past_the_end(void **state)
{
	struct fx *fx = *state;
	const char *r;

	assert_int_equal(td_cli(&fx->d, NULL, 0, "create-namespace --size 4M --align 2M"), 0);
	assert_int_equal(actor_start(&fx->a, &fx->d, "poisoner"), 0);
	assert_true(reply_has(actor_cmd(&fx->a, "open /dev/dax0.0"), "ok"));
	assert_true(reply_has(actor_cmd(&fx->a, "mmap 0x600000 0"), "ok"));
	assert_true(reply_has(actor_cmd(&fx->a, "store 0 0x202000 1"), "ok"));
	r = actor_cmd(&fx->a, "madvise 0 0x202000 0x400000 hwpoison");
	assert_int_equal(reply_int(r, "ret", -9), -1);
	assert_int_equal(reply_int(r, "errno", -1), 14);
	assert_int_equal(reply_int(r, "during", -1), 1);
	assert_int_equal(reply_int(r, "code", -1), 4);
	assert_int_equal(reply_int(r, "addr_off", -1), 0x200000);
	assert_int_equal(reply_int(r, "lsb", -1), 21);
	assert_int_equal(td_log_wait(&fx->d, "recovery action for dax page: Recovered", 1, 2000), 1);
	assert_int_equal(td_log_count(&fx->d, "Injecting memory failure for pfn 0x100202 at"), 1);
	/* the first unit was never touched by the call */
	assert_int_equal(reply_int(actor_cmd(&fx->a, "touch 0 0x1000"), "value", -1), 0);
}

static void mmap_rules(void **state)
{
	struct fx *fx = *state;
	char out[4096];
	const char *r;

	assert_int_equal(td_cli(&fx->d, out, sizeof(out), "create-namespace --size 1G --align 2M"), 0);
	assert_int_equal(actor_start(&fx->a, &fx->d, "mapper"), 0);
	assert_true(reply_has(actor_cmd(&fx->a, "open /dev/dax0.0"), "ok"));
	/* MAP_PRIVATE, unaligned offset, unaligned length, unaligned MAP_FIXED */
	assert_int_equal(reply_int(actor_cmd(&fx->a, "mmap 0x400000 0 private"), "errno", 0), 22);
	assert_int_equal(reply_int(actor_cmd(&fx->a, "mmap 0x200000 0x1000"), "errno", 0), 22);
	assert_int_equal(reply_int(actor_cmd(&fx->a, "mmap 0x1000 0"), "errno", 0), 22);
	assert_int_equal(reply_int(actor_cmd(&fx->a, "mmap 0x200000 0 fixed=0x7f0000100000"), "errno", 0), 22);
	/* a good one is aligned to the device, and MAP_SYNC is accepted */
	r = actor_cmd(&fx->a, "mmap 0x400000 0x200000 sync");
	assert_true(reply_has(r, "ok"));
	assert_true(reply_int(r, "align", 0) >= 21);
	/* a partial munmap must fall on the alignment too */
	assert_int_equal(reply_int(actor_cmd(&fx->a, "munmap 0 0x1000 0x1000"), "errno", 0), 22);
	assert_true(reply_has(actor_cmd(&fx->a, "munmap 0 0x200000 0x200000"), "ok"));
	/* read-only open: no writable mapping */
	assert_true(reply_has(actor_cmd(&fx->a, "open /dev/dax0.0 ro"), "ok"));
	assert_int_equal(reply_int(actor_cmd(&fx->a, "mmap 0x200000 0"), "errno", 0), 13);
	/* past the end of the device: mapped, and an access is a bus error */
	assert_true(reply_has(actor_cmd(&fx->a, "open /dev/dax0.0"), "ok"));
	r = actor_cmd(&fx->a, "mmap 0x200000 0x40000000");
	assert_true(reply_has(r, "ok"));
	r = actor_cmd(&fx->a, "touch %lld 0", reply_int(r, "idx", -1));
	assert_true(reply_has(r, "sigbus"));
	assert_int_equal(reply_int(r, "code", -1), 2);	/* BUS_ADRERR */
	/* no read or write file operations, through any call */
	assert_true(reply_has(actor_cmd(&fx->a, "open /dev/dax0.0 ro"), "ok"));
	assert_int_equal(reply_int(actor_cmd(&fx->a, "fdio read"), "errno", 0), 22);
	assert_int_equal(reply_int(actor_cmd(&fx->a, "fdio readv"), "errno", 0), 22);
	assert_int_equal(reply_int(actor_cmd(&fx->a, "fdio preadv"), "errno", 0), 22);
	assert_int_equal(reply_int(actor_cmd(&fx->a, "fdio sendfile"), "errno", 0), 22);
	/* write-only: opened, but not mapped (mmap needs read access) */
	assert_true(reply_has(actor_cmd(&fx->a, "open /dev/dax0.0 wo"), "ok"));
	assert_int_equal(reply_int(actor_cmd(&fx->a, "mmap 0x200000 0"), "errno", 0), 13);
	assert_int_equal(reply_int(actor_cmd(&fx->a, "fdio readv"), "errno", 0), 22);
	/* a device memfail does not have is not memfail's */
	assert_int_equal(reply_int(actor_cmd(&fx->a, "open /dev/dax0.7"), "errno", 0), 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(ar_during_madvise_2m, setup, teardown),
		cmocka_unit_test_setup_teardown(ar_during_madvise_4k, setup, teardown),
		cmocka_unit_test_setup_teardown(ar_during_madvise_1g, setup, teardown),
		cmocka_unit_test_setup_teardown(touch_after_poison_consumes_again, setup, teardown),
		cmocka_unit_test_setup_teardown(default_disposition_dies, setup, teardown),
		cmocka_unit_test_setup_teardown(blocked_or_ignored_ar_still_kills, setup, teardown),
		cmocka_unit_test_setup_teardown(soft_offline_is_eio, setup, teardown),
		cmocka_unit_test_setup_teardown(madvise_past_the_end, setup, teardown),
		cmocka_unit_test_setup_teardown(mmap_rules, setup, teardown),
	};

	return cmocka_run_group_tests_name("madvise", tests, NULL, NULL);
}
