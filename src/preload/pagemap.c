// SPDX-License-Identifier: MIT
/*
 * preload/pagemap.c: /proc/self/pagemap as the program reads it.
 *
 * The entries are the real kernel's, with memfail's view laid over them:
 *  - a page poisoned in ordinary memory reads as the kernel's hwpoison
 *    entry: swapped, swap type SWP_HWPOISON (the profile's number), the
 *    pfn as swap offset; a poisoned hugetlb page and a fenced devdax page
 *    as not present;
 *  - the pfn of a present page is memfaild's frame (emulated RAM, or the
 *    namespace's pfn for devdax and fsdax), when the reader may see pfns (the
 *    emulated CAP_SYS_ADMIN); the real pfns never show.
 *
 * Frames are asked for in batches the first time a page is shown and
 * kept here by address until the mapping changes (munmap, MAP_FIXED) or
 * the daemon says the page moved (soft offline, a dropped clean page).
 *
 * Also here: which descriptor each file mapping was made from, so that
 * whether a page-cache page is dirty can be asked of its file.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../util/fence.h"
#include "../util/u64map.h"
#include "../util/util.h"
#include "preload.h"

#define PM_PFN_MASK	((1ULL << 55) - 1)
#define PM_SOFT_DIRTY	(1ULL << 55)
#define PM_EXCLUSIVE	(1ULL << 56)
#define PM_FILE		(1ULL << 61)
#define PM_SWAP		(1ULL << 62)
#define PM_PRESENT	(1ULL << 63)
#define PM_SWP_TYPE_BITS 5

static pthread_mutex_t pfn_lock = PTHREAD_MUTEX_INITIALIZER;
static struct u64map pfn_cache;		/* page address -> pfn */
static uint64_t pfn_cache_gen;		/* the status page's frame_gen it is of */
/* munmap() of a program that never read pagemap costs one load */
static atomic_bool pfn_cache_used;

void pagemap_lock(void)
{
	pthread_mutex_lock(&pfn_lock);
}

void pagemap_unlock(void)
{
	pthread_mutex_unlock(&pfn_lock);
}

struct forget {
	uint64_t start, len;
	uint64_t *keys;
	size_t n, cap;
};

static int collect_forget(uint64_t key, uint64_t val, void *arg)
{
	struct forget *f = arg;

	(void)val;
	if (key < f->start || key - f->start >= f->len)
		return 0;
	if (f->n == f->cap) {
		size_t cap = f->cap ? f->cap * 2 : 64;
		uint64_t *k = realloc(f->keys, cap * sizeof(*k));

		if (!k)
			return 1;
		f->keys = k;
		f->cap = cap;
	}
	f->keys[f->n++] = key;
	return 0;
}

void pfn_cache_forget(uintptr_t start, size_t len)
{
	struct forget f = { .start = start, .len = len };
	sigset_t old;
	size_t i;

	if (!atomic_load_explicit(&pfn_cache_used, memory_order_relaxed))
		return;
	shim_block(&old);
	pthread_mutex_lock(&pfn_lock);
	if (pfn_cache.nr) {
		/* a small range: look its pages up; a large one: walk */
		if (len >> MF_PAGE_SHIFT <= pfn_cache.nr) {
			uint64_t a;

			for (a = MF_ALIGN_DOWN(start, MF_PAGE_SIZE); a < start + len; a += MF_PAGE_SIZE)
				u64map_del(&pfn_cache, a);
		} else {
			u64map_for_each(&pfn_cache, collect_forget, &f);
			for (i = 0; i < f.n; i++)
				u64map_del(&pfn_cache, f.keys[i]);
		}
	}
	pthread_mutex_unlock(&pfn_lock);
	shim_unblock(&old);
	free(f.keys);
}

/* ---- file mappings and the descriptors they came from ---- */

#define NOTES	256
static struct mmap_note {
	uint64_t addr, len;
	dev_t dev;
	uint64_t ino;
	int fd;
	struct wb_ref wb;	/* its open file, through which msync() reports */
} notes[NOTES];
static unsigned next_note;
static atomic_bool notes_used;
static pthread_mutex_t note_lock = PTHREAD_MUTEX_INITIALIZER;

