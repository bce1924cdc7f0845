// SPDX-License-Identifier: MIT
/*
 * preload/mmap.c: mappings of dax devices.
 *
 * mmap() of a dax descriptor follows device-dax's rules (MAP_SHARED only,
 * start and end aligned to the device alignment, else EINVAL), maps the
 * namespace's data at an aligned address, and registers the mapping with
 * memfaild before returning, fencing the pages already poisoned.  From
 * then on memfail sees it in the rmap like the kernel sees a VMA.
 *
 * The table of mappings is read without a lock by the fault handler: each
 * slot has a sequence count, odd while a writer changes it.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <stdarg.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../util/fence.h"
#include "../util/util.h"
#include "preload.h"

#define MAP_SLOTS	4096

#define VIEW_WORDS ((sizeof(struct map_view) + sizeof(uint64_t) - 1) / sizeof(uint64_t))

struct map_slot {
	_Atomic uint32_t seq;
	atomic_bool used;
	bool dontfork;		/* read and written under maps_lock only */
	/* the mapping, word by word and relaxed: a lock-free reader racing
	 * a writer gets a torn copy, which the sequence count has it retry,
	 * and nothing undefined (a seqlock's data must be atomic in C11) */
	_Atomic uint64_t w[VIEW_WORDS];
};

static struct map_slot slots[MAP_SLOTS];
static pthread_mutex_t maps_lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t next_id = 1;
static atomic_int nr_maps;
static _Atomic size_t slots_hw;	/* no slot at or above this is used */

void map_lock(void)
{
	pthread_mutex_lock(&maps_lock);
}

void map_unlock(void)
{
	pthread_mutex_unlock(&maps_lock);
}

static void slot_view(const struct map_slot *s, struct map_view *v)
{
	uint64_t w[VIEW_WORDS];
	size_t i;

	for (i = 0; i < VIEW_WORDS; i++)
		w[i] = atomic_load_explicit(&s->w[i], memory_order_relaxed);
	memcpy(v, w, sizeof(*v));
}

static bool slot_used(const struct map_slot *s)
{
	return atomic_load_explicit(&s->used, memory_order_relaxed);
}

/* A writer's look at a slot (maps_lock held): in use, and its mapping. */
static bool slot_peek(const struct map_slot *s, struct map_view *v)
{
	if (!slot_used(s))
		return false;
	slot_view(s, v);
	return true;
}

/* Read a consistent copy of slot i; false if it is free. */
static bool slot_read(size_t i, struct map_view *v)
{
	const struct map_slot *s = &slots[i];
	uint32_t a, b;
	bool used;

	do {
		a = atomic_load_explicit(&s->seq, memory_order_acquire);
		if (a & 1)
			continue;
		used = slot_used(s);
		if (used)
			slot_view(s, v);
		atomic_thread_fence(memory_order_acquire);
		b = atomic_load_explicit(&s->seq, memory_order_relaxed);
	} while ((a & 1) || a != b);
	return used;
}

static void slot_write_begin(struct map_slot *s)
{
	atomic_fetch_add_explicit(&s->seq, 1, memory_order_acq_rel);
	atomic_thread_fence(memory_order_release);
}

static void slot_write_end(struct map_slot *s)
{
	atomic_fetch_add_explicit(&s->seq, 1, memory_order_release);
}

bool map_lookup(uintptr_t addr, struct map_view *out)
{
	size_t i;

	if (!atomic_load_explicit(&nr_maps, memory_order_relaxed))
		return false;
	for (i = 0; i < atomic_load(&slots_hw); i++) {
		struct map_view v;

		if (slot_read(i, &v) && addr >= v.start && addr - v.start < v.len) {
			*out = v;
			return true;
		}
	}
	return false;
}

bool map_lookup_id(uint64_t id, struct map_view *out)
{
	size_t i;

	for (i = 0; i < atomic_load(&slots_hw); i++) {
		struct map_view v;

		if (slot_read(i, &v) && v.id == id) {
			*out = v;
			return true;
		}
	}
	return false;
}

bool map_next(uintptr_t addr, struct map_view *out)
{
	bool found = false;
	size_t i;

	for (i = 0; i < atomic_load(&slots_hw); i++) {
		struct map_view v;

		if (slot_read(i, &v) && v.start + v.len > addr &&
		    (!found || v.start < out->start)) {
			*out = v;
			found = true;
		}
	}
	return found;
}

