/* SPDX-License-Identifier: MIT */
/*
 * lib/ctx.h: libmemfail's insides, shared by its files: the context (one
 * connection and its buffers) and the request helpers.
 */
#ifndef MF_LIB_CTX_H
#define MF_LIB_CTX_H

#include "../util/util.h"
#include "client.h"
#include "memfail.h"

#define MF_EXPORT __attribute__((visibility("default")))

struct memfail_ctx {
	struct mf_client c;
	char buf[MF_MSG_MAX];		/* replies land here */
	char req[MF_MSG_MAX];		/* requests with a payload */
	bool monitoring;		/* memfail_monitor_start() was called */
	uint32_t ev_next, ev_count;	/* events of the last MF_EVENT not handed out */
};

/* Copy a namespace name into a request field: -EINVAL, -ENAMETOOLONG. */
int set_name(char *dst, const char *name);
/* Call; returns the request's status or a transport error, and the
 * reply length in *rlen when it is at least `min` bytes. */
int call(struct memfail_ctx *ctx, void *req, size_t len, size_t min, size_t *rlen);
/*
 * One page of a paged list.  Every such reply has `count` (and `more` or
 * `next`) right after the status, then `count` elements of `elem` bytes from
 * offset `head`: call, check that, and make room at the end of *v (n
 * elements so far, of out_size bytes) for them and one more.  Returns the
 * page's count, or -errno with *v freed and NULL.
 */
int call_page(struct memfail_ctx *ctx, void *req, size_t len, size_t head, size_t elem,
	      void **v, size_t n, size_t out_size);

#endif /* MF_LIB_CTX_H */
