// SPDX-License-Identifier: MIT
/*
 * preload/memory.c: poison in ordinary memory (everything but devdax).
 *
 * madvise(MADV_HWPOISON / MADV_SOFT_OFFLINE) of a page the real kernel
 * has: the shim finds what the page is (vma.c), faults it in as
 * get_user_pages() would, and asks memfaild, which runs its
 * memory_failure() and has every process that maps the page fence it
 * through its service thread (ram_ctl()).  A fence stands for the
 * kernel's hwpoison entry: a guard region (a whole hugetlb page is
 * mprotect()ed, guards do not take hugetlb), a touch of which is turned
 * into BUS_MCEERR_AR by the fault handler (ram_fault()).
 *
 * The poisoned pages of this process are kept in a table the fault
 * handler reads without a lock (a sequence count per slot, as the
 * mappings' table).  Writers take ram_lock with signals blocked.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include "../util/fence.h"
#include "../util/util.h"
#include "preload.h"

#ifndef EHWPOISON
#define EHWPOISON 133
#endif

#define RAM_SLOTS	16384

#define RP_WORDS ((sizeof(struct ram_poison) + sizeof(uint64_t) - 1) / sizeof(uint64_t))

struct ram_slot {
	_Atomic uint32_t seq;
	atomic_bool used;
	/* the record, word by word and relaxed: a reader racing a writer gets
	 * a torn copy, which the sequence count has it retry, and nothing
	 * undefined (a seqlock's data must be atomic in C11) */
	_Atomic uint64_t w[RP_WORDS];
};

static struct ram_slot slots[RAM_SLOTS];
static _Atomic size_t slots_hw;
static atomic_int nr_poisoned;
static pthread_mutex_t ram_lock = PTHREAD_MUTEX_INITIALIZER;

void ram_lock_all(void)
{
	pthread_mutex_lock(&ram_lock);
}

void ram_unlock_all(void)
{
	pthread_mutex_unlock(&ram_lock);
}

static void slot_load(const struct ram_slot *s, struct ram_poison *p)
{
	uint64_t w[RP_WORDS];
	size_t i;

	for (i = 0; i < RP_WORDS; i++)
		w[i] = atomic_load_explicit(&s->w[i], memory_order_relaxed);
	memcpy(p, w, sizeof(*p));
}

static void slot_store(struct ram_slot *s, const struct ram_poison *p)
{
	uint64_t w[RP_WORDS] = { 0 };
	size_t i;

	memcpy(w, p, sizeof(*p));
	for (i = 0; i < RP_WORDS; i++)
		atomic_store_explicit(&s->w[i], w[i], memory_order_relaxed);
}

/* A writer's look at slot i (ram_lock held): in use, and its record. */
static bool slot_peek(size_t i, struct ram_poison *p)
{
	if (!atomic_load_explicit(&slots[i].used, memory_order_relaxed))
		return false;
	slot_load(&slots[i], p);
	return true;
}

static bool slot_read(size_t i, struct ram_poison *out)
{
	const struct ram_slot *s = &slots[i];
	uint32_t a, b;
	bool used;

	do {
		a = atomic_load_explicit(&s->seq, memory_order_acquire);
		if (a & 1)
			continue;
		used = atomic_load_explicit(&s->used, memory_order_relaxed);
		if (used)
			slot_load(s, out);
		atomic_thread_fence(memory_order_acquire);
		b = atomic_load_explicit(&s->seq, memory_order_relaxed);
	} while ((a & 1) || a != b);
	return used;
}

bool ram_poison_lookup(uintptr_t addr, struct ram_poison *out)
{
	size_t i, hw;

	if (!atomic_load_explicit(&nr_poisoned, memory_order_relaxed))
		return false;
	hw = atomic_load(&slots_hw);
	for (i = 0; i < hw; i++) {
		struct ram_poison p;

		if (slot_read(i, &p) && addr >= p.addr && addr - p.addr < (1ULL << p.shift)) {
			*out = p;
			return true;
		}
	}
	return false;
}