/* Caller holds maps_lock. */
static struct map_slot *slot_alloc(void)
{
	size_t i;

	for (i = 0; i < MAP_SLOTS; i++)
		if (!slot_used(&slots[i]))
			return &slots[i];
	return NULL;
}

static void slot_publish(struct map_slot *s, const struct map_view *v)
{
	uint64_t w[VIEW_WORDS] = { 0 };
	size_t i;

	memcpy(w, v, sizeof(*v));
	slot_write_begin(s);
	for (i = 0; i < VIEW_WORDS; i++)
		atomic_store_explicit(&s->w[i], w[i], memory_order_relaxed);
	s->dontfork = false;
	atomic_store_explicit(&s->used, true, memory_order_relaxed);
	slot_write_end(s);
	/* slots are taken lowest first: scans stop at the highest ever used */
	if ((size_t)(s - slots) + 1 > atomic_load(&slots_hw))
		atomic_store(&slots_hw, (size_t)(s - slots) + 1);
	atomic_fetch_add(&nr_maps, 1);
}

static void slot_free(struct map_slot *s)
{
	slot_write_begin(s);
	atomic_store_explicit(&s->used, false, memory_order_relaxed);
	slot_write_end(s);
	atomic_fetch_sub(&nr_maps, 1);
}

#ifndef UFFD_FEATURE_WP_ASYNC
#define UFFD_FEATURE_WP_ASYNC	(1 << 15)
#endif
#ifndef UFFD_USER_MODE_ONLY
#define UFFD_USER_MODE_ONLY	1
#endif

/*
 * A 4 KiB device maps each page on its own first touch; a file mapping
 * maps up to 16 neighbours of a read fault too ("fault-around"), which
 * would make pages the program never touched count as mapped when the
 * daemon asks (6.12 only signals early-kill mappers that have the page
 * mapped).  A userfaultfd registration turns fault-around off for the
 * range; in write-protect async mode with nothing write-protected it does
 * nothing else.  Without it (before Linux 6.7, or no userfaultfd), the
 * answer may count a neighbour of a touched page as mapped.
 */
void no_fault_around(uintptr_t start, size_t len)
{
	struct uffdio_register reg = {
		.range = { .start = start, .len = len },
		.mode = UFFDIO_REGISTER_MODE_WP,
	};

	if (shim.uffd_fd == -2)
		return;		/* tried, not available */
	if (shim.uffd_fd < 0) {
		struct uffdio_api api = { .api = UFFD_API, .features = UFFD_FEATURE_WP_ASYNC };
		int fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY);

		if (fd < 0 || ioctl(fd, UFFDIO_API, &api)) {
			if (fd >= 0)
				real.close(fd);
			shim.uffd_fd = -2;
			return;
		}
		/* the service thread reads it (no_fault_around_again) */
		__atomic_store_n(&shim.uffd_fd, shim_fd_move_high(fd), __ATOMIC_RELEASE);
	}
	ioctl(shim.uffd_fd, UFFDIO_REGISTER, &reg);
}

void no_fault_around_again(uintptr_t start, size_t len)
{
	struct uffdio_register reg = {
		.range = { .start = start, .len = len },
		.mode = UFFDIO_REGISTER_MODE_WP,
	};
	int fd = __atomic_load_n(&shim.uffd_fd, __ATOMIC_ACQUIRE);

	if (fd >= 0)
		ioctl(fd, UFFDIO_REGISTER, &reg);
}

/* Fence what is already poisoned in a new mapping. */
static int fence_existing(const struct map_view *v)
{
	static char buf[MF_MSG_MAX];
	const struct mf_poison_list_reply *r = (const void *)buf;
	uint64_t first = v->ns_off >> MF_PAGE_SHIFT;
	uint64_t last = (v->ns_off + v->len) >> MF_PAGE_SHIFT;

	for (;;) {
		struct mf_poison_list m;
		ssize_t n;
		uint32_t i;
		int err;

		memset(&m, 0, sizeof(m));
		m.hdr.type = MF_POISON_LIST;
		m.ns_id = v->ns_id;
		m.first_page = first;
		m.last_page = last;
		n = mf_client_call(&shim.req, &m, sizeof(m), buf, sizeof(buf), NULL);
		if (n < 0)
			return (int)n;
		if (r->r.error)
			return r->r.error;
		if ((size_t)n < sizeof(*r) + r->count * sizeof(r->page[0]))
			return -EPROTO;
		for (i = 0; i < r->count; i++) {
			if (r->page[i] < first || r->page[i] >= last)
				continue;
			err = fence_pages(v->start + ((r->page[i] << MF_PAGE_SHIFT) - v->ns_off),
					  MF_PAGE_SIZE);
			if (err)
				return err;
		}
		if (!r->more)
			return 0;
		first = r->next_page;
	}
}

