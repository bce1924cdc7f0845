// SPDX-License-Identifier: MIT
/*
 * daemon/fsdax-fuse.c: the FUSE requests of an fsdax file system, each
 * answered from its file system (src/fs) at once, in the daemon's loop.
 *
 * Reads and writes are direct I/O (no page cache): data written through
 * a mapping goes straight to the namespace, and a read must see it.
 * Attribute and entry timeouts are zero for the same reason: sizes change
 * under mappings and other openers.
 */
#define FUSE_USE_VERSION 34
#include <errno.h>
#include <fcntl.h>
#include <fuse_lowlevel.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>

#include "../fs/fs.h"
#include "fsdax.h"

static struct fs_sb *req_sb(fuse_req_t req)
{
	struct fsdax_mnt *m = fuse_req_userdata(req);

	return sb_of(m->ns);
}

static void to_stat(const struct fs_stat *s, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_ino = s->ino;
	st->st_mode = s->mode;
	st->st_nlink = s->nlink;
	st->st_uid = s->uid;
	st->st_gid = s->gid;
	st->st_size = (off_t)s->size;
	st->st_blocks = (blkcnt_t)(s->blocks * 8);
	st->st_blksize = 4096;
	st->st_atim.tv_sec = s->atime_ns / 1000000000;
	st->st_atim.tv_nsec = s->atime_ns % 1000000000;
	st->st_mtim.tv_sec = s->mtime_ns / 1000000000;
	st->st_mtim.tv_nsec = s->mtime_ns % 1000000000;
	st->st_ctim.tv_sec = s->ctime_ns / 1000000000;
	st->st_ctim.tv_nsec = s->ctime_ns % 1000000000;
}

static void reply_entry(fuse_req_t req, const struct fs_stat *s)
{
	struct fuse_entry_param e;

	memset(&e, 0, sizeof(e));
	e.ino = s->ino;
	to_stat(s, &e.attr);
	/* no caching: sizes change under mappings and other openers */
	e.attr_timeout = 0;
	e.entry_timeout = 0;
	fuse_reply_entry(req, &e);
}

static void op_init(void *userdata, struct fuse_conn_info *conn)
{
	(void)userdata;
	if (conn->max_write < (1u << 20))
		conn->max_write = 1u << 20;
	/* O_TRUNC comes as a setattr of the size, which unmaps */
	conn->want &= ~FUSE_CAP_ATOMIC_O_TRUNC;
}

static void op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct fs_stat s;
	int err = parent == FS_ROOT_INO ? fs_lookup(req_sb(req), name, &s) : -ENOTDIR;

	if (err)
		fuse_reply_err(req, -err);
	else
		reply_entry(req, &s);
}

static void op_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	(void)ino;
	(void)nlookup;
	fuse_reply_none(req);
}

static void op_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct fs_stat s;
	struct stat st;
	int err = fs_getattr(req_sb(req), ino, &s);

	(void)fi;
	if (err) {
		fuse_reply_err(req, -err);
		return;
	}
	to_stat(&s, &st);
	fuse_reply_attr(req, &st, 0);
}

static int64_t now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_REALTIME, &t);
	return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

static int64_t ts_ns(const struct timespec *t)
{
	return (int64_t)t->tv_sec * 1000000000 + t->tv_nsec;
}

static void op_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set,
		       struct fuse_file_info *fi)
{
	struct fs_stat to = { 0 }, s;
	unsigned what = 0;
	struct stat st;
	int err;