void mmap_note(uintptr_t addr, size_t len, int fd, int flags)
{
	struct stat st;
	sigset_t old;

	struct wb_ref wb;

	(void)flags;
	if (fd < 0 || fstat(fd, &st) || !S_ISREG(st.st_mode))
		return;
	wb = wb_ref_of_fd(fd);
	shim_block(&old);
	pthread_mutex_lock(&note_lock);
	notes[next_note % NOTES] = (struct mmap_note){ addr, len, st.st_dev, st.st_ino, fd, wb };
	atomic_store(&notes_used, true);
	next_note++;
	pthread_mutex_unlock(&note_lock);
	shim_unblock(&old);
}

void mmap_note_forget(uintptr_t addr, size_t len)
{
	sigset_t old;
	unsigned i;

	if (!atomic_load_explicit(&notes_used, memory_order_relaxed))
		return;
	shim_block(&old);
	pthread_mutex_lock(&note_lock);
	for (i = 0; i < NOTES; i++) {
		if (notes[i].len && notes[i].addr >= addr && notes[i].addr - addr < len)
			notes[i].len = 0;
	}
	pthread_mutex_unlock(&note_lock);
	shim_unblock(&old);
}

int mmap_note_fd(dev_t dev, uint64_t ino)
{
	int fd = -1;
	sigset_t old;
	unsigned i;

	shim_block(&old);
	pthread_mutex_lock(&note_lock);
	for (i = 0; i < NOTES && fd < 0; i++) {
		const struct mmap_note *n = &notes[(next_note - 1 - i) % NOTES];
		struct stat st;

		if (n->len && n->dev == dev && n->ino == ino && !fstat(n->fd, &st) &&
		    st.st_dev == dev && st.st_ino == ino)
			fd = n->fd;
	}
	pthread_mutex_unlock(&note_lock);
	shim_unblock(&old);
	return fd;
}

/*
 * msync(MS_SYNC) writes back through the mapping's file: it reports the
 * file's writeback error once, as fsync() of that file would.  The list
 * may have to be fetched from the daemon, which may be waiting for our
 * service thread, which takes note_lock (mmap_note_fd()): the note is
 * copied out and note_lock dropped for the call.
 */
int ram_msync_check(uintptr_t addr, size_t len)
{
	struct mmap_note hit = { 0 };
	sigset_t old;
	unsigned i, at = NOTES;
	int err = 0;

	if (!ram_file_gen())
		return 0;
	shim_block(&old);
	pthread_mutex_lock(&note_lock);
	for (i = 0; i < NOTES; i++) {
		const struct mmap_note *n = &notes[i];

		if (n->len && addr < n->addr + n->len && n->addr < addr + len)
			at = i;
	}
	if (at < NOTES)
		hit = notes[at];
	pthread_mutex_unlock(&note_lock);
	if (at < NOTES)
		err = ram_wb_err_take(&hit.wb, hit.dev, hit.ino);
	shim_unblock(&old);
	return err;
}

void mmap_notes_lock(void)
{
	pthread_mutex_lock(&note_lock);
}

void mmap_notes_unlock(void)
{
	pthread_mutex_unlock(&note_lock);
}

/* In a child after fork: the lock is the forking thread's, which we are
 * (released, not made anew: a thread sanitizer would still see it held);
 * the other threads are gone. */
void mmap_notes_after_fork(void)
{
	pthread_mutex_unlock(&note_lock);
}

/* ---- transparent huge pages ---- */

