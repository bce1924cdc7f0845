// SPDX-License-Identifier: MIT
/*
 * daemon/fsdax-map.c: mappings of fsdax files (MF_FS_MAP,
 * MF_FS_MAP_REGISTER), their extents (MF_FS_FIEMAP), touches of their
 * fenced pages, and the files' media errors (MF_FS_MEDIA_ERRORS).
 *
 * A file mapping maps the file's blocks of the namespace's data in place,
 * so that loads and stores go to the media as they do on fsdax.  Holes
 * below EOF are allocated when the mapping is made (the write faults of
 * a shared mapping, done at once).  A page that truncate or hole punch
 * took away is fenced in every mapper; a touch of it comes here and
 * finds a new block (mapped in, as a fault would), the end of the file
 * (SIGBUS, BUS_ADRERR) or poison (memory_failure()).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../fs/fs.h"
#include "fsdax.h"

_Static_assert(FS_MAX_BYTES == MF_FS_MAX_BYTES, "the protocol's file size limit is the file system's");

#define MF_BUS_ADRERR	2

static char reply_buf[MF_MSG_MAX];

/* generic_permission() for the file's mode bits. */
static bool may_access(const struct mf_cred *cr, const struct fs_stat *st, bool write)
{
	unsigned want = write ? 6 : 4, bits;

	if (cr->uid == 0)
		return true;
	if (cr->uid == st->uid)
		bits = (st->mode >> 6) & 7;
	else if (cr->gid == st->gid)
		bits = (st->mode >> 3) & 7;
	else
		bits = st->mode & 7;
	return (bits & want) == want;
}

/*
 * The extents e[0..nr) clipped to file pages [first, end), into a reply's
 * array of MF_FS_MAP_MAX; returns how many of e it took (fewer than nr:
 * the reply says there are more).
 */
static size_t clip_extents(const struct fs_extent *e, size_t nr, uint64_t first, uint64_t end,
			   struct mf_fs_extent *out, uint32_t *count)
{
	size_t i;

	for (i = 0; i < nr && *count < MF_FS_MAP_MAX; i++) {
		uint64_t s = e[i].foff > first ? e[i].foff : first;
		uint64_t t = e[i].foff + e[i].len < end ? e[i].foff + e[i].len : end;
		struct mf_fs_extent *x;

		if (t <= s)
			continue;
		x = &out[(*count)++];
		x->foff = s;
		x->nsoff = e[i].nsoff + (s - e[i].foff);
		x->len = t - s;
	}
	return i;
}

