// SPDX-License-Identifier: MIT
/*
 * preload/files.c: /dev/daxX.Y descriptors.
 *
 * open("/dev/daxX.Y") of one of memfail's namespaces asks the daemon,
 * which checks the caller against the namespace's owner and mode and
 * hands back a descriptor of the namespace's data.  The shim remembers
 * which descriptors are dax devices (through dup() and friends too) and
 * gives them the device's file semantics: no read() or write() (EINVAL),
 * no fallocate() (ENODEV), only mmap().  A /dev/daxX.Y memfail does not
 * have is opened for real, so real devices keep working.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <unistd.h>

#include "../util/util.h"
#include "preload.h"

struct dax_fd {
	bool used;
	bool readable;
	bool writable;
	struct dax_ns ns;
};

static pthread_mutex_t fd_lock = PTHREAD_MUTEX_INITIALIZER;
static struct dax_fd *fds;
static size_t nr_fds;
/*
 * read() and write() of every descriptor come through here: the common
 * answer, "not a dax fd", takes one relaxed load and no lock.
 */
#define FD_FAST	65536
static atomic_uchar is_dax_fd[FD_FAST];
static atomic_int any_dax_fd;

void files_lock(void)
{
	pthread_mutex_lock(&fd_lock);
}

void files_unlock(void)
{
	pthread_mutex_unlock(&fd_lock);
}

static void fd_set_entry(int fd, const struct dax_fd *e)
{
	sigset_t old;

	if (fd < 0)
		return;
	/*
	 * close() and dup() of ordinary descriptors, the common case: the fd
	 * is ours (being closed, or just made), so no other thread can make
	 * it a dax fd meanwhile; if it is not one now, there is nothing to do.
	 */
	if (!(e && e->used) && (!atomic_load_explicit(&any_dax_fd, memory_order_relaxed) ||
				(fd < FD_FAST &&
				 !atomic_load_explicit(&is_dax_fd[fd], memory_order_relaxed))))
		return;
	shim_block(&old);
	pthread_mutex_lock(&fd_lock);
	if ((size_t)fd >= nr_fds && e && e->used) {
		size_t n = nr_fds ? nr_fds : 64;
		struct dax_fd *nf;

		while (n <= (size_t)fd)
			n *= 2;
		nf = realloc(fds, n * sizeof(*nf));
		if (nf) {
			memset(nf + nr_fds, 0, (n - nr_fds) * sizeof(*nf));
			fds = nf;
			nr_fds = n;
		}
	}
	if ((size_t)fd < nr_fds) {
		if (e && e->used) {
			fds[fd] = *e;
			atomic_store(&any_dax_fd, 1);
		} else {
			memset(&fds[fd], 0, sizeof(fds[fd]));
		}
		if (fd < FD_FAST)
			atomic_store(&is_dax_fd[fd], e && e->used);
	}
	pthread_mutex_unlock(&fd_lock);
	shim_unblock(&old);
}

static bool fd_get_entry(int fd, struct dax_fd *out)
{
	bool found = false;
	sigset_t old;

	if (fd < 0 || !atomic_load_explicit(&any_dax_fd, memory_order_relaxed))
		return false;
	if (fd < FD_FAST && !atomic_load_explicit(&is_dax_fd[fd], memory_order_relaxed))
		return false;
	shim_block(&old);
	pthread_mutex_lock(&fd_lock);
	if ((size_t)fd < nr_fds && fds[fd].used) {
		*out = fds[fd];
		found = true;
	}
	pthread_mutex_unlock(&fd_lock);
	shim_unblock(&old);
	return found;
}

bool dax_fd_get(int fd, struct dax_ns *ns, bool *readable, bool *writable)
{
	struct dax_fd e;

	if (!fd_get_entry(fd, &e))
		return false;
	if (ns)
		*ns = e.ns;
	if (readable)
		*readable = e.readable;
	if (writable)
		*writable = e.writable;
	return true;
}

/* "/dev/dax3.7" -> "dax3.7"; NULL if the path is not a dax device. */
static const char *dax_name(const char *path)
{
	unsigned a, b;
	int n = 0;

	if (!path || strncmp(path, "/dev/dax", 8))
		return NULL;
	if (sscanf(path + 8, "%u.%u%n", &a, &b, &n) != 2 || path[8 + n] != '\0')
		return NULL;
	return path + 5;
}

