// SPDX-License-Identifier: MIT
/* nvdimm/nvdimm.c: the emulated region and its namespaces; see nvdimm.h. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uuid/uuid.h>

#include "../util/util.h"
#include "copy_mc.h"
#include "nvdimm.h"
#include "store.h"

/* FNV-1a of the uuid: a namespace's identity beyond its reusable id */
static uint64_t uuid_gen(const char *uuid)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; *uuid; uuid++) {
		h ^= (unsigned char)*uuid;
		h *= 0x100000001b3ULL;
	}
	return h;
}

static void ns_set_names(struct nd_namespace *ns)
{
	snprintf(ns->name, sizeof(ns->name), "namespace0.%u", ns->id);
	snprintf(ns->chardev, sizeof(ns->chardev), "dax0.%u", ns->id);
}

/* Keep the region's list sorted by physical address. */
static void region_link(struct nd_region *region, struct nd_namespace *ns)
{
	struct nd_namespace *pos;

	list_for_each_entry(pos, &region->namespaces, node) {
		if (pos->phys_base > ns->phys_base) {
			list_insert_between(&ns->node, pos->node.prev, &pos->node);
			region->nr_namespaces++;
			return;
		}
	}
	list_add_tail(&ns->node, &region->namespaces);
	region->nr_namespaces++;
}

static void ns_free(struct nd_namespace *ns)
{
	if (ns->view)
		munmap(ns->view, ns->size);
	if (ns->data_fd >= 0)
		close(ns->data_fd);
	rangeset_free(&ns->bb);
	u64set_free(&ns->hwpoison);
	free(ns->data_path);
	free(ns);
}

static struct nd_namespace *ns_alloc(struct nd_region *region)
{
	struct nd_namespace *ns = calloc(1, sizeof(*ns));

	if (!ns)
		return NULL;
	ns->region = region;
	ns->data_fd = -1;
	list_init(&ns->node);
	rangeset_init(&ns->bb);
	u64set_init(&ns->hwpoison);
	return ns;
}

/* A new or removed data file's directory entry reaches the disk. */
static int sync_data_dir(struct nd_region *region)
{
	char path[PATH_MAX];
	int fd, err = 0;

	snprintf(path, sizeof(path), "%s/data", region->state_dir);
	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fsync(fd))
		err = -errno;
	close(fd);
	return err;
}

