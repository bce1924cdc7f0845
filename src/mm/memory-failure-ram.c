// SPDX-License-Identifier: MIT
/*
 * mm/memory-failure-ram.c: memory_failure() of ordinary memory, soft
 * offline and unpoison (the non-dax half of mm/memory-failure.c).
 *
 * The steps are the kernel's:
 *
 *   TestSetPageHWPoison              a page poisoned already is reported
 *                                    and, for a consumer, signalled again
 *   hwpoison_user_mappings()         find who maps it; a clean page-cache
 *                                    page is only dropped (it can be read
 *                                    back); anything else is fenced in
 *                                    every mapper (the hwpoison entry)
 *   kill_procs()                     AR to the consumer, AO to early-kill
 *                                    mappers that have it mapped
 *   identify_page_state()            which page it was: one log line, one
 *                                    counter bump
 *
 * The processes are asked through the peer interface (ram_shootdown):
 * the engine never sees their page tables, only what they answer.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "../util/util.h"
#include "mm.h"

#ifndef EHWPOISON
#define EHWPOISON 133
#endif

/* which page it was, as identify_page_state() names it */
static unsigned page_type_of(const struct mf_frame *f, unsigned state)
{
	bool dirty = f->kind != MF_RAM_FILE || (state & MF_RAM_DIRTY);

	if (f->kind == MF_RAM_HUGETLB)
		return MF_PAGE_HUGE;
	/* an mlocked page too: try_to_unmap() has cleared PG_mlocked and
	 * the page left the unevictable list by the time it is looked at
	 * (observed on 6.12) */
	return dirty ? MF_PAGE_DIRTY_LRU : MF_PAGE_CLEAN_LRU;
}

static int ram_shootdown(struct mf_engine *mf, const struct mf_frame *f, unsigned ops,
			 struct mf_ram_sd **sd, unsigned *n)
{
	*sd = NULL;
	*n = 0;
	if (!mf->ops || !mf->ops->ram_shootdown)
		return 0;
	return mf->ops->ram_shootdown(mf, f, ops, sd, n);
}

/* The user address of pfn (a subpage, for hugetlb) in one mapping. */
static uint64_t map_addr(const struct mf_frame *f, const struct mf_ram_map *m, uint64_t pfn)
{
	return m->addr + ((pfn - f->pfn) << MF_PAGE_SHIFT);
}

static void kill_task(struct mf_engine *mf, uint64_t pfn, struct mf_task *t)
{
	struct mf_event ev = { .type = MF_EV_KILL, .pid = t->pid, .tid = t->pid,
			       .code = SIGKILL };

	mf_printk(mf, 3, "Memory failure: %#" PRIx64 ": forcibly killing %s:%d because of failure to unmap corrupted page",
		  pfn, t->comm, t->pid);
	strlcpy_mf(ev.comm, t->comm, sizeof(ev.comm));
	mf_event_pfn(mf, &ev, pfn);
	if (mf->ops && mf->ops->kill)
		mf->ops->kill(mf, t);
}

static void signal_event(struct mf_engine *mf, uint64_t pfn, struct mf_task *t, pid_t tid,
			 const char *comm, int code, uint64_t addr, unsigned lsb)
{
	struct mf_event ev = { .type = MF_EV_SIGNAL, .pid = t ? t->pid : tid, .tid = tid,
			       .code = code, .addr = addr, .lsb = lsb };

	strlcpy_mf(ev.comm, comm, sizeof(ev.comm));
	mf_event_pfn(mf, &ev, pfn);
}

/*
 * kill_procs(): the consumer gets BUS_MCEERR_AR (raised by itself, through
 * *raise), every other mapper with an early-kill thread and the page in
 * its page tables BUS_MCEERR_AO.  A mapper that could not be unmapped is
 * killed.
 */
static void kill_procs(struct mf_engine *mf, const struct mf_frame *f, uint64_t pfn,
		       unsigned flags, const struct mf_current *cur, uint64_t cur_addr,
		       struct mf_ram_sd *sd, unsigned n, struct mf_raise *raise)
{
	const char *verb = mf->profile->kill_verb;
	unsigned i, j;