/* Tell the daemon; on success fence the poison already there. */
static int map_register(const struct map_view *v)
{
	struct mf_map_register_reply r;
	struct mf_map_register m;
	ssize_t n;

	memset(&m, 0, sizeof(m));
	m.hdr.type = MF_MAP_REGISTER;
	m.map_id = v->id;
	m.ns_gen = v->ns_gen;
	m.ns_id = v->ns_id;
	m.prot = (uint32_t)v->prot;
	m.offset = v->ns_off;
	m.len = v->len;
	m.addr = v->start;
	n = mf_client_call(&shim.req, &m, sizeof(m), &r, sizeof(r), NULL);
	if (n < 0)
		return (int)n;
	if (r.r.error)
		return r.r.error;
	return r.nr_poisoned ? fence_existing(v) : 0;
}

/* A file mapping's pieces and a child's copies: its blocks are mapped
 * already (no generation to check). */
static int slot_register(const struct map_view *v)
{
	return v->file ? fsdax_register_call(v, UINT64_MAX) : map_register(v);
}

static void map_unregister(uint64_t id)
{
	struct mf_map_unregister m;

	memset(&m, 0, sizeof(m));
	m.hdr.type = MF_MAP_UNREGISTER;
	m.map_id = id;
	mf_client_call_status(&shim.req, &m, sizeof(m));
}

static int unmap_dax_range(uintptr_t addr, size_t len);
static bool overlaps_dax(uintptr_t addr, size_t len);

/* MAP_FIXED over dax mappings replaces those parts of them.  Called with
 * maps_lock held and signals blocked. */
static int replace_dax_range(uintptr_t addr, size_t len)
{
	int err;

	if (!overlaps_dax(addr, len))
		return 0;
	err = unmap_dax_range(addr, len);
	if (!err)
		fencetab_del_range(addr, len);
	return err;
}

/* An address aligned to `align` with room for len (device-dax's
 * get_unmapped_area). */
static void *place_aligned(size_t len, uint64_t align)
{
	size_t span = len + align;
	uintptr_t base, start;
	void *p;

	p = real.mmap(NULL, span, PROT_NONE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return MAP_FAILED;
	base = (uintptr_t)p;
	start = MF_ALIGN_UP(base, align);
	if (start > base)
		real.munmap(p, start - base);
	if (base + span > start + len)
		real.munmap((void *)(start + len), base + span - (start + len));
	return (void *)start;
}

static void *dax_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off,
		      const struct dax_ns *ns, bool readable, bool writable)
{
	int type = flags & MAP_TYPE;
	struct map_view v;
	struct map_slot *s;
	sigset_t old;
	void *p;
	int err = 0;

	if (type != MAP_SHARED && type != MAP_SHARED_VALIDATE)
		goto einval;	/* "attempted private mapping" */
	if (!len || off < 0 || (uint64_t)off % ns->align || len % ns->align)
		goto einval;	/* "unaligned vma" */
	if ((flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)) && (uintptr_t)addr % ns->align)
		goto einval;
	/* as mmap(2): the file must be open for reading, and for writing if
	 * the shared mapping is to be writable */
	if (!readable || ((prot & PROT_WRITE) && !writable)) {
		errno = EACCES;
		return MAP_FAILED;
	}
	/* the data file is an ordinary file: MAP_SYNC is devdax's to accept */
	flags = (flags & ~(MAP_TYPE | MAP_SYNC | MAP_SHARED_VALIDATE)) | MAP_SHARED;

	shim_block(&old);
	map_lock();
	if (flags & MAP_FIXED) {
		err = replace_dax_range((uintptr_t)addr, len);
		if (err)
			goto out_unlock;
	}
	s = slot_alloc();
	if (!s) {
		err = -ENOMEM;
		goto out_unlock;
	}
	if (!(flags & (MAP_FIXED | MAP_FIXED_NOREPLACE))) {
		p = place_aligned(len, ns->align);
		if (p == MAP_FAILED) {
			err = -errno;
			goto out_unlock;
		}
		flags |= MAP_FIXED;
	} else {
		p = addr;
	}
	p = real.mmap(p, len, prot, flags, fd, off);
	if (p == MAP_FAILED) {
		err = -errno;
		goto out_unlock;
	}
	v = (struct map_view){
		.start = (uintptr_t)p, .len = len, .id = next_id++, .ns_gen = ns->gen, .ns_id = ns->id,
		.ns_off = (uint64_t)off, .align = ns->align, .prot = prot,
		.ns_pfn = (ns->phys_base >> MF_PAGE_SHIFT) + ((uint64_t)off >> MF_PAGE_SHIFT),
	};
	if (v.align == 4096)
		no_fault_around(v.start, v.len);
	/*
	 * Wholly past the end of the device: device-dax maps it, and every
	 * access faults with SIGBUS (here: past the data file's end).  There
	 * is nothing of the device in it to register.
	 */
	if ((uint64_t)off >= ns->size)
		goto out_unlock;
	/* visible before the daemon knows it: its fences may come at once */
	slot_publish(s, &v);
	pthread_mutex_lock(&shim.req_lock);
	err = map_register(&v);
	if (err && err != -EEXIST)
		map_unregister(v.id);
	pthread_mutex_unlock(&shim.req_lock);
	if (err) {
		slot_free(s);
		fencetab_del_range(v.start, v.len);
		real.munmap(p, len);
		/* the daemon is gone: so is the device */
		if (err == -ECONNRESET || err == -EPIPE || err == -ENOTCONN || err == -ETIMEDOUT)
			err = -ENODEV;
	}
