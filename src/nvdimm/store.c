// SPDX-License-Identifier: MIT
/* nvdimm/store.c: see store.h. */
#include <errno.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "../util/rangeset.h"
#include "../util/util.h"
#include "store.h"

enum {
	ST_BEGIN, ST_COMMIT, ST_ROLLBACK,
	ST_NS_INSERT, ST_NS_DELETE, ST_BB_DELETE_NS, ST_POISON_DELETE_NS,
	/* one of each per sector set, in enum nd_store_set's order */
	ST_BB_DELETE_RANGE, ST_POISON_DELETE_RANGE,
	ST_BB_INSERT, ST_POISON_INSERT,
	ST_NR,
};

static const char *const sql[ST_NR] = {
	[ST_BEGIN] = "BEGIN IMMEDIATE",
	[ST_COMMIT] = "COMMIT",
	[ST_ROLLBACK] = "ROLLBACK",
	[ST_NS_INSERT] = "INSERT INTO namespace(id, uuid, mode, size, align, phys_base,"
			 " uid, gid, perm, data_path) VALUES(?,?,?,?,?,?,?,?,?,?)",
	[ST_NS_DELETE] = "DELETE FROM namespace WHERE id = ?",
	[ST_BB_DELETE_NS] = "DELETE FROM badblock WHERE ns = ?",
	[ST_POISON_DELETE_NS] = "DELETE FROM poison WHERE ns = ?",
	[ST_BB_DELETE_RANGE] = "DELETE FROM badblock WHERE ns = ? AND sector >= ? AND sector < ?",
	[ST_POISON_DELETE_RANGE] = "DELETE FROM poison WHERE ns = ? AND sector >= ? AND sector < ?",
	[ST_BB_INSERT] = "INSERT INTO badblock(ns, sector, count) VALUES(?,?,?)",
	[ST_POISON_INSERT] = "INSERT INTO poison(ns, sector, count) VALUES(?,?,?)",
};

static const char schema[] =
	"PRAGMA journal_mode=WAL;"
	"CREATE TABLE IF NOT EXISTS namespace("
	" id INTEGER PRIMARY KEY, uuid TEXT NOT NULL, mode INTEGER NOT NULL,"
	" size INTEGER NOT NULL, align INTEGER NOT NULL, phys_base INTEGER NOT NULL,"
	" uid INTEGER NOT NULL, gid INTEGER NOT NULL, perm INTEGER NOT NULL,"
	" data_path TEXT NOT NULL);"
	"CREATE TABLE IF NOT EXISTS badblock("
	" ns INTEGER NOT NULL, sector INTEGER NOT NULL, count INTEGER NOT NULL,"
	" PRIMARY KEY(ns, sector)) WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS poison("
	" ns INTEGER NOT NULL, sector INTEGER NOT NULL, count INTEGER NOT NULL,"
	" PRIMARY KEY(ns, sector)) WITHOUT ROWID;"
	/* a state from before latent errors: all its poison was known */
	"INSERT INTO poison SELECT ns, sector, count FROM badblock"
	" WHERE NOT EXISTS (SELECT 1 FROM poison);";

struct nd_store {
	sqlite3 *db;
	sqlite3_stmt *st[ST_NR];
};

static int sql_err(int rc)
{
	switch (rc) {
	case SQLITE_OK:
	case SQLITE_DONE:
	case SQLITE_ROW:
		return 0;
	case SQLITE_FULL:
		return -ENOSPC;
	case SQLITE_NOMEM:
		return -ENOMEM;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return -EBUSY;
	case SQLITE_READONLY:
	case SQLITE_PERM:
	case SQLITE_CANTOPEN:
		return -EACCES;
	default:
		return -EIO;
	}
}

