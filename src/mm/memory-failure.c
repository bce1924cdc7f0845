// SPDX-License-Identifier: MIT
/*
 * mm/memory-failure.c: memory_failure() for dax device pages.
 *
 * The order of the steps is the kernel's (mf_generic_kill_procs()):
 *
 *   lock the page's mapping entry        nothing may change who maps it
 *   mark the page poisoned               durably, before anyone is told
 *   collect the mappers                  with the address and size each
 *                                        maps it at
 *   unmap the unit in every mapper       fenced first, so that nobody can
 *                                        consume the page meanwhile
 *   signal                               AR to the consumer, AO per profile
 *   unlock, account                      one log line, one counter bump
 *
 * Where this runs in the daemon, nothing else happens meanwhile: the
 * daemon's loop only waits for the mappers' answers, which plays the
 * part of the kernel's i_mmap lock and entry lock.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../fs/fs.h"
#include "../util/util.h"
#include "mm.h"

/*
 * What memory_failure() works on: a page of a device-dax namespace, or
 * a page of a file on an fsdax one (the mappings' terms: file pages).
 */
struct mf_target {
	struct dax_device *dax;
	uint64_t ino;			/* 0: the device's own page */
	uint64_t idx;			/* the page as mappings count: device or file page */
	uint64_t nspage;		/* the namespace page */
	unsigned shift;			/* its entry's size: the device's, or 21/12 for a file */
};

/*
 * The size a mapping maps a file page at: a PMD where the file's 2 MiB
 * chunk is one aligned extent and the mapping covers the chunk at an
 * aligned address (as dax_iomap_pmd_fault() would map it), else a PTE.
 */
static unsigned vma_shift(const struct mf_target *tg, const struct mf_vma *vma)
{
	uint64_t c = MF_ALIGN_DOWN(tg->idx, FS_CHUNK_PAGES);

	if (!tg->ino)
		return tg->dax->shift;
	if (tg->shift != 21 || c < vma->pgoff ||
	    c + FS_CHUNK_PAGES > vma->pgoff + (vma->len >> MF_PAGE_SHIFT) ||
	    !MF_IS_ALIGNED(vma_address(vma, c), 1ULL << 21))
		return MF_PAGE_SHIFT;
	return 21;
}

static const char *const action_name[] = {
	[MF_IGNORED] = "Ignored",
	[MF_FAILED] = "Failed",
	[MF_DELAYED] = "Delayed",
	[MF_RECOVERED] = "Recovered",
};

void mf_printk(struct mf_engine *mf, int level, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (mf->ops && mf->ops->log)
		mf->ops->log(mf, level, line);
}

void mf_engine_init(struct mf_engine *mf, struct nd_region *region,
		    const struct mf_profile *profile,
		    const struct mf_peer_ops *ops, void *priv)
{
	memset(mf, 0, sizeof(*mf));
	mf->region = region;
	mf->profile = profile ? profile : mf_profile_default();
	mf->early_kill = 0;
	mf->recovery = 1;
	mf->enable_soft_offline = 1;
	mf->unmap_timeout_ms = 2000;
	mf->ops = ops;
	mf->priv = priv;
}

static void stat_bump(struct mf_stat *s, enum mf_result result)
{
	s->total++;
	switch (result) {
	case MF_IGNORED: s->ignored++; break;
	case MF_FAILED: s->failed++; break;
	case MF_DELAYED: s->delayed++; break;
	case MF_RECOVERED: s->recovered++; break;
	}
}

void mf_event_pfn(struct mf_engine *mf, struct mf_event *ev, uint64_t pfn)
{
	struct nd_namespace *ns = nd_namespace_by_pfn(mf->region, pfn);

	if (!mf->ops || !mf->ops->event)
		return;
	ev->pfn = pfn;
	if (ns)
		strlcpy_mf(ev->dev, ns->name, sizeof(ev->dev));
	else if (mf_ram_pfn_valid(pfn))
		strlcpy_mf(ev->dev, "node0", sizeof(ev->dev));
	mf->ops->event(mf, ev);
}

