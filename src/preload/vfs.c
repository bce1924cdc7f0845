// SPDX-License-Identifier: MIT
/*
 * preload/vfs.c: the emulated kernel files behind the interposed file
 * calls: open (and fopen), the stat family, access, readlink, and the
 * reads and writes of what was opened.  See vfs.h for the model, and
 * vfs-files.c for the files.
 *
 * Nothing is emulated unless a memfaild can be reached (its status page
 * exists): without one, every path is the real one.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "../util/util.h"
#include "preload.h"
#include "vfs.h"

#define VFS_ARG	64
#define MEMFD_PREFIX	"memfail-vfs:"

/* an emulated file that is open, by descriptor */
struct vfd {
	const struct vfile *vf;
	char arg[VFS_ARG];
	bool writer;		/* opened for writing: its memfd collects stdio's writes */
	bool no_read;		/* a write-only attribute opened for reading */
	bool show_pfn;		/* pagemap: the reader may see pfns */
	uint64_t seq;		/* kmsg: the last record read */
	char path[128];		/* as the store sees it */
};

static pthread_mutex_t vfs_lock = PTHREAD_MUTEX_INITIALIZER;
static struct vfd **vfds;
static size_t nr_vfds;
static atomic_int any_vfd;

void vfs_lock_all(void)
{
	pthread_mutex_lock(&vfs_lock);
}

void vfs_unlock_all(void)
{
	pthread_mutex_unlock(&vfs_lock);
}

/* ---- which file a path is ---- */

static bool match_one(const char *pat, const char *path, char *arg)
{
	const char *pct = strstr(pat, "%s");
	size_t pre, suf, alen;
	const char *a, *end;

	if (!pct)
		return !strcmp(pat, path);
	pre = (size_t)(pct - pat);
	if (strncmp(pat, path, pre))
		return false;
	a = path + pre;
	end = strchr(a, '/');
	if (!end)
		end = a + strlen(a);
	alen = (size_t)(end - a);
	if (!alen || alen >= VFS_ARG)
		return false;
	suf = strlen(pct + 2);
	if (strcmp(end, pct + 2) || (suf && *end != '/'))
		return false;
	memcpy(arg, a, alen);
	arg[alen] = '\0';
	return true;
}

/*
 * The emulated file at path, if any: arg gets the pattern's device name,
 * or the path itself.  /proc/PID/ for our own pid is /proc/self/.
 */
static const struct vfile *vfs_match(int dirfd, const char *path, char *arg, char *norm,
				     size_t nlen)
{
	const struct vfile *vf;
	char buf[256];
	size_t len;

	if (!path || path[0] != '/' || !ram_status())
		return NULL;
	(void)dirfd;	/* absolute paths only: dirfd does not matter */
	if (strncmp(path, "/proc/", 6) && strncmp(path, "/sys/", 5) && strcmp(path, "/etc/mtab") &&
	    strcmp(path, "/dev/kmsg"))
		return NULL;
	len = strlcpy_mf(buf, path, sizeof(buf));
	if (len >= sizeof(buf))
		return NULL;
	while (len > 1 && buf[len - 1] == '/')
		buf[--len] = '\0';
	if (!strncmp(buf, "/proc/", 6)) {
		char *rest;
		unsigned long pid = strtoul(buf + 6, &rest, 10);

		if (rest != buf + 6 && (*rest == '/' || !*rest) && pid == (unsigned long)getpid()) {
			memmove(buf + 10, rest, strlen(rest) + 1);
			memcpy(buf + 6, "self", 4);
		} else if (!strncmp(buf, "/proc/thread-self/pagemap", 25) && !buf[25]) {
			strcpy(buf, "/proc/self/pagemap");
		}
	}
	for (vf = vfs_files; vf->path; vf++) {
		if (!match_one(vf->path, buf, arg))
			continue;
		if (!strstr(vf->path, "%s"))
			strlcpy_mf(arg, buf, VFS_ARG);
		if (vf->exists && !vf->exists(arg))
			return NULL;
		if (norm)
			strlcpy_mf(norm, buf, nlen);
		return vf;
	}
	return NULL;
}

/* ---- the descriptor table ---- */