	for (i = 0; i < n; i++) {
		struct mf_ram_sd *s = &sd[i];
		bool is_cur = cur && cur->task == s->task;

		if (!s->acked || s->error) {
			kill_task(mf, pfn, s->task);
			continue;
		}
		if (is_cur && (flags & MF_ACTION_REQUIRED) && cur_addr) {
			uint64_t addr = MF_ALIGN_DOWN(cur_addr, MF_PAGE_SIZE);

			mf_printk(mf, 3, "Memory failure: %#" PRIx64 ": %s %s:%d due to hardware memory corruption",
				  pfn, verb, cur->comm, cur->tid);
			if (raise && !raise->signo) {
				raise->signo = SIGBUS;
				raise->code = MF_BUS_MCEERR_AR;
				raise->addr = addr;
				raise->lsb = f->shift;
				signal_event(mf, pfn, s->task, cur->tid, cur->comm,
					     MF_BUS_MCEERR_AR, addr, f->shift);
			}
			continue;
		}
		if (!s->early_tid)
			continue;	/* late kill: only unmapped */
		for (j = 0; j < s->nr; j++) {
			uint64_t addr = map_addr(f, &s->map[j], pfn);
			int ret = 0;

			/*
			 * collect_procs_anon() takes only the mappings the page is
			 * in (page_mapped_in_vma()); collect_procs_file() every one
			 * that covers its offset, faulted or not (observed on 6.12
			 * and 6.1 with memfd).
			 */
			if (!s->map[j].present && !f->key.shared)
				continue;
			mf_printk(mf, 3, "Memory failure: %#" PRIx64 ": %s %s:%d due to hardware memory corruption",
				  pfn, verb, s->early_comm, s->early_tid);
			if (mf->ops && mf->ops->signal)
				ret = mf->ops->signal(mf, s->task, s->early_tid, MF_BUS_MCEERR_AO,
						      addr, f->shift);
			if (ret < 0)
				mf_printk(mf, 3, "Memory failure: %#" PRIx64 ": Cannot send advisory machine check signal to %s:%d",
					  pfn, s->early_comm, s->early_tid);
			else
				signal_event(mf, pfn, s->task, s->early_tid, s->early_comm,
					     MF_BUS_MCEERR_AO, addr, f->shift);
			/* SIGBUS is not queued twice */
			break;
		}
	}
	if (mf->ops && mf->ops->signal_sync)
		mf->ops->signal_sync(mf);
}

/* kill_accessing_process(): a consumer touched a page poisoned already. */
static int kill_accessing_process(struct mf_engine *mf, const struct mf_frame *f, uint64_t pfn,
				  const struct mf_current *cur, uint64_t cur_addr,
				  struct mf_raise *raise)
{
	if (!cur || !cur_addr || !raise)
		return -EFAULT;
	mf_printk(mf, 3, "Memory failure: %#" PRIx64 ": %s %s:%d due to hardware memory corruption",
		  pfn, mf->profile->kill_verb, cur->comm, cur->tid);
	raise->signo = SIGBUS;
	raise->code = MF_BUS_MCEERR_AR;
	raise->addr = MF_ALIGN_DOWN(cur_addr, MF_PAGE_SIZE);
	raise->lsb = f->shift;
	signal_event(mf, pfn, cur->task, cur->tid, cur->comm, MF_BUS_MCEERR_AR,
		     raise->addr, f->shift);
	return -EHWPOISON;
}

/* Every mapper reported the page's state: the page cache's, for a file. */
static unsigned reported_state(const struct mf_frame *f, const struct mf_ram_sd *sd, unsigned n)
{
	unsigned state = f->state & ~MF_RAM_DIRTY, i, j;

	for (i = 0; i < n; i++)
		for (j = 0; j < sd[i].nr; j++)
			state |= sd[i].map[j].state;
	return state;
}

