// SPDX-License-Identifier: MIT
/*
 * daemon/admin.c: requests of the memfail command and libmemfail's
 * management calls: namespaces, error injection and clearing, bad-block
 * lists, counters, settings, driver reads and writes.
 *
 * Every handler validates the whole request before it changes anything,
 * so a request is either done completely or answered with an error and
 * no effect.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../dax/dax.h"
#include "memfaild.h"

static char reply_buf[MF_MSG_MAX];

/* Fixed-size request: exact length or -EBADMSG. */
#define REQ(type, buf, len) \
	((len) == sizeof(type) ? (const type *)(buf) : NULL)

void ns_info_fill(struct mf_ns_info *i, const struct nd_namespace *ns)
{
	const struct dax_device *dax = ns_to_dax(ns);

	memset(i, 0, sizeof(*i));
	strlcpy_mf(i->name, ns->name, sizeof(i->name));
	strlcpy_mf(i->chardev, ns->chardev, sizeof(i->chardev));
	strlcpy_mf(i->uuid, ns->uuid, sizeof(i->uuid));
	i->id = ns->id;
	i->mode = ns->mode;
	i->size = ns->size;
	i->align = ns->align;
	i->phys_base = ns->phys_base;
	i->uid = ns->uid;
	i->gid = ns->gid;
	i->perm = ns->perm;
	i->nr_mappings = dax ? dax->nr_mmap : 0;
	i->gen = ns->gen;
	i->badblock_count = ns->bb.total;
	i->nr_badblock_ranges = ns->bb.nr;
	i->nr_hwpoison = ns->hwpoison.nr;
}

/* Names come from the wire: they must be terminated inside the field. */
static struct nd_namespace *ns_by_wire_name(struct mfd *d, const char *name)
{
	if (!memchr(name, '\0', MF_NAME_LEN))
		return NULL;
	return nd_namespace_find(d->region, name);
}

static void reply_ns(struct conn *c, const struct mf_hdr *h, const struct nd_namespace *ns)
{
	struct mf_ns_reply r;

	reply_init(&r.r, h, sizeof(r), 0);
	ns_info_fill(&r.ns, ns);
	conn_send(c, &r, sizeof(r), -1);
}

static int ns_create(struct conn *c, const struct mf_hdr *h, const struct mf_ns_create *m)
{
	struct mfd *d = c->d;
	struct nd_create_args a = {
		.size = m->size,
		.align = m->align ? m->align : (2ULL << 20),
		.mode = m->mode ? m->mode : ND_MODE_DEVDAX,
		.uid = c->cred.uid,
		.gid = c->cred.gid,
		.perm = 0600,
	};
	struct nd_namespace *ns;
	int err;

	if (m->set & ~(MF_NS_CREATE_UID | MF_NS_CREATE_GID | MF_NS_CREATE_PERM |
		       MF_NS_CREATE_SPARSE))
		return -EINVAL;
	a.sparse = m->set & MF_NS_CREATE_SPARSE;
	if (m->set & MF_NS_CREATE_UID)
		a.uid = m->uid;
	if (m->set & MF_NS_CREATE_GID)
		a.gid = m->gid;
	if (m->set & MF_NS_CREATE_PERM) {
		if (m->perm & ~0777U)
			return -EINVAL;
		a.perm = m->perm;
	}
	/* giving a namespace away is for root (and the daemon's own user) */
	if ((a.uid != c->cred.uid || a.gid != c->cred.gid) && !cred_may_configure(d, &c->cred))
		return -EPERM;
	if (a.mode != ND_MODE_DEVDAX)
		return -EOPNOTSUPP;
	err = nd_namespace_create(d->region, &a, &ns);
	if (err)
		return err;
	err = dax_device_attach(ns);
	if (err) {
		nd_namespace_destroy(ns);
		return err;
	}
	reply_ns(c, h, ns);
	return 0;
}

