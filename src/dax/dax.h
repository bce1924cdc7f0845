/* SPDX-License-Identifier: MIT */
/*
 * dax/dax.h: device-dax on top of a namespace (what drivers/dax and
 * fs/dax.c play in Linux): the device's mappings (its i_mmap), which of
 * its pages have an owner (mapping, index), and the entry locks that
 * memory_failure() takes.
 *
 * Owners: a devdax page gets its owner (the device, index = page) when
 * a mapping of it is first made, and keeps it after its last mapper goes
 * away: a munmap racing memory_failure() must not leave the page without
 * one (Linux 4.19's "do not clear ->mapping on final put").  Only a
 * truncate or hole punch (fsdax, later) would clear it, under the entry
 * lock.
 */
#ifndef MF_DAX_H
#define MF_DAX_H

#include <stdbool.h>
#include <stdint.h>

#include "../nvdimm/nvdimm.h"
#include "../util/list.h"
#include "../util/rangeset.h"
#include "../util/u64set.h"

/* memory_failure() outcomes for one device, as the per-node counters */
struct mf_stat {
	uint64_t total, ignored, failed, delayed, recovered;
};

struct dax_device {
	struct nd_namespace *ns;
	unsigned shift;			/* log2(align): 12, 21 or 30 */
	struct list_node i_mmap;	/* every mapping of the device (struct mf_vma) */
	unsigned nr_mmap;
	struct rangeset owned;		/* pages with an owner */
	struct u64set locked;		/* entries locked by memory_failure() */
	struct mf_stat stat;
	/* fsdax: the namespace's file system (struct fs_sb, src/fs), whose
	 * block map owns the pages and whose entry locks are taken */
	void *fs;
	char fs_error[96];		/* why its file system is not mounted */
};

static inline struct dax_device *ns_to_dax(const struct nd_namespace *ns)
{
	return ns->owner;
}

int dax_device_attach(struct nd_namespace *ns);
void dax_device_detach(struct nd_namespace *ns);
/* Free a device whose namespace is already gone. */
void dax_device_free(struct dax_device *dax);

/* A mapping of [pgoff, pgoff + nr) was made: those pages now have an owner. */
int dax_set_owner(struct dax_device *dax, uint64_t pgoff, uint64_t nr);
bool dax_page_has_owner(const struct dax_device *dax, uint64_t page);

/*
 * dax_lock_entry(): lock the mapping entry of a page so that nothing can
 * change who maps it (truncate, punch hole, a new owner) until
 * dax_unlock_entry().  Fails with -EBUSY if the page has no owner and
 * -EAGAIN if the entry is already locked.
 */
int dax_lock_entry(struct dax_device *dax, uint64_t page);
void dax_unlock_entry(struct dax_device *dax, uint64_t page);
bool dax_entry_locked(const struct dax_device *dax, uint64_t page);

#endif /* MF_DAX_H */
