// SPDX-License-Identifier: MIT
/*
 * daemon/history.c: the event database, as rasdaemon keeps one.
 *
 * SQLite in WAL mode with synchronous=NORMAL, in its own file beside the
 * state: a commit survives the daemon's crash (kill -9), as the WAL is in
 * the kernel's page cache the moment the commit returns; a power cut may
 * lose the last events, never a poison record (those are in memfail.db
 * with synchronous=FULL).  Events are added inside a transaction opened on
 * the first one and committed by history_commit(), which the daemon calls
 * before any reply and once per loop iteration: an event a client could
 * have learnt of is in the database.
 */
#include <errno.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "memfaild.h"

struct history {
	sqlite3 *db;
	sqlite3_stmt *insert, *begin, *commit, *trim;
	bool in_txn;
	bool failed;		/* reported once, until a commit works again */
	bool added;		/* rows went into this transaction */
	uint64_t max_rows;	/* the oldest go beyond this many */
	uint64_t first_seq;	/* the oldest kept (0: unknown) */
	uint64_t last_seq;	/* the newest added */
};

static const char schema[] =
	"PRAGMA journal_mode=WAL;"
	"CREATE TABLE IF NOT EXISTS event("
	" seq INTEGER PRIMARY KEY, time_ns INTEGER NOT NULL, type INTEGER NOT NULL,"
	" flags INTEGER NOT NULL, dev TEXT NOT NULL, pfn INTEGER NOT NULL,"
	" sector INTEGER NOT NULL, count INTEGER NOT NULL, pid INTEGER NOT NULL,"
	" tid INTEGER NOT NULL, comm TEXT NOT NULL, code INTEGER NOT NULL,"
	" lsb INTEGER NOT NULL, addr INTEGER NOT NULL, result INTEGER NOT NULL,"
	" page_type INTEGER NOT NULL);"
	"CREATE INDEX IF NOT EXISTS event_time ON event(time_ns);";

#define COLUMNS "seq, time_ns, type, flags, dev, pfn, sector, count, pid, tid, comm," \
		" code, lsb, addr, result, page_type"

static int sql_errno(int rc)
{
	return rc == SQLITE_FULL ? -ENOSPC : rc == SQLITE_NOMEM ? -ENOMEM :
	       rc == SQLITE_READONLY || rc == SQLITE_CANTOPEN ? -EACCES : -EIO;
}