int fsdax_map(struct conn *c, const struct mf_hdr *h, const struct mf_fs_map *m)
{
	struct mf_fs_map_reply *r = (void *)reply_buf;
	struct nd_namespace *ns = fsdax_ns_of_dev(c->d, m->dev);
	struct fs_sb *sb = sb_of(ns);
	struct fs_extent *e = NULL;
	uint64_t first, n, end;
	struct fs_stat st;
	size_t nr = 0;
	int err, fd;

	if (!sb)
		return -ENOENT;		/* not ours: the shim lets the kernel map it */
	if (!m->len || m->offset % MF_PAGE_SIZE || m->len % MF_PAGE_SIZE ||
	    m->offset > FS_MAX_BYTES || m->len > FS_MAX_BYTES)
		return -EINVAL;
	err = fs_getattr(sb, m->ino, &st);
	if (err)
		return err;
	if (!S_ISREG(st.mode))
		return -ENODEV;
	if (!may_access(&c->cred, &st, (m->prot & PROT_WRITE) != 0))
		return -EACCES;
	first = m->offset >> MF_PAGE_SHIFT;
	n = m->len >> MF_PAGE_SHIFT;
	end = first + n;
	err = fs_map_pages(sb, m->ino, first, n, &e, &nr);
	if (err)
		return err;
	memset(r, 0, sizeof(*r));
	r->ns_id = ns->id;
	r->ns_gen = ns->gen;
	r->map_gen = c->d->fs_map_gen;
	r->size = st.size;
	r->pfn_base = nd_pfn_base(ns);
	r->more = clip_extents(e, nr, first, end, r->e, &r->count) < nr;
	free(e);
	fd = open(ns->data_path, ((m->prot & PROT_WRITE) ? O_RDWR : O_RDONLY) | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	reply_init(&r->r, h, sizeof(*r), 0);
	conn_send(c, r, sizeof(*r), fd);
	close(fd);
	return 0;
}

/*
 * FS_IOC_FIEMAP: the file's extents as they are (no hole is allocated),
 * for whoever may read the file or owns it.
 */
int fsdax_fiemap(struct conn *c, const struct mf_hdr *h, const struct mf_fs_fiemap *m)
{
	struct mf_fs_fiemap_reply *r = (void *)reply_buf;
	struct fs_sb *sb = sb_of(fsdax_ns_of_dev(c->d, m->dev));
	struct fs_extent *e = NULL;
	uint64_t end = m->first + m->n;
	struct fs_stat st;
	size_t nr = 0;
	int err;

	if (!sb)
		return -ENOENT;		/* not ours: the shim asks the kernel */
	if (!m->n || m->first > FS_MAX_BYTES >> MF_PAGE_SHIFT ||
	    m->n > FS_MAX_BYTES >> MF_PAGE_SHIFT)
		return -EINVAL;
	err = fs_getattr(sb, m->ino, &st);
	if (err)
		return err;
	if (!S_ISREG(st.mode))
		return -ENODEV;
	if (c->cred.uid != st.uid && !may_access(&c->cred, &st, false))
		return -EACCES;
	err = fs_extents_of(sb, m->ino, m->first, m->n, &e, &nr);
	if (err)
		return err;
	memset(r, 0, sizeof(*r));
	r->more = clip_extents(e, nr, m->first, end, r->e, &r->count) < nr;
	free(e);
	reply_init(&r->r, h, sizeof(*r), 0);
	conn_send(c, r, sizeof(*r), -1);
	return 0;
}

/* Out of memory, the page is only taken for one the mapping had: its
 * touch is then a machine check, as on a mapping made before the error. */
static void note_unfaulted(struct mf_vma *vma, uint64_t idx)
{
	uint64_t *u = realloc(vma->unfaulted, (vma->nr_unfaulted + 1) * sizeof(*u));
	uint32_t i;

	if (!u)
		return;
	vma->unfaulted = u;
	/* extents come in file order: the list stays sorted cheaply */
	for (i = vma->nr_unfaulted; i > 0 && u[i - 1] > idx; i--)
		u[i] = u[i - 1];
	u[i] = idx;
	vma->nr_unfaulted++;
}

int fsdax_map_register(struct conn *c, const struct mf_hdr *h,
		       const struct mf_fs_map_register *m)
{
	struct mf_fs_map_register_reply *r = (void *)reply_buf;
	struct nd_namespace *ns = nd_namespace_by_id(c->d->region, m->ns_id);
	struct fs_sb *sb = sb_of(ns);
	struct fs_extent *e = NULL;
	struct mf_vma *vma;
	uint64_t first = m->offset >> MF_PAGE_SHIFT;
	size_t nr = 0, i;
	bool fresh;
	int err;

	if (!sb || ns->gen != m->ns_gen || fsdax_ns_of_dev(c->d, m->dev) != ns)
		return -ENODEV;
	if (!m->len || (m->offset | m->len | m->addr) % MF_PAGE_SIZE ||
	    m->addr + m->len < m->addr || m->offset > FS_MAX_BYTES || m->len > FS_MAX_BYTES)
		return -EINVAL;
	/* the blocks moved since MF_FS_MAP: map again.  (UINT64_MAX: a piece
	 * of a mapping already registered, or a child's copy of one, whose
	 * pages truncate fenced as it did its parent's) */
	if (m->map_gen != UINT64_MAX && m->map_gen != c->d->fs_map_gen)
		return -EAGAIN;
	err = mf_vma_insert_file(&c->proc->task, ns_to_dax(ns), m->map_id, m->addr, m->len,
				 m->ino, first, (int)m->prot, &vma);
	if (err)
		return err;
	/*
	 * What is poisoned already is fenced before the program sees it.  A
	 * new mapping never maps a block the driver knows is bad (its fault
	 * asks the driver first); a piece keeps the page tables of the whole
	 * it was cut from.  A child's copy is new in that sense: fork()
	 * copies no page table entry of a shared file mapping, so the child
	 * faults every page afresh and the driver refuses its bad blocks.
	 */
	fresh = m->map_gen != UINT64_MAX || mf_vma_inherit_unfaulted(vma) == -ENOENT;
	memset(r, 0, sizeof(*r));
	if (!fs_extents_of(sb, m->ino, first, m->len >> MF_PAGE_SHIFT, &e, &nr)) {
		for (i = 0; i < nr; i++) {
			uint64_t p;

			for (p = 0; p < e[i].len && r->count < MF_FS_POISON_MAX; p++) {
				uint64_t idx = e[i].foff + p, nspage = e[i].nsoff + p;

				if (idx < first || idx >= first + (m->len >> MF_PAGE_SHIFT))
					continue;
				if (nd_page_bad(ns, nspage) || nd_page_hwpoison(ns, nspage) ||
				    fs_page_bad(sb, m->ino, idx))
					r->page[r->count++] = idx - first;
				if (fresh && nd_page_known_bad(ns, nspage) &&
				    !nd_page_hwpoison(ns, nspage))
					note_unfaulted(vma, idx);
			}
		}
		free(e);
	}
	reply_init(&r->r, h, sizeof(*r), 0);
	conn_send(c, r, sizeof(*r), -1);
	return 0;
}

/* The faulting process maps file page idx from its new block. */
static int remap_page(struct mfd *d, struct mf_vma *vma, uint64_t idx, uint64_t nspage)
{
	struct mf_sd_work w = {
		.vma = vma, .ops = MF_OP_REMAP,
		.unit_addr = vma_address(vma, idx), .unit_len = MF_PAGE_SIZE,
		.page_addr = vma_address(vma, idx), .page_len = MF_PAGE_SIZE,
		.remap_off = nspage << MF_PAGE_SHIFT,
	};
	struct mf_shootdown sd = { .task = vma->task, .w = &w, .n = 1 };

	d->mf.ops->shootdown(&d->mf, &sd, 1);
	if (!sd.acked || w.error)
		return w.error ? w.error : -ETIMEDOUT;
	return 0;
}

/*
 * A fault on a block in the driver's badblocks list: dax_direct_access()
 * fails it.  Since 6.4 that is -EHWPOISON, VM_FAULT_HWPOISON, and the
 * fault handler's BUS_MCEERR_AR with the page's size; before, -EIO and a
 * plain SIGBUS (BUS_ADRERR).
 */
static int refuse_bad_block(struct conn *c, struct mf_vma *vma, uint64_t offset, uint64_t pfn,
			    const struct mf_current *cur, struct mf_raise *raise)
{
	struct mf_event ev = { .type = MF_EV_SIGNAL, .code = MF_BUS_MCEERR_AR };
	uint64_t addr = MF_ALIGN_DOWN(vma->start + offset, MF_PAGE_SIZE);

	raise->signo = SIGBUS;
	raise->addr = addr;
	if (c->d->mf.profile->fsdax_badblock_adrerr) {
		raise->code = MF_BUS_ADRERR;
		raise->lsb = 0;
		return 0;
	}
	raise->code = MF_BUS_MCEERR_AR;
	raise->lsb = MF_PAGE_SHIFT;
	mfd_log(c->d, 3, "MCE: Killing %s:%d due to hardware memory corruption fault at %" PRIx64,
		cur->comm, cur->tid, addr);
	ev.pid = vma->task->pid;
	ev.tid = cur->tid;
	ev.addr = addr;
	ev.lsb = MF_PAGE_SHIFT;
	strlcpy_mf(ev.comm, cur->comm, sizeof(ev.comm));
	mf_event_pfn(&c->d->mf, &ev, pfn);
	return 0;
}

int fsdax_consume(struct conn *c, struct mf_vma *vma, uint64_t offset,
		  const struct mf_current *cur, struct mf_raise *raise)
{
	struct nd_namespace *ns = vma->dax->ns;
	struct fs_sb *sb = sb_of(ns);
	uint64_t idx = vma->pgoff + (offset >> MF_PAGE_SHIFT), nspage;
	struct fs_extent *e = NULL;
	struct fs_stat st;
	size_t nr = 0;
	int err;

	if (!sb)
		return -ENODEV;
	err = fs_getattr(sb, vma->ino, &st);
	if (err)
		return err;
	/* past the end of the file: an ordinary SIGBUS, as a truncated
	 * mapping gives */
	if (idx >= MF_ALIGN_UP(st.size, MF_PAGE_SIZE) >> MF_PAGE_SHIFT) {
		raise->signo = SIGBUS;
		raise->code = MF_BUS_ADRERR;
		raise->addr = vma->start + offset;
		raise->lsb = 0;
		return 0;
	}
	/* a hole is filled as a write fault fills it (waits for the entry) */
	err = fs_map_pages(sb, vma->ino, idx, 1, &e, &nr);
	if (err == -ENOSPC || (!err && !nr)) {
		/* no block for it: the fault's SIGBUS (VM_FAULT_SIGBUS) */
		free(e);
		raise->signo = SIGBUS;
		raise->code = MF_BUS_ADRERR;
		raise->addr = vma->start + offset;
		return 0;
	}
	if (err)
		return err;
	nspage = e[0].nsoff + (idx - e[0].foff);
	free(e);
	/* the fault asks the driver, whose bad block refuses the page to
	 * this mapping alone: nothing is poisoned, no one else is told */
	if (nd_page_known_bad(ns, nspage) && !nd_page_hwpoison(ns, nspage) &&
	    mf_vma_unfaulted(vma, idx))
		return refuse_bad_block(c, vma, offset, nd_pfn_base(ns) + nspage, cur, raise);
	if (nd_page_bad(ns, nspage) || nd_page_hwpoison(ns, nspage) || fs_page_bad(sb, vma->ino, idx)) {
		if (nd_page_bad(ns, nspage))
			found_latent(c->d, ns, nspage * MF_SECTORS_PER_PAGE, MF_SECTORS_PER_PAGE,
				     MF_EVF_BY_ACCESS);
		return memory_failure(&c->d->mf, nd_pfn_base(ns) + nspage, MF_ACTION_REQUIRED,
				      cur, raise);
	}
	/* a good block: map it in, and the touch is tried again */
	return remap_page(c->d, vma, idx, nspage);
}

/* ---- MF_FS_MEDIA_ERRORS: each file's bad ranges ---- */

struct err_walk {
	struct mf_fs_media_errors_reply *r;
	uint64_t after_ino, after_page;
	uint64_t last_ino, last_idx;
	bool full;
};

static int err_walk_one(uint64_t ino, uint64_t idx, uint64_t nspage, void *arg)
{
	struct err_walk *w = arg;
	struct mf_fs_error *e;

	(void)nspage;
	if (ino < w->after_ino || (ino == w->after_ino && idx <= w->after_page))
		return 0;
	e = w->r->count ? &w->r->e[w->r->count - 1] : NULL;
	/* the next page of the same file extends its range */
	if (e && w->last_ino == ino && w->last_idx + 1 == idx) {
		e->length += MF_PAGE_SIZE;
	} else {
		if (w->r->count == MF_FS_ERR_MAX) {
			w->full = true;
			return 1;
		}
		e = &w->r->e[w->r->count++];
		memset(e, 0, sizeof(*e));
		e->ino = ino;
		e->offset = idx << MF_PAGE_SHIFT;
		e->length = MF_PAGE_SIZE;
	}
	w->last_ino = ino;
	w->last_idx = idx;
	return 0;
}

static int count_page(uint64_t nspage, void *arg)
{
	(void)nspage;
	(*(uint64_t *)arg)++;
	return 0;
}

void fsdax_media_errors(struct conn *c, const struct mf_hdr *h,
			const struct mf_fs_media_errors_req *m)
{
	static char buf[MF_MSG_MAX];
	struct mf_fs_media_errors_reply *r = (void *)buf;
	struct nd_namespace *ns = ns_by_wire_name(c->d, m->name);
	struct err_walk w = { .r = r, .after_ino = m->after_ino, .after_page = m->after_page };
	struct fs_sb *sb = sb_of(ns);
	uint32_t i;
	int err;

	if (!ns) {
		send_error(c, h, -ENODEV);
		return;
	}
	if (!sb) {
		send_error(c, h, -EINVAL);	/* devdax: no files */
		return;
	}
	/* file names and where they are bad: for whoever may manage it */
	if (!cred_is_admin_of(c->d, &c->cred, ns)) {
		send_error(c, h, -EPERM);
		return;
	}
	memset(r, 0, sizeof(*r));
	err = fs_for_each_media_error(sb, err_walk_one, &w);
	if (err < 0) {
		send_error(c, h, err);
		return;
	}
	for (i = 0; i < r->count; i++)
		fs_name_of(sb, r->e[i].ino, r->e[i].name, sizeof(r->e[i].name));
	r->more = w.full;
	r->next_ino = w.last_ino;
	r->next_page = w.last_idx;
	fs_for_each_free_poison(sb, count_page, &r->free_poison_pages);
	reply_init(&r->r, h, sizeof(*r) + r->count * sizeof(r->e[0]), 0);
	conn_send(c, r, r->r.hdr.len, -1);
}
