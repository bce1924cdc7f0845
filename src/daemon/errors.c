// SPDX-License-Identifier: MIT
/*
 * daemon/errors.c: requests about media errors: injection (known or
 * latent, one range or a batch), uninjection, clearing, the bad-block and
 * latent lists, who maps the poisoned pages, and the driver's reads and
 * writes, which find latent poison and clear what they overwrite.
 *
 * Each change reaches the store first; then the mappers follow (fences
 * up for new poison, down for poison gone), then the event is told.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../dax/dax.h"
#include "../fs/fs.h"
#include "memfaild.h"

static char reply_buf[MF_MSG_MAX];

struct page_list {
	uint64_t *page;
	size_t n, cap;
};

static int page_list_add(uint64_t page, void *arg)
{
	struct page_list *pl = arg;

	if (pl->n == pl->cap) {
		size_t cap = pl->cap ? pl->cap * 2 : 64;
		uint64_t *p = realloc(pl->page, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		pl->page = p;
		pl->cap = cap;
	}
	pl->page[pl->n++] = page;
	return 0;
}

/* Pages holding a poisoned sector (known or latent) among [s, s + n). */
static int bad_pages(const struct nd_namespace *ns, uint64_t s, uint64_t n,
		     struct page_list *pl)
{
	return rangeset_for_each_block(&ns->poison, MF_PAGE_SHIFT - MF_SECTOR_SHIFT,
				       s / MF_SECTORS_PER_PAGE,
				       (s + n - 1) / MF_SECTORS_PER_PAGE + 1,
				       page_list_add, pl);
}

/* After a clear or a write: give back the pages that are clean now. */
static int restore_pages(struct mfd *d, struct nd_namespace *ns,
			 struct page_list *before, uint64_t *restored)
{
	size_t i, k = 0;

	for (i = 0; i < before->n; i++)
		if (!nd_page_bad(ns, before->page[i]))
			before->page[k++] = before->page[i];
	*restored = k;
	/* a file system's records of them go too */
	if (ns_to_dax(ns)->fs)
		fs_clear_poison(ns_to_dax(ns)->fs, before->page, k);
	return mf_media_cleared(&d->mf, ns_to_dax(ns), before->page, k);
}

static bool range_ok(const struct nd_namespace *ns, uint64_t sector, uint64_t count)
{
	uint64_t nr = ns->size >> MF_SECTOR_SHIFT;

	return count && sector < nr && count <= nr - sector;
}

static void event_runs(struct mfd *d, enum mf_event_type type, struct nd_namespace *ns,
		       const struct range *r, ssize_t n, uint32_t flags)
{
	ssize_t i;

	for (i = 0; i < n; i++)
		mfd_event_ns(d, type, ns, r[i].start, r[i].count, flags);
}

/*
 * Bad blocks the driver now knows of are the file system's media errors
 * (XFS learns them through notify_failure; a scrub's count as much as an
 * injection's): each file's, for pmem2_badblock-like iteration, or the
 * free-space poison list's.  The metadata area is fsdax_meta_bad()'s.
 */
static void note_fs_poison(struct nd_namespace *ns, const struct range *r, ssize_t n)
{
	struct fs_sb *fs = ns_to_dax(ns)->fs;
	struct page_list pl = { 0 };
	ssize_t i;
	size_t k;

	if (!fs)
		return;
	for (i = 0; i < n; i++)
		if (bad_pages(ns, r[i].start, r[i].count, &pl))
			break;
	for (k = 0; k < pl.n; k++)
		fs_note_poison(fs, pl.page[k]);
	free(pl.page);
}

int64_t found_latent(struct mfd *d, struct nd_namespace *ns, uint64_t sector,
		     uint64_t count, uint32_t how)
{
	struct range *runs = NULL;
	ssize_t n;
	int64_t found;

	if (!count || !nd_latent_sectors(ns, sector, count))
		return 0;
	/* the latent runs, before the change makes them known */
	n = rangeset_runs(&ns->poison, &ns->bb, sector, sector + count, &runs);
	if (n < 0)
		return n;
	found = nd_find_latent(ns, sector, count);
	if (found > 0) {
		event_runs(d, MF_EV_FOUND, ns, runs, n, how);
		note_fs_poison(ns, runs, n);
		fsdax_meta_bad(d, ns, sector, count);
	}
	free(runs);
	return found;
}

