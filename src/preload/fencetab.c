// SPDX-License-Identifier: MIT
/*
 * preload/fencetab.c: the set of fenced (poisoned) pages of this process,
 * by user address, and how each is fenced.
 *
 * The fault handler reads it without a lock: open addressing over 64-bit
 * atomic slots, one pointer to the current table.  Writers (the service
 * thread, mmap, munmap) serialise on a mutex.  A grown table replaces the
 * old one, which is never freed: a handler may still be reading it.
 * Their total is under twice the final size, and the set is sized by
 * poisoned pages, which are few.
 *
 * A page enters the set before its fence goes up and leaves it after the
 * fence comes down, so a fault on a fence always finds it.
 *
 * A fence also takes the page out of our page tables, which the kernel's
 * poison does not: a unit (4 KiB, 2 MiB, 1 GiB) that was mapped when one
 * of its pages was fenced is remembered as still mapped ("kept"), until a
 * zap or a munmap really unmaps it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "../util/fence.h"
#include "../util/u64set.h"
#include "../util/util.h"
#include "preload.h"

#define EMPTY	0
#define TOMB	3	/* no real key: pages are 4 KiB aligned and non-zero */

struct ftab {
	size_t cap;		/* power of two */
	_Atomic uint64_t slot[];
};

static _Atomic(struct ftab *) cur;
static pthread_mutex_t ftab_lock = PTHREAD_MUTEX_INITIALIZER;
static size_t used, live;
static struct u64set kept;		/* units mapped, as far as the kernel goes */

static int forget_unit(uint64_t unit, void *arg)
{
	const uint64_t *range = arg;

	if (unit >= range[0] && unit - range[0] < range[1])
		u64set_del(&kept, unit);
	return 0;
}

/* Caller holds ftab_lock. */
static void kept_forget_locked(uintptr_t start, size_t len)
{
	uint64_t range[2] = { start, len };

	if (kept.nr)
		u64set_for_each(&kept, forget_unit, range);
}

void fencetab_lock(void)
{
	pthread_mutex_lock(&ftab_lock);
}

void fencetab_unlock(void)
{
	pthread_mutex_unlock(&ftab_lock);
}

void units_keep(uintptr_t unit)
{
	pthread_mutex_lock(&ftab_lock);
	u64set_add(&kept, unit);
	pthread_mutex_unlock(&ftab_lock);
}

bool units_kept(uintptr_t unit)
{
	bool r;

	pthread_mutex_lock(&ftab_lock);
	r = u64set_has(&kept, unit);
	pthread_mutex_unlock(&ftab_lock);
	return r;
}

void units_forget(uintptr_t start, size_t len)
{
	pthread_mutex_lock(&ftab_lock);
	kept_forget_locked(start, len);
	pthread_mutex_unlock(&ftab_lock);
}

static size_t hash_page(uint64_t page)
{
	uint64_t k = page >> MF_PAGE_SHIFT;

	k ^= k >> 31;
	k *= 0x9e3779b97f4a7c15ULL;
	k ^= k >> 29;
	return (size_t)k;
}

int fencetab_get(uintptr_t page)
{
	struct ftab *t = atomic_load_explicit(&cur, memory_order_acquire);
	size_t h, i;

	if (!t)
		return 0;
	page &= ~(uintptr_t)(MF_PAGE_SIZE - 1);
	h = hash_page(page);
	for (i = 0; i < t->cap; i++) {
		uint64_t v = atomic_load_explicit(&t->slot[(h + i) & (t->cap - 1)],
						  memory_order_acquire);

		if (v == EMPTY)
			return 0;
		if (v != TOMB && (v & ~(uint64_t)(MF_PAGE_SIZE - 1)) == page)
			return (int)(v & 3);
	}
	return 0;
}

/* Slot of page in t (or where it would go); caller holds the lock. */
static size_t find_slot(struct ftab *t, uint64_t page, bool *found)
{
	size_t h = hash_page(page), i, tomb = SIZE_MAX;

	*found = false;
	for (i = 0; i < t->cap; i++) {
		size_t s = (h + i) & (t->cap - 1);
		uint64_t v = atomic_load_explicit(&t->slot[s], memory_order_relaxed);

		if (v == EMPTY)
			return tomb != SIZE_MAX ? tomb : s;
		if (v == TOMB) {
			if (tomb == SIZE_MAX)
				tomb = s;
			continue;
		}
		if ((v & ~(uint64_t)(MF_PAGE_SIZE - 1)) == page) {
			*found = true;
			return s;
		}
	}
	return tomb;
}

