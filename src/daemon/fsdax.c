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
 * This file: attaching a namespace's file system, unmapping what truncate
 * takes, and mounting; the requests themselves are in fsdax-fuse.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "../fs/fs.h"
#include "fsdax.h"

static void fsdax_restore_mount(struct mfd *d, struct nd_namespace *ns);

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
	if (err == -EHWPOISON) {
		/* shut down by a metadata failure, and not repaired since */
		snprintf(ns_to_dax(ns)->fs_error, sizeof(ns_to_dax(ns)->fs_error),
			 "metadata poisoned: clear-errors of pages 0-%u repairs it",
			 FS_META_PAGES - 1);
		mfd_log(d, 3, "memfail-fs (%s): cannot mount: a page of the metadata area is poisoned;"
			" its files stay unreachable until memfail clear-errors repairs it", ns->name);
		return 0;
	}
	if (err)
		return err;
	ns_to_dax(ns)->fs = sb;
	ns_to_dax(ns)->fs_error[0] = '\0';
	return 0;
}

/*
 * After a clear of media errors: a file system that could not be mounted
 * for poisoned metadata is mounted now if the media is good, its
 * superblock rewritten from the database (memfail's xfs_repair), and its
 * files shown where they were.  One shut down while mounted stays down
 * until the daemon mounts it again (a restart), as XFS needs an unmount.
 */
void fsdax_repair(struct mfd *d, struct nd_namespace *ns)
{
	int err;

	if (ns->mode != ND_MODE_FSDAX || sb_of(ns) || !ns_to_dax(ns)->fs_error[0])
		return;
	err = fsdax_attach(d, ns);
	if (err)
		mfd_log(d, 3, "memfail-fs (%s): cannot mount: %s", ns->name, strerror(-err));
	if (!sb_of(ns))
		return;
	mfd_log(d, 5, "memfail-fs (%s): metadata repaired: superblock rewritten from the database",
		ns->name);
	fsdax_restore_mount(d, ns);
}

void fsdax_meta_bad(struct mfd *d, struct nd_namespace *ns, uint64_t sector, uint64_t count)
{
	struct fs_sb *sb = sb_of(ns);
	uint64_t p, first = sector / MF_SECTORS_PER_PAGE;
	uint64_t end = (sector + count + MF_SECTORS_PER_PAGE - 1) / MF_SECTORS_PER_PAGE;

	if (!sb)
		return;
	for (p = first; p < end && fs_is_meta(sb, p); p++)
		if (nd_page_bad(ns, p) && !nd_page_hwpoison(ns, p))
			memory_failure(&d->mf, nd_pfn_base(ns) + p, 0, NULL, NULL);
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
	if (sb_of(ns)) {
		fs_unmount(sb_of(ns));
		ns_to_dax(ns)->fs = NULL;
	}
	/* one left unmounted by poisoned metadata has its database too */
	if (!destroy || ns->mode != ND_MODE_FSDAX)
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

	/* what poisoned metadata keeps unmounted: XFS's mount says EUCLEAN */
	if (!sb_of(ns) && ns->mode == ND_MODE_FSDAX && ns_to_dax(ns) && ns_to_dax(ns)->fs_error[0])
		return -EUCLEAN;
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
	m->se = fuse_session_new(&args, &fsdax_fuse_ops, sizeof(fsdax_fuse_ops), m);
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

/* Show the files of ns where they were shown before. */
static void fsdax_restore_mount(struct mfd *d, struct nd_namespace *ns)
{
	char rec[PATH_MAX], path[PATH_MAX];
	FILE *f;
	int err;

	if (!sb_of(ns))
		return;
	mnt_record_path(d, ns, rec, sizeof(rec));
	f = fopen(rec, "re");
	if (!f)
		return;
	if (fgets(path, sizeof(path), f)) {
		path[strcspn(path, "\n")] = '\0';
		err = fs_do_mount(d, ns, path);
		if (err)
			mfd_log(d, 3, "memfail: %s: cannot show the files at %s again: %s",
				ns->name, path, strerror(-err));
	}
	fclose(f);
}

/* At startup: show the files where they were shown before. */
void fsdax_restore_mounts(struct mfd *d)
{
	struct nd_namespace *ns;

	list_for_each_entry(ns, &d->region->namespaces, node)
		fsdax_restore_mount(d, ns);
}
