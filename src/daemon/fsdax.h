/* SPDX-License-Identifier: MIT */
/*
 * daemon/fsdax.h: what the fsdax parts of the daemon share (fsdax.c,
 * fsdax-fuse.c, fsdax-map.c): a shown file system and its FUSE session.
 */
#ifndef MF_DAEMON_FSDAX_H
#define MF_DAEMON_FSDAX_H

#define FUSE_USE_VERSION 34
#include <fuse_lowlevel.h>
#include <sys/types.h>

#include "memfaild.h"

struct fsdax_mnt {
	struct list_node node;
	struct mfd *d;
	struct nd_namespace *ns;
	struct fuse_session *se;
	char *path;
	dev_t dev;			/* st_dev of files under it */
	struct watch watch;
	struct fuse_buf buf;
};

static inline struct fs_sb *sb_of(const struct nd_namespace *ns)
{
	return ns && ns_to_dax(ns) ? ns_to_dax(ns)->fs : NULL;
}

/* The requests of every shown file system (fsdax-fuse.c). */
extern const struct fuse_lowlevel_ops fsdax_fuse_ops;

#endif