	(void)fi;
	if (to_set & FUSE_SET_ATTR_MODE) {
		what |= FS_SET_MODE;
		to.mode = attr->st_mode;
	}
	if (to_set & FUSE_SET_ATTR_UID) {
		what |= FS_SET_UID;
		to.uid = attr->st_uid;
	}
	if (to_set & FUSE_SET_ATTR_GID) {
		what |= FS_SET_GID;
		to.gid = attr->st_gid;
	}
	if (to_set & FUSE_SET_ATTR_SIZE) {
		what |= FS_SET_SIZE;
		to.size = (uint64_t)attr->st_size;
	}
	if (to_set & (FUSE_SET_ATTR_ATIME | FUSE_SET_ATTR_ATIME_NOW)) {
		what |= FS_SET_ATIME;
		to.atime_ns = (to_set & FUSE_SET_ATTR_ATIME_NOW) ? now_ns() : ts_ns(&attr->st_atim);
	}
	if (to_set & (FUSE_SET_ATTR_MTIME | FUSE_SET_ATTR_MTIME_NOW)) {
		what |= FS_SET_MTIME;
		to.mtime_ns = (to_set & FUSE_SET_ATTR_MTIME_NOW) ? now_ns() : ts_ns(&attr->st_mtim);
	}
	err = fs_setattr(req_sb(req), ino, what, &to, &s);
	if (err) {
		fuse_reply_err(req, -err);
		return;
	}
	to_stat(&s, &st);
	fuse_reply_attr(req, &st, 0);
}

static void op_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
		      struct fuse_file_info *fi)
{
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	struct fuse_entry_param e;
	struct fs_stat s;
	int err;

	if (parent != FS_ROOT_INO) {
		fuse_reply_err(req, ENOTDIR);
		return;
	}
	err = fs_create(req_sb(req), name, mode & ~ctx->umask, ctx->uid, ctx->gid, &s);
	if (!err)
		err = fs_iget(req_sb(req), s.ino);
	if (err) {
		fuse_reply_err(req, -err);
		return;
	}
	memset(&e, 0, sizeof(e));
	e.ino = s.ino;
	to_stat(&s, &e.attr);
	fi->direct_io = 1;
	if (fuse_reply_create(req, &e, fi))
		fs_iput(req_sb(req), s.ino);	/* interrupted: nobody has it open */
}

static void op_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
		     dev_t rdev)
{
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	struct fs_stat s;
	int err;

	(void)rdev;
	if (!S_ISREG(mode)) {
		fuse_reply_err(req, EPERM);	/* regular files only */
		return;
	}
	err = parent == FS_ROOT_INO ?
	      fs_create(req_sb(req), name, mode & ~ctx->umask, ctx->uid, ctx->gid, &s) : -ENOTDIR;
	if (err)
		fuse_reply_err(req, -err);
	else
		reply_entry(req, &s);
}

static void op_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode)
{
	(void)parent;
	(void)name;
	(void)mode;
	fuse_reply_err(req, EPERM);	/* one flat directory */
}

static void op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	int err = ino == FS_ROOT_INO ? -EISDIR : fs_iget(req_sb(req), ino);

	if (err) {
		fuse_reply_err(req, -err);
		return;
	}
	fi->direct_io = 1;
	if (fuse_reply_open(req, fi))
		fs_iput(req_sb(req), ino);
}

static void op_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)fi;
	fs_iput(req_sb(req), ino);
	fuse_reply_err(req, 0);
}

static void op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	char *buf = malloc(size ? size : 1);
	ssize_t n;

	(void)fi;
	if (!buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	/* a poisoned page: EIO, as dax_iomap_rw() gives */
	n = off < 0 ? -EINVAL : fs_read(req_sb(req), ino, (uint64_t)off, buf, size);
	if (n < 0)
		fuse_reply_err(req, (int)-n);
	else
		fuse_reply_buf(req, buf, (size_t)n);
	free(buf);
}

static void op_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size,
		     off_t off, struct fuse_file_info *fi)
{
	struct fsdax_mnt *m = fuse_req_userdata(req);
	uint64_t *cleared = NULL;
	size_t nc = 0;
	ssize_t n;

	(void)fi;
	n = off < 0 ? -EINVAL : fs_write(req_sb(req), ino, (uint64_t)off, buf, size, &cleared, &nc);
	if (n < 0) {
		fuse_reply_err(req, (int)-n);
		return;
	}
	/* a recovery write: the mappers have those pages back */
	if (nc) {
		mfd_log(m->d, 6, "memfail: %s: recovery write of inode %" PRIu64 " cleared %zu page%s",
			m->ns->name, (uint64_t)ino, nc, nc == 1 ? "" : "s");
		mf_media_cleared(&m->d->mf, ns_to_dax(m->ns), cleared, nc);
	}
	free(cleared);
	fuse_reply_write(req, (size_t)n);
}

