// SPDX-License-Identifier: MIT
/*
 * daemon/fsdax.c: the files of fsdax namespaces, served through FUSE.
 *
 * Each fsdax namespace has its file system (src/fs) for as long as the
 * daemon has the namespace; MF_FS_MOUNT shows it at a directory.  The
 * FUSE device is one more descriptor in the daemon's epoll loop: a file
 * request runs to completion like any other request, so truncate, hole
 * punch, writes and memory_failure() never interleave, and a FUSE
 * request never waits on the daemon (which would deadlock it).  Every
 * process, static binaries and glibc's internal calls included, sees the
 * directory; only mmap() needs the shim, which maps the file's extents of
 * the namespace's data in place (MF_FS_MAP, MF_FS_MAP_REGISTER).
 *
 * Reads and writes are direct I/O (no page cache): data written through
 * a mapping goes straight to the namespace, and a read must see it.
 */
#define FUSE_USE_VERSION 34
#include <errno.h>
#include <fcntl.h>
#include <fuse_lowlevel.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "../fs/fs.h"
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

static struct fs_sb *sb_of(const struct nd_namespace *ns)
{
	return ns && ns_to_dax(ns) ? ns_to_dax(ns)->fs : NULL;
}

/* ---- truncate and punch: the mappers lose the pages first ---- */

/*
 * unmap_mapping_range() of file pages [first, first + n): every mapping
 * of them fences and zaps them, so that the next touch comes to us (and
 * finds a new block, a hole, or the end of the file).  Called by the file
 * system with its lock held; the mappers' service threads never call it.
 */
static void fsdax_unmap_pages(struct fs_sb *sb, uint64_t ino, uint64_t first, uint64_t n,
			      void *priv)
{
	struct mfd *d = priv;
	struct dax_device *dax = ns_to_dax(fs_namespace(sb));
	struct mf_shootdown *sd = NULL;
	unsigned nsd = 0, i;
	struct mf_vma *vma;

	d->fs_map_gen++;
	list_for_each_entry(vma, &dax->i_mmap, i_mmap) {
		uint64_t vs = vma->pgoff, ve = vma->pgoff + (vma->len >> MF_PAGE_SHIFT);
		uint64_t lim = n > UINT64_MAX - first ? UINT64_MAX : first + n;
		uint64_t s = first > vs ? first : vs;
		uint64_t e = lim < ve ? lim : ve;
		struct mf_sd_work *w;
		struct mf_shootdown *x;

		if (vma->ino != ino || e <= s)
			continue;
		for (i = 0; i < nsd && sd[i].task != vma->task; i++)
			;
		if (i == nsd) {
			x = realloc(sd, (nsd + 1) * sizeof(*sd));
			if (!x)
				break;
			sd = x;
			memset(&sd[nsd], 0, sizeof(sd[nsd]));
			sd[nsd++].task = vma->task;
		}
		x = &sd[i];
		w = realloc(x->w, (x->n + 1) * sizeof(*w));
		if (!w)
			break;
		x->w = w;
		w = &x->w[x->n++];
		memset(w, 0, sizeof(*w));
		w->vma = vma;
		w->page_addr = w->unit_addr = vma_address(vma, s);
		w->page_len = w->unit_len = (e - s) << MF_PAGE_SHIFT;
		w->ops = MF_OP_FENCE | MF_OP_ZAP;
	}
	if (nsd && d->mf.ops->shootdown) {
		d->mf.ops->shootdown(&d->mf, sd, nsd);
		mf_shootdown_check_fences(sd, nsd);
		/* one that kept the pages could read another file's data */
		for (i = 0; i < nsd; i++)
			if (!sd[i].acked) {
				mfd_log(d, 3, "memfail: forcibly killing %s:%d: cannot unmap truncated pages",
					sd[i].task->comm, sd[i].task->pid);
				d->mf.ops->kill(&d->mf, sd[i].task);
			}
	}
	for (i = 0; i < nsd; i++)
		free(sd[i].w);
	free(sd);
}

static const struct fs_ops fsdax_fs_ops = {
	.unmap_pages = fsdax_unmap_pages,
};

static void db_path(const struct mfd *d, const struct nd_namespace *ns, char *buf, size_t n)
{
	snprintf(buf, n, "%s/fs/%s.db", d->opt.state_dir, ns->uuid);
}

int fsdax_attach(struct mfd *d, struct nd_namespace *ns)
{
	char path[PATH_MAX], dir[PATH_MAX];
	struct fs_sb *sb;
	int err;

	if (ns->mode != ND_MODE_FSDAX || sb_of(ns))
		return 0;
	snprintf(dir, sizeof(dir), "%s/fs", d->opt.state_dir);
	if (mkdir(dir, 0700) && errno != EEXIST)
		return -errno;
	db_path(d, ns, path, sizeof(path));
	err = fs_mount(ns, path, &fsdax_fs_ops, d, &sb);
	if (err)
		return err;
	ns_to_dax(ns)->fs = sb;
	return 0;
}

