/* SPDX-License-Identifier: MIT */
/*
 * nvdimm/nvdimm.h: the emulated NVDIMM (what drivers/nvdimm plays in
 * Linux): one region of emulated physical address space, the namespaces
 * carved out of it, each with a backing data file, its bad-sector list
 * and its poisoned-page flags; driver reads and writes that honour them;
 * error injection and clearing.  Everything that must survive a crash
 * (namespaces, bad sectors) is written to the store (SQLite) before a
 * call returns success.
 */
#ifndef MF_NVDIMM_H
#define MF_NVDIMM_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "../util/list.h"
#include "../util/u64set.h"
#include "../util/rangeset.h"

#define ND_REGION_BASE		0x100000000ULL	/* 4 GiB, where QEMU puts its NVDIMM */
#define ND_REGION_SIZE_DEFAULT	(16ULL << 40)

enum nd_mode {
	ND_MODE_DEVDAX = 1,
	ND_MODE_FSDAX = 2,		/* holds a file system (src/fs) */
};

struct nd_store;

struct nd_region {
	uint64_t base;			/* emulated physical address */
	uint64_t size;
	char *state_dir;
	struct nd_store *store;
	struct list_node namespaces;	/* sorted by phys_base */
	unsigned nr_namespaces;
};

struct nd_namespace {
	struct list_node node;
	struct nd_region *region;
	uint32_t id;			/* Y in namespace0.Y */
	char name[32];			/* namespace0.Y */
	char chardev[32];		/* dax0.Y */
	char uuid[40];
	uint64_t gen;			/* from the uuid: tells a reused id apart */
	enum nd_mode mode;
	uint64_t size;
	uint64_t align;
	uint64_t phys_base;
	uid_t uid;
	gid_t gid;
	mode_t perm;
	int data_fd;			/* O_RDWR backing file */
	char *data_path;
	/* 512-byte sectors: every poisoned one, and those the driver knows
	 * (the badblocks list; a subset of poison, the rest is latent) */
	struct rangeset poison;
	struct rangeset bb;
	struct u64set hwpoison;		/* pages memory_failure() marked (volatile) */
	/*
	 * The daemon's own view of the data, mapped on first driver read.
	 * Poisoned pages in it are fenced (the set_mce_nospec() idea) so a
	 * stray read cannot consume poison; reads go through copy_mc.
	 */
	void *view;
	void *owner;			/* the dax layer's device */
	/* what nd_region_open() found wrong with the data file and mended,
	 * for the daemon to log */
	enum { ND_DATA_OK, ND_DATA_MISSING, ND_DATA_RESIZED } data_repair;
	uint64_t data_found_size;	/* ND_DATA_RESIZED: the size it had */
};

struct nd_create_args {
	uint64_t size;
	uint64_t align;
	enum nd_mode mode;
	uid_t uid;
	gid_t gid;
	mode_t perm;
	bool sparse;			/* don't reserve disk space */
};

int nd_region_open(const char *state_dir, uint64_t size, struct nd_region **out);
void nd_region_close(struct nd_region *region);

int nd_namespace_create(struct nd_region *region, const struct nd_create_args *a,
			struct nd_namespace **out);
int nd_namespace_destroy(struct nd_namespace *ns);
/* "namespace0.Y", "dax0.Y", "pmem0.Y" or "pmem0" (= namespace0.0). */
struct nd_namespace *nd_namespace_find(struct nd_region *region, const char *name);
struct nd_namespace *nd_namespace_by_id(struct nd_region *region, uint32_t id);
struct nd_namespace *nd_namespace_by_pfn(struct nd_region *region, uint64_t pfn);

static inline uint64_t nd_pfn_base(const struct nd_namespace *ns)
{
	return ns->phys_base >> 12;
}

static inline uint64_t nd_nr_pages(const struct nd_namespace *ns)
{
	return ns->size >> 12;
}

/* At most this many sectors per injection (4 GiB): every page of it is
 * fenced in every mapper. */
#define ND_INJECT_MAX_SECTORS	(8ULL << 20)

/*
 * Error injection: poison sectors (durably), known to the driver at once
 * (notify, ndctl's default) or latent; -E2BIG past the limit.  _many does
 * several ranges in one transaction.
 */
int nd_inject_error(struct nd_namespace *ns, uint64_t sector, uint64_t count, bool notify);
int nd_inject_many(struct nd_namespace *ns, const struct range *r, size_t n, bool notify);
/* The media under these pages goes bad and known, in one transaction. */
int nd_poison_pages(struct nd_namespace *ns, const uint64_t *pages, size_t n);
/* Remove injected errors, known or latent, without writing (ndctl
 * inject-error --uninject).  Returns the poisoned sectors removed. */
int64_t nd_uninject_error(struct nd_namespace *ns, uint64_t sector, uint64_t count);
/* Latent poison among the sectors becomes known (a scrub, or an access
 * that hit it).  Returns the sectors found. */
int64_t nd_find_latent(struct nd_namespace *ns, uint64_t sector, uint64_t count);
/* How many latent sectors are among these. */
uint64_t nd_latent_sectors(const struct nd_namespace *ns, uint64_t sector, uint64_t count);
/*
 * Clear the known bad sectors by rewriting them with zeros: the data there
 * is lost.  The zeros reach the media before the records go.  Latent
 * poison stays (nothing knows it is there).  Returns sectors cleared.
 */
int64_t nd_clear_errors(struct nd_namespace *ns, uint64_t sector, uint64_t count);

/* Driver I/O (pmem_do_read / pmem_do_write): a read touching poison fails
 * with -EIO; a write makes good every sector it covers whole, and fails
 * with -EIO (writing nothing) if it covers part of a known bad one. */
int nd_read(struct nd_namespace *ns, uint64_t off, void *buf, size_t len);
int nd_write(struct nd_namespace *ns, uint64_t off, const void *buf, size_t len);

/* PageHWPoison: set by memory_failure(), cleared with the last bad sector
 * of the page; in memory only, like the kernel's page flag. */
int nd_page_set_hwpoison(struct nd_namespace *ns, uint64_t page);
bool nd_page_hwpoison(const struct nd_namespace *ns, uint64_t page);
/* Is any sector of the page poisoned (known or latent)? */
bool nd_page_bad(const struct nd_namespace *ns, uint64_t page);
/* In the driver's badblocks list (not latent). */
bool nd_page_known_bad(const struct nd_namespace *ns, uint64_t page);

/*
 * The daemon's view: fence a poisoned page in it, lift the fence after a
 * clear.  Cheap no-ops while the view is not mapped.
 */
void nd_view_fence(struct nd_namespace *ns, uint64_t page);
void nd_view_fence_pages(struct nd_namespace *ns, uint64_t first, uint64_t n);
void nd_view_unfence(struct nd_namespace *ns, uint64_t page);

#endif /* MF_NVDIMM_H */
