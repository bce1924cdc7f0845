// SPDX-License-Identifier: MIT
/*
 * fs/io.c: read and write through the namespace's driver, the block maps
 * for fs/dax.c, entry locks and poison bookkeeping.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../util/util.h"
#include "fs-int.h"

static bool media_error_at(struct fs_sb *sb, uint64_t ino, uint64_t idx)
{
	int64_t a[2] = { (int64_t)ino, (int64_t)idx }, v;

	return fs_query_int(sb, "SELECT 1 FROM media_errors WHERE ino = ? AND idx = ?", a, 2, &v) != 0;
}

/* Is file page idx, at namespace page nspage, poisoned? */
static bool page_is_bad(struct fs_sb *sb, uint64_t ino, uint64_t idx, uint64_t nspage)
{
	return nd_page_bad(sb->ns, nspage) || nd_page_hwpoison(sb->ns, nspage) ||
	       media_error_at(sb, ino, idx);
}

static int file_size(struct fs_sb *sb, uint64_t ino, uint64_t *size)
{
	int64_t a = (int64_t)ino, v;
	int rc;

	if (ino == FS_ROOT_INO)
		return -EISDIR;
	rc = fs_query_int(sb, "SELECT size FROM files WHERE ino = ?", &a, 1, &v);
	if (rc <= 0)
		return rc ? rc : -ENOENT;
	*size = (uint64_t)v;
	return 0;
}

ssize_t fs_read(struct fs_sb *sb, uint64_t ino, uint64_t off, void *buf, size_t len)
{
	uint64_t size, end, pos;
	ssize_t ret = 0;
	int err;

	FS_SHUTDOWN_CHECK(sb);
	pthread_mutex_lock(&sb->lock);
	err = file_size(sb, ino, &size);
	if (err) {
		ret = err;
		goto unlock;
	}
	if (off >= size || !len) {
		ret = 0;
		goto unlock;
	}
	end = len > size - off ? size : off + len;
	for (pos = off; pos < end; ) {
		uint64_t idx = pos >> MF_PAGE_SHIFT;
		uint64_t pe = (idx + 1) << MF_PAGE_SHIFT;
		size_t n = (size_t)((pe < end ? pe : end) - pos);
		struct fs_extent x;

		err = fs_bmap_locked(sb, ino, idx, &x);
		if (err == -ENOENT) {
			memset((char *)buf + (pos - off), 0, n);
			err = 0;
		} else if (!err) {
			uint64_t nspage = x.nsoff + idx - x.foff;

			/* dax_iomap_rw(): a poisoned page fails the read */
			if (media_error_at(sb, ino, idx))
				err = -EIO;
			else
				err = nd_read(sb->ns, (nspage << MF_PAGE_SHIFT) + (pos & (MF_PAGE_SIZE - 1)),
					      (char *)buf + (pos - off), n);
		}
		if (err) {
			/* what was read before the bad page is returned */
			ret = pos > off ? (ssize_t)(pos - off) : err;
			goto unlock;
		}
		pos += n;
	}
	ret = (ssize_t)(end - off);
unlock:
	pthread_mutex_unlock(&sb->lock);
	return ret;
}

struct cleared {
	uint64_t *page;
	size_t n, cap;
};

static int cleared_add(struct cleared *c, uint64_t page)
{
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 8;
		uint64_t *p = realloc(c->page, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		c->page = p;
		c->cap = cap;
	}
	c->page[c->n++] = page;
	return 0;
}

/*
 * Poisoned pages under the write: one covered in part fails it (pmem can
 * only clear what it rewrites whole); whole ones are recovery writes.
 */
static int write_check_poison(struct fs_sb *sb, uint64_t ino, uint64_t off, uint64_t end,
			      struct cleared *c)
{
	uint64_t p0 = off >> MF_PAGE_SHIFT, p1 = MF_ALIGN_UP(end, MF_PAGE_SIZE) >> MF_PAGE_SHIFT;
	struct fs_extent *e;
	size_t nr, i;
	int err = fs_extents(sb, ino, p0, p1 - p0, &e, &nr);

