// SPDX-License-Identifier: MIT
/*
 * tests/integration/test-fsdax-fiemap.c: what the shim shows of an fsdax
 * file's blocks and of the driver's bad-block list, as the kernel's
 * interfaces do: ioctl(FS_IOC_FIEMAP) on a file of the mount (extents,
 * holes, fm_extent_count, the range, FIEMAP_EXTENT_LAST; fe_physical the
 * byte offset on /dev/pmemX.Y, what badblocks and inject-error count
 * sectors of), and writes of "SECTOR COUNT" to
 * /sys/block/pmemX.Y/badblocks (badblocks_store()).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include <linux/fiemap.h>

#include "harness.h"

#define MiB		(1u << 20)
#define HOLE_OFF	0x100000	/* the punched range */
#define HOLE_LEN	0x10000

struct fx {
	struct tdaemon d;
	struct actor p, q;
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
	if (actor_start(&fx.p, &fx.d, "fiemapper"))
		return -1;
	*state = &fx;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	actor_kill(&f->p);
	actor_kill(&f->q);
	td_destroy(&f->d);
	umount2(f->mnt, MNT_DETACH);
	rmdir(f->mnt);
	return 0;
}

struct ext {
	unsigned long long logical, physical, len;
	unsigned flags;
};

/* The ext= list of a fiemap answer; how many. */
static int parse_exts(const char *r, struct ext *e, int max)
{
	const char *p = strstr(r, " ext=");
	int n = 0;

	if (!p)
		return 0;
	p += 5;
	while (n < max && sscanf(p, "%llx/%llx/%llx/%x", &e[n].logical, &e[n].physical, &e[n].len,
				 &e[n].flags) == 4) {
		n++;
		p = strchr(p, ',');
		if (!p)
			break;
		p++;
	}
	return n;
}

/* A 4 MiB file of 0x41 with [HOLE_OFF, HOLE_OFF + HOLE_LEN) punched out. */
static void file_with_hole(void)
{
	const char *r = actor_cmd(&fx.p, "fwrite %s 0 %#x 65", fx.file, 4 * MiB);

	assert_int_equal(reply_int(r, "written", -1), 4 * MiB);
	assert_true(reply_has(actor_cmd(&fx.p, "fpunch %s %#x %#x", fx.file, HOLE_OFF, HOLE_LEN),
			      "ok"));
}

/*
 * Every extent in file order, none over the hole, together the whole file
 * but the hole; the last one (only) FIEMAP_EXTENT_LAST; the count-only
 * query and a short array agree with it.
 */
static void fiemap_extents_of_file_with_hole(void **state)
{
	struct ext e[16];
	unsigned long long covered = 0;
	const char *r;
	int n, i;

	(void)state;
	file_with_hole();
	r = actor_cmd(&fx.p, "fiemap %s 0 %#x 16", fx.file, 4 * MiB);
	assert_int_equal(reply_int(r, "ret", -1), 0);
	n = parse_exts(r, e, 16);
	assert_int_equal(reply_int(r, "extents", -1), n);
	if (n < 2)
		fail_msg("two extents at least, around the hole: %s", r);
	for (i = 0; i < n; i++) {
		assert_true(e[i].len > 0 && e[i].len % 4096 == 0 && e[i].physical % 4096 == 0);
		assert_true(e[i].logical + e[i].len <= HOLE_OFF || e[i].logical >= HOLE_OFF + HOLE_LEN);
		if (i)
			assert_true(e[i].logical >= e[i - 1].logical + e[i - 1].len);
		assert_int_equal(e[i].flags, i == n - 1 ? FIEMAP_EXTENT_LAST : 0);
		covered += e[i].len;
	}
	assert_int_equal(e[0].logical, 0);
	assert_int_equal(e[n - 1].logical + e[n - 1].len, 4 * MiB);
	assert_int_equal(covered, 4 * MiB - HOLE_LEN);
	/* the blocks are past the file system's metadata area */
	assert_true(e[0].physical >= 4 * 4096);

	/* fm_extent_count 0: only counted */
	r = actor_cmd(&fx.p, "fiemap %s 0 %#x 0", fx.file, 4 * MiB);
	assert_int_equal(reply_int(r, "ret", -1), 0);
	assert_int_equal(reply_int(r, "extents", -1), n);
	/* room for one: the first, not the last */
	r = actor_cmd(&fx.p, "fiemap %s 0 %#x 1", fx.file, 4 * MiB);
	assert_int_equal(reply_int(r, "extents", -1), 1);
	assert_int_equal(parse_exts(r, e + 8, 1), 1);
	assert_int_equal(e[8].logical, e[0].logical);
	assert_int_equal(e[8].physical, e[0].physical);
	assert_int_equal(e[8].flags, 0);

	/* a range inside an extent: that page, clipped, the range's last */
	r = actor_cmd(&fx.p, "fiemap %s 0x302000 0x1000 16", fx.file);
	assert_int_equal(parse_exts(r, e + 8, 1), 1);
	assert_int_equal(e[8].logical, 0x302000);
	assert_int_equal(e[8].len, 0x1000);
	assert_int_equal(e[8].flags, FIEMAP_EXTENT_LAST);
	for (i = 0; i < n && !(e[i].logical <= 0x302000 && 0x302000 < e[i].logical + e[i].len); i++)
		;
	assert_true(i < n);
	assert_int_equal(e[8].physical, e[i].physical + (0x302000 - e[i].logical));
	/* the hole: nothing there */
	r = actor_cmd(&fx.p, "fiemap %s %#x 0x1000 16", fx.file, HOLE_OFF + 0x1000);
	assert_int_equal(reply_int(r, "ret", -1), 0);
	assert_int_equal(reply_int(r, "extents", -1), 0);
	/* FIEMAP allocates nothing: the hole is one still */
	r = actor_cmd(&fx.p, "fiemap %s 0 %#x 16", fx.file, 4 * MiB);
	assert_int_equal(reply_int(r, "extents", -1), n);
}