/* Caller holds ram_lock. */
static void slot_set(struct ram_slot *s, const struct ram_poison *p, bool used)
{
	size_t i = (size_t)(s - slots);

	atomic_fetch_add_explicit(&s->seq, 1, memory_order_acq_rel);
	atomic_thread_fence(memory_order_release);
	if (used)
		slot_store(s, p);
	if (used != atomic_load_explicit(&s->used, memory_order_relaxed))
		atomic_fetch_add(&nr_poisoned, used ? 1 : -1);
	atomic_store_explicit(&s->used, used, memory_order_relaxed);
	atomic_fetch_add_explicit(&s->seq, 1, memory_order_release);
	if (used && i + 1 > atomic_load(&slots_hw))
		atomic_store(&slots_hw, i + 1);
}

/* Record a poisoned page (or hugetlb page) and fence it. */
static int ram_fence(const struct ram_poison *p)
{
	struct ram_slot *free_slot = NULL;
	int how, err = 0;
	size_t i;

	pthread_mutex_lock(&ram_lock);
	for (i = 0; i < atomic_load(&slots_hw); i++) {
		struct ram_poison q;
		bool used = slot_peek(i, &q);

		if (used && q.addr == p->addr)
			goto out;	/* fenced already */
		if (!used && !free_slot)
			free_slot = &slots[i];
	}
	if (!free_slot && i < RAM_SLOTS)
		free_slot = &slots[i];
	if (!free_slot) {
		err = -ENOSPC;
		goto out;
	}
	/* into the table first: a fault on the fence must find it */
	slot_set(free_slot, p, true);
	how = fence_range((void *)(uintptr_t)p->addr, 1ULL << p->shift);
	if (how < 0) {
		slot_set(free_slot, p, false);
		err = how;
		goto out;
	}
	if (how != p->how) {
		struct ram_poison q = *p;

		q.how = how;
		slot_set(free_slot, &q, true);
	}
out:
	pthread_mutex_unlock(&ram_lock);
	return err;
}

/*
 * munmap(), MAP_FIXED, mremap(): poisoned pages in the range are gone
 * with it.  From a program thread: signals blocked, as every writer (a
 * fault handler reading a slot we hold odd would spin in slot_read(), one
 * that jumps out would leave ram_lock held).
 */
void ram_forget_range(uintptr_t start, size_t len)
{
	sigset_t old;
	size_t i;

	if (!atomic_load(&nr_poisoned))
		return;
	shim_block(&old);
	pthread_mutex_lock(&ram_lock);
	for (i = 0; i < atomic_load(&slots_hw); i++) {
		struct ram_poison q;

		if (slot_peek(i, &q) && q.addr >= start && q.addr - start < len)
			slot_set(&slots[i], NULL, false);
	}
	pthread_mutex_unlock(&ram_lock);
	shim_unblock(&old);
}

/*
 * The poison of the page at addr is gone from this mapping (its file
 * lost the page): lift the fence and forget the record.  From the
 * service thread, which runs with every signal blocked.
 */
static void ram_unfence(uintptr_t addr, const struct vma_info *v)
{
	int prot = (v->readable ? PROT_READ : 0) | (v->writable ? PROT_WRITE : 0);
	size_t i;

	pthread_mutex_lock(&ram_lock);
	for (i = 0; i < atomic_load(&slots_hw); i++) {
		struct ram_poison p;

		if (!slot_peek(i, &p) || p.addr != addr)
			continue;
		slot_set(&slots[i], NULL, false);
		unfence_range((void *)addr, 1ULL << p.shift, p.how, prot);
		break;
	}
	pthread_mutex_unlock(&ram_lock);
	pfn_cache_forget(addr, MF_PAGE_SIZE);
}

/* After fork: the child has the parent's table; its fences came along
 * for private memory, not always for shared file mappings: put them up
 * again (a guard already there is kept). */
