// SPDX-License-Identifier: MIT
/*
 * Ordinary memory under the shim: madvise(MADV_HWPOISON) and
 * MADV_SOFT_OFFLINE of every kind of memory a program has, what later
 * accesses, reads and fsync() give, what /proc/self/pagemap,
 * /proc/kpageflags and /proc/meminfo say, other processes that share the
 * page, and the profiles' differences.  The facts are LINUX-FACTS.md's
 * (ordinary memory) and the oracle's record.
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
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

static struct tdaemon d;
static struct actor a, b;
static char dir[64];

static int start(const char *args)
{
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	return td_start(&d, args);
}

static int setup_612(void **state)
{
	(void)state;
	return start("");
}

static int setup_61(void **state)
{
	(void)state;
	return start("--kernel linux-6.1");
}

static int setup_419(void **state)
{
	(void)state;
	return start("--kernel linux-4.19");
}

static int teardown(void **state)
{
	(void)state;
	actor_kill(&a);
	actor_kill(&b);
	td_destroy(&d);
	return 0;
}

/* HardwareCorrupted as the actor reads it from /proc/meminfo */
static long hc(struct actor *x)
{
	return (long)reply_int(actor_cmd(x, "hc"), "kb", -1);
}

static long long pfn_at(struct actor *x, int idx, const char *off)
{
	return reply_int(actor_cmd(x, "pm %d %s", idx, off), "pfn", -1);
}

static void anon_private(void **state)
{
	const char *r;
	long long pfn;
	long hc0;

	(void)state;
	assert_int_equal(actor_start(&a, &d, "anon"), 0);
	assert_true(reply_has(actor_cmd(&a, "mapmem anon 0x400000"), "ok"));
	assert_true(reply_has(actor_cmd(&a, "fill 0 0xce"), "ok"));
	pfn = pfn_at(&a, 0, "0x102000");
	assert_true(pfn > 0);
	hc0 = hc(&a);
	/* 6.12: AR during madvise, lsb 12, the exact page; madvise returns 0 */
	r = actor_cmd(&a, "madvise 0 0x102000 4096 hwpoison");
	assert_int_equal(reply_int(r, "ret", -9), 0);
	assert_int_equal(reply_int(r, "during", -1), 1);
	assert_int_equal(reply_int(r, "code", -1), 4);
	assert_int_equal(reply_int(r, "addr_off", -1), 0x102000);
	assert_int_equal(reply_int(r, "lsb", -1), 12);
	/* every later access: AR again; the other pages are intact */
	r = actor_cmd(&a, "touch 0 0x102000");
	assert_true(reply_has(r, "sigbus"));
	assert_int_equal(reply_int(r, "code", -1), 4);
	assert_int_equal(reply_int(r, "lsb", -1), 12);
	assert_true(reply_has(actor_cmd(&a, "store 0 0x102000 1"), "sigbus"));
	assert_int_equal(reply_int(actor_cmd(&a, "touch 0 0x103000"), "value", -1), 0xce);
	assert_int_equal(reply_int(actor_cmd(&a, "touch 0 0x101000"), "value", -1), 0xce);
	/* the hwpoison entry: swapped, type SWP_HWPOISON, the old pfn */
	r = actor_cmd(&a, "pm 0 0x102000");
	assert_int_equal(reply_int(r, "present", -1), 0);
	assert_int_equal(reply_int(r, "swap", -1), 1);
	assert_int_equal(reply_int(r, "swp_type", -1), 27);
	assert_int_equal(reply_int(r, "swp_off", -1), pfn);
	assert_int_equal(hc(&a), hc0 + 4);
	assert_int_equal(reply_int(actor_cmd(&a, "kpf %lld", pfn), "hwpoison", -1), 1);
	/* the kernel's words */
	assert_int_equal(td_log_count(&d, "Injecting memory failure for pfn"), 1);
	assert_int_equal(td_log_count(&d, "Sending SIGBUS to anon:"), 1);
	assert_int_equal(td_log_count(&d, "recovery action for dirty LRU page: Recovered"), 1);
	assert_int_equal(td_log_count(&d, "MCE: Killing anon:"), 2);
	/* unpoison-pfn: the flag and the count go */
	r = actor_cmd(&a, "fwrite /sys/kernel/debug/hwpoison/unpoison-pfn %#llx", pfn);
	assert_true(reply_int(r, "ret", -1) > 0);
	assert_int_equal(reply_int(actor_cmd(&a, "kpf %lld", pfn), "hwpoison", -1), 0);
	assert_int_equal(hc(&a), hc0);
	/* again: it was unpoisoned already */
	r = actor_cmd(&a, "fwrite /sys/kernel/debug/hwpoison/unpoison-pfn %#llx", pfn);
	assert_int_equal(reply_int(r, "errno", -1), EBUSY);
}

static void node_counters(void **state)
{
	char line[64];

	(void)state;
	assert_int_equal(actor_start(&a, &d, "counters"), 0);
	assert_true(reply_has(actor_cmd(&a, "mapmem anon 0x10000"), "ok"));
	assert_true(reply_has(actor_cmd(&a, "fill 0 1"), "ok"));
	assert_true(reply_has(actor_cmd(&a, "madvise 0 0 4096 hwpoison"), "ok"));
	assert_true(reply_has(actor_cmd(&a, "madvise 0 0x1000 4096 soft_offline"), "ok"));
	snprintf(line, sizeof(line), "ok text=1");
	assert_string_equal(actor_cmd(&a, "fcat /sys/devices/system/node/node0/memory_failure/total"), line);
	assert_string_equal(actor_cmd(&a, "fcat /sys/devices/system/node/node0/memory_failure/recovered"), line);
	assert_string_equal(actor_cmd(&a, "fcat /sys/devices/system/node/node0/memory_failure/failed"),
			    "ok text=0");
	/* soft offline: counted in HardwareCorrupted, not by memory_failure */
	assert_int_equal(hc(&a), 8);
}

