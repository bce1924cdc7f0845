/* SPDX-License-Identifier: MIT */
/*
 * nvdimm/copy_mc.h: a memcpy that survives touching a fenced (poisoned)
 * page and reports it, as the kernel's copy_mc_to_kernel() survives a
 * machine check.  The daemon reads device memory only through it.
 */
#ifndef MF_NVDIMM_COPY_MC_H
#define MF_NVDIMM_COPY_MC_H

#include <stddef.h>

/* Install the fault handler (once per process). 0 or -errno. */
int copy_mc_init(void);
/* 0, or -EIO when the source faulted part way (dst is then partial). */
int copy_mc(void *dst, const void *src, size_t len);

#endif