void mf_action_result(struct mf_engine *mf, uint64_t pfn, unsigned page_type,
		      enum mf_result result, struct mf_stat *dev_stat)
{
	struct mf_event ev = { .type = MF_EV_MEMORY_FAILURE, .result = result,
			       .page_type = page_type };

	mf_printk(mf, 3, "Memory failure: %#" PRIx64 ": recovery action for %s: %s",
		  pfn, mf_page_type_name(page_type), action_name[result]);
	/* num_poisoned_pages_inc(): not for a page that already was */
	if (page_type != MF_PAGE_ALREADY_POISONED)
		mf->poisoned_pages++;
	stat_bump(&mf->node, result);
	if (dev_stat)
		stat_bump(dev_stat, result);
	/* trace_memory_failure_event(), which rasdaemon records */
	mf_event_pfn(mf, &ev, pfn);
}

static void action_result(struct mf_engine *mf, struct dax_device *dax,
			  uint64_t pfn, enum mf_result result)
{
	mf_action_result(mf, pfn, MF_PAGE_DAX, result, &dax->stat);
}

void mf_panic(struct mf_engine *mf, uint64_t pfn)
{
	struct mf_event ev = { .type = MF_EV_PANIC };

	mf_printk(mf, 0, "Kernel panic - not syncing: Memory failure on page %" PRIx64, pfn);
	mf_event_pfn(mf, &ev, pfn);
	mf->panicked = true;
	if (mf->ops && mf->ops->panic)
		mf->ops->panic(mf);
}

/* One process to signal (struct to_kill). */
struct to_kill {
	struct mf_shootdown *sd;	/* its task's shootdown batch */
	pid_t tid;			/* who the log line names */
	const char *comm;
	pid_t sig_tid;			/* who gets the signal */
	uint64_t addr;
	unsigned size_shift;
	bool ar;
	bool addr_valid;
};

struct collect {
	struct mf_shootdown *sd;	/* one per task, in task order */
	unsigned nr_sd;
	struct to_kill *tk;
	unsigned nr_tk;
};

static void collect_free(struct collect *c)
{
	unsigned i;

	for (i = 0; i < c->nr_sd; i++)
		free(c->sd[i].w);
	free(c->sd);
	free(c->tk);
	memset(c, 0, sizeof(*c));
}

static struct mf_shootdown *sd_for_task(struct collect *c, struct mf_task *t)
{
	struct mf_shootdown *sd;
	unsigned i;

	for (i = 0; i < c->nr_sd; i++)
		if (c->sd[i].task == t)
			return &c->sd[i];
	sd = realloc(c->sd, (c->nr_sd + 1) * sizeof(*sd));
	if (!sd)
		return NULL;
	c->sd = sd;
	sd = &c->sd[c->nr_sd++];
	memset(sd, 0, sizeof(*sd));
	sd->task = t;
	return sd;
}

static int sd_add(struct mf_shootdown *sd, const struct mf_sd_work *w)
{
	struct mf_sd_work *n = realloc(sd->w, (sd->n + 1) * sizeof(*n));

	if (!n)
		return -ENOMEM;
	sd->w = n;
	sd->w[sd->n++] = *w;
	return 0;
}

/* The part [zs, ze) of the device (bytes) that a mapping covers, in its
 * user addresses; false if none. */
static bool vma_range(const struct mf_vma *vma, uint64_t zs, uint64_t ze,
		      uint64_t *addr, uint64_t *len)
{
	uint64_t vs = vma->pgoff << MF_PAGE_SHIFT, ve = vs + vma->len;

	if (zs < vs)
		zs = vs;
	if (ze > ve)
		ze = ve;
	if (zs >= ze)
		return false;
	*addr = vma->start + (zs - vs);
	*len = ze - zs;
	return true;
}

/*
 * Build the shootdown batches: every mapping of the page is queried and
 * fenced; with `zap`, every mapping of [zs, ze) is unmapped as well.
 */
