// SPDX-License-Identifier: MIT
/*
 * preload/paths.c: the path calls that must see the emulated kernel
 * files (vfs.c) as the kernel would show them: fopen() (glibc's own open
 * inside it is not interposable), fflush() and fclose() (what stdio
 * wrote is a write of the file), the stat family, access, readlink.
 *
 * Paths that are not emulated go straight to the system calls: on
 * x86-64 glibc's struct stat (and stat64, the same) is the kernel's, so
 * stat() is
 * newfstatat(2); this also serves the calls made before the shim is
 * initialised.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "preload.h"
#include "vfs.h"

static int sys_fstatat(int dirfd, const char *path, struct stat *st, int flags)
{
	return (int)syscall(SYS_newfstatat, dirfd, path, st, flags);
}

static int do_fstatat(int dirfd, const char *path, struct stat *st, int flags)
{
	if (shim_ready && !(flags & AT_EMPTY_PATH && path && !*path)) {
		int r = vfs_stat(dirfd, path, st);

		if (r != -2)
			return r;
	}
	if (shim_ready && (flags & AT_EMPTY_PATH) && path && !*path) {
		int r = vfs_fstat(dirfd, st);

		if (r != -2)
			return r;
	}
	return sys_fstatat(dirfd, path, st, flags);
}

PRELOAD_ENTRY int stat(const char *path, struct stat *st)
{
	return do_fstatat(AT_FDCWD, path, st, 0);
}

PRELOAD_ENTRY int stat64(const char *path, struct stat64 *st)
{
	return do_fstatat(AT_FDCWD, path, (struct stat *)st, 0);
}

PRELOAD_ENTRY int lstat(const char *path, struct stat *st)
{
	return do_fstatat(AT_FDCWD, path, st, AT_SYMLINK_NOFOLLOW);
}

PRELOAD_ENTRY int lstat64(const char *path, struct stat64 *st)
{
	return do_fstatat(AT_FDCWD, path, (struct stat *)st, AT_SYMLINK_NOFOLLOW);
}

PRELOAD_ENTRY int fstatat(int dirfd, const char *path, struct stat *st, int flags)
{
	return do_fstatat(dirfd, path, st, flags);
}

PRELOAD_ENTRY int fstatat64(int dirfd, const char *path, struct stat64 *st, int flags)
{
	return do_fstatat(dirfd, path, (struct stat *)st, flags);
}

PRELOAD_ENTRY int fstat(int fd, struct stat *st)
{
	if (shim_ready) {
		int r = vfs_fstat(fd, st);

		if (r != -2)
			return r;
	}
	return (int)syscall(SYS_fstat, fd, st);
}

PRELOAD_ENTRY int fstat64(int fd, struct stat64 *st)
{
	return fstat(fd, (struct stat *)st);
}

/* the entry points of programs built against glibc before 2.33 */
PRELOAD_ENTRY int __xstat(int ver, const char *path, struct stat *st)
{
	(void)ver;
	return do_fstatat(AT_FDCWD, path, st, 0);
}

PRELOAD_ENTRY int __xstat64(int ver, const char *path, struct stat *st)
{
	(void)ver;
	return do_fstatat(AT_FDCWD, path, st, 0);
}

PRELOAD_ENTRY int __lxstat(int ver, const char *path, struct stat *st)
{
	(void)ver;
	return do_fstatat(AT_FDCWD, path, st, AT_SYMLINK_NOFOLLOW);
}

PRELOAD_ENTRY int __lxstat64(int ver, const char *path, struct stat *st)
{
	(void)ver;
	return do_fstatat(AT_FDCWD, path, st, AT_SYMLINK_NOFOLLOW);
}

PRELOAD_ENTRY int __fxstatat(int ver, int dirfd, const char *path, struct stat *st, int flags)
{
	(void)ver;
	return do_fstatat(dirfd, path, st, flags);
}

PRELOAD_ENTRY int __fxstatat64(int ver, int dirfd, const char *path, struct stat *st, int flags)
{
	(void)ver;
	return do_fstatat(dirfd, path, st, flags);
}

