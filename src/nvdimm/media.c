// SPDX-License-Identifier: MIT
/*
 * nvdimm/media.c: the poison in a namespace's media, and the driver's I/O
 * around it; see nvdimm.h.
 *
 * Two sets of 512-byte sectors per namespace:
 *  - poison: every sector whose media is bad, found or not;
 *  - bb: the bad sectors the driver knows (Linux's badblocks list), a
 *    subset of poison.  Poison outside bb is latent: nothing knows of it
 *    until a scrub or an access finds it.
 *
 * Every change runs as a transaction: each step is applied in memory and
 * to the store's copy of the same window of ranges; if anything fails,
 * the store rolls back and memory is put back from the windows saved
 * before each step.  Only after the commit does the daemon's view follow
 * (fenced, or given back).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../util/util.h"
#include "copy_mc.h"
#include "nvdimm.h"
#include "store.h"

bool nd_page_bad(const struct nd_namespace *ns, uint64_t page)
{
	return rangeset_check(&ns->poison, page * MF_SECTORS_PER_PAGE, MF_SECTORS_PER_PAGE);
}

bool nd_page_known_bad(const struct nd_namespace *ns, uint64_t page)
{
	return rangeset_check(&ns->bb, page * MF_SECTORS_PER_PAGE, MF_SECTORS_PER_PAGE);
}

bool nd_page_hwpoison(const struct nd_namespace *ns, uint64_t page)
{
	return u64set_has(&ns->hwpoison, page);
}

uint64_t nd_latent_sectors(const struct nd_namespace *ns, uint64_t sector, uint64_t count)
{
	/* bb is a subset of poison */
	return rangeset_count(&ns->poison, sector, count) -
	       rangeset_count(&ns->bb, sector, count);
}

/*
 * The daemon's view fences with mprotect(): it maps nothing else, few
 * ranges are poisoned, and a run of any length is one call.  If a fence
 * cannot be put up (too many VMAs), reads are still refused by the
 * poison check before they reach the view.
 */
void nd_view_fence_pages(struct nd_namespace *ns, uint64_t first, uint64_t n)
{
	if (ns->view)
		mprotect((char *)ns->view + first * MF_PAGE_SIZE, n * MF_PAGE_SIZE, PROT_NONE);
}

void nd_view_fence(struct nd_namespace *ns, uint64_t page)
{
	nd_view_fence_pages(ns, page, 1);
}

void nd_view_unfence(struct nd_namespace *ns, uint64_t page)
{
	if (ns->view)
		mprotect((char *)ns->view + page * MF_PAGE_SIZE, MF_PAGE_SIZE, PROT_READ);
}

/* ---- transactions ---- */

/* The ranges of a window of one set before a step: what undo restores. */
struct saved_window {
	enum nd_store_set set;
	uint64_t lo, hi;
	struct range *r;
	size_t n;
};

struct media_txn {
	struct nd_namespace *ns;
	struct saved_window *w;
	size_t nw, cap_w;
	/* for the view, after the commit: poison added, and poison removed */
	struct rangeset fence, gone;
	int err;
};

static struct rangeset *set_of(struct nd_namespace *ns, enum nd_store_set set)
{
	return set == ND_STORE_POISON ? &ns->poison : &ns->bb;
}

static void txn_begin(struct media_txn *t, struct nd_namespace *ns)
{
	memset(t, 0, sizeof(*t));
	t->ns = ns;
	rangeset_init(&t->fence);
	rangeset_init(&t->gone);
	t->err = nd_store_begin(ns->region->store);
}