static int collect_mappings(const struct mf_target *tg, unsigned ops,
			    uint64_t zs, uint64_t ze, struct collect *c)
{
	struct mf_vma *vma;

	list_for_each_entry(vma, &tg->dax->i_mmap, i_mmap) {
		struct mf_sd_work w = { .vma = vma };
		struct mf_shootdown *sd;
		bool zap;

		if (vma->ino != tg->ino)
			continue;	/* another file, or the device */
		zap = (ops & MF_OP_ZAP) && vma_range(vma, zs, ze, &w.unit_addr, &w.unit_len);
		if (vma_covers(vma, tg->idx)) {
			w.page_addr = vma_address(vma, tg->idx);
			w.page_len = MF_PAGE_SIZE;
			w.shift = vma_shift(tg, vma);
			w.ops = ops & (MF_OP_QUERY | MF_OP_FENCE);
		}
		if (zap)
			w.ops |= MF_OP_ZAP;
		if (!w.ops)
			continue;
		sd = sd_for_task(c, vma->task);
		if (!sd || sd_add(sd, &w))
			return -ENOMEM;
	}
	return 0;
}

static int add_to_kill(struct collect *c, const struct to_kill *tk)
{
	struct to_kill *n = realloc(c->tk, (c->nr_tk + 1) * sizeof(*n));

	if (!n)
		return -ENOMEM;
	c->tk = n;
	c->tk[c->nr_tk++] = *tk;
	return 0;
}

/*
 * Decide who gets a signal (collect_procs_file() + task_early_kill() +
 * add_to_kill()), from what each mapper reported.
 */
static int collect_procs(struct mf_engine *mf, const struct mf_target *tg,
			 uint64_t pfn, const struct mf_current *cur, struct collect *c)
{
	const struct mf_profile *p = mf->profile;
	uint64_t head = tg->idx;
	unsigned i, j;
	int err;

	/* 6.12 devdax folios are compound: the head page is reported; a
	 * file's page is reported as itself, whatever it is mapped at */
	if (p->addr_unit_start && !tg->ino)
		head = MF_ALIGN_DOWN(tg->idx, 1ULL << (tg->dax->shift - MF_PAGE_SHIFT));

	for (i = 0; i < c->nr_sd; i++) {
		struct mf_shootdown *sd = &c->sd[i];
		bool is_cur = cur && cur->task == sd->task;
		struct to_kill tk = { .sd = sd };

		if (!sd->acked)
			continue;	/* killed in kill_procs() */
		if (p->force_early) {
			/* 4.19: the process itself, i.e. its main thread */
			tk.tid = sd->main_tid;
			tk.comm = sd->main_comm;
			tk.sig_tid = is_cur ? cur->tid : sd->main_tid;
		} else if (is_cur) {
			tk.tid = tk.sig_tid = cur->tid;
			tk.comm = cur->comm;
		} else if (sd->early_tid) {
			tk.tid = tk.sig_tid = sd->early_tid;
			tk.comm = sd->early_comm;
		} else {
			continue;	/* late kill: only unmapped */
		}
		tk.ar = is_cur;
		for (j = 0; j < sd->n; j++) {
			struct mf_sd_work *w = &sd->w[j];
			/* the consumer touched the page: it was mapped */
			bool present = w->present || is_cur;

			if (!(w->ops & MF_OP_QUERY))
				continue;
			tk.addr = vma_address(w->vma, head);
			tk.size_shift = present ? w->shift : 0;
			tk.addr_valid = true;
			if (!tk.size_shift) {
				/*
				 * Mapped the range but never faulted the page:
				 * 4.19.0 kills it, later kernels leave it be.
				 */
				if (!p->kill_unmapped)
					continue;
				mf_printk(mf, 6, "Memory failure: Unable to find user space address %" PRIx64 " in %s",
					  pfn, sd->main_comm);
				tk.addr_valid = false;
			}
			err = add_to_kill(c, &tk);
			if (err)
				return err;
		}
	}
	return 0;
}

