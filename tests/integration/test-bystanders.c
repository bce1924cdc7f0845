// SPDX-License-Identifier: MIT
/*
 * Who else is signalled when a page is poisoned, under each profile.
 *
 * linux-6.12 (LINUX-FACTS.md, Device DAX): only early-kill mappers that
 * have the unit in their page tables get BUS_MCEERR_AO, at once, for the
 * unit's start; late or default-policy mappers get nothing; a process
 * that does not map the page gets nothing.  linux-4.19: every mapper that
 * has the page mapped gets AO for the exact page, whatever its policy.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

#define POISON_OFF 0x102000

struct fx {
	struct tdaemon d;
	struct actor p, b, other;
};

static struct fx fx;

static int start(void **state, const char *args)
{
	memset(&fx, 0, sizeof(fx));
	if (td_start(&fx.d, args))
		return -1;
	if (td_cli(&fx.d, NULL, 0, "create-namespace --size 1G --align 2M") ||
	    td_cli(&fx.d, NULL, 0, "create-namespace --size 1G --align 2M"))
		return -1;
	*state = &fx;
	return 0;
}

static int setup_612(void **state) { return start(state, ""); }
static int setup_612_early(void **state) { return start(state, "--early-kill 1"); }
static int setup_419(void **state) { return start(state, "--kernel linux-4.19"); }
static int setup_4190(void **state) { return start(state, "--kernel linux-4.19.0"); }

static int teardown(void **state)
{
	struct fx *f = *state;

	actor_kill(&f->p);
	actor_kill(&f->b);
	actor_kill(&f->other);
	td_destroy(&f->d);
	return 0;
}

/* an actor with 4 MiB of dax0.0 mapped; `fault` touches the poisoned page */
static void mapper(struct actor *a, const char *name, bool fault)
{
	assert_int_equal(actor_map(a, &fx.d, name, "/dev/dax0.0", 0x400000, -1), 0);
	if (fault)
		assert_true(reply_has(actor_cmd(a, "touch 0 %#x", POISON_OFF), "ok"));
}

static const char *poison(void)
{
	const char *r = actor_cmd(&fx.p, "madvise 0 %#x 4096 hwpoison", POISON_OFF);

	assert_non_null(r);
	assert_int_equal(reply_int(r, "ret", -9), 0);
	assert_int_equal(reply_int(r, "code", -1), 4);
	return r;
}

/* The process that maps nothing of dax0.0 is never signalled. */
static void check_other_quiet(void)
{
	assert_int_equal(reply_int(actor_cmd(&fx.other, "signals"), "n", -1), 0);
}

static void other_process(void)
{
	assert_int_equal(actor_start(&fx.other, &fx.d, "other"), 0);
	assert_true(reply_has(actor_cmd(&fx.other, "open /dev/dax0.1"), "ok"));
	assert_true(reply_has(actor_cmd(&fx.other, "mmap 0x400000 0"), "ok"));
	assert_true(reply_has(actor_cmd(&fx.other, "touch 0 %#x", POISON_OFF), "ok"));
}

static void late_bystander_untouched_612(void **state)
{
	const char *r;

	(void)state;
	mapper(&fx.b, "bystander", true);
	mapper(&fx.p, "poisoner", true);
	other_process();
	poison();
	/* default policy, early_kill 0: no signal, ever */
	assert_string_equal(actor_cmd(&fx.b, "wait-signal 500"), "timeout");
	check_other_quiet();
	assert_int_equal(td_log_count(&fx.d, "Sending SIGBUS to bystander"), 0);
	assert_int_equal(td_log_count(&fx.d, "Sending SIGBUS to poisoner"), 1);
	/* its mapping of the unit was zapped: refaults give the data back */
	r = actor_cmd(&fx.b, "touch 0 0x110000");
	assert_int_equal(reply_int(r, "value", -1), 0);
}

static void early_bystander_gets_ao_612(void **state)
{
	const char *r;

	(void)state;
	mapper(&fx.b, "bystander", true);
	assert_int_equal(reply_int(actor_cmd(&fx.b, "prctl set early"), "ret", -1), 0);
	assert_int_equal(reply_int(actor_cmd(&fx.b, "prctl get"), "ret", -1), 1);
	mapper(&fx.p, "poisoner", true);
	other_process();
	poison();
	r = actor_cmd(&fx.b, "wait-signal 3000");
	assert_true(reply_has(r, "signal"));
	assert_int_equal(reply_int(r, "code", -1), 5);
	assert_int_equal(reply_int(r, "addr_off", -1), 0);
	assert_int_equal(reply_int(r, "lsb", -1), 21);
	check_other_quiet();
	assert_int_equal(td_log_count(&fx.d, "Sending SIGBUS to bystander"), 1);
}

