// SPDX-License-Identifier: MIT
/*
 * fs/fs.c: the operations on files.  Each one that changes metadata is
 * one transaction: begin, change, commit, or roll back and change nothing.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../util/util.h"
#include "fs-int.h"

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE	(1 << 0)
#endif

#define FILE_COLS "ino, size, mode, uid, gid, nlink, atime, mtime, ctime"

static void row_to_stat(sqlite3_stmt *st, int c, struct fs_stat *s)
{
	memset(s, 0, sizeof(*s));
	s->ino = (uint64_t)sqlite3_column_int64(st, c);
	s->size = (uint64_t)sqlite3_column_int64(st, c + 1);
	s->mode = (uint32_t)sqlite3_column_int64(st, c + 2);
	s->uid = (uint32_t)sqlite3_column_int64(st, c + 3);
	s->gid = (uint32_t)sqlite3_column_int64(st, c + 4);
	s->nlink = (uint32_t)sqlite3_column_int64(st, c + 5);
	s->atime_ns = sqlite3_column_int64(st, c + 6);
	s->mtime_ns = sqlite3_column_int64(st, c + 7);
	s->ctime_ns = sqlite3_column_int64(st, c + 8);
}

static int blocks_of(struct fs_sb *sb, uint64_t ino, uint64_t *blocks)
{
	int64_t a = (int64_t)ino, v;
	int rc = fs_query_int(sb, "SELECT coalesce(sum(len), 0) FROM extents WHERE ino = ?", &a, 1, &v);

	if (rc < 0)
		return rc;
	*blocks = (uint64_t)v;
	return 0;
}

static int stat_root(struct fs_sb *sb, struct fs_stat *st)
{
	memset(st, 0, sizeof(*st));
	st->ino = FS_ROOT_INO;
	st->mode = S_IFDIR | 0777 | S_ISVTX;
	st->nlink = 2;
	st->uid = sb->ns->uid;
	st->gid = sb->ns->gid;
	return 0;
}

static int getattr_locked(struct fs_sb *sb, uint64_t ino, struct fs_stat *s)
{
	sqlite3_stmt *st;
	int rc;

	if (ino == FS_ROOT_INO)
		return stat_root(sb, s);
	st = fs_stmt(sb, "SELECT " FILE_COLS " FROM files WHERE ino = ?");
	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, (int64_t)ino);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		row_to_stat(st, 0, s);
	sqlite3_reset(st);
	if (rc != SQLITE_ROW)
		return rc == SQLITE_DONE ? -ENOENT : -EIO;
	return blocks_of(sb, ino, &s->blocks);
}

static int lookup_locked(struct fs_sb *sb, const char *name, struct fs_stat *s)
{
	sqlite3_stmt *st = fs_stmt(sb, "SELECT " FILE_COLS " FROM files WHERE name = ?");
	int rc;

	if (!st)
		return -EIO;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		row_to_stat(st, 0, s);
	sqlite3_reset(st);
	if (rc != SQLITE_ROW)
		return rc == SQLITE_DONE ? -ENOENT : -EIO;
	return blocks_of(sb, s->ino, &s->blocks);
}

static int check_name(const char *name)
{
	size_t n = name ? strlen(name) : 0;

	if (!n || strchr(name, '/') || !strcmp(name, ".") || !strcmp(name, ".."))
		return -EINVAL;
	return n > FS_NAME_MAX ? -ENAMETOOLONG : 0;
}

int fs_lookup(struct fs_sb *sb, const char *name, struct fs_stat *st)
{
	int err = check_name(name);

	FS_SHUTDOWN_CHECK(sb);
	if (err)
		return err == -EINVAL ? -ENOENT : err;
	pthread_mutex_lock(&sb->lock);
	err = lookup_locked(sb, name, st);
	pthread_mutex_unlock(&sb->lock);
	return err;
}

int fs_getattr(struct fs_sb *sb, uint64_t ino, struct fs_stat *st)
{
	int err;

	FS_SHUTDOWN_CHECK(sb);
	pthread_mutex_lock(&sb->lock);
	err = getattr_locked(sb, ino, st);
	pthread_mutex_unlock(&sb->lock);
	return err;
}

int fs_create(struct fs_sb *sb, const char *name, mode_t mode, uid_t uid, gid_t gid,
	      struct fs_stat *st)
{
	int64_t ino, now = fs_now_ns();
	sqlite3_stmt *ins;
	int err = check_name(name), rc;

	FS_SHUTDOWN_CHECK(sb);
	if (err)
		return err;
	if ((mode & S_IFMT) && !S_ISREG(mode))
		return -EOPNOTSUPP;	/* regular files only */
	pthread_mutex_lock(&sb->lock);
	err = fs_begin(sb);
	if (err)
		goto unlock;
	if (!lookup_locked(sb, name, st)) {
		err = -EEXIST;
		goto rollback;
	}
	rc = fs_query_int(sb, "SELECT value FROM meta WHERE key = 'next_ino'", NULL, 0, &ino);
	if (rc <= 0) {
		err = -EIO;
		goto rollback;
	}
	ins = fs_stmt(sb, "INSERT INTO files(ino, name, size, mode, uid, gid, nlink, atime, mtime,"
		      " ctime) VALUES (?, ?, 0, ?, ?, ?, 1, ?, ?, ?)");
	if (!ins) {
		err = -EIO;
		goto rollback;
	}
	sqlite3_bind_int64(ins, 1, ino);
	sqlite3_bind_text(ins, 2, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(ins, 3, S_IFREG | (mode & 07777));
	sqlite3_bind_int64(ins, 4, uid);
	sqlite3_bind_int64(ins, 5, gid);
	sqlite3_bind_int64(ins, 6, now);
	sqlite3_bind_int64(ins, 7, now);
	sqlite3_bind_int64(ins, 8, now);
	rc = sqlite3_step(ins);
	sqlite3_reset(ins);
	if (rc != SQLITE_DONE) {
		err = -EIO;
		goto rollback;
	}
	{
		int64_t next = ino + 1;

		err = fs_exec(sb, "UPDATE meta SET value = ? WHERE key = 'next_ino'", &next, 1);
	}
	if (err)
		goto rollback;
	err = fs_commit(sb);
	if (!err)
		err = getattr_locked(sb, (uint64_t)ino, st);
	goto unlock;
rollback:
	fs_rollback(sb);
unlock:
	pthread_mutex_unlock(&sb->lock);
	return err;
}