static bool already_signalled(const struct collect *c, unsigned upto,
			      const struct to_kill *tk)
{
	unsigned i;

	/* SIGBUS is not queued twice: a second send while pending is lost */
	for (i = 0; i < upto; i++)
		if (c->tk[i].addr_valid && c->tk[i].sd->task == tk->sd->task &&
		    c->tk[i].sig_tid == tk->sig_tid)
			return true;
	return false;
}

static void kill_task(struct mf_engine *mf, uint64_t pfn, struct mf_task *t,
		      pid_t tid, const char *comm)
{
	struct mf_event ev = { .type = MF_EV_KILL, .pid = t->pid, .tid = tid, .code = SIGKILL };

	mf_printk(mf, 3, "Memory failure: %#" PRIx64 ": forcibly killing %s:%d because of failure to unmap corrupted page",
		  pfn, comm, tid);
	strlcpy_mf(ev.comm, comm, sizeof(ev.comm));
	mf_event_pfn(mf, &ev, pfn);
	if (mf->ops && mf->ops->kill)
		mf->ops->kill(mf, t);
}

static void kill_procs(struct mf_engine *mf, uint64_t pfn, struct collect *c,
		       struct mf_raise *raise)
{
	const struct mf_profile *p = mf->profile;
	unsigned i, k;

	/* whoever could not be unmapped in time cannot keep the page */
	for (i = 0; i < c->nr_sd; i++)
		if (!c->sd[i].acked)
			kill_task(mf, pfn, c->sd[i].task, c->sd[i].task->pid,
				  c->sd[i].task->comm);

	for (k = 0; k < c->nr_tk; k++) {
		struct to_kill *tk = &c->tk[k];
		struct mf_task *t = tk->sd->task;
		struct mf_event ev = { .type = MF_EV_SIGNAL, .pid = t->pid,
				       .tid = tk->sig_tid, .addr = tk->addr,
				       .lsb = tk->size_shift };
		bool sent = false;
		int ret = 0;

		if (!tk->addr_valid) {
			kill_task(mf, pfn, t, tk->tid, tk->comm);
			continue;
		}
		mf_printk(mf, 3, "Memory failure: %#" PRIx64 ": %s %s:%d due to hardware memory corruption",
			  pfn, p->kill_verb, tk->comm, tk->tid);
		if (already_signalled(c, k, tk))
			continue;
		if (tk->ar) {
			/* force_sig_mceerr() on current: the caller raises it */
			if (raise && !raise->signo) {
				raise->signo = SIGBUS;
				raise->code = MF_BUS_MCEERR_AR;
				raise->addr = tk->addr;
				raise->lsb = tk->size_shift;
				sent = true;
			}
		} else if (mf->ops && mf->ops->signal) {
			ret = mf->ops->signal(mf, t, tk->sig_tid, MF_BUS_MCEERR_AO,
					      tk->addr, tk->size_shift);
			sent = ret >= 0;
		}
		if (ret < 0)
			mf_printk(mf, 3, "Memory failure: %#" PRIx64 ": Cannot send advisory machine check signal to %s:%d",
				  pfn, tk->comm, tk->tid);
		if (sent) {
			ev.code = tk->ar ? MF_BUS_MCEERR_AR : MF_BUS_MCEERR_AO;
			strlcpy_mf(ev.comm, tk->comm, sizeof(ev.comm));
			mf_event_pfn(mf, &ev, pfn);
		}
	}
	/* as send_sig_mceerr(): pending on the thread before we go on */
	if (mf->ops && mf->ops->signal_sync)
		mf->ops->signal_sync(mf);
}

static void shootdown(struct mf_engine *mf, struct collect *c)
{
	if (mf->ops && mf->ops->shootdown && c->nr_sd) {
		mf->ops->shootdown(mf, c->sd, c->nr_sd);
		mf_shootdown_check_fences(c->sd, c->nr_sd);
	} else {
		unsigned i;

		for (i = 0; i < c->nr_sd; i++)
			c->sd[i].acked = false;
	}
}

