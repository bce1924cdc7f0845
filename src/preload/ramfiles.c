// SPDX-License-Identifier: MIT
/*
 * preload/ramfiles.c: what a poisoned page does to its file.
 *
 *  - A shmem page (tmpfs, memfd, shared anonymous, hugetlbfs) stays in
 *    its file, poisoned: read() and write() stop short of it and fail
 *    with EIO on it, and a new mapping of it faults as the old ones do.
 *  - A dirty page-cache page is truncated from its file: the file reads
 *    from disk again, and the error is kept for fsync(), fdatasync() and
 *    msync(MS_SYNC), each of which reports it once per open file opened
 *    before it happened (a descriptor, its dup()s and the mappings made
 *    from it are one open file).
 *
 * memfaild keeps the list; its status page says when it changed, so the
 * common case (no file has anything) costs one load per call, and a
 * descriptor the list has nothing of costs about as little (fd_state).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../util/u64map.h"
#include "../util/util.h"
#include "preload.h"

static const struct mf_status_page *status;
static atomic_int status_tried;
static pthread_mutex_t poison_files_lock = PTHREAD_MUTEX_INITIALIZER;

/* the daemon's list, as of gen */
static struct mf_ram_file_entry *list;
static size_t nr_list;
static uint64_t list_gen;
static atomic_uint list_serial;		/* bumps with every new list */
static atomic_bool wb_read_warned;	/* warning 3 was given */

/*
 * Open files, as Linux's struct file is shared by a descriptor, its
 * dup()s and the mappings made from it: a tag, and the error generation
 * the file was opened at (errors up to it came before the open and are
 * never reported through it).  Descriptors below FD_TAGS keep theirs in
 * fd_tag[] and fd_gen0[], set without a lock or a signal mask: open(),
 * dup() and close() are hot in most programs (and async-signal-safe in
 * them); the rare ones above, in a map under a lock.
 * What an open file has reported (Linux's f_wb_err) is kept by tag, under
 * poison_files_lock, and only once it has reported something: an entry
 * per open file that met a writeback error.
 */
#define FD_TAGS		8192
static _Atomic uint64_t fd_tag[FD_TAGS], fd_gen0[FD_TAGS];
static atomic_uint_fast64_t next_tag = 1;
/* descriptors past FD_TAGS: by number, under hi_lock (innermost) */
static pthread_mutex_t hi_lock = PTHREAD_MUTEX_INITIALIZER;
static struct u64map hi_tag, hi_gen0;
/* tag -> the newest error generation reported through it */
static struct u64map reported;

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
 * The list is not a process's: a process that is not registered asks on
 * a connection of its own (admin), so that reading a file after a poison
 * event does not make it one the daemon must ask about every page.  It
 * is made before poison_files_lock is taken: a failed connect closes its
 * socket through our close(), which takes that lock.
 */
static void list_prepare(struct mf_client *own)
{
	char comm[16] = "";

	own->fd = -1;
	if (ram_file_gen() == __atomic_load_n(&list_gen, __ATOMIC_SEQ_CST) ||
	    atomic_load(&shim.active) || !shim.sock_path[0])
		return;
	real.prctl(PR_GET_NAME, comm, 0, 0, 0);
	if (mf_client_connect(own, shim.sock_path, MF_ROLE_ADMIN, comm))
		own->fd = -1;
	else
		own->fd = shim_fd_move_high(own->fd);
}

static void list_done(struct mf_client *own)
{
	if (own->fd >= 0)
		real.close(own->fd);
	own->fd = -1;
}

/*
 * Fetch the list if it changed: on own if list_prepare() made it, else on
 * the request connection.  Caller holds poison_files_lock.
 */
