// SPDX-License-Identifier: MIT
/*
 * fs/extent.c: the block map of files (file page -> namespace page) and
 * its reverse (XFS's bmbt and rmapbt in one table, indexed both ways),
 * allocation of holes and freeing of ranges.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../util/util.h"
#include "fs-int.h"

int fs_extents(struct fs_sb *sb, uint64_t ino, uint64_t first, uint64_t n,
	       struct fs_extent **out, size_t *nr)
{
	sqlite3_stmt *st = fs_stmt(sb, "SELECT foff, nsoff, len FROM extents WHERE ino = ?"
				   " AND foff < ? AND foff + len > ? ORDER BY foff");
	uint64_t end = n > UINT64_MAX - first || first + n > (uint64_t)INT64_MAX ?
		       (uint64_t)INT64_MAX : first + n;
	struct fs_extent *e = NULL;
	size_t cnt = 0, cap = 0;
	int rc;

	*out = NULL;
	*nr = 0;
	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, (int64_t)ino);
	sqlite3_bind_int64(st, 2, (int64_t)end);
	sqlite3_bind_int64(st, 3, (int64_t)first);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (cnt == cap) {
			struct fs_extent *ne;

			cap = cap ? cap * 2 : 8;
			ne = realloc(e, cap * sizeof(*e));
			if (!ne) {
				sqlite3_reset(st);
				free(e);
				return -ENOMEM;
			}
			e = ne;
		}
		e[cnt].foff = (uint64_t)sqlite3_column_int64(st, 0);
		e[cnt].nsoff = (uint64_t)sqlite3_column_int64(st, 1);
		e[cnt].len = (uint64_t)sqlite3_column_int64(st, 2);
		cnt++;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		free(e);
		return -EIO;
	}
	*out = e;
	*nr = cnt;
	return 0;
}

int fs_bmap_locked(struct fs_sb *sb, uint64_t ino, uint64_t idx, struct fs_extent *ext)
{
	sqlite3_stmt *st = fs_stmt(sb, "SELECT foff, nsoff, len FROM extents WHERE ino = ?"
				   " AND foff <= ? ORDER BY foff DESC LIMIT 1");
	int rc;

	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, (int64_t)ino);
	sqlite3_bind_int64(st, 2, (int64_t)idx);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		ext->foff = (uint64_t)sqlite3_column_int64(st, 0);
		ext->nsoff = (uint64_t)sqlite3_column_int64(st, 1);
		ext->len = (uint64_t)sqlite3_column_int64(st, 2);
		sqlite3_reset(st);
		return idx < ext->foff + ext->len ? 0 : -ENOENT;
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? -ENOENT : -EIO;
}

static int extent_insert(struct fs_sb *sb, uint64_t ino, uint64_t foff, uint64_t nsoff,
			 uint64_t len)
{
	int64_t a[4] = { (int64_t)ino, (int64_t)foff, (int64_t)nsoff, (int64_t)len };

	return fs_exec(sb, "INSERT INTO extents(ino, foff, nsoff, len) VALUES (?, ?, ?, ?)", a, 4);
}

static int extent_delete(struct fs_sb *sb, uint64_t ino, uint64_t foff)
{
	int64_t a[2] = { (int64_t)ino, (int64_t)foff };

	return fs_exec(sb, "DELETE FROM extents WHERE ino = ? AND foff = ?", a, 2);
}

/* Map file pages [foff, foff + len) to [nsoff, ...), merged with a
 * neighbour that continues both. */
static int extent_add(struct fs_sb *sb, uint64_t ino, uint64_t foff, uint64_t nsoff,
		      uint64_t len)
{
	struct fs_extent prev, next;
	int err;

	if (foff && !fs_bmap_locked(sb, ino, foff - 1, &prev) &&
	    prev.nsoff + prev.len == nsoff) {
		err = extent_delete(sb, ino, prev.foff);
		if (err)
			return err;
		foff = prev.foff;
		nsoff = prev.nsoff;
		len += prev.len;
	}
	if (!fs_bmap_locked(sb, ino, foff + len, &next) && next.foff == foff + len &&
	    next.nsoff == nsoff + len) {
		err = extent_delete(sb, ino, next.foff);
		if (err)
			return err;
		len += next.len;
	}
	return extent_insert(sb, ino, foff, nsoff, len);
}

/* Allocate `n` pages for file pages from foff on, contiguous where possible. */
static int alloc_small(struct fs_sb *sb, uint64_t ino, uint64_t foff, uint64_t n)
{
	while (n) {
		uint64_t s, got;
		int err = fs_free_find(sb, n, 1, false, &s, &got);

		if (!err)
			err = fs_free_take(sb, s, got);
		if (!err)
			err = fs_zero_pages(sb, s, got);
		if (!err)
			err = extent_add(sb, ino, foff, s, got);
		if (err)
			return err;
		foff += got;
		n -= got;
	}
	return 0;
}

/* Page by page, one extent each. */
static int alloc_faulted(struct fs_sb *sb, uint64_t ino, uint64_t foff, uint64_t n)
{
	for (; n; n--, foff++) {
		uint64_t s, got;
		int err = fs_free_find(sb, 1, 1, true, &s, &got);

		if (!err)
			err = fs_free_take(sb, s, 1);
		if (!err)
			err = fs_zero_pages(sb, s, 1);
		if (!err)
			err = extent_insert(sb, ino, foff, s, 1);
		if (err)
			return err;
	}
	return 0;
}

