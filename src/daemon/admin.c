// SPDX-License-Identifier: MIT
/*
 * daemon/admin.c: requests of the memfail command and libmemfail's
 * management calls: namespaces, counters and settings here, and the
 * dispatch to errors.c (media errors, driver I/O), scrub.c and watch.c
 * (monitor, history).
 *
 * Every handler validates the whole request before it changes anything,
 * so a request is either done completely or answered with an error and
 * no effect.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../dax/dax.h"
#include "../fs/fs.h"
#include "memfaild.h"

static char reply_buf[MF_MSG_MAX];

/* Fixed-size request: exact length or -EBADMSG. */
#define REQ(type, buf, len) \
	((len) == sizeof(type) ? (const type *)(buf) : NULL)

void ns_info_fill(struct mf_ns_info *i, const struct nd_namespace *ns)
{
	const struct dax_device *dax = ns_to_dax(ns);

	memset(i, 0, sizeof(*i));
	strlcpy_mf(i->name, ns->name, sizeof(i->name));
	strlcpy_mf(i->chardev, ns->chardev, sizeof(i->chardev));
	strlcpy_mf(i->uuid, ns->uuid, sizeof(i->uuid));
	i->id = ns->id;
	i->mode = ns->mode;
	i->size = ns->size;
	i->align = ns->align;
	i->phys_base = ns->phys_base;
	i->uid = ns->uid;
	i->gid = ns->gid;
	i->perm = ns->perm;
	i->nr_mappings = dax ? dax->nr_mmap : 0;
	i->gen = ns->gen;
	i->badblock_count = ns->bb.total;
	i->nr_badblock_ranges = ns->bb.nr;
	i->nr_hwpoison = ns->hwpoison.nr;
	i->latent_count = ns->poison.total - ns->bb.total;
	if (dax && dax->fs && fs_is_shut_down(dax->fs, i->fs_why, sizeof(i->fs_why)))
		i->fs_shutdown = 1;
	else if (dax && ns->mode == ND_MODE_FSDAX && !dax->fs && dax->fs_error[0]) {
		i->fs_shutdown = 1;
		strlcpy_mf(i->fs_why, dax->fs_error, sizeof(i->fs_why));
	}
}

/* Names come from the wire: they must be terminated inside the field. */
struct nd_namespace *ns_by_wire_name(struct mfd *d, const char *name)
{
	if (!memchr(name, '\0', MF_NAME_LEN))
		return NULL;
	return nd_namespace_find(d->region, name);
}

static void reply_ns(struct conn *c, const struct mf_hdr *h, const struct nd_namespace *ns)
{
	struct mf_ns_reply r;

	reply_init(&r.r, h, sizeof(r), 0);
	ns_info_fill(&r.ns, ns);
	conn_send(c, &r, sizeof(r), -1);
}

static int ns_create(struct conn *c, const struct mf_hdr *h, const struct mf_ns_create *m)
{
	struct mfd *d = c->d;
	struct nd_create_args a = {
		.size = m->size,
		.align = m->align ? m->align : (2ULL << 20),
		.mode = m->mode ? m->mode : ND_MODE_DEVDAX,
		.uid = c->cred.uid,
		.gid = c->cred.gid,
		.perm = 0600,
	};
	struct nd_namespace *ns;
	int err;

	if (m->set & ~(MF_NS_CREATE_UID | MF_NS_CREATE_GID | MF_NS_CREATE_PERM |
		       MF_NS_CREATE_SPARSE))
		return -EINVAL;
	a.sparse = m->set & MF_NS_CREATE_SPARSE;
	if (m->set & MF_NS_CREATE_UID)
		a.uid = m->uid;
	if (m->set & MF_NS_CREATE_GID)
		a.gid = m->gid;
	if (m->set & MF_NS_CREATE_PERM) {
		if (m->perm & ~0777U)
			return -EINVAL;
		a.perm = m->perm;
	}
	/* giving a namespace away is for root (and the daemon's own user) */
	if ((a.uid != c->cred.uid || a.gid != c->cred.gid) && !cred_may_configure(d, &c->cred))
		return -EPERM;
	if (a.mode != ND_MODE_DEVDAX && a.mode != ND_MODE_FSDAX)
		return -EOPNOTSUPP;
	err = nd_namespace_create(d->region, &a, &ns);
	if (err)
		return err;
	err = dax_device_attach(ns);
	if (!err) {
		err = fsdax_attach(d, ns);
		if (err)
			dax_device_detach(ns);
	}
	if (err) {
		nd_namespace_destroy(ns);
		return err;
	}
	reply_ns(c, h, ns);
	return 0;
}

