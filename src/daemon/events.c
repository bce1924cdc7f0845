// SPDX-License-Identifier: MIT
/*
 * daemon/events.c: what happened, told to whoever watches, and kept.
 *
 * Each event gets the next sequence number and the wall-clock time, goes
 * at once to every monitor connection and into the history (history.c).
 * The daemon never waits for a monitor: one whose socket is full loses
 * the event, and is told how many it lost (an MF_EV_LOST event) as soon as
 * it takes messages again.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>

#include "memfaild.h"

/* Wake us when the monitor can take messages again (or stop that). */
static void watch_writable(struct conn *c, bool on)
{
	struct epoll_event ev = { .events = EPOLLIN | (on ? EPOLLOUT : 0),
				  .data.ptr = &c->watch };

	epoll_ctl(c->d->epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

static uint64_t now_realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* 0 sent, -EAGAIN full; anything else has closed the connection. */
static int monitor_send_msg(struct conn *c, struct mf_event_msg *m)
{
	size_t len = sizeof(*m) + m->count * sizeof(m->ev[0]);
	ssize_t n;

	m->hdr.magic = MF_PROTO_MAGIC;
	m->hdr.type = MF_EVENT;
	m->hdr.len = (uint32_t)len;
	n = sock_send(c->fd, m, len, -1, false, MSG_DONTWAIT);
	if (n == -EAGAIN || n == -EWOULDBLOCK)
		return -EAGAIN;
	if (n < 0) {
		conn_close(c);
		return (int)n;
	}
	return 0;
}

/* Tell the monitor how many it missed: 0 told, else not yet. */
static int monitor_send_lost(struct conn *c)
{
	union {
		struct mf_event_msg m;
		char buf[sizeof(struct mf_event_msg) + sizeof(struct mf_event)];
	} lost;
	int err;

	memset(&lost, 0, sizeof(lost));
	lost.m.count = 1;
	lost.m.ev[0].type = MF_EV_LOST;
	lost.m.ev[0].time_ns = now_realtime_ns();
	lost.m.ev[0].count = c->monitor_lost;
	err = monitor_send_msg(c, &lost.m);
	if (!err) {
		c->monitor_lost = 0;
		watch_writable(c, false);
	}
	return err;
}

/* Send what the monitor has gathered; what it cannot take is lost. */
static void monitor_flush(struct conn *c)
{
	struct mf_event_msg *m = c->monitor_msg;

	if (!m || !m->count || c->closing)
		return;
	if (!c->monitor_lost || !monitor_send_lost(c)) {
		if (!monitor_send_msg(c, m)) {
			m->count = 0;
			return;
		}
	}
	if (c->closing)
		return;
	/* the first loss: the notice goes as soon as there is room */
	if (!c->monitor_lost)
		watch_writable(c, true);
	c->monitor_lost += m->count;
	m->count = 0;
}

void monitor_writable(struct conn *c)
{
	if (c->monitor_lost)
		monitor_send_lost(c);
	else
		watch_writable(c, false);
}

/* What a monitor may have in flight (the kernel doubles it): room for
 * bursts of tens of thousands of events. */
#define MONITOR_SNDBUF	(4 << 20)

int monitor_start(struct conn *c)
{
	int size = MONITOR_SNDBUF;

	c->monitor_msg = calloc(1, MF_MSG_MAX);
	if (!c->monitor_msg)
		return -ENOMEM;
	/* beyond net.core.wmem_max if we may (root), else up to it */
	if (setsockopt(c->fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof(size)))
		setsockopt(c->fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
	c->monitor = true;
	return 0;
}

/*
 * Sequence numbers are never reused, even for events the history failed
 * to keep (a full disk, a crash between a monitor's message and the
 * commit): numbers are taken in blocks, each block durable in events.seq
 * before any of its numbers goes out.
 */
#define SEQ_BLOCK	100000

static void seq_reserve(struct mfd *d, uint64_t upto)
{
	char buf[32];
	int n;

	if (d->seq_fd < 0)
		return;
	n = snprintf(buf, sizeof(buf), "%020llu\n", (unsigned long long)upto);
	if (pwrite(d->seq_fd, buf, (size_t)n, 0) != n || mf_fdatasync(d->seq_fd)) {
		mfd_log(d, 3, "memfaild: cannot keep events.seq: %s; event numbers may be reused after a restart",
			strerror(errno));
		close(d->seq_fd);
		d->seq_fd = -1;
		return;
	}
	d->seq_reserved = upto;
}

void events_init(struct mfd *d)
{
	char path[PATH_MAX], buf[32] = "";
	unsigned long long taken;

	snprintf(path, sizeof(path), "%s/events.seq", d->opt.state_dir);
	d->seq_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (d->seq_fd < 0) {
		mfd_log(d, 3, "memfaild: cannot open %s: %s; event numbers may be reused after a restart",
			path, strerror(errno));
		return;
	}
	/* a block handed out in full last time: start after it */
	if (pread(d->seq_fd, buf, sizeof(buf) - 1, 0) > 0 &&
	    sscanf(buf, "%llu", &taken) == 1 && taken > d->event_seq)
		d->event_seq = taken;
	seq_reserve(d, d->event_seq + SEQ_BLOCK);
}

void mfd_event(struct mfd *d, struct mf_event *ev)
{
	struct conn *c;

	if (d->event_seq + 1 > d->seq_reserved)
		seq_reserve(d, d->event_seq + SEQ_BLOCK);
	ev->seq = ++d->event_seq;
	ev->time_ns = now_realtime_ns();
	if (d->history)
		history_add(d->history, d, ev);
	list_for_each_entry(c, &d->conns, node) {
		if (!c->monitor || c->closing)
			continue;
		c->monitor_msg->ev[c->monitor_msg->count++] = *ev;
		if (c->monitor_msg->count == MF_EVENTS_PER_MSG) {
			/* nothing goes out before it is in the history */
			if (d->history)
				history_commit(d->history, d);
			monitor_flush(c);
		}
	}
}

void mfd_events_flush(struct mfd *d)
{
	struct conn *c;

	if (d->history)
		history_commit(d->history, d);
	list_for_each_entry(c, &d->conns, node)
		if (c->monitor)
			monitor_flush(c);
}

void mfd_event_ns(struct mfd *d, enum mf_event_type type, const struct nd_namespace *ns,
		  uint64_t sector, uint64_t count, uint32_t flags)
{
	struct mf_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.type = type;
	ev.flags = flags;
	strlcpy_mf(ev.dev, ns ? ns->name : "region0", sizeof(ev.dev));
	ev.sector = sector;
	ev.count = count;
	mfd_event(d, &ev);
}
