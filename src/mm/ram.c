// SPDX-License-Identifier: MIT
/*
 * mm/ram.c: the emulated page frames of ordinary memory (what struct page
 * and the buddy allocator are to Linux, for the pages programs are shown).
 *
 * Frames are found by pfn and by key.  pfns are handed out from
 * [MF_RAM_PFN_START, MF_RAM_PFN_END): singly for 4 KiB pages, as aligned
 * blocks for hugetlb pages.  A frame whose process went away goes back to
 * the free list, unless it is poisoned: a poisoned page stays out of
 * circulation until it is unpoisoned, as in Linux.  A frame that left its
 * key (soft offline, a dropped clean page) keeps its pfn for the
 * record (kpageflags, unpoison) while the page it was gets a new one.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../util/u64map.h"
#include "../util/util.h"
#include "mm.h"

struct mf_ram {
	struct u64map by_pfn;		/* pfn -> struct mf_frame * */
	struct u64map by_key;		/* hash of key (+ probe) -> pfn */
	uint64_t next_pfn;		/* never handed out at or above */
	uint64_t *free;			/* freed single pfns */
	size_t nr_free, cap_free;
	uint64_t nr_frames;
};

/* /proc/kpageflags bits (include/uapi/linux/kernel-page-flags.h) */
#define KPF_UPTODATE		3
#define KPF_DIRTY		4
#define KPF_LRU			5
#define KPF_MMAP		11
#define KPF_ANON		12
#define KPF_SWAPBACKED		14
#define KPF_COMPOUND_HEAD	15
#define KPF_COMPOUND_TAIL	16
#define KPF_HUGE		17
#define KPF_UNEVICTABLE		18
#define KPF_HWPOISON		19
#define KPF_NOPAGE		20
#define KPF_THP			22
#define KPF_BUDDY		10
#define KPF_MLOCKED		33

static struct mf_ram *ram_of(struct mf_engine *mf)
{
	if (!mf->ram) {
		mf->ram = calloc(1, sizeof(*mf->ram));
		if (!mf->ram)
			return NULL;
		u64map_init(&mf->ram->by_pfn);
		u64map_init(&mf->ram->by_key);
		mf->ram->next_pfn = MF_RAM_PFN_START;
	}
	return mf->ram;
}

bool mf_ram_pfn_valid(uint64_t pfn)
{
	return pfn >= MF_RAM_PFN_START && pfn < MF_RAM_PFN_END;
}

static uint64_t key_hash(const struct mf_ram_key *k)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	const uint64_t v[4] = { k->a, k->b, k->c, k->shared };
	size_t i;

	for (i = 0; i < 4; i++) {
		h ^= v[i];
		h *= 0x100000001b3ULL;
		h ^= h >> 29;
	}
	/* u64map reserves the top two values */
	return h >> 2;
}

static bool key_eq(const struct mf_ram_key *x, const struct mf_ram_key *y)
{
	return x->a == y->a && x->b == y->b && x->c == y->c && x->shared == y->shared;
}

struct mf_frame *mf_ram_lookup(struct mf_engine *mf, uint64_t pfn)
{
	struct mf_ram *r = mf->ram;
	uint64_t v;
	unsigned shift;

	if (!r)
		return NULL;
	if (u64map_get(&r->by_pfn, pfn, &v))
		return (struct mf_frame *)(uintptr_t)v;
	/* a subpage of a hugetlb page: its head is aligned to the page */
	for (shift = 21; shift <= 30; shift += 9) {
		uint64_t head = MF_ALIGN_DOWN(pfn, 1ULL << (shift - MF_PAGE_SHIFT));
		struct mf_frame *f;

		if (head == pfn || !u64map_get(&r->by_pfn, head, &v))
			continue;
		f = (struct mf_frame *)(uintptr_t)v;
		if (f->shift == shift)
			return f;
	}
	return NULL;
}

/* The slot (hash + probe) that key has or would have in by_key. */
static struct mf_frame *find_key(struct mf_ram *r, const struct mf_ram_key *key,
				 uint64_t *slot)
{
	uint64_t h = key_hash(key), pfn, v;
	unsigned probe;

	for (probe = 0; probe < 64; probe++) {
		uint64_t k = (h + probe) & (UINT64_MAX >> 2);
		struct mf_frame *f;

		if (!u64map_get(&r->by_key, k, &pfn)) {
			*slot = k;
			return NULL;
		}
		if (!u64map_get(&r->by_pfn, pfn, &v))
			continue;
		f = (struct mf_frame *)(uintptr_t)v;
		if (f->attached && key_eq(&f->key, key)) {
			*slot = k;
			return f;
		}
	}
	*slot = UINT64_MAX;
	return NULL;
}

