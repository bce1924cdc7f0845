// SPDX-License-Identifier: MIT
/*
 * preload/service.c: the service thread, memfaild's hands in this
 * process.
 *
 * It answers the daemon's shootdowns (is the unit mapped here?  fence
 * the page, lift a fence, zap the unit) and signal requests (make thread
 * T raise BUS_MCEERR_AO).  It runs with every signal blocked, never takes
 * a lock that a program thread holds across a daemon call, and never
 * calls the daemon itself: memfaild can always wait for its answer.
 */
#include <errno.h>
#include <semaphore.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../util/fence.h"
#include "../util/util.h"
#include "preload.h"

#define PM_PRESENT		(1ULL << 63)

/* Is any page of [start, start + len) in our page tables? */
bool range_present(uint64_t start, uint64_t len)
{
	static int no_scan;
	uint64_t entries[512], a;

	if (shim.pagemap_fd < 0)
		return true;	/* cannot tell: assume the worst */
	if (!no_scan) {
		struct mf_page_region r;
		struct mf_pm_scan_arg arg = {
			.size = sizeof(arg), .start = start, .end = start + len,
			.vec = (uintptr_t)&r, .vec_len = 1, .max_pages = 1,
			.category_mask = MF_PAGE_IS_PRESENT,
			.return_mask = MF_PAGE_IS_PRESENT,
		};
		long n = ioctl(shim.pagemap_fd, MF_PAGEMAP_SCAN, &arg);

		if (n >= 0)
			return n > 0;
		no_scan = 1;	/* before 6.7: read the entries */
	}
	for (a = start; a < start + len; ) {
		uint64_t n = (start + len - a) >> MF_PAGE_SHIFT, i;
		ssize_t got;

		if (n > ARRAY_SIZE(entries))
			n = ARRAY_SIZE(entries);
		got = real.pread(shim.pagemap_fd, entries, n * 8, (off_t)((a >> MF_PAGE_SHIFT) * 8));
		if (got <= 0)
			return true;
		for (i = 0; i < (uint64_t)got / 8; i++)
			if (entries[i] & PM_PRESENT)
				return true;
		a += ((uint64_t)got / 8) << MF_PAGE_SHIFT;
	}
	return false;
}

/*
 * A fence takes the page out of our page tables; on Linux the poisoned
 * page stays mapped until memory_failure() unmaps it.  Remember the units
 * of [a, a + len) that are mapped now.
 */
static void keep_mapped_units(uint64_t a, uint64_t len, uint64_t align)
{
	uint64_t unit;

	for (unit = MF_ALIGN_DOWN(a, align); unit < a + len; unit += align)
		if (range_present(unit, align))
			units_keep(unit);
}

/* Clip [a, a + len) to the mapping; false if nothing is left. */
static bool clip(const struct map_view *v, uint64_t *a, uint64_t *len)
{
	uint64_t s = *a, e = *a + *len;

	if (s < v->start)
		s = v->start;
	if (e > v->start + v->len)
		e = v->start + v->len;
	if (s >= e)
		return false;
	*a = MF_ALIGN_DOWN(s, MF_PAGE_SIZE);
	*len = MF_ALIGN_UP(e, MF_PAGE_SIZE) - *a;
	return true;
}

static void do_shootdown(const struct mf_ctl_shootdown *m, size_t len)
{
	static char buf[MF_MSG_MAX];
	struct mf_ctl_shootdown_reply *r = (void *)buf;
	uint32_t i, count = m->count;
	size_t rlen;

	if (count > MF_SD_MAX || len != sizeof(*m) + count * sizeof(m->e[0]))
		count = 0;
	rlen = sizeof(*r) + count * sizeof(r->res[0]);
	memset(r, 0, rlen);
	for (i = 0; i < count; i++) {
		const struct mf_sd_entry *e = &m->e[i];
		struct mf_sd_result *res = &r->res[i];
		struct map_view v;
		uint64_t a, l;

		if (!map_lookup_id(e->map_id, &v)) {
			res->error = -ENOENT;	/* unmapped meanwhile */
			continue;
		}
		a = e->page_addr;
		l = e->page_len;
		/* what is mapped is looked at before anything is taken away */
		if ((e->ops & MF_SD_QUERY) && clip(&v, &a, &l)) {
			uint64_t size = v.align, unit;

			if (v.file && e->unit_shift >= MF_PAGE_SHIFT && e->unit_shift <= 30)
				size = 1ULL << e->unit_shift;
			unit = MF_ALIGN_DOWN(a, size);
			res->present = units_kept(unit) || range_present(unit, size);
		}
		a = e->page_addr;
		l = e->page_len;
		if ((e->ops & MF_SD_FENCE) && clip(&v, &a, &l)) {
			keep_mapped_units(a, l, v.align);
			res->error = fence_pages(a, l);
		}
		if ((e->ops & MF_SD_UNFENCE) && clip(&v, &a, &l))
			res->error = unfence_pages(a, l, v.prot);
		a = e->unit_addr;
		l = e->unit_len;
		if ((e->ops & MF_SD_REMAP) && v.file && clip(&v, &a, &l))
			res->error = fsdax_remap(&v, a, l, e->remap_off);
		a = e->unit_addr;
		l = e->unit_len;
		if ((e->ops & MF_SD_ZAP) && clip(&v, &a, &l)) {
			int err = zap_range((void *)a, l);

			/* unmapped now, for the kernel too */
			units_forget(a, l);
			if (err && !res->error)
				res->error = err;
		}
	}
	threads_policy((int)m->early_kill, &r->early_tid, r->early_comm, r->main_comm,
		       sizeof(r->early_comm));
	r->main_tid = getpid();
	r->count = count;
	r->r.hdr.magic = MF_PROTO_MAGIC;
	r->r.hdr.type = MF_REPLY;
	r->r.hdr.len = (uint32_t)rlen;
	r->r.hdr.seq = m->hdr.seq;
	r->r.error = count == m->count ? 0 : -EBADMSG;
	sock_send(shim.ctl.fd, r, rlen, -1, false, 0);
}

