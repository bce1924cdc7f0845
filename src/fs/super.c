// SPDX-License-Identifier: MIT
/*
 * fs/super.c: mount and format, the SQL plumbing, and fs_check().
 *
 * The metadata is SQLite in WAL mode with synchronous=FULL: a COMMIT that
 * returned is on the disk, and an interrupted transaction is rolled back
 * when the database is next opened.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../util/util.h"
#include "fs-int.h"

static const char schema[] =
	"PRAGMA journal_mode=WAL;"
	"PRAGMA synchronous=FULL;"
	"CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value INTEGER NOT NULL);"
	/* name NULL: unlinked while open (an orphan) */
	"CREATE TABLE IF NOT EXISTS files(ino INTEGER PRIMARY KEY, name TEXT UNIQUE,"
	" size INTEGER NOT NULL, mode INTEGER NOT NULL, uid INTEGER NOT NULL,"
	" gid INTEGER NOT NULL, nlink INTEGER NOT NULL, atime INTEGER NOT NULL,"
	" mtime INTEGER NOT NULL, ctime INTEGER NOT NULL);"
	"CREATE TABLE IF NOT EXISTS extents(ino INTEGER NOT NULL, foff INTEGER NOT NULL,"
	" nsoff INTEGER NOT NULL, len INTEGER NOT NULL, PRIMARY KEY(ino, foff)) WITHOUT ROWID;"
	"CREATE UNIQUE INDEX IF NOT EXISTS extents_rmap ON extents(nsoff);"
	"CREATE TABLE IF NOT EXISTS free(start INTEGER PRIMARY KEY, len INTEGER NOT NULL);"
	"CREATE TABLE IF NOT EXISTS free_poison(page INTEGER PRIMARY KEY);"
	"CREATE TABLE IF NOT EXISTS media_errors(ino INTEGER NOT NULL, idx INTEGER NOT NULL,"
	" nspage INTEGER NOT NULL, PRIMARY KEY(ino, idx)) WITHOUT ROWID;";

int64_t fs_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

sqlite3_stmt *fs_stmt(struct fs_sb *sb, const char *sql)
{
	unsigned i;

	for (i = 0; i < FS_NR_STMT && sb->stmt[i].sql; i++) {
		if (sb->stmt[i].sql == sql) {
			sqlite3_reset(sb->stmt[i].st);
			sqlite3_clear_bindings(sb->stmt[i].st);
			return sb->stmt[i].st;
		}
	}
	if (i == FS_NR_STMT)
		return NULL;
	if (sqlite3_prepare_v3(sb->db, sql, -1, SQLITE_PREPARE_PERSISTENT,
			       &sb->stmt[i].st, NULL) != SQLITE_OK)
		return NULL;
	sb->stmt[i].sql = sql;
	return sb->stmt[i].st;
}

static sqlite3_stmt *stmt_bind(struct fs_sb *sb, const char *sql, const int64_t *args, int n)
{
	sqlite3_stmt *st = fs_stmt(sb, sql);
	int i;

	if (!st)
		return NULL;
	for (i = 0; i < n; i++)
		sqlite3_bind_int64(st, i + 1, args[i]);
	return st;
}

int fs_exec(struct fs_sb *sb, const char *sql, const int64_t *args, int n)
{
	sqlite3_stmt *st = stmt_bind(sb, sql, args, n);
	int rc;

	if (!st)
		return -EIO;
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : -EIO;
}

int fs_query_int(struct fs_sb *sb, const char *sql, const int64_t *args, int n,
		 int64_t *out)
{
	sqlite3_stmt *st = stmt_bind(sb, sql, args, n);
	int rc;

	if (!st)
		return -EIO;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*out = sqlite3_column_int64(st, 0);
		sqlite3_reset(st);
		return 1;
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : -EIO;
}

int fs_begin(struct fs_sb *sb)
{
	return fs_exec(sb, "BEGIN IMMEDIATE", NULL, 0);
}

int fs_commit(struct fs_sb *sb)
{
	int err = fs_exec(sb, "COMMIT", NULL, 0);

	if (err)
		fs_rollback(sb);
	return err;
}

void fs_rollback(struct fs_sb *sb)
{
	if (!sqlite3_get_autocommit(sb->db))
		sqlite3_exec(sb->db, "ROLLBACK", NULL, NULL, NULL);
}

/* What page 0 of the namespace holds (the rest of the page is zero). */
struct fs_super_disk {
	char magic[8];			/* FS_SB_MAGIC */
	char uuid[40];			/* the namespace's */
	uint64_t nr_pages, meta_pages;
};

/*
 * Write the superblock and a clean log through the driver.  The database
 * is the authoritative copy: this is what mkfs does, and what a mount
 * does after a recovery write made the media good (see fs.h).
 */