/*
 * fe_physical is where memfail's driver has the page: a bad block entered
 * at that sector is refused to a fresh mapping's touch of that file page
 * alone, as the driver refuses it.
 */
static void fiemap_sector_is_the_drivers(void **state)
{
	const char *r;
	long long sector;

	(void)state;
	file_with_hole();
	r = actor_cmd(&fx.p, "fiemap %s 0x302000", fx.file);
	sector = reply_int(r, "sector", -1);
	if (sector <= 0)
		fail_msg("no sector: %s", r);
	assert_int_equal(td_cli(&fx.d, NULL, 0, "inject-error pmem0.0 --block %lld --count 8",
				sector), 0);
	assert_int_equal(actor_start(&fx.q, &fx.d, "mapper"), 0);
	assert_true(reply_has(actor_cmd(&fx.q, "open %s", fx.file), "ok"));
	assert_true(reply_has(actor_cmd(&fx.q, "mmap %#x 0 sync", 4 * MiB), "ok"));
	r = actor_cmd(&fx.q, "touch 0 0x302000");
	assert_int_equal(reply_int(r, "code", -1), 4);
	assert_int_equal(reply_int(r, "addr_off", -1), 0x302000);
	assert_int_equal(reply_int(r, "lsb", -1), 12);
	assert_int_equal(reply_int(actor_cmd(&fx.q, "touch 0 0x303000"), "value", -1), 0x41);
	assert_int_equal(reply_int(actor_cmd(&fx.q, "touch 0 0x301000"), "value", -1), 0x41);
	assert_int_equal(td_log_count(&fx.d, "MCE: Killing mapper:"), 1);
}

/* A file that is not of the mount: the kernel's answer, as without the shim. */
static void fiemap_elsewhere_is_the_kernels(void **state)
{
	char path[256];
	const char *r;
	FILE *f;

	(void)state;
	snprintf(path, sizeof(path), "%s/plain", fx.d.dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("data\n", f);
	fclose(f);
	r = actor_cmd(&fx.p, "fiemap %s 0 0x1000 16", path);
	/* what the real file system says (tmpfs: EOPNOTSUPP); never the
	 * daemon's, which has no such file */
	if (reply_int(r, "ret", -1) == 0)
		assert_true(reply_int(r, "extents", -1) >= 0);
	else
		assert_true(reply_int(r, "errno", 0) == EOPNOTSUPP || reply_int(r, "errno", 0) == ENOTTY);
}

/* badblocks_store(): the namespace's admin only; "SECTOR COUNT" or EINVAL. */
static void badblocks_write(void **state)
{
	char path[128], out[8192];
	const char *r;

	(void)state;
	snprintf(path, sizeof(path), "/sys/block/pmem0.0/badblocks");
	/* not root, not the daemon's user: the file's 0644 refuses the open */
	assert_int_equal(actor_start(&fx.q, &fx.d, "nobody"), 0);
	assert_true(reply_has(actor_cmd(&fx.q, "setuid 65534"), "ok"));
	r = actor_cmd(&fx.q, "badblocks-add pmem0.0 1024 8");
	assert_int_equal(reply_int(r, "errno", -1), EACCES);
	assert_non_null(strstr(r, "at=open"));

	/* malformed */
	r = actor_cmd(&fx.p, "fwrite %s garbage", path);
	assert_int_equal(reply_int(r, "errno", -1), EINVAL);
	r = actor_cmd(&fx.p, "fwrite %s 1024", path);
	assert_int_equal(reply_int(r, "errno", -1), EINVAL);
	r = actor_cmd(&fx.p, "badblocks-add pmem0.0 1024 0");
	assert_int_equal(reply_int(r, "errno", -1), EINVAL);
	r = actor_cmd(&fx.p, "badblocks-add pmem0.0 1024 -8");
	assert_int_equal(reply_int(r, "errno", -1), EINVAL);
	r = actor_cmd(&fx.p, "fcat %s", path);
	assert_true(reply_has(r, "ok"));
	assert_null(strstr(r, "1024"));

	/* a good one: listed, by the driver and by memfail */
	r = actor_cmd(&fx.p, "badblocks-add pmem0.0 1024 8");
	assert_int_equal(reply_int(r, "ret", -1), 0);
	assert_int_equal(reply_int(r, "errno", -1), 0);
	r = actor_cmd(&fx.p, "fcat %s", path);
	assert_non_null(strstr(r, "text=1024_8"));
	assert_int_equal(td_cli(&fx.d, out, sizeof(out), "list -M"), 0);
	if (!strstr(out, "1024"))
		fail_msg("list -M: %s", out);
	/* not memory_failure(): nothing is signalled or recovered */
	assert_int_equal(td_log_count(&fx.d, "Memory failure"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(fiemap_extents_of_file_with_hole, setup, teardown),
		cmocka_unit_test_setup_teardown(fiemap_sector_is_the_drivers, setup, teardown),
		cmocka_unit_test_setup_teardown(fiemap_elsewhere_is_the_kernels, setup, teardown),
		cmocka_unit_test_setup_teardown(badblocks_write, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