static int save_window(struct media_txn *t, enum nd_store_set set, uint64_t lo,
		       uint64_t hi, const struct range *r, size_t n)
{
	struct saved_window *w;

	if (t->nw == t->cap_w) {
		size_t cap = t->cap_w ? t->cap_w * 2 : 8;

		w = realloc(t->w, cap * sizeof(*w));
		if (!w)
			return -ENOMEM;
		t->w = w;
		t->cap_w = cap;
	}
	w = &t->w[t->nw];
	w->set = set;
	w->lo = lo;
	w->hi = hi;
	w->n = n;
	w->r = NULL;
	if (n) {
		w->r = malloc(n * sizeof(*r));
		if (!w->r)
			return -ENOMEM;
		memcpy(w->r, r, n * sizeof(*r));
	}
	t->nw++;
	return 0;
}

/*
 * One step: add or remove [s, e) in one set.  Returns the members that
 * changed (0 after an earlier failure: the transaction is lost anyway).
 */
static int64_t txn_apply(struct media_txn *t, enum nd_store_set set, uint64_t s,
			 uint64_t e, bool add)
{
	struct rangeset *rs = set_of(t->ns, set);
	uint64_t lo = s, hi = e, before = 0;
	size_t i, j, a, b;
	int64_t res;

	if (t->err || s >= e)
		return 0;
	/* the window: every range the change can merge with or split */
	i = rangeset_lookup(rs, s ? s - 1 : 0);
	for (j = i; j < rs->nr && rs->r[j].start <= e; j++) {
		if (rs->r[j].start < lo)
			lo = rs->r[j].start;
		if (rs->r[j].start + rs->r[j].count > hi)
			hi = rs->r[j].start + rs->r[j].count;
		before += rs->r[j].count;
	}
	/*
	 * Room first: this step may add a range, and undoing it must not
	 * need an allocation that could fail (memory would then disagree
	 * with the store).
	 */
	t->err = rangeset_reserve(rs, 2);
	if (!t->err)
		t->err = save_window(t, set, lo, hi, rs->r + i, j - i);
	if (t->err)
		return 0;
	if (set == ND_STORE_POISON && !add) {
		/* what leaves poison now: its pages may come back */
		for (a = i; !t->err && a < j; a++) {
			uint64_t cs = rs->r[a].start > s ? rs->r[a].start : s;
			uint64_t ce = rs->r[a].start + rs->r[a].count;

			if (ce > e)
				ce = e;
			if (cs < ce)
				t->err = rangeset_set(&t->gone, cs, ce - cs);
		}
	}
	if (set == ND_STORE_POISON && add && !t->err)
		t->err = rangeset_set(&t->fence, s, e - s);
	if (t->err)
		return 0;
	res = add ? rangeset_set(rs, s, e - s) : rangeset_clear(rs, s, e - s);
	if (res < 0) {
		t->err = (int)res;
		return 0;
	}
	if (add)	/* rangeset_set() does not count: the window does */
		res = (int64_t)(rangeset_count(rs, lo, hi - lo) - before);
	a = rangeset_lookup(rs, lo);
	for (b = a; b < rs->nr && rs->r[b].start < hi; b++)
		;
	t->err = nd_store_ranges_replace(t->ns->region->store, set, t->ns->id, lo, hi,
					 rs->r + a, b - a);
	return res;
}

/* Put memory back as it was: the windows, newest first. */
static void txn_undo(struct media_txn *t)
{
	size_t k, i;

	for (k = t->nw; k-- > 0;) {
		struct saved_window *w = &t->w[k];
		struct rangeset *rs = set_of(t->ns, w->set);

		/* no range straddles lo or hi: the clear splits nothing */
		rangeset_clear(rs, w->lo, w->hi - w->lo);
		for (i = 0; i < w->n; i++)
			rangeset_set(rs, w->r[i].start, w->r[i].count);
	}
}

