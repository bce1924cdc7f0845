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
#include <linux/falloc.h>
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

/* A daemon of that kernel profile, and an fsdax namespace of that size
 * mounted at fx.mnt. */
static int setup_ns(void **state, const char *daemon_args, const char *size)
{
	memset(&fx, 0, sizeof(fx));
	if (td_start_fsdax(&fx.d, daemon_args, size, fx.mnt, sizeof(fx.mnt)))
		return -1;
	snprintf(fx.file, sizeof(fx.file), "%s/f", fx.mnt);
	*state = &fx;
	return 0;
}

static int setup(void **state)
{
	return setup_ns(state, "", "64M");
}

static int setup_61(void **state)
{
	return setup_ns(state, "--kernel linux-6.1", "64M");
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

/*
 * A PMD-mapped file is in an early-kill bystander's page tables as a
 * whole 2 MiB as soon as it touched any page of it: it gets the AO for a
 * page it never touched.  A small file's pages are PTEs: touching the
 * neighbour does not count.
 */
static void early_bystander_of_the_chunk(void **state)
{
	const char *r;

	(void)state;
	write_file(4u << 20, 0x41);
	mapper(&fx.early, "early", 4u << 20);
	assert_int_equal(reply_int(actor_cmd(&fx.early, "prctl set early"), "ret", -1), 0);
	assert_true(reply_has(actor_cmd(&fx.early, "touch 0 %#x", PAGE_OFF + 0x10000), "ok"));
	mapper(&fx.p, "poisoner", 4u << 20);
	r = actor_cmd(&fx.p, "madvise 0 %#x 4096 hwpoison", PAGE_OFF);
	assert_int_equal(reply_int(r, "lsb", -1), 21);
	r = actor_cmd(&fx.early, "signals");
	assert_int_equal(reply_int(r, "n", -1), 1);
	assert_int_equal(reply_int(r, "code", -1), 5);
	assert_int_equal(reply_int(r, "addr_off", -1), PAGE_OFF);
	assert_int_equal(reply_int(r, "lsb", -1), 21);
	/* the other chunk: touched elsewhere, not signalled */
	r = actor_cmd(&fx.p, "madvise 0 0x302000 4096 hwpoison");
	assert_int_equal(reply_int(r, "lsb", -1), 21);
	assert_int_equal(reply_int(actor_cmd(&fx.early, "signals"), "n", -1), 0);
}

static void early_bystander_of_a_small_file(void **state)
{
	const char *r;

	(void)state;
	write_file(64u << 10, 0x11);
	mapper(&fx.early, "early", 64u << 10);
	assert_int_equal(reply_int(actor_cmd(&fx.early, "prctl set early"), "ret", -1), 0);
	assert_true(reply_has(actor_cmd(&fx.early, "touch 0 0x4000"), "ok"));
	mapper(&fx.p, "poisoner", 64u << 10);
	r = actor_cmd(&fx.p, "madvise 0 0x3000 4096 hwpoison");
	assert_int_equal(reply_int(r, "lsb", -1), 12);
	assert_int_equal(reply_int(actor_cmd(&fx.early, "signals"), "n", -1), 0);
	assert_true(reply_has(actor_cmd(&fx.early, "touch 0 0x5000"), "ok"));
	r = actor_cmd(&fx.p, "madvise 0 0x5000 4096 hwpoison");
	r = actor_cmd(&fx.early, "signals");
	assert_int_equal(reply_int(r, "code", -1), 5);
	assert_int_equal(reply_int(r, "lsb", -1), 12);
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

/* A sparse file (ftruncate only): its blocks come a page at a time, as
 * fault-time allocation gives them, and the page is PTE-mapped: lsb 12,
 * the exact page (LINUX-FACTS.md). */
static void sparse_file_lsb12(void **state)
{
	const char *r;
	int fd;

	(void)state;
	fd = open(fx.file, O_RDWR | O_CREAT, 0644);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 4u << 20), 0);
	close(fd);
	mapper(&fx.p, "poisoner", 4u << 20);
	assert_string_equal(actor_cmd(&fx.p, "store 0 %#x 9", PAGE_OFF), "ok");
	assert_int_equal(reply_int(actor_cmd(&fx.p, "touch 0 %#x", PAGE_OFF), "value", -1), 9);
	r = actor_cmd(&fx.p, "madvise 0 %#x 4096 hwpoison", PAGE_OFF);
	assert_int_equal(reply_int(r, "code", -1), 4);
	assert_int_equal(reply_int(r, "addr_off", -1), PAGE_OFF);
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

/*
 * An error injected into a file's block (the first file of a fresh
 * namespace has its first chunk at the namespace's start, so file page
 * 0x102 is sector 0x102 * 8): the file has a media error there, read()
 * fails, a mapper's touch is a consumption; clear-errors rewrites the
 * block with zeros and the file reads again.
 */
static void inject_and_clear_file_block(void **state)
{
	char out[8192];
	const char *r;

	(void)state;
	write_file(4u << 20, 0x41);
	mapper(&fx.p, "mapper", 4u << 20);
	assert_int_equal(reply_int(actor_cmd(&fx.p, "touch 0 %#x", PAGE_OFF), "value", -1), 0x41);
	/* the namespace's first 2 MiB hold the metadata area: the file's
	 * first chunk is the namespace's second */
	assert_int_equal(td_cli(&fx.d, NULL, 0, "inject-error pmem0.0 --block %d --count 1",
				(512 + (PAGE_OFF >> 12)) * 8), 0);
	assert_int_equal(td_cli(&fx.d, out, sizeof(out), "list -N -M"), 0);
	assert_non_null(strstr(out, "\"offset_bytes\":1056768"));
	r = actor_cmd(&fx.p, "fread %s %#x 512", fx.file, PAGE_OFF);
	assert_int_equal(reply_int(r, "errno", -1), EIO);
	r = actor_cmd(&fx.p, "touch 0 %#x", PAGE_OFF);
	assert_int_equal(reply_int(r, "code", -1), 4);
	assert_int_equal(reply_int(r, "addr_off", -1), PAGE_OFF);
	assert_int_equal(td_cli(&fx.d, NULL, 0, "clear-errors pmem0.0"), 0);
	assert_int_equal(td_cli(&fx.d, out, sizeof(out), "list -N -M"), 0);
	assert_null(strstr(out, "\"offset_bytes\""));
	r = actor_cmd(&fx.p, "fread %s %#x 512", fx.file, PAGE_OFF);
	assert_int_equal(reply_int(r, "ret", -1), 512);
	assert_int_equal(reply_int(r, "first", -1), 0);
	assert_int_equal(reply_int(actor_cmd(&fx.p, "touch 0 %#x", PAGE_OFF), "value", -1), 0);
	assert_int_equal(reply_int(actor_cmd(&fx.p, "touch 0 %#x", PAGE_OFF + 512 * 8), "value", -1), 0x41);
}

/*
 * A block the driver lists as bad before the file is mapped (the oracle's
 * s6c): the new mapping's fault is refused by the driver, on that page
 * only and for that process only; nothing is poisoned, no memory_failure
 * runs, and a bystander mapping the file is not told.  6.12: BUS_MCEERR_AR
 * lsb 12 and the fault handler's "MCE: Killing" line; 6.1: BUS_ADRERR.
 */
static void known_bad_block_refused(bool adrerr)
{
	char out[8192];
	const char *r;
	int i;

	write_file(4u << 20, 0x41);
	assert_int_equal(td_cli(&fx.d, NULL, 0, "inject-error pmem0.0 --block %d --count 1",
				(512 + (PAGE_OFF >> 12)) * 8), 0);
	mapper(&fx.early, "bystander", 4u << 20);
	assert_int_equal(reply_int(actor_cmd(&fx.early, "prctl set early"), "ret", -1), 0);
	mapper(&fx.p, "mapper", 4u << 20);
	for (i = 0; i < 2; i++) {
		/* the same answer each time: nothing changed the block */
		r = actor_cmd(&fx.p, "touch 0 %#x", PAGE_OFF);
		assert_int_equal(reply_int(r, "code", -1), adrerr ? 2 : 4);
		assert_int_equal(reply_int(r, "addr_off", -1), PAGE_OFF);
		if (!adrerr)
			assert_int_equal(reply_int(r, "lsb", -1), 12);
	}
	/* the rest of its 2 MiB reads, as the PTE fallback maps it */
	assert_int_equal(reply_int(actor_cmd(&fx.p, "touch 0 %#x", PAGE_OFF + 4096), "value", -1), 0x41);
	assert_int_equal(reply_int(actor_cmd(&fx.p, "touch 0 0x100000"), "value", -1), 0x41);
	assert_int_equal(td_log_count(&fx.d, "MCE: Killing mapper:"), adrerr ? 0 : 2);
	assert_int_equal(td_log_count(&fx.d, "Memory failure"), 0);
	assert_int_equal(td_log_count(&fx.d, "Sending SIGBUS"), 0);
	assert_string_equal(actor_cmd(&fx.early, "wait-signal 200"), "timeout");
	assert_int_equal(td_cli(&fx.d, out, sizeof(out), "list -N"), 0);
	assert_non_null(strstr(out, "\"hwpoison_pages\":0"));
	/* read() of it fails all the same */
	r = actor_cmd(&fx.p, "fread %s %#x 512", fx.file, PAGE_OFF);
	assert_int_equal(reply_int(r, "errno", -1), EIO);
}

static void known_bad_block_new_mapping(void **state)
{
	(void)state;
	known_bad_block_refused(false);
}

static void known_bad_block_new_mapping_61(void **state)
{
	(void)state;
	known_bad_block_refused(true);
}

/*
 * The driver's refusal follows the page tables: a piece of a mapping cut
 * in two keeps the whole's (its listed bad block still unfaulted, still
 * refused); a fork child has none of a shared file mapping's entries, so
 * its fault of a listed bad block is refused even where its parent, whose
 * mapping predates the error, takes a machine check.  (Linux 6.12 on the
 * oracle: the child of a prefaulted mapping, a piece of a new one and a
 * child of a new one all get BUS_MCEERR_AR lsb 12 and "MCE: Killing".)
 */
static void known_bad_block_split_and_fork(void **state)
{
	const char *r;

	(void)state;
	write_file(4u << 20, 0x41);
	mapper(&fx.early, "old", 4u << 20);
	assert_int_equal(reply_int(actor_cmd(&fx.early, "touch 0 %#x", PAGE_OFF), "value", -1), 0x41);
	assert_int_equal(td_cli(&fx.d, NULL, 0, "inject-error pmem0.0 --block %d --count 1",
				(512 + (PAGE_OFF >> 12)) * 8), 0);
	mapper(&fx.p, "mapper", 4u << 20);
	assert_true(reply_has(actor_cmd(&fx.p, "munmap 0 0x200000 0x1000"), "ok"));
	r = actor_cmd(&fx.p, "touch 0 %#x", PAGE_OFF);
	assert_int_equal(reply_int(r, "code", -1), 4);
	assert_int_equal(reply_int(r, "addr_off", -1), PAGE_OFF);
	assert_int_equal(reply_int(r, "lsb", -1), 12);
	assert_int_equal(td_log_count(&fx.d, "Memory failure"), 0);

	assert_true(reply_has(actor_cmd(&fx.early, "fork"), "ok"));
	r = actor_cmd(&fx.early, "child touch 0 %#x", PAGE_OFF);
	assert_int_equal(reply_int(r, "code", -1), 4);
	assert_int_equal(reply_int(r, "addr_off", -1), PAGE_OFF);
	assert_int_equal(reply_int(r, "lsb", -1), 12);
	assert_int_equal(td_log_count(&fx.d, "Memory failure"), 0);
	assert_int_equal(td_log_count(&fx.d, "MCE: Killing old:"), 1);
	assert_true(reply_has(actor_cmd(&fx.early, "child exit 0"), "dead"));
	/* the parent had the page mapped before the error: a machine check */
	r = actor_cmd(&fx.early, "touch 0 %#x", PAGE_OFF);
	assert_int_equal(reply_int(r, "code", -1), 4);
	assert_int_equal(reply_int(r, "addr_off", -1), PAGE_OFF);
	assert_int_equal(td_log_count(&fx.d, "Sending SIGBUS to old:"), 1);
	assert_int_equal(td_log_count(&fx.d, "dax page: Recovered"), 1);
}

/*
 * Latent poison in a file's block that a scrub finds (nobody touched it):
 * the driver knows it now, and so does the file system, as a media error
 * of that file at that offset (pmem2_badblock's view); a new mapping's
 * fault of it is refused, as for any listed bad block.
 */
static void scrub_found_error_is_the_files(void **state)
{
	char out[8192];
	const char *r;

	(void)state;
	write_file(4u << 20, 0x41);
	assert_int_equal(td_cli(&fx.d, NULL, 0, "inject-error pmem0.0 --block %d --count 1 --no-notify",
				(512 + (PAGE_OFF >> 12)) * 8), 0);
	assert_int_equal(td_cli(&fx.d, out, sizeof(out), "list -N -M"), 0);
	assert_null(strstr(out, "\"file\":\"f\""));
	assert_int_equal(td_cli(&fx.d, NULL, 0, "start-scrub --wait --quiet"), 0);
	assert_int_equal(td_cli(&fx.d, out, sizeof(out), "list -N -M"), 0);
	assert_non_null(strstr(out, "\"file\":\"f\""));
	assert_non_null(strstr(out, "\"offset_bytes\":1056768"));
	assert_non_null(strstr(out, "\"length_bytes\":4096"));
	mapper(&fx.p, "mapper", 4u << 20);
	r = actor_cmd(&fx.p, "touch 0 %#x", PAGE_OFF);
	assert_int_equal(reply_int(r, "code", -1), 4);
	assert_int_equal(reply_int(r, "lsb", -1), 12);
	assert_int_equal(td_log_count(&fx.d, "Memory failure"), 0);
}

/* A mapping cut in two stays in the rmap by its pieces (a piece that no
 * longer covers a whole chunk maps it with PTEs); a child's copy of a
 * mapping is its own mapper. */
static void split_and_fork(void **state)
{
	const char *r;

	(void)state;
	write_file(4u << 20, 0x41);
	mapper(&fx.p, "poisoner", 4u << 20);
	assert_true(reply_has(actor_cmd(&fx.p, "munmap 0 0x200000 0x1000"), "ok"));
	r = actor_cmd(&fx.p, "madvise 0 0x300000 4096 hwpoison");
	assert_int_equal(reply_int(r, "code", -1), 4);
	assert_int_equal(reply_int(r, "addr_off", -1), 0x300000);
	assert_int_equal(reply_int(r, "lsb", -1), 12);
	/* the first piece still maps chunk 0 whole */
	assert_true(reply_has(actor_cmd(&fx.p, "fork"), "ok"));
	assert_int_equal(reply_int(actor_cmd(&fx.p, "child touch 0 0x10000"), "value", -1), 0x41);
	r = actor_cmd(&fx.p, "child madvise 0 0x10000 4096 hwpoison");
	assert_int_equal(reply_int(r, "code", -1), 4);
	assert_int_equal(reply_int(r, "lsb", -1), 21);
	assert_true(reply_has(actor_cmd(&fx.p, "child exit 0"), "dead"));
	/* the parent consumes it at its next touch */
	r = actor_cmd(&fx.p, "touch 0 0x10000");
	assert_int_equal(reply_int(r, "code", -1), 4);
	assert_int_equal(reply_int(r, "addr_off", -1), 0x10000);
	assert_int_equal(reply_int(r, "lsb", -1), 21);
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

/*
 * Rounds of truncate, hole punch and rewrite (by this process, through
 * the mount, without the shim) racing the mappers' faults and
 * memory_failure(): in each round exactly the processes that had the
 * page mapped are signalled (the poisoner AR, the early-kill bystander AO
 * only if it touched the page), a process mapping another file never,
 * and every mapper reads what was last written (never a freed block's
 * old data).  The metadata passes fs_check() at a remount after kill -9.
 */
static void stress_truncate_punch_poison(void **state)
{
	char other[220];
	uint64_t seed = 0x5eed5eedULL;
	int fd, round, touched = 0, signalled = 0;
	struct actor o = { 0 };
	const char *r;

	(void)state;
	write_file(4u << 20, 0x41);
	snprintf(other, sizeof(other), "%s/other", fx.mnt);
	mapper(&fx.p, "poisoner", 4u << 20);
	mapper(&fx.early, "early", 4u << 20);
	assert_int_equal(reply_int(actor_cmd(&fx.early, "prctl set early"), "ret", -1), 0);
	assert_int_equal(actor_start(&o, &fx.d, "other"), 0);
	assert_int_equal(reply_int(actor_cmd(&o, "fwrite %s 0 0x400000 7", other), "written", -1), 0x400000);
	assert_true(reply_has(actor_cmd(&o, "open %s", other), "ok"));
	assert_true(reply_has(actor_cmd(&o, "mmap 0x400000 0"), "ok"));
	assert_true(reply_has(actor_cmd(&o, "prctl set early"), "ok"));
	fd = open(fx.file, O_RDWR);
	assert_true(fd >= 0);
	for (round = 0; round < 300; round++) {
		uint64_t page = rnd(&seed) % 1024;
		unsigned op = (unsigned)(rnd(&seed) % 4);
		bool touch = rnd(&seed) & 1;
		int v = 1 + round % 250, w = 1 + (round + 100) % 250;

		/* the whole other file's page is mapped by `other` */
		if (round == 0)
			assert_true(reply_has(actor_cmd(&o, "touch 0 %#llx", (unsigned long long)(page << 12)), "ok"));
		switch (op) {
		case 1:	/* punch the page */
			assert_int_equal(fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
						   (off_t)(page << 12), 4096), 0);
			break;
		case 2:	/* truncate below it, and back */
			assert_int_equal(ftruncate(fd, (off_t)(page << 12)), 0);
			assert_int_equal(ftruncate(fd, 4u << 20), 0);
			break;
		case 3:	/* punch its whole 2 MiB chunk */
			assert_int_equal(fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
						   (off_t)((page & ~511ULL) << 12), 2u << 20), 0);
			break;
		}
		put_page(fd, page, v);
		if (touch) {
			r = actor_cmd(&fx.early, "touch 0 %#llx", (unsigned long long)(page << 12));
			assert_int_equal(reply_int(r, "value", -1), v);
			touched++;
		}
		r = actor_cmd(&fx.p, "madvise 0 %#llx 4096 hwpoison", (unsigned long long)(page << 12));
		if (reply_int(r, "code", -1) != 4) {
			char cmd[300];

			snprintf(cmd, sizeof(cmd), "tail -c 2500 %s >&2", fx.d.log);
			if (system(cmd)) {
			}
			{
				char first[400];

				snprintf(first, sizeof(first), "%s", r);
				snprintf(cmd, sizeof(cmd), "grep -E 'Sig|Shd' /proc/%d/status /proc/%d/task/*/status >&2", fx.p.pid, fx.p.pid);
				if (system(cmd)) {
				}
				fail_msg("round %d op %u page %#llx: %s; then: %s", round, op,
					 (unsigned long long)page, first, actor_cmd(&fx.p, "signals"));
			}
		}
		assert_int_equal(reply_int(r, "addr_off", -1), (long long)(page << 12));
		assert_true(reply_int(r, "lsb", -1) == 12 || reply_int(r, "lsb", -1) == 21);
		/* the AO is pending before the poisoner's madvise returns */
		r = actor_cmd(&fx.early, "signals");
		assert_int_equal(reply_int(r, "n", -1), touch ? 1 : 0);
		if (touch) {
			assert_int_equal(reply_int(r, "code", -1), 5);
			assert_int_equal(reply_int(r, "addr_off", -1), (long long)(page << 12));
			signalled++;
		}
		/* a recovery write: both read the new data */
		put_page(fd, page, w);
		assert_int_equal(reply_int(actor_cmd(&fx.p, "touch 0 %#llx", (unsigned long long)(page << 12)), "value", -1), w);
		assert_int_equal(reply_int(actor_cmd(&fx.early, "touch 0 %#llx", (unsigned long long)(page << 12)), "value", -1), w);
		/* clearing signals nobody */
		assert_int_equal(reply_int(actor_cmd(&fx.early, "signals"), "n", -1), 0);
		/* the early mapper has the page now: a punch takes it out of its
		 * page tables again for the rounds to come */
		assert_int_equal(fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
					   (off_t)(page << 12), 4096), 0);
		put_page(fd, page, w);
	}
	close(fd);
	assert_true(touched > 50 && signalled == touched);
	assert_int_equal(reply_int(actor_cmd(&o, "signals"), "n", -1), 0);
	actor_kill(&o);
	/* the metadata is whole */
	actor_kill(&fx.p);
	actor_kill(&fx.early);
	td_kill9(&fx.d);
	assert_int_equal(td_restart(&fx.d), 0);
	{
		struct stat st;

		assert_int_equal(stat(fx.file, &st), 0);
		assert_int_equal(st.st_size, 4u << 20);
	}
}

