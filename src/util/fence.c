// SPDX-License-Identifier: MIT
/* util/fence.c: see fence.h. */
#include <errno.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "fence.h"

/*
 * The kernel's madvise and mprotect, always: in the preload library the
 * libc names are the shim's own, which refuse guard advice on dax
 * mappings (the program must not move memfail's fences).
 */
static int sys_madvise(void *addr, size_t len, int advice)
{
	return (int)syscall(SYS_madvise, addr, len, advice);
}

static int sys_mprotect(void *addr, size_t len, int prot)
{
	return (int)syscall(SYS_mprotect, addr, len, prot);
}

/* Once MADV_GUARD_INSTALL is known to be missing, stop trying it. */
static atomic_int no_guards;
static atomic_long mprotect_fences;

int fence_range(void *addr, size_t len)
{
	if (!atomic_load_explicit(&no_guards, memory_order_relaxed)) {
		if (!sys_madvise(addr, len, MADV_GUARD_INSTALL))
			return FENCE_GUARD;
		/* EINVAL: a kernel before 6.13, or a VM_LOCKED range */
		if (errno != EINVAL)
			return -errno;
		if (sys_madvise(addr, 0, MADV_GUARD_INSTALL) && errno == EINVAL)
			atomic_store(&no_guards, 1);
	}
	if (atomic_fetch_add(&mprotect_fences, 1) >= FENCE_MPROTECT_MAX) {
		atomic_fetch_sub(&mprotect_fences, 1);
		return -ENOSPC;
	}
	if (sys_mprotect(addr, len, PROT_NONE)) {
		int err = -errno;

		atomic_fetch_sub(&mprotect_fences, 1);
		return err;
	}
	/* a PROT_NONE page is still in the page tables: take it out, as a
	 * guard does, so that it does not count as mapped */
	sys_madvise(addr, len, MADV_DONTNEED);
	return FENCE_MPROTECT;
}

int unfence_range(void *addr, size_t len, int how, int prot)
{
	if (how == FENCE_GUARD)
		return sys_madvise(addr, len, MADV_GUARD_REMOVE) ? -errno : 0;
	if (sys_mprotect(addr, len, prot))
		return -errno;
	atomic_fetch_sub(&mprotect_fences, 1);
	return 0;
}

int zap_range(void *addr, size_t len)
{
	return sys_madvise(addr, len, MADV_DONTNEED) ? -errno : 0;
}
