/* SPDX-License-Identifier: MIT */
/*
 * preload/preload.h: the LD_PRELOAD shim's internals.
 *
 * The shim makes an unmodified program see memfail's namespaces as
 * /dev/daxX.Y: open() returns a descriptor of the namespace's data,
 * mmap() maps it at the device alignment and registers the mapping with
 * memfaild, madvise() and prctl() speak the kernel's memory-failure ABI.
 * Healthy pages are plain shared memory: loads and stores never trap.
 *
 * Three kinds of code run in a client:
 *  - program threads, in the interposed calls (files.c, mmap.c,
 *    madvise.c, threads.c): they take the shim's locks with every signal
 *    blocked, so a program handler can never siglongjmp out of a locked
 *    section;
 *  - the service thread (service.c): answers the daemon's fence, zap and
 *    signal requests; it never asks the daemon anything, so memfaild can
 *    always wait for it;
 *  - signal handlers (fault.c): decide a fault from lock-free tables only,
 *    and raise SIGBUS on the faulting thread.
 */
#ifndef MF_PRELOAD_H
#define MF_PRELOAD_H

#include <pthread.h>
#include <stdio.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/types.h>
#include <sys/stat.h>
#include <sys/uio.h>

#include "../lib/client.h"
#include "../mm/mm.h"

#define PRELOAD_EXPORT __attribute__((visibility("default")))

/*
 * The interposed entry points.  They can run before the program's own
 * start-up is done: a sanitizer runtime's initialisation calls mmap() and
 * open() before any constructor has run.  Until the shim is initialised
 * they go straight to the real call (EARLY), through code no sanitizer
 * instruments.
 */
#define PRELOAD_ENTRY PRELOAD_EXPORT __attribute__((no_sanitize_thread))
extern int shim_ready;
#define EARLY(call) do {					\
	if (__builtin_expect(!shim_ready, 0)) {			\
		real_init();					\
		return call;					\
	}							\
} while (0)

/* The signal that makes a thread raise AO on itself (MF_AO_SIGNAL);
 * hidden from the program. */
#define MF_SIGNO MF_AO_SIGNAL

/* ---- real functions (init.c) ---- */
struct real_fns {
	int (*open)(const char *, int, ...);
	int (*openat)(int, const char *, int, ...);
	int (*close)(int);
	int (*dup)(int);
	int (*dup2)(int, int);
	int (*dup3)(int, int, int);
	int (*fcntl)(int, int, ...);
	int (*ioctl)(int, unsigned long, ...);
	void *(*mmap)(void *, size_t, int, int, int, off_t);
	int (*munmap)(void *, size_t);
	void *(*mremap)(void *, size_t, size_t, int, ...);
	int (*madvise)(void *, size_t, int);
	int (*prctl)(int, ...);
	int (*sigaction)(int, const struct sigaction *, struct sigaction *);
	int (*sigprocmask)(int, const sigset_t *, sigset_t *);
	int (*pthread_sigmask)(int, const sigset_t *, sigset_t *);
	__sighandler_t (*signal)(int, __sighandler_t);
	int (*pthread_create)(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *);
	ssize_t (*read)(int, void *, size_t);
	ssize_t (*write)(int, const void *, size_t);
	ssize_t (*pread)(int, void *, size_t, off_t);
	ssize_t (*pwrite)(int, const void *, size_t, off_t);
	ssize_t (*readv)(int, const struct iovec *, int);
	ssize_t (*writev)(int, const struct iovec *, int);
	ssize_t (*preadv2)(int, const struct iovec *, int, off_t, int);
	ssize_t (*pwritev2)(int, const struct iovec *, int, off_t, int);
	ssize_t (*sendfile)(int, int, off_t *, size_t);
	ssize_t (*splice)(int, off_t *, int, off_t *, size_t, unsigned);
	ssize_t (*copy_file_range)(int, off_t *, int, off_t *, size_t, unsigned);
	int (*ftruncate)(int, off_t);
	int (*truncate)(const char *, off_t);
	int (*fallocate)(int, int, off_t, off_t);
	int (*signalfd)(int, const sigset_t *, int);
	int (*fsync)(int);
	int (*fdatasync)(int);
	int (*msync)(void *, size_t, int);
	off_t (*lseek)(int, off_t, int);
	FILE *(*fopen)(const char *, const char *);
	FILE *(*fopen64)(const char *, const char *);
	int (*fflush)(FILE *);
	int (*fclose)(FILE *);
	char *(*realpath)(const char *, char *);
};
extern struct real_fns real;
void real_init(void) __attribute__((no_sanitize_thread));