/*
 * Returns the new fd, -1 with errno set, or -2: not one of memfail's,
 * open it for real.
 */
static int dax_open(const char *path, int flags)
{
	const char *name = dax_name(path);
	struct mf_ns_reply r;
	struct mf_ns_open m;
	struct dax_fd e;
	ssize_t n;
	int fd;

	/* pthread_setname_np() writes /proc/self/task/TID/comm */
	if (!name) {
		size_t len = path ? strlen(path) : 0;

		if (len > 5 && !strcmp(path + len - 5, "/comm") && (flags & O_ACCMODE) != O_RDONLY)
			threads_changed();
		return -2;
	}
	if (shim_activate())
		return -2;
	memset(&m, 0, sizeof(m));
	m.hdr.type = MF_NS_OPEN;
	strlcpy_mf(m.name, name, sizeof(m.name));
	m.access = (flags & O_ACCMODE) == O_RDONLY ? MF_ACCESS_READ :
		   (flags & O_ACCMODE) == O_WRONLY ? MF_ACCESS_WRITE :
		   MF_ACCESS_READ | MF_ACCESS_WRITE;
	n = shim_call(&m, sizeof(m), &r, sizeof(r), &fd);
	if (n < 0)
		return -2;	/* the daemon is gone: behave as without it */
	if (r.r.error == -ENOENT)
		return -2;
	if (r.r.error) {
		errno = -r.r.error;
		return -1;
	}
	if ((size_t)n != sizeof(r) || fd < 0) {
		if (fd >= 0)
			real.close(fd);
		errno = EIO;
		return -1;
	}
	if (!(flags & O_CLOEXEC))
		real.fcntl(fd, F_SETFD, 0);
	memset(&e, 0, sizeof(e));
	e.used = true;
	e.readable = (flags & O_ACCMODE) != O_WRONLY;
	e.writable = (m.access & MF_ACCESS_WRITE) != 0;
	e.ns.id = r.ns.id;
	e.ns.gen = r.ns.gen;
	e.ns.size = r.ns.size;
	e.ns.align = r.ns.align;
	e.ns.phys_base = r.ns.phys_base;
	strlcpy_mf(e.ns.name, r.ns.chardev, sizeof(e.ns.name));
	fd_set_entry(fd, &e);
	return fd;
}

#define OPEN_BODY(call_real)					\
	mode_t mode = 0;					\
	int fd;							\
	if (flags & (O_CREAT | __O_TMPFILE)) {			\
		va_list ap;					\
		va_start(ap, flags);				\
		mode = va_arg(ap, mode_t);			\
		va_end(ap);					\
	}							\
	EARLY(call_real);					\
	fd = vfs_open(OPEN_DIRFD, path, flags);			\
	if (fd != -2)						\
		return fd;					\
	fd = dax_open(path, flags);				\
	if (fd != -2)						\
		return fd;					\
	fd = call_real;						\
	if (fd >= 0)						\
		ram_fd_opened(fd);				\
	return fd

#define OPEN_DIRFD AT_FDCWD
PRELOAD_ENTRY int open(const char *path, int flags, ...)
{
	OPEN_BODY(real.open(path, flags, mode));
}

PRELOAD_ENTRY int open64(const char *path, int flags, ...)
{
	OPEN_BODY(real.open(path, flags | O_LARGEFILE, mode));
}
#undef OPEN_DIRFD

#define OPEN_DIRFD dirfd
PRELOAD_ENTRY int openat(int dirfd, const char *path, int flags, ...)
{
	OPEN_BODY(real.openat(dirfd, path, flags, mode));
}

PRELOAD_ENTRY int openat64(int dirfd, const char *path, int flags, ...)
{
	OPEN_BODY(real.openat(dirfd, path, flags | O_LARGEFILE, mode));
}
#undef OPEN_DIRFD

/* _FORTIFY_SOURCE entry points */
PRELOAD_ENTRY int __open_2(const char *path, int flags)
{
	return open(path, flags);
}

PRELOAD_ENTRY int __open64_2(const char *path, int flags)
{
	return open64(path, flags);
}