	for (i = 0; !err && i < nr; i++) {
		uint64_t a = e[i].foff > p0 ? e[i].foff : p0;
		uint64_t b = e[i].foff + e[i].len < p1 ? e[i].foff + e[i].len : p1;
		uint64_t idx;

		for (idx = a; !err && idx < b; idx++) {
			uint64_t nspage = e[i].nsoff + idx - e[i].foff;
			bool whole = (idx << MF_PAGE_SHIFT) >= off &&
				     ((idx + 1) << MF_PAGE_SHIFT) <= end;

			if (!page_is_bad(sb, ino, idx, nspage))
				continue;
			err = whole ? cleared_add(c, nspage) : -EIO;
		}
	}
	free(e);
	return err;
}

static int write_data(struct fs_sb *sb, uint64_t ino, uint64_t off, const void *buf, size_t len)
{
	uint64_t end = off + len, pos = off;

	while (pos < end) {
		uint64_t idx = pos >> MF_PAGE_SHIFT;
		struct fs_extent x;
		uint64_t xend, n;
		int err = fs_bmap_locked(sb, ino, idx, &x);

		if (err)
			return err == -ENOENT ? -EIO : err;	/* allocated just before */
		xend = (x.foff + x.len) << MF_PAGE_SHIFT;
		n = (xend < end ? xend : end) - pos;
		err = nd_write(sb->ns, ((x.nsoff - x.foff) << MF_PAGE_SHIFT) + pos,
			       (const char *)buf + (pos - off), (size_t)n);
		if (err)
			return err;
		pos += n;
	}
	return 0;
}

ssize_t fs_write(struct fs_sb *sb, uint64_t ino, uint64_t off, const void *buf, size_t len,
		 uint64_t **cleared, size_t *nr_cleared)
{
	struct cleared c = { 0 };
	uint64_t size, end = off + len, p0, p1;
	ssize_t ret = 0;
	int err;

	FS_SHUTDOWN_CHECK(sb);
	if (cleared) {
		*cleared = NULL;
		*nr_cleared = 0;
	}
	if (!len)
		return 0;
	if (end < off || end > (uint64_t)INT64_MAX || (end >> MF_PAGE_SHIFT) > (1ULL << 40))
		return -EFBIG;
	p0 = off >> MF_PAGE_SHIFT;
	p1 = MF_ALIGN_UP(end, MF_PAGE_SIZE) >> MF_PAGE_SHIFT;
	pthread_mutex_lock(&sb->lock);
	err = fs_begin(sb);
	if (err) {
		ret = err;
		goto unlock;
	}
	err = file_size(sb, ino, &size);
	if (!err)
		err = write_check_poison(sb, ino, off, end, &c);
	if (!err)
		err = fs_alloc_range(sb, ino, p0, p1 - p0,
				     len >= FS_BIG_OP || (end > size ? end : size) >= (FS_CHUNK_PAGES << MF_PAGE_SHIFT) ?
				     FS_ALLOC_BIG : FS_ALLOC_SMALL);
	/* the data is durable (nd_write syncs) before the metadata commits */
	if (!err)
		err = write_data(sb, ino, off, buf, len);
	if (!err && c.n) {
		int64_t a[3] = { (int64_t)ino, (int64_t)(MF_ALIGN_UP(off, MF_PAGE_SIZE) >> MF_PAGE_SHIFT),
				 (int64_t)(end >> MF_PAGE_SHIFT) };

		/* a media error of a page rewritten whole is gone */
		err = fs_exec(sb, "DELETE FROM media_errors WHERE ino = ? AND idx >= ? AND idx < ?", a, 3);
	}
	if (!err) {
		int64_t now = fs_now_ns();
		int64_t a[4] = { (int64_t)(end > size ? end : size), now, now, (int64_t)ino };

		err = fs_exec(sb, "UPDATE files SET size = ?, mtime = ?, ctime = ? WHERE ino = ?", a, 4);
	}
	if (err) {
		fs_rollback(sb);
		ret = err;
		goto unlock;
	}
	err = fs_commit(sb);
	ret = err ? err : (ssize_t)len;
unlock:
	pthread_mutex_unlock(&sb->lock);
	if (ret > 0 && cleared) {
		*cleared = c.page;
		*nr_cleared = c.n;
	} else {
		free(c.page);
	}
	return ret;
}

