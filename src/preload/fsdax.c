// SPDX-License-Identifier: MIT
/*
 * preload/fsdax.c: files of fsdax namespaces (served by memfaild through
 * FUSE) as mmap() sees them.
 *
 * The daemon tells us where a file's blocks are in the namespace's data
 * (MF_FS_MAP) and hands us that data file; mmap.c maps each extent of it
 * in place, so loads and stores reach the media as on fsdax, and
 * registers the mapping (MF_FS_MAP_REGISTER) so that memory_failure()
 * finds it.  One descriptor of each namespace's data is kept, for the
 * service thread to map a page's new block after a hole punch.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "../util/fence.h"
#include "../util/util.h"
#include "preload.h"

#define FUSE_SUPER_MAGIC	0x65735546
#define DATA_FDS		16

static struct {
	uint32_t ns_id;
	uint64_t gen;
	bool write;			/* opened O_RDWR: serves writable mappings too */
	_Atomic int fd;			/* read by the service thread without the lock */
} data_fd[DATA_FDS];
static pthread_mutex_t data_lock = PTHREAD_MUTEX_INITIALIZER;
/*
 * Remaps done by the service thread.  The faulting thread learns of one
 * from the daemon, which the compiler and TSan cannot see: the release
 * here and the acquire in fsdax_remap_seen() say that its loads come
 * after the new mapping.
 */
static _Atomic uint64_t remaps;

/*
 * A shut-down file system fails getattr with EIO; the kernel's cached
 * attributes still say which file it is, so that the daemon can answer
 * the mapping (with EIO: a mapping whose faults SIGBUS).
 */
static bool cached_stat(int fd, struct stat *st)
{
	struct statx sx;

	if (errno != EIO || statx(fd, "", AT_EMPTY_PATH | AT_STATX_DONT_SYNC, STATX_BASIC_STATS, &sx))
		return false;
	memset(st, 0, sizeof(*st));
	st->st_dev = makedev(sx.stx_dev_major, sx.stx_dev_minor);
	st->st_ino = sx.stx_ino;
	st->st_mode = sx.stx_mode;
	st->st_size = (off_t)sx.stx_size;
	return true;
}

bool fsdax_candidate(int fd, struct stat *st)
{
	struct statfs sf;

	/* FUSE mounts have anonymous device numbers (major 0) */
	if (fd < 0 || (fstat(fd, st) && !cached_stat(fd, st)) || !S_ISREG(st->st_mode) ||
	    major(st->st_dev))
		return false;
	return !fstatfs(fd, &sf) && sf.f_type == FUSE_SUPER_MAGIC;
}

/* A descriptor of the namespace's data good for mappings with `prot`. */
int fsdax_data_fd(uint32_t ns_id, uint64_t gen, int prot)
{
	unsigned i;

	for (i = 0; i < DATA_FDS; i++) {
		int fd = atomic_load(&data_fd[i].fd);

		if (fd > 0 && data_fd[i].ns_id == ns_id && data_fd[i].gen == gen &&
		    (data_fd[i].write || !(prot & PROT_WRITE)))
			return fd;
	}
	return -1;
}

/*
 * Keep fd (opened by the daemon for mappings with `prot`) as the
 * namespace's data descriptor, or close it if we have one as good.  One
 * opened read-only does not serve a writable mapping: the namespace may
 * then have two.
 */
int fsdax_keep_fd(uint32_t ns_id, uint64_t gen, int prot, int fd)
{
	unsigned i, free_slot = DATA_FDS;
	int have;

	pthread_mutex_lock(&data_lock);
	have = fsdax_data_fd(ns_id, gen, prot);
	if (have >= 0) {
		pthread_mutex_unlock(&data_lock);
		real.close(fd);
		return have;
	}
	for (i = 0; i < DATA_FDS && free_slot == DATA_FDS; i++)
		if (atomic_load(&data_fd[i].fd) <= 0)
			free_slot = i;
	if (free_slot == DATA_FDS) {
		pthread_mutex_unlock(&data_lock);
		return fd;	/* no room: the caller closes it after use */
	}
	fd = shim_fd_move_high(fd);
	data_fd[free_slot].ns_id = ns_id;
	data_fd[free_slot].gen = gen;
	data_fd[free_slot].write = (prot & PROT_WRITE) != 0;
	atomic_store(&data_fd[free_slot].fd, fd);
	pthread_mutex_unlock(&data_lock);
	return fd;
}