static void do_signal(const struct mf_ctl_signal *m)
{
	struct mf_reply r;
	siginfo_t si;
	int err = 0;

	if (!thread_alive(m->tid) || m->tid == service_tid) {
		err = -ESRCH;
	} else {
		memset(&si, 0, sizeof(si));
		si.si_signo = MF_SIGNO;
		si.si_code = SI_QUEUE;
		si.si_pid = getpid();
		si.si_uid = getuid();
		si.si_value.sival_ptr = (void *)(uintptr_t)((m->addr & ~(MF_PAGE_SIZE - 1)) |
							    (m->lsb & 0x3f));
		if (syscall(SYS_rt_tgsigqueueinfo, getpid(), m->tid, MF_SIGNO, &si))
			err = -errno;
	}
	memset(&r, 0, sizeof(r));
	r.hdr.magic = MF_PROTO_MAGIC;
	r.hdr.type = MF_REPLY;
	r.hdr.len = sizeof(r);
	r.hdr.seq = m->hdr.seq;
	r.error = err;
	sock_send(shim.ctl.fd, &r, sizeof(r), -1, false, 0);
}

/*
 * The service thread holds svc_busy while it does anything but wait for
 * the daemon, and fork() takes it (init.c): a child must not inherit an
 * allocator or C library lock that this thread held mid-work, which a
 * thread of its own would then wait for forever.  (glibc's malloc guards
 * itself across fork; a sanitizer's allocator does not.)
 */
static pthread_mutex_t svc_busy = PTHREAD_MUTEX_INITIALIZER;
static sem_t svc_started;

void service_lock(void)
{
	pthread_mutex_lock(&svc_busy);
}

void service_unlock(void)
{
	pthread_mutex_unlock(&svc_busy);
}

static void *service_main(void *arg)
{
	static char buf[MF_MSG_MAX];
	const struct mf_hdr *h = (const void *)buf;

	(void)arg;
	pthread_mutex_lock(&svc_busy);
	service_tid = shim_gettid();
	real.prctl(PR_SET_NAME, "memfail-svc", 0, 0, 0);
	/* never the thread an early-kill signal goes to */
	real.prctl(PR_MCE_KILL, PR_MCE_KILL_SET, PR_MCE_KILL_LATE, 0, 0);
	sem_post(&svc_started);
	for (;;) {
		int fd = __atomic_load_n(&shim.ctl.fd, __ATOMIC_SEQ_CST);
		ssize_t n;

		pthread_mutex_unlock(&svc_busy);
		n = sock_recv(fd, buf, sizeof(buf), NULL, NULL, 0);
		pthread_mutex_lock(&svc_busy);

		/* the program moved our socket away (dup2 onto its number) */
		if ((n == -EBADF || n == -ENOTSOCK) &&
		    fd != __atomic_load_n(&shim.ctl.fd, __ATOMIC_SEQ_CST))
			continue;
		if (n <= 0 && n != -EMSGSIZE)
			break;	/* the daemon is gone */
		if (n < (ssize_t)sizeof(*h) || h->magic != MF_PROTO_MAGIC || h->len != (size_t)n)
			continue;
		switch (h->type) {
		case MF_CTL_SHOOTDOWN:
			if ((size_t)n >= sizeof(struct mf_ctl_shootdown))
				do_shootdown((const void *)buf, (size_t)n);
			break;
		case MF_CTL_SIGNAL:
			if ((size_t)n == sizeof(struct mf_ctl_signal))
				do_signal((const void *)buf);
			break;
		case MF_CTL_RAM:
			if ((size_t)n == sizeof(struct mf_ctl_ram))
				ram_ctl((const void *)buf);
			break;
		default:
			break;
		}
	}
	atomic_store(&shim.active, false);
	pthread_mutex_unlock(&svc_busy);
	return NULL;
}

int service_start(void)
{
	pthread_attr_t attr;
	sigset_t all, old;
	int err;

	/* born with every signal blocked, and it keeps them so */
	sigfillset(&all);
	real.pthread_sigmask(SIG_BLOCK, &all, &old);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, 256 * 1024);
	sem_init(&svc_started, 0, 0);
	err = real.pthread_create(&shim.service, &attr, service_main, NULL);
	pthread_attr_destroy(&attr);
	/* running, and past its start-up, before anyone may fork */
	while (!err && sem_wait(&svc_started) && errno == EINTR)
		;
	real.pthread_sigmask(SIG_SETMASK, &old, NULL);
	return -err;
}

/* In a child after fork: the lock is the forking thread's, which we are
 * (released, not made anew: a thread sanitizer would still see it held);
 * the service thread is not there. */
void service_after_fork(void)
{
	pthread_mutex_unlock(&svc_busy);
}
