// SPDX-License-Identifier: MIT
/* lib/client.c: see client.h. */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "../util/paths.h"
#include "../util/util.h"
#include "client.h"

/* A daemon busy with memory_failure() may take its unmap timeout per
 * round; anything much longer than that is a dead daemon. */
#define CALL_TIMEOUT_S	120

int mf_client_connect(struct mf_client *c, const char *path, uint32_t role,
		      const char *comm)
{
	struct timeval tv = { .tv_sec = CALL_TIMEOUT_S };
	struct mf_hello_reply r;
	struct mf_hello h;
	char def[4096];
	ssize_t n;

	memset(c, 0, sizeof(*c));
	c->fd = -1;
	if (!path) {
		if (mf_default_socket(def, sizeof(def)))
			return -ENAMETOOLONG;
		path = def;
	}
	c->fd = unix_connect_seqpacket(path);
	if (c->fd < 0)
		return c->fd;
	setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	memset(&h, 0, sizeof(h));
	h.hdr.type = MF_HELLO;
	h.version = MF_PROTO_VERSION;
	h.role = role;
	if (comm)
		strlcpy_mf(h.comm, comm, sizeof(h.comm));
	n = mf_client_call(c, &h, sizeof(h), &r, sizeof(r), NULL);
	if (n < 0 || (n >= (ssize_t)sizeof(r.r) && r.r.error)) {
		int err = n < 0 ? (int)n : r.r.error;

		mf_client_close(c);
		return err;
	}
	if (n != sizeof(r)) {
		mf_client_close(c);
		return -EPROTO;
	}
	c->profile = r.profile;
	memcpy(c->profile_name, r.profile_name, sizeof(c->profile_name));
	c->profile_name[sizeof(c->profile_name) - 1] = '\0';
	c->daemon_pid = (pid_t)r.pid;
	return 0;
}

void mf_client_close(struct mf_client *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

ssize_t mf_client_call(struct mf_client *c, void *req, size_t len, void *reply,
		       size_t reply_max, int *fd_out)
{
	struct mf_hdr *h = req;
	const struct mf_reply *r = reply;
	ssize_t n;

	if (fd_out)
		*fd_out = -1;
	if (c->fd < 0)
		return -ENOTCONN;
	h->magic = MF_PROTO_MAGIC;
	h->len = (uint32_t)len;
	h->seq = ++c->seq;
	/* our credentials ride along: privilege is checked per request */
	n = sock_send(c->fd, req, len, -1, true, 0);
	if (n < 0)
		return n;
	for (;;) {
		int fd = -1;

		n = sock_recv(c->fd, reply, reply_max, &fd, NULL, 0);
		if (n == -EAGAIN)
			return -ETIMEDOUT;
		if (n < 0)
			return n;
		if (n == 0)
			return -ECONNRESET;
		if ((size_t)n < sizeof(*r) || r->hdr.magic != MF_PROTO_MAGIC ||
		    r->hdr.type != MF_REPLY || r->hdr.len != (size_t)n) {
			if (fd >= 0)
				close(fd);
			return -EPROTO;
		}
		if (r->hdr.seq != h->seq) {
			/* an answer to a call given up on earlier */
			if (fd >= 0)
				close(fd);
			continue;
		}
		if (fd_out)
			*fd_out = fd;
		else if (fd >= 0)
			close(fd);
		return n;
	}
}

int mf_client_call_status(struct mf_client *c, void *req, size_t len)
{
	struct mf_reply r;
	ssize_t n = mf_client_call(c, req, len, &r, sizeof(r), NULL);

	return n < 0 ? (int)n : r.error;
}