/* ---- the connection to memfaild (init.c) ---- */
struct shim {
	pthread_mutex_t lock;		/* activation */
	atomic_bool active;		/* connected and registered */
	bool tried;			/* activation attempted */
	char sock_path[108];
	struct mf_client req;		/* program threads' requests */
	pthread_mutex_t req_lock;
	struct mf_client ctl;		/* the service thread's */
	pthread_t service;
	uint32_t profile;
	pid_t pid;
	pid_t daemon_pid;		/* may send us MF_SIGNO */
	int pagemap_fd;
	int uffd_fd;			/* -1 not yet, -2 unavailable */
	bool no_daemon;			/* activation failed: do not retry for mmap() */
	uint64_t family;		/* the fork lineage (cow.c): fork() copies it */
	atomic_bool relatives_unknown;	/* a fork() of the lineage registered no child */
};
extern struct shim shim;

/* Close one of the shim's own connections. */
void shim_client_close(struct mf_client *c);
/* Connect and register on first use.  0 or -errno (no daemon). */
int shim_activate(void);
/* A request from a program thread (serialised, signals blocked). */
ssize_t shim_call(void *req, size_t len, void *reply, size_t reply_max, int *fd_out);

/* Block every signal for a locked section; restore afterwards. */
void shim_block(sigset_t *old);
void shim_unblock(const sigset_t *old);

/* ---- dax file descriptors (files.c) ---- */
struct dax_ns {
	uint32_t id;
	uint64_t gen;
	uint64_t size;
	uint64_t align;
	uint64_t phys_base;
	char name[MF_NAME_LEN];
};

/* fork() takes every shim lock (init.c); each table offers its own. */
void files_lock(void);
void files_unlock(void);
void fencetab_lock(void);
void fencetab_unlock(void);
void signals_lock(void);
void signals_unlock(void);

/* Is fd a /dev/daxX.Y descriptor?  Copies what we know of it. */
bool dax_fd_get(int fd, struct dax_ns *ns, bool *readable, bool *writable);
bool shim_fd_internal(int fd);
/* Move a new internal fd up, out of the program's way. */
int shim_fd_move_high(int fd);
/* Move an internal fd out of the program's way (dup2 onto it). */
int shim_fd_relocate(int fd);

/* ---- mappings (mmap.c) ---- */
struct map_view {
	uint64_t start, len;
	/* pfn of the mapping's first page; of a file mapping, of the
	 * namespace's first page (its pages' blocks are anywhere in it) */
	uint64_t ns_pfn;
	uint64_t id;
	uint64_t ns_gen;
	uint32_t ns_id;
	uint64_t ns_off;
	uint64_t align;
	int prot;
	/* fsdax: a mapping of a file (ns_off is then the file offset) */
	bool file;
	uint64_t dev, ino;
};

/* Lock-free: safe in a signal handler. */
bool map_lookup(uintptr_t addr, struct map_view *out);

/* ---- fsdax files (fsdax.c) ---- */
struct stat;
struct mf_fs_map_reply;
/* A regular file on a FUSE mount: maybe an fsdax namespace's. */
bool fsdax_candidate(int fd, struct stat *st);
/* Map [p, p + len) for a file of a shut-down file system: every fault SIGBUS. */
int fsdax_map_sigbus(void *p, uint64_t len, int prot);
int fsdax_map_call(const struct stat *st, uint64_t off, uint64_t len, int prot,
		   struct mf_fs_map_reply *r, int *fd);
int fsdax_register_call(const struct map_view *v, uint64_t map_gen);
/* Room for a file mapping of len bytes from file offset off (PROT_NONE). */
void *fsdax_place(size_t len, uint64_t off);
/* Map the file's extents over [off, off + len) at start; fills in v's
 * namespace and the generation to register with. */
int fsdax_map_extents(uintptr_t start, uint64_t off, uint64_t len, const struct stat *st,
		      int prot, struct map_view *v, uint64_t *map_gen);