static int write_super(struct fs_sb *sb)
{
	static const char zero[MF_PAGE_SIZE];
	struct fs_super_disk d;
	char page[MF_PAGE_SIZE];
	uint64_t p;
	int err;

	if (!sb->meta_pages)
		return 0;
	memset(page, 0, sizeof(page));
	memset(&d, 0, sizeof(d));
	memcpy(d.magic, FS_SB_MAGIC, sizeof(d.magic));
	snprintf(d.uuid, sizeof(d.uuid), "%s", sb->ns->uuid);
	d.nr_pages = sb->nr_pages;
	d.meta_pages = sb->meta_pages;
	memcpy(page, &d, sizeof(d));
	err = nd_write(sb->ns, 0, page, sizeof(page));
	for (p = 1; !err && p < sb->meta_pages; p++)
		err = nd_write(sb->ns, p << MF_PAGE_SHIFT, zero, sizeof(zero));
	return err;
}

/* Poison (known or latent, both durable) in the metadata area: the
 * superblock read at mount would fail, and the log cannot be trusted. */
static int meta_poisoned(struct fs_sb *sb)
{
	uint64_t p;

	for (p = 0; p < sb->meta_pages; p++)
		if (nd_page_bad(sb->ns, p))
			return -EHWPOISON;
	return 0;
}

/* A new file system: the metadata area, all other pages free, the root
 * directory's inode taken. */
static int fs_format(struct fs_sb *sb)
{
	int64_t free_span[2], nr, meta, next_ino = FS_ROOT_INO + 1;
	int err;

	/* a namespace too small for it gets none, as before the area existed */
	sb->meta_pages = sb->nr_pages > 2 * FS_META_PAGES ? FS_META_PAGES : 0;
	nr = (int64_t)sb->nr_pages;
	meta = (int64_t)sb->meta_pages;
	free_span[0] = meta;
	free_span[1] = nr - meta;
	err = fs_begin(sb);
	if (err)
		return err;
	err = fs_exec(sb, "INSERT INTO free(start, len) VALUES (?, ?)", free_span, 2);
	if (!err)
		err = fs_exec(sb, "INSERT INTO meta VALUES ('nr_pages', ?)", &nr, 1);
	if (!err)
		err = fs_exec(sb, "INSERT INTO meta VALUES ('meta_pages', ?)", &meta, 1);
	if (!err)
		err = fs_exec(sb, "INSERT INTO meta VALUES ('next_ino', ?)", &next_ino, 1);
	if (err) {
		fs_rollback(sb);
		return err;
	}
	return fs_commit(sb);
}

/* Files unlinked while open when the last mount ended: free them now. */
static int fs_free_orphans(struct fs_sb *sb)
{
	int64_t ino;
	int err, found;

	for (;;) {
		found = fs_query_int(sb, "SELECT ino FROM files WHERE nlink = 0 LIMIT 1", NULL, 0, &ino);
		if (found <= 0)
			return found;
		err = fs_begin(sb);
		if (!err)
			err = fs_free_range(sb, (uint64_t)ino, 0, UINT64_MAX);
		if (!err)
			err = fs_exec(sb, "DELETE FROM files WHERE ino = ?", &ino, 1);
		if (err) {
			fs_rollback(sb);
			return err;
		}
		err = fs_commit(sb);
		if (err)
			return err;
	}
}