int nd_store_open(const char *path, struct nd_store **out)
{
	struct nd_store *st;
	int rc, i;

	st = calloc(1, sizeof(*st));
	if (!st)
		return -ENOMEM;
	rc = sqlite3_open_v2(path, &st->db,
			     SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
			     SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK)
		goto fail;
	sqlite3_busy_timeout(st->db, 2000);
	/* every change durable before the reply (off: a throwaway state) */
	rc = sqlite3_exec(st->db, mf_durable() ? "PRAGMA synchronous=FULL;" : "PRAGMA synchronous=OFF;",
			  NULL, NULL, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(st->db, schema, NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		goto fail;
	for (i = 0; i < ST_NR; i++) {
		rc = sqlite3_prepare_v2(st->db, sql[i], -1, &st->st[i], NULL);
		if (rc != SQLITE_OK)
			goto fail;
	}
	*out = st;
	return 0;
fail:
	nd_store_close(st);
	return sql_err(rc) ? sql_err(rc) : -EIO;
}

void nd_store_close(struct nd_store *st)
{
	int i;

	if (!st)
		return;
	for (i = 0; i < ST_NR; i++)
		sqlite3_finalize(st->st[i]);
	sqlite3_close(st->db);
	free(st);
}

/* Run a prepared statement once with up to four integer arguments. */
static int run(struct nd_store *st, int which, int nargs, ...)
{
	sqlite3_stmt *s = st->st[which];
	va_list ap;
	int i, rc;

	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	va_start(ap, nargs);
	for (i = 0; i < nargs; i++)
		sqlite3_bind_int64(s, i + 1, va_arg(ap, int64_t));
	va_end(ap);
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? 0 : sql_err(rc) ? sql_err(rc) : -EIO;
}

int nd_store_begin(struct nd_store *st)
{
	return run(st, ST_BEGIN, 0);
}

int nd_store_commit(struct nd_store *st)
{
	int err = run(st, ST_COMMIT, 0);

	if (err)
		nd_store_rollback(st);
	return err;
}

void nd_store_rollback(struct nd_store *st)
{
	if (!sqlite3_get_autocommit(st->db))
		run(st, ST_ROLLBACK, 0);
}

int nd_store_ns_insert(struct nd_store *st, const struct nd_store_ns *ns)
{
	sqlite3_stmt *s = st->st[ST_NS_INSERT];
	int rc;

	sqlite3_reset(s);
	sqlite3_bind_int64(s, 1, ns->id);
	sqlite3_bind_text(s, 2, ns->uuid, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, ns->mode);
	sqlite3_bind_int64(s, 4, (int64_t)ns->size);
	sqlite3_bind_int64(s, 5, (int64_t)ns->align);
	sqlite3_bind_int64(s, 6, (int64_t)ns->phys_base);
	sqlite3_bind_int64(s, 7, ns->uid);
	sqlite3_bind_int64(s, 8, ns->gid);
	sqlite3_bind_int64(s, 9, ns->perm);
	sqlite3_bind_text(s, 10, ns->data_path, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return rc == SQLITE_DONE ? 0 : sql_err(rc) ? sql_err(rc) : -EIO;
}

int nd_store_ns_delete(struct nd_store *st, uint32_t id)
{
	int err;

	err = run(st, ST_BB_DELETE_NS, 1, (int64_t)id);
	if (!err)
		err = run(st, ST_POISON_DELETE_NS, 1, (int64_t)id);
	if (!err)
		err = run(st, ST_NS_DELETE, 1, (int64_t)id);
	return err;
}

int nd_store_ranges_replace(struct nd_store *st, enum nd_store_set set, uint32_t ns,
			    uint64_t lo, uint64_t hi, const struct range *r, size_t n)
{
	size_t i;
	int err;

	err = run(st, ST_BB_DELETE_RANGE + set, 3, (int64_t)ns, (int64_t)lo, (int64_t)hi);
	for (i = 0; !err && i < n; i++)
		err = run(st, ST_BB_INSERT + set, 3, (int64_t)ns, (int64_t)r[i].start,
			  (int64_t)r[i].count);
	return err;
}

/* Run a query and hand each row to fn. */
static int query(struct nd_store *st, const char *q,
		 int (*row)(sqlite3_stmt *s, void *ctx), void *ctx)
{
	sqlite3_stmt *s;
	int rc, err = 0;

	rc = sqlite3_prepare_v2(st->db, q, -1, &s, NULL);
	if (rc != SQLITE_OK)
		return sql_err(rc) ? sql_err(rc) : -EIO;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		err = row(s, ctx);
		if (err)
			break;
	}
	if (!err && rc != SQLITE_DONE)
		err = sql_err(rc) ? sql_err(rc) : -EIO;
	sqlite3_finalize(s);
	return err;
}

struct each_ctx {
	void *fn;
	void *arg;
};

static int ns_row(sqlite3_stmt *s, void *p)
{
	struct each_ctx *c = p;
	int (*fn)(const struct nd_store_ns *, void *) = c->fn;
	struct nd_store_ns ns = {
		.id = (uint32_t)sqlite3_column_int64(s, 0),
		.uuid = (const char *)sqlite3_column_text(s, 1),
		.mode = (uint32_t)sqlite3_column_int64(s, 2),
		.size = (uint64_t)sqlite3_column_int64(s, 3),
		.align = (uint64_t)sqlite3_column_int64(s, 4),
		.phys_base = (uint64_t)sqlite3_column_int64(s, 5),
		.uid = (uint32_t)sqlite3_column_int64(s, 6),
		.gid = (uint32_t)sqlite3_column_int64(s, 7),
		.perm = (uint32_t)sqlite3_column_int64(s, 8),
		.data_path = (const char *)sqlite3_column_text(s, 9),
	};

	if (!ns.uuid || !ns.data_path)
		return -EIO;
	return fn(&ns, c->arg);
}

int nd_store_for_each_ns(struct nd_store *st,
			 int (*fn)(const struct nd_store_ns *ns, void *arg), void *arg)
{
	struct each_ctx c = { (void *)fn, arg };

	return query(st, "SELECT id, uuid, mode, size, align, phys_base, uid, gid,"
		     " perm, data_path FROM namespace ORDER BY id", ns_row, &c);
}

static int bb_row(sqlite3_stmt *s, void *p)
{
	struct each_ctx *c = p;
	int (*fn)(uint32_t, uint64_t, uint64_t, void *) = c->fn;

	return fn((uint32_t)sqlite3_column_int64(s, 0),
		  (uint64_t)sqlite3_column_int64(s, 1),
		  (uint64_t)sqlite3_column_int64(s, 2), c->arg);
}

int nd_store_for_each_range(struct nd_store *st, enum nd_store_set set,
			    int (*fn)(uint32_t ns, uint64_t sector, uint64_t count, void *arg),
			    void *arg)
{
	struct each_ctx c = { (void *)fn, arg };

	return query(st, set == ND_STORE_BADBLOCK ?
		     "SELECT ns, sector, count FROM badblock ORDER BY ns, sector" :
		     "SELECT ns, sector, count FROM poison ORDER BY ns, sector",
		     bb_row, &c);
}
