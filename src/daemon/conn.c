// SPDX-License-Identifier: MIT
/*
 * daemon/conn.c: client connections: accept, read one message at a time,
 * check its header, hand it to the handler of the connection's role.
 *
 * A client can misbehave in any way without hurting the daemon: a
 * malformed message gets an error reply and changes nothing; a client
 * that stops reading its replies is disconnected rather than waited for;
 * a client that dies mid-request just closes its connection.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "memfaild.h"

#ifndef SO_PEERPIDFD
#define SO_PEERPIDFD 77
#endif

int conn_accept(struct mfd *d)
{
	struct epoll_event ev = { .events = EPOLLIN };
	struct ucred uc;
	socklen_t sl = sizeof(uc);
	struct conn *c;
	int fd, one = 1, pidfd;

	fd = accept4(d->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd < 0) {
		int err = -errno;

		/*
		 * Out of descriptors: the pending connection stays pending and
		 * the listening socket would wake us forever.  Stop listening
		 * until a connection goes (reap() resumes).
		 */
		if ((err == -EMFILE || err == -ENFILE) && !d->listen_paused) {
			epoll_ctl(d->epfd, EPOLL_CTL_DEL, d->listen_fd, NULL);
			d->listen_paused = true;
			mfd_log(d, 4, "memfaild: out of file descriptors: not accepting connections for now");
		}
		return err;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		close(fd);
		return -ENOMEM;
	}
	c->d = d;
	c->fd = fd;
	c->peer_pidfd = -1;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &sl) == 0) {
		c->peer.pid = uc.pid;
		c->peer.uid = uc.uid;
		c->peer.gid = uc.gid;
		c->peer.valid = true;
	}
	sl = sizeof(pidfd);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERPIDFD, &pidfd, &sl) == 0)
		c->peer_pidfd = pidfd;
	setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one));
	c->watch.type = W_CONN;
	c->watch.ptr = c;
	ev.data.ptr = &c->watch;
	if (epoll_ctl(d->epfd, EPOLL_CTL_ADD, fd, &ev)) {
		int err = -errno;

		if (c->peer_pidfd >= 0)
			close(c->peer_pidfd);
		close(fd);
		free(c);
		return err;
	}
	list_add_tail(&c->node, &d->conns);
	return 0;
}

