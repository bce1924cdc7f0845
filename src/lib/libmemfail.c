// SPDX-License-Identifier: MIT
/* lib/libmemfail.c: the public client API; see include/memfail.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ctx.h"

MF_EXPORT int memfail_connect(const char *socket_path, struct memfail_ctx **out)
{
	struct memfail_ctx *ctx = calloc(1, sizeof(*ctx));
	int err;

	if (!ctx)
		return -ENOMEM;
	err = mf_client_connect(&ctx->c, socket_path, MF_ROLE_ADMIN, "libmemfail");
	if (err) {
		free(ctx);
		return err;
	}
	*out = ctx;
	return 0;
}

MF_EXPORT void memfail_disconnect(struct memfail_ctx *ctx)
{
	if (!ctx)
		return;
	mf_client_close(&ctx->c);
	free(ctx);
}

MF_EXPORT const char *memfail_kernel_profile(const struct memfail_ctx *ctx)
{
	return ctx->c.profile_name;
}

int set_name(char *dst, const char *name)
{
	if (!name || !*name)
		return -EINVAL;
	if (strlcpy_mf(dst, name, MF_NAME_LEN) >= MF_NAME_LEN)
		return -ENAMETOOLONG;
	return 0;
}

static void ns_from_wire(struct memfail_namespace *o, const struct mf_ns_info *i)
{
	memset(o, 0, sizeof(*o));
	strlcpy_mf(o->dev, i->name, sizeof(o->dev));
	strlcpy_mf(o->chardev, i->chardev, sizeof(o->chardev));
	strlcpy_mf(o->uuid, i->uuid, sizeof(o->uuid));
	o->id = i->id;
	o->mode = i->mode == MF_MODE_FSDAX ? "fsdax" : "devdax";
	o->size = i->size;
	o->align = i->align;
	o->phys_start = i->phys_base;
	o->phys_end = i->phys_base + i->size - 1;
	o->uid = i->uid;
	o->gid = i->gid;
	o->perm = i->perm;
	o->nr_mappings = i->nr_mappings;
	o->badblock_count = i->badblock_count;
	o->latent_count = i->latent_count;
	o->hwpoison_pages = i->nr_hwpoison;
	o->fs_shutdown = i->fs_shutdown != 0;
	strlcpy_mf(o->fs_why, i->fs_why, sizeof(o->fs_why));
}

int call(struct memfail_ctx *ctx, void *req, size_t len, size_t min, size_t *rlen)
{
	const struct mf_reply *r = (const void *)ctx->buf;
	ssize_t n;

	/* a monitor's connection carries events now, nothing else */
	if (ctx->monitoring)
		return -EBUSY;
	n = mf_client_call(&ctx->c, req, len, ctx->buf, sizeof(ctx->buf), NULL);

	if (n < 0)
		return (int)n;
	if (r->error)
		return r->error;
	if ((size_t)n < min)
		return -EPROTO;
	if (rlen)
		*rlen = (size_t)n;
	return 0;
}

int call_page(struct memfail_ctx *ctx, void *req, size_t len, size_t head, size_t elem,
	      void **v, size_t n, size_t out_size)
{
	const struct {
		struct mf_reply r;
		uint32_t count, more;
	} *page = (const void *)ctx->buf;
	size_t rlen = 0;
	void *nv;
	int err = call(ctx, req, len, head, &rlen);

	if (!err && rlen < head + (size_t)page->count * elem)
		err = -EPROTO;
	if (!err) {
		nv = realloc(*v, (n + page->count + 1) * out_size);
		if (nv)
			*v = nv;
		else
			err = -ENOMEM;
	}
	if (err) {
		free(*v);
		*v = NULL;
		return err;
	}
	return (int)page->count;
}

MF_EXPORT int memfail_namespace_create(struct memfail_ctx *ctx,
				       const struct memfail_namespace_args *a,
				       struct memfail_namespace *out)
{
	struct mf_ns_create m;
	int err;