int fs_mount(struct nd_namespace *ns, const char *db_path, const struct fs_ops *ops,
	     void *priv, struct fs_sb **out)
{
	struct fs_sb *sb;
	char why[160];
	int64_t nr;
	int err, found;

	sb = calloc(1, sizeof(*sb));
	if (!sb)
		return -ENOMEM;
	pthread_mutex_init(&sb->lock, NULL);
	pthread_cond_init(&sb->entry_cv, NULL);
	sb->ns = ns;
	sb->nr_pages = ns->size >> MF_PAGE_SHIFT;
	sb->ops = ops;
	sb->priv = priv;
	if (sqlite3_open_v2(db_path, &sb->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
			    SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		err = -EIO;
		goto fail;
	}
	sqlite3_busy_timeout(sb->db, 5000);
	if (sqlite3_exec(sb->db, schema, NULL, NULL, NULL) != SQLITE_OK) {
		err = -EIO;
		goto fail;
	}
	found = fs_query_int(sb, "SELECT value FROM meta WHERE key = 'nr_pages'", NULL, 0, &nr);
	if (found < 0) {
		err = found;
		goto fail;
	}
	if (!found) {
		err = fs_format(sb);
		if (err)
			goto fail;
	} else if ((uint64_t)nr != sb->nr_pages) {
		err = -EUCLEAN;
		goto fail;
	} else {
		int64_t m = 0;

		/* none: made before the metadata area existed */
		found = fs_query_int(sb, "SELECT value FROM meta WHERE key = 'meta_pages'",
				     NULL, 0, &m);
		if (found < 0 || m < 0 || (uint64_t)m >= sb->nr_pages) {
			err = found < 0 ? found : -EUCLEAN;
			goto fail;
		}
		sb->meta_pages = (uint64_t)m;
	}
	/* what a metadata corruption shut down stays down until repaired */
	err = meta_poisoned(sb);
	if (!err)
		err = write_super(sb);
	if (err)
		goto fail;
	err = fs_free_orphans(sb);
	if (err)
		goto fail;
	err = fs_check(sb, why, sizeof(why), NULL);
	if (err)
		goto fail;
	*out = sb;
	return 0;
fail:
	fs_unmount(sb);
	return err;
}

void fs_unmount(struct fs_sb *sb)
{
	unsigned i;

	if (!sb)
		return;
	for (i = 0; i < FS_NR_STMT && sb->stmt[i].sql; i++)
		sqlite3_finalize(sb->stmt[i].st);
	if (sb->db)
		sqlite3_close(sb->db);
	pthread_cond_destroy(&sb->entry_cv);
	pthread_mutex_destroy(&sb->lock);
	free(sb->open);
	free(sb->entry);
	free(sb);
}

struct nd_namespace *fs_namespace(const struct fs_sb *sb)
{
	return sb->ns;
}

uint64_t fs_nr_pages(const struct fs_sb *sb)
{
	return sb->nr_pages;
}

uint64_t fs_meta_pages(const struct fs_sb *sb)
{
	return sb->meta_pages;
}

bool fs_is_meta(const struct fs_sb *sb, uint64_t nspage)
{
	return nspage < sb->meta_pages;
}

void fs_shutdown(struct fs_sb *sb, const char *why)
{
	pthread_mutex_lock(&sb->lock);
	if (!atomic_load(&sb->shutdown)) {
		snprintf(sb->shutdown_why, sizeof(sb->shutdown_why), "%s", why);
		atomic_store(&sb->shutdown, true);
	}
	pthread_mutex_unlock(&sb->lock);
}

bool fs_is_shut_down(struct fs_sb *sb, char *why, size_t n)
{
	bool down;

	pthread_mutex_lock(&sb->lock);
	down = atomic_load(&sb->shutdown);
	if (why && n)
		snprintf(why, n, "%s", down ? sb->shutdown_why : "");
	pthread_mutex_unlock(&sb->lock);
	return down;
}

/* ---- fs_check() ---- */

struct span {
	uint64_t start, len, ino, foff;	/* ino 0: free */
};

static int span_cmp(const void *a, const void *b)
{
	const struct span *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

static int load_spans(struct fs_sb *sb, struct span **out, size_t *nr)
{
	static const char *const sql[2] = {
		"SELECT start, len, 0, 0 FROM free",
		"SELECT nsoff, len, ino, foff FROM extents",
	};
	struct span *s = NULL;
	size_t n = 0, cap = 0;
	int i;

	for (i = 0; i < 2; i++) {
		sqlite3_stmt *st = fs_stmt(sb, sql[i]);
		int rc;

		if (!st)
			goto fail;
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			if (n == cap) {
				struct span *ns;

				cap = cap ? cap * 2 : 256;
				ns = realloc(s, cap * sizeof(*s));
				if (!ns) {
					sqlite3_reset(st);
					goto fail;
				}
				s = ns;
			}
			s[n].start = (uint64_t)sqlite3_column_int64(st, 0);
			s[n].len = (uint64_t)sqlite3_column_int64(st, 1);
			s[n].ino = (uint64_t)sqlite3_column_int64(st, 2);
			s[n].foff = (uint64_t)sqlite3_column_int64(st, 3);
			n++;
		}
		sqlite3_reset(st);
		if (rc != SQLITE_DONE)
			goto fail;
	}
	qsort(s, n, sizeof(*s), span_cmp);
	*out = s;
	*nr = n;
	return 0;
fail:
	free(s);
	return -EIO;
}

#define BAD(...) do { snprintf(why, whylen, __VA_ARGS__); err = -EUCLEAN; goto out; } while (0)

static int check_locked(struct fs_sb *sb, char *why, size_t whylen, struct fs_usage *u)
{
	struct span *s = NULL;
	size_t n = 0, i;
	uint64_t at = sb->meta_pages;
	sqlite3_stmt *st;
	int err = load_spans(sb, &s, &n), rc;

	if (err) {
		snprintf(why, whylen, "cannot read the metadata");
		return err;
	}
	memset(u, 0, sizeof(*u));
	/* free space and file extents tile the namespace after the metadata
	 * area exactly */
	for (i = 0; i < n; i++) {
		if (s[i].start < sb->meta_pages)
			BAD("page %" PRIu64 " of the metadata area is %s", s[i].start,
			    s[i].ino ? "owned" : "free");
		if (!s[i].len)
			BAD("empty %s extent at page %" PRIu64, s[i].ino ? "file" : "free", s[i].start);
		if (s[i].start < at)
			BAD("page %" PRIu64 " is %s and %s", s[i].start,
			    s[i].ino ? "owned" : "free", i && s[i - 1].ino ? "owned" : "free");
		if (s[i].start > at)
			BAD("pages %" PRIu64 "-%" PRIu64 " are neither free nor owned", at, s[i].start - 1);
		if (s[i].start + s[i].len > sb->nr_pages || s[i].start + s[i].len < s[i].start)
			BAD("extent at page %" PRIu64 " runs past the namespace", s[i].start);
		if (s[i].ino)
			u->owned_pages += s[i].len;
		else
			u->free_pages += s[i].len;
		at = s[i].start + s[i].len;
	}
	if (at != sb->nr_pages)
		BAD("pages %" PRIu64 "-%" PRIu64 " are neither free nor owned", at, sb->nr_pages - 1);
	/* extents of one file do not overlap in the file, and name a file */
	st = fs_stmt(sb, "SELECT e.ino, e.foff, e.len, f.ino FROM extents e LEFT JOIN files f"
			 " ON f.ino = e.ino ORDER BY e.ino, e.foff");
	if (!st)
		BAD("cannot read the extents");
	{
		uint64_t pino = 0, pend = 0;

		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			uint64_t ino = (uint64_t)sqlite3_column_int64(st, 0);
			uint64_t foff = (uint64_t)sqlite3_column_int64(st, 1);
			uint64_t len = (uint64_t)sqlite3_column_int64(st, 2);

			if (sqlite3_column_type(st, 3) == SQLITE_NULL) {
				sqlite3_reset(st);
				BAD("extent of inode %" PRIu64 " that does not exist", ino);
			}
			if (ino == pino && foff < pend) {
				sqlite3_reset(st);
				BAD("extents of inode %" PRIu64 " overlap at file page %" PRIu64, ino, foff);
			}
			pino = ino;
			pend = foff + len;
		}
		sqlite3_reset(st);
	}
	/* the free-space poison list names free pages */
	st = fs_stmt(sb, "SELECT p.page FROM free_poison p WHERE NOT EXISTS (SELECT 1 FROM free f"
			 " WHERE f.start <= p.page AND p.page < f.start + f.len)");
	if (!st)
		BAD("cannot read the free-space poison list");
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		uint64_t p = (uint64_t)sqlite3_column_int64(st, 0);

		sqlite3_reset(st);
		BAD("poisoned free page %" PRIu64 " is not free", p);
	}
	sqlite3_reset(st);
	/* a media error names the page its file owns there */
	st = fs_stmt(sb, "SELECT m.ino, m.idx FROM media_errors m WHERE NOT EXISTS (SELECT 1 FROM"
			 " extents e WHERE e.ino = m.ino AND e.foff <= m.idx AND m.idx < e.foff + e.len"
			 " AND e.nsoff + (m.idx - e.foff) = m.nspage)");
	if (!st)
		BAD("cannot read the media errors");
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		uint64_t ino = (uint64_t)sqlite3_column_int64(st, 0);
		uint64_t idx = (uint64_t)sqlite3_column_int64(st, 1);

		sqlite3_reset(st);
		BAD("media error of inode %" PRIu64 " page %" PRIu64 " names a page it does not own",
		    ino, idx);
	}
	sqlite3_reset(st);
	{
		int64_t v;

		if (fs_query_int(sb, "SELECT count(*) FROM files", NULL, 0, &v) == 1)
			u->files = (uint64_t)v;
		if (fs_query_int(sb, "SELECT count(*) FROM free_poison", NULL, 0, &v) == 1)
			u->free_poison = (uint64_t)v;
		if (fs_query_int(sb, "SELECT count(*) FROM media_errors", NULL, 0, &v) == 1)
			u->media_errors = (uint64_t)v;
	}
	err = 0;
out:
	free(s);
	return err;
}

int fs_check(struct fs_sb *sb, char *why, size_t whylen, struct fs_usage *u)
{
	struct fs_usage dummy;
	int err;

	if (whylen)
		why[0] = 0;
	pthread_mutex_lock(&sb->lock);
	/* one snapshot of the whole database */
	err = fs_exec(sb, "BEGIN", NULL, 0);
	if (!err) {
		err = check_locked(sb, why, whylen, u ? u : &dummy);
		fs_exec(sb, "COMMIT", NULL, 0);
	}
	pthread_mutex_unlock(&sb->lock);
	return err;
}