bool thp_mapped(uintptr_t addr)
{
	struct mf_page_region r;
	struct mf_pm_scan_arg arg = {
		.size = sizeof(arg), .start = MF_ALIGN_DOWN(addr, MF_PAGE_SIZE),
		.end = MF_ALIGN_DOWN(addr, MF_PAGE_SIZE) + MF_PAGE_SIZE,
		.vec = (uintptr_t)&r, .vec_len = 1, .max_pages = 1,
		.category_mask = MF_PAGE_IS_HUGE, .return_mask = MF_PAGE_IS_HUGE,
	};

	if (shim.pagemap_fd < 0)
		return false;
	return ioctl(shim.pagemap_fd, MF_PAGEMAP_SCAN, &arg) > 0;
}

/* ---- the overlay ---- */

/* The mappings of [start, end), from /proc/self/maps, in order. */
struct vma_list {
	struct vma_info *v;
	size_t n, cap;
};

static int add_vma(const struct vma_info *v, uint64_t addr, void *arg)
{
	struct vma_list *l = arg;

	(void)addr;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 8;
		struct vma_info *n = realloc(l->v, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		l->v = n;
		l->cap = cap;
	}
	l->v[l->n++] = *v;
	return 0;
}

static const struct vma_info *vma_of(const struct vma_list *l, uint64_t addr)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (addr >= l->v[i].start && addr < l->v[i].end)
			return &l->v[i];
	return NULL;
}

/*
 * Ask memfaild for the frames of the pages at addr[0..n).  The request
 * and reply are ours: another thread may be reading pagemap too.
 */
static void reveal(const struct vma_list *vl, const uint64_t *addr, size_t n)
{
	const size_t mmax = sizeof(struct mf_ram_pfns) + MF_RAM_PFNS_MAX * sizeof(struct mf_ram_page);
	const size_t rmax = sizeof(struct mf_ram_pfns_reply) + MF_RAM_PFNS_MAX * sizeof(uint64_t);
	struct mf_ram_pfns *m = malloc(mmax);
	struct mf_ram_pfns_reply *r = malloc(rmax);
	size_t i = 0;

	if (!m || !r)
		goto out;
	while (i < n) {
		uint32_t k = 0, j;
		ssize_t len;

		memset(m, 0, sizeof(*m));
		m->hdr.type = MF_RAM_PFNS;
		for (; i < n && k < MF_RAM_PFNS_MAX; i++) {
			const struct vma_info *v = vma_of(vl, addr[i]);

			if (!v)
				continue;
			vma_page_nostate(v, addr[i], &m->page[k++]);
		}
		if (!k)
			break;
		m->count = k;
		len = shim_call(m, sizeof(*m) + k * sizeof(m->page[0]), r, rmax, NULL);
		if (len < (ssize_t)sizeof(*r) || r->r.error || r->count != k ||
		    (size_t)len != sizeof(*r) + k * sizeof(r->pfn[0]))
			break;
		pthread_mutex_lock(&pfn_lock);
		atomic_store(&pfn_cache_used, true);
		for (j = 0; j < k; j++)
			if (r->pfn[j])
				u64map_put(&pfn_cache, m->page[j].addr, r->pfn[j]);
		pthread_mutex_unlock(&pfn_lock);
	}
out:
	free(m);
	free(r);
}

/*
 * The pfns of the present pages of file mappings: a page's block is
 * where the kernel's mapping of the namespace's data has it (the extent
 * mapped in place, or the block a remap gave it), so its pfn is the
 * namespace's first pfn plus the block's page in the data: the pfn that
 * memory_failure() finds the (file, index) of through the reverse map.
 */
struct file_page {
	size_t i;		/* the entry */
	uint64_t pfn_base;	/* the namespace's first pfn */
};

static void file_pfns(uint64_t first_vpn, uint64_t *e, const struct file_page *fp, size_t n)
{
	struct vma_list vl = { 0 };
	size_t k, at = 0;

	if (vma_for_each_range((first_vpn + fp[0].i) << MF_PAGE_SHIFT,
			       (first_vpn + fp[n - 1].i + 1) << MF_PAGE_SHIFT, add_vma, &vl))
		goto out;
	for (k = 0; k < n; k++) {
		uint64_t a = (first_vpn + fp[k].i) << MF_PAGE_SHIFT;
		const struct vma_info *v;

		/* both in address order */
		while (at < vl.n && vl.v[at].end <= a)
			at++;
		if (at == vl.n)
			break;
		v = &vl.v[at];
		if (a < v->start || !v->ino || !v->shared)
			continue;	/* not the data: no pfn, as for a page with none */
		e[fp[k].i] |= (fp[k].pfn_base + ((v->pgoff + (a - v->start)) >> MF_PAGE_SHIFT)) &
			      PM_PFN_MASK;
	}
out:
	free(vl.v);
}

