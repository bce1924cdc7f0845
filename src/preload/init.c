// SPDX-License-Identifier: MIT
/*
 * preload/init.c: start-up, the connection to memfaild, fork.
 *
 * Nothing is connected until the program opens a /dev/daxX.Y of
 * memfail's: programs that never do (shells, helpers under `memfail run`)
 * cost the daemon nothing.  The first open registers the process (its
 * control connection, served by the service thread) and opens the
 * request connection its threads share.
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../util/paths.h"
#include "../util/util.h"
#include "preload.h"

struct real_fns real;
int shim_ready;
struct shim shim = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.req_lock = PTHREAD_MUTEX_INITIALIZER,
	.req = { .fd = -1 },
	.ctl = { .fd = -1 },
	.pagemap_fd = -1,
	.uffd_fd = -1,
};

/* Internal descriptors live up here, out of the way of dup2(x, 3). */
#define SHIM_FD_BASE	700

pid_t shim_gettid(void)
{
	return (pid_t)syscall(SYS_gettid);
}

#define LOAD(name) do { \
	*(void **)&real.name = dlsym(RTLD_NEXT, #name); \
	if (!real.name) { \
		static const char msg[] = "memfail preload: missing " #name "\n"; \
		if (write(2, msg, sizeof(msg) - 1)) {} \
		_exit(127); \
	} \
} while (0)

void real_init(void)
{
	if (real.open)
		return;
	LOAD(open);
	LOAD(openat);
	LOAD(close);
	LOAD(dup);
	LOAD(dup2);
	LOAD(dup3);
	LOAD(fcntl);
	LOAD(ioctl);
	LOAD(mmap);
	LOAD(munmap);
	LOAD(mremap);
	LOAD(madvise);
	LOAD(prctl);
	LOAD(sigaction);
	LOAD(sigprocmask);
	LOAD(pthread_sigmask);
	LOAD(signal);
	LOAD(pthread_create);
	LOAD(read);
	LOAD(write);
	LOAD(pread);
	LOAD(pwrite);
	LOAD(readv);
	LOAD(writev);
	LOAD(preadv2);
	LOAD(pwritev2);
	LOAD(sendfile);
	LOAD(splice);
	LOAD(copy_file_range);
	LOAD(ftruncate);
	LOAD(truncate);
	LOAD(fallocate);
	LOAD(signalfd);
	LOAD(fsync);
	LOAD(fdatasync);
	LOAD(msync);
	LOAD(lseek);
	LOAD(fopen);
	LOAD(fopen64);
	LOAD(fflush);
	LOAD(fclose);
	LOAD(realpath);
}

void shim_block(sigset_t *old)
{
	sigset_t all;

	sigfillset(&all);
	real.pthread_sigmask(SIG_BLOCK, &all, old);
}

void shim_unblock(const sigset_t *old)
{
	real.pthread_sigmask(SIG_SETMASK, old, NULL);
}

int shim_fd_move_high(int fd)
{
	int nfd = real.fcntl(fd, F_DUPFD_CLOEXEC, SHIM_FD_BASE);

	if (nfd < 0)
		return fd;	/* a low RLIMIT_NOFILE: stay where we are */
	real.close(fd);
	return nfd;
}

bool shim_fd_internal(int fd)
{
	return fd >= 0 && (fd == shim.req.fd || fd == shim.ctl.fd || fd == shim.pagemap_fd ||
			   fd == shim.uffd_fd || fsdax_fd_internal(fd));
}

int shim_fd_relocate(int fd)
{
	sigset_t old;
	int *slot = fd == shim.req.fd ? &shim.req.fd :
		    fd == shim.ctl.fd ? &shim.ctl.fd :
		    fd == shim.pagemap_fd ? &shim.pagemap_fd :
		    fd == shim.uffd_fd ? &shim.uffd_fd : NULL;
	int nfd;

	if (!slot)
		return 0;
	nfd = real.fcntl(fd, F_DUPFD_CLOEXEC, fd + 1);
	if (nfd < 0)
		return -errno;
	/*
	 * No request may be half way on the old number.  The service thread
	 * reads ctl.fd afresh for every message, and a receive already
	 * waiting keeps the socket itself; if it lost the race, it retries
	 * on the new number (service.c).
	 */
	shim_block(&old);
	if (slot == &shim.req.fd)
		pthread_mutex_lock(&shim.req_lock);
	__atomic_store_n(slot, nfd, __ATOMIC_SEQ_CST);
	real.close(fd);
	if (slot == &shim.req.fd)
		pthread_mutex_unlock(&shim.req_lock);
	shim_unblock(&old);
	return 0;
}

const struct mf_profile *shim_profile(void)
{
	const struct mf_profile *p = shim.profile ? mf_profile_by_id(shim.profile) : NULL;

	return p ? p : mf_profile_default();
}

void shim_warn_once(unsigned kind, const char *fmt, ...)
{
	static _Atomic uint64_t warned;
	char line[512];
	va_list ap;
	int n;

	if (kind < 64 && (atomic_fetch_or(&warned, 1ULL << kind) & (1ULL << kind)))
		return;
	n = snprintf(line, sizeof(line), "memfail: ");
	va_start(ap, fmt);
	n += vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	if (real.write(2, line, (size_t)n)) {}
}