bool fsdax_fd_internal(int fd)
{
	unsigned i;

	for (i = 0; i < DATA_FDS; i++)
		if (fd > 0 && atomic_load(&data_fd[i].fd) == fd)
			return true;
	return false;
}

int fsdax_map_call(const struct stat *st, uint64_t off, uint64_t len, int prot,
		   struct mf_fs_map_reply *r, int *fd)
{
	struct mf_fs_map m;
	ssize_t n;

	memset(&m, 0, sizeof(m));
	m.hdr.type = MF_FS_MAP;
	m.dev = st->st_dev;
	m.ino = st->st_ino;
	m.offset = off;
	m.len = len;
	m.prot = (uint32_t)prot;
	*fd = -1;
	n = mf_client_call(&shim.req, &m, sizeof(m), r, sizeof(*r), fd);
	if (n < 0)
		return (int)n;
	if (r->r.error) {
		if (*fd >= 0)
			real.close(*fd);
		*fd = -1;
		return r->r.error;
	}
	if ((size_t)n != sizeof(*r) || *fd < 0 || r->count > MF_FS_MAP_MAX) {
		if (*fd >= 0)
			real.close(*fd);
		*fd = -1;
		return -EPROTO;
	}
	return 0;
}

/* Register the mapping; the pages poisoned already are fenced. */
int fsdax_register_call(const struct map_view *v, uint64_t map_gen)
{
	static struct mf_fs_map_register_reply r;
	struct mf_fs_map_register m;
	ssize_t n;
	uint32_t i;

	memset(&m, 0, sizeof(m));
	m.hdr.type = MF_FS_MAP_REGISTER;
	m.map_id = v->id;
	m.ns_gen = v->ns_gen;
	m.ns_id = v->ns_id;
	m.map_gen = map_gen;
	m.dev = v->dev;
	m.ino = v->ino;
	m.offset = v->ns_off;
	m.len = v->len;
	m.addr = v->start;
	m.prot = (uint32_t)v->prot;
	n = mf_client_call(&shim.req, &m, sizeof(m), &r, sizeof(r), NULL);
	if (n < 0)
		return (int)n;
	if (r.r.error)
		return r.r.error;
	if ((size_t)n != sizeof(r) || r.count > MF_FS_POISON_MAX)
		return -EPROTO;
	for (i = 0; i < r.count; i++) {
		int err;

		if (r.page[i] >= v->len >> MF_PAGE_SHIFT)
			continue;
		err = fence_pages(v->start + (r.page[i] << MF_PAGE_SHIFT), MF_PAGE_SIZE);
		if (err)
			return err;
	}
	return 0;
}

/* The service thread: file page at [a, a + len) has a new block. */
int fsdax_remap(const struct map_view *v, uint64_t a, uint64_t len, uint64_t ns_off)
{
	int fd = fsdax_data_fd(v->ns_id, v->ns_gen, v->prot);
	void *p;

	if (fd < 0)
		return -EBADF;
	/*
	 * The system call itself, as the fences are made: the program's
	 * threads may be loading from the page the moment it is mapped, which
	 * is the point; a sanitizer's mmap() would take that for a race with
	 * the memory's "allocation".
	 */
	p = (void *)syscall(SYS_mmap, (void *)(uintptr_t)a, len, v->prot, MAP_SHARED | MAP_FIXED, fd,
			    (off_t)ns_off);
	if (p == MAP_FAILED)
		return -errno;
	/* the new mapping took the guard away with the old one: forget it */
	unfence_pages(a, len, v->prot);
	no_fault_around_again(a, len);
	atomic_fetch_add_explicit(&remaps, 1, memory_order_release);
	return 0;
}

