// SPDX-License-Identifier: MIT
/*
 * fs/alloc.c: free space, a table of free extents (XFS's bnobt) in pages.
 * A poisoned free page stays free, listed in free_poison, and is never
 * handed out: its data is gone until something rewrites it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../util/util.h"
#include "fs-int.h"

/* The free extent holding page p: 1 found, 0 none, -EIO. */
static int free_at(struct fs_sb *sb, uint64_t p, uint64_t *start, uint64_t *len)
{
	sqlite3_stmt *st = fs_stmt(sb, "SELECT start, len FROM free WHERE start <= ?"
				   " ORDER BY start DESC LIMIT 1");
	int rc;

	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, (int64_t)p);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*start = (uint64_t)sqlite3_column_int64(st, 0);
		*len = (uint64_t)sqlite3_column_int64(st, 1);
		sqlite3_reset(st);
		return p < *start + *len;
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : -EIO;
}

static int free_insert(struct fs_sb *sb, uint64_t start, uint64_t len)
{
	int64_t a[2] = { (int64_t)start, (int64_t)len };

	return fs_exec(sb, "INSERT INTO free(start, len) VALUES (?, ?)", a, 2);
}

static int free_delete(struct fs_sb *sb, uint64_t start)
{
	int64_t a = (int64_t)start;

	return fs_exec(sb, "DELETE FROM free WHERE start = ?", &a, 1);
}

int fs_free_take(struct fs_sb *sb, uint64_t start, uint64_t n)
{
	uint64_t fs, fl;
	int err = free_at(sb, start, &fs, &fl);

	if (err < 0)
		return err;
	if (!err || start + n > fs + fl)
		return -EUCLEAN;	/* not free: the caller's bug or corruption */
	err = free_delete(sb, fs);
	if (!err && start > fs)
		err = free_insert(sb, fs, start - fs);
	if (!err && start + n < fs + fl)
		err = free_insert(sb, start + n, fs + fl - start - n);
	return err;
}

int fs_free_put(struct fs_sb *sb, uint64_t start, uint64_t n)
{
	uint64_t ps = 0, pl = 0;
	int64_t a, nl;
	int err, found;

	if (!n)
		return 0;
	if (start < sb->meta_pages || start + n > sb->nr_pages || start + n < start)
		return -EUCLEAN;
	found = start ? free_at(sb, start - 1, &ps, &pl) : 0;
	if (found < 0)
		return found;
	/* nothing of it may be free already */
	{
		int64_t args[2] = { (int64_t)start, (int64_t)(start + n) };
		int64_t v;

		err = fs_query_int(sb, "SELECT 1 FROM free WHERE start >= ? AND start < ? LIMIT 1",
				   args, 2, &v);
		if (err)
			return err < 0 ? err : -EUCLEAN;
	}
	a = (int64_t)(start + n);
	err = fs_query_int(sb, "SELECT len FROM free WHERE start = ?", &a, 1, &nl);
	if (err < 0)
		return err;
	if (err) {
		err = free_delete(sb, start + n);
		if (err)
			return err;
		n += (uint64_t)nl;
	}
	if (found && ps + pl == start) {
		int64_t args[2] = { (int64_t)(pl + n), (int64_t)ps };

		return fs_exec(sb, "UPDATE free SET len = ? WHERE start = ?", args, 2);
	}
	if (found)
		return -EUCLEAN;	/* the page before overlaps: double free */
	return free_insert(sb, start, n);
}

/* The first poisoned free page in [a, b), or b. */
static uint64_t first_poison(struct fs_sb *sb, uint64_t a, uint64_t b)
{
	int64_t args[2] = { (int64_t)a, (int64_t)b }, v;

	if (fs_query_int(sb, "SELECT page FROM free_poison WHERE page >= ? AND page < ?"
			 " ORDER BY page LIMIT 1", args, 2, &v) == 1)
		return (uint64_t)v;
	return b;
}

int fs_free_find(struct fs_sb *sb, uint64_t want, uint64_t align, bool exact,
		 uint64_t *start, uint64_t *got)
{
	sqlite3_stmt *st = fs_stmt(sb, "SELECT start, len FROM free ORDER BY start");
	uint64_t best_s = 0, best_l = 0;
	int rc;

	if (!st)
		return -EIO;
	/* first fit; without `exact`, the longest run if nothing fits */
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		uint64_t fs = (uint64_t)sqlite3_column_int64(st, 0);
		uint64_t fe = fs + (uint64_t)sqlite3_column_int64(st, 1);
		uint64_t a = MF_ALIGN_UP(fs, align);

		while (a < fe) {
			uint64_t lim = a + want < fe ? a + want : fe;
			uint64_t p = first_poison(sb, a, lim);

			if (p == a + want) {
				sqlite3_reset(st);
				*start = a;
				*got = want;
				return 0;
			}
			if (!exact && p - a > best_l) {
				best_s = a;
				best_l = p - a;
			}
			if (p == lim)
				break;
			a = MF_ALIGN_UP(p + 1, align);
		}
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return -EIO;
	if (exact || !best_l)
		return -ENOSPC;
	*start = best_s;
	*got = best_l;
	return 0;
}

int fs_zero_pages(struct fs_sb *sb, uint64_t start, uint64_t n)
{
	static const char zero[64 << 10];
	off_t off = (off_t)(start << MF_PAGE_SHIFT), len = (off_t)(n << MF_PAGE_SHIFT);
	int fd = sb->ns->data_fd;

	/* a fresh block is not poisoned: the driver's checks have nothing to say */
	if (!fallocate(fd, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE, off, len))
		return 0;
	while (len > 0) {
		size_t c = len < (off_t)sizeof(zero) ? (size_t)len : sizeof(zero);
		ssize_t w = pwrite(fd, zero, c, off);

		if (w <= 0)
			return w < 0 ? -errno : -EIO;
		off += w;
		len -= w;
	}
	return 0;
}