PRELOAD_ENTRY int __openat_2(int dirfd, const char *path, int flags)
{
	return openat(dirfd, path, flags);
}

PRELOAD_ENTRY int __openat64_2(int dirfd, const char *path, int flags)
{
	return openat64(dirfd, path, flags);
}

PRELOAD_ENTRY int close(int fd)
{
	EARLY(real.close(fd));
	/* the shim's own connections outlive a program closing "all" fds */
	if (shim_fd_internal(fd))
		return 0;
	fd_set_entry(fd, NULL);
	ram_fd_dup(-1, fd);
	{
		/* what stdio wrote into an emulated file goes in first */
		int err = vfs_close(fd), ret = real.close(fd);

		if (!ret && err) {
			errno = -err;
			return -1;
		}
		return ret;
	}
}

static int dup_entry(int oldfd, int newfd)
{
	struct dax_fd e;

	if (newfd < 0)
		return newfd;
	ram_fd_dup(oldfd, newfd);
	vfs_dup(oldfd, newfd);
	if (fd_get_entry(oldfd, &e))
		fd_set_entry(newfd, &e);
	else
		fd_set_entry(newfd, NULL);
	return newfd;
}

PRELOAD_ENTRY int dup(int fd)
{
	EARLY(real.dup(fd));
	return dup_entry(fd, real.dup(fd));
}

PRELOAD_ENTRY int dup2(int oldfd, int newfd)
{
	EARLY(real.dup2(oldfd, newfd));
	if (oldfd != newfd && shim_fd_internal(newfd) && shim_fd_relocate(newfd)) {
		errno = EBUSY;
		return -1;
	}
	if (oldfd != newfd)
		vfs_close(newfd);
	return dup_entry(oldfd, real.dup2(oldfd, newfd));
}

PRELOAD_ENTRY int dup3(int oldfd, int newfd, int flags)
{
	EARLY(real.dup3(oldfd, newfd, flags));
	if (oldfd != newfd && shim_fd_internal(newfd) && shim_fd_relocate(newfd)) {
		errno = EBUSY;
		return -1;
	}
	if (oldfd != newfd)
		vfs_close(newfd);
	return dup_entry(oldfd, real.dup3(oldfd, newfd, flags));
}

PRELOAD_ENTRY int fcntl(int fd, int cmd, ...)
{
	va_list ap;
	void *arg;
	int ret;

	va_start(ap, cmd);
	arg = va_arg(ap, void *);
	va_end(ap);
	EARLY(real.fcntl(fd, cmd, arg));
	ret = real.fcntl(fd, cmd, arg);
	if ((cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC) && ret >= 0)
		dup_entry(fd, ret);
	return ret;
}

PRELOAD_ENTRY int fcntl64(int fd, int cmd, ...)
{
	va_list ap;
	void *arg;

	va_start(ap, cmd);
	arg = va_arg(ap, void *);
	va_end(ap);
	return fcntl(fd, cmd, arg);
}

/* Device-dax has no read or write file operations. */
#define NO_RW(fd, call) do {					\
	EARLY(call);						\
	if (dax_fd_get(fd, NULL, NULL, NULL)) {			\
		errno = EINVAL;					\
		return -1;					\
	}							\
} while (0)

/*
 * I/O of a file with a poisoned page in it stops short of the page, and
 * fails on it (ramfiles.c).  Costs one load while no file has one, and
 * about as little for a descriptor the list has nothing of.
 */
#define CLIP(fd, off, flags, n) do {				\
	if (__builtin_expect(ram_file_gen() != 0, 0) &&		\
	    ram_io_clip(fd, off, flags, &(n))) {		\
		errno = EIO;					\
		return -1;					\
	}							\
} while (0)

/* an emulated kernel file's own read and write (vfs.c) */
#define VFS_IO(call) do {					\
	ssize_t r_ = (call);					\
	if (r_ != -2)						\
		return r_;					\
} while (0)

PRELOAD_ENTRY ssize_t read(int fd, void *buf, size_t n)
{
	NO_RW(fd, real.read(fd, buf, n));
	VFS_IO(vfs_read(fd, buf, n, -1));
	CLIP(fd, 0, RAM_IO_POS, n);
	return real.read(fd, buf, n);
}