static void soft_offline_moves_the_page(void **state)
{
	long long pfn;
	const char *r;

	(void)state;
	assert_int_equal(actor_start(&a, &d, "soft"), 0);
	assert_true(reply_has(actor_cmd(&a, "mapmem anon 0x10000"), "ok"));
	assert_true(reply_has(actor_cmd(&a, "fill 0 0xce"), "ok"));
	pfn = pfn_at(&a, 0, "0x2000");
	r = actor_cmd(&a, "madvise 0 0x2000 4096 soft_offline");
	assert_int_equal(reply_int(r, "ret", -9), 0);
	assert_int_equal(reply_int(r, "during", -1), 0);
	/* the content is intact, on a new page */
	assert_int_equal(reply_int(actor_cmd(&a, "touch 0 0x2000"), "value", -1), 0xce);
	assert_true(pfn_at(&a, 0, "0x2000") != pfn);
	assert_true(pfn_at(&a, 0, "0x2000") > 0);
	assert_int_equal(reply_int(actor_cmd(&a, "kpf %lld", pfn), "hwpoison", -1), 1);
	assert_int_equal(hc(&a), 4);
	assert_int_equal(td_log_count(&d, "Soft offlining pfn"), 1);
	assert_int_equal(td_log_count(&d, "recovery action"), 0);
	/* vm.enable_soft_offline=0 (6.11+): EOPNOTSUPP */
	assert_true(reply_int(actor_cmd(&a, "fwrite /proc/sys/vm/enable_soft_offline 0"), "ret", -1) > 0);
	r = actor_cmd(&a, "madvise 0 0x3000 4096 soft_offline");
	assert_int_equal(reply_int(r, "errno", -1), EOPNOTSUPP);
}

static void shared_with_a_child(void **state)
{
	const char *r;

	(void)state;
	assert_int_equal(actor_start(&a, &d, "parent"), 0);
	assert_true(reply_has(actor_cmd(&a, "mapmem anon-shared 0x10000"), "ok"));
	assert_true(reply_has(actor_cmd(&a, "fill 0 0xce"), "ok"));
	assert_true(reply_has(actor_cmd(&a, "fork"), "ok"));
	assert_int_equal(reply_int(actor_cmd(&a, "child prctl set early"), "ret", -1), 0);
	assert_int_equal(reply_int(actor_cmd(&a, "child touch 0 0x2000"), "value", -1), 0xce);
	r = actor_cmd(&a, "madvise 0 0x2000 4096 hwpoison");
	assert_int_equal(reply_int(r, "code", -1), 4);
	/* the early-kill child that had it mapped: AO, the same page */
	r = actor_cmd(&a, "child wait-signal 3000");
	assert_true(reply_has(r, "signal"));
	assert_int_equal(reply_int(r, "code", -1), 5);
	assert_int_equal(reply_int(r, "addr_off", -1), 0x2000);
	assert_int_equal(reply_int(r, "lsb", -1), 12);
	/* and its mapping is unmapped too: a touch is AR */
	assert_int_equal(reply_int(actor_cmd(&a, "child touch 0 0x2000"), "code", -1), 4);
	assert_int_equal(reply_int(actor_cmd(&a, "child touch 0 0x3000"), "value", -1), 0xce);
	/* the child's pagemap shows the same hwpoison entry */
	r = actor_cmd(&a, "child pm 0 0x2000");
	assert_int_equal(reply_int(r, "swap", -1), 1);
	assert_int_equal(reply_int(r, "file", -1), 1);
	assert_int_equal(td_log_count(&d, "Sending SIGBUS to parent:"), 2);
}

static void late_child_is_only_unmapped(void **state)
{
	const char *r;

	(void)state;
	assert_int_equal(actor_start(&a, &d, "parent"), 0);
	assert_true(reply_has(actor_cmd(&a, "mapmem memfd 0x10000"), "ok"));
	assert_true(reply_has(actor_cmd(&a, "fill 0 0xce"), "ok"));
	assert_true(reply_has(actor_cmd(&a, "fork"), "ok"));
	assert_int_equal(reply_int(actor_cmd(&a, "child touch 0 0x2000"), "value", -1), 0xce);
	assert_int_equal(reply_int(actor_cmd(&a, "madvise 0 0x2000 4096 hwpoison"), "code", -1), 4);
	assert_true(reply_has(actor_cmd(&a, "child wait-signal 500"), "timeout"));
	assert_int_equal(reply_int(actor_cmd(&a, "child touch 0 0x2000"), "code", -1), 4);
	/* shmem keeps the poisoned page: read() stops short of it, fails on it */
	r = actor_cmd(&a, "pread 0 0x2000 4096");
	assert_int_equal(reply_int(r, "errno", -1), EIO);
	r = actor_cmd(&a, "pread 0 0x1000 8192");
	assert_int_equal(reply_int(r, "ret", -1), 4096);
	assert_int_equal(reply_int(actor_cmd(&a, "pread 0 0x3000 4096"), "ret", -1), 4096);
	assert_int_equal(td_log_count(&d, "Sending SIGBUS"), 1);
}

/* memory_failure() unmaps the page from every mapping, however many:
 * the daemon's reply has room for 16 of them, the fence is for all */
