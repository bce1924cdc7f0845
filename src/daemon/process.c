// SPDX-License-Identifier: MIT
/*
 * daemon/process.c: requests of a mapping process (through the preload
 * library or libmemfail): open a namespace, register and unregister its
 * mappings, list the poisoned pages it must fence, madvise(MADV_HWPOISON)
 * and MADV_SOFT_OFFLINE, and the fault handler's report that a thread
 * touched poison.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../dax/dax.h"
#include "memfaild.h"

static char reply_buf[MF_MSG_MAX];

static int ns_open(struct conn *c, const struct mf_hdr *h, const struct mf_ns_open *m)
{
	struct nd_namespace *ns;
	struct mf_ns_reply r;
	int fd;

	if (!memchr(m->name, '\0', sizeof(m->name)))
		return -EINVAL;
	ns = nd_namespace_find(c->d->region, m->name);
	if (!ns)
		return -ENOENT;
	if (!m->access || (m->access & ~(MF_ACCESS_READ | MF_ACCESS_WRITE)))
		return -EINVAL;
	if (!cred_may_open(&c->cred, ns, m->access))
		return -EACCES;
	/*
	 * A description of its own, with the caller's access mode and no
	 * more: the client's file offset is its own, and a write-only open
	 * cannot be read through a call the shim does not interpose.
	 */
	fd = open(ns->data_path, (m->access == MF_ACCESS_READ ? O_RDONLY :
				  m->access == MF_ACCESS_WRITE ? O_WRONLY : O_RDWR) | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	reply_init(&r.r, h, sizeof(r), 0);
	ns_info_fill(&r.ns, ns);
	/* a reply that cannot be sent closed the connection: nothing to undo */
	conn_send(c, &r, sizeof(r), fd);
	close(fd);
	return 0;
}

static int count_page(uint64_t page, void *arg)
{
	(void)page;
	(*(uint64_t *)arg)++;
	return 0;
}

static int map_register(struct conn *c, const struct mf_hdr *h,
			const struct mf_map_register *m)
{
	struct nd_namespace *ns = nd_namespace_by_id(c->d->region, m->ns_id);
	struct mf_map_register_reply r;
	uint64_t len, n = 0;
	int err;

	if (!ns || !ns_to_dax(ns) || ns->gen != m->ns_gen)
		return -ENODEV;
	if (!m->len || m->offset % ns->align || m->len % ns->align ||
	    m->addr % ns->align || m->addr + m->len < m->addr)
		return -EINVAL;
	if (m->offset >= ns->size)
		return -ENXIO;
	if (!cred_may_open(&c->cred, ns, MF_ACCESS_READ |
			   ((m->prot & PROT_WRITE) ? MF_ACCESS_WRITE : 0)))
		return -EACCES;
	/* the part beyond the device faults with SIGBUS: nothing to track */
	len = m->len < ns->size - m->offset ? m->len : ns->size - m->offset;
	err = mf_vma_insert(&c->proc->task, ns_to_dax(ns), m->map_id, m->addr, len,
			    m->offset >> MF_PAGE_SHIFT, (int)m->prot, NULL);
	if (err)
		return err;
	rangeset_for_each_block(&ns->poison, MF_PAGE_SHIFT - MF_SECTOR_SHIFT,
				m->offset >> MF_PAGE_SHIFT, (m->offset + len) >> MF_PAGE_SHIFT,
				count_page, &n);
	reply_init(&r.r, h, sizeof(r), 0);
	r.nr_poisoned = n;
	conn_send(c, &r, sizeof(r), -1);
	return 0;
}

static int map_unregister(struct conn *c, const struct mf_map_unregister *m)
{
	struct mf_vma *vma = mf_vma_find(&c->proc->task, m->map_id);

	if (!vma)
		return -ENOENT;
	mf_vma_remove(vma);
	return 0;
}

struct poison_page_list {
	struct mf_poison_list_reply *r;
	uint64_t next;
};

static int list_page(uint64_t page, void *arg)
{
	struct poison_page_list *pl = arg;

	if (pl->r->count == MF_POISON_LIST_MAX) {
		pl->next = page;
		return 1;
	}
	pl->r->page[pl->r->count++] = page;
	return 0;
}

static int poison_list(struct conn *c, const struct mf_hdr *h,
		       const struct mf_poison_list *m)
{
	struct nd_namespace *ns = nd_namespace_by_id(c->d->region, m->ns_id);
	struct poison_page_list pl = { .r = (void *)reply_buf };
	uint64_t last;

	if (!ns)
		return -ENODEV;
	if (m->first_page > m->last_page)
		return -EINVAL;
	last = m->last_page < nd_nr_pages(ns) ? m->last_page : nd_nr_pages(ns);
	memset(pl.r, 0, sizeof(*pl.r));
	pl.r->more = rangeset_for_each_block(&ns->poison, MF_PAGE_SHIFT - MF_SECTOR_SHIFT,
					     m->first_page, last, list_page, &pl) > 0;
	pl.r->next_page = pl.r->more ? pl.next : 0;
	reply_init(&pl.r->r, h, sizeof(*pl.r) + pl.r->count * sizeof(pl.r->page[0]), 0);
	conn_send(c, pl.r, pl.r->r.hdr.len, -1);
	return 0;
}

static void current_of(struct conn *c, int32_t tid, const char *comm,
		       struct mf_current *cur)
{
	memset(cur, 0, sizeof(*cur));
	cur->task = &c->proc->task;
	cur->tid = tid > 0 ? tid : c->proc->task.pid;
	memcpy(cur->comm, comm, MF_COMM_LEN);
	cur->comm[MF_COMM_LEN - 1] = '\0';
}