/* Where the namespace's files are shown, kept beside its metadata so
 * that a restarted daemon shows them there again. */
static void mnt_record_path(const struct mfd *d, const struct nd_namespace *ns, char *buf,
			    size_t n)
{
	snprintf(buf, n, "%s/fs/%s.mount", d->opt.state_dir, ns->uuid);
}

static void mnt_record(const struct mfd *d, const struct nd_namespace *ns, const char *path)
{
	char rec[PATH_MAX], tmp[PATH_MAX + 8];
	FILE *f;

	mnt_record_path(d, ns, rec, sizeof(rec));
	if (!path) {
		unlink(rec);
		return;
	}
	snprintf(tmp, sizeof(tmp), "%s.tmp", rec);
	f = fopen(tmp, "we");
	if (!f)
		return;
	fprintf(f, "%s\n", path);
	if (fflush(f) || fsync(fileno(f)) || fclose(f) || rename(tmp, rec))
		unlink(tmp);
}

static void mnt_free(struct fsdax_mnt *m)
{
	struct mfd *d = m->d;

	epoll_ctl(d->epfd, EPOLL_CTL_DEL, fuse_session_fd(m->se), NULL);
	fuse_session_unmount(m->se);
	fuse_session_destroy(m->se);
	mfd_log(d, 6, "memfail: %s: unmounted %s", m->ns->name, m->path);
	list_del(&m->node);
	free(m->buf.mem);
	free(m->path);
	free(m);
}

void fsdax_detach(struct mfd *d, struct nd_namespace *ns, bool destroy)
{
	struct fsdax_mnt *m, *tmp;
	char path[PATH_MAX + 8];

	list_for_each_entry_safe(m, tmp, &d->fs_mounts, node)
		if (m->ns == ns)
			mnt_free(m);
	if (!sb_of(ns))
		return;
	fs_unmount(sb_of(ns));
	ns_to_dax(ns)->fs = NULL;
	if (!destroy)
		return;
	mnt_record(d, ns, NULL);
	db_path(d, ns, path, PATH_MAX);
	unlink(path);
	strcat(path, "-wal");
	unlink(path);
	db_path(d, ns, path, PATH_MAX);
	strcat(path, "-shm");
	unlink(path);
}

/* ---- the FUSE file system ---- */

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

static const struct fuse_lowlevel_ops fsdax_ops = {
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

/* ---- mounting ---- */

/*
 * The device number of a mount, from /proc/self/mountinfo: a stat() of
 * the mount point would wait for our own answer.
 */
static int mount_dev(const char *path, dev_t *dev)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char line[4096];
	int found = -ENOENT;

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		unsigned maj, min;
		char root[PATH_MAX], mp[PATH_MAX];

		if (sscanf(line, "%*u %*u %u:%u %4095s %4095s", &maj, &min, root, mp) != 4)
			continue;
		/* mountinfo escapes spaces as \040: our paths have none */
		if (!strcmp(mp, path)) {
			*dev = makedev(maj, min);
			found = 0;	/* the last one is on top */
		}
	}
	fclose(f);
	return found;
}

/* Does a live memfail file system (another daemon's) sit at path? */
static bool memfail_mounted_at(const char *path)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char line[4096];
	bool found = false;

	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		char mp[PATH_MAX], *sep = strstr(line, " - ");

		if (sscanf(line, "%*u %*u %*u:%*u %*s %4095s", mp) != 1 || !sep)
			continue;
		if (!strcmp(mp, path) && !strncmp(sep + 3, "fuse.memfail ", 13))
			found = true;
	}
	fclose(f);
	return found;
}

void fsdax_readable(struct fsdax_mnt *m)
{
	int i;

	/* a few requests, then the others get their turn */
	for (i = 0; i < 16; i++) {
		int res = fuse_session_receive_buf(m->se, &m->buf);

		if (res == -EAGAIN || res == -EINTR)
			return;
		if (res <= 0 || fuse_session_exited(m->se)) {
			/* unmounted from outside (umount, fusermount -u) */
			mnt_free(m);
			return;
		}
		fuse_session_process_buf(m->se, &m->buf);
	}
}

static bool mnt_under_ours(struct mfd *d, const char *path)
{
	struct fsdax_mnt *m;

	list_for_each_entry(m, &d->fs_mounts, node) {
		size_t n = strlen(m->path);

		if (!strncmp(path, m->path, n) && (path[n] == '\0' || path[n] == '/'))
			return true;
	}
	return false;
}

