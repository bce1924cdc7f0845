// SPDX-License-Identifier: MIT
/*
 * preload/ramfiles.c: what a poisoned page does to its file.
 *
 *  - A shmem page (tmpfs, memfd, shared anonymous, hugetlbfs) stays in
 *    its file, poisoned: read() and write() stop short of it and fail
 *    with EIO on it, and a new mapping of it faults as the old ones do.
 *  - A dirty page-cache page is truncated from its file: the file reads
 *    from disk again, and the error is kept for fsync(), fdatasync() and
 *    msync(MS_SYNC), each of which reports it once per open file (per
 *    descriptor or mapping here) opened before it happened.
 *
 * memfaild keeps the list; its status page says when it changed, so the
 * common case (no file has anything) costs one load per call.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../util/util.h"
#include "preload.h"

static const struct mf_status_page *status;
static atomic_int status_tried;
static pthread_mutex_t poison_files_lock = PTHREAD_MUTEX_INITIALIZER;

/* the daemon's list, as of gen */
static struct mf_ram_file_entry *list;
static size_t nr_list;
static uint64_t list_gen;

/* per descriptor: the status generation when it was opened, and the
 * last error it reported */
struct fd_gen {
	uint64_t opened, seen;
};
static struct fd_gen *fdg;
static size_t nr_fdg;

void ramfiles_lock(void)
{
	pthread_mutex_lock(&poison_files_lock);
}

void ramfiles_unlock(void)
{
	pthread_mutex_unlock(&poison_files_lock);
}

const struct mf_status_page *ram_status(void)
{
	char path[sizeof(shim.sock_path) + 8];
	void *p;
	int fd;

	if (status)
		return status;
	/* one try per process: the common answer is "no daemon" */
	if (atomic_load_explicit(&status_tried, memory_order_relaxed) ||
	    atomic_exchange(&status_tried, 1))
		return status;
	if (!shim.sock_path[0])
		return NULL;
	snprintf(path, sizeof(path), "%s.status", shim.sock_path);
	fd = real.open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	p = real.mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
	real.close(fd);
	if (p == MAP_FAILED)
		return NULL;
	if (__atomic_load_n(&((const struct mf_status_page *)p)->magic, __ATOMIC_ACQUIRE) !=
	    MF_STATUS_MAGIC) {
		real.munmap(p, 4096);
		return NULL;
	}
	__atomic_store_n(&status, (const struct mf_status_page *)p, __ATOMIC_RELEASE);
	return status;
}

uint64_t ram_file_gen(void)
{
	const struct mf_status_page *s = __atomic_load_n(&status, __ATOMIC_ACQUIRE);

	return s ? __atomic_load_n(&s->file_gen, __ATOMIC_ACQUIRE) : 0;
}

/*
 * Registering takes shim.lock, which comes before poison_files_lock:
 * callers do it here, before they take that, if the list is stale.
 */
static void sync_prepare(void)
{
	if (ram_file_gen() != __atomic_load_n(&list_gen, __ATOMIC_RELAXED))
		shim_activate();
}

/* Fetch the list if it changed (and we could register, sync_prepare()).
 * Caller holds poison_files_lock. */
static void sync_list(void)
{
	static char buf[MF_MSG_MAX];
	const struct mf_ram_files_reply *r = (const void *)buf;
	uint64_t gen = ram_file_gen();
	struct mf_ram_file_entry *n = NULL;
	struct mf_ram_files m;
	size_t count = 0;

	if (gen == list_gen || !atomic_load(&shim.active))
		return;
	memset(&m, 0, sizeof(m));
	for (;;) {
		ssize_t len;
		struct mf_ram_file_entry *g;

		m.hdr.type = MF_RAM_FILES;
		len = shim_call(&m, sizeof(m), buf, sizeof(buf), NULL);
		if (len < (ssize_t)sizeof(*r) || r->r.error ||
		    (size_t)len != sizeof(*r) + r->count * sizeof(r->e[0])) {
			free(n);
			return;		/* keep the old one; try again next time */
		}
		g = realloc(n, (count + r->count + 1) * sizeof(*n));
		if (!g) {
			free(n);
			return;
		}
		n = g;
		memcpy(n + count, r->e, r->count * sizeof(*n));
		count += r->count;
		if (!r->more || !r->count)
			break;
		m.dev = r->e[r->count - 1].dev;
		m.ino = r->e[r->count - 1].ino;
		m.off = r->e[r->count - 1].off;
	}
	free(list);
	list = n;
	nr_list = count;
	__atomic_store_n(&list_gen, gen, __ATOMIC_RELAXED);
}

static bool fd_file(int fd, struct stat *st)
{
	return !fstat(fd, st) && (S_ISREG(st->st_mode) || S_ISBLK(st->st_mode));
}

/*
 * read()/write() of [off, off + *n) of fd: stop short of a poisoned page
 * of the file, fail on one.  0, or -EIO.
 */
