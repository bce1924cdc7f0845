// SPDX-License-Identifier: MIT
/*
 * tests/integration/test-fsmeta.c: poison in the file system's metadata
 * of an fsdax namespace, handled as XFS's notify_failure does: nobody is
 * signalled, the file system shuts down (every file operation EIO, new
 * mappings SIGBUS, existing ones keep working), memory_failure reports
 * Failed, and the shutdown outlives a restart of the daemon until the
 * metadata's media is cleared (the mount then rewrites the superblock).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"

#define PAGE_OFF 0x102000

struct fx {
	struct tdaemon d;
	struct actor p, late;
	char mnt[160];
	char file[200];
};

static struct fx fx;

static int setup(void **state)
{
	memset(&fx, 0, sizeof(fx));
	if (td_start_fsdax(&fx.d, "", "64M", fx.mnt, sizeof(fx.mnt)))
		return -1;
	snprintf(fx.file, sizeof(fx.file), "%s/f", fx.mnt);
	*state = &fx;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	actor_kill(&f->p);
	actor_kill(&f->late);
	td_destroy(&f->d);
	umount2(f->mnt, MNT_DETACH);
	rmdir(f->mnt);
	return 0;
}

/* A file of 4 MiB of 0x41, mapped whole by p, opened (not mapped) by late. */
static void file_mapped_and_open(void)
{
	const char *r;

	assert_int_equal(actor_start(&fx.p, &fx.d, "mapper"), 0);
	r = actor_cmd(&fx.p, "fwrite %s 0 %#x 65", fx.file, 4u << 20);
	assert_int_equal(reply_int(r, "written", -1), 4u << 20);
	assert_true(reply_has(actor_cmd(&fx.p, "open %s", fx.file), "ok"));
	assert_true(reply_has(actor_cmd(&fx.p, "mmap %#x 0 sync", 4u << 20), "ok"));
	assert_int_equal(reply_int(actor_cmd(&fx.p, "touch 0 %#x", PAGE_OFF), "value", -1), 0x41);
	assert_int_equal(actor_start(&fx.late, &fx.d, "late"), 0);
	assert_true(reply_has(actor_cmd(&fx.late, "open %s", fx.file), "ok"));
}

/* The file system as shut down: what every kind of use gets. */
static void assert_shut_down(const char *why)
{
	struct stat st;
	char out[8192];
	const char *r;

	/* the existing mapping keeps working; nobody was signalled */
	r = actor_cmd(&fx.p, "touch 0 %#x", PAGE_OFF);
	assert_int_equal(reply_int(r, "value", -1), 0x41);
	r = actor_cmd(&fx.p, "fread %s 0 512", fx.file);
	assert_int_equal(reply_int(r, "errno", -1), EIO);
	assert_int_equal(stat(fx.file, &st), -1);
	assert_int_equal(errno, EIO);
	assert_int_equal(open(fx.file, O_RDONLY), -1);
	assert_int_equal(errno, EIO);
	r = actor_cmd(&fx.p, "fwrite %s/g 0 4096 1", fx.mnt);
	assert_int_equal(reply_int(r, "errno", -1), EIO);
	/* a new mapping of an already open file: made, and its faults SIGBUS */
	r = actor_cmd(&fx.late, "mmap 0x200000 0");
	if (!reply_has(r, "ok"))
		fail_msg("mmap: %s", r);
	r = actor_cmd(&fx.late, "touch 0 0x1000");
	assert_true(reply_has(r, "sigbus"));
	assert_int_equal(reply_int(r, "code", -1), 2);	/* BUS_ADRERR */
	assert_int_equal(td_cli(&fx.d, out, sizeof(out), "list -N"), 0);
	assert_non_null(strstr(out, "\"fs_state\":\"shutdown\""));
	assert_non_null(strstr(out, why));
}

static void superblock_poison_shuts_down(void **state)
{
	char out[8192];
	struct stat st;
	const char *r;

	(void)state;
	file_mapped_and_open();
	assert_int_equal(td_cli(&fx.d, out, sizeof(out), "list -N"), 0);
	assert_null(strstr(out, "fs_state"));
	/* the superblock's first sector goes bad, known to the driver */
	td_cli(&fx.d, NULL, 0, "inject-error pmem0.0 --block 0 --count 1");
	assert_true(td_log_wait(&fx.d, "Shutting down filesystem", 1, 5000) >= 1);
	assert_int_equal(td_log_count(&fx.d, "Corruption of on-disk metadata"), 1);
	assert_true(td_log_count(&fx.d, "recovery action for dax page: Failed") >= 1);
	assert_int_equal(td_log_count(&fx.d, "Killing"), 0);
	assert_shut_down("metadata page 0 (superblock) poisoned");
	assert_false(fx.p.exited);

	/* a restart does not trust the metadata again */
	actor_kill(&fx.p);
	actor_kill(&fx.late);
	td_stop(&fx.d);
	assert_int_equal(td_restart(&fx.d), 0);
	assert_true(td_log_count(&fx.d, "cannot mount: a page of the metadata area is poisoned") >= 1);
	assert_int_equal(td_cli(&fx.d, out, sizeof(out), "list -N"), 0);
	assert_non_null(strstr(out, "\"fs_state\":\"shutdown\""));
	assert_non_null(strstr(out, "clear-errors"));
	assert_int_equal(stat(fx.file, &st), -1);

	/* the recovery write: mounted again, superblock from the database */
	assert_int_equal(td_cli(&fx.d, NULL, 0, "clear-errors pmem0.0"), 0);
	assert_true(td_log_wait(&fx.d, "metadata repaired", 1, 5000) >= 1);
	assert_int_equal(td_cli(&fx.d, out, sizeof(out), "list -N"), 0);
	assert_null(strstr(out, "fs_state"));
	assert_int_equal(stat(fx.file, &st), 0);
	assert_int_equal(st.st_size, 4u << 20);
	assert_int_equal(actor_start(&fx.p, &fx.d, "reader"), 0);
	r = actor_cmd(&fx.p, "fread %s %#x 512", fx.file, PAGE_OFF);
	assert_int_equal(reply_int(r, "ret", -1), 512);
	assert_int_equal(reply_int(r, "first", -1), 0x41);
	assert_true(reply_has(actor_cmd(&fx.p, "open %s", fx.file), "ok"));
	assert_true(reply_has(actor_cmd(&fx.p, "mmap 0x200000 0"), "ok"));
	assert_int_equal(reply_int(actor_cmd(&fx.p, "touch 0 0x1000"), "value", -1), 0x41);
}