void ram_after_fork(void)
{
	size_t i;

	for (i = 0; i < atomic_load(&slots_hw); i++) {
		struct ram_poison q;

		if (!slot_peek(i, &q))
			continue;
		/* fork() copies no page table of a shared mapping (vma_needs_copy()):
		 * the parent's hwpoison entries of shared pages are not the child's */
		if (q.shared && !q.unmapped) {
			q.unmapped = 1;
			slot_set(&slots[i], &q, true);
		}
		if (q.how == FENCE_GUARD)
			fence_range((void *)(uintptr_t)q.addr, 1ULL << q.shift);
	}
}

/* ---- madvise() ---- */

#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22
#endif

/*
 * get_user_pages(): the page is faulted in, as a read would (an untouched
 * private page gets a page of its own, as the injection needs one); a page
 * the program may not read cannot be got.  MADV_POPULATE_READ faults like
 * a read without pinning, so a copy-on-write page stays shared, as gup's
 * FOLL_GET leaves it (process_vm_readv() would unshare it).
 */
static int fault_in(uintptr_t addr, const struct vma_info *v)
{
	if (!v->readable)
		return -EFAULT;
	if (real.madvise((void *)addr, MF_PAGE_SIZE, MADV_POPULATE_READ) == 0)
		return 0;
	return errno == EINVAL ? 0 : -EFAULT;	/* before 5.14: the kernel will fault it */
}

/*
 * One page of a madvise() range.  *v is the mapping found for an earlier
 * page of the same call: smaps is read again only when addr leaves it (a
 * range of N pages would otherwise read it N times).  What this call does
 * to a page (fencing, a THP split) may split the kernel's vma, but not
 * change what the rest of the old range is: same file, offsets, flags.
 */
static int madvise_page(uintptr_t addr, int advice, struct vma_info *v_cached,
			uint64_t *step, struct mf_raise_msg *raise)
{
	struct mf_ram_madvise_reply r;
	struct mf_ram_madvise m;
	struct ram_poison p;
	struct vma_info v;
	char comm[16] = "";
	ssize_t n;
	int err;

	*step = MF_PAGE_SIZE;
	if (addr >= v_cached->start && addr < v_cached->end) {
		v = *v_cached;
	} else {
		err = vma_find(addr, &v, true);
		if (err)
			return err == -EFAULT ? -EFAULT : -EIO;
		*v_cached = v;
	}
	/* a page poisoned already: its hwpoison entry fails the gup */
	if (ram_poison_lookup(addr, &p))
		return -EFAULT;
	err = fault_in(addr, &v);
	if (err)
		return err;
	memset(&m, 0, sizeof(m));
	m.hdr.type = MF_RAM_MADVISE;
	vma_page(&v, addr, &m.page);
	/* shared copy-on-write with relatives: memfaild asks them (cow.c) */
	if (m.page.kind == MF_RAM_ANON_PAGE && !v.hugetlb)
		cow_note_page(addr, advice, &m.cow);
	if (v.hugetlb)
		*step = 1ULL << v.page_shift;
	else if (m.page.kind == MF_RAM_ANON_PAGE && thp_mapped(addr))
		m.page.state |= MF_RAM_STATE_THP;
	m.advice = (uint32_t)advice;
	m.tid = shim_gettid();
	real.prctl(PR_GET_NAME, comm, 0, 0, 0);
	memcpy(m.comm, comm, sizeof(m.comm));
	n = shim_call(&m, sizeof(m), &r, sizeof(r), NULL);
	if (n < 0)
		return -EIO;	/* the daemon is gone */
	if ((size_t)n != sizeof(r))
		return r.r.error ? r.r.error : -EPROTO;
	if (r.flags & MF_RAM_MOVED)
		pfn_cache_forget(m.page.addr, 1ULL << m.page.shift);
	if (r.raise.signo && !raise->signo)
		*raise = r.raise;
	return r.r.error;
}