static void op_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)ino;
	(void)fi;
	fuse_reply_err(req, 0);
}

static void op_fsync(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi)
{
	(void)datasync;
	(void)fi;
	fuse_reply_err(req, -fs_fsync(req_sb(req), ino));
}

static void op_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	fuse_reply_err(req, parent == FS_ROOT_INO ? -fs_unlink(req_sb(req), name) : ENOTDIR);
}

static void op_rename(fuse_req_t req, fuse_ino_t parent, const char *name,
		      fuse_ino_t newparent, const char *newname, unsigned int flags)
{
	if (parent != FS_ROOT_INO || newparent != FS_ROOT_INO) {
		fuse_reply_err(req, ENOTDIR);
		return;
	}
	fuse_reply_err(req, -fs_rename(req_sb(req), name, newname, flags));
}

struct dir_fill {
	fuse_req_t req;
	char *buf;
	size_t size, used;
};

/* Directory offsets: 1 after ".", 2 after "..", ino + 2 after a file. */
static int dir_add(struct dir_fill *f, const char *name, const struct stat *st, off_t next)
{
	size_t n = fuse_add_direntry(f->req, f->buf + f->used, f->size - f->used, name, st, next);

	if (n > f->size - f->used)
		return 1;	/* full */
	f->used += n;
	return 0;
}

static int dir_file(const char *name, const struct fs_stat *s, void *arg)
{
	struct stat st;

	to_stat(s, &st);
	return dir_add(arg, name, &st, (off_t)(s->ino + 2));
}

static void op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		       struct fuse_file_info *fi)
{
	struct dir_fill f = { .req = req, .size = size };
	struct stat st = { .st_ino = FS_ROOT_INO, .st_mode = S_IFDIR };
	int err = 0;

	(void)fi;
	if (ino != FS_ROOT_INO) {
		fuse_reply_err(req, ENOTDIR);
		return;
	}
	f.buf = malloc(size ? size : 1);
	if (!f.buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	if (off < 1 && dir_add(&f, ".", &st, 1))
		goto out;
	if (off < 2 && dir_add(&f, "..", &st, 2))
		goto out;
	err = fs_readdir(req_sb(req), off < 2 ? 0 : (uint64_t)off - 2, dir_file, &f);
out:
	if (err < 0)
		fuse_reply_err(req, -err);
	else
		fuse_reply_buf(req, f.buf, f.used);
	free(f.buf);
}

static void op_statfs(fuse_req_t req, fuse_ino_t ino)
{
	uint64_t total, free_pages, files;
	struct statvfs sv;

	(void)ino;
	if (fs_statfs(req_sb(req), &total, &free_pages, &files)) {
		fuse_reply_err(req, EIO);
		return;
	}
	memset(&sv, 0, sizeof(sv));
	sv.f_bsize = sv.f_frsize = 4096;
	sv.f_blocks = total;
	sv.f_bfree = sv.f_bavail = free_pages;
	sv.f_files = files + free_pages;
	sv.f_ffree = free_pages;
	sv.f_namemax = FS_NAME_MAX;
	fuse_reply_statfs(req, &sv);
}

static void op_fallocate(fuse_req_t req, fuse_ino_t ino, int mode, off_t off, off_t len,
			 struct fuse_file_info *fi)
{
	(void)fi;
	if (off < 0 || len <= 0) {
		fuse_reply_err(req, EINVAL);
		return;
	}
	fuse_reply_err(req, -fs_fallocate(req_sb(req), ino, mode, (uint64_t)off, (uint64_t)len));
}

const struct fuse_lowlevel_ops fsdax_fuse_ops = {
	.init = op_init,
	.lookup = op_lookup,
	.forget = op_forget,
	.getattr = op_getattr,
	.setattr = op_setattr,
	.mknod = op_mknod,
	.mkdir = op_mkdir,
	.unlink = op_unlink,
	.rename = op_rename,
	.open = op_open,
	.read = op_read,
	.write = op_write,
	.flush = op_flush,
	.release = op_release,
	.fsync = op_fsync,
	.readdir = op_readdir,
	.statfs = op_statfs,
	.create = op_create,
	.fallocate = op_fallocate,
};