int memory_failure_ram(struct mf_engine *mf, uint64_t pfn, unsigned flags,
		       const struct mf_current *cur, uint64_t cur_addr, struct mf_raise *raise)
{
	struct mf_ram_sd *sd = NULL;
	struct mf_frame *f;
	unsigned n = 0, state, type;
	int rc;

	if (raise)
		memset(raise, 0, sizeof(*raise));
	if (mf->panicked)
		return -EIO;
	if (!mf->recovery) {
		mf_panic(mf, pfn);
		return -EIO;
	}
	if (!(flags & MF_SW_SIMULATED))
		mf->hw_memory_failure = true;
	if (!mf_ram_pfn_valid(pfn)) {
		mf_printk(mf, 3, "Memory failure: %#" PRIx64 ": memory outside kernel control", pfn);
		return -ENXIO;
	}
	f = mf_ram_lookup(mf, pfn);

	/* a page nobody has: taken off the free lists for good */
	if (!f || !f->kind) {
		if (f && f->hwpoison)
			goto already;
		if (!f)
			f = mf_ram_take_free(mf, pfn);
		if (!f)
			return -ENOMEM;
		mf_frame_set_poison(f, pfn);
		mf_action_result(mf, pfn, MF_PAGE_BUDDY, MF_RECOVERED, NULL);
		return 0;
	}
	/* a hugetlb page is poisoned as a whole */
	if (f->hwpoison)
		goto already;
	mf_frame_set_poison(f, pfn);

	/*
	 * hwpoison_user_mappings().  Whether a page-cache page is dirty is
	 * the mappers' to tell (the caller's view may be old): ask first.
	 * Anything else is unmapped with a hwpoison entry, i.e. fenced.
	 */
	if (f->kind == MF_RAM_FILE) {
		rc = ram_shootdown(mf, f, MF_OP_QUERY, &sd, &n);
		if (rc)
			goto out;
		state = reported_state(f, sd, n);
		free(sd);
		sd = NULL;
		if (!(state & MF_RAM_DIRTY)) {
			/* me_pagecache_clean(): dropped, to be read back */
			mf_printk(mf, 3, "Memory failure: %#" PRIx64 ": corrupted page was clean: dropped without side effects",
				  pfn);
			rc = ram_shootdown(mf, f, MF_OP_ZAP, &sd, &n);
			if (rc)
				goto out;
			f->state = state;
			mf_ram_detach(mf, f);
			mf_action_result(mf, pfn, page_type_of(f, state), MF_RECOVERED, NULL);
			goto out;
		}
		rc = ram_shootdown(mf, f, MF_OP_QUERY | MF_OP_FENCE, &sd, &n);
	} else {
		rc = ram_shootdown(mf, f, MF_OP_QUERY | MF_OP_FENCE, &sd, &n);
	}
	if (rc)
		goto out;
	state = reported_state(f, sd, n);
	if (f->kind != MF_RAM_FILE)
		state |= f->state & MF_RAM_DIRTY;
	f->state = state;
	kill_procs(mf, f, pfn, flags, cur, cur_addr, sd, n, raise);
	type = page_type_of(f, state);
	/* me_pagecache_dirty(): truncated from the file, the error kept in
	 * the mapping for fsync() to report (the peer keeps it, as it fences);
	 * the file reads from disk again */
	if (f->kind == MF_RAM_FILE)
		mf_ram_detach(mf, f);
	mf_action_result(mf, pfn, type, MF_RECOVERED, NULL);
out:
	free(sd);
	return rc;

already:
	mf_printk(mf, 3, "Memory failure: %#" PRIx64 ": already hardware poisoned", pfn);
	rc = -EHWPOISON;
	if (flags & MF_ACTION_REQUIRED)
		rc = kill_accessing_process(mf, f, pfn, cur, cur_addr, raise);
	/* the hugetlb path only reports a consumer's */
	if (f->kind != MF_RAM_HUGETLB || (flags & MF_ACTION_REQUIRED))
		mf_action_result(mf, pfn, MF_PAGE_ALREADY_POISONED, MF_FAILED, NULL);
	return rc;
}

/*
 * truncate_inode_pages() of a poisoned shmem page: the page leaves its
 * file, and the range is zapped in every mapping of it, hwpoison entry
 * and all (a touch faults on the file as it is now: past its end, or a
 * new page).  The page itself stays poisoned: HardwareCorrupted keeps
 * it, and nobody is signalled.
 */
int truncate_ram_page(struct mf_engine *mf, struct mf_frame *f)
{
	struct mf_ram_sd *sd;
	unsigned n;
	int rc;

	if (!f->key.shared || f->kind != MF_RAM_SHMEM || !f->attached)
		return -EINVAL;
	rc = ram_shootdown(mf, f, MF_OP_UNFENCE, &sd, &n);
	free(sd);
	mf_ram_detach(mf, f);
	return rc;
}

int madvise_inject_ram(struct mf_engine *mf, struct mf_frame *f, uint64_t addr, int advice,
		       const struct mf_current *cur, struct mf_raise *raise)
{
	uint64_t pfn = f->pfn + ((addr & ((1ULL << f->shift) - 1)) >> MF_PAGE_SHIFT);
	unsigned flags = MF_SW_SIMULATED;

	if (raise)
		memset(raise, 0, sizeof(*raise));
	addr = MF_ALIGN_DOWN(addr, MF_PAGE_SIZE);
	if (advice == MF_MADV_SOFT_OFFLINE) {
		mf_printk(mf, 6, "Soft offlining pfn %#" PRIx64 " at process virtual address %#" PRIx64,
			  pfn, addr);
		return soft_offline_ram(mf, pfn, cur ? cur->task : NULL);
	}
	mf_printk(mf, 6, "Injecting memory failure for pfn %#" PRIx64 " at process virtual address %#" PRIx64,
		  pfn, addr);
	/* 6.11+: the caller consumed it */
	if (mf->profile->madvise_action_required)
		flags |= MF_ACTION_REQUIRED;
	return memory_failure_ram(mf, pfn, flags, cur, addr, raise);
}