int ram_madvise(uintptr_t start, size_t len, int advice)
{
	struct mf_raise_msg raise = { 0 };
	struct vma_info v = { .start = 0, .end = 0 };
	uintptr_t end = start + len;
	int err = 0;

	if (shim_activate()) {
		shim_warn_once(2, "madvise(%s): no memfaild to emulate it with; passed to the kernel",
			       advice == MADV_HWPOISON ? "MADV_HWPOISON" : "MADV_SOFT_OFFLINE");
		return real.madvise((void *)start, len, advice) ? -errno : 0;
	}
	while (!err && start < end) {
		uint64_t step;

		err = madvise_page(start, advice, &v, &step, &raise);
		start = MF_ALIGN_DOWN(start, step) + step;
	}
	/* force_sig_mceerr(): delivered as the call returns */
	if (raise.signo)
		fault_raise_sigbus(raise.code, raise.addr, raise.lsb, NULL);
	return err;
}

/* ---- the service thread: memfaild's requests about a frame ---- */

struct ctl_walk {
	const struct mf_ctl_ram *m;
	struct mf_ctl_ram_reply *r;
};

static int ctl_one(const struct vma_info *v, uint64_t addr, void *arg)
{
	struct ctl_walk *w = arg;
	const struct mf_ctl_ram *m = w->m;
	struct mf_ctl_ram_reply *r = w->r;
	uint64_t unit = 1ULL << m->page.shift;
	uint64_t ua = MF_ALIGN_DOWN(addr, unit);
	unsigned i = r->count;
	/* the reply has room for MF_RAM_MAPS_MAX mappings; every mapping is
	 * fenced and zapped all the same, or a page the daemon takes for
	 * unmapped everywhere would still be readable past the 16th */
	bool report = i < MF_RAM_MAPS_MAX;
	int err;

	if (report)
		r->map[i].addr = ua;
	if (report && (m->ops & MF_SD_QUERY)) {
		struct ram_poison p;

		/* a fence of ours stands for a page still mapped */
		r->map[i].present = ram_poison_lookup(ua, &p) || range_present(ua, unit);
		if (v && v->fs == VMA_FS_DISK && v->shared) {
			int dirty = file_page_dirty(v, v->pgoff + (ua - v->start));

			if (dirty > 0)
				r->map[i].state |= MF_RAM_STATE_DIRTY;
		}
		if (v && v->locked)
			r->map[i].state |= MF_RAM_STATE_MLOCKED;
	}
	if (m->ops & MF_SD_FENCE) {
		struct ram_poison p = {
			.addr = ua, .shift = m->page.shift, .pfn = m->pfn, .kind = m->page.kind,
			.how = FENCE_GUARD,
			.shared = m->page.shared,
			/* try_to_unmap() finds no pte of a page never faulted here */
			.unmapped = m->page.shared && !range_present(ua, unit),
		};

		err = ram_fence(&p);
		if (err && !r->fence_error)
			r->fence_error = err;
	}
	if (m->ops & MF_SD_ZAP)
		zap_range((void *)(uintptr_t)ua, unit);
	if ((m->ops & MF_SD_UNFENCE) && v)
		ram_unfence(ua, v);
	if (report)
		r->count++;
	return 0;
}

void ram_ctl(const struct mf_ctl_ram *m)
{
	struct mf_ctl_ram_reply r;
	struct ctl_walk w = { .m = m, .r = &r };

	memset(&r, 0, sizeof(r));
	if (m->page.shift < MF_PAGE_SHIFT || m->page.shift > 30) {
		r.r.error = -EINVAL;
	} else if (m->page.shared) {
		vma_for_each_file((dev_t)m->page.dev, m->page.ino, m->page.off, ctl_one, &w);
	} else if (m->cow.family) {
		struct vma_info v;

		/* another process's private page: ours too if still shared */
		if (cow_same_page(m, &v))
			ctl_one(&v, m->page.addr, &w);
	} else {
		struct vma_info v;

		/* a private page: ours, at its address, if still mapped */
		if (!vma_find(m->page.addr, &v, false))
			ctl_one(&v, m->page.addr, &w);
	}
	threads_policy((int)m->early_kill, &r.early_tid, r.early_comm, r.main_comm,
		       sizeof(r.early_comm));
	r.main_tid = getpid();
	r.r.hdr.magic = MF_PROTO_MAGIC;
	r.r.hdr.type = MF_REPLY;
	r.r.hdr.len = sizeof(r);
	r.r.hdr.seq = m->hdr.seq;
	sock_send(shim.ctl.fd, &r, sizeof(r), -1, false, 0);
}