PRELOAD_ENTRY int __fxstat(int ver, int fd, struct stat *st)
{
	(void)ver;
	return fstat(fd, st);
}

PRELOAD_ENTRY int __fxstat64(int ver, int fd, struct stat *st)
{
	(void)ver;
	return fstat(fd, st);
}

static void statx_from_stat(const struct stat *st, struct statx *sx)
{
	memset(sx, 0, sizeof(*sx));
	sx->stx_mask = STATX_BASIC_STATS;
	sx->stx_blksize = (uint32_t)st->st_blksize;
	sx->stx_nlink = (uint32_t)st->st_nlink;
	sx->stx_mode = (uint16_t)st->st_mode;
	sx->stx_ino = st->st_ino;
	sx->stx_size = (uint64_t)st->st_size;
	sx->stx_atime.tv_sec = st->st_atim.tv_sec;
	sx->stx_atime.tv_nsec = (uint32_t)st->st_atim.tv_nsec;
	sx->stx_mtime = sx->stx_ctime = sx->stx_atime;
	sx->stx_dev_major = major(st->st_dev);
	sx->stx_dev_minor = minor(st->st_dev);
}

PRELOAD_ENTRY int statx(int dirfd, const char *path, int flags, unsigned mask, struct statx *sx)
{
	if (shim_ready) {
		struct stat st;
		int r = (flags & AT_EMPTY_PATH) && !*path ? vfs_fstat(dirfd, &st) :
								     vfs_stat(dirfd, path, &st);

		if (r == 0)
			statx_from_stat(&st, sx);
		if (r != -2)
			return r;
	}
	return (int)syscall(SYS_statx, dirfd, path, flags, mask, sx);
}

PRELOAD_ENTRY int access(const char *path, int mode)
{
	if (shim_ready) {
		int r = vfs_access(AT_FDCWD, path, mode);

		if (r != -2)
			return r;
	}
	return (int)syscall(SYS_faccessat, AT_FDCWD, path, mode);
}

PRELOAD_ENTRY int faccessat(int dirfd, const char *path, int mode, int flags)
{
	if (shim_ready) {
		int r = vfs_access(dirfd, path, mode);

		if (r != -2)
			return r;
	}
	if (!flags)
		return (int)syscall(SYS_faccessat, dirfd, path, mode);
	return (int)syscall(SYS_faccessat2, dirfd, path, mode, flags);
}

PRELOAD_ENTRY int euidaccess(const char *path, int mode)
{
	return faccessat(AT_FDCWD, path, mode, AT_EACCESS);
}

PRELOAD_ENTRY int eaccess(const char *path, int mode)
{
	return faccessat(AT_FDCWD, path, mode, AT_EACCESS);
}

/* An emulated file is no symbolic link. */
PRELOAD_ENTRY ssize_t readlink(const char *path, char *buf, size_t n)
{
	if (shim_ready && vfs_is_emulated(AT_FDCWD, path)) {
		errno = EINVAL;
		return -1;
	}
	return syscall(SYS_readlinkat, AT_FDCWD, path, buf, n);
}

PRELOAD_ENTRY ssize_t readlinkat(int dirfd, const char *path, char *buf, size_t n)
{
	if (shim_ready && vfs_is_emulated(dirfd, path)) {
		errno = EINVAL;
		return -1;
	}
	return syscall(SYS_readlinkat, dirfd, path, buf, n);
}

/* ---- stdio ---- */

static int mode_flags(const char *mode)
{
	int acc = O_RDONLY, flags = 0;
	const char *m;

	switch (mode[0]) {
	case 'w': acc = O_WRONLY; flags = O_CREAT | O_TRUNC; break;
	case 'a': acc = O_WRONLY; flags = O_CREAT | O_APPEND; break;
	default: break;
	}
	for (m = mode + 1; *m; m++) {
		if (*m == '+')
			acc = O_RDWR;
		else if (*m == 'e')
			flags |= O_CLOEXEC;
		else if (*m == 'x')
			flags |= O_EXCL;
	}
	return acc | flags;
}