int fs_fsync(struct fs_sb *sb, uint64_t ino)
{
	uint64_t size;
	int err;

	FS_SHUTDOWN_CHECK(sb);
	/* data and metadata are durable when each call returns: nothing is
	 * left to write back, but the file must exist */
	pthread_mutex_lock(&sb->lock);
	err = file_size(sb, ino, &size);
	pthread_mutex_unlock(&sb->lock);
	return err == -EISDIR ? 0 : err;
}

int fs_bmap(struct fs_sb *sb, uint64_t ino, uint64_t idx, struct fs_extent *ext)
{
	int err;

	FS_SHUTDOWN_CHECK(sb);
	pthread_mutex_lock(&sb->lock);
	err = fs_bmap_locked(sb, ino, idx, ext);
	pthread_mutex_unlock(&sb->lock);
	return err;
}

int fs_map_pages(struct fs_sb *sb, uint64_t ino, uint64_t first, uint64_t n,
		 struct fs_extent **out, size_t *nr)
{
	uint64_t size, eof;
	int err;

	FS_SHUTDOWN_CHECK(sb);
	*out = NULL;
	*nr = 0;
	if (!n || first + n < first)
		return -EINVAL;
	pthread_mutex_lock(&sb->lock);
	err = file_size(sb, ino, &size);
	if (err)
		goto unlock;
	eof = MF_ALIGN_UP(size, MF_PAGE_SIZE) >> MF_PAGE_SHIFT;
	/* new faults of a locked entry wait for memory_failure() */
	fs_wait_entries(sb, ino, first, n);
	if (first < eof) {
		uint64_t m = eof - first < n ? eof - first : n;

		err = fs_begin(sb);
		if (err)
			goto unlock;
		/* as write faults allocate: a page at a time, so a sparse file's
		 * mapping is PTE-sized (LINUX-FACTS: lsb 12) */
		err = fs_alloc_range(sb, ino, first, m, FS_ALLOC_FAULT);
		if (err) {
			fs_rollback(sb);
			goto unlock;
		}
		err = fs_commit(sb);
		if (err)
			goto unlock;
	}
	err = fs_extents(sb, ino, first, n, out, nr);
unlock:
	pthread_mutex_unlock(&sb->lock);
	return err;
}

bool fs_chunk_is_pmd(struct fs_sb *sb, uint64_t ino, uint64_t idx)
{
	uint64_t c = MF_ALIGN_DOWN(idx, FS_CHUNK_PAGES);
	struct fs_extent x;
	bool pmd;

	pthread_mutex_lock(&sb->lock);
	pmd = !fs_bmap_locked(sb, ino, c, &x) && x.foff + x.len >= c + FS_CHUNK_PAGES &&
	      MF_IS_ALIGNED(x.nsoff + (c - x.foff), FS_CHUNK_PAGES);
	pthread_mutex_unlock(&sb->lock);
	return pmd;
}

static int rmap_locked(struct fs_sb *sb, uint64_t nspage, uint64_t *ino, uint64_t *idx)
{
	sqlite3_stmt *st = fs_stmt(sb, "SELECT ino, foff, nsoff, len FROM extents WHERE nsoff <= ?"
				   " ORDER BY nsoff DESC LIMIT 1");
	int rc, err = -ENOENT;

	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, (int64_t)nspage);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		uint64_t nsoff = (uint64_t)sqlite3_column_int64(st, 2);

		if (nspage < nsoff + (uint64_t)sqlite3_column_int64(st, 3)) {
			*ino = (uint64_t)sqlite3_column_int64(st, 0);
			*idx = (uint64_t)sqlite3_column_int64(st, 1) + (nspage - nsoff);
			err = 0;
		}
	} else if (rc != SQLITE_DONE) {
		err = -EIO;
	}
	sqlite3_reset(st);
	return err;
}