	memset(&m, 0, sizeof(m));
	m.hdr.type = MF_NS_CREATE;
	m.size = a->size;
	m.align = a->align;
	if (a->mode && strcmp(a->mode, "devdax") && strcmp(a->mode, "fsdax"))
		return -EOPNOTSUPP;
	m.mode = a->mode && !strcmp(a->mode, "fsdax") ? MF_MODE_FSDAX : MF_MODE_DEVDAX;
	if (a->set_uid) {
		m.set |= MF_NS_CREATE_UID;
		m.uid = a->uid;
	}
	if (a->set_gid) {
		m.set |= MF_NS_CREATE_GID;
		m.gid = a->gid;
	}
	if (a->set_perm) {
		m.set |= MF_NS_CREATE_PERM;
		m.perm = a->perm;
	}
	if (a->sparse)
		m.set |= MF_NS_CREATE_SPARSE;
	err = call(ctx, &m, sizeof(m), sizeof(struct mf_ns_reply), NULL);
	if (!err && out)
		ns_from_wire(out, &((struct mf_ns_reply *)ctx->buf)->ns);
	return err;
}

MF_EXPORT int memfail_namespace_destroy(struct memfail_ctx *ctx, const char *name)
{
	struct mf_ns_name m;
	int err;

	memset(&m, 0, sizeof(m));
	m.hdr.type = MF_NS_DESTROY;
	err = set_name(m.name, name);
	return err ? err : call(ctx, &m, sizeof(m), 0, NULL);
}

static int fs_mount_call(struct memfail_ctx *ctx, uint16_t type, const char *name,
			 const char *path)
{
	struct mf_fs_mount m;
	int err;

	memset(&m, 0, sizeof(m));
	m.hdr.type = type;
	err = set_name(m.name, name);
	if (err)
		return err;
	if (path && strlcpy_mf(m.path, path, sizeof(m.path)) >= sizeof(m.path))
		return -ENAMETOOLONG;
	return call(ctx, &m, sizeof(m), 0, NULL);
}

MF_EXPORT int memfail_fs_mount(struct memfail_ctx *ctx, const char *name, const char *dir)
{
	if (!dir)
		return -EINVAL;
	return fs_mount_call(ctx, MF_FS_MOUNT, name, dir);
}

MF_EXPORT int memfail_fs_umount(struct memfail_ctx *ctx, const char *name, const char *dir)
{
	return fs_mount_call(ctx, MF_FS_UMOUNT, name, dir);
}

MF_EXPORT int memfail_fs_media_errors(struct memfail_ctx *ctx, const char *name,
				      struct memfail_file_error **out, size_t *count,
				      uint64_t *free_pages)
{
	const struct mf_fs_media_errors_reply *r = (const void *)ctx->buf;
	struct memfail_file_error *v = NULL;
	struct mf_fs_media_errors_req m;
	uint64_t after_ino = 0, after_page = 0;
	size_t n = 0;
	bool more;
	int i, k;

	*out = NULL;
	*count = 0;
	do {
		memset(&m, 0, sizeof(m));
		m.hdr.type = MF_FS_MEDIA_ERRORS;
		m.after_ino = after_ino;
		m.after_page = after_page;
		k = set_name(m.name, name);
		if (k) {
			free(v);
			return k;
		}
		k = call_page(ctx, &m, sizeof(m), sizeof(*r), sizeof(r->e[0]), (void **)&v, n,
			      sizeof(*v));
		if (k < 0)
			return k;
		for (i = 0; i < k; i++, n++) {
			memset(&v[n], 0, sizeof(v[n]));
			v[n].ino = r->e[i].ino;
			v[n].offset = r->e[i].offset;
			v[n].length = r->e[i].length;
			memcpy(v[n].name, r->e[i].name, sizeof(v[n].name));
			v[n].name[sizeof(v[n].name) - 1] = '\0';
		}
		if (free_pages)
			*free_pages = r->free_poison_pages;
		more = r->more && r->count;
		after_ino = r->next_ino;
		after_page = r->next_page;
	} while (more);
	*out = v;
	*count = n;
	return 0;
}