static int uninject(struct conn *c, struct nd_namespace *ns, const struct mf_range_req *m)
{
	struct page_list pl = { 0 };
	struct range *runs = NULL;
	uint64_t restored;
	ssize_t nruns;
	int64_t r;
	int err;

	/* ndctl inject-error --uninject: the record goes, the data stays */
	if (!range_ok(ns, m->sector, m->count))
		return -ERANGE;
	nruns = rangeset_runs(&ns->poison, NULL, m->sector, m->sector + m->count, &runs);
	if (nruns < 0)
		return (int)nruns;
	err = bad_pages(ns, m->sector, m->count, &pl);
	if (!err) {
		r = nd_uninject_error(ns, m->sector, m->count);
		err = r < 0 ? (int)r : restore_pages(c->d, ns, &pl, &restored);
		if (r > 0)
			event_runs(c->d, MF_EV_UNINJECT, ns, runs, nruns, 0);
	}
	free(runs);
	free(pl.page);
	return err;
}

/*
 * Known or latent, the media is bad at once: every mapper fences the
 * pages, so that the first touch is a consumption.
 */
static int poisoned(struct conn *c, struct nd_namespace *ns, const struct range *r,
		    size_t n, bool notify)
{
	struct page_list pl = { 0 };
	size_t i;
	int err = 0;

	for (i = 0; !err && i < n; i++)
		err = bad_pages(ns, r[i].start, r[i].count, &pl);
	if (!err)
		err = mf_media_poisoned(&c->d->mf, ns_to_dax(ns), pl.page, pl.n);
	/* known bad blocks are the file system's media errors (latent ones,
	 * nobody knows of yet) */
	if (!err && notify)
		note_fs_poison(ns, r, n);
	/* the file system's own metadata: its notify_failure, at once */
	if (!err && notify)
		for (i = 0; i < n; i++)
			fsdax_meta_bad(c->d, ns, r[i].start, r[i].count);
	free(pl.page);
	for (i = 0; i < n; i++)
		mfd_event_ns(c->d, MF_EV_INJECT, ns, r[i].start, r[i].count,
			     notify ? 0 : MF_EVF_LATENT);
	return err;
}

int errors_inject(struct conn *c, const struct mf_range_req *m)
{
	struct nd_namespace *ns = ns_by_wire_name(c->d, m->name);
	struct range r = { .start = m->sector, .count = m->count };
	int err;

	if (!ns)
		return -ENODEV;
	if (!cred_is_admin_of(c->d, &c->cred, ns))
		return -EPERM;
	if (m->flags & ~(MF_INJECT_NOTIFY | MF_INJECT_REMOVE))
		return -EINVAL;
	if (m->flags & MF_INJECT_REMOVE)
		return uninject(c, ns, m);
	err = nd_inject_error(ns, m->sector, m->count, m->flags & MF_INJECT_NOTIFY);
	if (err)
		return err;
	return poisoned(c, ns, &r, 1, m->flags & MF_INJECT_NOTIFY);
}

int errors_inject_batch(struct conn *c, const struct mf_inject_batch *m, size_t len)
{
	struct nd_namespace *ns;
	struct range *r;
	uint32_t i;
	int err;

	if (len < sizeof(*m) || m->count > MF_INJECT_BATCH_MAX ||
	    len != sizeof(*m) + m->count * sizeof(m->range[0]))
		return -EBADMSG;
	ns = ns_by_wire_name(c->d, m->name);
	if (!ns)
		return -ENODEV;
	if (!cred_is_admin_of(c->d, &c->cred, ns))
		return -EPERM;
	if (m->flags & ~MF_INJECT_NOTIFY)
		return -EINVAL;
	if (!m->count)
		return -ERANGE;
	r = malloc(m->count * sizeof(*r));
	if (!r)
		return -ENOMEM;
	for (i = 0; i < m->count; i++) {
		r[i].start = m->range[i].sector;
		r[i].count = m->range[i].count;
	}
	/* all of them or none: nd_inject_many() checks every range first */
	err = nd_inject_many(ns, r, m->count, m->flags & MF_INJECT_NOTIFY);
	if (!err)
		err = poisoned(c, ns, r, m->count, m->flags & MF_INJECT_NOTIFY);
	free(r);
	return err;
}