int fs_rmap(struct fs_sb *sb, uint64_t nspage, uint64_t *ino, uint64_t *idx)
{
	int err;

	pthread_mutex_lock(&sb->lock);
	err = rmap_locked(sb, nspage, ino, idx);
	pthread_mutex_unlock(&sb->lock);
	return err;
}

static bool entry_is_locked(const struct fs_sb *sb, uint64_t ino, uint64_t idx)
{
	size_t i;

	for (i = 0; i < sb->nr_entry; i++)
		if (sb->entry[i].ino == ino && sb->entry[i].idx == idx)
			return true;
	return false;
}

int fs_lock_entry(struct fs_sb *sb, uint64_t nspage, uint64_t *ino, uint64_t *idx)
{
	int err;

	pthread_mutex_lock(&sb->lock);
	for (;;) {
		/* the owner may change while we wait: look again each time */
		err = rmap_locked(sb, nspage, ino, idx);
		if (err || !entry_is_locked(sb, *ino, *idx))
			break;
		pthread_cond_wait(&sb->entry_cv, &sb->lock);
	}
	if (err)
		goto unlock;
	if (sb->nr_entry == sb->cap_entry) {
		size_t cap = sb->cap_entry ? sb->cap_entry * 2 : 8;
		struct fs_entry *n = realloc(sb->entry, cap * sizeof(*n));

		if (!n) {
			err = -ENOMEM;
			goto unlock;
		}
		sb->entry = n;
		sb->cap_entry = cap;
	}
	sb->entry[sb->nr_entry++] = (struct fs_entry){ .ino = *ino, .idx = *idx };
unlock:
	pthread_mutex_unlock(&sb->lock);
	return err;
}

void fs_unlock_entry(struct fs_sb *sb, uint64_t ino, uint64_t idx)
{
	size_t i;

	pthread_mutex_lock(&sb->lock);
	for (i = 0; i < sb->nr_entry; i++) {
		if (sb->entry[i].ino == ino && sb->entry[i].idx == idx) {
			sb->entry[i] = sb->entry[--sb->nr_entry];
			break;
		}
	}
	pthread_cond_broadcast(&sb->entry_cv);
	pthread_mutex_unlock(&sb->lock);
}

bool fs_entry_locked(struct fs_sb *sb, uint64_t ino, uint64_t idx)
{
	bool r;

	pthread_mutex_lock(&sb->lock);
	r = entry_is_locked(sb, ino, idx);
	pthread_mutex_unlock(&sb->lock);
	return r;
}

int fs_note_poison(struct fs_sb *sb, uint64_t nspage)
{
	uint64_t ino, idx;
	int err;

	if (nspage >= sb->nr_pages)
		return -EINVAL;
	/* neither a file's nor free: the caller shuts the file system down */
	if (fs_is_meta(sb, nspage))
		return -EUCLEAN;
	pthread_mutex_lock(&sb->lock);
	err = rmap_locked(sb, nspage, &ino, &idx);
	if (!err) {
		int64_t a[3] = { (int64_t)ino, (int64_t)idx, (int64_t)nspage };

		err = fs_exec(sb, "INSERT OR IGNORE INTO media_errors(ino, idx, nspage) VALUES (?, ?, ?)",
			      a, 3);
		if (!err)
			err = 1;
	} else if (err == -ENOENT) {
		int64_t a = (int64_t)nspage;

		err = fs_exec(sb, "INSERT OR IGNORE INTO free_poison(page) VALUES (?)", &a, 1);
	}
	pthread_mutex_unlock(&sb->lock);
	return err;
}