static int ns_destroy(struct conn *c, const struct mf_ns_name *m)
{
	struct nd_namespace *ns = ns_by_wire_name(c->d, m->name);
	struct dax_device *dax;
	int err;

	if (!ns)
		return -ENODEV;
	if (!cred_is_admin_of(c->d, &c->cred, ns))
		return -EPERM;
	dax = ns_to_dax(ns);
	if (dax) {
		struct mf_vma *vma, *tmp;

		/*
		 * Mappers that exited in this very loop iteration are not
		 * reaped yet: their mappings are gone already.
		 */
		list_for_each_entry_safe(vma, tmp, &dax->i_mmap, i_mmap)
			if (proc_gone(vma->task->peer))
				mf_vma_remove(vma);
		if (dax->nr_mmap)
			return -EBUSY;
	}
	/* its files go with it */
	fsdax_detach(c->d, ns, true);
	err = nd_namespace_destroy(ns);
	if (!err)
		dax_device_free(dax);
	else
		fsdax_attach(c->d, ns);
	return err;
}

static void ns_list(struct conn *c, const struct mf_hdr *h, const struct mf_ns_list *m)
{
	struct mf_ns_list_reply *r = (void *)reply_buf;
	uint32_t id = m->cursor, count = 0;
	struct nd_namespace *ns;

	/* ids are dense and few: walk them in order */
	while (count < MF_NS_LIST_MAX && id <= m->cursor + 4096 + c->d->region->nr_namespaces) {
		ns = nd_namespace_by_id(c->d->region, id++);
		if (ns)
			ns_info_fill(&r->ns[count++], ns);
		if (count == c->d->region->nr_namespaces)
			break;
	}
	reply_init(&r->r, h, sizeof(*r) + count * sizeof(r->ns[0]), 0);
	r->count = count;
	r->next = count == MF_NS_LIST_MAX ? id : 0;
	conn_send(c, r, r->r.hdr.len, -1);
}


static void copy_stat(struct mf_counters *o, const struct mf_stat *s)
{
	o->total = s->total;
	o->ignored = s->ignored;
	o->failed = s->failed;
	o->delayed = s->delayed;
	o->recovered = s->recovered;
}

static void stats(struct conn *c, const struct mf_hdr *h)
{
	struct mf_stats_reply *r = (void *)reply_buf;
	size_t max = (sizeof(reply_buf) - sizeof(*r)) / sizeof(r->ns[0]);
	struct nd_namespace *ns;
	uint32_t count = 0;

	memset(r, 0, sizeof(*r));
	copy_stat(&r->node, &c->d->mf.node);
	r->hardware_corrupted_kb = c->d->mf.poisoned_pages * (MF_PAGE_SIZE / 1024);
	list_for_each_entry(ns, &c->d->region->namespaces, node) {
		if (count == max)
			break;
		memset(&r->ns[count], 0, sizeof(r->ns[count]));
		strlcpy_mf(r->ns[count].name, ns->name, MF_NAME_LEN);
		copy_stat(&r->ns[count].c, &ns_to_dax(ns)->stat);
		count++;
	}
	reply_init(&r->r, h, sizeof(*r) + count * sizeof(r->ns[0]), 0);
	r->count = count;
	conn_send(c, r, r->r.hdr.len, -1);
}

static int config(struct conn *c, const struct mf_hdr *h, const struct mf_config_req *m, bool set)
{
	struct mf_engine *mf = &c->d->mf;
	struct mf_config_reply r;
	int64_t v = m->value;

	if (set && !cred_may_configure(c->d, &c->cred))
		return -EPERM;
	switch (m->key) {
	case MF_CFG_EARLY_KILL:
		if (set && v != 0 && v != 1)
			return -EINVAL;
		if (set)
			mf->early_kill = (int)v;
		v = mf->early_kill;
		break;
	case MF_CFG_RECOVERY:
		if (set && v != 0 && v != 1)
			return -EINVAL;
		if (set)
			mf->recovery = (int)v;
		v = mf->recovery;
		break;
	case MF_CFG_UNMAP_TIMEOUT_MS:
		if (set && (v < 1 || v > 600000))
			return -EINVAL;
		if (set)
			mf->unmap_timeout_ms = (unsigned)v;
		v = mf->unmap_timeout_ms;
		break;
	case MF_CFG_ENABLE_SOFT_OFFLINE:
		/* vm.enable_soft_offline came with 6.11 */
		if (!mf->profile->enable_soft_offline)
			return -ENOENT;
		if (set && v != 0 && v != 1)
			return -EINVAL;
		if (set)
			mf->enable_soft_offline = (int)v;
		v = mf->enable_soft_offline;
		break;
	case MF_CFG_STRICT_CAPS:
		if (set)
			return -EROFS;
		v = c->d->opt.strict_caps;
		break;
	case MF_CFG_PROFILE:
		if (set)
			return -EROFS;	/* one profile per daemon */
		v = mf->profile->id;
		break;
	case MF_CFG_PANICKED:
		if (set)
			return -EROFS;
		v = mf->panicked;
		break;
	case MF_CFG_REGION_BASE:
	case MF_CFG_REGION_SIZE:
	case MF_CFG_REGION_AVAILABLE: {
		struct nd_region *region = c->d->region;
		struct nd_namespace *ns;

		if (set)
			return -EROFS;
		v = (int64_t)(m->key == MF_CFG_REGION_BASE ? region->base : region->size);
		if (m->key == MF_CFG_REGION_AVAILABLE)
			list_for_each_entry(ns, &region->namespaces, node)
				v -= (int64_t)ns->size;
		break;
	}
	default:
		return -ENOENT;
	}
	reply_init(&r.r, h, sizeof(r), 0);
	r.value = v;
	conn_send(c, &r, sizeof(r), -1);
	return 0;
}