static int load_ns(const struct nd_store_ns *row, void *arg)
{
	struct nd_region *region = arg;
	struct nd_namespace *ns;
	struct stat st;

	if (row->mode != ND_MODE_DEVDAX || size_shift(row->align) < 12 ||
	    !row->size || row->size % row->align)
		return -EUCLEAN;
	ns = ns_alloc(region);
	if (!ns)
		return -ENOMEM;
	ns->id = row->id;
	ns_set_names(ns);
	strlcpy_mf(ns->uuid, row->uuid, sizeof(ns->uuid));
	ns->gen = uuid_gen(ns->uuid);
	ns->mode = row->mode;
	ns->size = row->size;
	ns->align = row->align;
	ns->phys_base = row->phys_base;
	ns->uid = row->uid;
	ns->gid = row->gid;
	ns->perm = row->perm;
	ns->data_path = strdup(row->data_path);
	if (!ns->data_path) {
		ns_free(ns);
		return -ENOMEM;
	}
	/*
	 * The data file is the namespace's media.  If something outside the
	 * daemon took it away or cut it short (its owner can truncate the
	 * descriptor it was given), the namespace comes back with what is
	 * left, at its size, and its bad-sector records: one damaged
	 * namespace does not keep the others offline.
	 */
	ns->data_fd = open(ns->data_path, O_RDWR | O_CLOEXEC);
	if (ns->data_fd < 0 && errno == ENOENT) {
		ns->data_repair = ND_DATA_MISSING;
		ns->data_fd = open(ns->data_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	}
	if (ns->data_fd < 0 || fstat(ns->data_fd, &st)) {
		int err = -errno;

		fprintf(stderr, "memfaild: %s: data file %s: %s\n", ns->name,
			ns->data_path, strerror(-err));
		ns_free(ns);
		return err;
	}
	if ((uint64_t)st.st_size != ns->size) {
		int err = 0;

		if (ns->data_repair == ND_DATA_OK) {
			ns->data_repair = ND_DATA_RESIZED;
			ns->data_found_size = (uint64_t)st.st_size;
		}
		/* mended for good before anyone maps it: size, then name */
		if (ftruncate(ns->data_fd, (off_t)ns->size) || fsync(ns->data_fd))
			err = -errno;
		if (!err && ns->data_repair == ND_DATA_MISSING)
			err = sync_data_dir(region);
		if (err) {
			fprintf(stderr, "memfaild: %s: cannot restore data file %s: %s\n",
				ns->name, ns->data_path, strerror(-err));
			ns_free(ns);
			return err;
		}
	}
	region_link(region, ns);
	return 0;
}

static int load_bb(uint32_t id, uint64_t sector, uint64_t count, void *arg)
{
	struct nd_namespace *ns = nd_namespace_by_id(arg, id);

	if (!ns)
		return 0;	/* rows of a namespace whose delete was cut short */
	return rangeset_set(&ns->bb, sector, count);
}

int nd_region_open(const char *state_dir, uint64_t size, struct nd_region **out)
{
	struct nd_region *region;
	char path[PATH_MAX];
	int err;

	region = calloc(1, sizeof(*region));
	if (!region)
		return -ENOMEM;
	list_init(&region->namespaces);
	region->base = ND_REGION_BASE;
	region->size = size ? size : ND_REGION_SIZE_DEFAULT;
	region->state_dir = strdup(state_dir);
	if (!region->state_dir) {
		err = -ENOMEM;
		goto fail;
	}
	snprintf(path, sizeof(path), "%s/data", state_dir);
	err = mkdir_parents(path, 0700);
	if (err)
		goto fail;
	snprintf(path, sizeof(path), "%s/memfail.db", state_dir);
	err = nd_store_open(path, &region->store);
	if (err)
		goto fail;
	err = nd_store_for_each_ns(region->store, load_ns, region);
	if (!err)
		err = nd_store_for_each_bb(region->store, load_bb, region);
	if (err)
		goto fail;
	*out = region;
	return 0;
fail:
	nd_region_close(region);
	return err;
}

void nd_region_close(struct nd_region *region)
{
	struct nd_namespace *ns, *tmp;

	if (!region)
		return;
	list_for_each_entry_safe(ns, tmp, &region->namespaces, node) {
		list_del(&ns->node);
		ns_free(ns);
	}
	nd_store_close(region->store);
	free(region->state_dir);
	free(region);
}

static int valid_align(uint64_t align)
{
	return align == 4096 || align == (2ULL << 20) || align == (1ULL << 30);
}

/* First fit, each namespace aligned to max(align, 2 MiB). */
static int region_alloc_phys(struct nd_region *region, uint64_t size,
			     uint64_t align, uint64_t *base)
{
	uint64_t a = align > (2ULL << 20) ? align : (2ULL << 20);
	uint64_t cand = MF_ALIGN_UP(region->base, a);
	uint64_t end = region->base + region->size;
	struct nd_namespace *ns;

	list_for_each_entry(ns, &region->namespaces, node) {
		if (cand + size <= ns->phys_base)
			break;
		cand = MF_ALIGN_UP(ns->phys_base + ns->size, a);
	}
	if (cand + size < cand || cand + size > end)
		return -ENOSPC;
	*base = cand;
	return 0;
}

static uint32_t region_free_id(struct nd_region *region)
{
	uint32_t id = 0;

	while (nd_namespace_by_id(region, id))
		id++;
	return id;
}

int nd_namespace_create(struct nd_region *region, const struct nd_create_args *a,
			struct nd_namespace **out)
{
	struct nd_namespace *ns;
	struct nd_store_ns row;
	char path[PATH_MAX];
	uuid_t u;
	int err;

	if (a->mode != ND_MODE_DEVDAX)
		return -EOPNOTSUPP;
	if (!valid_align(a->align))
		return -EINVAL;
	if (!a->size || a->size % a->align)
		return -EINVAL;
	if (a->size > region->size)
		return -ENOSPC;
	ns = ns_alloc(region);
	if (!ns)
		return -ENOMEM;
	ns->id = region_free_id(region);
	ns_set_names(ns);
	uuid_generate(u);
	uuid_unparse_lower(u, ns->uuid);
	ns->gen = uuid_gen(ns->uuid);
	ns->mode = a->mode;
	ns->size = a->size;
	ns->align = a->align;
	ns->uid = a->uid;
	ns->gid = a->gid;
	ns->perm = a->perm & 07777;
	err = region_alloc_phys(region, a->size, a->align, &ns->phys_base);
	if (err)
		goto fail;
	snprintf(path, sizeof(path), "%s/data/%s.img", region->state_dir, ns->uuid);
	ns->data_path = strdup(path);
	if (!ns->data_path) {
		err = -ENOMEM;
		goto fail;
	}
	ns->data_fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (ns->data_fd < 0) {
		err = -errno;
		goto fail;
	}
	if (ftruncate(ns->data_fd, (off_t)a->size)) {
		err = -errno;
		goto fail_unlink;
	}
	/*
	 * Reserve the blocks now, so that a store through a mapping can
	 * never hit a full disk later (it would fault with SIGBUS).
	 */
	if (!a->sparse && fallocate(ns->data_fd, 0, 0, (off_t)a->size)) {
		err = errno == EOPNOTSUPP ? 0 : -errno;
		if (err)
			goto fail_unlink;
	}
	/* the file and its name are on disk before the record names them */
	if (fsync(ns->data_fd)) {
		err = -errno;
		goto fail_unlink;
	}
	err = sync_data_dir(region);
	if (err)
		goto fail_unlink;
	row = (struct nd_store_ns){
		.id = ns->id, .uuid = ns->uuid, .mode = ns->mode, .size = ns->size,
		.align = ns->align, .phys_base = ns->phys_base, .uid = ns->uid,
		.gid = ns->gid, .perm = ns->perm, .data_path = ns->data_path,
	};
	err = nd_store_begin(region->store);
	if (!err)
		err = nd_store_ns_insert(region->store, &row);
	if (!err)
		err = nd_store_commit(region->store);
	else
		nd_store_rollback(region->store);
	if (err)
		goto fail_unlink;
	region_link(region, ns);
	*out = ns;
	return 0;
fail_unlink:
	unlink(path);
fail:
	ns_free(ns);
	return err;
}

int nd_namespace_destroy(struct nd_namespace *ns)
{
	struct nd_region *region = ns->region;
	int err;

	err = nd_store_begin(region->store);
	if (!err)
		err = nd_store_ns_delete(region->store, ns->id);
	if (!err)
		err = nd_store_commit(region->store);
	else
		nd_store_rollback(region->store);
	if (err)
		return err;
	/* The record is gone: the data file is garbage from here on. */
	unlink(ns->data_path);
	sync_data_dir(region);
	list_del(&ns->node);
	region->nr_namespaces--;
	ns_free(ns);
	return 0;
}

struct nd_namespace *nd_namespace_by_id(struct nd_region *region, uint32_t id)
{
	struct nd_namespace *ns;

	list_for_each_entry(ns, &region->namespaces, node)
		if (ns->id == id)
			return ns;
	return NULL;
}

struct nd_namespace *nd_namespace_find(struct nd_region *region, const char *name)
{
	static const char *const prefix[] = { "namespace0.", "dax0.", "pmem0." };
	uint64_t id;
	size_t i;

	if (!name)
		return NULL;
	if (!strcmp(name, "pmem0"))
		return nd_namespace_by_id(region, 0);
	for (i = 0; i < ARRAY_SIZE(prefix); i++) {
		size_t n = strlen(prefix[i]);
		const char *p = name + n;

		if (strncmp(name, prefix[i], n) || !*p || *p < '0' || *p > '9')
			continue;
		if (parse_u64(p, &id) || id > UINT32_MAX)
			return NULL;
		/* no "0x" or leading zeroes: names are canonical */
		if ((p[0] == '0' && p[1]) || strchr(p, 'x'))
			return NULL;
		return nd_namespace_by_id(region, (uint32_t)id);
	}
	return NULL;
}

struct nd_namespace *nd_namespace_by_pfn(struct nd_region *region, uint64_t pfn)
{
	struct nd_namespace *ns;

	list_for_each_entry(ns, &region->namespaces, node)
		if (pfn >= nd_pfn_base(ns) && pfn < nd_pfn_base(ns) + nd_nr_pages(ns))
			return ns;
	return NULL;
}

bool nd_page_bad(const struct nd_namespace *ns, uint64_t page)
{
	return rangeset_check(&ns->bb, page * MF_SECTORS_PER_PAGE, MF_SECTORS_PER_PAGE);
}

bool nd_page_hwpoison(const struct nd_namespace *ns, uint64_t page)
{
	return u64set_has(&ns->hwpoison, page);
}

/*
 * The daemon's view fences with mprotect(): it maps nothing else, few
 * ranges are poisoned, and a run of any length is one call.  If a fence
 * cannot be put up (too many VMAs), reads are still refused by the
 * bad-sector check before they reach the view.
 */
void nd_view_fence_pages(struct nd_namespace *ns, uint64_t first, uint64_t n)
{
	if (ns->view)
		mprotect((char *)ns->view + first * MF_PAGE_SIZE, n * MF_PAGE_SIZE, PROT_NONE);
}

void nd_view_fence(struct nd_namespace *ns, uint64_t page)
{
	nd_view_fence_pages(ns, page, 1);
}

void nd_view_unfence(struct nd_namespace *ns, uint64_t page)
{
	if (ns->view)
		mprotect((char *)ns->view + page * MF_PAGE_SIZE, MF_PAGE_SIZE, PROT_READ);
}

/*
 * Bad-sector changes.  Each is applied in memory and to the store's copy
 * of the same window of ranges inside one transaction; if the commit
 * fails, memory goes back to a copy taken before.  Only after the commit
 * does the daemon's view follow (fenced, or given back).
 */

/* Apply one change inside an open transaction. */
static int64_t bb_apply(struct nd_namespace *ns, uint64_t s, uint64_t e, bool set)
{
	struct rangeset *bb = &ns->bb;
	uint64_t lo = s, hi = e;
	size_t i, j, a, b;
	int64_t res;
	int err;

	/* the window: every range the change can merge with or split */
	i = rangeset_lookup(bb, s ? s - 1 : 0);
	for (j = i; j < bb->nr && bb->r[j].start <= e; j++) {
		if (bb->r[j].start < lo)
			lo = bb->r[j].start;
		if (bb->r[j].start + bb->r[j].count > hi)
			hi = bb->r[j].start + bb->r[j].count;
	}
	res = set ? rangeset_set(bb, s, e - s) : rangeset_clear(bb, s, e - s);
	if (res < 0)
		return res;
	a = rangeset_lookup(bb, lo);
	for (b = a; b < bb->nr && bb->r[b].start < hi; b++)
		;
	err = nd_store_bb_replace(ns->region->store, ns->id, lo, hi, bb->r + a, b - a);
	return err ? err : res;
}

/* The daemon's view after a committed change; `before` holds (at least)
 * the ranges that were bad in [s, e) before it. */
static void bb_view_follow(struct nd_namespace *ns, uint64_t s, uint64_t e, bool set,
			   const struct rangeset *before)
{
	uint64_t first = s / MF_SECTORS_PER_PAGE, last = (e - 1) / MF_SECTORS_PER_PAGE, p;
	size_t i;

	if (set) {
		nd_view_fence_pages(ns, first, last - first + 1);
		return;
	}
	/* only pages that were bad can have come back */
	for (i = rangeset_lookup(before, s); i < before->nr && before->r[i].start < e; i++) {
		uint64_t a = before->r[i].start / MF_SECTORS_PER_PAGE;
		uint64_t b = (before->r[i].start + before->r[i].count - 1) / MF_SECTORS_PER_PAGE;

		for (p = a < first ? first : a; p <= b && p <= last; p++) {
			if (nd_page_bad(ns, p))
				continue;
			u64set_del(&ns->hwpoison, p);
			nd_view_unfence(ns, p);
		}
	}
}

static int rangeset_copy(struct rangeset *dst, const struct rangeset *src)
{
	rangeset_init(dst);
	if (!src->nr)
		return 0;
	dst->r = malloc(src->nr * sizeof(*src->r));
	if (!dst->r)
		return -ENOMEM;
	memcpy(dst->r, src->r, src->nr * sizeof(*src->r));
	dst->nr = dst->cap = src->nr;
	dst->total = src->total;
	return 0;
}

/*
 * Make ranges[i] (sectors, [start, start + count)) bad (set) or good,
 * all in one transaction.  Returns the sectors changed or -errno, and then
 * nothing changed.
 */
static int64_t bb_change_many(struct nd_namespace *ns, const struct range *ranges,
			      size_t n, bool set)
{
	struct nd_store *st = ns->region->store;
	struct rangeset before;
	int64_t total = 0, r = 0;
	size_t i;
	int err;

	err = rangeset_copy(&before, &ns->bb);
	if (err)
		return err;
	err = nd_store_begin(st);
	for (i = 0; !err && i < n; i++) {
		r = bb_apply(ns, ranges[i].start, ranges[i].start + ranges[i].count, set);
		if (r < 0)
			err = (int)r;
		else
			total += r;
	}
	if (!err)
		err = nd_store_commit(st);
	else
		nd_store_rollback(st);
	if (err) {
		/* nothing happened: the old ranges come back whole */
		rangeset_free(&ns->bb);
		ns->bb = before;
		return err;
	}
	for (i = 0; i < n; i++)
		bb_view_follow(ns, ranges[i].start, ranges[i].start + ranges[i].count, set, &before);
	rangeset_free(&before);
	return total;
}

static int64_t bb_change(struct nd_namespace *ns, uint64_t s, uint64_t e, bool set)
{
	struct range r = { .start = s, .count = e - s };

	return bb_change_many(ns, &r, 1, set);
}

static int check_sectors(const struct nd_namespace *ns, uint64_t sector, uint64_t count)
{
	uint64_t nr = ns->size >> MF_SECTOR_SHIFT;

	if (!count || sector >= nr || count > nr - sector)
		return -ERANGE;
	return 0;
}

int nd_inject_error(struct nd_namespace *ns, uint64_t sector, uint64_t count)
{
	int err = check_sectors(ns, sector, count);

	if (err)
		return err;
	/* every page of it gets fenced in every mapper: keep that bounded */
	if (count > ND_INJECT_MAX_SECTORS)
		return -E2BIG;
	err = (int)bb_change(ns, sector, sector + count, true);
	return err < 0 ? err : 0;
}

int nd_poison_pages(struct nd_namespace *ns, const uint64_t *pages, size_t n)
{
	struct range *r;
	int64_t ret;
	size_t i;

	if (!n)
		return 0;
	r = malloc(n * sizeof(*r));
	if (!r)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		if (pages[i] >= nd_nr_pages(ns)) {
			free(r);
			return -ERANGE;
		}
		r[i].start = pages[i] * MF_SECTORS_PER_PAGE;
		r[i].count = MF_SECTORS_PER_PAGE;
	}
	ret = bb_change_many(ns, r, n, true);
	free(r);
	return ret < 0 ? (int)ret : 0;
}