/* After the commit: fence what went bad, give back what came clean. */
static void view_follow(struct media_txn *t)
{
	struct nd_namespace *ns = t->ns;
	size_t i;

	for (i = 0; i < t->fence.nr; i++) {
		uint64_t a = t->fence.r[i].start / MF_SECTORS_PER_PAGE;
		uint64_t b = (t->fence.r[i].start + t->fence.r[i].count - 1) / MF_SECTORS_PER_PAGE;

		nd_view_fence_pages(ns, a, b - a + 1);
	}
	for (i = 0; i < t->gone.nr; i++) {
		uint64_t a = t->gone.r[i].start / MF_SECTORS_PER_PAGE;
		uint64_t b = (t->gone.r[i].start + t->gone.r[i].count - 1) / MF_SECTORS_PER_PAGE;
		uint64_t p;

		for (p = a; p <= b; p++) {
			if (nd_page_bad(ns, p))
				continue;
			u64set_del(&ns->hwpoison, p);
			nd_view_unfence(ns, p);
		}
	}
}

/* Commit, or roll back and undo; either way the transaction is done. */
static int txn_end(struct media_txn *t)
{
	struct nd_store *st = t->ns->region->store;
	size_t k;
	int err = t->err;

	if (!err)
		err = nd_store_commit(st);
	else
		nd_store_rollback(st);
	if (err)
		txn_undo(t);
	else
		view_follow(t);
	for (k = 0; k < t->nw; k++)
		free(t->w[k].r);
	free(t->w);
	rangeset_free(&t->fence);
	rangeset_free(&t->gone);
	return err;
}

/* ---- changes ---- */

static int check_sectors(const struct nd_namespace *ns, uint64_t sector, uint64_t count)
{
	uint64_t nr = ns->size >> MF_SECTOR_SHIFT;

	if (!count || sector >= nr || count > nr - sector)
		return -ERANGE;
	return 0;
}

int nd_inject_many(struct nd_namespace *ns, const struct range *r, size_t n, bool notify)
{
	struct media_txn t;
	uint64_t total = 0;
	size_t i;
	int err;

	for (i = 0; i < n; i++) {
		err = check_sectors(ns, r[i].start, r[i].count);
		if (err)
			return err;
		total += r[i].count;
	}
	/* every page of it gets fenced in every mapper: keep that bounded */
	if (total > ND_INJECT_MAX_SECTORS)
		return -E2BIG;
	txn_begin(&t, ns);
	for (i = 0; i < n; i++) {
		txn_apply(&t, ND_STORE_POISON, r[i].start, r[i].start + r[i].count, true);
		if (notify)
			txn_apply(&t, ND_STORE_BADBLOCK, r[i].start, r[i].start + r[i].count, true);
	}
	return txn_end(&t);
}

int nd_inject_error(struct nd_namespace *ns, uint64_t sector, uint64_t count, bool notify)
{
	struct range r = { .start = sector, .count = count };

	return nd_inject_many(ns, &r, 1, notify);
}

int nd_poison_pages(struct nd_namespace *ns, const uint64_t *pages, size_t n)
{
	struct range *r;
	size_t i;
	int err;

	if (!n)
		return 0;
	r = malloc(n * sizeof(*r));
	if (!r)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		r[i].start = pages[i] * MF_SECTORS_PER_PAGE;
		r[i].count = MF_SECTORS_PER_PAGE;
	}
	err = nd_inject_many(ns, r, n, true);
	free(r);
	return err;
}

int64_t nd_uninject_error(struct nd_namespace *ns, uint64_t sector, uint64_t count)
{
	struct media_txn t;
	int64_t removed;
	int err = check_sectors(ns, sector, count);

	if (err)
		return err;
	txn_begin(&t, ns);
	txn_apply(&t, ND_STORE_BADBLOCK, sector, sector + count, false);
	removed = txn_apply(&t, ND_STORE_POISON, sector, sector + count, false);
	err = txn_end(&t);
	return err ? err : removed;
}

int64_t nd_find_latent(struct nd_namespace *ns, uint64_t sector, uint64_t count)
{
	struct media_txn t;
	uint64_t found = nd_latent_sectors(ns, sector, count);
	struct range *r;
	ssize_t i, n;
	int err = check_sectors(ns, sector, count);

	if (err)
		return err;
	if (!found)
		return 0;
	/* the latent runs, copied: bb grows under us */
	n = rangeset_runs(&ns->poison, &ns->bb, sector, sector + count, &r);
	if (n < 0)
		return n;
	txn_begin(&t, ns);
	for (i = 0; i < n; i++)
		txn_apply(&t, ND_STORE_BADBLOCK, r[i].start, r[i].start + r[i].count, true);
	free(r);
	err = txn_end(&t);
	return err ? err : (int64_t)found;
}