void handle_admin(struct conn *c, const struct mf_hdr *h, const void *buf, size_t len)
{
	int err = -EBADMSG;

	switch (h->type) {
	case MF_NS_CREATE:
		if (REQ(struct mf_ns_create, buf, len))
			err = ns_create(c, h, buf);
		break;
	case MF_FS_MEDIA_ERRORS:
		if (REQ(struct mf_fs_media_errors_req, buf, len)) {
			fsdax_media_errors(c, h, buf);
			return;
		}
		break;
	case MF_FS_MOUNT:
	case MF_FS_UMOUNT:
		if (REQ(struct mf_fs_mount, buf, len))
			err = fsdax_mount_req(c, buf, h->type == MF_FS_MOUNT);
		if (!err)
			send_error(c, h, 0);
		break;
	case MF_NS_DESTROY:
		if (REQ(struct mf_ns_name, buf, len))
			err = ns_destroy(c, buf);
		if (!err)
			send_error(c, h, 0);
		break;
	case MF_NS_GET:
		if (REQ(struct mf_ns_name, buf, len)) {
			const struct mf_ns_name *m = buf;
			struct nd_namespace *ns = ns_by_wire_name(c->d, m->name);

			if (!ns) {
				err = -ENODEV;
				break;
			}
			reply_ns(c, h, ns);
			return;
		}
		break;
	case MF_NS_LIST:
		if (REQ(struct mf_ns_list, buf, len)) {
			ns_list(c, h, buf);
			return;
		}
		break;
	case MF_INJECT:
		if (REQ(struct mf_range_req, buf, len))
			err = errors_inject(c, buf);
		if (!err)
			send_error(c, h, 0);
		break;
	case MF_INJECT_BATCH:
		err = errors_inject_batch(c, buf, len);
		if (!err)
			send_error(c, h, 0);
		break;
	case MF_CLEAR:
		if (REQ(struct mf_range_req, buf, len))
			err = errors_clear(c, h, buf);
		break;
	case MF_BADBLOCKS:
		if (REQ(struct mf_badblocks_req, buf, len)) {
			errors_list(c, h, buf);
			return;
		}
		break;
	case MF_MAPPERS:
		if (REQ(struct mf_mappers_req, buf, len)) {
			errors_mappers(c, h, buf);
			return;
		}
		break;
	case MF_SCRUB_START:
	case MF_SCRUB_STATUS:
	case MF_SCRUB_CANCEL:
		if (REQ(struct mf_scrub_req, buf, len))
			err = scrub_request(c, h, buf);
		break;
	case MF_MONITOR:
		if (REQ(struct mf_monitor_req, buf, len))
			err = watch_monitor(c, h, buf);
		break;
	case MF_HISTORY:
		if (REQ(struct mf_history_req, buf, len))
			err = watch_history(c, h, buf);
		break;
	case MF_HISTORY_SUMMARY:
		if (REQ(struct mf_summary_req, buf, len))
			err = watch_summary(c, h, buf);
		break;
	case MF_STATS:
		if (len == sizeof(struct mf_hdr)) {
			stats(c, h);
			return;
		}
		break;
	case MF_CONFIG_GET:
	case MF_CONFIG_SET:
		if (REQ(struct mf_config_req, buf, len))
			err = config(c, h, buf, h->type == MF_CONFIG_SET);
		break;
	case MF_READ:
		if (REQ(struct mf_io_req, buf, len))
			err = errors_read(c, h, buf);
		break;
	case MF_WRITE:
		if (len >= sizeof(struct mf_io_req))
			err = errors_write(c, buf, len);
		if (!err)
			send_error(c, h, 0);
		break;
	case MF_RAM_FILES:
	case MF_RAM_KPAGEFLAGS:
	case MF_PFN_WRITE:
	case MF_KMSG_READ:
	case MF_KMSG_WRITE:
		err = ram_admin(c, h, buf, len);
		break;
	default:
		err = -EOPNOTSUPP;
		break;
	}
	if (err)
		send_error(c, h, err);
}
