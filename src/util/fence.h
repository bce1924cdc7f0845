/* SPDX-License-Identifier: MIT */
/*
 * util/fence.h: fence a page of a mapping so that any touch faults, and
 * lift the fence again, without losing the data behind it.
 *
 * MADV_GUARD_INSTALL (Linux 6.13+) does this without splitting the VMA,
 * so thousands of pages can be fenced per mapping; forked children
 * inherit the fences.  Older kernels (or mlocked ranges) fall back to
 * mprotect(PROT_NONE), which splits the VMA: we stop at a fixed number of
 * such fences per process so as not to run into vm.max_map_count.
 */
#ifndef MF_UTIL_FENCE_H
#define MF_UTIL_FENCE_H

#include <stddef.h>

#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL	102
#define MADV_GUARD_REMOVE	103
#endif

#define FENCE_MPROTECT_MAX	16384

enum fence_how {
	FENCE_GUARD = 1,
	FENCE_MPROTECT = 2,
};

/* Returns how the range was fenced, or -errno (-ENOSPC when the mprotect
 * fallback is exhausted). */
int fence_range(void *addr, size_t len);
/* Lift a fence made with `how`; `prot` is what the fallback restores. */
int unfence_range(void *addr, size_t len, int how, int prot);
/* Drop the page-table entries of a range; the data stays (a zap). */
int zap_range(void *addr, size_t len);

#endif /* MF_UTIL_FENCE_H */