/* The device range unmap_mapping_range() is asked to unmap. */
static void unmap_extent(const struct mf_profile *p, uint64_t page, unsigned shift,
			 uint64_t *zs, uint64_t *ze)
{
	uint64_t size = 1ULL << shift;
	uint64_t start = (page << MF_PAGE_SHIFT) & ~(size - 1);

	*zs = start;
	/* 4.19 passed the end where the length belongs */
	*ze = start + (p->unmap_len_is_end ? start + size : size);
}

static bool task_maps_page(const struct mf_task *t, const struct mf_target *tg)
{
	const struct mf_vma *vma;

	list_for_each_entry(vma, &t->vmas, task_node)
		if (vma->dax == tg->dax && vma->ino == tg->ino && vma_covers(vma, tg->idx))
			return true;
	return false;
}

/* Everything after the entry lock: poison, collect, unmap, signal. */
static int kill_procs_of(struct mf_engine *mf, const struct mf_target *tg, uint64_t pfn,
			 unsigned flags, const struct mf_current *cur, struct mf_raise *raise)
{
	struct collect c = { 0 };
	uint64_t zs, ze;
	unsigned ops = MF_OP_QUERY | MF_OP_FENCE;
	unsigned max_shift = 0, i;
	bool consumer;
	int rc;

	/* PageHWPoison, and the daemon's own view of the page is fenced */
	rc = nd_page_set_hwpoison(tg->dax->ns, tg->nspage);
	if (rc)
		return rc;

	/*
	 * A consumer that maps the page is always collected, so the unit
	 * will be unmapped: do it in the same round as the fence.  Without
	 * one, whether anything is unmapped depends on what the mappers
	 * report, so that takes a second round.
	 */
	consumer = (flags & MF_ACTION_REQUIRED) && cur && cur->task &&
		   task_maps_page(cur->task, tg);
	unmap_extent(mf->profile, tg->idx, tg->shift, &zs, &ze);
	if (consumer)
		ops |= MF_OP_ZAP;
	rc = collect_mappings(tg, ops, zs, ze, &c);
	if (rc)
		goto out;
	shootdown(mf, &c);

	rc = collect_procs(mf, tg, pfn, cur, &c);
	if (rc)
		goto out;
	for (i = 0; i < c.nr_tk; i++)
		if (c.tk[i].addr_valid && c.tk[i].size_shift > max_shift)
			max_shift = c.tk[i].size_shift;

	if (max_shift && !consumer) {
		struct collect z = { 0 };

		unmap_extent(mf->profile, tg->idx, max_shift, &zs, &ze);
		rc = collect_mappings(tg, MF_OP_ZAP, zs, ze, &z);
		if (!rc) {
			shootdown(mf, &z);
			for (i = 0; i < z.nr_sd; i++) {
				struct mf_shootdown *sd = sd_for_task(&c, z.sd[i].task);

				if (sd && !z.sd[i].acked)
					sd->acked = false;
			}
		}
		collect_free(&z);
		if (rc)
			goto out;
	}

	kill_procs(mf, pfn, &c, raise);
out:
	collect_free(&c);
	return rc;
}

static int mf_generic_kill_procs(struct mf_engine *mf, struct dax_device *dax,
				 uint64_t pfn, uint64_t page, unsigned flags,
				 const struct mf_current *cur, struct mf_raise *raise)
{
	struct mf_target tg = { .dax = dax, .idx = page, .nspage = page, .shift = dax->shift };
	int rc;

	/* holds off new owners, truncate and hole punch of this entry */
	rc = dax_lock_entry(dax, page);
	if (rc)
		return -EBUSY;
	rc = kill_procs_of(mf, &tg, pfn, flags, cur, raise);
	dax_unlock_entry(dax, page);
	return rc;
}

/*
 * xfs_dax_failure_fn() on a block that no inode owns (superblock, AG
 * headers, log): nobody to signal; the file system cannot trust its
 * metadata and shuts down (SHUTDOWN_CORRUPT_ONDISK), and notify_failure's
 * -EFSCORRUPTED makes memory_failure_dev_pagemap() report Failed.
 */