int history_open(const char *state_dir, uint64_t max_rows, struct history **out,
		 uint64_t *last_seq)
{
	struct history *h = calloc(1, sizeof(*h));
	char path[PATH_MAX];
	sqlite3_stmt *s;
	int rc;

	if (!h)
		return -ENOMEM;
	snprintf(path, sizeof(path), "%s/events.db", state_dir);
	rc = sqlite3_open_v2(path, &h->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
			     SQLITE_OPEN_NOMUTEX, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(h->db, mf_durable() ? "PRAGMA synchronous=NORMAL;" : "PRAGMA synchronous=OFF;",
				  NULL, NULL, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(h->db, schema, NULL, NULL, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(h->db, "INSERT INTO event(" COLUMNS ") VALUES"
					"(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", -1, &h->insert, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(h->db, "BEGIN", -1, &h->begin, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(h->db, "COMMIT", -1, &h->commit, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(h->db, "DELETE FROM event WHERE seq < ?", -1, &h->trim, NULL);
	/* numbering goes on where the last run stopped */
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(h->db, "SELECT max(seq), min(seq) FROM event", -1, &s, NULL);
	if (rc == SQLITE_OK) {
		if (sqlite3_step(s) == SQLITE_ROW) {
			h->last_seq = (uint64_t)sqlite3_column_int64(s, 0);
			h->first_seq = (uint64_t)sqlite3_column_int64(s, 1);
		}
		*last_seq = h->last_seq;
		sqlite3_finalize(s);
	}
	h->max_rows = max_rows;
	if (rc != SQLITE_OK) {
		history_close(h);
		return sql_errno(rc);
	}
	*out = h;
	return 0;
}

void history_close(struct history *h)
{
	if (!h)
		return;
	history_commit(h, NULL);
	sqlite3_finalize(h->insert);
	sqlite3_finalize(h->begin);
	sqlite3_finalize(h->commit);
	sqlite3_finalize(h->trim);
	sqlite3_close(h->db);
	free(h);
}

static void report_failure(struct history *h, struct mfd *d, int rc)
{
	if (h->failed || !d)
		return;
	h->failed = true;
	mfd_log(d, 3, "memfaild: cannot record events: %s", sqlite3_errstr(rc));
}

void history_add(struct history *h, struct mfd *d, const struct mf_event *ev)
{
	sqlite3_stmt *s = h->insert;
	int rc;

	if (!h->in_txn) {
		sqlite3_reset(h->begin);
		rc = sqlite3_step(h->begin);
		if (rc != SQLITE_DONE) {
			report_failure(h, d, rc);
			return;
		}
		h->in_txn = true;
	}
	sqlite3_reset(s);
	sqlite3_bind_int64(s, 1, (int64_t)ev->seq);
	sqlite3_bind_int64(s, 2, (int64_t)ev->time_ns);
	sqlite3_bind_int64(s, 3, ev->type);
	sqlite3_bind_int64(s, 4, ev->flags);
	sqlite3_bind_text(s, 5, ev->dev, (int)strnlen(ev->dev, sizeof(ev->dev)), SQLITE_STATIC);
	sqlite3_bind_int64(s, 6, (int64_t)ev->pfn);
	sqlite3_bind_int64(s, 7, (int64_t)ev->sector);
	sqlite3_bind_int64(s, 8, (int64_t)ev->count);
	sqlite3_bind_int64(s, 9, ev->pid);
	sqlite3_bind_int64(s, 10, ev->tid);
	sqlite3_bind_text(s, 11, ev->comm, (int)strnlen(ev->comm, sizeof(ev->comm)), SQLITE_STATIC);
	sqlite3_bind_int64(s, 12, ev->code);
	sqlite3_bind_int64(s, 13, ev->lsb);
	sqlite3_bind_int64(s, 14, (int64_t)ev->addr);
	sqlite3_bind_int64(s, 15, ev->result);
	sqlite3_bind_int64(s, 16, ev->page_type);
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		report_failure(h, d, rc);
		return;
	}
	h->added = true;
	h->last_seq = ev->seq;
	if (!h->first_seq)
		h->first_seq = ev->seq;
}

/*
 * Keep the newest max_rows events: the database must not grow without
 * bound (any namespace owner can make events), and a summary scans it
 * all.  Trimmed a tenth at a time, inside the transaction.
 */
static void trim(struct history *h)
{
	uint64_t keep_from;

	if (!h->max_rows || !h->first_seq || h->last_seq - h->first_seq < h->max_rows + h->max_rows / 10)
		return;
	keep_from = h->last_seq - h->max_rows + 1;
	sqlite3_reset(h->trim);
	sqlite3_bind_int64(h->trim, 1, (int64_t)keep_from);
	if (sqlite3_step(h->trim) == SQLITE_DONE)
		h->first_seq = keep_from;
	sqlite3_reset(h->trim);
}

void history_commit(struct history *h, struct mfd *d)
{
	int rc;

	if (!h->in_txn)
		return;
	if (h->added)
		trim(h);
	sqlite3_reset(h->commit);
	rc = sqlite3_step(h->commit);
	sqlite3_reset(h->commit);
	if (rc != SQLITE_DONE) {
		/* a full disk: the events are lost, the daemon goes on */
		report_failure(h, d, rc);
		sqlite3_exec(h->db, "ROLLBACK", NULL, NULL, NULL);
	} else if (h->added && h->failed) {
		h->failed = false;
		if (d)
			mfd_log(d, 6, "memfaild: recording events again");
	}
	h->in_txn = false;
	h->added = false;
}

static void row_to_event(sqlite3_stmt *s, struct mf_event *ev)
{
	const unsigned char *t;

	memset(ev, 0, sizeof(*ev));
	ev->seq = (uint64_t)sqlite3_column_int64(s, 0);
	ev->time_ns = (uint64_t)sqlite3_column_int64(s, 1);
	ev->type = (uint32_t)sqlite3_column_int64(s, 2);
	ev->flags = (uint32_t)sqlite3_column_int64(s, 3);
	t = sqlite3_column_text(s, 4);
	if (t)
		strlcpy_mf(ev->dev, (const char *)t, sizeof(ev->dev));
	ev->pfn = (uint64_t)sqlite3_column_int64(s, 5);
	ev->sector = (uint64_t)sqlite3_column_int64(s, 6);
	ev->count = (uint64_t)sqlite3_column_int64(s, 7);
	ev->pid = (int32_t)sqlite3_column_int64(s, 8);
	ev->tid = (int32_t)sqlite3_column_int64(s, 9);
	t = sqlite3_column_text(s, 10);
	if (t)
		strlcpy_mf(ev->comm, (const char *)t, sizeof(ev->comm));
	ev->code = (int32_t)sqlite3_column_int64(s, 11);
	ev->lsb = (uint32_t)sqlite3_column_int64(s, 12);
	ev->addr = (uint64_t)sqlite3_column_int64(s, 13);
	ev->result = (uint32_t)sqlite3_column_int64(s, 14);
	ev->page_type = (uint32_t)sqlite3_column_int64(s, 15);
}

int history_query(struct history *h, uint64_t after_seq, uint64_t since_ns, uint32_t type,
		  struct mf_event *out, uint32_t max, bool *more)
{
	sqlite3_stmt *s;
	uint32_t n = 0;
	int rc;

	rc = sqlite3_prepare_v2(h->db, "SELECT " COLUMNS " FROM event WHERE seq > ?"
				" AND time_ns >= ? AND (? = 0 OR type = ?) ORDER BY seq LIMIT ?",
				-1, &s, NULL);
	if (rc != SQLITE_OK)
		return sql_errno(rc);
	sqlite3_bind_int64(s, 1, (int64_t)after_seq);
	sqlite3_bind_int64(s, 2, (int64_t)since_ns);
	sqlite3_bind_int64(s, 3, type);
	sqlite3_bind_int64(s, 4, type);
	sqlite3_bind_int64(s, 5, (int64_t)max + 1);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (n == max) {
			*more = true;
			break;
		}
		row_to_event(s, &out[n++]);
	}
	if (rc != SQLITE_ROW)
		*more = false;
	sqlite3_finalize(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return sql_errno(rc);
	return (int)n;
}

int history_summary(struct history *h, uint64_t since_ns, uint32_t offset,
		    struct mf_summary_row *out, uint32_t max, bool *more)
{
	sqlite3_stmt *s;
	uint32_t n = 0;
	int rc;

	/*
	 * memory_failure events by result and page type, signals by si_code,
	 * media events by namespace: what ras-mc-ctl --summary counts.
	 */
	rc = sqlite3_prepare_v2(h->db,
		"SELECT type, result, page_type, code, count(*),"
		" CASE WHEN type IN (4, 5, 6, 7, 8, 9) THEN dev ELSE '' END AS d"
		" FROM event WHERE time_ns >= ?"
		" GROUP BY type, result, page_type, code, d ORDER BY type, result, page_type, code, d"
		" LIMIT ? OFFSET ?", -1, &s, NULL);
	if (rc != SQLITE_OK)
		return sql_errno(rc);
	sqlite3_bind_int64(s, 1, (int64_t)since_ns);
	sqlite3_bind_int64(s, 2, (int64_t)max + 1);
	sqlite3_bind_int64(s, 3, offset);
	*more = false;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (n == max) {
			*more = true;
			break;
		}
		const unsigned char *t = sqlite3_column_text(s, 5);

		memset(&out[n], 0, sizeof(out[n]));
		out[n].type = (uint32_t)sqlite3_column_int64(s, 0);
		out[n].result = (uint32_t)sqlite3_column_int64(s, 1);
		out[n].page_type = (uint32_t)sqlite3_column_int64(s, 2);
		out[n].code = (uint32_t)sqlite3_column_int64(s, 3);
		out[n].count = (uint64_t)sqlite3_column_int64(s, 4);
		if (t)
			strlcpy_mf(out[n].dev, (const char *)t, sizeof(out[n].dev));
		n++;
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return sql_errno(rc);
	return (int)n;
}