/* The namespace's data descriptor we keep (-1: none); _keep_fd keeps fd
 * (or closes it for the one we have) and returns the one to use. */
int fsdax_data_fd(uint32_t ns_id, uint64_t gen, int prot);
int fsdax_keep_fd(uint32_t ns_id, uint64_t gen, int prot, int fd);
bool fsdax_fd_internal(int fd);
/* Service thread: map [a, a + len) of file mapping v from ns_off. */
int fsdax_remap(const struct map_view *v, uint64_t a, uint64_t len, uint64_t ns_off);
/* Turn the kernel's fault-around off for a range (mmap.c): only pages
 * touched are in the page tables. */
void no_fault_around(uintptr_t start, size_t len);
/* The same for a range mapped anew, from the service thread: only if the
 * userfaultfd exists already. */
void no_fault_around_again(uintptr_t start, size_t len);
/* The faulting thread: what the service thread remapped is mapped. */
void fsdax_remap_seen(void);
bool map_lookup_id(uint64_t id, struct map_view *out);
/* Next mapping starting at or after addr (for madvise). */
bool map_next(uintptr_t addr, struct map_view *out);
/* MADV_DONTFORK / MADV_DOFORK over whole mappings. */
void maps_set_dontfork(uintptr_t addr, size_t len, bool dontfork);
/* Re-register every mapping after fork (child side). */
void maps_after_fork(void);
void map_lock(void);
void map_unlock(void);

/* ---- fenced pages (fencetab.c) ---- */
/* How a page is fenced (FENCE_GUARD/FENCE_MPROTECT), 0 if it is not. */
int fencetab_get(uintptr_t page);	/* lock-free */
int fencetab_add(uintptr_t page, int how);
void fencetab_del(uintptr_t page);
/* Forget every page in [start, start+len) (munmap). */
void fencetab_del_range(uintptr_t start, size_t len);
/* Units (by start address) the kernel would still have mapped although a
 * fence took a page of theirs out of our page tables. */
void units_keep(uintptr_t unit);
bool units_kept(uintptr_t unit);
void units_forget(uintptr_t start, size_t len);
/* Fence [addr, addr+len) page by page, skipping pages already fenced. */
int fence_pages(uintptr_t addr, size_t len);
int unfence_pages(uintptr_t addr, size_t len, int prot);

/*
 * ---- threads and early-kill policy (threads.c) ----
 * prctl(PR_MCE_KILL) is the kernel's own: it keeps the per-thread flags
 * with the kernel's inheritance rules (clone, fork, exec).  The shim reads
 * them back from /proc/self/task/<tid>/stat when the daemon asks.
 */
/* The first thread that takes an early-kill AO, as find_early_kill_thread()
 * (0 if none; never the service thread), its name and the main thread's.
 * For the service thread only. */
void threads_policy(int sysctl_early_kill, pid_t *early, char *early_comm,
		    char *main_comm, size_t n);
/* Something that may change the answer happened. */
void threads_changed(void);
bool thread_alive(pid_t tid);
void thread_comm(pid_t tid, char *buf, size_t n);
extern pid_t service_tid;
/* fork() waits for the threads being started to be in their start
 * routines, and no new one starts until it is done (threads.c). */
void threads_fork_lock(void);
void threads_fork_unlock(bool child);

/* ---- signals (signals.c, fault.c) ---- */
void signals_activate(void);
void fault_raise_sigbus(int code, uint64_t addr, unsigned lsb, void *uctx);
void fault_handler(int sig, siginfo_t *si, void *uctx);
void ao_handler(int sig, siginfo_t *si, void *uctx);
/* Pass a fault that is not ours to the program's SIGSEGV disposition. */
void signals_forward_segv(int sig, siginfo_t *si, void *uctx);

/* ---- the service thread (service.c) ---- */
int service_start(void);
/* fork() waits for the service thread to be idle (service.c). */
void service_lock(void);
void service_unlock(void);
void service_after_fork(void);
/* Is any page of [start, start + len) in our page tables? */
bool range_present(uint64_t start, uint64_t len);

/* ---- ordinary memory: what a page is (vma.c) ---- */
enum vma_fs { VMA_FS_ANON = 1, VMA_FS_SHMEM, VMA_FS_DISK };