/* CapEff of the calling thread has bit `cap`: 1, 0, or -1 cannot tell. */
static int thread_capable(unsigned cap)
{
	char buf[2048], *p;
	ssize_t n;
	int fd;

	fd = real.open("/proc/thread-self/status", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = real.read(fd, buf, sizeof(buf) - 1);
	real.close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	p = strstr(buf, "\nCapEff:");
	if (!p)
		return -1;
	return (strtoull(p + 9, NULL, 16) >> cap) & 1;
}

/*
 * The emulated privileges, all in one place (memfail-run(1),
 * --strict-caps).  With --strict-caps memfaild follows the real
 * capability sets: CAP_SYS_ADMIN is bit 21 of the calling thread's
 * CapEff, and the kernel's files are root's, as on Linux (their owner's
 * bits: euid 0).  Otherwise the user who runs the program (memfaild's)
 * has both, and CAP_SYS_ADMIN over the process's own memory any user it
 * became (memfaild checks the owner of what it touches again; this only
 * orders EPERM before the other errors as the kernel does).
 */
bool shim_privileged(enum shim_priv what)
{
	const struct mf_status_page *st = ram_status();
	uid_t euid = geteuid();
	int cap;

	if (!st || !__atomic_load_n(&st->strict_caps, __ATOMIC_RELAXED)) {
		if (what == PRIV_OWN_MEMORY)
			return true;
		return euid == 0 || (st && euid == __atomic_load_n(&st->daemon_uid, __ATOMIC_RELAXED));
	}
	if (what == PRIV_FILES)
		return euid == 0;
	cap = thread_capable(21);	/* CAP_SYS_ADMIN */
	/* cannot tell: memfaild decides for memory, root for the rest */
	return cap < 0 ? what == PRIV_OWN_MEMORY || euid == 0 : cap;
}

static void comm_of_self(char *buf, size_t n)
{
	char c[16] = "";

	real.prctl(PR_GET_NAME, c, 0, 0, 0);
	strlcpy_mf(buf, c, n);
}

/*
 * Internal descriptors are protected from the program's close(); the
 * shim clears its own record first and closes through the real call.
 */
void shim_client_close(struct mf_client *c)
{
	int fd = c->fd;

	__atomic_store_n(&c->fd, -1, __ATOMIC_SEQ_CST);
	if (fd >= 0)
		real.close(fd);
}

static int connect_both(void)
{
	struct mf_client ctl, req;
	char comm[16];
	int err;

	comm_of_self(comm, sizeof(comm));
	/* build the connections aside: until they are ours, close() may close them */
	err = mf_client_connect(&ctl, shim.sock_path, MF_ROLE_CONTROL, comm);
	if (err)
		return err;
	ctl.fd = shim_fd_move_high(ctl.fd);
	err = mf_client_connect(&req, shim.sock_path, MF_ROLE_REQUEST, comm);
	if (err) {
		real.close(ctl.fd);
		return err;
	}
	req.fd = shim_fd_move_high(req.fd);
	shim.ctl = ctl;
	shim.req = req;
	shim.profile = req.profile;
	shim.daemon_pid = req.daemon_pid;
	if (shim.pagemap_fd < 0) {
		int fd = real.open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);

		shim.pagemap_fd = fd >= 0 ? shim_fd_move_high(fd) : -1;
	}
	return 0;
}

int shim_activate(void)
{
	sigset_t old;
	int err = 0;

	if (atomic_load(&shim.active))
		return 0;
	shim_block(&old);
	pthread_mutex_lock(&shim.lock);
	if (atomic_load(&shim.active))
		goto out;
	err = connect_both();
	if (err)
		goto out;
	signals_activate();
	err = service_start();
	if (err) {
		shim_client_close(&shim.req);
		shim_client_close(&shim.ctl);
		goto out;
	}
	atomic_store(&shim.active, true);
out:
	pthread_mutex_unlock(&shim.lock);
	shim_unblock(&old);
	return err;
}

ssize_t shim_call(void *req, size_t len, void *reply, size_t reply_max, int *fd_out)
{
	sigset_t old;
	ssize_t n;

	shim_block(&old);
	pthread_mutex_lock(&shim.req_lock);
	n = mf_client_call(&shim.req, req, len, reply, reply_max, fd_out);
	pthread_mutex_unlock(&shim.req_lock);
	shim_unblock(&old);
	return n;
}

/*
 * fork(): the child inherits the mappings (and, with guard regions, their
 * fences) but not the threads or the daemon's knowledge of it.  Before
 * fork() returns in the child, it registers as a process of its own and
 * registers every mapping it inherited: it is in the rmap like any mapper.
 * Nor does fork() return in the parent before that: on Linux the child
 * maps what the parent maps as soon as it exists, so a page the parent
 * poisons right after fork() must be fenced in the child too (the child
 * closes its end of fork_sync once registered; the parent waits for that).
 */
