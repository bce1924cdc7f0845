// SPDX-License-Identifier: MIT
/*
 * preload/vma.c: what a page of ordinary memory is, as the kernel would
 * see it: the mapping it is in (/proc/self/maps, /proc/self/smaps), the
 * file system behind it (/proc/self/mountinfo), whether the page is in
 * the page tables and whether it is still the page cache's
 * (/proc/self/pagemap), whether the page cache holds it dirty
 * (cachestat(2)).
 *
 * It runs in program threads (madvise) and in the service thread; never
 * in a signal handler.  Everything is read through the real calls.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "../util/util.h"
#include "preload.h"

#define TMPFS_MAGIC_NAME	"tmpfs"
#define PM_PRESENT		(1ULL << 63)
#define PM_FILE			(1ULL << 61)

/* A line reader over a descriptor, for /proc files. */
struct lines {
	int fd;
	char buf[16384];
	size_t len, pos;
	bool eof;
};

static int lines_open(struct lines *l, const char *path)
{
	l->fd = real.open(path, O_RDONLY | O_CLOEXEC);
	l->len = l->pos = 0;
	l->eof = false;
	return l->fd < 0 ? -errno : 0;
}

static void lines_close(struct lines *l)
{
	if (l->fd >= 0)
		real.close(l->fd);
	l->fd = -1;
}

/* The next line, without its newline; NULL at the end.  A line longer
 * than the buffer is cut. */
static char *lines_next(struct lines *l)
{
	char *nl, *line;

	for (;;) {
		nl = memchr(l->buf + l->pos, '\n', l->len - l->pos);
		if (nl || (l->eof && l->pos < l->len)) {
			line = l->buf + l->pos;
			if (nl) {
				*nl = '\0';
				l->pos = (size_t)(nl - l->buf) + 1;
			} else {
				l->buf[l->len < sizeof(l->buf) ? l->len : sizeof(l->buf) - 1] = '\0';
				l->pos = l->len;
			}
			return line;
		}
		if (l->eof)
			return NULL;
		memmove(l->buf, l->buf + l->pos, l->len - l->pos);
		l->len -= l->pos;
		l->pos = 0;
		if (l->len == sizeof(l->buf) - 1) {
			l->len = 0;	/* an endless line: drop it */
			continue;
		}
		{
			ssize_t n = real.read(l->fd, l->buf + l->len, sizeof(l->buf) - 1 - l->len);

			if (n <= 0)
				l->eof = true;
			else
				l->len += (size_t)n;
		}
	}
}

/* "7f00-7f10 rw-s 00001000 00:05 1234   /path" */
static bool parse_maps_line(const char *line, struct vma_info *v)
{
	unsigned long long start, end, pgoff, ino;
	unsigned maj, min;
	char perms[8];
	int n = 0;

	if (sscanf(line, "%llx-%llx %7s %llx %x:%x %llu %n", &start, &end, perms, &pgoff, &maj,
		   &min, &ino, &n) < 7)
		return false;
	memset(v, 0, sizeof(*v));
	v->start = start;
	v->end = end;
	v->pgoff = pgoff;
	v->dev = makedev(maj, min);
	v->ino = ino;
	v->readable = perms[0] == 'r';
	v->writable = perms[1] == 'w';
	v->shared = perms[3] == 's';
	v->page_shift = MF_PAGE_SHIFT;
	if (n > 0)
		strlcpy_mf(v->path, line + n, sizeof(v->path));
	return true;
}

/* The file system type of a device, from mountinfo ("" if unknown). */
static void fstype_of(dev_t dev, char *type, size_t n)
{
	struct lines *l = malloc(sizeof(*l));
	char *line;

	type[0] = '\0';
	if (!l || lines_open(l, "/proc/self/mountinfo")) {
		free(l);
		return;
	}
	/* "36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw" */
	while ((line = lines_next(l))) {
		unsigned maj, min;
		char *dash;

		if (sscanf(line, "%*u %*u %u:%u", &maj, &min) != 2 || makedev(maj, min) != dev)
			continue;
		dash = strstr(line, " - ");
		if (dash && sscanf(dash + 3, "%31s", type) == 1)
			break;
		type[0] = '\0';
	}
	lines_close(l);
	free(l);
	(void)n;
}

/* statfs() of the mapped file by its path, if the path is still that
 * file (same device and inode); 0 if not. */
static long fs_magic_of(const struct vma_info *v)
{
	struct statfs sfs;
	struct stat st;

	if (v->path[0] != '/' || strstr(v->path, " (deleted)") ||
	    syscall(SYS_newfstatat, AT_FDCWD, v->path, &st, 0) ||
	    st.st_dev != v->dev || st.st_ino != v->ino ||
	    syscall(SYS_statfs, v->path, &sfs))
		return 0;
	return (long)sfs.f_type;
}

static bool starts(const char *s, const char *p)
{
	return !strncmp(s, p, strlen(p));
}