int64_t nd_uninject_error(struct nd_namespace *ns, uint64_t sector, uint64_t count)
{
	int err = check_sectors(ns, sector, count);

	if (err)
		return err;
	return bb_change(ns, sector, sector + count, false);
}

/* Write zeros over every bad sector in [s, e), then make them durable. */
static int zero_bad_sectors(struct nd_namespace *ns, uint64_t s, uint64_t e)
{
	static const char zeros[64 * 1024];
	size_t i;

	for (i = rangeset_lookup(&ns->bb, s); i < ns->bb.nr; i++) {
		uint64_t rs = ns->bb.r[i].start, re = rs + ns->bb.r[i].count;

		if (rs >= e)
			break;
		if (rs < s)
			rs = s;
		if (re > e)
			re = e;
		while (rs < re) {
			uint64_t n = (re - rs) << MF_SECTOR_SHIFT;
			ssize_t w;

			if (n > sizeof(zeros))
				n = sizeof(zeros);
			w = pwrite(ns->data_fd, zeros, n, (off_t)(rs << MF_SECTOR_SHIFT));
			if (w < 0)
				return -errno;
			if (w == 0 || w % MF_SECTOR_SIZE)
				return -EIO;
			rs += (uint64_t)w >> MF_SECTOR_SHIFT;
		}
	}
	return fdatasync(ns->data_fd) ? -errno : 0;
}