/* A log page found bad by a scrub (latent poison): the same shutdown. */
static void log_poison_found_by_scrub(void **state)
{
	char out[8192];

	(void)state;
	file_mapped_and_open();
	assert_int_equal(td_cli(&fx.d, NULL, 0, "inject-error pmem0.0 --block 16 --count 1 --no-notify"), 0);
	assert_int_equal(td_log_count(&fx.d, "Shutting down filesystem"), 0);
	assert_int_equal(td_cli(&fx.d, NULL, 0, "start-scrub"), 0);
	assert_true(td_log_wait(&fx.d, "Shutting down filesystem", 1, 10000) >= 1);
	assert_true(td_log_count(&fx.d, "metadata page 2 (log) poisoned") >= 1);
	assert_shut_down("metadata page 2 (log) poisoned");
	/* once down, more metadata poison adds no second shutdown */
	td_cli(&fx.d, NULL, 0, "inject-error pmem0.0 --block 0 --count 1");
	assert_true(td_log_wait(&fx.d, "metadata page 0 (superblock) poisoned", 1, 5000) >= 1);
	assert_int_equal(td_log_count(&fx.d, "Shutting down filesystem"), 1);
	assert_int_equal(td_cli(&fx.d, out, sizeof(out), "list -N"), 0);
	assert_non_null(strstr(out, "metadata page 2 (log) poisoned"));
}

/* A page of a file next to the metadata area: only its own mappers hear. */
static void file_poison_is_not_metadata(void **state)
{
	char out[8192];
	const char *r;

	(void)state;
	file_mapped_and_open();
	/* the file's first chunk is the namespace's second (the first holds
	 * the metadata area) */
	td_cli(&fx.d, NULL, 0, "inject-error pmem0.0 --block %d --count 1", (512 + 2) * 8);
	r = actor_cmd(&fx.p, "touch 0 0x2000");
	assert_int_equal(reply_int(r, "code", -1), 4);
	assert_int_equal(td_log_count(&fx.d, "Shutting down filesystem"), 0);
	assert_int_equal(td_cli(&fx.d, out, sizeof(out), "list -N"), 0);
	assert_null(strstr(out, "fs_state"));
	r = actor_cmd(&fx.late, "fread %s 0x10000 512", fx.file);
	assert_int_equal(reply_int(r, "ret", -1), 512);
}

/* Destroying a namespace whose file system could not be mounted takes
 * its database too; a new namespace of that id gets a fresh one. */
static void destroy_unmountable(void **state)
{
	char path[300], out[8192];
	struct dirent *e;
	int dbs = 0;
	DIR *dir;

	(void)state;
	td_cli(&fx.d, NULL, 0, "inject-error pmem0.0 --block 0 --count 1");
	assert_true(td_log_wait(&fx.d, "Shutting down filesystem", 1, 5000) >= 1);
	td_stop(&fx.d);
	assert_int_equal(td_restart(&fx.d), 0);
	assert_int_equal(td_cli(&fx.d, NULL, 0, "destroy-namespace namespace0.0"), 0);
	snprintf(path, sizeof(path), "%s/fs", fx.d.state);
	dir = opendir(path);
	assert_non_null(dir);
	while ((e = readdir(dir)))
		dbs += strstr(e->d_name, ".db") != NULL;
	closedir(dir);
	assert_int_equal(dbs, 0);
	assert_int_equal(td_cli(&fx.d, NULL, 0, "create-namespace --size 64M --mode fsdax --mount %s",
				fx.mnt), 0);
	assert_int_equal(td_cli(&fx.d, out, sizeof(out), "list -N"), 0);
	assert_null(strstr(out, "fs_state"));
	assert_int_equal(actor_start(&fx.p, &fx.d, "writer"), 0);
	assert_int_equal(reply_int(actor_cmd(&fx.p, "fwrite %s 0 4096 7", fx.file), "written", -1),
			 4096);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(superblock_poison_shuts_down, setup, teardown),
		cmocka_unit_test_setup_teardown(log_poison_found_by_scrub, setup, teardown),
		cmocka_unit_test_setup_teardown(file_poison_is_not_metadata, setup, teardown),
		cmocka_unit_test_setup_teardown(destroy_unmountable, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