static struct vfd *vfd_get_locked(int fd)
{
	return fd >= 0 && (size_t)fd < nr_vfds ? vfds[fd] : NULL;
}

static bool vfd_copy(int fd, struct vfd *out)
{
	struct vfd *v;
	sigset_t old;

	if (!atomic_load_explicit(&any_vfd, memory_order_relaxed) || fd < 0)
		return false;
	shim_block(&old);
	pthread_mutex_lock(&vfs_lock);
	v = vfd_get_locked(fd);
	if (v)
		*out = *v;
	pthread_mutex_unlock(&vfs_lock);
	shim_unblock(&old);
	return v != NULL;
}

static int vfd_set(int fd, const struct vfd *v)
{
	struct vfd *n = NULL;
	sigset_t old;
	int err = 0;

	if (v) {
		n = malloc(sizeof(*n));
		if (!n)
			return -ENOMEM;
		*n = *v;
	}
	shim_block(&old);
	pthread_mutex_lock(&vfs_lock);
	if ((size_t)fd >= nr_vfds && n) {
		size_t cap = nr_vfds ? nr_vfds : 64;
		struct vfd **g;

		while (cap <= (size_t)fd)
			cap *= 2;
		g = realloc(vfds, cap * sizeof(*g));
		if (!g) {
			err = -ENOMEM;
			goto out;
		}
		memset(g + nr_vfds, 0, (cap - nr_vfds) * sizeof(*g));
		vfds = g;
		nr_vfds = cap;
	}
	if ((size_t)fd < nr_vfds) {
		if (vfds[fd])
			atomic_fetch_sub(&any_vfd, 1);
		free(vfds[fd]);
		vfds[fd] = n;
		n = NULL;
		if (vfds[fd])
			atomic_fetch_add(&any_vfd, 1);
	}
out:
	pthread_mutex_unlock(&vfs_lock);
	shim_unblock(&old);
	free(n);
	return err;
}

/* ---- opening ---- */

static int content_fd(const char *name, const struct vbuf *b, bool cloexec)
{
	char nm[160];
	int fd;

	snprintf(nm, sizeof(nm), MEMFD_PREFIX "%s", name);
	fd = memfd_create(nm, cloexec ? MFD_CLOEXEC : 0);
	if (fd < 0)
		return -errno;
	if (b && b->len && real.write(fd, b->p, b->len) != (ssize_t)b->len) {
		real.close(fd);
		return -EIO;
	}
	real.lseek(fd, 0, SEEK_SET);
	return fd;
}

static int dac_check(const struct vfile *vf, int acc)
{
	bool r = acc != O_WRONLY, w = acc != O_RDONLY;

	if (shim_privileged(PRIV_FILES))
		return 0;
	/* owned by root: the other bits decide */
	if ((r && !(vf->mode & 04)) || (w && !(vf->mode & 02)))
		return -EACCES;
	return 0;
}