static int mf_fsdax_meta_failure(struct mf_engine *mf, struct dax_device *dax,
				 uint64_t pfn, uint64_t nspage)
{
	char why[128];
	int rc;

	rc = nd_page_set_hwpoison(dax->ns, nspage);
	if (rc)
		return rc;
	snprintf(why, sizeof(why), "metadata page %" PRIu64 " (%s) poisoned", nspage,
		 nspage ? "log" : "superblock");
	mf_printk(mf, 3, "memfail-fs (%s): Memory failure: %#" PRIx64 ": %s", dax->ns->name,
		  pfn, why);
	if (!fs_is_shut_down(dax->fs, NULL, 0)) {
		mf_printk(mf, 1, "memfail-fs (%s): Corruption of on-disk metadata (0x10) detected"
			  " at fs_notify_failure.  Shutting down filesystem.", dax->ns->name);
		mf_printk(mf, 1, "memfail-fs (%s): Please unmount the filesystem and rectify the"
			  " problem(s)", dax->ns->name);
		fs_shutdown(dax->fs, why);
	}
	return -EUCLEAN;	/* -EFSCORRUPTED */
}

/*
 * A page of an fsdax namespace (mf_dax_kill_procs() after the file
 * system's notify_failure): the reverse map names the file and index,
 * whose entry stays locked until every mapper is dealt with, so that
 * truncate, hole punch and new faults of that index wait.  A free block
 * has no mapper: its poison is only recorded.
 */
static int mf_fsdax_kill_procs(struct mf_engine *mf, struct dax_device *dax,
			       uint64_t pfn, uint64_t nspage, unsigned flags,
			       const struct mf_current *cur, struct mf_raise *raise)
{
	struct fs_sb *sb = dax->fs;
	struct mf_target tg = { .dax = dax, .nspage = nspage };
	int rc;

	if (fs_is_meta(sb, nspage))
		return mf_fsdax_meta_failure(mf, dax, pfn, nspage);
	rc = fs_lock_entry(sb, nspage, &tg.ino, &tg.idx);
	if (rc == -ENOENT) {
		rc = nd_page_set_hwpoison(dax->ns, nspage);
		if (!rc)
			rc = fs_note_poison(sb, nspage);
		if (rc >= 0)
			mf_printk(mf, 6, "Memory failure: %#" PRIx64 ": free block of %s: recorded",
				  pfn, dax->ns->name);
		return -EBUSY;
	}
	if (rc)
		return rc;
	/* the file's media error, for read() and for --media-errors */
	rc = fs_note_poison(sb, nspage);
	if (rc >= 0) {
		tg.shift = fs_chunk_is_pmd(sb, tg.ino, tg.idx) ? 21 : MF_PAGE_SHIFT;
		rc = kill_procs_of(mf, &tg, pfn, flags, cur, raise);
	}
	fs_unlock_entry(sb, tg.ino, tg.idx);
	return rc;
}

int memory_failure(struct mf_engine *mf, uint64_t pfn, unsigned flags,
		   const struct mf_current *cur, struct mf_raise *raise)
{
	struct nd_namespace *ns;
	struct dax_device *dax;
	int rc;

	if (raise)
		memset(raise, 0, sizeof(*raise));
	if (mf->panicked)
		return -EIO;
	if (!mf->recovery) {
		mf_panic(mf, pfn);
		return -EIO;
	}
	ns = nd_namespace_by_pfn(mf->region, pfn);
	if (!ns || !ns_to_dax(ns)) {
		mf_printk(mf, 3, "Memory failure: %#" PRIx64 ": memory outside kernel control", pfn);
		return -ENXIO;
	}
	dax = ns_to_dax(ns);
	if (ns->mode == ND_MODE_FSDAX && dax->fs)
		rc = mf_fsdax_kill_procs(mf, dax, pfn, pfn - nd_pfn_base(ns), flags, cur, raise);
	else if (ns->mode == ND_MODE_FSDAX)
		rc = -EBUSY;	/* no file system mounted: nobody can map it */
	else
		rc = mf_generic_kill_procs(mf, dax, pfn, pfn - nd_pfn_base(ns), flags, cur, raise);
	action_result(mf, dax, pfn, rc ? MF_FAILED : MF_RECOVERED);
	return rc;
}