static void late_prctl_overrides_sysctl_612(void **state)
{
	const char *r;

	(void)state;
	/* daemon runs with memory_failure_early_kill=1 */
	mapper(&fx.b, "bystander", true);
	mapper(&fx.p, "poisoner", true);
	assert_int_equal(actor_start(&fx.other, &fx.d, "late"), 0);
	assert_true(reply_has(actor_cmd(&fx.other, "open /dev/dax0.0"), "ok"));
	assert_true(reply_has(actor_cmd(&fx.other, "mmap 0x400000 0"), "ok"));
	assert_true(reply_has(actor_cmd(&fx.other, "touch 0 %#x", POISON_OFF), "ok"));
	assert_int_equal(reply_int(actor_cmd(&fx.other, "prctl set late"), "ret", -1), 0);
	poison();
	/* no prctl: the sysctl makes it early */
	r = actor_cmd(&fx.b, "wait-signal 3000");
	assert_int_equal(reply_int(r, "code", -1), 5);
	/* PR_MCE_KILL_LATE beats the sysctl */
	assert_string_equal(actor_cmd(&fx.other, "wait-signal 500"), "timeout");
}

static void early_but_never_faulted_612(void **state)
{
	(void)state;
	/* maps the range, never touches the unit: not in its page tables */
	mapper(&fx.b, "bystander", false);
	assert_int_equal(reply_int(actor_cmd(&fx.b, "prctl set early"), "ret", -1), 0);
	assert_true(reply_has(actor_cmd(&fx.b, "touch 0 0x300000"), "ok"));
	mapper(&fx.p, "poisoner", true);
	poison();
	assert_string_equal(actor_cmd(&fx.b, "wait-signal 500"), "timeout");
}

/* TSan runs handlers when a thread next leaves a system call: a process
 * blocked in read() takes its AO late there.  Not for TSan runs. */
static bool tsan_run(void)
{
	return getenv("MF_TSAN") != NULL;
}

static void early_default_disposition_dies_612(void **state)
{
	(void)state;
	if (tsan_run()) {
		skip();
		return;
	}
	mapper(&fx.b, "bystander", true);
	assert_int_equal(reply_int(actor_cmd(&fx.b, "prctl set early"), "ret", -1), 0);
	assert_true(reply_has(actor_cmd(&fx.b, "handler none"), "ok"));
	mapper(&fx.p, "poisoner", true);
	poison();
	/* killed at injection time, before touching anything */
	assert_int_not_equal(actor_wait(&fx.b, 3000), -1);
	assert_true(actor_killed_by(&fx.b, SIGBUS));
	/* the poisoner and the daemon go on */
	assert_true(reply_has(actor_cmd(&fx.p, "touch 0 0x300000"), "ok"));
	assert_int_equal(td_cli(&fx.d, NULL, 0, "stats"), 0);
}

/*
 * send_sig_mceerr() to a process that ignores SIGBUS (set with signal(),
 * after the device was opened): the kernel logs the SIGBUS and drops it,
 * so nothing interrupts the process, not even a timed socket read, which
 * no SA_RESTART would resume.
 */
static void early_bystander_ignoring_sigbus_612(void **state)
{
	const char *r;

	(void)state;
	mapper(&fx.b, "bystander", true);
	assert_int_equal(reply_int(actor_cmd(&fx.b, "prctl set early"), "ret", -1), 0);
	assert_true(reply_has(actor_cmd(&fx.b, "handler signal-ignore"), "ok"));
	mapper(&fx.p, "poisoner", true);
	assert_int_equal(actor_send(&fx.b, "rcvwait 1500"), 0);
	usleep(300 * 1000);	/* let it block in the read */
	poison();
	r = actor_reply(&fx.b);
	assert_non_null(r);
	assert_int_equal(reply_int(r, "errno", -1), EAGAIN);
	assert_int_equal(reply_int(actor_cmd(&fx.b, "signals"), "n", -1), 0);
	assert_int_equal(td_log_count(&fx.d, "Sending SIGBUS to bystander"), 1);
	assert_true(reply_has(actor_cmd(&fx.b, "touch 0 0x300000"), "ok"));
}

static void early_thread_gets_ao_612(void **state)
{
	const char *r;
	long long tid;

	(void)state;
	mapper(&fx.b, "bystander", true);
	/* only one thread asks for early kill: the AO goes to that thread */
	assert_true(reply_has(actor_cmd(&fx.b, "thread prctl early"), "ok"));
	mapper(&fx.p, "poisoner", true);
	poison();
	r = actor_cmd(&fx.b, "wait-signal 3000");
	assert_int_equal(reply_int(r, "code", -1), 5);
	tid = reply_int(r, "tid", 0);
	assert_int_not_equal(tid, reply_int(actor_cmd(&fx.b, "pid"), "pid", 0));
	assert_int_equal(td_log_count(&fx.d, "Sending SIGBUS to bystander"), 1);
}