int64_t nd_clear_errors(struct nd_namespace *ns, uint64_t sector, uint64_t count)
{
	int err = check_sectors(ns, sector, count);

	if (err)
		return err;
	if (!rangeset_check(&ns->bb, sector, count))
		return 0;
	/* the new data reaches the media before the poison record goes */
	err = zero_bad_sectors(ns, sector, sector + count);
	if (err)
		return err;
	return bb_change(ns, sector, sector + count, false);
}

static int map_view(struct nd_namespace *ns)
{
	size_t i;
	void *v;

	if (ns->view)
		return 0;
	v = mmap(NULL, ns->size, PROT_READ, MAP_SHARED | MAP_NORESERVE, ns->data_fd, 0);
	if (v == MAP_FAILED)
		return -errno;
	ns->view = v;
	/* set_mce_nospec() for everything already known bad */
	for (i = 0; i < ns->bb.nr; i++) {
		uint64_t a = ns->bb.r[i].start / MF_SECTORS_PER_PAGE;
		uint64_t b = (ns->bb.r[i].start + ns->bb.r[i].count - 1) / MF_SECTORS_PER_PAGE;

		nd_view_fence_pages(ns, a, b - a + 1);
	}
	return 0;
}

static int check_io(const struct nd_namespace *ns, uint64_t off, size_t len)
{
	if (!len)
		return -EINVAL;
	if (off >= ns->size || len > ns->size - off)
		return -ERANGE;
	return 0;
}

