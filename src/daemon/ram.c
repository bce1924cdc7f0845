// SPDX-License-Identifier: MIT
/*
 * daemon/ram.c: ordinary memory.  A mapping process's requests about its
 * own pages (madvise, the touch of a fenced page, the pfns pagemap
 * shows), the kernel's injection files (corrupt-pfn, unpoison-pfn,
 * hard_offline_page, soft_offline_page), /proc/kpageflags, and what is
 * known of files: which have a poisoned page in them, which lost a dirty
 * one (fsync() reports it).
 *
 * The status page beside the socket lets every client tell "no file has
 * anything" with one load: its file_gen moves with every file event.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "memfaild.h"

#define STATUS_SIZE	4096

static char reply_buf[MF_MSG_MAX];

int ram_init(struct mfd *d)
{
	int fd, err;

	snprintf(d->status_path, sizeof(d->status_path), "%s.status", d->opt.socket_path);
	unlink(d->status_path);
	/* every client may read it: it tells only that something happened */
	fd = open(d->status_path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	fchmod(fd, 0644);	/* our umask is 077 */
	if (ftruncate(fd, STATUS_SIZE)) {
		err = -errno;
		goto fail;
	}
	d->status = mmap(NULL, STATUS_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (d->status == MAP_FAILED) {
		err = -errno;
		d->status = NULL;
		goto fail;
	}
	close(fd);
	d->status->version = MF_PROTO_VERSION;
	d->status->daemon_pid = (uint64_t)getpid();
	d->status->profile = d->mf.profile->id;
	d->status->strict_caps = d->opt.strict_caps;
	d->status->daemon_uid = (uint32_t)getuid();
	ram_status_sync(d);
	__atomic_store_n(&d->status->magic, MF_STATUS_MAGIC, __ATOMIC_RELEASE);
	return 0;
fail:
	close(fd);
	unlink(d->status_path);
	return err;
}

void ram_status_sync(struct mfd *d)
{
	struct mf_status_page *st = d->status;
	const struct mf_engine *mf = &d->mf;

	if (!st)
		return;
	__atomic_store_n(&st->early_kill, mf->early_kill, __ATOMIC_RELEASE);
	__atomic_store_n(&st->recovery, mf->recovery, __ATOMIC_RELEASE);
	__atomic_store_n(&st->enable_soft_offline, mf->enable_soft_offline, __ATOMIC_RELEASE);
	__atomic_store_n(&st->hardware_corrupted_pages, mf->poisoned_pages, __ATOMIC_RELEASE);
	__atomic_store_n(&st->node.total, mf->node.total, __ATOMIC_RELEASE);
	__atomic_store_n(&st->node.ignored, mf->node.ignored, __ATOMIC_RELEASE);
	__atomic_store_n(&st->node.failed, mf->node.failed, __ATOMIC_RELEASE);
	__atomic_store_n(&st->node.delayed, mf->node.delayed, __ATOMIC_RELEASE);
	__atomic_store_n(&st->node.recovered, mf->node.recovered, __ATOMIC_RELEASE);
	__atomic_store_n(&st->frame_gen, mf->frame_gen, __ATOMIC_RELEASE);
}

void ram_shutdown(struct mfd *d)
{
	if (d->status) {
		munmap(d->status, STATUS_SIZE);
		d->status = NULL;
		unlink(d->status_path);
	}
	free(d->files.e);
	memset(&d->files, 0, sizeof(d->files));
	mf_ram_free(&d->mf);
}

/* Kept sorted by (dev, ino, off, what), so that it can be paged. */
static int entry_cmp(const struct mf_ram_file_entry *a, const struct mf_ram_file_entry *b)
{
	if (a->dev != b->dev)
		return a->dev < b->dev ? -1 : 1;
	if (a->ino != b->ino)
		return a->ino < b->ino ? -1 : 1;
	if (a->off != b->off)
		return a->off < b->off ? -1 : 1;
	if (a->what != b->what)
		return a->what < b->what ? -1 : 1;
	return 0;
}

uint64_t ram_file_event(struct mfd *d, const struct mf_frame *f, uint32_t what)
{
	struct mf_ram_file_entry e = {
		.dev = f->key.a, .ino = f->key.b, .off = f->key.c,
		.what = what, .shift = f->shift,
	};
	struct ram_files *fl = &d->files;
	size_t i;

	e.gen = d->status ? d->status->file_gen + 1 : 1;
	for (i = 0; i < fl->n; i++) {
		int c = entry_cmp(&fl->e[i], &e);

		if (!c) {
			fl->e[i].gen = e.gen;	/* it happened again */
			goto bump;
		}
		if (c > 0)
			break;
	}
	if (fl->n == fl->cap) {
		size_t cap = fl->cap ? fl->cap * 2 : 16;
		struct mf_ram_file_entry *n = realloc(fl->e, cap * sizeof(*n));

		if (!n)
			return 0;
		fl->e = n;
		fl->cap = cap;
	}
	memmove(&fl->e[i + 1], &fl->e[i], (fl->n - i) * sizeof(*fl->e));
	fl->e[i] = e;
	fl->n++;
bump:
	if (d->status)
		__atomic_store_n(&d->status->file_gen, e.gen, __ATOMIC_RELEASE);
	return e.gen;
}

/* The frame a page of the calling process is, by what it is. */
static int page_key(struct conn *c, const struct mf_ram_page *p, struct mf_ram_key *key,
		    uint64_t *sub)
{
	uint64_t unit;

	if (p->kind < MF_RAM_ANON_PAGE || p->kind > MF_RAM_HUGETLB_PAGE)
		return -EINVAL;
	if (p->shift != MF_PAGE_SHIFT && p->shift != 21 && p->shift != 30)
		return -EINVAL;
	if ((p->shift != MF_PAGE_SHIFT) != (p->kind == MF_RAM_HUGETLB_PAGE))
		return -EINVAL;
	if (p->addr % MF_PAGE_SIZE || p->off % MF_PAGE_SIZE)
		return -EINVAL;
	/* anonymous private memory belongs to its process alone */
	if (p->kind == MF_RAM_ANON_PAGE && p->shared)
		return -EINVAL;
	if ((p->kind == MF_RAM_SHMEM_PAGE || p->kind == MF_RAM_FILE_PAGE) && !p->shared)
		return -EINVAL;
	unit = 1ULL << p->shift;
	memset(key, 0, sizeof(*key));
	if (p->shared) {
		key->a = p->dev;
		key->b = p->ino;
		key->c = MF_ALIGN_DOWN(p->off, unit);
		key->shared = 1;
		*sub = (p->off - key->c) >> MF_PAGE_SHIFT;
	} else {
		key->a = c->proc->task.id;
		key->b = MF_ALIGN_DOWN(p->addr, unit);
		*sub = (p->addr - key->b) >> MF_PAGE_SHIFT;
	}
	return 0;
}

/*
 * The frame of a page the caller maps.  A private page is named by the
 * caller's own address, a shared one by its file: that the caller maps
 * that part of the file is checked, or any client could reach other
 * people's shared memory.  *seen keeps the last window found, so that a
 * batch of pages of one mapping reads the caller's maps once.
 */
static int page_frame(struct conn *c, const struct mf_ram_page *p, struct mf_frame **f,
		      uint64_t *sub, struct file_window *seen)
{
	struct mf_ram_key key;
	int err = page_key(c, p, &key, sub);

	if (err)
		return err;
	if (p->shared &&
	    !(seen->dev == p->dev && seen->ino == p->ino && p->off >= seen->lo && p->off < seen->hi) &&
	    !proc_maps_file(c->proc->task.pid, p->dev, p->ino, p->off, seen))
		return -EACCES;
	err = mf_ram_frame(&c->d->mf, &key, p->kind, p->shift, &c->proc->task, f);
	if (err)
		return err == -ENOSPC ? -ENOMEM : err;
	/* what it is like now, as its mapper sees it */
	if (!(*f)->hwpoison)
		(*f)->state = p->state;
	return 0;
}

static void current_of(struct conn *c, int32_t tid, const char *comm, struct mf_current *cur)
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

static int ram_madvise(struct conn *c, const struct mf_hdr *h, const struct mf_ram_madvise *m)
{
	struct mf_ram_madvise_reply r;
	struct mf_raise raise = { 0 };
	struct mf_current cur;
	struct mf_frame *f;
	uint64_t sub;
	int err;

	if (m->advice != MF_MADV_HWPOISON && m->advice != MF_MADV_SOFT_OFFLINE)
		return -EINVAL;
	/* the capability comes first, as in the kernel */
	if (!cred_has_sys_admin(c->d, &c->cred, m->tid, c->proc->task.uid))
		return -EPERM;
	err = page_frame(c, &m->page, &f, &sub, &(struct file_window){ 0 });
	if (err)
		return err;
	/*
	 * A private page its owner sees shared copy-on-write: the relatives
	 * that still have it are asked too (peer-ram.c).  What it was like
	 * when it was poisoned stays with the frame.
	 */
	if (!f->hwpoison && !f->key.shared)
		f->cow = m->advice == MF_MADV_HWPOISON && f->kind == MF_RAM_ANON && m->cow.hash ?
			 m->cow : (struct mf_ram_cow){ 0 };
	current_of(c, m->tid, m->comm, &cur);
	reply_init(&r.r, h, sizeof(r), 0);
	r.pfn = f->pfn + sub;
	r.r.error = madvise_inject_ram(&c->d->mf, f, m->page.addr, (int)m->advice, &cur, &raise);
	/* the frame may be gone from its key now (soft offline, a dropped
	 * page): the page gets a new pfn */
	r.flags = f->attached ? 0 : MF_RAM_MOVED;
	raise_to_wire(&r.raise, &raise);
	r.pad = 0;
	conn_send(c, &r, sizeof(r), -1);
	return 0;
}

/* pfn_valid(): a page the emulated machine has */
static bool pfn_valid(struct mfd *d, uint64_t pfn)
{
	return mf_ram_pfn_valid(pfn) || nd_namespace_by_pfn(d->region, pfn);
}

/*
 * The fault of a page whose hwpoison entry the process has (x86's
 * do_sigbus() for VM_FAULT_HWPOISON): no memory_failure() run, a line
 * and a forced BUS_MCEERR_AR.
 */
static int ram_touch(struct conn *c, const struct mf_hdr *h, const struct mf_ram_touch *m)
{
	struct mf_event ev = { .type = MF_EV_SIGNAL, .code = MF_BUS_MCEERR_AR };
	struct mf_consume_reply r;
	struct mf_current cur;
	uint64_t page = MF_ALIGN_DOWN(m->addr, MF_PAGE_SIZE);

	/*
	 * The process's own word: its hwpoison entry outlives the page's
	 * poison (unpoison), so there is no more to check than that the
	 * page could be one.  The line is about the process itself.
	 */
	if ((m->shift != MF_PAGE_SHIFT && m->shift != 21 && m->shift != 30) ||
	    !pfn_valid(c->d, m->pfn))
		return -EINVAL;
	current_of(c, m->tid, m->comm, &cur);
	mfd_log(c->d, 3, "MCE: Killing %s:%d due to hardware memory corruption fault at %" PRIx64,
		cur.comm, cur.tid, page);
	ev.pid = c->proc->task.pid;
	ev.tid = cur.tid;
	ev.addr = page;
	ev.lsb = m->shift;
	strlcpy_mf(ev.comm, cur.comm, sizeof(ev.comm));
	mf_event_pfn(&c->d->mf, &ev, m->pfn);
	reply_init(&r.r, h, sizeof(r), 0);
	memset(&r.raise, 0, sizeof(r.raise));
	r.raise.signo = SIGBUS;
	r.raise.code = MF_BUS_MCEERR_AR;
	r.raise.addr = page;
	r.raise.lsb = m->shift;
	conn_send(c, &r, sizeof(r), -1);
	return 0;
}

static int ram_pfns(struct conn *c, const struct mf_hdr *h, const struct mf_ram_pfns *m,
		    size_t len)
{
	struct mf_ram_pfns_reply *r = (void *)reply_buf;
	struct file_window seen = { 0 };
	uint32_t i;

	if (len < sizeof(*m) || m->count > MF_RAM_PFNS_MAX ||
	    len != sizeof(*m) + m->count * sizeof(m->page[0]))
		return -EBADMSG;
	for (i = 0; i < m->count; i++) {
		struct mf_frame *f;
		uint64_t sub;
		int err = page_frame(c, &m->page[i], &f, &sub, &seen);

		if (err == -EINVAL)
			return err;
		r->pfn[i] = err ? 0 : f->pfn + sub;
	}
	reply_init(&r->r, h, sizeof(*r) + m->count * sizeof(r->pfn[0]), 0);
	r->count = m->count;
	r->pad = 0;
	conn_send(c, r, r->r.hdr.len, -1);
	return 0;
}

static int ram_files(struct conn *c, const struct mf_hdr *h, const struct mf_ram_files *m)
{
	struct mf_ram_files_reply *r = (void *)reply_buf;
	const struct ram_files *fl = &c->d->files;
	const size_t max = (MF_MSG_MAX - sizeof(*r)) / sizeof(r->e[0]);
	struct mf_ram_file_entry cursor = { .dev = m->dev, .ino = m->ino, .off = m->off,
					    .what = UINT32_MAX };
	size_t i;

	memset(r, 0, sizeof(*r));
	for (i = 0; i < fl->n; i++) {
		if (entry_cmp(&fl->e[i], &cursor) <= 0 && (m->dev || m->ino || m->off))
			continue;
		if (r->count == max || r->count == MF_RAM_FILES_MAX) {
			r->more = 1;
			break;
		}
		r->e[r->count++] = fl->e[i];
	}
	reply_init(&r->r, h, sizeof(*r) + r->count * sizeof(r->e[0]), 0);
	conn_send(c, r, r->r.hdr.len, -1);
	return 0;
}

/* The file's entry i leaves the list; the status page says the list
 * changed. */
static void ram_file_forget(struct mfd *d, size_t i)
{
	struct ram_files *fl = &d->files;

	memmove(&fl->e[i], &fl->e[i + 1], (fl->n - i - 1) * sizeof(*fl->e));
	fl->n--;
	if (d->status)
		__atomic_store_n(&d->status->file_gen, d->status->file_gen + 1, __ATOMIC_RELEASE);
}

/*
 * A shmem file lost [from, end): its poisoned pages there go with it.
 * The caller must have the file open for writing, and a truncation must
 * have happened (the size is at most `from`), or anyone could take
 * poison off someone else's file.
 */
static int ram_truncate(struct conn *c, const struct mf_ram_truncate *m)
{
	struct ram_files *fl = &c->d->files;
	struct stat st;
	bool writable;
	size_t i;
	int err;

	if (m->from % MF_PAGE_SIZE || m->end <= m->from)
		return -EINVAL;
	err = proc_fd_file(c->proc->task.pid, m->fd, &st, &writable);
	if (err)
		return err == -ENOENT ? -EBADF : err;
	if ((uint64_t)st.st_dev != m->dev || (uint64_t)st.st_ino != m->ino || !S_ISREG(st.st_mode))
		return -EBADF;
	if (!writable)
		return -EBADF;
	if (m->end == UINT64_MAX && (uint64_t)st.st_size > m->from)
		return -EINVAL;
	for (i = 0; i < fl->n;) {
		const struct mf_ram_file_entry *e = &fl->e[i];
		struct mf_ram_key key = { .a = e->dev, .b = e->ino, .c = e->off, .shared = 1 };
		struct mf_frame *f;

		if (e->what != MF_FILE_POISON || e->dev != m->dev || e->ino != m->ino ||
		    e->off < m->from || e->off + (1ULL << e->shift) > m->end) {
			i++;
			continue;
		}
		f = mf_ram_find(&c->d->mf, &key);
		/* a hugetlb page stays: its file keeps it poisoned */
		if (f && f->kind != MF_RAM_SHMEM) {
			i++;
			continue;
		}
		if (f)
			truncate_ram_page(&c->d->mf, f);
		ram_file_forget(c->d, i);
	}
	ram_status_sync(c->d);
	return 0;
}

static int ram_kpageflags(struct conn *c, const struct mf_hdr *h,
			  const struct mf_ram_kpageflags *m)
{
	struct mf_ram_kpageflags_reply *r = (void *)reply_buf;
	uint32_t i;

	if (m->count > MF_KPAGEFLAGS_MAX || m->first + m->count < m->first)
		return -EINVAL;
	for (i = 0; i < m->count; i++)
		r->flags[i] = mf_kpageflags(&c->d->mf, m->first + i);
	reply_init(&r->r, h, sizeof(*r) + m->count * sizeof(r->flags[0]), 0);
	r->count = m->count;
	r->pad = 0;
	conn_send(c, r, r->r.hdr.len, -1);
	return 0;
}

/* Whose memory pfn is: root's if nobody's (a free page, a device's). */
static uid_t pfn_owner(struct mfd *d, uint64_t pfn)
{
	struct mf_frame *f = mf_ram_lookup(&d->mf, pfn);
	struct nd_namespace *ns;

	if (f && f->kind)
		return f->uid;
	ns = nd_namespace_by_pfn(d->region, pfn);
	return ns ? ns->uid : 0;
}

static int pfn_write(struct conn *c, const struct mf_pfn_write *m)
{
	struct mfd *d = c->d;
	struct mf_engine *mf = &d->mf;
	uint64_t pfn = m->value;
	int ret;

	if (m->op == MF_PFN_HARD_OFFLINE || m->op == MF_PFN_SOFT_OFFLINE)
		pfn = m->value >> MF_PAGE_SHIFT;
	else if (m->op != MF_PFN_CORRUPT && m->op != MF_PFN_UNPOISON)
		return -EINVAL;
	if (!cred_has_sys_admin(d, &c->cred, m->tid, pfn_owner(d, pfn)))
		return -EPERM;
	switch (m->op) {
	case MF_PFN_CORRUPT:
		/* hwpoison_inject() */
		if (!pfn_valid(d, pfn))
			return -ENXIO;
		mfd_log(d, 6, "Injecting memory failure at pfn %#" PRIx64, pfn);
		ret = memory_failure_pfn(mf, pfn, MF_SW_SIMULATED);
		return ret == -EOPNOTSUPP ? 0 : ret;
	case MF_PFN_UNPOISON:
		/* (a shmem page still in its file is refused: its file
		 * events stay true) */
		return unpoison_memory(mf, pfn);
	case MF_PFN_HARD_OFFLINE:
		ret = memory_failure_pfn(mf, pfn, MF_SW_SIMULATED);
		return ret == -EOPNOTSUPP ? 0 : ret;
	case MF_PFN_SOFT_OFFLINE:
		if (!pfn_valid(d, pfn))
			return -ENXIO;
		/* only online pages can be soft-offlined: not ZONE_DEVICE */
		if (!mf_ram_pfn_valid(pfn))
			return -EIO;
		return soft_offline_ram(mf, pfn, c->proc ? &c->proc->task : NULL);
	}
	return -EINVAL;
}

static int kmsg_read(struct conn *c, const struct mf_hdr *h, const struct mf_kmsg_read *m)
{
	struct mf_kmsg_reply *r = (void *)reply_buf;
	const unsigned room = (MF_MSG_MAX - sizeof(*r)) / sizeof(r->rec[0]);
	unsigned max = m->max < room ? m->max : room;

	memset(r, 0, sizeof(*r));
	r->count = mfd_kmsg_read(m->after_seq, r->rec, max < MF_KMSG_MAX ? max : MF_KMSG_MAX,
				 &r->first_seq, &r->next_seq);
	reply_init(&r->r, h, sizeof(*r) + r->count * sizeof(r->rec[0]), 0);
	conn_send(c, r, r->r.hdr.len, -1);
	return 0;
}

/* A write to /dev/kmsg: "<N>" sets the priority, a user's default is
 * LOG_USER | LOG_INFO; the line is the daemon's log's. */
static int kmsg_write(struct conn *c, const struct mf_kmsg_write *m)
{
	char text[sizeof(m->text) + 1];
	size_t len = m->len;
	const char *t = text;
	int level = 6;

	if (len > sizeof(m->text))
		return -EINVAL;
	memcpy(text, m->text, len);
	text[len] = '\0';
	while (len && (text[len - 1] == '\n' || text[len - 1] == '\0'))
		text[--len] = '\0';
	if (t[0] == '<' && t[1] >= '0' && t[1] <= '9') {
		char *end;
		long prio = strtol(t + 1, &end, 10);

		if (*end == '>') {
			level = (int)(prio & 7);
			t = end + 1;
		}
	}
	mfd_log(c->d, 8 + level, "%s", t);	/* 8: the user facility */
	return 0;
}

#define REQ(type, buf, len) ((len) == sizeof(type) ? (const type *)(buf) : NULL)

int ram_request(struct conn *c, const struct mf_hdr *h, const void *buf, size_t len)
{
	int err = -EBADMSG;

	switch (h->type) {
	case MF_RAM_MADVISE:
		if (REQ(struct mf_ram_madvise, buf, len))
			err = ram_madvise(c, h, buf);
		break;
	case MF_RAM_TOUCH:
		if (REQ(struct mf_ram_touch, buf, len))
			err = ram_touch(c, h, buf);
		break;
	case MF_RAM_PFNS:
		err = ram_pfns(c, h, buf, len);
		break;
	case MF_RAM_TRUNCATE:
		if (REQ(struct mf_ram_truncate, buf, len)) {
			err = ram_truncate(c, buf);
			send_error(c, h, err);
			err = 0;
		}
		break;
	default:
		return ram_admin(c, h, buf, len);
	}
	return err;
}

int ram_admin(struct conn *c, const struct mf_hdr *h, const void *buf, size_t len)
{
	int err = -EBADMSG;

	switch (h->type) {
	case MF_RAM_FILES:
		if (REQ(struct mf_ram_files, buf, len))
			err = ram_files(c, h, buf);
		break;
	case MF_RAM_KPAGEFLAGS:
		if (REQ(struct mf_ram_kpageflags, buf, len))
			err = ram_kpageflags(c, h, buf);
		break;
	case MF_KMSG_READ:
		if (REQ(struct mf_kmsg_read, buf, len))
			err = kmsg_read(c, h, buf);
		break;
	case MF_KMSG_WRITE:
		if (REQ(struct mf_kmsg_write, buf, len)) {
			err = kmsg_write(c, buf);
			send_error(c, h, err);
			err = 0;
		}
		break;
	case MF_PFN_WRITE:
		if (REQ(struct mf_pfn_write, buf, len)) {
			err = pfn_write(c, buf);
			send_error(c, h, err);
			err = 0;
		}
		break;
	default:
		err = -EOPNOTSUPP;
		break;
	}
	return err;
}