/* Zeros over [off, off + len) of the data file: a metadata operation where
 * the file system can (the blocks stay allocated), written where not. */
static int zero_range(struct nd_namespace *ns, uint64_t off, uint64_t len)
{
	static const char zeros[64 * 1024];

	if (!fallocate(ns->data_fd, FALLOC_FL_ZERO_RANGE, (off_t)off, (off_t)len))
		return 0;
	if (errno != EOPNOTSUPP && errno != EINVAL)
		return -errno;
	while (len) {
		size_t n = len < sizeof(zeros) ? (size_t)len : sizeof(zeros);
		ssize_t w = pwrite(ns->data_fd, zeros, n, (off_t)off);

		if (w < 0)
			return -errno;
		if (w == 0 || w % MF_SECTOR_SIZE)
			return -EIO;
		off += (uint64_t)w;
		len -= (uint64_t)w;
	}
	return 0;
}

/* Write zeros over every known bad sector in [s, e), then make them durable. */
static int zero_bad_sectors(struct nd_namespace *ns, uint64_t s, uint64_t e)
{
	size_t i;
	int err;

	for (i = rangeset_lookup(&ns->bb, s); i < ns->bb.nr; i++) {
		uint64_t rs = ns->bb.r[i].start, re = rs + ns->bb.r[i].count;

		if (rs >= e)
			break;
		if (rs < s)
			rs = s;
		if (re > e)
			re = e;
		err = zero_range(ns, rs << MF_SECTOR_SHIFT, (re - rs) << MF_SECTOR_SHIFT);
		if (err)
			return err;
	}
	return mf_fdatasync(ns->data_fd) ? -errno : 0;
}

int64_t nd_clear_errors(struct nd_namespace *ns, uint64_t sector, uint64_t count)
{
	uint64_t end = sector + count;
	struct media_txn t;
	struct range *r;
	int64_t cleared = 0;
	ssize_t i, n;
	int err = check_sectors(ns, sector, count);

	if (err)
		return err;
	if (!rangeset_check(&ns->bb, sector, count))
		return 0;
	/* the new data reaches the media before the poison record goes */
	err = zero_bad_sectors(ns, sector, end);
	if (err)
		return err;
	/*
	 * Only what the driver knows is cleared, as ndctl clears the
	 * badblocks it lists: latent poison in between stays.
	 */
	n = rangeset_runs(&ns->bb, NULL, sector, end, &r);
	if (n < 0)
		return n;
	txn_begin(&t, ns);
	for (i = 0; i < n; i++) {
		uint64_t s = r[i].start, e = r[i].start + r[i].count;

		cleared += txn_apply(&t, ND_STORE_BADBLOCK, s, e, false);
		txn_apply(&t, ND_STORE_POISON, s, e, false);
	}
	free(r);
	err = txn_end(&t);
	return err ? err : cleared;
}

/* ---- driver I/O ---- */

static int map_view(struct nd_namespace *ns)
{
	size_t i;
	void *v;

	if (ns->view)
		return 0;
	v = mmap(NULL, ns->size, PROT_READ, MAP_SHARED | MAP_NORESERVE, ns->data_fd, 0);
	if (v == MAP_FAILED)
		return -errno;
	ns->view = v;
	/* set_mce_nospec() for everything already poisoned */
	for (i = 0; i < ns->poison.nr; i++) {
		uint64_t a = ns->poison.r[i].start / MF_SECTORS_PER_PAGE;
		uint64_t b = (ns->poison.r[i].start + ns->poison.r[i].count - 1) / MF_SECTORS_PER_PAGE;

		nd_view_fence_pages(ns, a, b - a + 1);
	}
	return 0;
}

