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

void mfd_event(struct mfd *d, struct mf_event *ev)
{
	struct conn *c;

	ev->seq = ++d->event_seq;
	ev->time_ns = now_realtime_ns();
	if (d->history)
		history_add(d->history, d, ev);
	list_for_each_entry(c, &d->conns, node) {
		if (!c->monitor || c->closing)
			continue;
		c->monitor_msg->ev[c->monitor_msg->count++] = *ev;
		if (c->monitor_msg->count == MF_EVENTS_PER_MSG)
			monitor_flush(c);
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