static int ns_destroy(struct conn *c, const struct mf_ns_name *m)
{
	struct nd_namespace *ns = ns_by_wire_name(c->d, m->name);
	struct dax_device *dax;
	int err;

	if (!ns)
		return -ENODEV;
	if (!cred_is_admin_of(c->d, &c->cred, ns))
		return -EPERM;
	dax = ns_to_dax(ns);
	if (dax) {
		struct mf_vma *vma, *tmp;

		/*
		 * Mappers that exited in this very loop iteration are not
		 * reaped yet: their mappings are gone already.
		 */
		list_for_each_entry_safe(vma, tmp, &dax->i_mmap, i_mmap)
			if (proc_gone(vma->task->peer))
				mf_vma_remove(vma);
		if (dax->nr_mmap)
			return -EBUSY;
	}
	err = nd_namespace_destroy(ns);
	if (!err)
		dax_device_free(dax);
	return err;
}

static void ns_list(struct conn *c, const struct mf_hdr *h, const struct mf_ns_list *m)
{
	struct mf_ns_list_reply *r = (void *)reply_buf;
	uint32_t id = m->cursor, count = 0;
	struct nd_namespace *ns;

	/* ids are dense and few: walk them in order */
	while (count < MF_NS_LIST_MAX && id <= m->cursor + 4096 + c->d->region->nr_namespaces) {
		ns = nd_namespace_by_id(c->d->region, id++);
		if (ns)
			ns_info_fill(&r->ns[count++], ns);
		if (count == c->d->region->nr_namespaces)
			break;
	}
	reply_init(&r->r, h, sizeof(*r) + count * sizeof(r->ns[0]), 0);
	r->count = count;
	r->next = count == MF_NS_LIST_MAX ? id : 0;
	conn_send(c, r, r->r.hdr.len, -1);
}

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