int vfs_open(int dirfd, const char *path, int flags)
{
	char norm[128];
	struct vfd v;
	struct vbuf b = { 0 };
	const struct vfile *vf;
	int acc = flags & O_ACCMODE, fd, err;

	memset(&v, 0, sizeof(v));
	vf = vfs_match(dirfd, path, v.arg, norm, sizeof(norm));
	if (!vf)
		return -2;
	if (vf->kind == VF_DIR)
		return -2;	/* not listable here: the real one, if any */
	if ((flags & O_DIRECTORY)) {
		errno = ENOTDIR;
		return -1;
	}
	err = dac_check(vf, acc);
	if (!err && acc != O_RDONLY && !vf->store && vf->kind != VF_KMSG)
		err = -EACCES;
	if (err) {
		errno = -err;
		return -1;
	}
	v.vf = vf;
	strlcpy_mf(v.path, norm, sizeof(v.path));
	switch (vf->kind) {
	case VF_PAGEMAP:
		fd = real.open("/proc/self/pagemap", flags);
		if (fd < 0)
			return -1;
		/* pagemap_open(): pfns for CAP_SYS_ADMIN only */
		v.show_pfn = shim_privileged(PRIV_SYS_ADMIN);
		break;
	case VF_KPAGEFLAGS:
		fd = content_fd(norm, NULL, flags & O_CLOEXEC);
		break;
	case VF_KMSG:
		/* dmesg_restrict: reading it is a privilege */
		if (acc != O_WRONLY && !shim_privileged(PRIV_FILES)) {
			errno = EPERM;
			return -1;
		}
		fd = content_fd(norm, NULL, flags & O_CLOEXEC);
		if (fd >= 0 && (flags & O_NONBLOCK))
			real.fcntl(fd, F_SETFL, O_NONBLOCK);
		v.writer = false;
		break;
	default:
		if (acc == O_WRONLY) {
			v.writer = true;
		} else if (vf->show) {
			err = vf->show(&b, v.arg);
			if (err || b.oom) {
				free(b.p);
				errno = err ? -err : ENOMEM;
				return -1;
			}
			v.writer = acc == O_RDWR;
		} else {
			v.no_read = true;
			v.writer = acc == O_RDWR;
		}
		fd = content_fd(norm, &b, flags & O_CLOEXEC);
		free(b.p);
		/* a program it execs writes what it inherits: tell it */
		if (fd >= 0 && v.writer && !(flags & O_CLOEXEC))
			setenv("MEMFAIL_VFS", "1", 1);
		break;
	}
	if (fd < 0) {
		errno = -fd;
		return -1;
	}
	err = vfd_set(fd, &v);
	if (err) {
		real.close(fd);
		errno = -err;
		return -1;
	}
	return fd;
}

/* ---- writing ---- */

/* What stdio (or a program after exec) wrote into the memfd, taken as
 * one write; the memfd is emptied.  0 or -errno. */
static int apply_pending(int fd, const struct vfd *v)
{
	struct stat st;
	char *buf, *p;
	ssize_t n;
	int err = 0;

	/* the memfd's own size: fstat() of it is the emulated file's */
	if (!v->writer || syscall(SYS_fstat, fd, &st) || st.st_size <= 0)
		return 0;
	if (st.st_size > 65536)
		st.st_size = 65536;	/* the kernel takes a page at most */
	buf = malloc((size_t)st.st_size);
	if (!buf)
		return -ENOMEM;
	n = real.pread(fd, buf, (size_t)st.st_size, 0);
	if (n > 0) {
		/* writes past what was emptied leave a hole of zeros */
		for (p = buf; p < buf + n && !*p; p++)
			;
		if (p < buf + n)
			err = v->vf->store(p, (size_t)(buf + n - p), v->arg);
	}
	free(buf);
	if (real.ftruncate(fd, 0) && !err)
		err = -errno;
	return err;
}

/* One line for the emulated kernel's log. */
static int kmsg_write(const void *buf, size_t n)
{
	struct mf_kmsg_write m;
	struct mf_reply r;

	if (n > sizeof(m.text))
		return -EINVAL;
	if (shim_activate())
		return -EIO;
	memset(&m, 0, sizeof(m));
	m.hdr.type = MF_KMSG_WRITE;
	m.len = (uint32_t)n;
	memcpy(m.text, buf, n);
	if (shim_call(&m, sizeof(m), &r, sizeof(r), NULL) < (ssize_t)sizeof(r))
		return -EIO;
	return r.error;
}

/* write()/pwrite() of an emulated file: -2 if fd is not one */
ssize_t vfs_write(int fd, const void *buf, size_t n)
{
	struct vfd v;
	int err;

	if (!vfd_copy(fd, &v))
		return -2;
	if (v.vf->kind == VF_KMSG) {
		err = kmsg_write(buf, n);
		if (err) {
			errno = -err;
			return -1;
		}
		return (ssize_t)n;
	}
	if (!v.vf->store) {
		errno = EBADF;
		return -1;
	}
	err = apply_pending(fd, &v);
	if (!err)
		err = v.vf->store(buf, n, v.arg);
	if (err) {
		errno = -err;
		return -1;
	}
	return (ssize_t)n;
}

/* close() and dup2() over it: what stdio left goes in first */
int vfs_close(int fd)
{
	struct vfd v;
	int err;

	if (!vfd_copy(fd, &v))
		return 0;
	err = apply_pending(fd, &v);
	vfd_set(fd, NULL);
	return err;
}