int nd_read(struct nd_namespace *ns, uint64_t off, void *buf, size_t len)
{
	uint64_t s = off >> MF_SECTOR_SHIFT;
	uint64_t e = MF_ALIGN_UP(off + len, MF_SECTOR_SIZE) >> MF_SECTOR_SHIFT;
	int err = check_io(ns, off, len);

	if (err)
		return err;
	if (rangeset_check(&ns->bb, s, e - s))
		return -EIO;
	err = map_view(ns);
	if (err)
		return err;
	/*
	 * Poison is fenced a page at a time in our view, but the media is
	 * bad only in its sectors: good sectors of such a page are read from
	 * the media directly, the rest through the fault-surviving copy.
	 */
	while (len) {
		uint64_t page = off >> MF_PAGE_SHIFT;
		size_t chunk = (size_t)(MF_ALIGN_DOWN(off, MF_PAGE_SIZE) + MF_PAGE_SIZE - off);

		if (chunk > len)
			chunk = len;
		if (nd_page_bad(ns, page) || nd_page_hwpoison(ns, page)) {
			ssize_t r = pread(ns->data_fd, buf, chunk, (off_t)off);

			if (r != (ssize_t)chunk)
				return r < 0 ? -errno : -EIO;
		} else {
			err = copy_mc(buf, (char *)ns->view + off, chunk);
			if (err)
				return err;
		}
		buf = (char *)buf + chunk;
		off += chunk;
		len -= chunk;
	}
	return 0;
}