/* pfns of a new frame: aligned to its size; taken by nothing else */
static int alloc_pfn(struct mf_ram *r, unsigned shift, uint64_t *out)
{
	uint64_t n = 1ULL << (shift - MF_PAGE_SHIFT), pfn;

	while (n == 1 && r->nr_free) {
		pfn = r->free[--r->nr_free];
		if (!u64map_get(&r->by_pfn, pfn, NULL)) {
			*out = pfn;
			return 0;
		}
	}
	for (;;) {
		uint64_t i;
		bool taken = false;

		pfn = MF_ALIGN_UP(r->next_pfn, n);
		if (pfn + n > MF_RAM_PFN_END)
			return -ENOSPC;
		/* a pfn poisoned while free (hard_offline_page) is taken */
		for (i = 0; i < n && !taken; i++)
			taken = u64map_get(&r->by_pfn, pfn + i, NULL);
		r->next_pfn = pfn + n;
		if (!taken) {
			*out = pfn;
			return 0;
		}
	}
}

static void free_pfn(struct mf_ram *r, uint64_t pfn)
{
	if (r->nr_free == r->cap_free) {
		size_t cap = r->cap_free ? r->cap_free * 2 : 256;
		uint64_t *n = realloc(r->free, cap * sizeof(*n));

		if (!n)
			return;		/* leaked from the emulated RAM, not from us */
		r->free = n;
		r->cap_free = cap;
	}
	r->free[r->nr_free++] = pfn;
}

static struct mf_frame *frame_new(struct mf_ram *r, uint64_t pfn)
{
	struct mf_frame *f = calloc(1, sizeof(*f));

	if (!f)
		return NULL;
	f->pfn = pfn;
	f->shift = MF_PAGE_SHIFT;
	if (u64map_put(&r->by_pfn, pfn, (uint64_t)(uintptr_t)f)) {
		free(f);
		return NULL;
	}
	r->nr_frames++;
	return f;
}

int mf_ram_frame(struct mf_engine *mf, const struct mf_ram_key *key, unsigned kind,
		 unsigned shift, uid_t uid, pid_t pid, struct mf_frame **out)
{
	struct mf_ram *r = ram_of(mf);
	struct mf_frame *f;
	uint64_t slot, pfn;
	int err;

	if (!r)
		return -ENOMEM;
	f = find_key(r, key, &slot);
	if (f) {
		*out = f;
		return 0;
	}
	if (slot == UINT64_MAX)
		return -ENOSPC;
	err = alloc_pfn(r, shift, &pfn);
	if (err)
		return err;
	f = frame_new(r, pfn);
	if (!f) {
		free_pfn(r, pfn);
		return -ENOMEM;
	}
	if (u64map_put(&r->by_key, slot, pfn)) {
		u64map_del(&r->by_pfn, pfn);
		free(f);
		free_pfn(r, pfn);
		return -ENOMEM;
	}
	f->key = *key;
	f->kind = kind;
	f->shift = shift;
	f->attached = true;
	f->uid = uid;
	f->pid = pid;
	*out = f;
	return 0;
}

void mf_ram_detach(struct mf_engine *mf, struct mf_frame *f)
{
	uint64_t slot;

	if (!f->attached || !mf->ram)
		return;
	if (find_key(mf->ram, &f->key, &slot) == f)
		u64map_del(&mf->ram->by_key, slot);
	f->attached = false;
}

static void frame_release(struct mf_ram *r, struct mf_frame *f)
{
	u64map_del(&r->by_pfn, f->pfn);
	if (f->shift == MF_PAGE_SHIFT)
		free_pfn(r, f->pfn);
	/* a hugetlb block is not reused: the bump pointer has moved on */
	r->nr_frames--;
	free(f);
}

struct task_exit {
	struct mf_engine *mf;
	uint64_t task_id;
	struct mf_frame **victims;
	size_t n, cap;
};