/*
 * A page of any process moved to a new frame (soft offline, a dropped
 * clean page, unpoison) since the cache was filled: what it holds may
 * name pages that are not there any more.  Start afresh.
 */
static void pfn_cache_check_gen(void)
{
	const struct mf_status_page *st = ram_status();
	uint64_t gen = st ? __atomic_load_n(&st->frame_gen, __ATOMIC_ACQUIRE) : 0;

	pthread_mutex_lock(&pfn_lock);
	if (gen != pfn_cache_gen) {
		u64map_free(&pfn_cache);
		pfn_cache_gen = gen;
	}
	pthread_mutex_unlock(&pfn_lock);
}

static bool cached_pfn(uint64_t addr, uint64_t *pfn)
{
	bool ok;

	pthread_mutex_lock(&pfn_lock);
	ok = u64map_get(&pfn_cache, addr, pfn);
	pthread_mutex_unlock(&pfn_lock);
	return ok;
}

/*
 * A hole in a mapping reads as soft-dirty on Linux (pagemap_pte_hole(): a
 * new VMA is VM_SOFTDIRTY until clear_refs), a hole between mappings as
 * 0.  A host kernel without CONFIG_MEM_SOFT_DIRTY gives 0 for both, so
 * the holes are looked up in the mappings, unless the host was seen to
 * set the bit itself.
 */
static int host_soft_dirty = -1;

struct holes {
	size_t *i;
	size_t n;
};

static void holes_add(struct holes *h, size_t i, size_t max)
{
	if (!h->i) {
		h->i = malloc(max * sizeof(*h->i));
		if (!h->i)
			return;
	}
	h->i[h->n++] = i;
}

static void holes_mark_soft_dirty(const struct holes *h, uint64_t first_vpn, uint64_t *e)
{
	struct vma_list vl = { 0 };
	size_t k;

	vma_for_each_range((first_vpn + h->i[0]) << MF_PAGE_SHIFT,
			   ((first_vpn + h->i[h->n - 1]) << MF_PAGE_SHIFT) + 1, add_vma, &vl);
	for (k = 0; k < h->n; k++)
		if (vma_of(&vl, (first_vpn + h->i[k]) << MF_PAGE_SHIFT))
			e[h->i[k]] |= PM_SOFT_DIRTY;
	free(vl.v);
}

#define KPF_ANON	12

/*
 * pagemap_pte_to_pme(): a hwpoison entry's page that is not PageAnon
 * shows PM_FILE.  A private page is anonymous while it is poisoned;
 * once unpoisoned it went back to the allocator and is not (observed on
 * 6.12 and 6.1), which only memfaild's frame knows.
 */
static bool poisoned_frame_is_anon(uint64_t pfn)
{
	struct mf_ram_kpageflags_reply *r;
	struct mf_ram_kpageflags m;
	char buf[sizeof(*r) + sizeof(uint64_t)];
	bool anon = true;	/* if memfaild cannot say: as it was poisoned */
	ssize_t len;

	r = (void *)buf;
	memset(&m, 0, sizeof(m));
	m.hdr.type = MF_RAM_KPAGEFLAGS;
	m.first = pfn;
	m.count = 1;
	len = shim_call(&m, sizeof(m), r, sizeof(buf), NULL);
	if (len == (ssize_t)sizeof(buf) && !r->r.error && r->count == 1)
		anon = (r->flags[0] >> KPF_ANON) & 1;
	return anon;
}