static FILE *open_stream(const char *path, const char *mode, FILE *(*real_fopen)(const char *, const char *))
{
	int fd;
	FILE *f;

	if (!shim_ready || !mode || !vfs_is_emulated(AT_FDCWD, path))
		return real_fopen(path, mode);
	fd = vfs_open(AT_FDCWD, path, mode_flags(mode));
	if (fd == -2)
		return real_fopen(path, mode);
	if (fd < 0)
		return NULL;
	f = fdopen(fd, mode);
	if (!f) {
		int e = errno;

		vfs_close(fd);
		real.close(fd);
		errno = e;
	}
	return f;
}

PRELOAD_ENTRY FILE *fopen(const char *path, const char *mode)
{
	EARLY(real.fopen(path, mode));
	return open_stream(path, mode, real.fopen);
}

PRELOAD_ENTRY FILE *fopen64(const char *path, const char *mode)
{
	EARLY(real.fopen64(path, mode));
	return open_stream(path, mode, real.fopen64);
}

PRELOAD_ENTRY int fflush(FILE *f)
{
	int ret, err;

	EARLY(real.fflush(f));
	ret = real.fflush(f);
	if (ret || !f)
		return ret;
	err = vfs_flush(fileno(f));
	if (err) {
		/* the stream's error indicator, as a failed write() sets it
		 * (glibc's _IO_ERR_SEEN): a shell's echo asks ferror() */
		f->_flags |= 0x20;
		errno = -err;
		return EOF;
	}
	return 0;
}

PRELOAD_ENTRY int fclose(FILE *f)
{
	int err, ret, fd;

	EARLY(real.fclose(f));
	fd = fileno(f);
	real.fflush(f);
	err = fd >= 0 ? vfs_close(fd) : 0;
	ret = real.fclose(f);
	/* the C library's own close(): what read() knew of the number goes */
	if (fd >= 0)
		ram_fd_closed(fd);
	if (err) {
		errno = -err;
		return EOF;
	}
	return ret;
}

/* realpath(): glibc's own readlink() calls inside it are not ours; an
 * emulated path is its own real path. */
PRELOAD_ENTRY char *realpath(const char *path, char *resolved)
{
	EARLY(real.realpath(path, resolved));
	if (path && vfs_is_emulated(AT_FDCWD, path)) {
		size_t n = strlen(path) + 1;
		char *out = resolved ? resolved : malloc(n > PATH_MAX ? n : PATH_MAX);

		if (!out) {
			errno = ENOMEM;
			return NULL;
		}
		memcpy(out, path, n);
		return out;
	}
	return real.realpath(path, resolved);
}

PRELOAD_ENTRY char *canonicalize_file_name(const char *path)
{
	return realpath(path, NULL);
}

/* No extended attributes on emulated files (ls -l asks). */
static ssize_t no_xattr(const char *path, ssize_t fallback_errno)
{
	if (shim_ready && path && vfs_is_emulated(AT_FDCWD, path)) {
		errno = (int)fallback_errno;
		return -1;
	}
	return -2;
}

PRELOAD_ENTRY ssize_t getxattr(const char *path, const char *name, void *v, size_t n)
{
	ssize_t r = no_xattr(path, ENODATA);

	return r != -2 ? r : syscall(SYS_getxattr, path, name, v, n);
}

PRELOAD_ENTRY ssize_t lgetxattr(const char *path, const char *name, void *v, size_t n)
{
	ssize_t r = no_xattr(path, ENODATA);

	return r != -2 ? r : syscall(SYS_lgetxattr, path, name, v, n);
}

PRELOAD_ENTRY ssize_t listxattr(const char *path, char *list, size_t n)
{
	if (shim_ready && path && vfs_is_emulated(AT_FDCWD, path))
		return 0;
	return syscall(SYS_listxattr, path, list, n);
}

PRELOAD_ENTRY ssize_t llistxattr(const char *path, char *list, size_t n)
{
	if (shim_ready && path && vfs_is_emulated(AT_FDCWD, path))
		return 0;
	return syscall(SYS_llistxattr, path, list, n);
}
