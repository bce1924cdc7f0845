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
#include "../util/u64set.h"
#include "../util/util.h"
#include "mm.h"

struct mf_ram {
	struct u64map by_pfn;		/* pfn -> struct mf_frame * */
	struct mf_frame **by_key;	/* attached frames, chained on key_next */
	size_t nr_buckets, nr_keyed;
	uint64_t next_pfn;		/* never handed out at or above */
	uint64_t *free;			/* freed single pfns */
	size_t nr_free, cap_free;
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
		mf->ram->next_pfn = MF_RAM_PFN_START;
	}
	return mf->ram;
}

bool mf_ram_pfn_valid(uint64_t pfn)
{
	return pfn >= MF_RAM_PFN_START && pfn < MF_RAM_PFN_END;
}

static size_t key_bucket(const struct mf_ram *r, const struct mf_ram_key *k)
{
	uint64_t h = mf_hash64(k->a);

	h = mf_hash64(h ^ k->b);
	h = mf_hash64(h ^ k->c ^ ((uint64_t)k->shared << 63));
	return (size_t)h & (r->nr_buckets - 1);
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

	if (!r || !mf_ram_pfn_valid(pfn))
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

static struct mf_frame *find_key(const struct mf_ram *r, const struct mf_ram_key *key)
{
	struct mf_frame *f;

	if (!r->nr_buckets)
		return NULL;
	for (f = r->by_key[key_bucket(r, key)]; f; f = f->key_next)
		if (key_eq(&f->key, key))
			return f;
	return NULL;
}

/* Index an attached frame by its key; grows the table at one per bucket. */
static int key_insert(struct mf_ram *r, struct mf_frame *f)
{
	size_t b;

	if (r->nr_keyed >= r->nr_buckets) {
		size_t n = r->nr_buckets ? r->nr_buckets * 2 : 256, i;
		struct mf_frame **old = r->by_key, *g, *next;
		size_t oldn = r->nr_buckets;

		r->by_key = calloc(n, sizeof(*r->by_key));
		if (!r->by_key) {
			r->by_key = old;
			if (!oldn)
				return -ENOMEM;
			/* a longer chain will do */
		} else {
			r->nr_buckets = n;
			for (i = 0; i < oldn; i++) {
				for (g = old[i]; g; g = next) {
					next = g->key_next;
					b = key_bucket(r, &g->key);
					g->key_next = r->by_key[b];
					r->by_key[b] = g;
				}
			}
			free(old);
		}
	}
	b = key_bucket(r, &f->key);
	f->key_next = r->by_key[b];
	r->by_key[b] = f;
	r->nr_keyed++;
	return 0;
}

static void key_remove(struct mf_ram *r, struct mf_frame *f)
{
	struct mf_frame **pp;

	for (pp = &r->by_key[key_bucket(r, &f->key)]; *pp; pp = &(*pp)->key_next) {
		if (*pp == f) {
			*pp = f->key_next;
			f->key_next = NULL;
			r->nr_keyed--;
			return;
		}
	}
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
	return f;
}

static void frame_release(struct mf_ram *r, struct mf_frame *f)
{
	u64map_del(&r->by_pfn, f->pfn);
	if (f->shift == MF_PAGE_SHIFT)
		free_pfn(r, f->pfn);
	/* a hugetlb block is not reused: the bump pointer has moved on */
	free(f->raw_hwp);
	free(f);
}

/*
 * The task is shown the frame's pfn: remember it, so that its exit can
 * give back what nobody else was shown.  A shared frame counts the tasks
 * that were shown it and outlives them all (a pfn a process read from
 * pagemap must not name another page while it may still write it to
 * hard_offline_page).
 */
static int frame_show(struct mf_frame *f, struct mf_task *t)
{
	int added = u64set_add(f->key.shared ? &t->ram_shared : &t->ram_private, f->pfn);

	if (added < 0)
		return added;
	if (added && f->key.shared)
		f->users++;
	return 0;
}

struct mf_frame *mf_ram_find(struct mf_engine *mf, const struct mf_ram_key *key)
{
	struct mf_ram *r = mf->ram;

	return r ? find_key(r, key) : NULL;
}

int mf_ram_frame(struct mf_engine *mf, const struct mf_ram_key *key, unsigned kind,
		 unsigned shift, struct mf_task *t, struct mf_frame **out)
{
	struct mf_ram *r = ram_of(mf);
	struct mf_frame *f;
	uint64_t pfn;
	int err;

	if (!r)
		return -ENOMEM;
	f = find_key(r, key);
	if (f)
		goto show;
	err = alloc_pfn(r, shift, &pfn);
	if (err)
		return err;
	f = frame_new(r, pfn);
	if (!f) {
		free_pfn(r, pfn);
		return -ENOMEM;
	}
	f->key = *key;
	if (key_insert(r, f)) {
		frame_release(r, f);
		return -ENOMEM;
	}
	f->kind = kind;
	f->shift = shift;
	f->attached = true;
	f->uid = t->uid;
	f->pid = t->pid;
show:
	err = frame_show(f, t);
	if (err)
		return err;	/* (a frame just made stays for the next ask) */
	*out = f;
	return 0;
}

static void frame_unkey(struct mf_ram *r, struct mf_frame *f)
{
	if (!f->attached)
		return;
	key_remove(r, f);
	f->attached = false;
}

/* The page moved: a pfn a mapper was shown is no longer its page's, and
 * frame_gen tells every mapper's pfn cache so. */
void mf_ram_detach(struct mf_engine *mf, struct mf_frame *f)
{
	if (!f->attached || !mf->ram)
		return;
	frame_unkey(mf->ram, f);
	mf->frame_gen++;
}

/*
 * Back to the free lists: unless a live task was shown its pfn, then it
 * stays a free page of that pfn until the last of them is gone.
 */
void mf_ram_release(struct mf_engine *mf, struct mf_frame *f)
{
	if (!mf->ram || f->attached)
		return;
	if (f->users) {
		f->kind = 0;
		f->state = 0;
		return;
	}
	frame_release(mf->ram, f);
}

static int forget_private(uint64_t pfn, void *arg)
{
	struct mf_engine *mf = ((void **)arg)[0];
	const struct mf_task *t = ((void **)arg)[1];
	struct mf_frame *f = mf_ram_lookup(mf, pfn);

	/* (a pfn given back meanwhile may be another task's page now) */
	if (!f || f->pfn != pfn || f->key.shared || f->key.a != t->id || !f->attached)
		return 0;
	if (!f->hwpoison) {
		frame_unkey(mf->ram, f);
		frame_release(mf->ram, f);
	}
	return 0;
}

static int forget_shared(uint64_t pfn, void *arg)
{
	struct mf_engine *mf = ((void **)arg)[0];
	struct mf_frame *f = mf_ram_lookup(mf, pfn);

	/* the frame outlived every task that was shown it: it is this one */
	if (!f || f->pfn != pfn || !f->users)
		return 0;
	if (--f->users == 0 && !f->hwpoison) {
		frame_unkey(mf->ram, f);
		frame_release(mf->ram, f);
	}
	return 0;
}

void mf_ram_task_exit(struct mf_engine *mf, struct mf_task *t)
{
	void *arg[2] = { mf, t };

	if (mf->ram) {
		u64set_for_each(&t->ram_private, forget_private, arg);
		u64set_for_each(&t->ram_shared, forget_shared, arg);
	}
	u64set_free(&t->ram_private);
	u64set_free(&t->ram_shared);
}

/*
 * A hugetlb page is poisoned as a whole (the head's PageHWPoison); which
 * of its pages were hit is kept aside, as Linux's raw_hwp_list does.
 */
bool mf_frame_poisoned_at(const struct mf_frame *f, uint64_t pfn)
{
	unsigned i;

	if (f->shift == MF_PAGE_SHIFT || !f->hwpoison)
		return f->hwpoison;
	for (i = 0; i < f->nr_raw_hwp; i++)
		if (f->raw_hwp[i] == pfn - f->pfn)
			return true;
	return false;
}

void mf_frame_set_poison(struct mf_frame *f, uint64_t pfn)
{
	uint32_t *n;

	f->hwpoison = true;
	if (f->shift == MF_PAGE_SHIFT || mf_frame_poisoned_at(f, pfn))
		return;
	n = realloc(f->raw_hwp, (f->nr_raw_hwp + 1) * sizeof(*n));
	if (!n)
		return;		/* the head says it all the same */
	f->raw_hwp = n;
	f->raw_hwp[f->nr_raw_hwp++] = (uint32_t)(pfn - f->pfn);
}

unsigned mf_frame_clear_poison(struct mf_frame *f)
{
	/* (a hugetlb page whose list could not grow counts as one) */
	unsigned count = f->shift == MF_PAGE_SHIFT || !f->nr_raw_hwp ? f->hwpoison : f->nr_raw_hwp;

	free(f->raw_hwp);
	f->raw_hwp = NULL;
	f->nr_raw_hwp = 0;
	f->hwpoison = false;
	return count;
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
	if (mf_frame_poisoned_at(f, pfn))
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

static int free_frame(uint64_t pfn, uint64_t val, void *arg)
{
	(void)pfn;
	(void)arg;
	free(((struct mf_frame *)(uintptr_t)val)->raw_hwp);
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
	free(r->by_key);
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