/* ---- the fault handler ---- */

/* x86's do_sigbus() for a hwpoison entry: tell memfaild (one line of
 * log), raise BUS_MCEERR_AR on this thread.  Async-signal-safe. */
bool ram_fault(uintptr_t a, void *uctx)
{
	struct mf_consume_reply r;
	struct mf_ram_touch m;
	struct ram_poison p;
	char comm[16] = "";

	if (!ram_poison_lookup(a, &p))
		return false;
	memset(&m, 0, sizeof(m));
	m.hdr.magic = MF_PROTO_MAGIC;
	m.hdr.type = MF_RAM_TOUCH;
	m.hdr.len = sizeof(m);
	m.hdr.seq = 1;
	m.addr = a;
	m.pfn = p.pfn + ((MF_ALIGN_DOWN(a, MF_PAGE_SIZE) - p.addr) >> MF_PAGE_SHIFT);
	m.shift = p.shift;
	m.tid = shim_gettid();
	syscall(SYS_prctl, PR_GET_NAME, comm, 0, 0, 0);
	memcpy(m.comm, comm, sizeof(m.comm));
	/* the log line is the daemon's; the signal is ours whatever it says */
	fault_report(&m, sizeof(m), &r, sizeof(r));
	fault_raise_sigbus(BUS_MCEERR_AR, MF_ALIGN_DOWN(a, MF_PAGE_SIZE), p.shift, uctx);
	return true;
}

/* ---- the program's own mappings ---- */

void ram_mapped(uintptr_t addr, size_t len, int prot, int flags, int fd, off_t off)
{
	int type = flags & MAP_TYPE;

	(void)prot;
	/* what was there is gone */
	if (flags & MAP_FIXED)
		ram_unmapped(addr, len);
	if (fd >= 0 && !(flags & MAP_ANONYMOUS))
		mmap_note(addr, len, fd, flags);
	if (type != MAP_SHARED && type != MAP_SHARED_VALIDATE)
		return;
	/*
	 * Shared memory may be poisoned by another process: be one memfaild
	 * asks about it from now on.
	 */
	if (!atomic_load(&shim.active) && !shim.no_daemon && shim_activate())
		shim.no_daemon = true;
	if (fd >= 0 && !(flags & MAP_ANONYMOUS))
		ram_file_mapped(addr, len, fd, off);
}

void ram_unmapped(uintptr_t addr, size_t len)
{
	ram_forget_range(addr, len);
	pfn_cache_forget(addr, len);
	mmap_note_forget(addr, len);
}

/* A page of a new mapping that its file has poisoned: fence it as its
 * other mappings are.  Caller holds ramfiles' lock. */
void ram_fence_file_page(uintptr_t addr, const struct mf_ram_file_entry *e)
{
	static char rbuf[sizeof(struct mf_ram_pfns_reply) + sizeof(uint64_t)];
	struct {
		struct mf_ram_pfns m;
		struct mf_ram_page page;
	} req;
	struct mf_ram_pfns_reply *r = (void *)rbuf;
	struct ram_poison p;
	struct vma_info v;
	ssize_t n;

	if (vma_find(addr, &v, false))
		return;
	memset(&req, 0, sizeof(req));
	req.m.hdr.type = MF_RAM_PFNS;
	req.m.count = 1;
	vma_page_nostate(&v, addr, &req.page);
	n = shim_call(&req, sizeof(req), r, sizeof(rbuf), NULL);
	if (n != (ssize_t)sizeof(rbuf) || r->r.error || !r->pfn[0])
		return;
	memset(&p, 0, sizeof(p));
	p.addr = MF_ALIGN_DOWN(addr, 1ULL << e->shift);
	p.shift = e->shift;
	p.pfn = r->pfn[0] - ((addr - p.addr) >> MF_PAGE_SHIFT);
	p.kind = req.page.kind;
	p.shared = 1;
	p.unmapped = 1;		/* a new mapping has no pte of it */
	p.how = FENCE_GUARD;
	ram_fence(&p);
}