static int grow(void)
{
	struct ftab *old = atomic_load(&cur), *t;
	size_t cap = old ? old->cap : 64, i;

	while ((live + 1) * 2 > cap)
		cap *= 2;
	t = calloc(1, sizeof(*t) + cap * sizeof(t->slot[0]));
	if (!t)
		return -ENOMEM;
	t->cap = cap;
	used = 0;
	for (i = 0; old && i < old->cap; i++) {
		uint64_t v = atomic_load(&old->slot[i]);
		bool found;

		if (v == EMPTY || v == TOMB)
			continue;
		atomic_store(&t->slot[find_slot(t, v & ~(uint64_t)(MF_PAGE_SIZE - 1), &found)], v);
		used++;
	}
	/* publish; the old table stays readable for handlers already in it */
	atomic_store_explicit(&cur, t, memory_order_release);
	return 0;
}

static int ftab_add_locked(uintptr_t page, int how)
{
	struct ftab *t = atomic_load(&cur);
	bool found;
	size_t s;

	if (!t || (used + 1) * 4 > t->cap * 3) {
		if (grow())
			return -ENOMEM;
		t = atomic_load(&cur);
	}
	s = find_slot(t, page, &found);
	if (s == SIZE_MAX)
		return -ENOMEM;
	if (!found) {
		if (atomic_load(&t->slot[s]) == EMPTY)
			used++;
		live++;
	}
	atomic_store_explicit(&t->slot[s], (uint64_t)page | (unsigned)how, memory_order_release);
	return 0;
}

static void ftab_del_locked(uintptr_t page)
{
	struct ftab *t = atomic_load(&cur);
	bool found;
	size_t s;

	if (!t)
		return;
	s = find_slot(t, page, &found);
	if (found) {
		atomic_store_explicit(&t->slot[s], TOMB, memory_order_release);
		live--;
	}
}

int fencetab_add(uintptr_t page, int how)
{
	int err;

	pthread_mutex_lock(&ftab_lock);
	err = ftab_add_locked(page, how);
	pthread_mutex_unlock(&ftab_lock);
	return err;
}

void fencetab_del(uintptr_t page)
{
	pthread_mutex_lock(&ftab_lock);
	ftab_del_locked(page);
	pthread_mutex_unlock(&ftab_lock);
}

void fencetab_del_range(uintptr_t start, size_t len)
{
	struct ftab *t;
	size_t i;

	pthread_mutex_lock(&ftab_lock);
	t = atomic_load(&cur);
	for (i = 0; t && i < t->cap; i++) {
		uint64_t v = atomic_load(&t->slot[i]);
		uint64_t page = v & ~(uint64_t)(MF_PAGE_SIZE - 1);

		if (v != EMPTY && v != TOMB && page >= start && page - start < len) {
			atomic_store(&t->slot[i], TOMB);
			live--;
		}
	}
	kept_forget_locked(start, len);
	pthread_mutex_unlock(&ftab_lock);
}

int fence_pages(uintptr_t addr, size_t len)
{
	uintptr_t p, end = addr + len;
	int err = 0;

	pthread_mutex_lock(&ftab_lock);
	for (p = addr; p < end; p += MF_PAGE_SIZE) {
		struct ftab *t = atomic_load(&cur);
		int how;
		bool found = false;

		if (t)
			find_slot(t, p, &found);
		if (found)
			continue;	/* already fenced */
		/* into the set first: a fault on the fence must find it */
		err = ftab_add_locked(p, FENCE_GUARD);
		if (err)
			break;
		how = fence_range((void *)p, MF_PAGE_SIZE);
		if (how < 0) {
			ftab_del_locked(p);
			err = how;
			break;
		}
		if (how != FENCE_GUARD)
			ftab_add_locked(p, how);
	}
	pthread_mutex_unlock(&ftab_lock);
	return err;
}

int unfence_pages(uintptr_t addr, size_t len, int prot)
{
	uintptr_t p, end = addr + len;
	int err = 0;

	pthread_mutex_lock(&ftab_lock);
	for (p = addr; p < end; p += MF_PAGE_SIZE) {
		int how = fencetab_get(p);
		int e;

		if (!how)
			continue;
		e = unfence_range((void *)p, MF_PAGE_SIZE, how, prot);
		if (e && !err)
			err = e;
		if (!e)
			ftab_del_locked(p);
	}
	pthread_mutex_unlock(&ftab_lock);
	return err;
}
