// SPDX-License-Identifier: MIT
/*
 * Processes as Linux has them: fork() children in the rmap, threads,
 * privilege (EPERM for madvise without the emulated CAP_SYS_ADMIN,
 * namespace permissions), partial munmap, and memfail run itself.
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
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

static struct tdaemon d;
static struct actor a, b;

static int setup(void **state)
{
	(void)state;
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	if (td_start(&d, ""))
		return -1;
	return td_cli(&d, NULL, 0, "create-namespace --size 64M --align 2M") ? -1 : 0;
}

static int teardown(void **state)
{
	(void)state;
	actor_kill(&a);
	actor_kill(&b);
	td_destroy(&d);
	return 0;
}


static void fork_child_is_a_mapper(void **state)
{
	char out[4096];
	const char *r;

	(void)state;
	assert_int_equal(actor_map(&a, &d, "parent", "/dev/dax0.0", 0x400000, 0x5a), 0);
	assert_true(reply_has(actor_cmd(&a, "fork"), "ok"));
	/* the child inherited the mapping and asks for early kill */
	assert_int_equal(reply_int(actor_cmd(&a, "child prctl set early"), "ret", -1), 0);
	assert_int_equal(reply_int(actor_cmd(&a, "child touch 0 0x102000"), "value", -1), 0x5a);
	assert_int_equal(td_cli(&d, out, sizeof(out), "list"), 0);
	assert_non_null(strstr(out, "\"mappings\":2"));
	assert_int_equal(actor_map(&b, &d, "poisoner", "/dev/dax0.0", 0x400000, 0x5a), 0);
	r = actor_cmd(&b, "madvise 0 0x102000 4096 hwpoison");
	assert_int_equal(reply_int(r, "code", -1), 4);
	r = actor_cmd(&a, "child wait-signal 3000");
	assert_true(reply_has(r, "signal"));
	assert_int_equal(reply_int(r, "code", -1), 5);
	/* the parent (default policy) got nothing, and its page is fenced too */
	assert_int_equal(reply_int(actor_cmd(&a, "signals"), "n", -1), 0);
	assert_true(reply_has(actor_cmd(&a, "touch 0 0x102000"), "sigbus"));
	assert_true(reply_has(actor_cmd(&a, "child touch 0 0x102000"), "sigbus"));
	/* a poison arriving after the fork reaches the child's mapping */
	assert_int_equal(td_cli(&d, NULL, 0, "inject-error dax0.0 --block 4096 --count 1"), 0);
	assert_true(reply_has(actor_cmd(&a, "child touch 0 0x200000"), "sigbus"));
}

static void threads_share_the_mapping(void **state)
{
	const char *r;

	(void)state;
	assert_int_equal(actor_map(&a, &d, "threads", "/dev/dax0.0", 0x400000, 0x5a), 0);
	assert_true(reply_has(actor_cmd(&a, "thread prctl late"), "ok"));
	assert_true(reply_has(actor_cmd(&a, "thread prctl early"), "ok"));
	assert_true(reply_has(actor_cmd(&a, "touch 0 0x102000"), "ok"));
	assert_int_equal(actor_map(&b, &d, "poisoner", "/dev/dax0.0", 0x400000, 0x5a), 0);
	assert_int_equal(reply_int(actor_cmd(&b, "madvise 0 0x102000 4096 hwpoison"), "code", -1), 4);
	/* the early thread, not the first one, gets the AO */
	r = actor_cmd(&a, "wait-signal 3000");
	assert_int_equal(reply_int(r, "code", -1), 5);
	assert_int_equal(td_log_count(&d, "Sending SIGBUS to threads:"), 1);
}

static void eperm_without_sys_admin(void **state)
{
	const char *r;

	(void)state;
	if (geteuid() != 0) {
		skip();
		return;
	}
	/* the namespace belongs to root; the mapper drops to nobody */
	assert_int_equal(actor_map(&a, &d, "dropper", "/dev/dax0.0", 0x400000, 0x5a), 0);
	assert_true(reply_has(actor_cmd(&a, "setuid 65534"), "ok"));
	r = actor_cmd(&a, "madvise 0 0x102000 4096 hwpoison");
	assert_int_equal(reply_int(r, "ret", 0), -1);
	assert_int_equal(reply_int(r, "errno", 0), 1);
	assert_int_equal(reply_int(r, "during", -1), 0);
	r = actor_cmd(&a, "madvise 0 0x102000 4096 soft_offline");
	assert_int_equal(reply_int(r, "errno", 0), 1);
	/* nothing was poisoned */
	assert_int_equal(reply_int(actor_cmd(&a, "touch 0 0x102000"), "value", -1), 0x5a);
	assert_int_equal(td_log_count(&d, "Injecting memory failure"), 0);
	/* a namespace of mode 0600 cannot be opened by nobody */
	assert_int_equal(reply_int(actor_cmd(&a, "open /dev/dax0.0"), "errno", 0), 13);
}