struct vma_info {
	uint64_t start, end, pgoff;	/* pgoff: in bytes */
	dev_t dev;
	uint64_t ino;
	bool readable, writable, shared;
	bool hugetlb, locked, thp_advised;
	enum vma_fs fs;
	unsigned page_shift;		/* the hugetlb page's, else 12 */
	char path[256];
};

/* The mapping holding addr (detail: from smaps, with its page size and
 * flags): 0, -EFAULT (none) or -errno. */
int vma_find(uintptr_t addr, struct vma_info *out, bool detail);
/* Every mapping of (dev, ino) over offset off; fn gets the address of
 * off in it; stops when fn returns non-zero (which it returns). */
int vma_for_each_file(dev_t dev, uint64_t ino, uint64_t off,
		      int (*fn)(const struct vma_info *v, uint64_t addr, void *arg), void *arg);
/* How memfaild names the page at addr of v. */
int vma_page(const struct vma_info *v, uintptr_t addr, struct mf_ram_page *p);
/* The same without asking whether a page-cache page is dirty. */
int vma_page_nostate(const struct vma_info *v, uintptr_t addr, struct mf_ram_page *p);
/* Every mapping overlapping [start, end), in address order. */
int vma_for_each_range(uint64_t start, uint64_t end,
		       int (*fn)(const struct vma_info *v, uint64_t addr, void *arg), void *arg);
/* Is the page-cache page at off of v's file dirty: 1, 0, -1 cannot tell. */
int file_page_dirty(const struct vma_info *v, uint64_t off);
/* PAGEMAP_SCAN (Linux 6.7) of /proc/self/pagemap, in case the headers
 * predate it */
struct mf_page_region {
	uint64_t start, end, categories;
};

struct mf_pm_scan_arg {
	uint64_t size, flags, start, end, walk_end, vec, vec_len, max_pages;
	uint64_t category_inverted, category_mask, category_anyof_mask, return_mask;
};

#define MF_PAGEMAP_SCAN		_IOWR('f', 16, struct mf_pm_scan_arg)
#define MF_PAGE_IS_PRESENT	(1ULL << 3)
#define MF_PAGE_IS_HUGE		(1ULL << 6)

/* Our /proc/self/pagemap entry of addr (0 if it cannot be read). */
uint64_t pagemap_entry(uintptr_t addr);
/* Is addr in a transparent huge page now? */
bool thp_mapped(uintptr_t addr);

/* ---- private pages shared copy-on-write since fork() (cow.c) ---- */
void cow_family_init(void);
/* The poisoner's view of its page: c->family 0 if not shared. */
void cow_note_page(uintptr_t addr, int advice, struct mf_ram_cow *c);
/* A relative's: is its page at m->page.addr the one m names? */
struct vma_info;
bool cow_same_page(const struct mf_ctl_ram *m, struct vma_info *v);

/* ---- ordinary memory: poison (memory.c) ---- */
struct ram_poison {
	uint64_t addr;			/* of the page, or of the hugetlb page */
	uint64_t pfn;			/* memfaild's frame (its head) */
	uint32_t shift;
	uint32_t kind;			/* MF_RAM_*_PAGE */
	uint32_t shared;
	int how;			/* FENCE_GUARD, FENCE_MPROTECT */
	/* not in our page tables when it was poisoned (a shared page never
	 * faulted here, a new mapping or fork()'s copy of a shared mapping):
	 * the kernel put no hwpoison entry there, pagemap shows a hole */
	uint32_t unmapped;
};

/* madvise(MADV_HWPOISON / MADV_SOFT_OFFLINE) of ordinary memory. */
int ram_madvise(uintptr_t start, size_t len, int advice);
/* Lock-free: safe in a signal handler. */
bool ram_poison_lookup(uintptr_t addr, struct ram_poison *out);
/* The fault handler's part: true if addr was a poisoned page of ours. */
bool ram_fault(uintptr_t addr, void *uctx);
/* The service thread's part: MF_CTL_RAM. */
void ram_ctl(const struct mf_ctl_ram *m);
void ram_forget_range(uintptr_t start, size_t len);
void ram_after_fork(void);
void ram_lock_all(void);
void ram_unlock_all(void);