int nd_write(struct nd_namespace *ns, uint64_t off, const void *buf, size_t len)
{
	uint64_t s = MF_ALIGN_UP(off, MF_SECTOR_SIZE) >> MF_SECTOR_SHIFT;
	uint64_t e = (off + len) >> MF_SECTOR_SHIFT;
	size_t done = 0;
	int err = check_io(ns, off, len);

	if (err)
		return err;
	/*
	 * pmem clears poison in whole sectors: a write that covers part of a
	 * bad sector cannot clear it, and fails with EIO before writing
	 * anything, as the driver's does.
	 */
	if ((off % MF_SECTOR_SIZE && rangeset_check(&ns->bb, off >> MF_SECTOR_SHIFT, 1)) ||
	    ((off + len) % MF_SECTOR_SIZE && rangeset_check(&ns->bb, (off + len) >> MF_SECTOR_SHIFT, 1)))
		return -EIO;
	while (done < len) {
		ssize_t w = pwrite(ns->data_fd, (const char *)buf + done, len - done,
				   (off_t)(off + done));

		if (w < 0)
			return -errno;
		if (w == 0)
			return -EIO;
		done += (size_t)w;
	}
	if (fdatasync(ns->data_fd))
		return -errno;
	/* a write clears the bad sectors it covers whole */
	if (e > s && rangeset_check(&ns->bb, s, e - s)) {
		int64_t r = bb_change(ns, s, e, false);

		if (r < 0)
			return (int)r;
	}
	return 0;
}

int nd_page_set_hwpoison(struct nd_namespace *ns, uint64_t page)
{
	/*
	 * A page flag, as PageHWPoison is: it does not outlive the daemon,
	 * as the kernel's does not outlive a reboot.  What does is the bad
	 * sector under the page.
	 */
	if (u64set_add(&ns->hwpoison, page) < 0)
		return -ENOMEM;
	nd_view_fence(ns, page);
	return 0;
}