static void owner_may_poison_own_namespace(void **state)
{
	char out[4096];
	const char *r;

	(void)state;
	if (geteuid() != 0) {
		skip();
		return;
	}
	/* a namespace given to nobody: nobody is its CAP_SYS_ADMIN */
	assert_int_equal(td_cli(&d, out, sizeof(out),
				"create-namespace --size 8M --align 2M --uid 65534 --gid 65534"), 0);
	assert_int_equal(actor_start(&a, &d, "owner"), 0);
	assert_true(reply_has(actor_cmd(&a, "setuid 65534"), "ok"));
	assert_true(reply_has(actor_cmd(&a, "open /dev/dax0.1"), "ok"));
	assert_true(reply_has(actor_cmd(&a, "mmap 0x400000 0"), "ok"));
	r = actor_cmd(&a, "madvise 0 0x102000 4096 hwpoison");
	assert_int_equal(reply_int(r, "ret", -9), 0);
	assert_int_equal(reply_int(r, "code", -1), 4);
	/* but not root's namespace */
	assert_int_equal(reply_int(actor_cmd(&a, "open /dev/dax0.0"), "errno", 0), 13);
}

static void partial_munmap_keeps_the_rest(void **state)
{
	const char *r;

	(void)state;
	assert_int_equal(actor_map(&a, &d, "cutter", "/dev/dax0.0", 0x400000, 0x5a), 0);
	assert_int_equal(td_cli(&d, NULL, 0, "inject-error dax0.0 --block 6144 --count 1"), 0);
	/* drop the first unit; the poisoned page in the second stays fenced */
	assert_true(reply_has(actor_cmd(&a, "munmap 0 0 0x200000"), "ok"));
	r = actor_cmd(&a, "touch 0 0x300000");
	assert_true(reply_has(r, "sigbus"));
	assert_int_equal(reply_int(r, "addr_off", -1), 0x200000);
	assert_int_equal(reply_int(actor_cmd(&a, "touch 0 0x201000"), "value", -1), 0x5a);
	assert_int_equal(td_log_count(&d, "recovery action"), 1);
}

/*
 * With the shim's mapping table full, a munmap that would leave a piece
 * to track fails with ENOMEM and changes nothing (as a split past
 * vm.max_map_count does); one that needs no new piece still works.
 */
static void split_with_table_full_is_enomem(void **state)
{
	const char *r;
	int more;

	(void)state;
	assert_int_equal(actor_map(&a, &d, "hoarder", "/dev/dax0.0", 0x400000, 0x5a), 0);
	assert_true(reply_has(actor_cmd(&a, "mmap 0x200000 0x400000"), "ok"));
	r = actor_cmd(&a, "mapmany 5000 0x200000 0");
	more = (int)reply_int(r, "mapped", -1);
	assert_true(more > 100 && more < 5000);
	assert_int_equal(reply_int(r, "errno", -1), ENOMEM);
	assert_int_equal(reply_int(actor_cmd(&a, "munmap 0 0x200000 0x200000"), "errno", 0), ENOMEM);
	/* still mapped, still tracked: poison there is found */
	assert_int_equal(td_cli(&d, NULL, 0, "inject-error dax0.0 --block 6144 --count 1"), 0);
	assert_true(reply_has(actor_cmd(&a, "touch 0 0x300000"), "sigbus"));
	assert_int_equal(reply_int(actor_cmd(&a, "touch 0 0x201000"), "value", -1), 0x5a);
	/* a whole mapping goes, and then the cut has its slot */
	assert_true(reply_has(actor_cmd(&a, "munmap 1 0 0x200000"), "ok"));
	assert_true(reply_has(actor_cmd(&a, "munmap 0 0x200000 0x200000"), "ok"));
	assert_int_equal(reply_int(actor_cmd(&a, "touch 0 0x1000"), "value", -1), 0x5a);
}