static void raise_to_wire(struct mf_raise_msg *o, const struct mf_raise *r)
{
	memset(o, 0, sizeof(*o));
	o->signo = r->signo;
	o->code = r->code;
	o->addr = r->addr;
	o->lsb = r->lsb;
}

static int madvise_req(struct conn *c, const struct mf_hdr *h, const struct mf_madvise *m)
{
	struct mf_vma *vma = mf_vma_find(&c->proc->task, m->map_id);
	struct mf_madvise_reply r;
	struct mf_current cur;
	struct mf_raise raise = { 0 };
	uint64_t len = m->len;
	int ret;

	if (!vma)
		return -EFAULT;
	if (m->advice != MF_MADV_HWPOISON && m->advice != MF_MADV_SOFT_OFFLINE)
		return -EINVAL;
	/* the capability comes first, as in the kernel */
	if (!cred_has_sys_admin(c->d, &c->cred, m->tid, vma->dax->ns->uid))
		return -EPERM;
	if (!len || m->offset % MF_PAGE_SIZE || m->offset >= vma->len)
		return -EFAULT;
	/*
	 * A range that runs past the device's end: the kernel poisons page
	 * by page and fails at the first page it cannot get, so the pages
	 * before the end are poisoned all the same.
	 */
	if (len > vma->len - m->offset)
		len = vma->len - m->offset;
	current_of(c, m->tid, m->comm, &cur);
	ret = madvise_inject_error(&c->d->mf, vma, vma->start + m->offset, len,
				   (int)m->advice, &cur, &raise);
	if (!ret && len < m->len)
		ret = -EFAULT;
	reply_init(&r.r, h, sizeof(r), ret);
	raise_to_wire(&r.raise, &raise);
	conn_send(c, &r, sizeof(r), -1);
	return 0;
}

static int consume(struct conn *c, const struct mf_hdr *h, const struct mf_consume *m)
{
	struct mf_vma *vma = mf_vma_find(&c->proc->task, m->map_id);
	struct mf_consume_reply r;
	struct nd_namespace *ns;
	struct mf_current cur;
	struct mf_raise raise = { 0 };
	uint64_t page;
	int ret = 0;

	if (!vma)
		return -ENOENT;
	if (m->offset >= vma->len)
		return -EFAULT;
	ns = vma->dax->ns;
	page = vma->pgoff + (m->offset >> MF_PAGE_SHIFT);
	current_of(c, m->tid, m->comm, &cur);
	if (vma->ino) {
		/* a file page: its block, a hole, or past the end */
		ret = fsdax_consume(c, vma, m->offset, &cur, &raise);
		goto reply;
	}
	/*
	 * The page may have been cleared while the fault was on its way:
	 * then there is nothing to consume, and the thread tries again once
	 * its fence is lifted.
	 */
	if (nd_page_bad(ns, page)) {
		/* the machine check tells the driver of poison it did not know */
		found_latent(c->d, ns, page * MF_SECTORS_PER_PAGE, MF_SECTORS_PER_PAGE,
			     MF_EVF_BY_ACCESS);
		ret = memory_failure(&c->d->mf, nd_pfn_base(ns) + page,
				     MF_ACTION_REQUIRED, &cur, &raise);
	}
reply:
	reply_init(&r.r, h, sizeof(r), ret);
	raise_to_wire(&r.raise, &raise);
	conn_send(c, &r, sizeof(r), -1);
	return 0;
}

#define REQ(type, buf, len) ((len) == sizeof(type) ? (const type *)(buf) : NULL)

void handle_request(struct conn *c, const struct mf_hdr *h, const void *buf, size_t len)
{
	int err = -EBADMSG;

	if (c->role == MF_ROLE_FAULT && h->type != MF_CONSUME && h->type != MF_RAM_TOUCH) {
		send_error(c, h, -EINVAL);
		return;
	}
	switch (h->type) {
	case MF_NS_OPEN:
		if (REQ(struct mf_ns_open, buf, len))
			err = ns_open(c, h, buf);
		break;
	case MF_MAP_REGISTER:
		if (REQ(struct mf_map_register, buf, len))
			err = map_register(c, h, buf);
		break;
	case MF_MAP_UNREGISTER:
		if (REQ(struct mf_map_unregister, buf, len)) {
			err = map_unregister(c, buf);
			if (!err)
				send_error(c, h, 0);
		}
		break;
	case MF_POISON_LIST:
		if (REQ(struct mf_poison_list, buf, len))
			err = poison_list(c, h, buf);
		break;
	case MF_MADVISE:
		if (REQ(struct mf_madvise, buf, len))
			err = madvise_req(c, h, buf);
		break;
	case MF_CONSUME:
		if (REQ(struct mf_consume, buf, len))
			err = consume(c, h, buf);
		break;
	case MF_FS_MAP:
		if (REQ(struct mf_fs_map, buf, len))
			err = fsdax_map(c, h, buf);
		break;
	case MF_FS_MAP_REGISTER:
		if (REQ(struct mf_fs_map_register, buf, len))
			err = fsdax_map_register(c, h, buf);
		break;
	case MF_FS_FIEMAP:
		if (REQ(struct mf_fs_fiemap, buf, len))
			err = fsdax_fiemap(c, h, buf);
		break;
	case MF_RAM_MADVISE:
	case MF_RAM_TOUCH:
	case MF_RAM_PFNS:
	case MF_RAM_TRUNCATE:
	case MF_RAM_FILES:
	case MF_RAM_KPAGEFLAGS:
	case MF_PFN_WRITE:
	case MF_KMSG_READ:
	case MF_KMSG_WRITE:
		err = ram_request(c, h, buf, len);
		break;
	default:
		/* admin requests are fine from a mapping process too */
		handle_admin(c, h, buf, len);
		return;
	}
	if (err)
		send_error(c, h, err);
}