static void many_mappings_are_all_fenced(void **state)
{
	const char *r;

	(void)state;
	assert_int_equal(actor_start(&a, &d, "many"), 0);
	assert_true(reply_has(actor_cmd(&a, "mapmem memfd 0x10000"), "ok"));
	assert_true(reply_has(actor_cmd(&a, "fill 0 0xce"), "ok"));
	assert_int_equal(reply_int(actor_cmd(&a, "mapsame 0 23"), "mapped", -1), 23);
	assert_int_equal(reply_int(actor_cmd(&a, "touchsame 0x2000"), "faulted", -1), 0);
	assert_int_equal(reply_int(actor_cmd(&a, "madvise 0 0x2000 4096 hwpoison"), "code", -1), 4);
	/* all 24 mappings: AR; the other pages intact */
	assert_int_equal(reply_int(actor_cmd(&a, "touch 0 0x2000"), "code", -1), 4);
	r = actor_cmd(&a, "touchsame 0x2000");
	assert_int_equal(reply_int(r, "maps", -1), 23);
	assert_int_equal(reply_int(r, "faulted", -1), 23);
	assert_int_equal(reply_int(actor_cmd(&a, "touchsame 0x3000"), "faulted", -1), 0);
	/* and a 25th, made after: the page is poisoned in its file */
	assert_int_equal(reply_int(actor_cmd(&a, "mapsame 0 1"), "mapped", -1), 1);
	assert_int_equal(reply_int(actor_cmd(&a, "touchsame 0x2000"), "faulted", -1), 24);
}

/*
 * Once a file anywhere has a poisoned page, read() and write() of every
 * process look it up: a process that only reads files is not made one
 * the daemon must ask about every page (no service thread), and still
 * sees what the file has.  An O_APPEND write is at the file's end.
 */