static void fork_with_threads_does_not_hang(void **state)
{
	const char *r;

	(void)state;
	/* fork() while another thread is in the shim's fd table */
	assert_int_equal(actor_map(&a, &d, "forker", "/dev/dax0.0", 0x400000, -1), 0);
	r = actor_cmd(&a, "forkstress 300");
	assert_true(reply_has(r, "ok"));
	assert_int_equal(reply_int(r, "hung", -1), 0);
}

static void fork_while_a_thread_starts_does_not_hang(void **state)
{
	const char *r;

	(void)state;
	/* each fork() right after a pthread_create(): the child's fork
	 * handler starts a thread too, whatever the new one was doing */
	assert_int_equal(actor_map(&a, &d, "spawner", "/dev/dax0.0", 0x400000, -1), 0);
	r = actor_cmd(&a, "forkstress 100 spawn");
	assert_true(reply_has(r, "ok"));
	assert_int_equal(reply_int(r, "forks", -1), 100);
	assert_int_equal(reply_int(r, "hung", -1), 0);
}

static void ignored_segv_keeps_poison_handling(void **state)
{
	(void)state;
	/* a SIGSEGV sent (not a fault) while ignored changes nothing */
	assert_int_equal(actor_map(&a, &d, "ignorer", "/dev/dax0.0", 0x400000, -1), 0);
	assert_true(reply_has(actor_cmd(&a, "segv ignore"), "ok"));
	assert_true(reply_has(actor_cmd(&a, "raise 11"), "ok"));
	assert_true(reply_has(actor_cmd(&a, "handler none"), "ok"));
	assert_int_equal(td_cli(&d, NULL, 0, "inject-error dax0.0 --block 8 --count 1"), 0);
	/* the touch is a consumption: it dies of SIGBUS, as on Linux */
	assert_null(actor_cmd(&a, "touch 0 0x1000"));
	assert_true(actor_killed_by(&a, SIGBUS));
}

static void daemon_gone_device_gone(void **state)
{
	const char *r;

	(void)state;
	assert_int_equal(actor_map(&a, &d, "orphan", "/dev/dax0.0", 0x400000, 0x5a), 0);
	td_stop(&d);
	/* what is mapped stays mapped; a new mapping of the device fails as
	 * a device that went away does */
	assert_int_equal(reply_int(actor_cmd(&a, "touch 0 0x1000"), "value", -1), 0x5a);
	r = actor_cmd(&a, "mmap 0x200000 0");
	assert_int_equal(reply_int(r, "errno", 0), 19);
	r = actor_cmd(&a, "madvise 0 0x1000 4096 hwpoison");
	assert_int_equal(reply_int(r, "errno", 0), 5);
}