/* Pages holding a bad sector among sectors [s, s + n). */
static int bad_pages(const struct nd_namespace *ns, uint64_t s, uint64_t n,
		     struct page_list *pl)
{
	return rangeset_for_each_block(&ns->bb, MF_PAGE_SHIFT - MF_SECTOR_SHIFT,
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
	return mf_media_cleared(&d->mf, ns_to_dax(ns), before->page, k);
}

static int inject(struct conn *c, const struct mf_range_req *m)
{
	struct nd_namespace *ns = ns_by_wire_name(c->d, m->name);
	struct page_list pl = { 0 };
	int err;

	if (!ns)
		return -ENODEV;
	if (!cred_is_admin_of(c->d, &c->cred, ns))
		return -EPERM;
	if (m->flags & ~(MF_INJECT_NOTIFY | MF_INJECT_REMOVE))
		return -EINVAL;
	if (m->flags & MF_INJECT_REMOVE) {
		uint64_t restored;
		int64_t r;

		/* ndctl inject-error --uninject: the record goes, the data stays */
		if (!m->count || m->sector >= ns->size >> MF_SECTOR_SHIFT ||
		    m->count > (ns->size >> MF_SECTOR_SHIFT) - m->sector)
			return -ERANGE;
		err = bad_pages(ns, m->sector, m->count, &pl);
		if (!err) {
			r = nd_uninject_error(ns, m->sector, m->count);
			err = r < 0 ? (int)r : restore_pages(c->d, ns, &pl, &restored);
		}
		free(pl.page);
		return err;
	}
	/* latent (un-notified) errors arrive with scrubbing */
	if (!(m->flags & MF_INJECT_NOTIFY))
		return -EOPNOTSUPP;
	err = nd_inject_error(ns, m->sector, m->count);
	if (err)
		return err;
	err = bad_pages(ns, m->sector, m->count, &pl);
	if (!err)
		err = mf_media_poisoned(&c->d->mf, ns_to_dax(ns), pl.page, pl.n);
	free(pl.page);
	return err;
}

static int clear(struct conn *c, const struct mf_hdr *h, const struct mf_range_req *m)
{
	struct nd_namespace *ns = ns_by_wire_name(c->d, m->name);
	struct page_list pl = { 0 };
	struct mf_clear_reply r;
	uint64_t s = m->sector, n = m->count, restored = 0;
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
	if (!n || s >= ns->size >> MF_SECTOR_SHIFT || n > (ns->size >> MF_SECTOR_SHIFT) - s)
		return -ERANGE;
	err = bad_pages(ns, s, n, &pl);
	if (err)
		goto out;
	cleared = nd_clear_errors(ns, s, n);
	if (cleared < 0) {
		err = (int)cleared;
		goto out;
	}
	err = restore_pages(c->d, ns, &pl, &restored);
	if (err)
		goto out;
	reply_init(&r.r, h, sizeof(r), 0);
	r.cleared = (uint64_t)cleared;
	r.pages_restored = restored;
	conn_send(c, &r, sizeof(r), -1);
out:
	free(pl.page);
	return err;
}

static void badblocks(struct conn *c, const struct mf_hdr *h, const struct mf_badblocks_req *m)
{
	struct mf_badblocks_reply *r = (void *)reply_buf;
	struct nd_namespace *ns = ns_by_wire_name(c->d, m->name);
	size_t i;
	uint32_t count = 0;

	if (!ns) {
		send_error(c, h, -ENODEV);
		return;
	}
	i = rangeset_lookup(&ns->bb, m->cursor);
	if (i < ns->bb.nr && ns->bb.r[i].start < m->cursor)
		i++;	/* handed out already, in the page before */
	for (; i < ns->bb.nr && count < MF_BB_LIST_MAX; i++, count++) {
		r->range[count].sector = ns->bb.r[i].start;
		r->range[count].count = ns->bb.r[i].count;
	}
	reply_init(&r->r, h, sizeof(*r) + count * sizeof(r->range[0]), 0);
	r->count = count;
	r->more = i < ns->bb.nr;
	r->next = r->more ? ns->bb.r[i].start : 0;
	conn_send(c, r, r->r.hdr.len, -1);
}

static void copy_stat(struct mf_counters *o, const struct mf_stat *s)
{
	o->total = s->total;
	o->ignored = s->ignored;
	o->failed = s->failed;
	o->delayed = s->delayed;
	o->recovered = s->recovered;
}

static void stats(struct conn *c, const struct mf_hdr *h)
{
	struct mf_stats_reply *r = (void *)reply_buf;
	size_t max = (sizeof(reply_buf) - sizeof(*r)) / sizeof(r->ns[0]);
	struct nd_namespace *ns;
	uint32_t count = 0;

	memset(r, 0, sizeof(*r));
	copy_stat(&r->node, &c->d->mf.node);
	r->hardware_corrupted_kb = c->d->mf.poisoned_pages * (MF_PAGE_SIZE / 1024);
	list_for_each_entry(ns, &c->d->region->namespaces, node) {
		if (count == max)
			break;
		memset(&r->ns[count], 0, sizeof(r->ns[count]));
		strlcpy_mf(r->ns[count].name, ns->name, MF_NAME_LEN);
		copy_stat(&r->ns[count].c, &ns_to_dax(ns)->stat);
		count++;
	}
	reply_init(&r->r, h, sizeof(*r) + count * sizeof(r->ns[0]), 0);
	r->count = count;
	conn_send(c, r, r->r.hdr.len, -1);
}

static int config(struct conn *c, const struct mf_hdr *h, const struct mf_config_req *m, bool set)
{
	struct mf_engine *mf = &c->d->mf;
	struct mf_config_reply r;
	int64_t v = m->value;

	if (set && !cred_may_configure(c->d, &c->cred))
		return -EPERM;
	switch (m->key) {
	case MF_CFG_EARLY_KILL:
		if (set && v != 0 && v != 1)
			return -EINVAL;
		if (set)
			mf->early_kill = (int)v;
		v = mf->early_kill;
		break;
	case MF_CFG_RECOVERY:
		if (set && v != 0 && v != 1)
			return -EINVAL;
		if (set)
			mf->recovery = (int)v;
		v = mf->recovery;
		break;
	case MF_CFG_UNMAP_TIMEOUT_MS:
		if (set && (v < 1 || v > 600000))
			return -EINVAL;
		if (set)
			mf->unmap_timeout_ms = (unsigned)v;
		v = mf->unmap_timeout_ms;
		break;
	case MF_CFG_PROFILE:
		if (set)
			return -EROFS;	/* one profile per daemon */
		v = mf->profile->id;
		break;
	case MF_CFG_PANICKED:
		if (set)
			return -EROFS;
		v = mf->panicked;
		break;
	case MF_CFG_REGION_BASE:
	case MF_CFG_REGION_SIZE:
	case MF_CFG_REGION_AVAILABLE: {
		struct nd_region *region = c->d->region;
		struct nd_namespace *ns;

		if (set)
			return -EROFS;
		v = (int64_t)(m->key == MF_CFG_REGION_BASE ? region->base : region->size);
		if (m->key == MF_CFG_REGION_AVAILABLE)
			list_for_each_entry(ns, &region->namespaces, node)
				v -= (int64_t)ns->size;
		break;
	}
	default:
		return -ENOENT;
	}
	reply_init(&r.r, h, sizeof(r), 0);
	r.value = v;
	conn_send(c, &r, sizeof(r), -1);
	return 0;
}

static int io_read(struct conn *c, const struct mf_hdr *h, const struct mf_io_req *m)
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
	if (err)
		return err;
	reply_init(&r->r, h, sizeof(*r) + m->len, 0);
	r->len = m->len;
	conn_send(c, r, r->r.hdr.len, -1);
	return 0;
}