static bool is_sysv(const struct vma_info *v)
{
	return v->shared && starts(v->path, "/SYSV");
}

/* shmem: shared anonymous, SysV shm, memfd, and anything on tmpfs */
static void classify_vma(struct vma_info *v)
{
	char type[32] = "";

	if (v->hugetlb || !strcmp(v->path, "/anon_hugepage (deleted)")) {
		v->hugetlb = true;
		return;
	}
	/* (a SysV segment's inode is its id, and the first id is 0) */
	if (!v->ino && !is_sysv(v)) {
		v->fs = VMA_FS_ANON;
		return;
	}
	if (starts(v->path, "/dev/zero") || is_sysv(v) || starts(v->path, "/memfd:")) {
		v->fs = VMA_FS_SHMEM;
		return;
	}
	/* the file's own file system, when its path still names it: two
	 * system calls, not a read of mountinfo */
	switch (fs_magic_of(v)) {
	case HUGETLBFS_MAGIC:
		v->hugetlb = true;
		return;
	case TMPFS_MAGIC:
	case RAMFS_MAGIC:
		v->fs = VMA_FS_SHMEM;
		return;
	case 0:
		break;
	default:
		v->fs = VMA_FS_DISK;
		return;
	}
	fstype_of(v->dev, type, sizeof(type));
	if (!strcmp(type, "hugetlbfs"))
		v->hugetlb = true;
	else if (!strcmp(type, TMPFS_MAGIC_NAME) || !strcmp(type, "shmem") ||
		 !strcmp(type, "devtmpfs") || !strcmp(type, "ramfs"))
		v->fs = VMA_FS_SHMEM;
	else
		v->fs = VMA_FS_DISK;
}

int vma_find(uintptr_t addr, struct vma_info *out, bool detail)
{
	struct lines *l = malloc(sizeof(*l));
	bool in = false, found = false;
	char *line;

	if (!l)
		return -ENOMEM;
	if (lines_open(l, detail ? "/proc/self/smaps" : "/proc/self/maps")) {
		free(l);
		return -EIO;
	}
	while ((line = lines_next(l))) {
		struct vma_info v;

		if (parse_maps_line(line, &v) && strchr(line, '-') < strchr(line, ' ')) {
			if (found)
				break;	/* the next mapping's header */
			in = addr >= v.start && addr < v.end;
			if (in) {
				*out = v;
				found = true;
				if (!detail)
					break;
			}
			continue;
		}
		if (!in)
			continue;
		if (starts(line, "KernelPageSize:")) {
			unsigned long kb = strtoul(line + 15, NULL, 10);

			if (kb >= 4 && !(kb & (kb - 1)))
				out->page_shift = (unsigned)__builtin_ctzl(kb) + 10;
		} else if (starts(line, "VmFlags:")) {
			out->locked = strstr(line, " lo") != NULL;
			out->hugetlb = strstr(line, " ht") != NULL;
			out->thp_advised = strstr(line, " hg") != NULL;
		}
	}
	lines_close(l);
	free(l);
	if (!found)
		return -EFAULT;
	classify_vma(out);
	if (out->hugetlb && out->page_shift == MF_PAGE_SHIFT)
		out->page_shift = 21;
	return 0;
}

int vma_for_each_file(dev_t dev, uint64_t ino, uint64_t off,
		      int (*fn)(const struct vma_info *v, uint64_t addr, void *arg), void *arg)
{
	struct lines *l = malloc(sizeof(*l));
	char *line;
	int ret = 0;

	if (!l)
		return -ENOMEM;
	if (lines_open(l, "/proc/self/maps")) {
		free(l);
		return -EIO;
	}
	while (!ret && (line = lines_next(l))) {
		struct vma_info v;

		if (!parse_maps_line(line, &v) || v.dev != dev || v.ino != ino ||
		    (!v.ino && !is_sysv(&v)))
			continue;
		if (off < v.pgoff || off - v.pgoff >= v.end - v.start)
			continue;
		classify_vma(&v);
		ret = fn(&v, v.start + (off - v.pgoff), arg);
	}
	lines_close(l);
	free(l);
	return ret;
}

uint64_t pagemap_entry(uintptr_t addr)
{
	uint64_t e = 0;

	if (shim.pagemap_fd < 0 ||
	    real.pread(shim.pagemap_fd, &e, sizeof(e), (off_t)((addr >> MF_PAGE_SHIFT) * 8)) != 8)
		return 0;
	return e;
}

/* cachestat(2), Linux 6.5 */
#ifndef SYS_cachestat
#define SYS_cachestat 451
#endif
struct mf_cachestat_range {
	uint64_t off, len;
};
struct mf_cachestat {
	uint64_t nr_cache, nr_dirty, nr_writeback, nr_evicted, nr_recently_evicted;
};