static int sh(const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	st = system(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void memfail_run_embedded(void **state)
{
	const char *m = build_path("memfail"), *act = build_path("tests/mfactor");

	(void)state;
	/* exit status passes through; death by signal reads as a shell's */
	assert_int_equal(sh("env -u MEMFAIL_SOCKET MEMFAIL_SOCKET=/nonexistent '%s' run -q -- sh -c 'exit 7'", m), 7);
	assert_int_equal(sh("MEMFAIL_SOCKET=/nonexistent '%s' run -q --namespace 4M "
			    "-- sh -c 'test \"$MEMFAIL_DAX\" = /dev/dax0.0 && printf \"open /dev/dax0.0\\nmmap 0x200000 0\\nhandler none\\nmadvise 0 0 4096 hwpoison\\n\" | %s' 2>/dev/null",
			    m, act), 128 + SIGBUS);
	/* a program that is not there */
	assert_int_equal(sh("MEMFAIL_SOCKET=/nonexistent '%s' run -q -- /nonexistent/prog 2>/dev/null", m), 127);
	/* bad options are usage errors */
	assert_int_equal(sh("'%s' run --namespace 3M -- true 2>/dev/null", m), 129);
	assert_int_equal(sh("'%s' run --kernel linux-9.9 -- true 2>/dev/null", m), 1);
}

static void memfail_run_uses_running_daemon(void **state)
{
	char out[4096];
	const char *m = build_path("memfail");

	(void)state;
	/* against our daemon: a namespace for the run, gone after it */
	assert_int_equal(sh("MEMFAIL_SOCKET='%s' '%s' run --namespace 4M -- sh -c "
			    "'test \"$MEMFAIL_DAX\" = /dev/dax0.1 && \"%s\" list | grep -q namespace0.1'",
			    d.sock, m, m), 0);
	assert_int_equal(td_cli(&d, out, sizeof(out), "list"), 0);
	assert_null(strstr(out, "namespace0.1"));
	/* one profile per daemon */
	assert_int_equal(sh("MEMFAIL_SOCKET='%s' '%s' run --kernel linux-4.19 -- true 2>/dev/null",
			    d.sock, m), 1);
}

static void memfail_run_fsdax_files_live_on(void **state)
{
	char out[4096];
	const char *m = build_path("memfail");

	(void)state;
	/* a running daemon keeps the fsdax namespace made for the run */
	assert_int_equal(sh("MEMFAIL_SOCKET='%s' '%s' run -q --namespace 64M,mode=fsdax --mount '%s/mnt' "
			    "-- sh -c 'echo kept > %s/mnt/f'", d.sock, m, d.dir, d.dir), 0);
	assert_int_equal(td_cli(&d, out, sizeof(out), "list"), 0);
	assert_non_null(strstr(out, "\"fsdax\""));
	/* --mount alone shows it again, its file as written */
	assert_int_equal(sh("MEMFAIL_SOCKET='%s' '%s' run -q --mount '%s/mnt' -- grep -qx kept %s/mnt/f",
			    d.sock, m, d.dir, d.dir), 0);
	/* the files were shown for the run only */
	assert_int_not_equal(access(strcat(strcpy(out, d.dir), "/mnt/f"), F_OK), 0);
	/* a run that never started its program keeps nothing */
	assert_int_equal(sh("MEMFAIL_SOCKET='%s' '%s' run -q --namespace 4M,mode=fsdax --mount /proc/nonexistent "
			    "-- true 2>/dev/null", d.sock, m), 1);
	assert_int_equal(td_cli(&d, out, sizeof(out), "list"), 0);
	assert_null(strstr(out, "namespace0.2"));
	assert_int_equal(td_cli(&d, NULL, 0, "destroy-namespace namespace0.1"), 0);
	assert_int_equal(sh("MEMFAIL_SOCKET='%s' '%s' run -q --mount '%s/mnt' -- true 2>/dev/null",
			    d.sock, m, d.dir), 1);
	/* an embedded daemon keeps it in --state-dir */
	assert_int_equal(sh("MEMFAIL_SOCKET=/nonexistent '%s' run -q -s '%s/st' --namespace 64M,mode=fsdax "
			    "--mount '%s/m2' -- sh -c 'echo again > %s/m2/g'", m, d.dir, d.dir, d.dir), 0);
	assert_int_equal(sh("MEMFAIL_SOCKET=/nonexistent '%s' run -q -s '%s/st' --mount '%s/m2' "
			    "-- grep -qx again %s/m2/g", m, d.dir, d.dir, d.dir), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(fork_child_is_a_mapper, setup, teardown),
		cmocka_unit_test_setup_teardown(threads_share_the_mapping, setup, teardown),
		cmocka_unit_test_setup_teardown(eperm_without_sys_admin, setup, teardown),
		cmocka_unit_test_setup_teardown(owner_may_poison_own_namespace, setup, teardown),
		cmocka_unit_test_setup_teardown(partial_munmap_keeps_the_rest, setup, teardown),
		cmocka_unit_test_setup_teardown(split_with_table_full_is_enomem, setup, teardown),
		cmocka_unit_test_setup_teardown(fork_with_threads_does_not_hang, setup, teardown),
		cmocka_unit_test_setup_teardown(fork_while_a_thread_starts_does_not_hang, setup, teardown),
		cmocka_unit_test_setup_teardown(ignored_segv_keeps_poison_handling, setup, teardown),
		cmocka_unit_test_setup_teardown(daemon_gone_device_gone, setup, teardown),
		cmocka_unit_test_setup_teardown(memfail_run_embedded, setup, teardown),
		cmocka_unit_test_setup_teardown(memfail_run_uses_running_daemon, setup, teardown),
		cmocka_unit_test_setup_teardown(memfail_run_fsdax_files_live_on, setup, teardown),
	};

	return cmocka_run_group_tests_name("process", tests, NULL, NULL);
}
