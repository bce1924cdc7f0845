// SPDX-License-Identifier: MIT
/*
 * nvdimm/copy_mc.c: see copy_mc.h.
 *
 * A copy in progress publishes its source range in thread-local storage;
 * the SIGSEGV/SIGBUS handler checks the fault address against it and
 * jumps back out of the copy.  Any other fault is not ours: the handler
 * restores the default action and returns, so the fault happens again
 * and kills the process with the right signal, as it would have without
 * us.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>

#include "copy_mc.h"

static __thread sigjmp_buf *copy_jmp;
static __thread uintptr_t copy_lo, copy_hi;

static void copy_mc_fault(int sig, siginfo_t *si, void *uc)
{
	uintptr_t a = (uintptr_t)si->si_addr;

	(void)uc;
	if (copy_jmp && a >= copy_lo && a < copy_hi)
		siglongjmp(*copy_jmp, 1);
	signal(sig, SIG_DFL);
}

int copy_mc_init(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = copy_mc_fault;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGSEGV, &sa, NULL) || sigaction(SIGBUS, &sa, NULL))
		return -errno;
	return 0;
}

int copy_mc(void *dst, const void *src, size_t len)
{
	sigjmp_buf jb;
	volatile int ret = 0;

	if (sigsetjmp(jb, 1)) {
		ret = -EIO;
		goto out;
	}
	copy_lo = (uintptr_t)src;
	copy_hi = copy_lo + len;
	copy_jmp = &jb;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	memcpy(dst, src, len);
out:
	copy_jmp = NULL;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	return ret;
}