/*
 * Several processes mmap() one sparse file at the same moment: the holes
 * are allocated once, and every mapper maps the same blocks, so each sees
 * the others' stores.  A 64 MiB sparse file gets its blocks a page at a
 * time (16384 extents), many replies of MF_FS_MAP each.
 */
#define NR_SPARSE_MAPPERS	4
#define SPARSE_LEN		(64u << 20)
#define UNIT			(2u << 20)

static int setup_big(void **state)
{
	return setup_ns(state, "", "160M");
}

static void sparse_file_mapped_at_once(void **state)
{
	struct actor a[NR_SPARSE_MAPPERS];
	struct stat st;
	unsigned i, j, u;
	const char *r;
	int fd;

	(void)state;
	memset(a, 0, sizeof(a));
	fd = open(fx.file, O_RDWR | O_CREAT, 0644);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, SPARSE_LEN), 0);
	close(fd);
	for (i = 0; i < NR_SPARSE_MAPPERS; i++) {
		char name[16];

		snprintf(name, sizeof(name), "mapper%u", i);
		assert_int_equal(actor_start(&a[i], &fx.d, name), 0);
		assert_true(reply_has(actor_cmd(&a[i], "open %s", fx.file), "ok"));
	}
	/* all at once */
	for (i = 0; i < NR_SPARSE_MAPPERS; i++)
		assert_int_equal(actor_send(&a[i], "mmap %#x 0", SPARSE_LEN), 0);
	for (i = 0; i < NR_SPARSE_MAPPERS; i++) {
		r = actor_reply(&a[i]);
		assert_non_null(r);
		assert_true(reply_has(r, "ok"));
	}
	/* every page allocated once */
	assert_int_equal(stat(fx.file, &st), 0);
	assert_int_equal(st.st_blocks, SPARSE_LEN / 512);
	/* each stores its own byte in its own page of every 2 MiB unit */
	for (i = 0; i < NR_SPARSE_MAPPERS; i++)
		for (u = 0; u < SPARSE_LEN / UNIT; u++)
			assert_string_equal(actor_cmd(&a[i], "store 0 %#x %u", u * UNIT + i * 4096,
						      0x10 + i), "ok");
	/* and sees everyone's */
	for (i = 0; i < NR_SPARSE_MAPPERS; i++)
		for (j = 0; j < NR_SPARSE_MAPPERS; j++)
			for (u = 0; u < SPARSE_LEN / UNIT; u++) {
				r = actor_cmd(&a[i], "touch 0 %#x", u * UNIT + j * 4096);
				if (reply_int(r, "value", -1) != 0x10 + j)
					fail_msg("mapper%u at %#x (mapper%u's store): %s", i,
						 u * UNIT + j * 4096, j, r);
			}
	for (i = 0; i < NR_SPARSE_MAPPERS; i++)
		actor_kill(&a[i]);
}