int errors_clear(struct conn *c, const struct mf_hdr *h, const struct mf_range_req *m)
{
	struct nd_namespace *ns = ns_by_wire_name(c->d, m->name);
	struct page_list pl = { 0 };
	struct mf_clear_reply r;
	struct range *runs = NULL;
	uint64_t s = m->sector, n = m->count, restored = 0;
	ssize_t nruns = 0;
	int64_t cleared;
	int err;

	if (!ns)
		return -ENODEV;
	if (!cred_is_admin_of(c->d, &c->cred, ns))
		return -EPERM;
	if (m->flags & ~MF_CLEAR_ALL)
		return -EINVAL;
	if (m->flags & MF_CLEAR_ALL) {
		s = 0;
		n = ns->size >> MF_SECTOR_SHIFT;
	}
	if (!range_ok(ns, s, n))
		return -ERANGE;
	err = bad_pages(ns, s, n, &pl);
	if (err)
		goto out;
	/* what is known bad there now: what the clear will clear */
	nruns = rangeset_runs(&ns->bb, NULL, s, s + n, &runs);
	if (nruns < 0) {
		err = (int)nruns;
		goto out;
	}
	cleared = nd_clear_errors(ns, s, n);
	if (cleared < 0) {
		err = (int)cleared;
		goto out;
	}
	err = restore_pages(c->d, ns, &pl, &restored);
	if (cleared > 0)
		event_runs(c->d, MF_EV_CLEAR, ns, runs, nruns, 0);
	fsdax_repair(c->d, ns);
	if (err)
		goto out;
	reply_init(&r.r, h, sizeof(r), 0);
	r.cleared = (uint64_t)cleared;
	r.pages_restored = restored;
	conn_send(c, &r, sizeof(r), -1);
out:
	free(runs);
	free(pl.page);
	return err;
}

/* A page of known bad ranges, or of latent ones (poison minus bb). */
void errors_list(struct conn *c, const struct mf_hdr *h, const struct mf_badblocks_req *m)
{
	struct mf_badblocks_reply *r = (void *)reply_buf;
	struct nd_namespace *ns = ns_by_wire_name(c->d, m->name);
	const struct rangeset *rs;
	uint64_t cursor = m->cursor;
	uint32_t count = 0;
	size_t i;

	if (!ns || m->which > MF_BB_LATENT) {
		send_error(c, h, ns ? -EINVAL : -ENODEV);
		return;
	}
	/* poison nothing knows of yet is the injector's secret (ndctl's
	 * --status needs root too); the badblocks are anyone's to read */
	if (m->which == MF_BB_LATENT && !cred_may_configure(c->d, &c->cred) &&
	    !cred_is_admin_of(c->d, &c->cred, ns)) {
		send_error(c, h, -EPERM);
		return;
	}
	memset(r, 0, sizeof(*r));
	rs = m->which == MF_BB_KNOWN ? &ns->bb : &ns->poison;
	for (i = rangeset_lookup(rs, cursor); i < rs->nr; i++) {
		uint64_t s = rs->r[i].start > cursor ? rs->r[i].start : cursor;
		uint64_t e = rs->r[i].start + rs->r[i].count;

		while (s < e) {
			uint64_t run = e - s;

			if (m->which == MF_BB_LATENT) {
				/* split the poison range by what bb knows of it */
				size_t k = rangeset_lookup(&ns->bb, s);

				if (k < ns->bb.nr && ns->bb.r[k].start <= s) {
					s = ns->bb.r[k].start + ns->bb.r[k].count;
					continue;
				}
				if (k < ns->bb.nr && ns->bb.r[k].start < e)
					run = ns->bb.r[k].start - s;
			}
			if (count == MF_BB_LIST_MAX) {
				r->more = 1;
				r->next = s;
				goto done;
			}
			r->range[count].sector = s;
			r->range[count].count = run;
			count++;
			s += run;
		}
	}
done:
	r->count = count;
	reply_init(&r->r, h, sizeof(*r) + count * sizeof(r->range[0]), 0);
	conn_send(c, r, r->r.hdr.len, -1);
}

/*
 * Who maps each page with a known bad sector, from the page at cursor on
 * (skipping the mappers of that page handed out already).  It names other
 * users' processes: root, the daemon's user and the namespace's owner only.
 */
struct mappers_walk {
	struct mf_mappers_reply *r;
	struct dax_device *dax;
	uint64_t cursor;
	uint32_t skip;
};

/* One bad page's mappers into the reply; 1 when the reply is full. */
static int add_page_mappers(uint64_t page, void *arg)
{
	struct mappers_walk *w = arg;
	struct mf_mappers_reply *r = w->r;
	uint32_t skip = page == w->cursor ? w->skip : 0, k = 0;
	struct mf_vma *vma;

	list_for_each_entry(vma, &w->dax->i_mmap, i_mmap) {
		uint64_t vend = vma->pgoff + (vma->len >> MF_PAGE_SHIFT);
		struct mf_mapper *o;

		if (page < vma->pgoff || page >= vend || k++ < skip)
			continue;
		if (r->count == MF_MAPPERS_MAX) {
			r->more = 1;
			r->next = page;
			r->next_skip = k - 1;
			return 1;
		}
		o = &r->m[r->count++];
		memset(o, 0, sizeof(*o));
		o->page = page;
		o->pid = vma->task->pid;
		o->shift = w->dax->shift;
		o->addr = vma->start + ((page - vma->pgoff) << MF_PAGE_SHIFT);
		strlcpy_mf(o->comm, vma->task->comm, sizeof(o->comm));
	}
	return 0;
}