int fs_for_each_media_error(struct fs_sb *sb,
			    int (*fn)(uint64_t ino, uint64_t idx, uint64_t nspage, void *arg),
			    void *arg)
{
	sqlite3_stmt *st;
	int rc, ret = 0;

	pthread_mutex_lock(&sb->lock);
	st = fs_stmt(sb, "SELECT ino, idx, nspage FROM media_errors ORDER BY ino, idx");
	if (!st) {
		ret = -EIO;
		goto unlock;
	}
	while (!ret && (rc = sqlite3_step(st)) == SQLITE_ROW)
		ret = fn((uint64_t)sqlite3_column_int64(st, 0), (uint64_t)sqlite3_column_int64(st, 1),
			 (uint64_t)sqlite3_column_int64(st, 2), arg);
	if (!ret && rc != SQLITE_DONE)
		ret = -EIO;
	sqlite3_reset(st);
unlock:
	pthread_mutex_unlock(&sb->lock);
	return ret;
}

int fs_for_each_free_poison(struct fs_sb *sb, int (*fn)(uint64_t nspage, void *arg), void *arg)
{
	sqlite3_stmt *st;
	int rc, ret = 0;

	pthread_mutex_lock(&sb->lock);
	st = fs_stmt(sb, "SELECT page FROM free_poison ORDER BY page");
	if (!st) {
		ret = -EIO;
		goto unlock;
	}
	while (!ret && (rc = sqlite3_step(st)) == SQLITE_ROW)
		ret = fn((uint64_t)sqlite3_column_int64(st, 0), arg);
	if (!ret && rc != SQLITE_DONE)
		ret = -EIO;
	sqlite3_reset(st);
unlock:
	pthread_mutex_unlock(&sb->lock);
	return ret;
}

bool fs_page_bad(struct fs_sb *sb, uint64_t ino, uint64_t idx)
{
	bool r;

	pthread_mutex_lock(&sb->lock);
	r = media_error_at(sb, ino, idx);
	pthread_mutex_unlock(&sb->lock);
	return r;
}

int fs_statfs(struct fs_sb *sb, uint64_t *total, uint64_t *free_pages, uint64_t *files)
{
	int64_t f = 0, n = 0;
	int rc;

	pthread_mutex_lock(&sb->lock);
	rc = fs_query_int(sb, "SELECT coalesce(sum(len), 0) FROM free", NULL, 0, &f);
	if (rc >= 0)
		rc = fs_query_int(sb, "SELECT count(*) FROM files", NULL, 0, &n);
	pthread_mutex_unlock(&sb->lock);
	*total = sb->nr_pages;
	*free_pages = (uint64_t)f;
	*files = (uint64_t)n;
	return rc < 0 ? rc : 0;
}

int fs_extents_of(struct fs_sb *sb, uint64_t ino, uint64_t first, uint64_t n,
		  struct fs_extent **out, size_t *nr)
{
	int err;

	FS_SHUTDOWN_CHECK(sb);
	pthread_mutex_lock(&sb->lock);
	err = fs_extents(sb, ino, first, n, out, nr);
	pthread_mutex_unlock(&sb->lock);
	return err;
}

int fs_clear_poison(struct fs_sb *sb, const uint64_t *nspages, size_t n)
{
	size_t i;
	int err;

	if (!n)
		return 0;
	pthread_mutex_lock(&sb->lock);
	err = fs_begin(sb);
	for (i = 0; !err && i < n; i++) {
		int64_t p = (int64_t)nspages[i];

		err = fs_exec(sb, "DELETE FROM media_errors WHERE nspage = ?", &p, 1);
		if (!err)
			err = fs_exec(sb, "DELETE FROM free_poison WHERE page = ?", &p, 1);
	}
	if (err)
		fs_rollback(sb);
	else
		err = fs_commit(sb);
	pthread_mutex_unlock(&sb->lock);
	return err;
}