MF_EXPORT int memfail_namespace_list(struct memfail_ctx *ctx, struct memfail_namespace **out,
				     size_t *count)
{
	struct memfail_namespace *v = NULL;
	size_t n = 0;
	uint32_t cursor = 0;

	do {
		const struct mf_ns_list_reply *r = (const void *)ctx->buf;
		struct mf_ns_list m;
		int i, k;

		memset(&m, 0, sizeof(m));
		m.hdr.type = MF_NS_LIST;
		m.cursor = cursor;
		k = call_page(ctx, &m, sizeof(m), sizeof(*r), sizeof(r->ns[0]),
			      (void **)&v, n, sizeof(*v));
		if (k < 0)
			return k;
		for (i = 0; i < k; i++)
			ns_from_wire(&v[n++], &r->ns[i]);
		cursor = r->next;
	} while (cursor);
	*out = v;
	*count = n;
	return 0;
}

MF_EXPORT int memfail_namespace_get(struct memfail_ctx *ctx, const char *name,
				    struct memfail_namespace *out)
{
	struct mf_ns_name m;
	int err;

	memset(&m, 0, sizeof(m));
	m.hdr.type = MF_NS_GET;
	err = set_name(m.name, name);
	if (!err)
		err = call(ctx, &m, sizeof(m), sizeof(struct mf_ns_reply), NULL);
	if (!err)
		ns_from_wire(out, &((struct mf_ns_reply *)ctx->buf)->ns);
	return err;
}

static int list_ranges(struct memfail_ctx *ctx, const char *name, uint32_t which,
		       struct memfail_badblock **out, size_t *count)
{
	struct memfail_badblock *v = NULL;
	uint64_t cursor = 0;
	size_t n = 0;
	bool more;

	do {
		const struct mf_badblocks_reply *r = (const void *)ctx->buf;
		struct mf_badblocks_req m;
		int i, k;

		memset(&m, 0, sizeof(m));
		m.hdr.type = MF_BADBLOCKS;
		m.cursor = cursor;
		m.which = which;
		k = set_name(m.name, name);
		if (k) {
			free(v);
			return k;
		}
		k = call_page(ctx, &m, sizeof(m), sizeof(*r), sizeof(r->range[0]),
			      (void **)&v, n, sizeof(*v));
		if (k < 0)
			return k;
		for (i = 0; i < k; i++, n++) {
			v[n].sector = r->range[i].sector;
			v[n].count = r->range[i].count;
		}
		more = r->more;
		cursor = r->next;
	} while (more);
	*out = v;
	*count = n;
	return 0;
}

MF_EXPORT int memfail_badblocks(struct memfail_ctx *ctx, const char *name,
				struct memfail_badblock **out, size_t *count)
{
	return list_ranges(ctx, name, MF_BB_KNOWN, out, count);
}

MF_EXPORT int memfail_latent_errors(struct memfail_ctx *ctx, const char *name,
				    struct memfail_badblock **out, size_t *count)
{
	return list_ranges(ctx, name, MF_BB_LATENT, out, count);
}

static int range_req(struct memfail_ctx *ctx, uint16_t type, const char *name,
		     uint64_t sector, uint64_t count, unsigned flags, size_t min)
{
	struct mf_range_req m;
	int err;

	memset(&m, 0, sizeof(m));
	m.hdr.type = type;
	m.sector = sector;
	m.count = count;
	m.flags = flags;
	err = set_name(m.name, name);
	return err ? err : call(ctx, &m, sizeof(m), min, NULL);
}

MF_EXPORT int memfail_inject_error(struct memfail_ctx *ctx, const char *name,
				   uint64_t sector, uint64_t count, unsigned flags)
{
	if ((flags & ~(MEMFAIL_INJECT_NOTIFY | MEMFAIL_INJECT_LATENT)) ||
	    (flags & MEMFAIL_INJECT_NOTIFY && flags & MEMFAIL_INJECT_LATENT))
		return -EINVAL;
	return range_req(ctx, MF_INJECT, name, sector, count,
			 (flags & MEMFAIL_INJECT_LATENT) ? 0 : MF_INJECT_NOTIFY, 0);
}