void vfs_dup(int oldfd, int newfd)
{
	struct vfd v;

	if (!atomic_load_explicit(&any_vfd, memory_order_relaxed))
		return;
	if (vfd_copy(oldfd, &v))
		vfd_set(newfd, &v);
	else
		vfd_set(newfd, NULL);
}

/* fflush() of an emulated file's stream: its store's error */
int vfs_flush(int fd)
{
	struct vfd v;

	if (!vfd_copy(fd, &v))
		return 0;
	return apply_pending(fd, &v);
}

/* ---- reading ---- */

/*
 * The reply is the caller's own: shim_call() serialises the call only,
 * and other threads may be reading too.
 */
static ssize_t read_kpageflags(int fd, void *buf, size_t n, off_t off)
{
	const size_t rmax = sizeof(struct mf_ram_kpageflags_reply) + MF_KPAGEFLAGS_MAX * sizeof(uint64_t);
	struct mf_ram_kpageflags_reply *r;
	uint64_t *out = buf;
	size_t done = 0, want = n / 8;
	ssize_t ret;

	(void)fd;
	/* kpageflags_read(): whole entries only */
	if (off % 8 || n % 8)
		return -EINVAL;
	if (shim_activate())
		return -EIO;
	r = malloc(rmax);
	if (!r)
		return -ENOMEM;
	while (done < want) {
		struct mf_ram_kpageflags m;
		ssize_t len;

		memset(&m, 0, sizeof(m));
		m.hdr.type = MF_RAM_KPAGEFLAGS;
		m.first = (uint64_t)off / 8 + done;
		m.count = (uint32_t)(want - done < MF_KPAGEFLAGS_MAX ? want - done : MF_KPAGEFLAGS_MAX);
		len = shim_call(&m, sizeof(m), r, rmax, NULL);
		if (len < (ssize_t)sizeof(*r) || r->r.error || r->count != m.count ||
		    (size_t)len != sizeof(*r) + r->count * sizeof(r->flags[0]))
			break;
		memcpy(out + done, r->flags, r->count * 8);
		done += r->count;
	}
	ret = done ? (ssize_t)(done * 8) : want ? -EIO : 0;
	free(r);
	return ret;
}

static void vfd_set_seq(int fd, uint64_t seq)
{
	sigset_t old;
	struct vfd *v;

	shim_block(&old);
	pthread_mutex_lock(&vfs_lock);
	v = vfd_get_locked(fd);
	if (v)
		v->seq = seq;
	pthread_mutex_unlock(&vfs_lock);
	shim_unblock(&old);
}

/*
 * devkmsg_read(): one record per read, "prio,seq,usec,-;text\n"; EPIPE
 * once when records were lost since the last read; at the end, EAGAIN
 * with O_NONBLOCK, else a wait for the next line.
 */
static ssize_t kmsg_read(int fd, const struct vfd *v, void *buf, size_t n)
{
	struct {
		struct mf_kmsg_reply r;
		struct mf_kmsg_rec rec;
	} rep;
	struct mf_kmsg_read m;
	char line[MF_KMSG_TEXT + 64];
	int len;

	if (shim_activate())
		return -EIO;
	for (;;) {
		memset(&m, 0, sizeof(m));
		m.hdr.type = MF_KMSG_READ;
		m.after_seq = v->seq;
		m.max = 1;
		if (shim_call(&m, sizeof(m), &rep, sizeof(rep), NULL) < (ssize_t)sizeof(rep.r) ||
		    rep.r.r.error)
			return -EIO;
		if (v->seq && v->seq + 1 < rep.r.first_seq) {
			vfd_set_seq(fd, rep.r.first_seq - 1);
			return -EPIPE;
		}
		if (rep.r.count)
			break;
		if (real.fcntl(fd, F_GETFL) & O_NONBLOCK)
			return -EAGAIN;
		usleep(50000);	/* the kernel would sleep until the next line */
	}
	len = snprintf(line, sizeof(line), "%u,%llu,%llu,-;%s\n", rep.rec.prio,
		       (unsigned long long)rep.rec.seq, (unsigned long long)rep.rec.ts_usec,
		       rep.rec.text);
	if ((size_t)len > n)
		return -EINVAL;	/* a record does not fit the buffer */
	memcpy(buf, line, (size_t)len);
	vfd_set_seq(fd, rep.rec.seq);
	return len;
}

