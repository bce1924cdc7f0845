// SPDX-License-Identifier: MIT
/*
 * mm/poison.c: poison arriving on, or leaving, the media outside
 * memory_failure().
 *
 * When an error is injected, the page is not yet known to mm (no
 * memory_failure() has run: nothing is unmapped, nobody is signalled),
 * but touching it must behave as touching bad media: it must trap.  So
 * the page is fenced in every mapper at once, invisibly, and the first
 * touch runs memory_failure() with the toucher as consumer.  When the
 * error is cleared, the fences are lifted and every mapper has the page
 * back.  A mapper that does not answer in time is killed: it could
 * otherwise read poison without a signal.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "../fs/fs.h"
#include "../util/util.h"
#include "mm.h"

struct batch {
	struct mf_shootdown *sd;
	unsigned n;
};

static struct mf_shootdown *batch_task(struct batch *b, struct mf_task *t)
{
	struct mf_shootdown *sd;
	unsigned i;

	for (i = 0; i < b->n; i++)
		if (b->sd[i].task == t)
			return &b->sd[i];
	sd = realloc(b->sd, (b->n + 1) * sizeof(*sd));
	if (!sd)
		return NULL;
	b->sd = sd;
	sd = &b->sd[b->n++];
	memset(sd, 0, sizeof(*sd));
	sd->task = t;
	return sd;
}

static int batch_add(struct batch *b, struct mf_vma *vma, uint64_t first,
		     uint64_t count, unsigned ops)
{
	struct mf_shootdown *sd = batch_task(b, vma->task);
	struct mf_sd_work *w;

	if (!sd)
		return -ENOMEM;
	w = realloc(sd->w, (sd->n + 1) * sizeof(*w));
	if (!w)
		return -ENOMEM;
	sd->w = w;
	w = &sd->w[sd->n++];
	memset(w, 0, sizeof(*w));
	w->vma = vma;
	w->page_addr = vma_address(vma, first);
	w->page_len = count << MF_PAGE_SHIFT;
	w->ops = ops;
	return 0;
}

static void batch_free(struct batch *b)
{
	unsigned i;

	for (i = 0; i < b->n; i++)
		free(b->sd[i].w);
	free(b->sd);
}

/* First index in the sorted pages[] that is >= x. */
static size_t lower_bound(const uint64_t *pages, size_t n, uint64_t x)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (pages[mid] < x)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/*
 * A mapper that answered but could not fence a page (its fallback fences
 * ran out, say) would read poison without a signal: it counts as not
 * having answered, and is killed like one.  A mapping that went away
 * meanwhile (-ENOENT) is no longer anybody's concern.
 */
void mf_shootdown_check_fences(struct mf_shootdown *sd, unsigned n)
{
	unsigned i, j;

	for (i = 0; i < n; i++)
		for (j = 0; j < sd[i].n && sd[i].acked; j++)
			if ((sd[i].w[j].ops & MF_OP_FENCE) && sd[i].w[j].error &&
			    sd[i].w[j].error != -ENOENT) {
				sd[i].acked = false;
				sd[i].fence_error = sd[i].w[j].error;
			}
}

/* fsdax: each namespace page is the file page the reverse map names,
 * in the mappings of that file. */
static int file_fences(struct dax_device *dax, const uint64_t *pages, size_t n,
		       unsigned ops, struct batch *b)
{
	size_t i;
	int err = 0;

	for (i = 0; i < n && !err; i++) {
		uint64_t ino, idx;
		struct mf_vma *vma;

		if (fs_rmap(dax->fs, pages[i], &ino, &idx))
			continue;	/* a free block: nobody maps it */
		list_for_each_entry(vma, &dax->i_mmap, i_mmap) {
			struct mf_shootdown *sd;
			struct mf_sd_work *w;

			if (vma->ino != ino || !vma_covers(vma, idx))
				continue;
			/*
			 * Given back, the page is mapped from the block the file
			 * has now: the mapping under the fence may still be of a
			 * block a punch took away since.
			 */
			err = batch_add(b, vma, idx, 1, ops == MF_OP_UNFENCE ? MF_OP_REMAP : ops);
			if (err)
				break;
			sd = batch_task(b, vma->task);
			w = &sd->w[sd->n - 1];
			if (w->ops == MF_OP_REMAP) {
				w->unit_addr = w->page_addr;
				w->unit_len = w->page_len;
				w->remap_off = pages[i] << MF_PAGE_SHIFT;
			}
		}
	}
	return err;
}

static int change_fences(struct mf_engine *mf, struct dax_device *dax,
			 const uint64_t *pages, size_t n, unsigned ops, const char *what)
{
	struct batch b = { 0 };
	struct mf_vma *vma;
	unsigned i;
	int err = 0;

	if (!n)
		return 0;
	if (dax->fs) {
		err = file_fences(dax, pages, n, ops, &b);
		if (err || !b.n)
			goto out;
		goto shoot;
	}
	list_for_each_entry(vma, &dax->i_mmap, i_mmap) {
		uint64_t vend = vma->pgoff + (vma->len >> MF_PAGE_SHIFT);
		size_t k = lower_bound(pages, n, vma->pgoff);

		/* one entry per run of consecutive pages */
		while (!err && k < n && pages[k] < vend) {
			size_t run = 1;

			while (k + run < n && pages[k + run] < vend &&
			       pages[k + run] == pages[k] + run)
				run++;
			err = batch_add(&b, vma, pages[k], run, ops);
			k += run;
		}
		if (err)
			goto out;
	}
	if (!b.n)
		goto out;
shoot:
	if (mf->ops && mf->ops->shootdown)
		mf->ops->shootdown(mf, b.sd, b.n);
	mf_shootdown_check_fences(b.sd, b.n);
	for (i = 0; i < b.n; i++) {
		struct mf_task *t = b.sd[i].task;
		struct mf_event ev = { .type = MF_EV_KILL, .pid = t->pid, .tid = t->pid,
				       .code = SIGKILL };

		if (b.sd[i].acked)
			continue;
		if (b.sd[i].fence_error)
			mf_printk(mf, 3, "memfail: forcibly killing %s:%d: cannot fence poisoned pages: %s",
				  t->comm, t->pid, strerror(-b.sd[i].fence_error));
		else
			mf_printk(mf, 3, "memfail: forcibly killing %s:%d: no answer to %s in %u ms",
				  t->comm, t->pid, what, mf->unmap_timeout_ms);
		strlcpy_mf(ev.comm, t->comm, sizeof(ev.comm));
		mf_event_pfn(mf, &ev, nd_pfn_base(dax->ns) + pages[0]);
		if (mf->ops && mf->ops->kill)
			mf->ops->kill(mf, t);
	}
out:
	batch_free(&b);
	return err;
}

int mf_media_poisoned(struct mf_engine *mf, struct dax_device *dax,
		      const uint64_t *pages, size_t n)
{
	return change_fences(mf, dax, pages, n, MF_OP_FENCE, "a poison fence");
}

int mf_media_cleared(struct mf_engine *mf, struct dax_device *dax,
		     const uint64_t *pages, size_t n)
{
	return change_fences(mf, dax, pages, n, MF_OP_UNFENCE, "a poison clear");
}