MF_EXPORT int memfail_inject_many(struct memfail_ctx *ctx, const char *name,
				  const struct memfail_badblock *r, size_t n, unsigned flags)
{
	struct mf_inject_batch *m = (void *)ctx->req;
	size_t i;
	int err;

	if ((flags & ~(MEMFAIL_INJECT_NOTIFY | MEMFAIL_INJECT_LATENT)) ||
	    (flags & MEMFAIL_INJECT_NOTIFY && flags & MEMFAIL_INJECT_LATENT))
		return -EINVAL;
	if (!n || n > MEMFAIL_INJECT_MANY_MAX)
		return -EINVAL;
	memset(m, 0, sizeof(*m));
	err = set_name(m->name, name);
	if (err)
		return err;
	m->hdr.type = MF_INJECT_BATCH;
	m->flags = (flags & MEMFAIL_INJECT_LATENT) ? 0 : MF_INJECT_NOTIFY;
	m->count = (uint32_t)n;
	for (i = 0; i < n; i++) {
		m->range[i].sector = r[i].sector;
		m->range[i].count = r[i].count;
	}
	return call(ctx, m, sizeof(*m) + n * sizeof(m->range[0]), 0, NULL);
}

MF_EXPORT int memfail_mappers(struct memfail_ctx *ctx, const char *name,
			      struct memfail_mapper **out, size_t *count)
{
	struct memfail_mapper *v = NULL;
	uint64_t cursor = 0;
	uint32_t skip = 0;
	size_t n = 0;
	bool more;

	do {
		const struct mf_mappers_reply *r = (const void *)ctx->buf;
		struct mf_mappers_req m;
		int i, k;

		memset(&m, 0, sizeof(m));
		m.hdr.type = MF_MAPPERS;
		m.cursor = cursor;
		m.skip = skip;
		k = set_name(m.name, name);
		if (k) {
			free(v);
			return k;
		}
		k = call_page(ctx, &m, sizeof(m), sizeof(*r), sizeof(r->m[0]),
			      (void **)&v, n, sizeof(*v));
		if (k < 0)
			return k;
		for (i = 0; i < k; i++, n++) {
			memset(&v[n], 0, sizeof(v[n]));
			v[n].page = r->m[i].page;
			v[n].pid = r->m[i].pid;
			v[n].size = 1ULL << r->m[i].shift;
			v[n].addr = r->m[i].addr;
			memcpy(v[n].comm, r->m[i].comm, sizeof(v[n].comm));
			v[n].comm[sizeof(v[n].comm) - 1] = '\0';
		}
		more = r->more && r->count;
		cursor = r->next;
		skip = r->next_skip;
	} while (more);
	*out = v;
	*count = n;
	return 0;
}

MF_EXPORT int memfail_uninject_error(struct memfail_ctx *ctx, const char *name,
				     uint64_t sector, uint64_t count)
{
	return range_req(ctx, MF_INJECT, name, sector, count, MF_INJECT_REMOVE, 0);
}

MF_EXPORT int memfail_clear_errors(struct memfail_ctx *ctx, const char *name,
				   uint64_t sector, uint64_t count, unsigned flags,
				   uint64_t *cleared)
{
	int err = range_req(ctx, MF_CLEAR, name, sector, count, flags,
			    sizeof(struct mf_clear_reply));

	if (!err && cleared)
		*cleared = ((struct mf_clear_reply *)ctx->buf)->cleared;
	return err;
}

MF_EXPORT int memfail_read(struct memfail_ctx *ctx, const char *name, uint64_t offset,
			   void *buf, size_t len)
{
	while (len) {
		const struct mf_io_reply *r = (const void *)ctx->buf;
		size_t chunk = len < MF_IO_MAX ? len : MF_IO_MAX;
		struct mf_io_req m;
		size_t rl = 0;
		int err;

		memset(&m, 0, sizeof(m));
		m.hdr.type = MF_READ;
		m.offset = offset;
		m.len = (uint32_t)chunk;
		err = set_name(m.name, name);
		if (!err)
			err = call(ctx, &m, sizeof(m), sizeof(*r), &rl);
		if (!err && (r->len != chunk || rl != sizeof(*r) + chunk))
			err = -EPROTO;
		if (err)
			return err;
		memcpy(buf, r->data, chunk);
		buf = (char *)buf + chunk;
		offset += chunk;
		len -= chunk;
	}
	return 0;
}