/* lseek() of /dev/kmsg: SEEK_SET 0 and SEEK_DATA to the oldest record,
 * SEEK_END past the newest; -2 if fd is not an emulated kmsg */
off_t vfs_lseek(int fd, off_t off, int whence)
{
	struct mf_kmsg_reply r;
	struct mf_kmsg_read m;
	struct vfd v;

	if (!vfd_copy(fd, &v) || v.vf->kind != VF_KMSG)
		return -2;
	if (off || (whence != SEEK_SET && whence != SEEK_DATA && whence != SEEK_END)) {
		errno = off ? ESPIPE : EINVAL;
		return -1;
	}
	memset(&m, 0, sizeof(m));
	m.hdr.type = MF_KMSG_READ;
	m.after_seq = UINT64_MAX - 1;
	if (shim_activate() || shim_call(&m, sizeof(m), &r, sizeof(r), NULL) < (ssize_t)sizeof(r) ||
	    r.r.error) {
		errno = EIO;
		return -1;
	}
	vfd_set_seq(fd, whence == SEEK_END ? r.next_seq - 1 : r.first_seq - 1);
	return 0;
}

/*
 * read() (off < 0: at the file position) or pread() of an emulated file;
 * -2 if fd is not one.
 */
ssize_t vfs_read(int fd, void *buf, size_t n, off_t off)
{
	bool at_pos = off < 0;
	struct vfd v;
	ssize_t ret;

	if (!vfd_copy(fd, &v))
		return -2;
	if (v.no_read) {
		errno = EACCES;	/* simple_attr_read() without a get */
		return -1;
	}
	if (v.vf->kind == VF_TEXT)
		return at_pos ? real.read(fd, buf, n) : real.pread(fd, buf, n, off);
	if (v.vf->kind == VF_KMSG) {
		if (!at_pos) {
			errno = ESPIPE;
			return -1;
		}
		ret = kmsg_read(fd, &v, buf, n);
		if (ret < 0) {
			errno = (int)-ret;
			return -1;
		}
		return ret;
	}
	if (at_pos)
		off = real.lseek(fd, 0, SEEK_CUR);
	if (off < 0)
		return -1;
	if (v.vf->kind == VF_KPAGEFLAGS) {
		ret = read_kpageflags(fd, buf, n, off);
		if (ret < 0) {
			errno = (int)-ret;
			return -1;
		}
	} else {
		ret = real.pread(fd, buf, n, off);
		if (ret <= 0)
			return ret;
		if (off % 8 == 0 && ret % 8 == 0)
			pagemap_overlay((uint64_t)off / 8, buf, (size_t)ret / 8, v.show_pfn);
	}
	if (at_pos)
		real.lseek(fd, off + ret, SEEK_SET);
	return ret;
}

/* ---- stat, access, readlink ---- */

static dev_t fs_dev(const char *path)
{
	static dev_t proc_dev, sys_dev;
	struct stat st;
	dev_t *d = !strncmp(path, "/sys/", 5) ? &sys_dev : &proc_dev;

	if (!*d && !syscall(SYS_newfstatat, AT_FDCWD, d == &sys_dev ? "/sys" : "/proc", &st, 0))
		*d = st.st_dev;
	return *d;
}