int soft_offline_ram(struct mf_engine *mf, uint64_t pfn, struct mf_task *t)
{
	struct mf_frame *f, *moved;
	struct mf_ram_key key;
	unsigned kind, shift, state;
	bool attached;

	if (!mf_ram_pfn_valid(pfn))
		return -ENXIO;
	if (mf->profile->enable_soft_offline && !mf->enable_soft_offline) {
		mf_printk(mf, 6, "Soft offline: %#" PRIx64 ": OS-wide disabled", pfn);
		return -EOPNOTSUPP;
	}
	f = mf_ram_lookup(mf, pfn);
	if (f && mf_frame_poisoned_at(f, pfn)) {
		if (mf->profile->soft_offline_func_prefix)
			mf_printk(mf, 6, "soft_offline_page: %#" PRIx64 " page already poisoned", pfn);
		else
			mf_printk(mf, 6, "Soft offline: %#" PRIx64 ": page already poisoned", pfn);
		return 0;
	}
	if (!f)
		f = mf_ram_take_free(mf, pfn);
	if (!f)
		return -ENOMEM;
	/*
	 * The content migrated to a new page (a new frame, next time the
	 * page is shown); the old one is poisoned, counted in
	 * HardwareCorrupted but not in the memory_failure counters.
	 */
	key = f->key;
	kind = f->kind;
	shift = f->shift;
	state = f->state;
	attached = f->attached;
	mf_frame_set_poison(f, pfn);
	mf->poisoned_pages++;
	mf_ram_detach(mf, f);
	/*
	 * The migration target is allocated as the page moves: a pfn given
	 * back meanwhile (the old one, unpoisoned) must not become it.  Made
	 * now when it can be shown to a task that frees it at exit (the
	 * owner of a private page, a mapper of a shared one); else when the
	 * page is next shown.
	 */
	if (attached && t && (key.shared || key.a == t->id) &&
	    !mf_ram_frame(mf, &key, kind, shift, t, &moved))
		moved->state = state;
	return 0;
}

/* unpoison_pr_info(): the wording moved the pfn to the front in 6.4 */
static void unpoison_info(struct mf_engine *mf, uint64_t pfn, const char *now, const char *before)
{
	if (mf->profile->unpoison_pfn_last)
		mf_printk(mf, 6, "Unpoison: %s %#" PRIx64, before, pfn);
	else
		mf_printk(mf, 6, "Unpoison: %#" PRIx64 ": %s", pfn, now);
}

int unpoison_memory(struct mf_engine *mf, uint64_t pfn)
{
	struct mf_frame *f;
	unsigned count;

	if (!mf_ram_pfn_valid(pfn)) {
		/* device pages are made good by writing them, not here */
		return nd_namespace_by_pfn(mf->region, pfn) ? -EBUSY : -ENXIO;
	}
	if (mf->hw_memory_failure) {
		unpoison_info(mf, pfn, "disabled after HW memory failure",
			      "Disabled after HW memory failure");
		return -EOPNOTSUPP;
	}
	f = mf_ram_lookup(mf, pfn);
	if (!f || !f->hwpoison) {
		unpoison_info(mf, pfn, "page was already unpoisoned", "Page was already unpoisoned");
		return -EBUSY;
	}
	/* shmem keeps the poisoned page in its file */
	if (f->attached && f->kind == MF_RAM_SHMEM) {
		unpoison_info(mf, pfn, "the hwpoison page has non-NULL mapping",
			      "the hwpoison page has non-NULL mapping");
		return -EBUSY;
	}
	count = mf_frame_clear_poison(f);
	mf->poisoned_pages -= count < mf->poisoned_pages ? count : mf->poisoned_pages;
	unpoison_info(mf, pfn, "software-unpoisoned page", "Software-unpoisoned page");
	/* back to the buddy allocator: the page it was is gone */
	mf_ram_detach(mf, f);
	mf_ram_release(mf, f);
	return 0;
}

int memory_failure_pfn(struct mf_engine *mf, uint64_t pfn, unsigned flags)
{
	if (mf_ram_pfn_valid(pfn))
		return memory_failure_ram(mf, pfn, flags, NULL, 0, NULL);
	return memory_failure(mf, pfn, flags, NULL, NULL);
}