static struct fs_open *open_find(struct fs_sb *sb, uint64_t ino)
{
	size_t i;

	for (i = 0; i < sb->nr_open; i++)
		if (sb->open[i].ino == ino)
			return &sb->open[i];
	return NULL;
}

/* The file loses its name (within a transaction): freed now, or at its
 * last close if it is open. */
static int drop_file(struct fs_sb *sb, uint64_t ino)
{
	int64_t a = (int64_t)ino;
	int err;

	if (open_find(sb, ino))
		return fs_exec(sb, "UPDATE files SET name = NULL, nlink = 0 WHERE ino = ?", &a, 1);
	err = fs_free_range(sb, ino, 0, UINT64_MAX);
	if (!err)
		err = fs_exec(sb, "DELETE FROM files WHERE ino = ?", &a, 1);
	return err;
}

int fs_unlink(struct fs_sb *sb, const char *name)
{
	struct fs_stat st;
	int err = check_name(name);

	FS_SHUTDOWN_CHECK(sb);
	if (err)
		return err == -EINVAL ? -ENOENT : err;
	pthread_mutex_lock(&sb->lock);
	err = fs_begin(sb);
	if (err)
		goto unlock;
	err = lookup_locked(sb, name, &st);
	if (!err)
		err = drop_file(sb, st.ino);
	if (err)
		fs_rollback(sb);
	else
		err = fs_commit(sb);
unlock:
	pthread_mutex_unlock(&sb->lock);
	return err;
}