void pagemap_overlay(uint64_t first_vpn, uint64_t *e, size_t n, bool show_pfn)
{
	struct holes holes = { 0 };
	unsigned swp_type = shim_profile()->hwpoison_swp_type;
	struct vma_list vl = { 0 };
	struct file_page *fp = NULL;
	uint64_t *miss = NULL;
	size_t nmiss = 0, nfp = 0, i;
	sigset_t old;
	int pass;

	shim_block(&old);
	if (show_pfn)
		pfn_cache_check_gen();
	/* two passes: the second after the frames of the first's misses came */
	for (pass = 0; pass < 2; pass++) {
		for (i = 0; i < n; i++) {
			uint64_t a = (first_vpn + i) << MF_PAGE_SHIFT, pfn;
			struct ram_poison p;
			struct map_view mv;

			if (ram_poison_lookup(a, &p)) {
				if (pass)
					continue;
				/* a hugetlb page: gone; a page without a pte: none */
				if (p.shift != MF_PAGE_SHIFT || p.unmapped) {
					e[i] = PM_SOFT_DIRTY;
					continue;
				}
				e[i] = PM_SWAP | PM_SOFT_DIRTY |
				       (p.shared || !poisoned_frame_is_anon(p.pfn) ? PM_FILE : 0) |
				       ((p.pfn & (PM_PFN_MASK >> PM_SWP_TYPE_BITS)) << PM_SWP_TYPE_BITS) |
				       swp_type;
				continue;
			}
			if (map_lookup(a, &mv)) {
				if (pass)
					continue;
				if (fencetab_get(a)) {
					e[i] = PM_SOFT_DIRTY;	/* unmapped by memory_failure() */
					continue;
				}
				if (!(e[i] & PM_PRESENT)) {
					e[i] |= PM_SOFT_DIRTY;	/* a hole in a mapping */
					continue;
				}
				e[i] = (e[i] | PM_SOFT_DIRTY) & ~(PM_PFN_MASK | PM_EXCLUSIVE);
				if (show_pfn && !mv.file)
					e[i] |= mv.ns_pfn + ((a - mv.start) >> MF_PAGE_SHIFT);
				else if (show_pfn) {
					if (!fp) {
						fp = malloc(n * sizeof(*fp));
						if (!fp)
							continue;
					}
					fp[nfp++] = (struct file_page){ .i = i, .pfn_base = mv.ns_pfn };
				}
				continue;
			}
			if (!(e[i] & (PM_PRESENT | PM_SWAP))) {
				if (!pass && host_soft_dirty != 1 && !e[i])
					holes_add(&holes, i, n);
				continue;
			}
			if (e[i] & PM_SWAP)
				continue;
			if (host_soft_dirty < 0)
				host_soft_dirty = (e[i] & PM_SOFT_DIRTY) != 0;
			/* a new page-table entry is soft-dirty (CONFIG_MEM_SOFT_DIRTY,
			 * which the kernels we emulate have) */
			e[i] |= PM_SOFT_DIRTY;
			if (!show_pfn) {
				e[i] &= ~PM_PFN_MASK;
				continue;
			}
			if (cached_pfn(a, &pfn)) {
				e[i] = (e[i] & ~PM_PFN_MASK) | pfn;
				continue;
			}
			if (pass) {
				e[i] &= ~PM_PFN_MASK;	/* no frame: the RAM is full */
				continue;
			}
			if (!miss) {
				miss = malloc(n * sizeof(*miss));
				if (!miss)
					break;
			}
			miss[nmiss++] = a;
		}
		if (!nmiss)
			break;
		if (!pass && !shim_activate()) {
			vma_for_each_range(miss[0], miss[nmiss - 1] + 1, add_vma, &vl);
			reveal(&vl, miss, nmiss);
		}
	}
	if (nfp)
		file_pfns(first_vpn, e, fp, nfp);
	if (holes.n)
		holes_mark_soft_dirty(&holes, first_vpn, e);
	shim_unblock(&old);
	free(fp);
	free(miss);
	free(vl.v);
	free(holes.i);
}