int madvise_inject_error(struct mf_engine *mf, struct mf_vma *vma, uint64_t start,
			 uint64_t len, int advice, const struct mf_current *cur,
			 struct mf_raise *raise)
{
	const struct mf_profile *p = mf->profile;
	struct dax_device *dax = vma->dax;
	struct nd_namespace *ns = dax->ns;
	uint64_t end = start + len, size, *pages = NULL, *addrs = NULL;
	size_t n = 0, cap = 0, i;
	int ret = 0, stop = 0;
	struct mf_raise r;

	if (raise)
		memset(raise, 0, sizeof(*raise));
	/* the pages the kernel's loop would visit, in its order */
	for (; start < end; start += size) {
		uint64_t page;

		/* get_user_pages_fast() of an address outside the mapping */
		if (start < vma->start || start >= vma->start + vma->len) {
			stop = -EFAULT;
			break;
		}
		page = vma->pgoff + ((start - vma->start) >> MF_PAGE_SHIFT);
		if (vma->ino) {
			struct fs_extent x;

			/* a file page: where its block is (past EOF: no page) */
			if (!dax->fs || fs_bmap(dax->fs, vma->ino, page, &x)) {
				stop = -EFAULT;
				break;
			}
			page = x.nsoff + (page - x.foff);
		}
		if (page >= nd_nr_pages(ns)) {
			stop = -EFAULT;
			break;
		}
		/* 6.12 steps by the folio: a whole unit of devdax; a file's
		 * pages one by one */
		size = p->madvise_step_unit && !vma->ino ? 1ULL << dax->shift : MF_PAGE_SIZE;
		if (p->madvise_skip_poisoned && nd_page_hwpoison(ns, page))
			continue;
		if (advice == MF_MADV_SOFT_OFFLINE) {
			mf_printk(mf, 6, "Soft offlining pfn %#" PRIx64 " at process virtual address %#" PRIx64,
				  nd_pfn_base(ns) + page, start);
			/* device pages are never online: they cannot migrate */
			ret = -EIO;
			goto out;
		}
		if (n == cap) {
			uint64_t *np, *na;

			cap = cap ? cap * 2 : 16;
			np = realloc(pages, cap * sizeof(*np));
			if (np)
				pages = np;
			na = np ? realloc(addrs, cap * sizeof(*na)) : NULL;
			if (!na) {
				ret = -ENOMEM;
				goto out;
			}
			addrs = na;
		}
		pages[n] = page;
		addrs[n++] = start;
	}
	if (!n) {
		ret = stop;
		goto out;
	}

	/*
	 * The media under every one of them goes bad (this is real poison),
	 * recorded in one transaction before anything else happens.  After a
	 * panic, or about to panic, there is nothing left to record.
	 */
	if (!mf->panicked && mf->recovery) {
		ret = nd_poison_pages(ns, pages, n);
		if (ret) {
			mf_printk(mf, 3, "memfail: %s: cannot record the poison: %s",
				  ns->name, strerror(-ret));
			ret = -EIO;
			goto out;
		}
	}
	for (i = 0; i < n; i++) {
		uint64_t pfn = nd_pfn_base(ns) + pages[i];

		mf_printk(mf, 6, "Injecting memory failure for pfn %#" PRIx64 " at process virtual address %#" PRIx64,
			  pfn, addrs[i]);
		ret = memory_failure(mf, pfn, MF_ACTION_REQUIRED | MF_SW_SIMULATED, cur, &r);
		/* one SIGBUS pending at a time: the first one is delivered */
		if (raise && !raise->signo && r.signo)
			*raise = r;
		if (ret)
			goto out;
	}
	ret = stop;
out:
	free(pages);
	free(addrs);
	return ret;
}