int ram_io_clip(int fd, off_t off, size_t *n)
{
	struct stat st;
	sigset_t old;
	size_t i;
	int err = 0;

	if (!ram_file_gen() || !*n || !fd_file(fd, &st))
		return 0;
	sync_prepare();
	shim_block(&old);
	pthread_mutex_lock(&poison_files_lock);
	sync_list();
	for (i = 0; i < nr_list; i++) {
		const struct mf_ram_file_entry *e = &list[i];
		uint64_t s, end;

		if (e->dev != st.st_dev || e->ino != st.st_ino)
			continue;
		s = e->off;
		end = s + (1ULL << e->shift);
		if (e->what == MF_FILE_WB_ERR) {
			/* the page cache still has what Linux dropped */
			if ((uint64_t)off < end && (uint64_t)off + *n > s)
				shim_warn_once(3, "read of a file whose dirty page at offset %#llx was poisoned: Linux reads what was last written back to disk there; memfail reads the page as it was",
					       (unsigned long long)s);
			continue;
		}
		if ((uint64_t)off >= s && (uint64_t)off < end) {
			err = -EIO;
			break;
		}
		if ((uint64_t)off < s && (uint64_t)off + *n > s)
			*n = s - (uint64_t)off;
	}
	pthread_mutex_unlock(&poison_files_lock);
	shim_unblock(&old);
	return err;
}

/* The newest writeback error of the file after `after`, or 0. */
static uint64_t wb_err_after(dev_t dev, uint64_t ino, uint64_t after)
{
	uint64_t gen = 0;
	size_t i;

	sync_list();
	for (i = 0; i < nr_list; i++)
		if (list[i].what == MF_FILE_WB_ERR && list[i].dev == dev && list[i].ino == ino &&
		    list[i].gen > after && list[i].gen > gen)
			gen = list[i].gen;
	return gen;
}

static struct fd_gen *fdg_slot(int fd, bool make)
{
	if (fd < 0)
		return NULL;
	if ((size_t)fd >= nr_fdg) {
		size_t n = nr_fdg ? nr_fdg : 64;
		struct fd_gen *g;

		if (!make)
			return NULL;
		while (n <= (size_t)fd)
			n *= 2;
		g = realloc(fdg, n * sizeof(*g));
		if (!g)
			return NULL;
		memset(g + nr_fdg, 0, (n - nr_fdg) * sizeof(*g));
		fdg = g;
		nr_fdg = n;
	}
	return &fdg[fd];
}

uint64_t ram_wb_err_after(dev_t dev, uint64_t ino, uint64_t after)
{
	uint64_t gen;
	sigset_t old;

	if (!ram_file_gen())
		return 0;
	sync_prepare();
	shim_block(&old);
	pthread_mutex_lock(&poison_files_lock);
	gen = wb_err_after(dev, ino, after);
	pthread_mutex_unlock(&poison_files_lock);
	shim_unblock(&old);
	return gen;
}

int ram_fsync_check(int fd)
{
	struct fd_gen *g;
	struct stat st;
	uint64_t gen;
	sigset_t old;
	int err = 0;

	if (!ram_file_gen() || !fd_file(fd, &st))
		return 0;
	sync_prepare();
	shim_block(&old);
	pthread_mutex_lock(&poison_files_lock);
	g = fdg_slot(fd, true);
	gen = wb_err_after(st.st_dev, st.st_ino, g ? (g->opened > g->seen ? g->opened : g->seen) : 0);
	if (gen) {
		err = -EIO;
		if (g)
			g->seen = gen;
	}
	pthread_mutex_unlock(&poison_files_lock);
	shim_unblock(&old);
	return err;
}

/* A new descriptor: it has seen every error that happened before it. */
void ram_fd_opened(int fd)
{
	uint64_t gen;
	sigset_t old;

	ram_status();
	gen = ram_file_gen();
	if (!gen && !nr_fdg)
		return;
	shim_block(&old);
	pthread_mutex_lock(&poison_files_lock);
	{
		struct fd_gen *g = fdg_slot(fd, gen != 0);

		if (g)
			g->opened = g->seen = gen;
	}
	pthread_mutex_unlock(&poison_files_lock);
	shim_unblock(&old);
}

/* dup(): the same open file; -1 for oldfd: newfd was closed. */
void ram_fd_dup(int oldfd, int newfd)
{
	sigset_t old;

	if (!nr_fdg)
		return;
	shim_block(&old);
	pthread_mutex_lock(&poison_files_lock);
	{
		struct fd_gen *from = fdg_slot(oldfd, false), *to = fdg_slot(newfd, from != NULL);

		if (to)
			*to = from ? *from : (struct fd_gen){ 0, 0 };
	}
	pthread_mutex_unlock(&poison_files_lock);
	shim_unblock(&old);
}

/*
 * A new mapping of a file: its pages that are poisoned in the file
 * (shmem) fault in it too.  The process is told of poison from now on.
 */
void ram_file_mapped(uintptr_t addr, size_t len, int fd, off_t off)
{
	struct stat st;
	sigset_t old;
	size_t i;

	if (!ram_file_gen() || fd < 0 || fstat(fd, &st))
		return;
	sync_prepare();
	shim_block(&old);
	pthread_mutex_lock(&poison_files_lock);
	sync_list();
	for (i = 0; i < nr_list; i++) {
		const struct mf_ram_file_entry *e = &list[i];

		if (e->what != MF_FILE_POISON || e->dev != st.st_dev || e->ino != st.st_ino ||
		    e->off < (uint64_t)off || e->off - (uint64_t)off >= len)
			continue;
		ram_fence_file_page(addr + (e->off - (uint64_t)off), e);
	}
	pthread_mutex_unlock(&poison_files_lock);
	shim_unblock(&old);
}

/* After fork: the same files, and the same errors seen. */
void ramfiles_after_fork(void)
{
	pthread_mutex_init(&poison_files_lock, NULL);
}