PRELOAD_ENTRY ssize_t write(int fd, const void *buf, size_t n)
{
	NO_RW(fd, real.write(fd, buf, n));
	VFS_IO(vfs_write(fd, buf, n));
	CLIP(fd, 0, RAM_IO_POS | RAM_IO_WRITE, n);
	return real.write(fd, buf, n);
}

PRELOAD_ENTRY ssize_t pread(int fd, void *buf, size_t n, off_t off)
{
	NO_RW(fd, real.pread(fd, buf, n, off));
	if (off >= 0)
		VFS_IO(vfs_read(fd, buf, n, off));
	CLIP(fd, off, 0, n);
	return real.pread(fd, buf, n, off);
}

PRELOAD_ENTRY ssize_t pread64(int fd, void *buf, size_t n, off_t off)
{
	return pread(fd, buf, n, off);
}

PRELOAD_ENTRY ssize_t pwrite(int fd, const void *buf, size_t n, off_t off)
{
	NO_RW(fd, real.pwrite(fd, buf, n, off));
	VFS_IO(vfs_write(fd, buf, n));
	CLIP(fd, off, RAM_IO_WRITE, n);
	return real.pwrite(fd, buf, n, off);
}

PRELOAD_ENTRY ssize_t pwrite64(int fd, const void *buf, size_t n, off_t off)
{
	return pwrite(fd, buf, n, off);
}

/*
 * The vector and in-kernel copies: device-dax has no read_iter or
 * write_iter either, and the descriptor behind a device is the
 * namespace's data file, which must not be read around the bad sectors.
 */
PRELOAD_ENTRY ssize_t readv(int fd, const struct iovec *iov, int n)
{
	NO_RW(fd, real.readv(fd, iov, n));
	return real.readv(fd, iov, n);
}

PRELOAD_ENTRY ssize_t writev(int fd, const struct iovec *iov, int n)
{
	NO_RW(fd, real.writev(fd, iov, n));
	return real.writev(fd, iov, n);
}

PRELOAD_ENTRY ssize_t preadv2(int fd, const struct iovec *iov, int n, off_t off, int flags)
{
	NO_RW(fd, real.preadv2(fd, iov, n, off, flags));
	return real.preadv2(fd, iov, n, off, flags);
}

PRELOAD_ENTRY ssize_t pwritev2(int fd, const struct iovec *iov, int n, off_t off, int flags)
{
	NO_RW(fd, real.pwritev2(fd, iov, n, off, flags));
	return real.pwritev2(fd, iov, n, off, flags);
}

PRELOAD_ENTRY ssize_t preadv(int fd, const struct iovec *iov, int n, off_t off)
{
	return preadv2(fd, iov, n, off, 0);
}

PRELOAD_ENTRY ssize_t pwritev(int fd, const struct iovec *iov, int n, off_t off)
{
	return pwritev2(fd, iov, n, off, 0);
}

PRELOAD_ENTRY ssize_t preadv64(int fd, const struct iovec *iov, int n, off_t off)
{
	return preadv2(fd, iov, n, off, 0);
}

PRELOAD_ENTRY ssize_t pwritev64(int fd, const struct iovec *iov, int n, off_t off)
{
	return pwritev2(fd, iov, n, off, 0);
}

PRELOAD_ENTRY ssize_t preadv64v2(int fd, const struct iovec *iov, int n, off_t off, int flags)
{
	return preadv2(fd, iov, n, off, flags);
}

PRELOAD_ENTRY ssize_t pwritev64v2(int fd, const struct iovec *iov, int n, off_t off, int flags)
{
	return pwritev2(fd, iov, n, off, flags);
}

PRELOAD_ENTRY ssize_t sendfile(int out, int in, off_t *off, size_t n)
{
	NO_RW(in, real.sendfile(out, in, off, n));
	NO_RW(out, real.sendfile(out, in, off, n));
	return real.sendfile(out, in, off, n);
}

PRELOAD_ENTRY ssize_t sendfile64(int out, int in, off_t *off, size_t n)
{
	return sendfile(out, in, off, n);
}

PRELOAD_ENTRY ssize_t splice(int in, off_t *inoff, int out, off_t *outoff, size_t n,
			     unsigned flags)
{
	NO_RW(in, real.splice(in, inoff, out, outoff, n, flags));
	NO_RW(out, real.splice(in, inoff, out, outoff, n, flags));
	return real.splice(in, inoff, out, outoff, n, flags);
}