int fs_rename(struct fs_sb *sb, const char *from, const char *to, unsigned flags)
{
	struct fs_stat src, dst;
	sqlite3_stmt *st;
	int err = check_name(from), rc;

	FS_SHUTDOWN_CHECK(sb);
	if (err)
		return err == -EINVAL ? -ENOENT : err;
	err = check_name(to);
	if (err)
		return err;
	if (flags & ~RENAME_NOREPLACE)
		return -EINVAL;
	pthread_mutex_lock(&sb->lock);
	err = fs_begin(sb);
	if (err)
		goto unlock;
	err = lookup_locked(sb, from, &src);
	if (err)
		goto rollback;
	if (!lookup_locked(sb, to, &dst)) {
		if (dst.ino == src.ino)
			goto rollback;	/* the same file: nothing to do */
		if (flags & RENAME_NOREPLACE) {
			err = -EEXIST;
			goto rollback;
		}
		/* the name goes first: UNIQUE(name) */
		err = drop_file(sb, dst.ino);
		if (err)
			goto rollback;
		if (open_find(sb, dst.ino) == NULL) {
			/* freed: nothing left to rename over */
		}
	}
	st = fs_stmt(sb, "UPDATE files SET name = ?, ctime = ? WHERE ino = ?");
	if (!st) {
		err = -EIO;
		goto rollback;
	}
	sqlite3_bind_text(st, 1, to, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, fs_now_ns());
	sqlite3_bind_int64(st, 3, (int64_t)src.ino);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		err = -EIO;
		goto rollback;
	}
	err = fs_commit(sb);
	goto unlock;
rollback:
	fs_rollback(sb);
unlock:
	pthread_mutex_unlock(&sb->lock);
	return err;
}

int fs_readdir(struct fs_sb *sb, uint64_t after,
	       int (*fn)(const char *name, const struct fs_stat *st, void *arg), void *arg)
{
	uint64_t at = after;
	int ret = 0;

	FS_SHUTDOWN_CHECK(sb);
	/* one row per lock hold: fn may take its time */
	for (;;) {
		sqlite3_stmt *st;
		struct fs_stat s;
		char name[FS_NAME_MAX + 1];
		int rc;

		pthread_mutex_lock(&sb->lock);
		st = fs_stmt(sb, "SELECT name, " FILE_COLS " FROM files WHERE ino > ? AND"
			     " name IS NOT NULL ORDER BY ino LIMIT 1");
		if (!st) {
			pthread_mutex_unlock(&sb->lock);
			return -EIO;
		}
		sqlite3_bind_int64(st, 1, (int64_t)at);
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW) {
			snprintf(name, sizeof(name), "%s", (const char *)sqlite3_column_text(st, 0));
			row_to_stat(st, 1, &s);
		}
		sqlite3_reset(st);
		if (rc == SQLITE_ROW)
			blocks_of(sb, s.ino, &s.blocks);
		pthread_mutex_unlock(&sb->lock);
		if (rc != SQLITE_ROW)
			return rc == SQLITE_DONE ? 0 : -EIO;
		at = s.ino;
		ret = fn(name, &s, arg);
		if (ret)
			return ret;
	}
}

int fs_iget(struct fs_sb *sb, uint64_t ino)
{
	struct fs_open *o;
	struct fs_stat st;
	int err = 0;

	FS_SHUTDOWN_CHECK(sb);
	pthread_mutex_lock(&sb->lock);
	o = open_find(sb, ino);
	if (o) {
		o->count++;
		goto unlock;
	}
	err = getattr_locked(sb, ino, &st);
	if (err)
		goto unlock;
	if (sb->nr_open == sb->cap_open) {
		size_t cap = sb->cap_open ? sb->cap_open * 2 : 16;
		struct fs_open *n = realloc(sb->open, cap * sizeof(*n));

		if (!n) {
			err = -ENOMEM;
			goto unlock;
		}
		sb->open = n;
		sb->cap_open = cap;
	}
	sb->open[sb->nr_open++] = (struct fs_open){ .ino = ino, .count = 1 };
unlock:
	pthread_mutex_unlock(&sb->lock);
	return err;
}

void fs_iput(struct fs_sb *sb, uint64_t ino)
{
	struct fs_open *o;
	int64_t a = (int64_t)ino, nlink;

	pthread_mutex_lock(&sb->lock);
	o = open_find(sb, ino);
	if (!o || --o->count)
		goto unlock;
	*o = sb->open[--sb->nr_open];
	/* the last close of an unlinked file frees it (a crash before
	 * this leaves an orphan, freed at the next mount) */
	if (fs_query_int(sb, "SELECT nlink FROM files WHERE ino = ?", &a, 1, &nlink) == 1 &&
	    !nlink && !fs_begin(sb)) {
		if (drop_file(sb, ino))
			fs_rollback(sb);
		else
			fs_commit(sb);
	}
unlock:
	pthread_mutex_unlock(&sb->lock);
}