static void fill_stat(const struct vfile *vf, const char *path, struct stat *st)
{
	struct timespec now;
	uint64_t h = 1469598103934665603ULL;
	const char *p;

	for (p = path; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	clock_gettime(CLOCK_REALTIME, &now);
	memset(st, 0, sizeof(*st));
	st->st_dev = fs_dev(path);
	st->st_ino = (ino_t)(h | 1);
	st->st_mode = vf->mode;
	st->st_nlink = S_ISDIR(vf->mode) ? 2 : 1;
	st->st_blksize = 4096;
	/* sysfs attributes say a page; proc files nothing */
	st->st_size = S_ISREG(vf->mode) && !strncmp(path, "/sys/", 5) ? 4096 : 0;
	st->st_atim = st->st_mtim = st->st_ctim = now;
}

/* stat() of an emulated path: 0, -1 and errno, or -2 (not ours). */
int vfs_stat(int dirfd, const char *path, struct stat *st)
{
	char arg[VFS_ARG], norm[128];
	const struct vfile *vf = vfs_match(dirfd, path, arg, norm, sizeof(norm));

	if (!vf || vf->kind == VF_KMSG)
		return -2;	/* /dev/kmsg is the real device node */
	fill_stat(vf, norm, st);
	return 0;
}

int vfs_fstat(int fd, struct stat *st)
{
	struct vfd v;

	if (!vfd_copy(fd, &v))
		return -2;
	fill_stat(v.vf, v.path, st);
	return 0;
}

int vfs_access(int dirfd, const char *path, int mode)
{
	char arg[VFS_ARG];
	const struct vfile *vf = vfs_match(dirfd, path, arg, NULL, 0);
	bool priv;

	if (!vf)
		return -2;
	if (mode == F_OK)
		return 0;
	priv = shim_privileged(PRIV_FILES);
	if (((mode & R_OK) && !priv && !(vf->mode & 04)) ||
	    ((mode & W_OK) && !priv && !(vf->mode & 02)) ||
	    ((mode & X_OK) && !(vf->mode & 0111))) {
		errno = EACCES;
		return -1;
	}
	return 0;
}

bool vfs_is_emulated(int dirfd, const char *path)
{
	char arg[VFS_ARG];

	return vfs_match(dirfd, path, arg, NULL, 0) != NULL;
}

/* ---- exec and exit ---- */

/* Is fd a memfd of an emulated file a program before exec() opened for
 * writing?  Take it back. */
static void inherit_fd(int fd)
{
	char link[64], target[256], path[160], *del;
	const char *prefix = "/memfd:" MEMFD_PREFIX;
	struct vfd v;
	ssize_t n;

	/* only a memfd has seals: everything else fails at once */
	if (syscall(SYS_fcntl, fd, F_GET_SEALS) < 0)
		return;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = syscall(SYS_readlinkat, AT_FDCWD, link, target, sizeof(target) - 1);
	if (n <= 0)
		return;
	target[n] = '\0';
	if (strncmp(target, prefix, strlen(prefix)))
		return;
	strlcpy_mf(path, target + strlen(prefix), sizeof(path));
	del = strstr(path, " (deleted)");
	if (del)
		*del = '\0';
	memset(&v, 0, sizeof(v));
	v.vf = vfs_match(AT_FDCWD, path, v.arg, v.path, sizeof(v.path));
	if (!v.vf || !v.vf->store || (syscall(SYS_fcntl, fd, F_GETFL) & O_ACCMODE) == O_RDONLY)
		return;
	v.writer = true;
	vfd_set(fd, &v);
}

/*
 * A program exec()ed with an emulated file open for writing (a shell's
 * "/bin/echo 1 > /proc/sys/vm/..."): it writes into the memfd, not
 * knowing; what it wrote is taken when it closes or ends.  Redirections
 * are on the low descriptors; MEMFAIL_VFS (set where the environment is
 * libc's) asks for a look at all of them.
 */
void vfs_inherit(void)
{
	struct dirent *de;
	DIR *d;
	int fd;

	if (!getenv("MEMFAIL_VFS")) {
		for (fd = 0; fd < 10; fd++)
			inherit_fd(fd);
		return;
	}
	d = opendir("/proc/self/fd");
	if (!d)
		return;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.' && atoi(de->d_name) != dirfd(d))
			inherit_fd(atoi(de->d_name));
	closedir(d);
}

/* The program ends: what its stdio holds for emulated files goes in. */
void vfs_at_exit(void)
{
	size_t fd;

	if (!atomic_load(&any_vfd))
		return;
	fflush(NULL);
	for (fd = 0; fd < nr_vfds; fd++)
		if (vfds[fd] && vfds[fd]->writer)
			apply_pending((int)fd, vfds[fd]);
}