/*
 * A read-only mapping of one file, then a writable one of another: the
 * shim keeps one descriptor of the namespace's data, and one opened for
 * reading must not serve a writable mapping (nor a fork()ed child's).
 */
static void writable_after_read_only(void **state)
{
	char other[220];
	const char *r;

	(void)state;
	write_file(1u << 20, 0x41);
	snprintf(other, sizeof(other), "%s/g", fx.mnt);
	assert_int_equal(actor_start(&fx.p, &fx.d, "mapper"), 0);
	r = actor_cmd(&fx.p, "fwrite %s 0 0x100000 0x42", other);
	assert_int_equal(reply_int(r, "written", -1), 0x100000);
	assert_true(reply_has(actor_cmd(&fx.p, "open %s ro", fx.file), "ok"));
	r = actor_cmd(&fx.p, "mmap 0x100000 0 ro");
	if (!reply_has(r, "ok"))
		fail_msg("read-only mapping: %s", r);
	assert_int_equal(reply_int(actor_cmd(&fx.p, "touch 0 0x1000"), "value", -1), 0x41);
	assert_true(reply_has(actor_cmd(&fx.p, "open %s", other), "ok"));
	r = actor_cmd(&fx.p, "mmap 0x100000 0");
	if (!reply_has(r, "ok"))
		fail_msg("writable mapping after a read-only one: %s", r);
	assert_string_equal(actor_cmd(&fx.p, "store 1 0x2000 7"), "ok");
	assert_int_equal(reply_int(actor_cmd(&fx.p, "touch 1 0x2000"), "value", -1), 7);
	r = actor_cmd(&fx.p, "fread %s 0x2000 1", other);
	assert_int_equal(reply_int(r, "first", -1), 7);
}