static int set_size(struct fs_sb *sb, uint64_t ino, uint64_t size)
{
	int64_t now = fs_now_ns(), a[4] = { (int64_t)size, now, now, (int64_t)ino };

	return fs_exec(sb, "UPDATE files SET size = ?, mtime = ?, ctime = ? WHERE ino = ?", a, 4);
}

/* Zero bytes [off, end) of file ino where they are allocated (the tail of
 * a page kept by truncate, the edges of a punched hole). */
static int zero_bytes(struct fs_sb *sb, uint64_t ino, uint64_t off, uint64_t end)
{
	static const char zero[MF_PAGE_SIZE];

	while (off < end) {
		uint64_t pe = MF_ALIGN_DOWN(off, MF_PAGE_SIZE) + MF_PAGE_SIZE;
		uint64_t e = pe < end ? pe : end;
		struct fs_extent x;
		uint64_t idx = off >> MF_PAGE_SHIFT;
		int err = fs_bmap_locked(sb, ino, idx, &x);

		if (!err) {
			uint64_t ns = ((x.nsoff + idx - x.foff) << MF_PAGE_SHIFT) +
				      (off & (MF_PAGE_SIZE - 1));

			err = nd_write(sb->ns, ns, zero, (size_t)(e - off));
		}
		if (err && err != -ENOENT)
			return err;
		off = e;
	}
	return 0;
}

static int truncate_locked(struct fs_sb *sb, uint64_t ino, uint64_t size)
{
	struct fs_stat st;
	int err = getattr_locked(sb, ino, &st);

	if (err)
		return err;
	if (ino == FS_ROOT_INO)
		return -EISDIR;
	if (size > (uint64_t)INT64_MAX || (size >> MF_PAGE_SHIFT) > (1ULL << 40))
		return -EFBIG;
	err = fs_free_range(sb, ino, MF_ALIGN_UP(size, MF_PAGE_SIZE) >> MF_PAGE_SHIFT, UINT64_MAX);
	if (!err && size < st.size && size % MF_PAGE_SIZE)
		err = zero_bytes(sb, ino, size, MF_ALIGN_UP(size, MF_PAGE_SIZE));
	if (!err)
		err = set_size(sb, ino, size);
	return err;
}

int fs_truncate(struct fs_sb *sb, uint64_t ino, uint64_t size)
{
	int err;

	FS_SHUTDOWN_CHECK(sb);
	pthread_mutex_lock(&sb->lock);
	err = fs_begin(sb);
	if (!err) {
		err = truncate_locked(sb, ino, size);
		if (err)
			fs_rollback(sb);
		else
			err = fs_commit(sb);
	}
	pthread_mutex_unlock(&sb->lock);
	return err;
}

int fs_setattr(struct fs_sb *sb, uint64_t ino, unsigned what, const struct fs_stat *to,
	       struct fs_stat *st)
{
	int64_t now = fs_now_ns();
	int err;

	FS_SHUTDOWN_CHECK(sb);
	pthread_mutex_lock(&sb->lock);
	if (ino == FS_ROOT_INO) {
		err = what ? -EPERM : stat_root(sb, st);
		goto unlock;
	}
	err = fs_begin(sb);
	if (err)
		goto unlock;
	if (what & FS_SET_SIZE)
		err = truncate_locked(sb, ino, to->size);
	if (!err && (what & FS_SET_MODE)) {
		int64_t a[3] = { S_IFREG | (to->mode & 07777), now, (int64_t)ino };

		err = fs_exec(sb, "UPDATE files SET mode = ?, ctime = ? WHERE ino = ?", a, 3);
	}
	if (!err && (what & FS_SET_UID)) {
		int64_t a[3] = { to->uid, now, (int64_t)ino };

		err = fs_exec(sb, "UPDATE files SET uid = ?, ctime = ? WHERE ino = ?", a, 3);
	}
	if (!err && (what & FS_SET_GID)) {
		int64_t a[3] = { to->gid, now, (int64_t)ino };

		err = fs_exec(sb, "UPDATE files SET gid = ?, ctime = ? WHERE ino = ?", a, 3);
	}
	if (!err && (what & FS_SET_ATIME)) {
		int64_t a[2] = { to->atime_ns, (int64_t)ino };

		err = fs_exec(sb, "UPDATE files SET atime = ? WHERE ino = ?", a, 2);
	}
	if (!err && (what & FS_SET_MTIME)) {
		int64_t a[2] = { to->mtime_ns, (int64_t)ino };

		err = fs_exec(sb, "UPDATE files SET mtime = ? WHERE ino = ?", a, 2);
	}
	if (!err)
		err = getattr_locked(sb, ino, st);
	if (err)
		fs_rollback(sb);
	else
		err = fs_commit(sb);
unlock:
	pthread_mutex_unlock(&sb->lock);
	return err;
}