static int fs_do_mount(struct mfd *d, struct nd_namespace *ns, const char *path)
{
	char fsname[64], opts[160];
	char *argv[] = { "memfaild", "-o", opts, NULL };
	struct fuse_args args = FUSE_ARGS_INIT(3, argv);
	struct epoll_event ev = { .events = EPOLLIN };
	struct fsdax_mnt *m;
	struct stat st;
	int fd, err;

	if (!sb_of(ns))
		return -EINVAL;	/* not an fsdax namespace */
	if (path[0] != '/')
		return -EINVAL;
	/* at or under a directory we serve: a stat() would wait for us */
	if (mnt_under_ours(d, path))
		return -EBUSY;
	/* what a killed daemon left mounted there answers nothing: off with it */
	if (stat(path, &st) && errno == ENOTCONN && !umount2(path, MNT_DETACH))
		mfd_log(d, 6, "memfail: %s: detached a dead mount", path);
	if (stat(path, &st))
		return -errno;
	if (!S_ISDIR(st.st_mode))
		return -ENOTDIR;
	/* another daemon's that answers: not on top of it */
	if (memfail_mounted_at(path))
		return -EBUSY;
	snprintf(fsname, sizeof(fsname), "pmem0.%u", ns->id);
	/* the kernel checks permissions against the files' modes */
	snprintf(opts, sizeof(opts), "fsname=%s,subtype=memfail,default_permissions%s", fsname,
		 geteuid() == 0 ? ",allow_other" : "");
	m = calloc(1, sizeof(*m));
	if (!m || !(m->path = strdup(path))) {
		free(m);
		return -ENOMEM;
	}
	m->d = d;
	m->ns = ns;
	m->se = fuse_session_new(&args, &fsdax_ops, sizeof(fsdax_ops), m);
	/* it may have copied the arguments to parse them */
	fuse_opt_free_args(&args);
	if (!m->se) {
		err = -EIO;
		goto fail;
	}
	if (fuse_session_mount(m->se, path)) {
		err = -EPERM;
		goto fail_session;
	}
	fd = fuse_session_fd(m->se);
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	err = mount_dev(path, &m->dev);
	if (err)
		goto fail_mount;
	m->watch.type = W_FUSE;
	m->watch.ptr = m;
	ev.data.ptr = &m->watch;
	if (epoll_ctl(d->epfd, EPOLL_CTL_ADD, fd, &ev)) {
		err = -errno;
		goto fail_mount;
	}
	list_add_tail(&m->node, &d->fs_mounts);
	mnt_record(d, ns, path);
	mfd_log(d, 6, "memfail: %s: files at %s (dev %u:%u)", ns->name, path,
		major(m->dev), minor(m->dev));
	return 0;
fail_mount:
	fuse_session_unmount(m->se);
fail_session:
	fuse_session_destroy(m->se);
fail:
	free(m->path);
	free(m);
	return err;
}

int fsdax_mount_req(struct conn *c, const struct mf_fs_mount *m, bool mount)
{
	struct nd_namespace *ns = ns_by_wire_name(c->d, m->name);
	struct fsdax_mnt *x, *tmp;
	int found = -ENOENT;

	if (!ns)
		return -ENODEV;
	if (!memchr(m->path, '\0', sizeof(m->path)))
		return -EINVAL;
	if (!cred_is_admin_of(c->d, &c->cred, ns))
		return -EPERM;
	if (mount)
		return fs_do_mount(c->d, ns, m->path);
	list_for_each_entry_safe(x, tmp, &c->d->fs_mounts, node)
		if (x->ns == ns && (!m->path[0] || !strcmp(x->path, m->path))) {
			mnt_free(x);
			found = 0;
		}
	if (!found)
		mnt_record(c->d, ns, NULL);
	return found;
}

void fsdax_shutdown(struct mfd *d)
{
	struct fsdax_mnt *m, *tmp;

	list_for_each_entry_safe(m, tmp, &d->fs_mounts, node)
		mnt_free(m);
}

/* The mount that files with this st_dev are under. */
struct nd_namespace *fsdax_ns_of_dev(struct mfd *d, uint64_t dev)
{
	struct fsdax_mnt *m;

	list_for_each_entry(m, &d->fs_mounts, node)
		if ((uint64_t)m->dev == dev)
			return m->ns;
	return NULL;
}

/* At startup: show the files where they were shown before. */
void fsdax_restore_mounts(struct mfd *d)
{
	struct nd_namespace *ns;

	list_for_each_entry(ns, &d->region->namespaces, node) {
		char rec[PATH_MAX], path[PATH_MAX];
		FILE *f;
		int err;

		if (!sb_of(ns))
			continue;
		mnt_record_path(d, ns, rec, sizeof(rec));
		f = fopen(rec, "re");
		if (!f)
			continue;
		if (fgets(path, sizeof(path), f)) {
			path[strcspn(path, "\n")] = '\0';
			err = fs_do_mount(d, ns, path);
			if (err)
				mfd_log(d, 3, "memfail: %s: cannot show the files at %s again: %s",
					ns->name, path, strerror(-err));
		}
		fclose(f);
	}
}
