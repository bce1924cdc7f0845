/* SPDX-License-Identifier: MIT */
/*
 * lib/client.h: one connection to memfaild and its request/reply calls.
 * Shared by libmemfail and the preload library.  Not thread-safe: the
 * caller serialises calls on one connection.
 */
#ifndef MF_LIB_CLIENT_H
#define MF_LIB_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "../uapi/mf_proto.h"

struct mf_client {
	int fd;
	uint64_t seq;
	uint32_t profile;
	char profile_name[MF_PROFILE_LEN];
	pid_t daemon_pid;
};

/* Connect and say hello in `role`.  path NULL: the default socket. */
int mf_client_connect(struct mf_client *c, const char *path, uint32_t role,
		      const char *comm);
void mf_client_close(struct mf_client *c);

/*
 * Send req (its hdr.type set by the caller; magic, len and seq are filled
 * in here) and wait for the reply with the same seq.  Returns the reply's
 * length (at least sizeof(struct mf_reply)) or a transport -errno; the
 * request's own status is in ((struct mf_reply *)reply)->error.
 */
ssize_t mf_client_call(struct mf_client *c, void *req, size_t len, void *reply,
		       size_t reply_max, int *fd_out);

/* Convenience: a call whose reply carries nothing but the status. */
int mf_client_call_status(struct mf_client *c, void *req, size_t len);

#endif /* MF_LIB_CLIENT_H */