static void sync_list(struct mf_client *own)
{
	static char buf[MF_MSG_MAX];
	const struct mf_ram_files_reply *r = (const void *)buf;
	uint64_t gen = ram_file_gen();
	struct mf_ram_file_entry *n = NULL;
	struct mf_ram_files m;
	size_t count = 0;

	if (gen == list_gen || (own->fd < 0 && !atomic_load(&shim.active)))
		return;
	memset(&m, 0, sizeof(m));
	for (;;) {
		ssize_t len;
		struct mf_ram_file_entry *g;

		m.hdr.type = MF_RAM_FILES;
		len = own->fd >= 0 ? mf_client_call(own, &m, sizeof(m), buf, sizeof(buf), NULL) :
				     shim_call(&m, sizeof(m), buf, sizeof(buf), NULL);
		if (len < (ssize_t)sizeof(*r) || r->r.error ||
		    (size_t)len != sizeof(*r) + r->count * sizeof(r->e[0]))
			goto fail;	/* keep the old one; try again next time */
		g = realloc(n, (count + r->count + 1) * sizeof(*n));
		if (!g)
			goto fail;
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
	/* every "nothing to clip" said of a descriptor was of the old list */
	atomic_fetch_add(&list_serial, 1);
	__atomic_store_n(&list_gen, gen, __ATOMIC_SEQ_CST);
	return;
fail:
	free(n);
}

/* Take poison_files_lock (signals blocked), the list brought up to date. */
static void list_lock(struct mf_client *own, sigset_t *old)
{
	shim_block(old);
	list_prepare(own);
	pthread_mutex_lock(&poison_files_lock);
	sync_list(own);
}

static void list_unlock(struct mf_client *own, const sigset_t *old)
{
	pthread_mutex_unlock(&poison_files_lock);
	list_done(own);
	shim_unblock(old);
}

static bool fd_file(int fd, struct stat *st)
{
	return !fstat(fd, st) && (S_ISREG(st->st_mode) || S_ISBLK(st->st_mode));
}

/*
 * What read() and write() know of a descriptor without asking, so that
 * once any file anywhere had poison, I/O of pipes, sockets and files
 * the list does not name costs a load: FDK_OTHER, not a file; or a file
 * the list of serial (state >> 2) has nothing to clip of.  Forgotten
 * when the number is opened, duplicated onto or closed (close(), dup2(),
 * fclose()).  (A program that closes a descriptor while another thread
 * reads it races with itself.)
 */
#define FDK_OTHER	1u
#define FDK_CLEAN	2u
#define FD_FAST		65536
static _Atomic uint32_t fd_state[FD_FAST];

static void fd_state_set(int fd, uint32_t v)
{
	if (fd >= 0 && fd < FD_FAST)
		atomic_store_explicit(&fd_state[fd], v, memory_order_relaxed);
}

static bool fd_nothing_to_clip(int fd)
{
	uint32_t v;

	if (fd < 0 || fd >= FD_FAST)
		return false;
	v = atomic_load_explicit(&fd_state[fd], memory_order_relaxed);
	if (v == FDK_OTHER)
		return true;
	if ((v & 3) != FDK_CLEAN)
		return false;
	/*
	 * A verdict of the list we have, and that list is current.  The list's
	 * generation is read before its serial, which sync_list() bumps before
	 * it publishes the generation: a verdict of the list before is stale.
	 */
	return __atomic_load_n(&list_gen, __ATOMIC_SEQ_CST) == ram_file_gen() &&
	       v >> 2 == (atomic_load(&list_serial) & 0x3fffffff);
}

/* Does the list have anything of the file that needs the I/O's offset?
 * Caller holds poison_files_lock. */
static bool file_listed(const struct stat *st)
{
	size_t i;

	for (i = 0; i < nr_list; i++)
		if (list[i].dev == st->st_dev && list[i].ino == st->st_ino &&
		    (list[i].what == MF_FILE_POISON || !atomic_load(&wb_read_warned)))
			return true;
	return false;
}

/*
 * read()/write() (flags: RAM_IO_*) of [off, off + *n) of fd, off the file
 * position with RAM_IO_POS: stop short of a poisoned page of the file,
 * fail on one.  0, or -EIO.
 */
int ram_io_clip(int fd, off_t off, unsigned flags, size_t *n)
{
	struct mf_client own;
	struct stat st;
	sigset_t old;
	size_t i;
	int err = 0;

	if (!ram_file_gen() || !*n || fd_nothing_to_clip(fd) || fstat(fd, &st))
		return 0;
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode)) {
		fd_state_set(fd, FDK_OTHER);
		return 0;
	}
	list_lock(&own, &old);
	if (!file_listed(&st)) {
		fd_state_set(fd, (atomic_load(&list_serial) & 0x3fffffff) << 2 | FDK_CLEAN);
		goto out;
	}
	/* an O_APPEND write goes to the end, whatever the offset (pwrite too) */
	if ((flags & RAM_IO_WRITE) && (real.fcntl(fd, F_GETFL) & O_APPEND))
		off = st.st_size;
	else if (flags & RAM_IO_POS)
		off = real.lseek(fd, 0, SEEK_CUR);
	if (off < 0)
		goto out;	/* not seekable, or the call fails anyway */
	for (i = 0; i < nr_list; i++) {
		const struct mf_ram_file_entry *e = &list[i];
		uint64_t s, end;

		if (e->dev != st.st_dev || e->ino != st.st_ino)
			continue;
		s = e->off;
		end = s + (1ULL << e->shift);
		if (e->what == MF_FILE_WB_ERR) {
			/* the page cache still has what Linux dropped */
			if ((uint64_t)off < end && (uint64_t)off + *n > s &&
			    !atomic_exchange(&wb_read_warned, true))
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
out:
	list_unlock(&own, &old);
	return err;
}

/* The newest writeback error of the file after `after`, or 0.  Caller
 * holds list_lock(). */
static uint64_t wb_err_after(dev_t dev, uint64_t ino, uint64_t after)
{
	uint64_t gen = 0;
	size_t i;

	for (i = 0; i < nr_list; i++)
		if (list[i].what == MF_FILE_WB_ERR && list[i].dev == dev && list[i].ino == ino &&
		    list[i].gen > after && list[i].gen > gen)
			gen = list[i].gen;
	return gen;
}

static uint64_t new_tag(void)
{
	return atomic_fetch_add_explicit(&next_tag, 1, memory_order_relaxed);
}

static void fd_file_set(int fd, uint64_t tag, uint64_t gen0)
{
	sigset_t old;

	if (fd < 0)
		return;
	if (fd < FD_TAGS) {
		atomic_store_explicit(&fd_gen0[fd], gen0, memory_order_relaxed);
		atomic_store_explicit(&fd_tag[fd], tag, memory_order_release);
		return;
	}
	shim_block(&old);
	pthread_mutex_lock(&hi_lock);
	if (tag) {
		/* no memory: the descriptor is taken for one the shim never saw */
		if (u64map_put(&hi_tag, (uint64_t)fd, tag) || u64map_put(&hi_gen0, (uint64_t)fd, gen0))
			u64map_del(&hi_tag, (uint64_t)fd);
	} else {
		u64map_del(&hi_tag, (uint64_t)fd);
		u64map_del(&hi_gen0, (uint64_t)fd);
	}
	pthread_mutex_unlock(&hi_lock);
	shim_unblock(&old);
}

/*
 * The open file of fd: its tag and *gen0.  A descriptor the shim never
 * saw opened (inherited, from before the library was loaded, or made by
 * a raw system call) gets a tag now, as an open file that has seen
 * nothing; two threads asking at once agree on it.
 */
static uint64_t fd_file_get(int fd, uint64_t *gen0)
{
	uint64_t tag = 0, fresh;
	sigset_t old;

	*gen0 = 0;
	if (fd < 0)
		return 0;
	if (fd < FD_TAGS) {
		tag = atomic_load_explicit(&fd_tag[fd], memory_order_acquire);
		if (tag) {
			*gen0 = atomic_load_explicit(&fd_gen0[fd], memory_order_relaxed);
			return tag;
		}
		fresh = new_tag();
		atomic_store_explicit(&fd_gen0[fd], 0, memory_order_relaxed);
		return atomic_compare_exchange_strong(&fd_tag[fd], &tag, fresh) ? fresh : tag;
	}
	shim_block(&old);
	pthread_mutex_lock(&hi_lock);
	if (u64map_get(&hi_tag, (uint64_t)fd, &tag)) {
		u64map_get(&hi_gen0, (uint64_t)fd, gen0);
	} else {
		tag = new_tag();
		if (u64map_put(&hi_tag, (uint64_t)fd, tag) || u64map_put(&hi_gen0, (uint64_t)fd, 0))
			u64map_del(&hi_tag, (uint64_t)fd);
	}
	pthread_mutex_unlock(&hi_lock);
	shim_unblock(&old);
	return tag;
}

struct wb_ref wb_ref_of_fd(int fd)
{
	struct wb_ref r;

	r.tag = fd_file_get(fd, &r.gen0);
	return r;
}

/*
 * Report writeback error generation gen through the open file, once:
 * false if it was reported already or came before the open.  Caller
 * holds poison_files_lock.  With no memory to remember it in, it is
 * reported again next time rather than lost.
 */
static bool wb_report(const struct wb_ref *f, uint64_t gen)
{
	uint64_t seen = f->gen0, r;

	if (u64map_get(&reported, f->tag, &r) && r > seen)
		seen = r;
	if (gen <= seen)
		return false;
	u64map_put(&reported, f->tag, gen);
	return true;
}

/* Does the file have a writeback error that the open file f has not
 * reported?  -EIO once for each, 0 if not. */
int ram_wb_err_take(const struct wb_ref *f, dev_t dev, uint64_t ino)
{
	struct mf_client own;
	uint64_t gen;
	sigset_t old;
	bool report;

	if (!ram_file_gen())
		return 0;
	list_lock(&own, &old);
	gen = wb_err_after(dev, ino, f->gen0);
	report = gen && wb_report(f, gen);
	list_unlock(&own, &old);
	return report ? -EIO : 0;
}

int ram_fsync_check(int fd)
{
	struct wb_ref f;
	struct stat st;

	if (!ram_file_gen() || !fd_file(fd, &st))
		return 0;
	f = wb_ref_of_fd(fd);
	return ram_wb_err_take(&f, st.st_dev, st.st_ino);
}

/* A new descriptor: a new open file, which has seen every error that
 * happened before it. */
void ram_fd_opened(int fd)
{
	fd_state_set(fd, 0);
	ram_status();
	fd_file_set(fd, new_tag(), ram_file_gen());
}

void ram_fd_closed(int fd)
{
	ram_fd_dup(-1, fd);
}

/* dup(): the same open file; -1 for oldfd: newfd was closed. */
void ram_fd_dup(int oldfd, int newfd)
{
	uint64_t tag = 0, gen0 = 0;

	fd_state_set(newfd, 0);
	if (oldfd >= 0)
		tag = fd_file_get(oldfd, &gen0);
	fd_file_set(newfd, tag, gen0);
}

/*
 * A new mapping of a file: its pages that are poisoned in the file
 * (shmem) fault in it too.  The process is told of poison from now on.
 */
void ram_file_mapped(uintptr_t addr, size_t len, int fd, off_t off)
{
	struct mf_client own;
	struct stat st;
	sigset_t old;
	size_t i;

	if (!ram_file_gen() || fd < 0 || fstat(fd, &st))
		return;
	list_lock(&own, &old);
	for (i = 0; i < nr_list; i++) {
		const struct mf_ram_file_entry *e = &list[i];

		if (e->what != MF_FILE_POISON || e->dev != st.st_dev || e->ino != st.st_ino ||
		    e->off < (uint64_t)off || e->off - (uint64_t)off >= len)
			continue;
		ram_fence_file_page(addr + (e->off - (uint64_t)off), e);
	}
	list_unlock(&own, &old);
}

/*
 * [from, end) was cut out of fd's file: a shmem file's poisoned pages
 * there go with it (truncate_inode_pages()), and memfaild lifts their
 * fences in every mapping.  Asked only when the list has one there.
 */
void ram_file_cut(int fd, uint64_t from, uint64_t end)
{
	struct mf_ram_truncate m;
	struct mf_client own;
	struct mf_reply r;
	struct stat st;
	bool any = false;
	sigset_t old;
	size_t i;

	if (from >= end || !ram_file_gen() || !fd_file(fd, &st) || !S_ISREG(st.st_mode))
		return;
	list_lock(&own, &old);
	for (i = 0; i < nr_list && !any; i++)
		any = list[i].what == MF_FILE_POISON && list[i].dev == st.st_dev &&
		      list[i].ino == st.st_ino && list[i].off >= from &&
		      list[i].off + (1ULL << list[i].shift) <= end;
	list_unlock(&own, &old);
	if (!any)
		return;
	memset(&m, 0, sizeof(m));
	m.hdr.type = MF_RAM_TRUNCATE;
	m.dev = st.st_dev;
	m.ino = st.st_ino;
	m.from = from;
	m.end = end;
	m.fd = fd;
	if (shim_call(&m, sizeof(m), &r, sizeof(r), NULL) < 0 || r.error)
		shim_warn_once(5, "a shmem file's poisoned page was truncated away, but memfaild could not be told: its mappings still fault on it");
}

/* After fork: the same files, and the same errors seen. */
void ramfiles_after_fork(void)
{
	pthread_mutex_init(&poison_files_lock, NULL);
	pthread_mutex_init(&hi_lock, NULL);
}