static int collect_task_frame(uint64_t pfn, uint64_t val, void *arg)
{
	struct task_exit *te = arg;
	struct mf_frame *f = (struct mf_frame *)(uintptr_t)val;

	(void)pfn;
	if (f->key.shared || f->key.a != te->task_id || f->hwpoison || !f->kind)
		return 0;
	if (te->n == te->cap) {
		size_t cap = te->cap ? te->cap * 2 : 64;
		struct mf_frame **n = realloc(te->victims, cap * sizeof(*n));

		if (!n)
			return 1;
		te->victims = n;
		te->cap = cap;
	}
	te->victims[te->n++] = f;
	return 0;
}

void mf_ram_task_exit(struct mf_engine *mf, uint64_t task_id)
{
	struct task_exit te = { .mf = mf, .task_id = task_id };
	size_t i;

	if (!mf->ram)
		return;
	u64map_for_each(&mf->ram->by_pfn, collect_task_frame, &te);
	for (i = 0; i < te.n; i++) {
		mf_ram_detach(mf, te.victims[i]);
		frame_release(mf->ram, te.victims[i]);
	}
	free(te.victims);
}

static bool sub_poisoned(const struct mf_frame *f, uint64_t pfn)
{
	uint64_t i = pfn - f->pfn;

	if (f->shift == MF_PAGE_SHIFT)
		return f->hwpoison;
	return i < 512 && (f->sub_poison[i / 64] >> (i % 64)) & 1;
}

uint64_t mf_kpageflags(struct mf_engine *mf, uint64_t pfn)
{
	struct mf_frame *f;
	uint64_t flags = 0;

	if (!mf_ram_pfn_valid(pfn)) {
		struct nd_namespace *ns = nd_namespace_by_pfn(mf->region, pfn);

		if (!ns)
			return 1ULL << KPF_NOPAGE;
		/* device pages: only the poison is ours to tell */
		return nd_page_hwpoison(ns, pfn - nd_pfn_base(ns)) ? 1ULL << KPF_HWPOISON : 0;
	}
	f = mf_ram_lookup(mf, pfn);
	if (!f || !f->kind)
		return (f && f->hwpoison) ? 1ULL << KPF_HWPOISON : 1ULL << KPF_BUDDY;
	if (sub_poisoned(f, pfn))
		flags |= 1ULL << KPF_HWPOISON;
	if (!f->attached)
		return flags;	/* off its mapping: only the record is left */
	flags |= 1ULL << KPF_UPTODATE | 1ULL << KPF_MMAP;
	if (f->kind != MF_RAM_HUGETLB)
		flags |= 1ULL << KPF_LRU;
	if (f->kind == MF_RAM_ANON || f->kind == MF_RAM_SHMEM)
		flags |= 1ULL << KPF_SWAPBACKED;
	if (f->kind == MF_RAM_ANON)
		flags |= 1ULL << KPF_ANON;
	if (f->state & MF_RAM_DIRTY)
		flags |= 1ULL << KPF_DIRTY;
	if (f->state & MF_RAM_MLOCKED)
		flags |= 1ULL << KPF_MLOCKED | 1ULL << KPF_UNEVICTABLE;
	if (f->state & MF_RAM_THP)
		flags |= 1ULL << KPF_THP;
	if (f->kind == MF_RAM_HUGETLB)
		flags |= 1ULL << KPF_HUGE |
			 (pfn == f->pfn ? 1ULL << KPF_COMPOUND_HEAD : 1ULL << KPF_COMPOUND_TAIL);
	return flags;
}

void mf_ram_release(struct mf_engine *mf, struct mf_frame *f)
{
	if (mf->ram && !f->attached)
		frame_release(mf->ram, f);
}

static int free_frame(uint64_t pfn, uint64_t val, void *arg)
{
	(void)pfn;
	(void)arg;
	free((void *)(uintptr_t)val);
	return 0;
}

void mf_ram_free(struct mf_engine *mf)
{
	struct mf_ram *r = mf->ram;

	if (!r)
		return;
	u64map_for_each(&r->by_pfn, free_frame, NULL);
	u64map_free(&r->by_pfn);
	u64map_free(&r->by_key);
	free(r->free);
	free(r);
	mf->ram = NULL;
}

/* Make a frame for a free pfn that is poisoned (hard_offline_page of a
 * page nobody has); NULL if it cannot be recorded. */
struct mf_frame *mf_ram_take_free(struct mf_engine *mf, uint64_t pfn)
{
	struct mf_ram *r = ram_of(mf);

	return r ? frame_new(r, pfn) : NULL;
}