static bool chunk_empty(struct fs_sb *sb, uint64_t ino, uint64_t c)
{
	struct fs_extent *e;
	size_t n;

	if (fs_extents(sb, ino, c, FS_CHUNK_PAGES, &e, &n))
		return false;
	free(e);
	return n == 0;
}

int fs_alloc_range(struct fs_sb *sb, uint64_t ino, uint64_t first, uint64_t n,
		   enum fs_alloc how)
{
	bool big = how == FS_ALLOC_BIG;
	uint64_t end = first + n, p = first;
	struct fs_extent *e;
	size_t nr, i = 0;
	bool any = false;
	int err = fs_extents(sb, ino, first, n, &e, &nr);

	if (err)
		return err;
	while (p < end) {
		uint64_t hole_end = end, c, ce, s, got;

		/* skip what is allocated */
		if (i < nr && e[i].foff <= p) {
			p = e[i].foff + e[i].len;
			i++;
			continue;
		}
		if (i < nr && e[i].foff < hole_end)
			hole_end = e[i].foff;
		c = MF_ALIGN_DOWN(p, FS_CHUNK_PAGES);
		ce = c + FS_CHUNK_PAGES;
		if (big && chunk_empty(sb, ino, c) &&
		    !fs_free_find(sb, FS_CHUNK_PAGES, FS_CHUNK_PAGES, true, &s, &got)) {
			/* the whole chunk: PMD-mappable */
			err = fs_free_take(sb, s, FS_CHUNK_PAGES);
			if (!err)
				err = fs_zero_pages(sb, s, FS_CHUNK_PAGES);
			if (!err)
				err = extent_add(sb, ino, c, s, FS_CHUNK_PAGES);
			if (err)
				goto out;
			p = ce;
			any = true;
			/* the extents list is stale past here: reload it */
			free(e);
			err = fs_extents(sb, ino, p, end > p ? end - p : 0, &e, &nr);
			if (err)
				return err;
			i = 0;
			continue;
		}
		if (hole_end > ce)
			hole_end = ce;
		err = how == FS_ALLOC_FAULT ? alloc_faulted(sb, ino, p, hole_end - p) :
		      alloc_small(sb, ino, p, hole_end - p);
		if (err)
			goto out;
		any = true;
		p = hole_end;
	}
	/* the zeros reach the media before the blocks are the file's */
	if (any && fdatasync(sb->ns->data_fd))
		err = -errno;
out:
	free(e);
	return err;
}

void fs_wait_entries(struct fs_sb *sb, uint64_t ino, uint64_t first, uint64_t n)
{
	size_t i;

again:
	for (i = 0; i < sb->nr_entry; i++) {
		const struct fs_entry *x = &sb->entry[i];

		if (x->ino == ino && x->idx >= first && x->idx - first < n) {
			pthread_cond_wait(&sb->entry_cv, &sb->lock);
			goto again;
		}
	}
}

/* Freed namespace pages [s, s + n), which were file pages from foff: their
 * poison, known to the file or to the media, goes to the free list's. */
static int poison_to_free(struct fs_sb *sb, uint64_t ino, uint64_t foff, uint64_t s, uint64_t n)
{
	int64_t a[3] = { (int64_t)ino, (int64_t)foff, (int64_t)(foff + n) };
	uint64_t i;
	int err;

	err = fs_exec(sb, "INSERT OR IGNORE INTO free_poison(page) SELECT nspage FROM media_errors"
		      " WHERE ino = ? AND idx >= ? AND idx < ?", a, 3);
	if (!err)
		err = fs_exec(sb, "DELETE FROM media_errors WHERE ino = ? AND idx >= ? AND idx < ?",
			      a, 3);
	for (i = 0; !err && i < n; i++) {
		int64_t p = (int64_t)(s + i);

		if (nd_page_bad(sb->ns, s + i) || nd_page_hwpoison(sb->ns, s + i))
			err = fs_exec(sb, "INSERT OR IGNORE INTO free_poison(page) VALUES (?)", &p, 1);
	}
	return err;
}

int fs_free_range(struct fs_sb *sb, uint64_t ino, uint64_t first, uint64_t n)
{
	uint64_t end = n > UINT64_MAX - first ? UINT64_MAX : first + n;
	struct fs_extent *e;
	size_t nr, i;
	int err;

	fs_wait_entries(sb, ino, first, end - first);
	err = fs_extents(sb, ino, first, end - first, &e, &nr);
	if (err || !nr)
		return err;
	/* unmap_mapping_range(): nobody keeps a mapping of what goes */
	if (sb->ops && sb->ops->unmap_pages)
		sb->ops->unmap_pages(sb, ino, first, end - first, sb->priv);
	for (i = 0; i < nr && !err; i++) {
		uint64_t fs = e[i].foff, fe = e[i].foff + e[i].len;
		uint64_t cs = fs > first ? fs : first, ce = fe < end ? fe : end;
		uint64_t ns = e[i].nsoff + (cs - fs);

		err = extent_delete(sb, ino, fs);
		if (!err && cs > fs)
			err = extent_insert(sb, ino, fs, e[i].nsoff, cs - fs);
		if (!err && ce < fe)
			err = extent_insert(sb, ino, ce, e[i].nsoff + (ce - fs), fe - ce);
		if (!err)
			err = poison_to_free(sb, ino, cs, ns, ce - cs);
		if (!err)
			err = fs_free_put(sb, ns, ce - cs);
	}
	free(e);
	return err;
}