static int io_write(struct conn *c, const struct mf_io_req *m, size_t len)
{
	struct nd_namespace *ns = ns_by_wire_name(c->d, m->name);
	struct page_list pl = { 0 };
	uint64_t restored;
	int err;

	if (!ns)
		return -ENODEV;
	if (!cred_may_open(&c->cred, ns, MF_ACCESS_WRITE))
		return -EACCES;
	if (!m->len || m->len > MF_IO_MAX || len != sizeof(*m) + m->len)
		return -EINVAL;
	if (m->offset >= ns->size || m->len > ns->size - m->offset)
		return -ERANGE;
	err = bad_pages(ns, m->offset >> MF_SECTOR_SHIFT,
			(MF_ALIGN_UP(m->offset + m->len, MF_SECTOR_SIZE) >> MF_SECTOR_SHIFT) -
			(m->offset >> MF_SECTOR_SHIFT), &pl);
	if (!err)
		err = nd_write(ns, m->offset, m->data, m->len);
	if (!err)
		err = restore_pages(c->d, ns, &pl, &restored);
	free(pl.page);
	return err;
}

void handle_admin(struct conn *c, const struct mf_hdr *h, const void *buf, size_t len)
{
	int err = -EBADMSG;

	switch (h->type) {
	case MF_NS_CREATE:
		if (REQ(struct mf_ns_create, buf, len))
			err = ns_create(c, h, buf);
		break;
	case MF_NS_DESTROY:
		if (REQ(struct mf_ns_name, buf, len))
			err = ns_destroy(c, buf);
		if (!err)
			send_error(c, h, 0);
		break;
	case MF_NS_GET:
		if (REQ(struct mf_ns_name, buf, len)) {
			const struct mf_ns_name *m = buf;
			struct nd_namespace *ns = ns_by_wire_name(c->d, m->name);

			if (!ns) {
				err = -ENODEV;
				break;
			}
			reply_ns(c, h, ns);
			return;
		}
		break;
	case MF_NS_LIST:
		if (REQ(struct mf_ns_list, buf, len)) {
			ns_list(c, h, buf);
			return;
		}
		break;
	case MF_INJECT:
		if (REQ(struct mf_range_req, buf, len))
			err = inject(c, buf);
		if (!err)
			send_error(c, h, 0);
		break;
	case MF_CLEAR:
		if (REQ(struct mf_range_req, buf, len))
			err = clear(c, h, buf);
		break;
	case MF_BADBLOCKS:
		if (REQ(struct mf_badblocks_req, buf, len)) {
			badblocks(c, h, buf);
			return;
		}
		break;
	case MF_STATS:
		if (len == sizeof(struct mf_hdr)) {
			stats(c, h);
			return;
		}
		break;
	case MF_CONFIG_GET:
	case MF_CONFIG_SET:
		if (REQ(struct mf_config_req, buf, len))
			err = config(c, h, buf, h->type == MF_CONFIG_SET);
		break;
	case MF_READ:
		if (REQ(struct mf_io_req, buf, len))
			err = io_read(c, h, buf);
		break;
	case MF_WRITE:
		if (len >= sizeof(struct mf_io_req))
			err = io_write(c, buf, len);
		if (!err)
			send_error(c, h, 0);
		break;
	default:
		err = -EOPNOTSUPP;
		break;
	}
	if (err)
		send_error(c, h, err);
}