/* ---- the pfns pagemap shows (pagemap.c) ---- */
/* Lay memfail's view over n real entries from virtual page first_vpn. */
void pagemap_overlay(uint64_t first_vpn, uint64_t *e, size_t n, bool show_pfn);
void pagemap_lock(void);
void pagemap_unlock(void);
void pfn_cache_forget(uintptr_t start, size_t len);
/* A descriptor the program mapped (dev, ino) from and still has, or -1. */
int mmap_note_fd(dev_t dev, uint64_t ino);
/* A non-dax mmap() of a file (fd >= 0) succeeded, or munmap(). */
void mmap_note(uintptr_t addr, size_t len, int fd, int flags);
void mmap_note_forget(uintptr_t addr, size_t len);
void mmap_notes_lock(void);
void mmap_notes_unlock(void);
void mmap_notes_after_fork(void);
/* After a successful ordinary mmap() / munmap() (memory.c). */
void ram_mapped(uintptr_t addr, size_t len, int prot, int flags, int fd, off_t off);
void ram_unmapped(uintptr_t addr, size_t len);
void ram_fence_file_page(uintptr_t addr, const struct mf_ram_file_entry *e);

/* ---- what poison does to files (ramfiles.c) ---- */
const struct mf_status_page *ram_status(void);
/* 0 while no file has anything (one load) */
uint64_t ram_file_gen(void);
#define RAM_IO_POS	1u	/* at the file position (off is not used) */
#define RAM_IO_WRITE	2u
int ram_io_clip(int fd, off_t off, unsigned flags, size_t *n);
int ram_fsync_check(int fd);
/* The open file a descriptor is of (ramfiles.c), as its dup()s and the
 * mappings made from it share it, for the writeback errors it reports. */
struct wb_ref {
	uint64_t tag;		/* the open file */
	uint64_t gen0;		/* the error generation it was opened at */
};
struct wb_ref wb_ref_of_fd(int fd);
int ram_wb_err_take(const struct wb_ref *f, dev_t dev, uint64_t ino);
int ram_msync_check(uintptr_t addr, size_t len);
void ram_fd_opened(int fd);
void ram_fd_dup(int oldfd, int newfd);
/* closed behind our back (fclose()): forget what read() knew of it */
void ram_fd_closed(int fd);
void ram_file_mapped(uintptr_t addr, size_t len, int fd, off_t off);
/* [from, end) was cut out of fd's file (ftruncate(), a punched hole) */
void ram_file_cut(int fd, uint64_t from, uint64_t end);
void ramfiles_lock(void);
void ramfiles_unlock(void);
void ramfiles_after_fork(void);

/* ---- messages ---- */
/* ---- the emulated kernel files (vfs.c, vfs.h) ---- */
/* open(): the new descriptor, -1 with errno, or -2: not emulated */
int vfs_open(int dirfd, const char *path, int flags);
/* -2: fd is not an emulated file */
ssize_t vfs_read(int fd, void *buf, size_t n, off_t off);
ssize_t vfs_write(int fd, const void *buf, size_t n);
int vfs_close(int fd);
void vfs_dup(int oldfd, int newfd);
int vfs_flush(int fd);
off_t vfs_lseek(int fd, off_t off, int whence);
int vfs_stat(int dirfd, const char *path, struct stat *st);
int vfs_fstat(int fd, struct stat *st);
int vfs_access(int dirfd, const char *path, int mode);
bool vfs_is_emulated(int dirfd, const char *path);
void vfs_inherit(void);
void vfs_at_exit(void);
void vfs_lock_all(void);
void vfs_unlock_all(void);

/* The emulated privileges of the calling thread (init.c). */
enum shim_priv {
	PRIV_OWN_MEMORY,	/* CAP_SYS_ADMIN over our memory: madvise() */
	PRIV_SYS_ADMIN,		/* CAP_SYS_ADMIN: pagemap's pfns */
	PRIV_FILES,		/* root's, the kernel's files: their mode bits, dmesg */
};
bool shim_privileged(enum shim_priv what);
/* "memfail: <what>" on stderr, once per kind (a small integer). */
void shim_warn_once(unsigned kind, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The fault handler's report: the reply's length, or -1. */
ssize_t fault_report(void *msg, size_t len, void *reply, size_t rlen);

pid_t shim_gettid(void);
/* The daemon's behaviour profile (the default before we connect). */
const struct mf_profile *shim_profile(void);

#endif /* MF_PRELOAD_H */
