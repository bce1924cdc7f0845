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
	rangeset_free(&ns->poison);
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
	rangeset_init(&ns->poison);
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
	if (mf_fsync(fd))
		err = -errno;
	close(fd);
	return err;
}

static int load_ns(const struct nd_store_ns *row, void *arg)
{
	struct nd_region *region = arg;
	struct nd_namespace *ns;
	struct stat st;

	if ((row->mode != ND_MODE_DEVDAX && row->mode != ND_MODE_FSDAX) || size_shift(row->align) < 12 ||
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
		if (ftruncate(ns->data_fd, (off_t)ns->size) || mf_fsync(ns->data_fd))
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
	/* known bad sectors are poison too, whatever the rows say */
	if (rangeset_set(&ns->poison, sector, count))
		return -ENOMEM;
	return rangeset_set(&ns->bb, sector, count);
}

static int load_poison(uint32_t id, uint64_t sector, uint64_t count, void *arg)
{
	struct nd_namespace *ns = nd_namespace_by_id(arg, id);

	if (!ns)
		return 0;
	return rangeset_set(&ns->poison, sector, count);
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
		err = nd_store_for_each_range(region->store, ND_STORE_POISON, load_poison, region);
	if (!err)
		err = nd_store_for_each_range(region->store, ND_STORE_BADBLOCK, load_bb, region);
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

	if (a->mode != ND_MODE_DEVDAX && a->mode != ND_MODE_FSDAX)
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
	if (mf_fsync(ns->data_fd)) {
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