out_unlock:
	map_unlock();
	shim_unblock(&old);
	if (err) {
		errno = -err;
		return MAP_FAILED;
	}
	return p;
einval:
	errno = EINVAL;
	return MAP_FAILED;
}

/*
 * Take [addr, addr+len) out of every dax mapping it overlaps: whole
 * mappings are unregistered, cut ones re-registered as their remaining
 * pieces.  Cuts must fall on the device alignment (dev_dax_may_split).
 * Called with maps_lock held and signals blocked.
 */
static int unmap_dax_range(uintptr_t addr, size_t len)
{
	uintptr_t end = addr + len;
	size_t i, pieces = 0;

	/* check every cut before changing anything */
	for (i = 0; i < atomic_load(&slots_hw); i++) {
		struct map_view v;

		if (!slot_peek(&slots[i], &v) || v.start >= end || v.start + v.len <= addr)
			continue;
		if ((addr > v.start && addr % v.align) ||
		    (end < v.start + v.len && end % v.align))
			return -EINVAL;
		pieces += (addr > v.start) + (end < v.start + v.len);
	}
	/*
	 * Every piece needs a slot before its mapping's slot is freed; with
	 * too few, the split is refused as the kernel refuses one past
	 * vm.max_map_count.  (Registering a piece cannot then fail but for
	 * the daemon going away: its own limit is far above MAP_SLOTS.)
	 */
	if ((size_t)atomic_load(&nr_maps) + pieces > MAP_SLOTS)
		return -ENOMEM;
	for (i = 0; i < atomic_load(&slots_hw); i++) {
		struct map_slot *s = &slots[i];
		struct map_view v, piece[2];
		int np = 0, k;

		if (!slot_peek(s, &v) || v.start >= end || v.start + v.len <= addr)
			continue;
		if (addr > v.start) {
			piece[np] = v;
			piece[np].len = addr - v.start;
			np++;
		}
		if (end < v.start + v.len) {
			piece[np] = v;
			piece[np].start = end;
			piece[np].len = v.start + v.len - end;
			piece[np].ns_off = v.ns_off + (end - v.start);
			if (!v.file)
				piece[np].ns_pfn = v.ns_pfn + ((end - v.start) >> MF_PAGE_SHIFT);
			np++;
		}
		pthread_mutex_lock(&shim.req_lock);
		/* the pieces first: the page never leaves the rmap */
		for (k = 0; k < np; k++) {
			struct map_slot *ns = slot_alloc();

			piece[k].id = next_id++;
			if (!ns)
				break;
			slot_publish(ns, &piece[k]);
			if (atomic_load(&shim.active))
				slot_register(&piece[k]);
		}
		if (atomic_load(&shim.active))
			map_unregister(v.id);
		pthread_mutex_unlock(&shim.req_lock);
		slot_free(s);
	}
	return 0;
}