static void every_mapper_gets_ao_419(void **state)
{
	const char *r;

	(void)state;
	mapper(&fx.b, "bystander", true);
	/* even late kill: 4.19's dax path forces early kill */
	assert_int_equal(reply_int(actor_cmd(&fx.b, "prctl set late"), "ret", -1), 0);
	mapper(&fx.p, "poisoner", true);
	other_process();
	r = poison();
	/* 4.19: the exact page, not the unit */
	assert_int_equal(reply_int(r, "addr_off", -1), POISON_OFF);
	assert_int_equal(reply_int(r, "lsb", -1), 21);
	r = actor_cmd(&fx.b, "wait-signal 3000");
	assert_int_equal(reply_int(r, "code", -1), 5);
	assert_int_equal(reply_int(r, "addr_off", -1), POISON_OFF);
	assert_int_equal(reply_int(r, "lsb", -1), 21);
	check_other_quiet();
	assert_int_equal(td_log_count(&fx.d, "Killing bystander:"), 1);
	assert_int_equal(td_log_count(&fx.d, "Killing poisoner:"), 1);
	assert_int_equal(td_log_count(&fx.d, "Sending SIGBUS"), 0);
}

static void default_bystander_dies_419(void **state)
{
	(void)state;
	if (tsan_run()) {
		skip();
		return;
	}
	mapper(&fx.b, "bystander", true);
	assert_true(reply_has(actor_cmd(&fx.b, "handler none"), "ok"));
	mapper(&fx.p, "poisoner", true);
	poison();
	assert_int_not_equal(actor_wait(&fx.b, 3000), -1);
	assert_true(actor_killed_by(&fx.b, SIGBUS));
}

static void unfaulted_mapper_dropped_419(void **state)
{
	(void)state;
	/* 4.19.81+: a mapper without the page in its page tables is skipped */
	mapper(&fx.b, "bystander", false);
	mapper(&fx.p, "poisoner", true);
	poison();
	assert_string_equal(actor_cmd(&fx.b, "wait-signal 500"), "timeout");
	assert_int_equal(td_log_count(&fx.d, "Unable to find user space address"), 0);
	assert_int_equal(td_log_count(&fx.d, "forcibly killing"), 0);
}

static void unfaulted_mapper_killed_4190(void **state)
{
	(void)state;
	/* 4.19.0: the same mapper is SIGKILLed */
	mapper(&fx.b, "bystander", false);
	mapper(&fx.p, "poisoner", true);
	poison();
	assert_int_not_equal(actor_wait(&fx.b, 3000), -1);
	assert_true(actor_killed_by(&fx.b, SIGKILL));
	assert_int_equal(td_log_count(&fx.d, "Memory failure: Unable to find user space address 100102 in bystander"), 1);
	assert_int_equal(td_log_count(&fx.d, "forcibly killing bystander:"), 1);
}

static void madvise_twice_419_skips_poisoned(void **state)
{
	const char *r;

	(void)state;
	mapper(&fx.p, "poisoner", true);
	poison();
	/* 4.19's madvise skips a page already poisoned: no signal, rc 0 */
	r = actor_cmd(&fx.p, "madvise 0 %#x 4096 hwpoison", POISON_OFF);
	assert_int_equal(reply_int(r, "ret", -9), 0);
	assert_int_equal(reply_int(r, "during", -1), 0);
	assert_int_equal(td_log_count(&fx.d, "recovery action for dax page"), 1);
}

static void madvise_twice_612_runs_twice(void **state)
{
	const char *r;

	(void)state;
	mapper(&fx.p, "poisoner", true);
	poison();
	r = actor_cmd(&fx.p, "madvise 0 %#x 4096 hwpoison", POISON_OFF);
	assert_int_equal(reply_int(r, "during", -1), 1);
	r = actor_cmd(&fx.p, "madvise 0 0x110000 4096 hwpoison");
	assert_int_equal(reply_int(r, "during", -1), 1);
	assert_int_equal(reply_int(r, "addr_off", -1), 0);
	assert_int_equal(td_log_wait(&fx.d, "recovery action for dax page: Recovered", 3, 2000), 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(late_bystander_untouched_612, setup_612, teardown),
		cmocka_unit_test_setup_teardown(early_bystander_gets_ao_612, setup_612, teardown),
		cmocka_unit_test_setup_teardown(late_prctl_overrides_sysctl_612, setup_612_early, teardown),
		cmocka_unit_test_setup_teardown(early_but_never_faulted_612, setup_612, teardown),
		cmocka_unit_test_setup_teardown(early_default_disposition_dies_612, setup_612, teardown),
		cmocka_unit_test_setup_teardown(early_bystander_ignoring_sigbus_612, setup_612, teardown),
		cmocka_unit_test_setup_teardown(early_thread_gets_ao_612, setup_612, teardown),
		cmocka_unit_test_setup_teardown(madvise_twice_612_runs_twice, setup_612, teardown),
		cmocka_unit_test_setup_teardown(every_mapper_gets_ao_419, setup_419, teardown),
		cmocka_unit_test_setup_teardown(default_bystander_dies_419, setup_419, teardown),
		cmocka_unit_test_setup_teardown(unfaulted_mapper_dropped_419, setup_419, teardown),
		cmocka_unit_test_setup_teardown(madvise_twice_419_skips_poisoned, setup_419, teardown),
		cmocka_unit_test_setup_teardown(unfaulted_mapper_killed_4190, setup_4190, teardown),
	};

	return cmocka_run_group_tests_name("bystanders", tests, NULL, NULL);
}