static void file_io_does_not_register(void **state)
{
	char path[128], cmd[192];
	const char *r;
	FILE *f;
	long long fd;

	(void)state;
	snprintf(path, sizeof(path), "%s/plain", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("plain text\n", f);
	fclose(f);
	assert_int_equal(actor_start(&a, &d, "poisoner"), 0);
	/* a file whose last page, with the end of the file in it, is poisoned */
	assert_true(reply_has(actor_cmd(&a, "mapmem memfd 0x10800"), "ok"));
	assert_true(reply_has(actor_cmd(&a, "fill 0 0xce"), "ok"));
	assert_int_equal(reply_int(actor_cmd(&a, "madvise 0 0x10000 4096 hwpoison"), "code", -1), 4);
	fd = reply_int(actor_cmd(&a, "mapfd 0"), "fd", -1);
	assert_true(fd >= 0);

	assert_int_equal(actor_start(&b, &d, "reader"), 0);
	assert_int_equal(reply_int(actor_cmd(&b, "readfile %s", path), "total", -1), 11);
	assert_int_equal(reply_int(actor_cmd(&b, "svc"), "svc", -1), 0);
	/* the poisoned file, through its /proc name: stops short, then EIO */
	snprintf(cmd, sizeof(cmd), "readfile /proc/%d/fd/%lld", (int)a.pid, fd);
	r = actor_cmd(&b, "%s", cmd);
	assert_int_equal(reply_int(r, "total", -1), 0x10000);
	assert_int_equal(reply_int(r, "errno", -1), EIO);
	assert_int_equal(reply_int(actor_cmd(&b, "svc"), "svc", -1), 0);
	/* the end of the file is in the poisoned page */
	snprintf(cmd, sizeof(cmd), "appendfile /proc/%d/fd/%lld x", (int)a.pid, fd);
	r = actor_cmd(&b, "%s", cmd);
	assert_int_equal(reply_int(r, "ret", 0), -1);
	assert_int_equal(reply_int(r, "errno", -1), EIO);
	unlink(path);
}

static void clean_page_cache_is_dropped(void **state)
{
	char path[128];
	long long pfn;
	const char *r;

	(void)state;
	snprintf(path, sizeof(path), "%s/clean", dir);
	assert_int_equal(actor_start(&a, &d, "clean"), 0);
	assert_true(reply_has(actor_cmd(&a, "mapmem file 0x10000 %s", path), "ok"));
	assert_true(reply_has(actor_cmd(&a, "fill 0 0xce"), "ok"));
	assert_int_equal(reply_int(actor_cmd(&a, "fsync 0"), "ret", -1), 0);
	pfn = pfn_at(&a, 0, "0x2000");
	r = actor_cmd(&a, "madvise 0 0x2000 4096 hwpoison");
	assert_int_equal(reply_int(r, "ret", -9), 0);
	assert_int_equal(reply_int(r, "during", -1), 0);
	/* read back from the file, intact, on a new page */
	assert_int_equal(reply_int(actor_cmd(&a, "touch 0 0x2000"), "value", -1), 0xce);
	assert_true(pfn_at(&a, 0, "0x2000") != pfn);
	assert_int_equal(reply_int(actor_cmd(&a, "pread 0 0x2000 4096"), "first", -1), 0xce);
	assert_int_equal(td_log_count(&d, "corrupted page was clean: dropped without side effects"), 1);
	assert_int_equal(td_log_count(&d, "recovery action for clean LRU page: Recovered"), 1);
	assert_int_equal(hc(&a), 4);
}

static void dirty_page_cache_fails_fsync_once(void **state)
{
	char path[128];
	const char *r;

	(void)state;
	snprintf(path, sizeof(path), "%s/dirty", dir);
	assert_int_equal(actor_start(&a, &d, "dirty"), 0);
	assert_true(reply_has(actor_cmd(&a, "mapmem file 0x10000 %s", path), "ok"));
	assert_true(reply_has(actor_cmd(&a, "fill 0 0xce"), "ok"));
	r = actor_cmd(&a, "madvise 0 0x2000 4096 hwpoison");
	assert_int_equal(reply_int(r, "code", -1), 4);
	assert_int_equal(reply_int(actor_cmd(&a, "touch 0 0x2000"), "code", -1), 4);
	/* the error reaches fsync() once */
	r = actor_cmd(&a, "fsync 0");
	assert_int_equal(reply_int(r, "ret", 0), -1);
	assert_int_equal(reply_int(r, "errno", -1), EIO);
	assert_int_equal(reply_int(actor_cmd(&a, "fsync 0"), "ret", -1), 0);
	/* the file reads from disk again */
	assert_int_equal(reply_int(actor_cmd(&a, "pread 0 0x2000 4096"), "ret", -1), 4096);
	assert_int_equal(td_log_count(&d, "recovery action for dirty LRU page: Recovered"), 1);
}

static void dirty_page_cache_fails_msync_once(void **state)
{
	char path[128];
	const char *r;

	(void)state;
	snprintf(path, sizeof(path), "%s/dirty-msync", dir);
	assert_int_equal(actor_start(&a, &d, "msyncer"), 0);
	assert_true(reply_has(actor_cmd(&a, "mapmem file 0x10000 %s", path), "ok"));
	assert_true(reply_has(actor_cmd(&a, "fill 0 0xce"), "ok"));
	assert_int_equal(reply_int(actor_cmd(&a, "madvise 0 0x2000 4096 hwpoison"), "code", -1), 4);
	/* msync(MS_SYNC) of the mapping reports the lost page once */
	r = actor_cmd(&a, "msync 0");
	assert_int_equal(reply_int(r, "ret", 0), -1);
	assert_int_equal(reply_int(r, "errno", -1), EIO);
	assert_int_equal(reply_int(actor_cmd(&a, "msync 0"), "ret", -1), 0);
}

static void hugetlb_unit(void **state)
{
	FILE *f;
	const char *r;
	long before = 0;

	(void)state;
	if (geteuid() != 0) {
		skip();
		return;
	}
	f = fopen("/proc/sys/vm/nr_hugepages", "r+");
	assert_non_null(f);
	assert_int_equal(fscanf(f, "%ld", &before), 1);
	rewind(f);
	fprintf(f, "%ld\n", before + 2);
	fclose(f);
	assert_int_equal(actor_start(&a, &d, "huge"), 0);
	r = actor_cmd(&a, "mapmem hugetlb 0x400000");
	if (!reply_has(r, "ok")) {
		f = fopen("/proc/sys/vm/nr_hugepages", "w");
		fprintf(f, "%ld\n", before);
		fclose(f);
		skip();		/* the machine gave no huge pages */
		return;
	}
	assert_true(reply_has(actor_cmd(&a, "fill 0 0xce"), "ok"));
	r = actor_cmd(&a, "madvise 0 0x102000 4096 hwpoison");
	assert_int_equal(reply_int(r, "code", -1), 4);
	assert_int_equal(reply_int(r, "addr_off", -1), 0x102000);
	assert_int_equal(reply_int(r, "lsb", -1), 21);
	/* every page of the 2 MiB: AR, lsb 21, the page touched */
	r = actor_cmd(&a, "touch 0 0x10000");
	assert_int_equal(reply_int(r, "code", -1), 4);
	assert_int_equal(reply_int(r, "addr_off", -1), 0x10000);
	assert_int_equal(reply_int(r, "lsb", -1), 21);
	assert_int_equal(reply_int(actor_cmd(&a, "touch 0 0x300000"), "value", -1), 0xce);
	assert_int_equal(td_log_count(&d, "recovery action for huge page: Recovered"), 1);
	actor_kill(&a);
	f = fopen("/proc/sys/vm/nr_hugepages", "w");
	assert_non_null(f);
	fprintf(f, "%ld\n", before);
	fclose(f);
}

static void thp_is_split(void **state)
{
	const char *r;

	(void)state;
	assert_int_equal(actor_start(&a, &d, "thp"), 0);
	assert_true(reply_has(actor_cmd(&a, "mapmem thp 0x400000"), "ok"));
	assert_true(reply_has(actor_cmd(&a, "fill 0 0xce"), "ok"));
	r = actor_cmd(&a, "madvise 0 0x102000 4096 hwpoison");
	assert_int_equal(reply_int(r, "lsb", -1), 12);
	assert_int_equal(reply_int(r, "addr_off", -1), 0x102000);
	/* the rest of the huge page is fine */
	assert_int_equal(reply_int(actor_cmd(&a, "touch 0 0x100000"), "value", -1), 0xce);
	assert_int_equal(reply_int(actor_cmd(&a, "touch 0 0x103000"), "value", -1), 0xce);
}

static void ar_goes_to_the_touching_thread(void **state)
{
	const char *r;

	(void)state;
	assert_int_equal(actor_start(&a, &d, "threads"), 0);
	assert_true(reply_has(actor_cmd(&a, "mapmem anon 0x10000"), "ok"));
	assert_true(reply_has(actor_cmd(&a, "fill 0 1"), "ok"));
	assert_true(reply_has(actor_cmd(&a, "madvise 0 0x1000 4096 hwpoison"), "ok"));
	r = actor_cmd(&a, "thread-touch 0 0x1000");
	assert_true(reply_has(r, "sigbus"));
	assert_int_equal(reply_int(r, "tid", -1), reply_int(r, "thread", -2));
	assert_true(reply_int(r, "thread", -1) != reply_int(r, "main", -1));
}

static void fork_inherits_the_poison(void **state)
{
	(void)state;
	assert_int_equal(actor_start(&a, &d, "forker"), 0);
	assert_true(reply_has(actor_cmd(&a, "mapmem anon 0x10000"), "ok"));
	assert_true(reply_has(actor_cmd(&a, "fill 0 1"), "ok"));
	assert_true(reply_has(actor_cmd(&a, "madvise 0 0x1000 4096 hwpoison"), "ok"));
	assert_true(reply_has(actor_cmd(&a, "fork"), "ok"));
	assert_int_equal(reply_int(actor_cmd(&a, "child touch 0 0x1000"), "code", -1), 4);
	assert_int_equal(reply_int(actor_cmd(&a, "child touch 0 0x2000"), "value", -1), 1);
	assert_int_equal(reply_int(actor_cmd(&a, "child pm 0 0x1000"), "swap", -1), 1);
}

static void exec_keeps_the_policy(void **state)
{
	const char *r;

	(void)state;
	assert_int_equal(actor_start(&a, &d, "execer"), 0);
	assert_int_equal(reply_int(actor_cmd(&a, "prctl set early"), "ret", -1), 0);
	assert_true(reply_has(actor_cmd(&a, "execself execed"), "ok"));
	/* PF_MCE_PROCESS and PF_MCE_EARLY survive exec() */
	assert_int_equal(reply_int(actor_cmd(&a, "prctl get"), "ret", -1), 1);
	/* the new image's memory is new: poison works in it */
	assert_true(reply_has(actor_cmd(&a, "mapmem anon 0x10000"), "ok"));
	assert_true(reply_has(actor_cmd(&a, "fill 0 1"), "ok"));
	r = actor_cmd(&a, "madvise 0 0x1000 4096 hwpoison");
	assert_int_equal(reply_int(r, "code", -1), 4);
}

static void system_and_spawn_children(void **state)
{
	char cmd[512];
	const char *r;

	(void)state;
	assert_int_equal(actor_start(&a, &d, "spawner"), 0);
	/* a child of system() and one of posix_spawn() see the same files */
	r = actor_cmd(&a, "system grep -q '^HardwareCorrupted:' /proc/meminfo");
	assert_int_equal(reply_int(r, "code", -1), 0);
	snprintf(cmd, sizeof(cmd), "spawn %s child </dev/null >/dev/null; exit $?", build_path("tests/mfactor"));
	r = actor_cmd(&a, "%s", cmd);
	assert_int_equal(reply_int(r, "exited", -1), 1);
	/* a vfork()ed child poisons its own memory and dies of the AR */
	snprintf(cmd, sizeof(cmd), "spawn printf 'mapmem anon 65536\\nfill 0 1\\nhandler none\\nmadvise 0 0 4096 hwpoison\\n' | %s kid >/dev/null",
		 build_path("tests/mfactor"));
	r = actor_cmd(&a, "%s", cmd);
	assert_int_equal(reply_int(r, "code", -1), 128 + SIGBUS);
}

static void the_programs_own_faults_are_its_own(void **state)
{
	const char *r;

	(void)state;
	assert_int_equal(actor_start(&a, &d, "chain"), 0);
	assert_true(reply_has(actor_cmd(&a, "mapmem anon 0x10000"), "ok"));
	assert_true(reply_has(actor_cmd(&a, "fill 0 1"), "ok"));
	assert_true(reply_has(actor_cmd(&a, "segvhandler"), "ok"));
	assert_true(reply_has(actor_cmd(&a, "madvise 0 0x1000 4096 hwpoison"), "ok"));
	/* the poison is SIGBUS, the program's own fault its SIGSEGV */
	assert_int_equal(reply_int(actor_cmd(&a, "touch 0 0x1000"), "code", -1), 4);
	r = actor_cmd(&a, "nullsegv 16");
	assert_int_equal(reply_int(r, "segv_code", -1), 1);	/* SEGV_MAPERR */
	assert_int_equal(reply_int(r, "segv_addr", -1), 16);
	/* a SIGBUS handler on an alternate stack runs there */
	r = actor_cmd(&a, "altstack 0 0x1000");
	assert_int_equal(reply_int(r, "code", -1), 4);
	assert_int_equal(reply_int(r, "on_altstack", -1), 1);
}

static void blocked_or_ignored_sigbus_kills(void **state)
{
	(void)state;
	/* a machine check cannot be blocked: the process dies of it */
	assert_int_equal(actor_start(&a, &d, "blocker"), 0);
	assert_true(reply_has(actor_cmd(&a, "mapmem anon 0x10000"), "ok"));
	assert_true(reply_has(actor_cmd(&a, "fill 0 1"), "ok"));
	assert_true(reply_has(actor_cmd(&a, "handler block"), "ok"));
	assert_null(actor_cmd(&a, "madvise 0 0x1000 4096 hwpoison"));
	assert_true(actor_killed_by(&a, SIGBUS));
	/* nor ignored */
	assert_int_equal(actor_start(&b, &d, "ignorer"), 0);
	assert_true(reply_has(actor_cmd(&b, "mapmem anon 0x10000"), "ok"));
	assert_true(reply_has(actor_cmd(&b, "fill 0 1"), "ok"));
	assert_true(reply_has(actor_cmd(&b, "handler ignore"), "ok"));
	assert_null(actor_cmd(&b, "madvise 0 0x1000 4096 hwpoison"));
	assert_true(actor_killed_by(&b, SIGBUS));
}

static void sysctls_and_early_kill(void **state)
{
	const char *r;

	(void)state;
	assert_int_equal(actor_start(&a, &d, "sysctl"), 0);
	assert_string_equal(actor_cmd(&a, "fcat /proc/sys/vm/memory_failure_early_kill"), "ok text=0");
	/* the kernel's parsing: 0 or 1, nothing else */
	r = actor_cmd(&a, "fwrite /proc/sys/vm/memory_failure_early_kill 2");
	assert_int_equal(reply_int(r, "errno", -1), EINVAL);
	r = actor_cmd(&a, "fwrite /proc/sys/vm/memory_failure_early_kill x");
	assert_int_equal(reply_int(r, "errno", -1), EINVAL);
	r = actor_cmd(&a, "fwrite /proc/sys/vm/memory_failure_early_kill 1");
	assert_int_equal(reply_int(r, "ret", -1), 2);
	assert_string_equal(actor_cmd(&a, "fcat /proc/sys/vm/memory_failure_early_kill"), "ok text=1");
	/* and the daemon took it: a default-policy child that maps the page
	 * is early-kill now */
	assert_true(reply_has(actor_cmd(&a, "mapmem anon-shared 0x10000"), "ok"));
	assert_true(reply_has(actor_cmd(&a, "fill 0 1"), "ok"));
	assert_true(reply_has(actor_cmd(&a, "fork"), "ok"));
	assert_int_equal(reply_int(actor_cmd(&a, "child touch 0 0x1000"), "value", -1), 1);
	assert_true(reply_has(actor_cmd(&a, "madvise 0 0x1000 4096 hwpoison"), "ok"));
	assert_int_equal(reply_int(actor_cmd(&a, "child wait-signal 3000"), "code", -1), 5);
}

static void corrupt_pfn_and_offline_files(void **state)
{
	long long pfn;
	const char *r;

	(void)state;
	assert_int_equal(actor_start(&a, &d, "mapper"), 0);
	assert_true(reply_has(actor_cmd(&a, "mapmem anon 0x10000"), "ok"));
	assert_true(reply_has(actor_cmd(&a, "fill 0 1"), "ok"));
	assert_int_equal(reply_int(actor_cmd(&a, "prctl set early"), "ret", -1), 0);
	pfn = pfn_at(&a, 0, "0x3000");
	assert_true(pfn > 0);
	/* another process injects by pfn: the early-kill owner gets AO */
	assert_int_equal(actor_start(&b, &d, "injector"), 0);
	r = actor_cmd(&b, "fwrite /sys/kernel/debug/hwpoison/corrupt-pfn %#llx", pfn);
	assert_true(reply_int(r, "ret", -1) > 0);
	r = actor_cmd(&a, "wait-signal 3000");
	assert_int_equal(reply_int(r, "code", -1), 5);
	assert_int_equal(reply_int(r, "addr_off", -1), 0x3000);
	assert_int_equal(reply_int(actor_cmd(&a, "touch 0 0x3000"), "code", -1), 4);
	assert_int_equal(td_log_count(&d, "Injecting memory failure at pfn"), 1);
	/* a pfn the machine does not have */
	r = actor_cmd(&b, "fwrite /sys/kernel/debug/hwpoison/corrupt-pfn 0x7fffffffff");
	assert_int_equal(reply_int(r, "errno", -1), ENXIO);
	r = actor_cmd(&b, "fwrite /sys/kernel/debug/hwpoison/corrupt-pfn banana");
	assert_int_equal(reply_int(r, "errno", -1), EINVAL);
	/* hard_offline_page takes an address; a free page is taken off */
	r = actor_cmd(&b, "fwrite /sys/devices/system/memory/hard_offline_page 0x8000000");
	assert_true(reply_int(r, "ret", -1) > 0);
	assert_int_equal(td_log_count(&d, "recovery action for free buddy page: Recovered"), 1);
	assert_int_equal(reply_int(actor_cmd(&b, "kpf 0x8000"), "hwpoison", -1), 1);
}

static void strict_caps(void **state)
{
	const char *r;

	(void)state;
	if (geteuid() != 0) {
		skip();
		return;
	}
	td_destroy(&d);
	assert_int_equal(start("--strict-caps"), 0);
	assert_int_equal(actor_start(&a, &d, "nobody"), 0);
	assert_true(reply_has(actor_cmd(&a, "mapmem anon 0x10000"), "ok"));
	assert_true(reply_has(actor_cmd(&a, "fill 0 1"), "ok"));
	assert_true(reply_has(actor_cmd(&a, "setuid 65534"), "ok"));
	r = actor_cmd(&a, "madvise 0 0x1000 4096 hwpoison");
	assert_int_equal(reply_int(r, "errno", -1), EPERM);
	assert_int_equal(reply_int(r, "during", -1), 0);
	/* the kernel's files are root's */
	r = actor_cmd(&a, "fwrite /sys/kernel/debug/hwpoison/corrupt-pfn 0x2000");
	assert_int_equal(reply_int(r, "errno", -1), EACCES);
	assert_int_equal(reply_int(actor_cmd(&a, "kpf 0x2000"), "errno", -1), EACCES);
	assert_int_equal(reply_int(actor_cmd(&a, "fwrite /proc/sys/vm/memory_failure_early_kill 1"), "errno", -1),
			 EACCES);
	assert_int_equal(reply_int(actor_cmd(&a, "touch 0 0x1000"), "value", -1), 1);
}

/* --strict-caps: pagemap's pfns are CAP_SYS_ADMIN's, as madvise(); the
 * kernel's files stay root's */
static void strict_caps_without_sys_admin(void **state)
{
	long long pfn;
	const char *r;

	(void)state;
	if (geteuid() != 0) {
		skip();
		return;
	}
	td_destroy(&d);
	assert_int_equal(start("--strict-caps"), 0);
	assert_int_equal(actor_start(&a, &d, "nocap"), 0);
	assert_true(reply_has(actor_cmd(&a, "mapmem anon 0x10000"), "ok"));
	assert_true(reply_has(actor_cmd(&a, "fill 0 1"), "ok"));
	pfn = pfn_at(&a, 0, "0x1000");
	assert_true(pfn > 0);
	assert_int_equal(reply_int(actor_cmd(&a, "capdrop 21"), "ret", -1), 0);
	r = actor_cmd(&a, "pm 0 0x1000");
	assert_int_equal(reply_int(r, "present", -1), 1);
	assert_int_equal(reply_int(r, "pfn", -1), 0);
	assert_int_equal(reply_int(actor_cmd(&a, "madvise 0 0x1000 4096 hwpoison"), "errno", -1), EPERM);
	/* still root: the files' owner */
	r = actor_cmd(&a, "kpf %lld", pfn);
	assert_int_equal(reply_int(r, "ret", -1), 8);
	assert_int_equal(reply_int(r, "hwpoison", -1), 0);
}

static void namespace_files(void **state)
{
	const char *r;

	(void)state;
	assert_int_equal(td_cli(&d, NULL, 0, "create-namespace --size 64M --align 2M"), 0);
	assert_int_equal(td_cli(&d, NULL, 0, "inject-error dax0.0 --block 4096 --count 8"), 0);
	assert_int_equal(actor_start(&a, &d, "sysfs"), 0);
	assert_string_equal(actor_cmd(&a, "fcat /sys/bus/dax/devices/dax0.0/size"), "ok text=67108864");
	assert_string_equal(actor_cmd(&a, "fcat /sys/bus/dax/devices/dax0.0/align"), "ok text=2097152");
	assert_string_equal(actor_cmd(&a, "fcat /sys/block/pmem0.0/badblocks"), "ok text=4096_8");
	/* soft_offline_page of device memory: EIO */
	r = actor_cmd(&a, "fwrite /sys/devices/system/memory/soft_offline_page 0x100000000");
	assert_int_equal(reply_int(r, "errno", -1), EIO);
}

/* Programs of the system (sysctl, a shell, test(1)) under the shim.  Not
 * under ThreadSanitizer: an uninstrumented program cannot load the
 * instrumented shim. */
static void system_tools_see_the_files(void **state)
{
	const char *r;

	(void)state;
	if (getenv("MF_TSAN")) {
		skip();
		return;
	}
	assert_int_equal(td_cli(&d, NULL, 0, "create-namespace --size 64M --align 2M"), 0);
	assert_int_equal(actor_start(&a, &d, "tools"), 0);
	r = actor_cmd(&a, "system sysctl -q -w vm.memory_failure_early_kill=1");
	assert_int_equal(reply_int(r, "code", -1), 0);
	assert_string_equal(actor_cmd(&a, "fcat /proc/sys/vm/memory_failure_early_kill"), "ok text=1");
	/* a shell's redirection, and a program exec()ed into it */
	r = actor_cmd(&a, "system echo 0 > /proc/sys/vm/memory_failure_early_kill");
	assert_int_equal(reply_int(r, "code", -1), 0);
	assert_string_equal(actor_cmd(&a, "fcat /proc/sys/vm/memory_failure_early_kill"), "ok text=0");
	r = actor_cmd(&a, "system /bin/echo 1 > /proc/sys/vm/memory_failure_early_kill");
	assert_int_equal(reply_int(r, "code", -1), 0);
	assert_string_equal(actor_cmd(&a, "fcat /proc/sys/vm/memory_failure_early_kill"), "ok text=1");
	/* the kernel's error reaches a shell's echo */
	r = actor_cmd(&a, "system echo 7 > /proc/sys/vm/memory_failure_early_kill");
	assert_int_equal(reply_int(r, "code", -1), 1);
	/* they exist for stat() and test(1) too; a device memfail has not does not */
	r = actor_cmd(&a, "system test -r /sys/bus/dax/devices/dax0.0/size && test -d /sys/bus/dax/devices/dax0.0");
	assert_int_equal(reply_int(r, "code", -1), 0);
	r = actor_cmd(&a, "system test -e /sys/bus/dax/devices/dax0.7/size");
	assert_int_equal(reply_int(r, "code", -1), 1);
	r = actor_cmd(&a, "system grep -q '^debugfs /sys/kernel/debug debugfs' /proc/mounts");
	assert_int_equal(reply_int(r, "code", -1), 0);
	/* /dev/kmsg is the emulated kernel's log: a tag, then what followed,
	 * as a test suite finds the pfns it soft-offlined (LTP madvise11) */
	r = actor_cmd(&a, "system echo '<5>mf-tag-1' > /dev/kmsg");
	assert_int_equal(reply_int(r, "code", -1), 0);
	assert_true(reply_has(actor_cmd(&a, "mapmem anon 0x10000"), "ok"));
	assert_true(reply_has(actor_cmd(&a, "fill 0 1"), "ok"));
	assert_true(reply_has(actor_cmd(&a, "madvise 0 0x1000 4096 soft_offline"), "ok"));
	r = actor_cmd(&a, "system dmesg | sed -n '/mf-tag-1/,$p' | grep -q 'Soft offlining pfn 0x'");
	assert_int_equal(reply_int(r, "code", -1), 0);
	r = actor_cmd(&a, "system dmesg -x | grep -q 'notice.*mf-tag-1'");
	assert_int_equal(reply_int(r, "code", -1), 0);
}

static void profile_61_signals_on_access(void **state)
{
	const char *r;

	(void)state;
	assert_int_equal(actor_start(&a, &d, "old"), 0);
	assert_true(reply_has(actor_cmd(&a, "mapmem anon 0x10000"), "ok"));
	assert_true(reply_has(actor_cmd(&a, "fill 0 1"), "ok"));
	r = actor_cmd(&a, "madvise 0 0x1000 4096 hwpoison");
	assert_int_equal(reply_int(r, "ret", -9), 0);
	assert_int_equal(reply_int(r, "during", -1), 0);
	r = actor_cmd(&a, "touch 0 0x1000");
	assert_int_equal(reply_int(r, "code", -1), 4);
	assert_int_equal(reply_int(r, "lsb", -1), 12);
	assert_int_equal(reply_int(actor_cmd(&a, "pm 0 0x1000"), "swp_type", -1), 26);
	/* 6.1 has no node counters and no vm.enable_soft_offline */
	assert_true(reply_has(actor_cmd(&a, "fcat /sys/devices/system/node/node0/memory_failure/total"), "err"));
	assert_true(reply_has(actor_cmd(&a, "fcat /proc/sys/vm/enable_soft_offline"), "err"));
	assert_int_equal(td_log_count(&d, "Sending SIGBUS"), 0);
	assert_int_equal(td_log_count(&d, "MCE: Killing old:"), 1);
}

static void profile_61_early_kill_gets_ao(void **state)
{
	const char *r;

	(void)state;
	/* without MF_ACTION_REQUIRED an early-kill caller is told with AO */
	assert_int_equal(actor_start(&a, &d, "early"), 0);
	assert_true(reply_has(actor_cmd(&a, "mapmem anon 0x10000"), "ok"));
	assert_true(reply_has(actor_cmd(&a, "fill 0 1"), "ok"));
	assert_int_equal(reply_int(actor_cmd(&a, "prctl set early"), "ret", -1), 0);
	r = actor_cmd(&a, "madvise 0 0x1000 4096 hwpoison");
	assert_int_equal(reply_int(r, "code", -1), 5);
}

static void profile_419_words(void **state)
{
	(void)state;
	assert_int_equal(actor_start(&a, &d, "seed"), 0);
	assert_true(reply_has(actor_cmd(&a, "mapmem anon 0x10000"), "ok"));
	assert_true(reply_has(actor_cmd(&a, "fill 0 1"), "ok"));
	assert_int_equal(reply_int(actor_cmd(&a, "prctl set early"), "ret", -1), 0);
	assert_int_equal(reply_int(actor_cmd(&a, "madvise 0 0x1000 4096 hwpoison"), "code", -1), 5);
	assert_int_equal(td_log_count(&d, "Killing seed:"), 1);
	assert_true(reply_has(actor_cmd(&a, "fcat /sys/devices/system/node/node0/memory_failure/total"), "err"));
}

int main(void)
{
	const struct CMUnitTest t612[] = {
		cmocka_unit_test_setup_teardown(anon_private, setup_612, teardown),
		cmocka_unit_test_setup_teardown(node_counters, setup_612, teardown),
		cmocka_unit_test_setup_teardown(soft_offline_moves_the_page, setup_612, teardown),
		cmocka_unit_test_setup_teardown(shared_with_a_child, setup_612, teardown),
		cmocka_unit_test_setup_teardown(late_child_is_only_unmapped, setup_612, teardown),
		cmocka_unit_test_setup_teardown(many_mappings_are_all_fenced, setup_612, teardown),
		cmocka_unit_test_setup_teardown(file_io_does_not_register, setup_612, teardown),
		cmocka_unit_test_setup_teardown(clean_page_cache_is_dropped, setup_612, teardown),
		cmocka_unit_test_setup_teardown(dirty_page_cache_fails_fsync_once, setup_612, teardown),
		cmocka_unit_test_setup_teardown(dirty_page_cache_fails_msync_once, setup_612, teardown),
		cmocka_unit_test_setup_teardown(hugetlb_unit, setup_612, teardown),
		cmocka_unit_test_setup_teardown(thp_is_split, setup_612, teardown),
		cmocka_unit_test_setup_teardown(ar_goes_to_the_touching_thread, setup_612, teardown),
		cmocka_unit_test_setup_teardown(fork_inherits_the_poison, setup_612, teardown),
		cmocka_unit_test_setup_teardown(exec_keeps_the_policy, setup_612, teardown),
		cmocka_unit_test_setup_teardown(system_and_spawn_children, setup_612, teardown),
		cmocka_unit_test_setup_teardown(the_programs_own_faults_are_its_own, setup_612, teardown),
		cmocka_unit_test_setup_teardown(blocked_or_ignored_sigbus_kills, setup_612, teardown),
		cmocka_unit_test_setup_teardown(sysctls_and_early_kill, setup_612, teardown),
		cmocka_unit_test_setup_teardown(corrupt_pfn_and_offline_files, setup_612, teardown),
		cmocka_unit_test_setup_teardown(strict_caps, setup_612, teardown),
		cmocka_unit_test_setup_teardown(strict_caps_without_sys_admin, setup_612, teardown),
		cmocka_unit_test_setup_teardown(namespace_files, setup_612, teardown),
		cmocka_unit_test_setup_teardown(system_tools_see_the_files, setup_612, teardown),
		cmocka_unit_test_setup_teardown(profile_61_signals_on_access, setup_61, teardown),
		cmocka_unit_test_setup_teardown(profile_61_early_kill_gets_ao, setup_61, teardown),
		cmocka_unit_test_setup_teardown(profile_419_words, setup_419, teardown),
	};
	int ret;

	snprintf(dir, sizeof(dir), "/tmp/mf-ordinary.XXXXXX");
	if (!mkdtemp(dir))
		return 1;
	ret = cmocka_run_group_tests(t612, NULL, NULL);
	{
		char path[128];

		snprintf(path, sizeof(path), "%s/clean", dir);
		unlink(path);
		snprintf(path, sizeof(path), "%s/dirty", dir);
		unlink(path);
		snprintf(path, sizeof(path), "%s/dirty-msync", dir);
		unlink(path);
	}
	rmdir(dir);
	return ret;
}
