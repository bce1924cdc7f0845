// SPDX-License-Identifier: MIT
/*
 * preload/fault.c: consuming poison, and raising SIGBUS the kernel's way.
 *
 * A touch of a fenced page faults.  The handler decides from lock-free
 * tables alone whether the fault is poison (a memfail mapping, a fenced
 * page); if it is, it reports the consumption to memfaild over a
 * connection of its own, which runs memory_failure() with this thread as
 * the consumer, and raises the BUS_MCEERR_AR the daemon names on this
 * thread.  Only a thread can give itself an MCE-coded SIGBUS
 * (rt_tgsigqueueinfo with a positive si_code), which is why it is raised
 * here and not sent from outside.
 *
 * Like force_sig_mceerr(), an AR cannot be blocked or ignored: then the
 * disposition goes back to default and the process dies of it.  An AO
 * (ao_handler, asked for by the service thread) is an ordinary signal:
 * blocked, it waits; ignored, it is lost.
 *
 * Nothing here takes a lock or allocates: the program's SIGBUS handler
 * may siglongjmp straight out of us.
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include "../uapi/mf_proto.h"
#include "../util/util.h"
#include "preload.h"

#ifndef BUS_MCEERR_AR
#define BUS_MCEERR_AR 4
#define BUS_MCEERR_AO 5
#endif

static long sys_close(int fd)
{
	return syscall(SYS_close, fd);
}

void fault_raise_sigbus(int code, uint64_t addr, unsigned lsb, void *uctx)
{
	ucontext_t *uc = uctx;
	siginfo_t si;
	sigset_t bus;

	sigemptyset(&bus);
	sigaddset(&bus, SIGBUS);
	if (code == BUS_MCEERR_AR) {
		struct sigaction cur;
		sigset_t now;
		bool blocked;

		real.sigaction(SIGBUS, NULL, &cur);
		if (uc) {
			blocked = sigismember(&uc->uc_sigmask, SIGBUS);
		} else {
			real.pthread_sigmask(SIG_BLOCK, NULL, &now);
			blocked = sigismember(&now, SIGBUS);
		}
		if (blocked || cur.sa_handler == SIG_IGN) {
			/* force_sig_mceerr(): the signal cannot be refused */
			memset(&cur, 0, sizeof(cur));
			cur.sa_handler = SIG_DFL;
			real.sigaction(SIGBUS, &cur, NULL);
			if (uc)
				sigdelset(&uc->uc_sigmask, SIGBUS);
			else
				real.pthread_sigmask(SIG_UNBLOCK, &bus, NULL);
		}
	}
	/* from a handler: let it land after we return, in the faulting
	 * context, so the program's handler sees the faulting instruction */
	if (uc)
		real.pthread_sigmask(SIG_BLOCK, &bus, NULL);
	memset(&si, 0, sizeof(si));
	si.si_signo = SIGBUS;
	si.si_code = code;
	si.si_addr = (void *)(uintptr_t)addr;
	si.si_addr_lsb = (short)lsb;
	syscall(SYS_rt_tgsigqueueinfo, getpid(), shim_gettid(), SIGBUS, &si);
}

/* The AR the daemon would have named, when it cannot be asked. */
static void local_ar(uintptr_t a, const struct map_view *v, uint64_t *addr, unsigned *lsb)
{
	*lsb = (unsigned)__builtin_ctzll(v->align);
	if (shim.profile == MF_PROFILE_LINUX_6_12 || shim.profile == MF_PROFILE_LINUX_6_1)
		*addr = a & ~(uintptr_t)(v->align - 1);
	else
		*addr = a & ~(uintptr_t)(MF_PAGE_SIZE - 1);
	if (*addr < v->start)
		*addr = v->start;
}

/*
 * Send a fault handler's report and wait for the answer: on the request
 * connection when no other thread is using it (no shim lock is ever held
 * by the thread we interrupted: the shim runs its locked sections with
 * signals blocked), else on a connection of its own.  The reply's length
 * if it is a reply to it with no error, else -1.
 */
