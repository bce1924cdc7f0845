// SPDX-License-Identifier: MIT
/*
 * preload/signals.c: the signals the shim needs, kept out of the
 * program's sight.
 *
 *  - SIGSEGV: a touch of a fenced page arrives as SIGSEGV; the shim's
 *    handler turns it into SIGBUS (fault.c).  The program's own SIGSEGV
 *    disposition is kept aside: sigaction() reads and writes that one,
 *    and faults that are not poison are passed to it.
 *  - MF_SIGNO, a real-time signal: the service thread uses it to make a
 *    thread raise BUS_MCEERR_AO on itself.  To the program it looks
 *    unused: sigaction() shows its own (never installed) disposition, and
 *    masks it passes to sigprocmask(), pthread_sigmask() and signalfd()
 *    lose it, so the shim's signal always gets through.
 */
#include <errno.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "preload.h"

static struct sigaction prog_segv;	/* the program's SIGSEGV disposition */
static struct sigaction prog_mfsig;	/* what the program thinks MF_SIGNO has */
static atomic_bool segv_owned;
static pthread_mutex_t sig_lock = PTHREAD_MUTEX_INITIALIZER;
static __thread bool mfsig_blocked;	/* the program's view of its mask */

void signals_lock(void)
{
	pthread_mutex_lock(&sig_lock);
}

void signals_unlock(void)
{
	pthread_mutex_unlock(&sig_lock);
}

static void install_segv(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = fault_handler;
	/* the program's mask and stack choice hold for its faults too */
	sa.sa_mask = prog_segv.sa_mask;
	sa.sa_flags = SA_SIGINFO | (prog_segv.sa_flags & (SA_ONSTACK | SA_NODEFER));
	real.sigaction(SIGSEGV, &sa, NULL);
}

/*
 * MF_SIGNO stands for a SIGBUS that is not generated yet, so it follows
 * SIGBUS's disposition:
 *  - ignored: an AO to a process that ignores SIGBUS is dropped by the
 *    kernel, and must not interrupt anything here either;
 *  - caught: the AO handler interrupts what the thread was doing before
 *    the SIGBUS does, so whether an interrupted system call restarts is
 *    the program's SIGBUS handler's choice (SA_RESTART), and ours copies it.
 * Blocked SIGBUS does not block MF_SIGNO: its handler still runs and
 * leaves the SIGBUS pending, where sigwaitinfo() or a signalfd finds it
 * as on Linux; the price is that the handler can interrupt a system call
 * the kernel's pending SIGBUS would not have.
 */
static void install_ao(void)
{
	struct sigaction sa, bus;

	real.sigaction(SIGBUS, NULL, &bus);
	memset(&sa, 0, sizeof(sa));
	if (!(bus.sa_flags & SA_SIGINFO) && bus.sa_handler == SIG_IGN) {
		sa.sa_handler = SIG_IGN;
		real.sigaction(MF_SIGNO, &sa, NULL);
		return;
	}
	sa.sa_sigaction = ao_handler;
	sa.sa_flags = SA_SIGINFO | (bus.sa_flags & SA_RESTART);
	/* SIGBUS raised in the handler lands after it, in the interrupted
	 * context */
	sigemptyset(&sa.sa_mask);
	sigaddset(&sa.sa_mask, SIGBUS);
	real.sigaction(MF_SIGNO, &sa, NULL);
}

void signals_activate(void)
{
	pthread_mutex_lock(&sig_lock);
	if (!atomic_load(&segv_owned)) {
		real.sigaction(SIGSEGV, NULL, &prog_segv);
		install_segv();
		install_ao();
		atomic_store(&segv_owned, true);
	}
	pthread_mutex_unlock(&sig_lock);
}

void signals_forward_segv(int sig, siginfo_t *si, void *uctx)
{
	struct sigaction p = prog_segv;

	if (p.sa_handler == SIG_IGN && si->si_code <= 0)
		return;		/* sent, not a fault: ignored, as asked */
	if (p.sa_handler == SIG_DFL || p.sa_handler == SIG_IGN) {
		struct sigaction dfl;

		/* a fault happens again on return and kills, as it would have
		 * (the kernel forces a fault's signal even when ignored) */
		memset(&dfl, 0, sizeof(dfl));
		dfl.sa_handler = SIG_DFL;
		real.sigaction(sig, &dfl, NULL);
		if (si->si_code <= 0)
			syscall(SYS_rt_tgsigqueueinfo, getpid(), shim_gettid(), sig, si);
		return;
	}
	if (p.sa_flags & SA_RESETHAND)
		prog_segv.sa_handler = SIG_DFL;
	if (p.sa_flags & SA_SIGINFO)
		p.sa_sigaction(sig, si, uctx);
	else
		p.sa_handler(sig);
}