/*
 * The pfn a file page shows in pagemap is the namespace's pfn of its
 * block: hard_offline_page of it by a process that maps nothing poisons
 * that page of the file, as memory_failure() of any pfn of the media
 * would.  Another file written first puts the file's blocks elsewhere
 * than its page index; after a punch and rewrite the page shows its new
 * block, which is the one hard_offline_page then hits.
 */
static void pagemap_pfn_hard_offline(void **state)
{
	char other[220];
	long long pfn, pfn2;
	const char *r;

	(void)state;
	snprintf(other, sizeof(other), "%s/g", fx.mnt);
	assert_int_equal(actor_start(&fx.p, &fx.d, "writer"), 0);
	r = actor_cmd(&fx.p, "fwrite %s 0 0x300000 0x42", other);
	assert_int_equal(reply_int(r, "written", -1), 0x300000);
	actor_kill(&fx.p);
	write_file(4u << 20, 0x41);
	assert_int_equal(actor_start(&fx.p, &fx.d, "injector"), 0);
	mapper(&fx.early, "early", 4u << 20);
	assert_int_equal(reply_int(actor_cmd(&fx.early, "prctl set early"), "ret", -1), 0);
	assert_int_equal(reply_int(actor_cmd(&fx.early, "touch 0 %#x", PAGE_OFF), "value", -1), 0x41);
	pfn = reply_int(actor_cmd(&fx.early, "pm 0 %#x", PAGE_OFF), "pfn", -1);
	assert_true(pfn > 0);
	assert_true(pfn != PAGE_OFF >> 12);
	/* the blocks of a 2 MiB chunk are contiguous in the namespace */
	assert_true(reply_has(actor_cmd(&fx.early, "touch 0 %#x", PAGE_OFF + 0x1000), "ok"));
	assert_int_equal(reply_int(actor_cmd(&fx.early, "pm 0 %#x", PAGE_OFF + 0x1000), "pfn", -1),
			 pfn + 1);
	r = actor_cmd(&fx.p, "fwrite /sys/devices/system/memory/hard_offline_page %#llx", pfn << 12);
	if (reply_int(r, "ret", -1) <= 0)
		fail_msg("hard_offline_page of pfn %#llx: %s", pfn, r);
	r = actor_cmd(&fx.early, "wait-signal 3000");
	assert_true(reply_has(r, "signal"));
	assert_int_equal(reply_int(r, "code", -1), 5);
	assert_int_equal(reply_int(r, "addr_off", -1), PAGE_OFF);
	assert_int_equal(reply_int(r, "lsb", -1), 21);
	assert_int_equal(td_log_count(&fx.d, "recovery action for dax page: Recovered"), 1);
	assert_int_equal(reply_int(actor_cmd(&fx.early, "pm 0 %#x", PAGE_OFF), "present", -1), 0);
	assert_int_equal(reply_int(actor_cmd(&fx.early, "touch 0 %#x", PAGE_OFF + 0x1000), "value", -1),
			 0x41);
	/* it is that page of this file that went bad, not the other file's */
	{
		char out[8192];

		assert_int_equal(td_cli(&fx.d, out, sizeof(out), "list -N -M"), 0);
		assert_non_null(strstr(out, "\"file\":\"f\""));
		assert_null(strstr(out, "\"file\":\"g\""));
		assert_non_null(strstr(out, "\"offset_bytes\":1056768"));
	}
	/* a new block for the page: its pfn is the new block's */
	assert_true(reply_has(actor_cmd(&fx.p, "fpunch %s %#x 4096", fx.file, PAGE_OFF), "ok"));
	r = actor_cmd(&fx.p, "fwrite %s %#x 4096 0x43", fx.file, PAGE_OFF);
	assert_int_equal(reply_int(r, "written", -1), 4096);
	assert_int_equal(reply_int(actor_cmd(&fx.early, "touch 0 %#x", PAGE_OFF), "value", -1), 0x43);
	pfn2 = reply_int(actor_cmd(&fx.early, "pm 0 %#x", PAGE_OFF), "pfn", -1);
	assert_true(pfn2 > 0);
	assert_true(pfn2 != pfn);
	r = actor_cmd(&fx.p, "fwrite /sys/devices/system/memory/hard_offline_page %#llx", pfn2 << 12);
	if (reply_int(r, "ret", -1) <= 0)
		fail_msg("hard_offline_page of the new pfn %#llx: %s", pfn2, r);
	r = actor_cmd(&fx.early, "wait-signal 3000");
	assert_int_equal(reply_int(r, "code", -1), 5);
	assert_int_equal(reply_int(r, "addr_off", -1), PAGE_OFF);
	assert_int_equal(td_log_count(&fx.d, "recovery action for dax page: Recovered"), 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(dax_poison_flow, setup, teardown),
		cmocka_unit_test_setup_teardown(bystanders_early_and_late, setup, teardown),
		cmocka_unit_test_setup_teardown(early_bystander_of_the_chunk, setup, teardown),
		cmocka_unit_test_setup_teardown(early_bystander_of_a_small_file, setup, teardown),
		cmocka_unit_test_setup_teardown(small_file_lsb12, setup, teardown),
		cmocka_unit_test_setup_teardown(sparse_file_lsb12, setup, teardown),
		cmocka_unit_test_setup_teardown(truncate_while_mapped, setup, teardown),
		cmocka_unit_test_setup_teardown(inject_and_clear_file_block, setup, teardown),
		cmocka_unit_test_setup_teardown(known_bad_block_new_mapping, setup, teardown),
		cmocka_unit_test_setup_teardown(known_bad_block_new_mapping_61, setup_61, teardown),
		cmocka_unit_test_setup_teardown(known_bad_block_split_and_fork, setup, teardown),
		cmocka_unit_test_setup_teardown(scrub_found_error_is_the_files, setup, teardown),
		cmocka_unit_test_setup_teardown(split_and_fork, setup, teardown),
		cmocka_unit_test_setup_teardown(files_outlive_kill9, setup, teardown),
		cmocka_unit_test_setup_teardown(stress_truncate_punch_poison, setup, teardown),
		cmocka_unit_test_setup_teardown(sparse_file_mapped_at_once, setup_big, teardown),
		cmocka_unit_test_setup_teardown(writable_after_read_only, setup, teardown),
		cmocka_unit_test_setup_teardown(pagemap_pfn_hard_offline, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