ssize_t fault_report(void *msg, size_t len, void *reply, size_t rlen)
{
	struct mf_reply *r = reply;
	struct mf_hdr *h = msg;
	struct sockaddr_un sun;
	struct timeval tv = { .tv_sec = 60 };
	size_t plen = strlen(shim.sock_path);
	ssize_t n = -1;
	int fd;

	h->magic = MF_PROTO_MAGIC;
	h->len = (uint32_t)len;
	h->seq = 1;
	if (!pthread_mutex_trylock(&shim.req_lock)) {
		n = mf_client_call(&shim.req, msg, len, reply, rlen, NULL);
		pthread_mutex_unlock(&shim.req_lock);
		if (n == (ssize_t)rlen && !r->error)
			return n;
		h->seq = 1;
	}
	if (plen >= sizeof(sun.sun_path))
		return -1;
	fd = (int)syscall(SYS_socket, AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, shim.sock_path, plen + 1);
	syscall(SYS_setsockopt, fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	n = -1;
	if (syscall(SYS_connect, fd, (struct sockaddr *)&sun, sizeof(sun)) == 0 &&
	    sock_send(fd, msg, len, -1, true, 0) == (ssize_t)len)
		n = sock_recv(fd, reply, rlen, NULL, NULL, 0);
	sys_close(fd);
	if (n == (ssize_t)rlen && r->hdr.magic == MF_PROTO_MAGIC && !r->error)
		return n;
	return -1;
}

/* Report the touch; 1: raise *raise, 0: the poison is gone, retry. */
static int report_consume(uintptr_t a, const struct map_view *v, struct mf_raise_msg *raise)
{
	struct mf_consume_reply r;
	struct mf_consume m;
	char comm[16] = "";

	memset(&m, 0, sizeof(m));
	m.hdr.type = MF_CONSUME;
	m.map_id = v->id;
	m.offset = a - v->start;
	m.tid = shim_gettid();
	syscall(SYS_prctl, PR_GET_NAME, comm, 0, 0, 0);
	memcpy(m.comm, comm, sizeof(m.comm));
	if (fault_report(&m, sizeof(m), &r, sizeof(r)) > 0) {
		*raise = r.raise;
		return raise->signo == SIGBUS ? 1 : 0;
	}
	/* no daemon to ask: the poison is still there, and it is consumed */
	memset(raise, 0, sizeof(*raise));
	raise->signo = SIGBUS;
	raise->code = BUS_MCEERR_AR;
	{
		uint64_t addr;
		unsigned lsb;

		local_ar(a, v, &addr, &lsb);
		raise->addr = addr;
		raise->lsb = lsb;
	}
	return 1;
}

/* Did the faulting access ask for what the mapping allows?  A store to a
 * read-only file mapping is the program's SIGSEGV. */
static bool access_allowed(const struct map_view *v, void *uctx)
{
#if defined(__x86_64__)
	const ucontext_t *uc = uctx;
	bool write = (uc->uc_mcontext.gregs[REG_ERR] & 2) != 0;

	return write ? (v->prot & PROT_WRITE) != 0 : (v->prot & PROT_READ) != 0;
#else
	(void)uctx;
	return (v->prot & PROT_READ) != 0;
#endif
}

void fault_handler(int sig, siginfo_t *si, void *uctx)
{
	int saved_errno = errno;
	uintptr_t a = (uintptr_t)si->si_addr;
	struct mf_raise_msg raise;
	struct map_view v;

	/* a fenced page, or a page of a file mapping with no block mapped
	 * (punched, truncated, past EOF) that the access may touch */
	if (si->si_code > 0 && map_lookup(a, &v) &&
	    (fencetab_get(a) || (v.file && access_allowed(&v, uctx)))) {
		if (report_consume(a, &v, &raise)) {
			fault_raise_sigbus(raise.code, raise.addr, raise.lsb, uctx);
		} else {
			/* cleared meanwhile: let the fence come down, then retry */
			struct timespec ts = { 0, 1000000 };

			/* a file's page may have been mapped in from its new block */
			if (v.file)
				fsdax_remap_seen();
			nanosleep(&ts, NULL);
		}
		errno = saved_errno;
		return;
	}
	/* ordinary memory: a hwpoison entry of ours */
	if (si->si_code > 0 && ram_fault(a, uctx)) {
		errno = saved_errno;
		return;
	}
	signals_forward_segv(sig, si, uctx);
	errno = saved_errno;
}

void ao_handler(int sig, siginfo_t *si, void *uctx)
{
	int saved_errno = errno;
	uint64_t v;

	(void)sig;
	/* only requests from the daemon or our own service thread */
	if (si->si_code != SI_QUEUE ||
	    (si->si_pid != getpid() && si->si_pid != shim.daemon_pid))
		return;
	v = (uint64_t)(uintptr_t)si->si_value.sival_ptr;
	fault_raise_sigbus(BUS_MCEERR_AO, v & ~(uint64_t)(MF_PAGE_SIZE - 1),
			   (unsigned)(v & 0x3f), uctx);
	errno = saved_errno;
}