/* Unhook now, free in the reaper: the connection may be in use above us. */
void conn_close(struct conn *c)
{
	if (c->closing)
		return;
	c->closing = true;
	epoll_ctl(c->d->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	if (c->role == MF_ROLE_CONTROL && c->proc) {
		struct proc *p = c->proc;

		c->proc = NULL;
		p->ctl = NULL;
		proc_exit(p);
	}
}

int conn_send(struct conn *c, const void *msg, size_t len, int pass_fd)
{
	ssize_t n;

	if (c->closing)
		return -EPIPE;
	/* what a request did is in the log before its answer is out */
	if (len >= sizeof(struct mf_hdr) && ((const struct mf_hdr *)msg)->type == MF_REPLY) {
		mfd_log_flush();
		mfd_events_flush(c->d);
		ram_status_sync(c->d);
	}
	n = sock_send(c->fd, msg, len, pass_fd, false, MSG_DONTWAIT);
	if (n < 0) {
		/* a peer that does not read its replies loses its connection */
		conn_close(c);
		return (int)n;
	}
	return 0;
}

void reply_init(struct mf_reply *r, const struct mf_hdr *req, size_t len, int error)
{
	memset(r, 0, sizeof(*r));
	r->hdr.magic = MF_PROTO_MAGIC;
	r->hdr.type = MF_REPLY;
	r->hdr.len = (uint32_t)len;
	r->hdr.seq = req ? req->seq : 0;
	r->error = error;
}

int send_error(struct conn *c, const struct mf_hdr *req, int error)
{
	struct mf_reply r;

	reply_init(&r, req, sizeof(r), error);
	return conn_send(c, &r, sizeof(r), -1);
}

static void handle_hello(struct conn *c, const struct mf_hdr *h, const void *buf,
			 size_t len)
{
	const struct mf_hello *m = buf;
	struct mf_hello_reply r;
	char comm[MF_COMM_LEN];
	struct proc *p;

	if (len != sizeof(*m)) {
		send_error(c, h, -EBADMSG);
		return;
	}
	if (m->version != MF_PROTO_VERSION) {
		send_error(c, h, -EPROTONOSUPPORT);
		return;
	}
	memcpy(comm, m->comm, sizeof(comm));
	comm[sizeof(comm) - 1] = '\0';
	switch (m->role) {
	case MF_ROLE_ADMIN:
		break;
	case MF_ROLE_CONTROL:
		p = proc_register(c->d, c, comm);
		if (!p) {
			send_error(c, h, -ENOMEM);
			return;
		}
		c->proc = p;
		break;
	case MF_ROLE_REQUEST:
		/* a process's requests follow its registration */
		p = proc_of_conn(c->d, c);
		if (!p) {
			send_error(c, h, -ENOENT);
			return;
		}
		c->proc = p;
		break;
	default:
		send_error(c, h, -EINVAL);
		return;
	}
	c->role = m->role;
	reply_init(&r.r, h, sizeof(r), 0);
	r.version = MF_PROTO_VERSION;
	r.profile = c->d->mf.profile->id;
	strlcpy_mf(r.profile_name, c->d->mf.profile->name, sizeof(r.profile_name));
	r.pid = (uint64_t)getpid();
	conn_send(c, &r, sizeof(r), -1);
}

static void dispatch(struct conn *c, const struct mf_hdr *h, const void *buf, size_t len)
{
	struct mfd *d = c->d;

	if (h->type == MF_HELLO) {
		if (c->role)
			send_error(c, h, -EISCONN);
		else
			handle_hello(c, h, buf, len);
		return;
	}
	if (!c->role && (h->type == MF_CONSUME || h->type == MF_RAM_TOUCH)) {
		/* a fault handler's one-shot report */
		c->proc = proc_of_conn(d, c);
		if (!c->proc) {
			send_error(c, h, -ENOENT);
			return;
		}
		c->role = MF_ROLE_FAULT;
	}
	/* a panicked kernel does nothing more until it is restarted; it can
	 * still be asked whether it panicked */
	if (d->mf.panicked && h->type != MF_CONFIG_GET) {
		send_error(c, h, -EIO);
		return;
	}
	switch (c->role) {
	case MF_ROLE_ADMIN:
		handle_admin(c, h, buf, len);
		break;
	case MF_ROLE_REQUEST:
	case MF_ROLE_FAULT:
		if (!c->proc || c->proc->exited) {
			send_error(c, h, -ESRCH);
			break;
		}
		handle_request(c, h, buf, len);
		break;
	case MF_ROLE_CONTROL:
		/* late answers to requests given up on, signal acks: drop */
		break;
	default:
		send_error(c, h, -ENOTCONN);
		break;
	}
}

void conn_readable(struct conn *c)
{
	static char buf[MF_MSG_MAX];
	const struct mf_hdr *h = (const void *)buf;
	int n_msgs = 0;

	/* a few messages per wakeup, so that one client cannot starve others */
	while (!c->closing && n_msgs++ < 16) {
		int fd = -1;
		ssize_t n = sock_recv(c->fd, buf, sizeof(buf), &fd, &c->cred, MSG_DONTWAIT);

		/* no request takes a descriptor: whatever came along goes */
		if (fd >= 0)
			close(fd);
		if (n == -EAGAIN)
			return;
		if (n == -EMSGSIZE) {
			send_error(c, NULL, -EMSGSIZE);
			continue;
		}
		if (n <= 0) {
			conn_close(c);
			return;
		}
		if ((size_t)n < sizeof(*h) || h->magic != MF_PROTO_MAGIC ||
		    h->len != (size_t)n) {
			send_error(c, (size_t)n >= sizeof(*h) ? h : NULL, -EBADMSG);
			continue;
		}
		if (!c->cred.valid)
			c->cred = c->peer;
		dispatch(c, h, buf, (size_t)n);
	}
}