void errors_mappers(struct conn *c, const struct mf_hdr *h, const struct mf_mappers_req *m)
{
	struct mf_mappers_reply *r = (void *)reply_buf;
	struct nd_namespace *ns = ns_by_wire_name(c->d, m->name);
	struct mappers_walk w = { .r = r, .cursor = m->cursor, .skip = m->skip };

	if (!ns) {
		send_error(c, h, -ENODEV);
		return;
	}
	if (!cred_may_configure(c->d, &c->cred) && !cred_is_admin_of(c->d, &c->cred, ns)) {
		send_error(c, h, -EPERM);
		return;
	}
	w.dax = ns_to_dax(ns);
	memset(r, 0, sizeof(*r));
	/* walked page by page, and only as far as one reply goes */
	if (m->cursor < nd_nr_pages(ns) && w.dax->nr_mmap)
		rangeset_for_each_block(&ns->bb, MF_PAGE_SHIFT - MF_SECTOR_SHIFT, m->cursor,
					nd_nr_pages(ns), add_page_mappers, &w);
	reply_init(&r->r, h, sizeof(*r) + r->count * sizeof(r->m[0]), 0);
	conn_send(c, r, r->r.hdr.len, -1);
}

int errors_read(struct conn *c, const struct mf_hdr *h, const struct mf_io_req *m)
{
	struct mf_io_reply *r = (void *)reply_buf;
	struct nd_namespace *ns = ns_by_wire_name(c->d, m->name);
	int err;

	if (!ns)
		return -ENODEV;
	if (!cred_may_open(&c->cred, ns, MF_ACCESS_READ))
		return -EACCES;
	if (!m->len || m->len > MF_IO_MAX)
		return -EINVAL;
	err = nd_read(ns, m->offset, r->data, m->len);
	if (err == -EIO) {
		/*
		 * The read consumed poison: the machine check tells the driver
		 * (nfit_handle_mce), so latent poison there is known from now on.
		 */
		uint64_t s = m->offset >> MF_SECTOR_SHIFT;
		uint64_t e = MF_ALIGN_UP(m->offset + m->len, MF_SECTOR_SIZE) >> MF_SECTOR_SHIFT;

		found_latent(c->d, ns, s, e - s, MF_EVF_BY_READ);
	}
	if (err)
		return err;
	reply_init(&r->r, h, sizeof(*r) + m->len, 0);
	r->len = m->len;
	conn_send(c, r, r->r.hdr.len, -1);
	return 0;
}

int errors_write(struct conn *c, const struct mf_io_req *m, size_t len)
{
	struct nd_namespace *ns = ns_by_wire_name(c->d, m->name);
	struct page_list pl = { 0 };
	struct range *runs = NULL;
	uint64_t restored, s, e;
	ssize_t nruns = 0;
	int err;

	if (!ns)
		return -ENODEV;
	if (!cred_may_open(&c->cred, ns, MF_ACCESS_WRITE))
		return -EACCES;
	if (!m->len || m->len > MF_IO_MAX || len != sizeof(*m) + m->len)
		return -EINVAL;
	if (m->offset >= ns->size || m->len > ns->size - m->offset)
		return -ERANGE;
	/* the sectors the write covers whole: their poison goes */
	s = MF_ALIGN_UP(m->offset, MF_SECTOR_SIZE) >> MF_SECTOR_SHIFT;
	e = (m->offset + m->len) >> MF_SECTOR_SHIFT;
	if (e > s) {
		nruns = rangeset_runs(&ns->poison, NULL, s, e, &runs);
		if (nruns < 0)
			return (int)nruns;
	}
	err = bad_pages(ns, m->offset >> MF_SECTOR_SHIFT,
			(MF_ALIGN_UP(m->offset + m->len, MF_SECTOR_SIZE) >> MF_SECTOR_SHIFT) -
			(m->offset >> MF_SECTOR_SHIFT), &pl);
	if (!err)
		err = nd_write(ns, m->offset, m->data, m->len);
	if (!err) {
		err = restore_pages(c->d, ns, &pl, &restored);
		event_runs(c->d, MF_EV_CLEAR, ns, runs, nruns, MF_EVF_BY_WRITE);
	}
	free(runs);
	free(pl.page);
	return err;
}