static bool overlaps_dax(uintptr_t addr, size_t len)
{
	size_t i;

	if (!atomic_load(&nr_maps))
		return false;
	/* without the map lock, as munmap() of other memory must not wait
	 * for it: the slots are read as the fault handler reads them */
	for (i = 0; i < atomic_load(&slots_hw); i++) {
		struct map_view v;

		if (slot_read(i, &v) && v.start < addr + len && addr < v.start + v.len)
			return true;
	}
	return false;
}

/*
 * mmap(MAP_SHARED) of a file of an fsdax namespace: the file's blocks,
 * mapped in place, as fsdax maps them; MAP_SYNC is accepted (the blocks
 * are the media: nothing is left to write back).  1: not ours, the
 * kernel maps it.
 */
static void *file_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off,
		       const struct stat *st, bool *not_ours)
{
	int fl = real.fcntl(fd, F_GETFL), err = 0, tries;
	uint64_t map_gen = 0, rlen = MF_ALIGN_UP((uint64_t)len, MF_PAGE_SIZE);
	struct map_view v;
	struct map_slot *s;
	sigset_t old;
	void *p;

	*not_ours = false;
	if (!len || off < 0 || (uint64_t)off % MF_PAGE_SIZE) {
		errno = EINVAL;
		return MAP_FAILED;
	}
	if (fl < 0 || (fl & O_ACCMODE) == O_WRONLY ||
	    ((prot & PROT_WRITE) && (fl & O_ACCMODE) != O_RDWR)) {
		errno = EACCES;
		return MAP_FAILED;
	}
	if (shim_activate()) {
		*not_ours = true;
		return MAP_FAILED;
	}
	shim_block(&old);
	map_lock();
	if (flags & MAP_FIXED) {
		err = replace_dax_range((uintptr_t)addr, rlen);
		if (err)
			goto out_unlock;
	}
	s = slot_alloc();
	if (!s) {
		err = -ENOMEM;
		goto out_unlock;
	}
	if (flags & (MAP_FIXED | MAP_FIXED_NOREPLACE))
		p = real.mmap(addr, rlen, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE |
			      (flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)), -1, 0);
	else
		p = fsdax_place(rlen, (uint64_t)off);
	if (p == MAP_FAILED) {
		err = -errno;
		goto out_unlock;
	}
	v = (struct map_view){
		.start = (uintptr_t)p, .len = rlen, .id = next_id++, .ns_off = (uint64_t)off,
		.align = MF_PAGE_SIZE, .prot = prot, .file = true, .dev = st->st_dev,
		.ino = st->st_ino,
	};
	pthread_mutex_lock(&shim.req_lock);
	/* the blocks may move between the two calls (truncate): again */
	for (tries = 0; tries < 8; tries++) {
		err = fsdax_map_extents(v.start, v.ns_off, rlen, st, prot, &v, &map_gen);
		/* PTE-mapped pages count one by one, as on a 4 KiB device */
		if (!err)
			no_fault_around(v.start, v.len);
		if (!err) {
			slot_publish(s, &v);
			err = fsdax_register_call(&v, map_gen);
			if (err) {
				slot_free(s);
				fencetab_del_range(v.start, v.len);
			}
		}
		if (err != -EAGAIN)
			break;
		real.mmap(p, rlen, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0);
	}
	pthread_mutex_unlock(&shim.req_lock);
	/* a shut-down file system: the mapping is made, its faults SIGBUS */
	if (err == -EIO && !fsdax_map_sigbus(p, rlen, prot))
		err = 0;
	else if (err) {
		real.munmap(p, rlen);
		if (err == -ENOENT) {
			/* a FUSE file that is not memfail's */
			*not_ours = true;
			err = 0;
		}
	}
out_unlock:
	map_unlock();
	shim_unblock(&old);
	if (*not_ours)
		return MAP_FAILED;
	if (err) {
		errno = -err;
		return MAP_FAILED;
	}
	return p;
}