PRELOAD_ENTRY ssize_t copy_file_range(int in, off_t *inoff, int out, off_t *outoff,
				      size_t n, unsigned flags)
{
	NO_RW(in, real.copy_file_range(in, inoff, out, outoff, n, flags));
	NO_RW(out, real.copy_file_range(in, inoff, out, outoff, n, flags));
	return real.copy_file_range(in, inoff, out, outoff, n, flags);
}

PRELOAD_ENTRY int ftruncate(int fd, off_t len)
{
	int ret;

	NO_RW(fd, real.ftruncate(fd, len));
	ret = real.ftruncate(fd, len);
	if (!ret && len >= 0)
		ram_file_cut(fd, MF_ALIGN_UP((uint64_t)len, MF_PAGE_SIZE), UINT64_MAX);
	return ret;
}

/* truncate() by path: the file is looked at through a descriptor of our
 * own, for memfaild to check, only when some file has poison */
PRELOAD_ENTRY int truncate(const char *path, off_t len)
{
	int ret, fd;

	EARLY(real.truncate(path, len));
	ret = real.truncate(path, len);
	if (ret || len < 0 || !ram_file_gen())
		return ret;
	fd = real.open(path, O_WRONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd >= 0) {
		ram_file_cut(fd, MF_ALIGN_UP((uint64_t)len, MF_PAGE_SIZE), UINT64_MAX);
		real.close(fd);
	}
	return ret;
}

PRELOAD_ENTRY int truncate64(const char *path, off_t len)
{
	return truncate(path, len);
}

PRELOAD_ENTRY int ftruncate64(int fd, off_t len)
{
	return ftruncate(fd, len);
}

PRELOAD_ENTRY int fallocate(int fd, int mode, off_t off, off_t len)
{
	int ret;

	EARLY(real.fallocate(fd, mode, off, len));
	/* vfs_fallocate() on a character device */
	if (dax_fd_get(fd, NULL, NULL, NULL)) {
		errno = ENODEV;
		return -1;
	}
	ret = real.fallocate(fd, mode, off, len);
	if (!ret && (mode & FALLOC_FL_PUNCH_HOLE) && off >= 0 && len > 0)
		ram_file_cut(fd, MF_ALIGN_UP((uint64_t)off, MF_PAGE_SIZE),
			     MF_ALIGN_DOWN((uint64_t)off + (uint64_t)len, MF_PAGE_SIZE));
	return ret;
}

PRELOAD_ENTRY int fallocate64(int fd, int mode, off_t off, off_t len)
{
	return fallocate(fd, mode, off, len);
}

/*
 * fsync() and friends report a dirty page the file lost to poison, once
 * per open file that was open when it happened (the mapping's wb_err).
 */
PRELOAD_ENTRY int fsync(int fd)
{
	int ret;

	EARLY(real.fsync(fd));
	ret = real.fsync(fd);
	if (!ret && ram_fsync_check(fd)) {
		errno = EIO;
		return -1;
	}
	return ret;
}

PRELOAD_ENTRY int fdatasync(int fd)
{
	int ret;

	EARLY(real.fdatasync(fd));
	ret = real.fdatasync(fd);
	if (!ret && ram_fsync_check(fd)) {
		errno = EIO;
		return -1;
	}
	return ret;
}

PRELOAD_ENTRY int msync(void *addr, size_t len, int flags)
{
	int ret;

	EARLY(real.msync(addr, len, flags));
	ret = real.msync(addr, len, flags);
	if (!ret && (flags & MS_SYNC) && ram_msync_check((uintptr_t)addr, len)) {
		errno = EIO;
		return -1;
	}
	return ret;
}

/* lseek() of the emulated /dev/kmsg moves through its records */
PRELOAD_ENTRY off_t lseek(int fd, off_t off, int whence)
{
	off_t r;

	EARLY(real.lseek(fd, off, whence));
	r = vfs_lseek(fd, off, whence);
	return r != -2 ? r : real.lseek(fd, off, whence);
}

PRELOAD_ENTRY off_t lseek64(int fd, off_t off, int whence)
{
	return lseek(fd, off, whence);
}