PRELOAD_ENTRY int sigaction(int sig, const struct sigaction *act, struct sigaction *oact)
{
	sigset_t old;

	EARLY(real.sigaction(sig, act, oact));
	if (sig == MF_SIGNO) {
		if (oact)
			*oact = prog_mfsig;
		if (act)
			prog_mfsig = *act;
		return 0;
	}
	if (sig == SIGBUS && atomic_load(&segv_owned)) {
		int ret = real.sigaction(sig, act, oact);

		if (!ret && act) {
			shim_block(&old);
			pthread_mutex_lock(&sig_lock);
			install_ao();
			pthread_mutex_unlock(&sig_lock);
			shim_unblock(&old);
		}
		return ret;
	}
	if (sig != SIGSEGV || !atomic_load(&segv_owned))
		return real.sigaction(sig, act, oact);
	shim_block(&old);
	pthread_mutex_lock(&sig_lock);
	if (oact)
		*oact = prog_segv;
	if (act) {
		prog_segv = *act;
		install_segv();
	}
	pthread_mutex_unlock(&sig_lock);
	shim_unblock(&old);
	return 0;
}

PRELOAD_ENTRY __sighandler_t signal(int sig, __sighandler_t handler)
{
	struct sigaction sa, old;

	EARLY(real.signal(sig, handler));
	/* SIGBUS too: its AO signal follows its disposition */
	if (sig != SIGSEGV && sig != MF_SIGNO && sig != SIGBUS)
		return real.signal(sig, handler);
	/* BSD semantics, as glibc's signal() */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = handler;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaddset(&sa.sa_mask, sig);
	if (sigaction(sig, &sa, &old))
		return SIG_ERR;
	return old.sa_handler;
}

/* Take MF_SIGNO out of a mask the program sets; remember its intent. */
static const sigset_t *strip_mask(int how, const sigset_t *set, sigset_t *copy)
{
	if (!set)
		return NULL;
	if (sigismember(set, MF_SIGNO)) {
		if (how == SIG_BLOCK || how == SIG_SETMASK)
			mfsig_blocked = true;
		else if (how == SIG_UNBLOCK)
			mfsig_blocked = false;
	} else if (how == SIG_SETMASK) {
		mfsig_blocked = false;
	}
	*copy = *set;
	sigdelset(copy, MF_SIGNO);
	return copy;
}

static void fix_old(sigset_t *old, bool was_blocked)
{
	if (!old)
		return;
	if (was_blocked)
		sigaddset(old, MF_SIGNO);
	else
		sigdelset(old, MF_SIGNO);
}

/* sigprocmask() and pthread_sigmask(): MF_SIGNO never blocked for real */
static int set_mask(int (*fn)(int, const sigset_t *, sigset_t *), int how,
		    const sigset_t *set, sigset_t *oldset)
{
	bool was = mfsig_blocked;
	sigset_t copy;
	int ret;

	ret = fn(how, strip_mask(how, set, &copy), oldset);
	if (!ret)
		fix_old(oldset, was);
	else
		mfsig_blocked = was;
	return ret;
}

PRELOAD_ENTRY int sigprocmask(int how, const sigset_t *set, sigset_t *oldset)
{
	EARLY(real.sigprocmask(how, set, oldset));
	return set_mask(real.sigprocmask, how, set, oldset);
}

PRELOAD_ENTRY int pthread_sigmask(int how, const sigset_t *set, sigset_t *oldset)
{
	EARLY(real.pthread_sigmask(how, set, oldset));
	return set_mask(real.pthread_sigmask, how, set, oldset);
}

PRELOAD_ENTRY int signalfd(int fd, const sigset_t *mask, int flags)
{
	sigset_t copy;

	EARLY(real.signalfd(fd, mask, flags));
	if (sigismember(mask, MF_SIGNO) == 1) {
		copy = *mask;
		sigdelset(&copy, MF_SIGNO);
		mask = &copy;
	}
	return real.signalfd(fd, mask, flags);
}