/* Is the 2 MiB chunk policy in force for an operation of len bytes that
 * leaves the file `size` long? */
static bool op_is_big(uint64_t len, uint64_t size)
{
	return len >= FS_BIG_OP || size >= (FS_CHUNK_PAGES << MF_PAGE_SHIFT);
}

int fs_fallocate(struct fs_sb *sb, uint64_t ino, int mode, uint64_t off, uint64_t len)
{
	struct fs_stat st;
	uint64_t end = off + len;
	int err;

	FS_SHUTDOWN_CHECK(sb);
	if (!len || end < off)
		return -EINVAL;
	if (end > FS_MAX_BYTES)
		return -EFBIG;
	if (mode != 0 && mode != FALLOC_FL_KEEP_SIZE &&
	    mode != (FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE))
		return -EOPNOTSUPP;
	pthread_mutex_lock(&sb->lock);
	err = fs_begin(sb);
	if (err)
		goto unlock;
	err = getattr_locked(sb, ino, &st);
	if (!err && ino == FS_ROOT_INO)
		err = -EISDIR;
	if (err)
		goto rollback;
	if (mode & FALLOC_FL_PUNCH_HOLE) {
		uint64_t p0 = MF_ALIGN_UP(off, MF_PAGE_SIZE) >> MF_PAGE_SHIFT;
		uint64_t p1 = MF_ALIGN_DOWN(end, MF_PAGE_SIZE) >> MF_PAGE_SHIFT;

		/* whole pages go; the edges are zeroed */
		if (p1 > p0) {
			err = fs_free_range(sb, ino, p0, p1 - p0);
			if (!err)
				err = zero_bytes(sb, ino, off, p0 << MF_PAGE_SHIFT);
			if (!err)
				err = zero_bytes(sb, ino, p1 << MF_PAGE_SHIFT, end);
		} else {
			err = zero_bytes(sb, ino, off, end);
		}
		if (!err) {
			int64_t now = fs_now_ns(), a[3] = { now, now, (int64_t)ino };

			err = fs_exec(sb, "UPDATE files SET mtime = ?, ctime = ? WHERE ino = ?", a, 3);
		}
	} else {
		uint64_t p0 = off >> MF_PAGE_SHIFT;
		uint64_t p1 = MF_ALIGN_UP(end, MF_PAGE_SIZE) >> MF_PAGE_SHIFT;
		uint64_t size = mode ? st.size : (end > st.size ? end : st.size);

		err = fs_alloc_range(sb, ino, p0, p1 - p0,
				     op_is_big(len, size) ? FS_ALLOC_BIG : FS_ALLOC_SMALL);
		if (!err && size != st.size)
			err = set_size(sb, ino, size);
	}
	if (err)
		goto rollback;
	err = fs_commit(sb);
	goto unlock;
rollback:
	fs_rollback(sb);
unlock:
	pthread_mutex_unlock(&sb->lock);
	return err;
}

int fs_name_of(struct fs_sb *sb, uint64_t ino, char *buf, size_t n)
{
	sqlite3_stmt *st;
	int rc, err = -ENOENT;

	pthread_mutex_lock(&sb->lock);
	st = fs_stmt(sb, "SELECT name FROM files WHERE ino = ?");
	if (!st) {
		err = -EIO;
		goto unlock;
	}
	sqlite3_bind_int64(st, 1, (int64_t)ino);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		const unsigned char *name = sqlite3_column_text(st, 0);

		snprintf(buf, n, "%s", name ? (const char *)name : "");
		err = 0;
	} else if (rc != SQLITE_DONE) {
		err = -EIO;
	}
	sqlite3_reset(st);
unlock:
	pthread_mutex_unlock(&sb->lock);
	return err;
}