void fsdax_remap_seen(void)
{
	(void)atomic_load_explicit(&remaps, memory_order_acquire);
}

#define PMD_SIZE	(2ULL << 20)

/*
 * Room for a file mapping: where a 2 MiB chunk of the file can sit on a
 * 2 MiB boundary (thp_get_unmapped_area()), so that an aligned chunk is
 * PMD-mapped.  PROT_NONE until the extents are mapped in.
 */
void *fsdax_place(size_t len, uint64_t off)
{
	uint64_t delta = off & (PMD_SIZE - 1);
	size_t span = len + PMD_SIZE;
	uintptr_t base, start;
	void *p;

	if (len < PMD_SIZE)
		return real.mmap(NULL, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	p = real.mmap(NULL, span, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return p;
	base = (uintptr_t)p;
	start = MF_ALIGN_UP(base, PMD_SIZE) + delta;
	if (start - base >= PMD_SIZE)
		start -= PMD_SIZE;
	if (start > base)
		real.munmap(p, start - base);
	if (base + span > start + len)
		real.munmap((void *)(start + len), base + span - (start + len));
	return (void *)start;
}

/* Map the file's extents of the data in place; what they do not cover
 * (past EOF) stays PROT_NONE and faults to the daemon. */
int fsdax_map_extents(uintptr_t start, uint64_t off, uint64_t len, const struct stat *st,
		       int prot, struct map_view *v, uint64_t *map_gen)
{
	static struct mf_fs_map_reply r;
	uint64_t at = off, end = off + len;
	int err, fd;

	while (at < end) {
		uint32_t i;

		err = fsdax_map_call(st, at, end - at, prot, &r, &fd);
		if (err)
			return err;
		if (at == off) {
			v->ns_id = r.ns_id;
			v->ns_gen = r.ns_gen;
			v->ns_pfn = r.pfn_base;
			*map_gen = r.map_gen;
		} else if (r.map_gen != *map_gen) {
			real.close(fd);
			return -EAGAIN;
		}
		fd = fsdax_keep_fd(r.ns_id, r.ns_gen, prot, fd);
		for (i = 0; i < r.count; i++) {
			uint64_t fo = r.e[i].foff << MF_PAGE_SHIFT, l = r.e[i].len << MF_PAGE_SHIFT;

			if (fo < off || fo + l > end ||
			    real.mmap((void *)(start + (fo - off)), l, prot, MAP_SHARED | MAP_FIXED, fd,
				      (off_t)(r.e[i].nsoff << MF_PAGE_SHIFT)) == MAP_FAILED) {
				err = fo < off || fo + l > end ? -EPROTO : -errno;
				if (fsdax_data_fd(r.ns_id, r.ns_gen, prot) != fd)
					real.close(fd);
				return err;
			}
		}
		if (fsdax_data_fd(r.ns_id, r.ns_gen, prot) != fd)
			real.close(fd);
		if (!r.more || !r.count)
			break;
		at = (r.e[r.count - 1].foff + r.e[r.count - 1].len) << MF_PAGE_SHIFT;
	}
	return 0;
}

/*
 * What a fault of a file of a shut-down XFS gets (the iomap lookup fails
 * with -EIO: VM_FAULT_SIGBUS): the range is mapped from an empty memfd,
 * so that every access raises SIGBUS with BUS_ADRERR, as past a file's
 * end.  Nothing of the namespace is in it, nothing to register.
 */
int fsdax_map_sigbus(void *p, uint64_t len, int prot)
{
	int fd = (int)syscall(SYS_memfd_create, "memfail-shutdown", MFD_CLOEXEC);
	void *q;

	if (fd < 0)
		return -errno;
	q = real.mmap(p, len, prot, MAP_SHARED | MAP_FIXED, fd, 0);
	real.close(fd);
	return q == MAP_FAILED ? -errno : 0;
}