static int check_io(const struct nd_namespace *ns, uint64_t off, size_t len)
{
	if (!len)
		return -EINVAL;
	if (off >= ns->size || len > ns->size - off)
		return -ERANGE;
	return 0;
}

int nd_read(struct nd_namespace *ns, uint64_t off, void *buf, size_t len)
{
	uint64_t s = off >> MF_SECTOR_SHIFT;
	uint64_t e = MF_ALIGN_UP(off + len, MF_SECTOR_SIZE) >> MF_SECTOR_SHIFT;
	int err = check_io(ns, off, len);

	if (err)
		return err;
	if (rangeset_check(&ns->poison, s, e - s))
		return -EIO;
	err = map_view(ns);
	if (err)
		return err;
	/*
	 * Poison is fenced a page at a time in our view, but the media is
	 * bad only in its sectors: good sectors of such a page are read from
	 * the media directly, the rest through the fault-surviving copy.
	 */
	while (len) {
		uint64_t page = off >> MF_PAGE_SHIFT;
		size_t chunk = (size_t)(MF_ALIGN_DOWN(off, MF_PAGE_SIZE) + MF_PAGE_SIZE - off);

		if (chunk > len)
			chunk = len;
		if (nd_page_bad(ns, page) || nd_page_hwpoison(ns, page)) {
			ssize_t r = pread(ns->data_fd, buf, chunk, (off_t)off);

			if (r != (ssize_t)chunk)
				return r < 0 ? -errno : -EIO;
		} else {
			err = copy_mc(buf, (char *)ns->view + off, chunk);
			if (err)
				return err;
		}
		buf = (char *)buf + chunk;
		off += chunk;
		len -= chunk;
	}
	return 0;
}

int nd_write(struct nd_namespace *ns, uint64_t off, const void *buf, size_t len)
{
	uint64_t s = MF_ALIGN_UP(off, MF_SECTOR_SIZE) >> MF_SECTOR_SHIFT;
	uint64_t e = (off + len) >> MF_SECTOR_SHIFT;
	struct media_txn t;
	size_t done = 0;
	int err = check_io(ns, off, len);

	if (err)
		return err;
	/*
	 * pmem clears poison in whole sectors: a write that covers part of a
	 * known bad sector cannot clear it, and fails with EIO before
	 * writing anything, as the driver's does.
	 */
	if ((off % MF_SECTOR_SIZE && rangeset_check(&ns->bb, off >> MF_SECTOR_SHIFT, 1)) ||
	    ((off + len) % MF_SECTOR_SIZE && rangeset_check(&ns->bb, (off + len) >> MF_SECTOR_SHIFT, 1)))
		return -EIO;
	while (done < len) {
		ssize_t w = pwrite(ns->data_fd, (const char *)buf + done, len - done,
				   (off_t)(off + done));

		if (w < 0)
			return -errno;
		if (w == 0)
			return -EIO;
		done += (size_t)w;
	}
	if (mf_fdatasync(ns->data_fd))
		return -errno;
	/*
	 * The new data replaces the bad data of every sector it covers
	 * whole, latent poison included: those sectors are good again.
	 */
	if (e <= s || !rangeset_check(&ns->poison, s, e - s))
		return 0;
	txn_begin(&t, ns);
	txn_apply(&t, ND_STORE_BADBLOCK, s, e, false);
	txn_apply(&t, ND_STORE_POISON, s, e, false);
	return txn_end(&t);
}

int nd_page_set_hwpoison(struct nd_namespace *ns, uint64_t page)
{
	/*
	 * A page flag, as PageHWPoison is: it does not outlive the daemon,
	 * as the kernel's does not outlive a reboot.  What does is the bad
	 * sector under the page.
	 */
	if (u64set_add(&ns->hwpoison, page) < 0)
		return -ENOMEM;
	nd_view_fence(ns, page);
	return 0;
}
