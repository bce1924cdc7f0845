// SPDX-License-Identifier: MIT
/*
 * preload/madvise.c: madvise() over dax mappings.
 *
 * MADV_HWPOISON and MADV_SOFT_OFFLINE go to memfaild, which checks the
 * emulated CAP_SYS_ADMIN and runs memory_failure() for each page as the
 * kernel's madvise_inject_error() does; the BUS_MCEERR_AR it names is
 * raised on the calling thread before madvise() returns.  On ordinary
 * memory (memory.c) as on dax mappings: the kernel never sees them.  Advice the
 * device does not take is refused as the kernel refuses it; the rest goes
 * to the kernel.
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "../util/fence.h"
#include "../util/util.h"
#include "preload.h"

#ifndef MADV_HWPOISON
#define MADV_HWPOISON 100
#endif
#ifndef MADV_SOFT_OFFLINE
#define MADV_SOFT_OFFLINE 101
#endif

static int inject_segment(const struct map_view *v, uintptr_t start, size_t len,
			  int advice, struct mf_raise_msg *raise)
{
	struct mf_madvise_reply r;
	struct mf_madvise m;
	char comm[16] = "";
	ssize_t n;

	memset(&m, 0, sizeof(m));
	m.hdr.type = MF_MADVISE;
	m.map_id = v->id;
	m.offset = start - v->start;
	m.len = len;
	m.advice = (uint32_t)advice;
	m.tid = shim_gettid();
	m.euid = geteuid();
	real.prctl(PR_GET_NAME, comm, 0, 0, 0);
	memcpy(m.comm, comm, sizeof(m.comm));
	n = shim_call(&m, sizeof(m), &r, sizeof(r), NULL);
	if (n < 0)
		return -EIO;	/* the daemon is gone */
	if ((size_t)n == sizeof(r) && r.raise.signo && !raise->signo)
		*raise = r.raise;
	return r.r.error;
}

static int inject_error(uintptr_t start, size_t len_in, int advice)
{
	struct mf_raise_msg raise = { 0 };
	uintptr_t end;
	size_t len;
	int err = 0;

	if (start % MF_PAGE_SIZE)
		return -EINVAL;
	len = MF_ALIGN_UP(len_in, MF_PAGE_SIZE);
	if (len_in && !len)
		return -EINVAL;
	end = start + len;
	if (end < start)
		return -EINVAL;
	while (!err && start < end) {
		struct map_view v;

		if (map_lookup(start, &v)) {
			size_t seg = end < v.start + v.len ? end - start : v.start + v.len - start;

			err = inject_segment(&v, start, seg, advice, &raise);
			start += seg;
		} else {
			/* ordinary memory up to the next dax mapping */
			uintptr_t next = end;

			if (map_next(start, &v) && v.start < end)
				next = v.start;
			err = ram_madvise(start, next - start, advice);
			start = next;
		}
	}
	/* force_sig_mceerr() in the kernel: delivered as the call returns */
	if (raise.signo)
		fault_raise_sigbus(raise.code, raise.addr, raise.lsb, NULL);
	return err;
}

/* Is any part of [addr, addr+len) a dax mapping? */
static bool touches_dax(uintptr_t addr, size_t len, struct map_view *v)
{
	return map_next(addr, v) && v->start < addr + len;
}

PRELOAD_ENTRY int madvise(void *addr, size_t len, int advice)
{
	struct map_view v;
	int err;

	EARLY(real.madvise(addr, len, advice));
	if (advice == MADV_HWPOISON || advice == MADV_SOFT_OFFLINE) {
		uintptr_t a = (uintptr_t)addr;
		size_t alen = MF_ALIGN_UP(len, MF_PAGE_SIZE);

		/* madvise()'s own checks, then the capability, as the kernel */
		if (a % MF_PAGE_SIZE || (len && !alen) || a + alen < a)
			err = -EINVAL;
		else if (!len)
			err = 0;
		else
			err = shim_privileged(PRIV_OWN_MEMORY) ? inject_error(a, len, advice) : -EPERM;
		if (err) {
			errno = -err;
			return -1;
		}
		return 0;
	}
	if (!touches_dax((uintptr_t)addr, len ? len : 1, &v))
		return real.madvise(addr, len, advice);
	switch (advice) {
	case MADV_GUARD_INSTALL:
	case MADV_GUARD_REMOVE:
		/* memfail's fences are guard regions: not the program's to move */
		err = -EINVAL;
		break;
	case MADV_REMOVE:
		/* vfs_fallocate() on a character device */
		err = (v.prot & PROT_WRITE) ? -ENODEV : -EACCES;
		break;
	case MADV_DONTFORK:
	case MADV_DOFORK:
		err = real.madvise(addr, len, advice) ? -errno : 0;
		if (!err)
			maps_set_dontfork((uintptr_t)addr, len, advice == MADV_DONTFORK);
		break;
	default:
		return real.madvise(addr, len, advice);
	}
	if (err) {
		errno = -err;
		return -1;
	}
	return 0;
}

PRELOAD_ENTRY int posix_madvise(void *addr, size_t len, int advice)
{
	/* POSIX advice is only a hint: none of it touches poison */
	EARLY(real.madvise(addr, len, advice) ? errno : 0);
	return real.madvise(addr, len, advice) ? errno : 0;
}