PRELOAD_ENTRY void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	bool readable, writable;
	struct dax_ns ns;
	struct stat st;
	void *p;

	EARLY(real.mmap(addr, len, prot, flags, fd, off));
	if (!(flags & MAP_ANONYMOUS) && dax_fd_get(fd, &ns, &readable, &writable))
		return dax_mmap(addr, len, prot, flags, fd, off, &ns, readable, writable);
	if (!(flags & MAP_ANONYMOUS) && ((flags & MAP_TYPE) == MAP_SHARED ||
					 (flags & MAP_TYPE) == MAP_SHARED_VALIDATE) &&
	    fsdax_candidate(fd, &st)) {
		bool not_ours;

		p = file_mmap(addr, len, prot, flags, fd, off, &st, &not_ours);
		if (!not_ours)
			return p;
	}
	if ((flags & MAP_FIXED) && overlaps_dax((uintptr_t)addr, len)) {
		sigset_t old;
		int err;

		shim_block(&old);
		map_lock();
		err = replace_dax_range((uintptr_t)addr, len);
		p = err ? MAP_FAILED : real.mmap(addr, len, prot, flags, fd, off);
		map_unlock();
		shim_unblock(&old);
		if (err)
			errno = -err;
		else if (p != MAP_FAILED)
			ram_mapped((uintptr_t)p, len, prot, flags, fd, off);
		return p;
	}
	p = real.mmap(addr, len, prot, flags, fd, off);
	if (p != MAP_FAILED)
		ram_mapped((uintptr_t)p, len, prot, flags, fd, off);
	return p;
}

PRELOAD_ENTRY void *mmap64(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	return mmap(addr, len, prot, flags, fd, off);
}

PRELOAD_ENTRY int munmap(void *addr, size_t len)
{
	sigset_t old;
	int err, ret;

	EARLY(real.munmap(addr, len));
	if (!overlaps_dax((uintptr_t)addr, len)) {
		int ret = real.munmap(addr, len);

		if (!ret)
			ram_unmapped((uintptr_t)addr, len);
		return ret;
	}
	if ((uintptr_t)addr % MF_PAGE_SIZE) {
		errno = EINVAL;
		return -1;
	}
	shim_block(&old);
	map_lock();
	err = unmap_dax_range((uintptr_t)addr, len);
	ret = err ? -1 : real.munmap(addr, len);
	if (!err && !ret)
		fencetab_del_range((uintptr_t)addr, len);
	map_unlock();
	shim_unblock(&old);
	if (err)
		errno = -err;
	return ret;
}

PRELOAD_ENTRY void *mremap(void *old_addr, size_t old_len, size_t new_len, int flags, ...)
{
	void *new_addr = NULL;
	va_list ap;

	if (flags & MREMAP_FIXED) {
		va_start(ap, flags);
		new_addr = va_arg(ap, void *);
		va_end(ap);
	}
	EARLY(real.mremap(old_addr, old_len, new_len, flags, new_addr));
	/* moving or resizing a device mapping is not supported */
	if (overlaps_dax((uintptr_t)old_addr, old_len ? old_len : 1) ||
	    ((flags & MREMAP_FIXED) && overlaps_dax((uintptr_t)new_addr, new_len))) {
		errno = EINVAL;
		return MAP_FAILED;
	}
	{
		void *p = real.mremap(old_addr, old_len, new_len, flags, new_addr);

		/* the pages moved, or their mapping grew: what we knew of
		 * them by address is wrong now */
		if (p != MAP_FAILED) {
			ram_unmapped((uintptr_t)old_addr, old_len);
			if (p != old_addr)
				ram_unmapped((uintptr_t)p, new_len);
		}
		return p;
	}
}

/* Mark whole mappings inside [addr, addr+len) as not inherited by fork. */
void maps_set_dontfork(uintptr_t addr, size_t len, bool dontfork)
{
	size_t i;

	map_lock();
	for (i = 0; i < atomic_load(&slots_hw); i++) {
		struct map_view v;

		if (slot_peek(&slots[i], &v) && v.start >= addr && v.start + v.len <= addr + len)
			slots[i].dontfork = dontfork;
	}
	map_unlock();
}

void maps_after_fork(void)
{
	size_t i;

	map_lock();
	for (i = 0; i < atomic_load(&slots_hw); i++) {
		struct map_slot *s = &slots[i];
		struct map_view v;

		if (!slot_used(s))
			continue;
		if (s->dontfork) {
			/* MADV_DONTFORK: the child never had it */
			slot_free(s);
			continue;
		}
		slot_view(s, &v);
		/* the parent's userfaultfd is not the child's */
		if (v.align == 4096)
			no_fault_around(v.start, v.len);
		/* the child's own mapping now: same id, new process */
		if (slot_register(&v))
			continue;
	}
	map_unlock();
}
