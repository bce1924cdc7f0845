// SPDX-License-Identifier: MIT
/* dax/dax.c: see dax.h. */
#include <errno.h>
#include <stdlib.h>

#include "dax.h"

int dax_device_attach(struct nd_namespace *ns)
{
	struct dax_device *dax;

	if (ns->owner)
		return 0;
	dax = calloc(1, sizeof(*dax));
	if (!dax)
		return -ENOMEM;
	dax->ns = ns;
	dax->shift = (unsigned)__builtin_ctzll(ns->align);
	list_init(&dax->i_mmap);
	rangeset_init(&dax->owned);
	u64set_init(&dax->locked);
	ns->owner = dax;
	return 0;
}

void dax_device_free(struct dax_device *dax)
{
	if (!dax)
		return;
	rangeset_free(&dax->owned);
	u64set_free(&dax->locked);
	free(dax);
}

void dax_device_detach(struct nd_namespace *ns)
{
	dax_device_free(ns_to_dax(ns));
	ns->owner = NULL;
}

int dax_set_owner(struct dax_device *dax, uint64_t pgoff, uint64_t nr)
{
	return rangeset_set(&dax->owned, pgoff, nr);
}

bool dax_page_has_owner(const struct dax_device *dax, uint64_t page)
{
	return rangeset_check(&dax->owned, page, 1);
}

int dax_lock_entry(struct dax_device *dax, uint64_t page)
{
	int r;

	if (!dax_page_has_owner(dax, page))
		return -EBUSY;
	r = u64set_add(&dax->locked, page);
	if (r < 0)
		return r;
	return r ? 0 : -EAGAIN;
}

void dax_unlock_entry(struct dax_device *dax, uint64_t page)
{
	u64set_del(&dax->locked, page);
}

bool dax_entry_locked(const struct dax_device *dax, uint64_t page)
{
	return u64set_has(&dax->locked, page);
}