static sigset_t fork_mask;
static bool fork_was_active;
static int fork_sync[2] = { -1, -1 };
#define FORK_SYNC_MS	5000

/*
 * The shim's lock order: shim.lock, maps, the files' poison list,
 * req_lock, the service thread's busy lock, the fence table, the
 * poisoned pages, the pfn cache, the file mappings' notes, the fd table,
 * the emulated files, the signal dispositions.  The service thread takes
 * those after its busy lock while the daemon waits for it: none of them
 * may be held across a call to the daemon.  fork() takes them all, so
 * that the child finds none held by a thread it does not have (and no
 * fence half put up).
 */
static void before_fork(void)
{
	/* first: a thread being started may still pass through the shim */
	threads_fork_lock();
	shim_block(&fork_mask);
	pthread_mutex_lock(&shim.lock);
	/* under shim.lock: one fork() at a time uses fork_sync */
	if (atomic_load(&shim.active) && syscall(SYS_pipe2, fork_sync, O_CLOEXEC))
		fork_sync[0] = fork_sync[1] = -1;
	map_lock();
	ramfiles_lock();
	pthread_mutex_lock(&shim.req_lock);
	/* after req_lock: a thread that waits for the daemon holds that, and
	 * the daemon may be waiting for the service thread */
	service_lock();
	fencetab_lock();
	ram_lock_all();
	pagemap_lock();
	mmap_notes_lock();
	files_lock();
	vfs_lock_all();
	signals_lock();
	fork_was_active = atomic_load(&shim.active);
}

/* The child is registered (or gave up, or fork() failed): its end is
 * closed.  Caller holds shim.lock. */
static void fork_sync_wait(void)
{
	struct pollfd p = { .fd = fork_sync[0], .events = POLLIN };
	char c;

	if (fork_sync[0] < 0)
		return;
	real.close(fork_sync[1]);
	while ((poll(&p, 1, FORK_SYNC_MS) < 0 && errno == EINTR) ||
	       (p.revents & POLLIN && read(fork_sync[0], &c, 1) > 0))
		;
	real.close(fork_sync[0]);
	fork_sync[0] = fork_sync[1] = -1;
}

static void after_fork_parent(void)
{
	/* the child is not registered: a page shared copy-on-write with it
	 * is poisoned here alone unless it registers on its own */
	if (!fork_was_active)
		shim.relatives_unknown = true;
	signals_unlock();
	vfs_unlock_all();
	files_unlock();
	mmap_notes_unlock();
	pagemap_unlock();
	ram_unlock_all();
	fencetab_unlock();
	service_unlock();
	pthread_mutex_unlock(&shim.req_lock);
	ramfiles_unlock();
	map_unlock();
	fork_sync_wait();
	pthread_mutex_unlock(&shim.lock);
	shim_unblock(&fork_mask);
	threads_fork_unlock(false);
}

static void after_fork_child(void)
{
	bool was_active = atomic_load(&shim.active);

	/* one thread now: every lock is ours to drop */
	signals_unlock();
	vfs_unlock_all();
	files_unlock();
	mmap_notes_after_fork();
	pagemap_unlock();
	ram_unlock_all();
	fencetab_unlock();
	ramfiles_unlock();
	map_unlock();
	service_after_fork();
	pthread_mutex_init(&shim.req_lock, NULL);
	pthread_mutex_init(&shim.lock, NULL);
	shim.pid = getpid();
	threads_changed();
	atomic_store(&shim.active, false);
	if (!was_active)
		shim.relatives_unknown = true;
	if (was_active) {
		/* these are the parent's connections: close our copies; and
		 * /proc/self/pagemap opened by the parent reads the parent */
		shim_client_close(&shim.req);
		shim_client_close(&shim.ctl);
		if (shim.pagemap_fd >= 0) {
			int fd = shim.pagemap_fd;

			shim.pagemap_fd = -1;
			real.close(fd);
		}
		/* the parent's userfaultfd registers nothing of ours */
		if (shim.uffd_fd >= 0) {
			int fd = shim.uffd_fd;

			shim.uffd_fd = -1;
			real.close(fd);
		}
		if (connect_both() == 0 && service_start() == 0) {
			atomic_store(&shim.active, true);
			maps_after_fork();
		}
	}
	/* our poisoned pages are the parent's: the child is a mapper too */
	ram_after_fork();
	/* the parent may go on */
	if (fork_sync[0] >= 0) {
		real.close(fork_sync[0]);
		real.close(fork_sync[1]);
		fork_sync[0] = fork_sync[1] = -1;
	}
	shim_unblock(&fork_mask);
	threads_fork_unlock(true);
}

__attribute__((constructor)) static void preload_init(void)
{
	real_init();
	shim.pid = getpid();
	cow_family_init();
	if (mf_default_socket(shim.sock_path, sizeof(shim.sock_path)))
		shim.sock_path[0] = '\0';
	pthread_atfork(before_fork, after_fork_parent, after_fork_child);
	__atomic_store_n(&shim_ready, 1, __ATOMIC_RELEASE);
	vfs_inherit();
}

__attribute__((destructor)) static void preload_fini(void)
{
	vfs_at_exit();
}
