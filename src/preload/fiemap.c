// SPDX-License-Identifier: MIT
/*
 * preload/fiemap.c: ioctl(FS_IOC_FIEMAP) on files of memfail's fsdax
 * mounts.  FUSE does not pass FIEMAP to its server, so the shim asks the
 * daemon for the file's extents (MF_FS_FIEMAP) and fills in the caller's
 * struct fiemap as iomap_fiemap() does: extents clipped to
 * [fm_start, fm_start + fm_length) at block granularity, physically
 * contiguous neighbours as one, FIEMAP_EXTENT_LAST on the last one of
 * the range, fm_extent_count 0 counting only.  fe_physical is the byte
 * offset on the namespace's block device.  Every other request, and
 * every other file, goes to the real ioctl().
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <linux/fiemap.h>
#include <linux/fs.h>

#include "../util/util.h"
#include "preload.h"

#define FS_MAX_PAGES	(MF_FS_MAX_BYTES >> MF_PAGE_SHIFT)

struct fiemap_fill {
	struct fiemap *fm;
	struct mf_fs_extent prev;	/* pending, as iomap_fiemap()'s prev */
	bool have_prev;
	bool full;
};

/* fiemap_fill_next_extent(): 1 once the array is full. */
static int fill_one(struct fiemap_fill *f, const struct mf_fs_extent *x, uint32_t flags)
{
	struct fiemap *fm = f->fm;
	struct fiemap_extent *fe;

	if (!fm->fm_extent_count) {
		fm->fm_mapped_extents++;
		return (flags & FIEMAP_EXTENT_LAST) ? 1 : 0;
	}
	if (fm->fm_mapped_extents >= fm->fm_extent_count)
		return 1;
	fe = &fm->fm_extents[fm->fm_mapped_extents++];
	memset(fe, 0, sizeof(*fe));
	fe->fe_logical = x->foff << MF_PAGE_SHIFT;
	fe->fe_physical = x->nsoff << MF_PAGE_SHIFT;
	fe->fe_length = x->len << MF_PAGE_SHIFT;
	fe->fe_flags = flags;
	return fm->fm_mapped_extents == fm->fm_extent_count ? 1 : 0;
}

/* The next extent: the pending one goes out unless this one continues it. */
static void fill_next(struct fiemap_fill *f, const struct mf_fs_extent *x)
{
	if (f->full)
		return;
	if (f->have_prev && f->prev.foff + f->prev.len == x->foff &&
	    f->prev.nsoff + f->prev.len == x->nsoff) {
		f->prev.len += x->len;
		return;
	}
	if (f->have_prev && fill_one(f, &f->prev, 0))
		f->full = true;
	f->prev = *x;
	f->have_prev = true;
}

static int fiemap_call(const struct stat *st, uint64_t first, uint64_t n,
		       struct mf_fs_fiemap_reply *r)
{
	struct mf_fs_fiemap m;
	ssize_t got;

	memset(&m, 0, sizeof(m));
	m.hdr.type = MF_FS_FIEMAP;
	m.dev = st->st_dev;
	m.ino = st->st_ino;
	m.first = first;
	m.n = n;
	got = shim_call(&m, sizeof(m), r, sizeof(*r), NULL);
	if (got < 0)
		return (int)got;
	if (r->r.error)
		return r->r.error;
	if ((size_t)got != sizeof(*r) || r->count > MF_FS_MAP_MAX)
		return -EPROTO;
	return 0;
}

/* 0, -errno, or 1: not a file of ours (the real ioctl() decides). */
static int fsdax_fiemap(int fd, struct fiemap *fm)
{
	struct mf_fs_fiemap_reply r;		/* 3 KiB */
	struct fiemap_fill f = { .fm = fm };
	uint64_t first, end, at;
	struct stat st;
	int err;

	if (!fsdax_candidate(fd, &st) || shim_activate())
		return 1;
	if (fm->fm_extent_count > UINT_MAX / sizeof(struct fiemap_extent))
		return -EINVAL;
	/* fiemap_prep(): what ext4 takes is FIEMAP_FLAG_SYNC (and xattrs,
	 * which these files have none of) */
	if (fm->fm_flags & ~(FIEMAP_FLAG_SYNC | FIEMAP_FLAG_XATTR)) {
		fm->fm_flags &= ~(FIEMAP_FLAG_SYNC | FIEMAP_FLAG_XATTR);
		return -EBADR;
	}
	if (!fm->fm_length)
		return -EINVAL;
	first = fm->fm_start >> MF_PAGE_SHIFT;
	if (first >= FS_MAX_PAGES)
		return -EFBIG;
	end = fm->fm_start + fm->fm_length < fm->fm_start ? FS_MAX_PAGES :
	      MF_ALIGN_UP(fm->fm_start + fm->fm_length, MF_PAGE_SIZE) >> MF_PAGE_SHIFT;
	if (end > FS_MAX_PAGES || end < first)
		end = FS_MAX_PAGES;
	fm->fm_mapped_extents = 0;
	if (fm->fm_flags & FIEMAP_FLAG_XATTR)
		return 0;
	for (at = first; at < end && !f.full;) {
		uint32_t i;

		err = fiemap_call(&st, at, end - at, &r);
		if (err == -ENOENT && at == first)
			return 1;
		if (err)
			return err;
		for (i = 0; i < r.count; i++)
			fill_next(&f, &r.e[i]);
		if (!r.more || !r.count)
			break;
		at = r.e[r.count - 1].foff + r.e[r.count - 1].len;
	}
	if (f.have_prev && !f.full)
		fill_one(&f, &f.prev, FIEMAP_EXTENT_LAST);
	return 0;
}

PRELOAD_ENTRY int ioctl(int fd, unsigned long req, ...)
{
	va_list ap;
	void *arg;
	int err;

	va_start(ap, req);
	arg = va_arg(ap, void *);
	va_end(ap);
	EARLY(real.ioctl(fd, req, arg));
	if (req != FS_IOC_FIEMAP || !arg)
		return real.ioctl(fd, req, arg);
	err = fsdax_fiemap(fd, arg);
	if (err == 1)
		return real.ioctl(fd, req, arg);
	if (err) {
		errno = -err;
		return -1;
	}
	return 0;
}