/* An open descriptor of the file a mapping maps, or -1. */
static int open_mapped_file(const struct vma_info *v)
{
	char path[96];
	struct stat st;
	int fd;

	/* the mapping itself (needs CAP_SYS_ADMIN) */
	snprintf(path, sizeof(path), "/proc/self/map_files/%llx-%llx",
		 (unsigned long long)v->start, (unsigned long long)v->end);
	fd = real.open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0)
		return fd;
	/* the descriptor it was mapped from, if the program still has it */
	fd = mmap_note_fd(v->dev, v->ino);
	if (fd >= 0) {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		fd = real.open(path, O_RDONLY | O_CLOEXEC);
		if (fd >= 0 && !fstat(fd, &st) && st.st_dev == v->dev && st.st_ino == v->ino)
			return fd;
		if (fd >= 0)
			real.close(fd);
	}
	/* its name, if it still has one */
	if (v->path[0] == '/' && !strstr(v->path, " (deleted)")) {
		fd = real.open(v->path, O_RDONLY | O_CLOEXEC);
		if (fd >= 0 && !fstat(fd, &st) && st.st_dev == v->dev && st.st_ino == v->ino)
			return fd;
		if (fd >= 0)
			real.close(fd);
	}
	return -1;
}

int file_page_dirty(const struct vma_info *v, uint64_t off)
{
	struct mf_cachestat_range r = { .off = MF_ALIGN_DOWN(off, MF_PAGE_SIZE), .len = MF_PAGE_SIZE };
	struct mf_cachestat cs;
	int fd = open_mapped_file(v);
	long ret;

	if (fd < 0)
		return -1;
	ret = syscall(SYS_cachestat, fd, &r, &cs, 0);
	real.close(fd);
	if (ret)
		return -1;
	return cs.nr_dirty || cs.nr_writeback;
}

static int page_of(const struct vma_info *v, uintptr_t addr, struct mf_ram_page *p,
		   bool want_state)
{
	uint64_t off = v->pgoff + (addr - v->start);

	memset(p, 0, sizeof(*p));
	p->addr = MF_ALIGN_DOWN(addr, MF_PAGE_SIZE);
	p->shift = v->hugetlb ? v->page_shift : MF_PAGE_SHIFT;
	if (v->locked)
		p->state |= MF_RAM_STATE_MLOCKED;
	if (v->hugetlb) {
		p->kind = MF_RAM_HUGETLB_PAGE;
		p->shared = v->shared;
	} else if (v->fs == VMA_FS_ANON && !v->shared) {
		p->kind = MF_RAM_ANON_PAGE;
	} else if (!v->shared && !(pagemap_entry(addr) & PM_FILE)) {
		/* a private page of a file that was written: a copy of its own */
		p->kind = MF_RAM_ANON_PAGE;
	} else if (v->fs == VMA_FS_DISK) {
		int dirty = want_state ? file_page_dirty(v, off) : 0;

		p->kind = MF_RAM_FILE_PAGE;
		p->shared = 1;
		/* cannot tell: a writable shared mapping may have written it */
		if (dirty > 0 || (dirty < 0 && v->shared && v->writable))
			p->state |= MF_RAM_STATE_DIRTY;
		if (dirty < 0)
			shim_warn_once(1, "cannot tell whether the page-cache page at %#lx is dirty (no descriptor of %s); taken as %s",
				       (unsigned long)addr, v->path[0] ? v->path : "its file",
				       (p->state & MF_RAM_STATE_DIRTY) ? "dirty" : "clean");
	} else {
		p->kind = MF_RAM_SHMEM_PAGE;
		p->shared = 1;
	}
	if (p->shared) {
		p->dev = v->dev;
		p->ino = v->ino;
		p->off = MF_ALIGN_DOWN(off, MF_PAGE_SIZE);
	}
	return 0;
}

int vma_page(const struct vma_info *v, uintptr_t addr, struct mf_ram_page *p)
{
	return page_of(v, addr, p, true);
}

int vma_page_nostate(const struct vma_info *v, uintptr_t addr, struct mf_ram_page *p)
{
	return page_of(v, addr, p, false);
}

int vma_for_each_range(uint64_t start, uint64_t end,
		       int (*fn)(const struct vma_info *v, uint64_t addr, void *arg), void *arg)
{
	struct lines *l = malloc(sizeof(*l));
	char *line;
	int ret = 0;

	if (!l)
		return -ENOMEM;
	if (lines_open(l, "/proc/self/maps")) {
		free(l);
		return -EIO;
	}
	while (!ret && (line = lines_next(l))) {
		struct vma_info v;

		if (!parse_maps_line(line, &v) || v.end <= start)
			continue;
		if (v.start >= end)
			break;
		classify_vma(&v);
		if (v.hugetlb)
			v.page_shift = 21;	/* maps does not say; the default size */
		ret = fn(&v, v.start, arg);
	}
	lines_close(l);
	free(l);
	return ret;
}