MF_EXPORT int memfail_write(struct memfail_ctx *ctx, const char *name, uint64_t offset,
			    const void *buf, size_t len)
{
	while (len) {
		struct mf_io_req *m = (void *)ctx->req;
		/*
		 * Pieces end on MF_IO_MAX boundaries of the namespace, not of
		 * the buffer: the daemon refuses a piece that covers part of
		 * a bad sector, so a piece must never end inside a sector the
		 * write as a whole covers.
		 */
		size_t chunk = MF_IO_MAX - offset % MF_IO_MAX;
		int err;

		if (chunk > len)
			chunk = len;
		memset(m, 0, sizeof(*m));
		m->hdr.type = MF_WRITE;
		m->offset = offset;
		m->len = (uint32_t)chunk;
		memcpy(m->data, buf, chunk);
		err = set_name(m->name, name);
		if (!err)
			err = call(ctx, m, sizeof(*m) + chunk, 0, NULL);
		if (err)
			return err;
		buf = (const char *)buf + chunk;
		offset += chunk;
		len -= chunk;
	}
	return 0;
}

static void counters_from_wire(struct memfail_counters *o, const struct mf_counters *i)
{
	o->total = i->total;
	o->ignored = i->ignored;
	o->failed = i->failed;
	o->delayed = i->delayed;
	o->recovered = i->recovered;
}

MF_EXPORT int memfail_stats(struct memfail_ctx *ctx, struct memfail_counters *node,
			    uint64_t *hardware_corrupted_kb,
			    struct memfail_ns_counters **per_ns, size_t *count)
{
	const struct mf_stats_reply *r = (const void *)ctx->buf;
	struct mf_hdr m;
	size_t len = 0;
	uint32_t i;
	int err;

	memset(&m, 0, sizeof(m));
	m.type = MF_STATS;
	err = call(ctx, &m, sizeof(m), sizeof(*r), &len);
	if (!err && len < sizeof(*r) + r->count * sizeof(r->ns[0]))
		err = -EPROTO;
	if (err)
		return err;
	if (node)
		counters_from_wire(node, &r->node);
	if (hardware_corrupted_kb)
		*hardware_corrupted_kb = r->hardware_corrupted_kb;
	if (per_ns) {
		struct memfail_ns_counters *v = calloc(r->count + 1, sizeof(*v));

		if (!v)
			return -ENOMEM;
		for (i = 0; i < r->count; i++) {
			strlcpy_mf(v[i].dev, r->ns[i].name, sizeof(v[i].dev));
			counters_from_wire(&v[i].c, &r->ns[i].c);
		}
		*per_ns = v;
		*count = r->count;
	}
	return 0;
}

static const struct {
	const char *name;
	uint32_t key;
} config_keys[] = {
	{ "memory_failure_early_kill", MF_CFG_EARLY_KILL },
	{ "memory_failure_recovery", MF_CFG_RECOVERY },
	{ "unmap_timeout_ms", MF_CFG_UNMAP_TIMEOUT_MS },
	{ "kernel", MF_CFG_PROFILE },
	{ "panicked", MF_CFG_PANICKED },
	{ "region_base", MF_CFG_REGION_BASE },
	{ "region_size", MF_CFG_REGION_SIZE },
	{ "region_available", MF_CFG_REGION_AVAILABLE },
	{ "enable_soft_offline", MF_CFG_ENABLE_SOFT_OFFLINE },
	{ "strict_caps", MF_CFG_STRICT_CAPS },
};

static int config_call(struct memfail_ctx *ctx, const char *key, int64_t *value, bool set)
{
	struct mf_config_req m;
	size_t i;
	int err;

	for (i = 0; i < ARRAY_SIZE(config_keys); i++)
		if (!strcmp(config_keys[i].name, key))
			break;
	if (i == ARRAY_SIZE(config_keys))
		return -ENOENT;
	memset(&m, 0, sizeof(m));
	m.hdr.type = set ? MF_CONFIG_SET : MF_CONFIG_GET;
	m.key = config_keys[i].key;
	m.value = *value;
	err = call(ctx, &m, sizeof(m), sizeof(struct mf_config_reply), NULL);
	if (!err)
		*value = ((struct mf_config_reply *)ctx->buf)->value;
	return err;
}

MF_EXPORT int memfail_config_get(struct memfail_ctx *ctx, const char *key, int64_t *value)
{
	*value = 0;
	return config_call(ctx, key, value, false);
}

MF_EXPORT int memfail_config_set(struct memfail_ctx *ctx, const char *key, int64_t value)
{
	return config_call(ctx, key, &value, true);
}
