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
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>

#include "memfaild.h"

static uint64_t now_realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* 0 sent, -EAGAIN full; anything else has closed the connection. */
static int monitor_send_one(struct conn *c, const struct mf_event *ev)
{
	struct mf_event_msg m;
	ssize_t n;

	memset(&m, 0, sizeof(m));
	m.hdr.magic = MF_PROTO_MAGIC;
	m.hdr.type = MF_EVENT;
	m.hdr.len = sizeof(m);
	m.ev = *ev;
	n = sock_send(c->fd, &m, sizeof(m), -1, false, MSG_DONTWAIT);
	if (n == -EAGAIN || n == -EWOULDBLOCK)
		return -EAGAIN;
	if (n < 0) {
		conn_close(c);
		return (int)n;
	}
	return 0;
}

/* Wake us when the monitor can take messages again (or stop that). */
static void watch_writable(struct conn *c, bool on)
{
	struct epoll_event ev = { .events = EPOLLIN | (on ? EPOLLOUT : 0),
				  .data.ptr = &c->watch };

	epoll_ctl(c->d->epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

/* Tell the monitor how many it missed: 0 told, -EAGAIN not yet. */
static int monitor_send_lost(struct conn *c, uint64_t time_ns)
{
	struct mf_event lost;
	int err;

	memset(&lost, 0, sizeof(lost));
	lost.type = MF_EV_LOST;
	lost.time_ns = time_ns;
	lost.count = c->monitor_lost;
	err = monitor_send_one(c, &lost);
	if (!err) {
		c->monitor_lost = 0;
		watch_writable(c, false);
	}
	return err;
}

static void monitor_send(struct conn *c, const struct mf_event *ev)
{
	if (c->monitor_lost && monitor_send_lost(c, ev->time_ns)) {
		if (!c->closing)
			c->monitor_lost++;
		return;
	}
	if (monitor_send_one(c, ev) == -EAGAIN) {
		/* the first loss: the notice goes as soon as there is room */
		if (!c->monitor_lost++)
			watch_writable(c, true);
	}
}

void monitor_writable(struct conn *c)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	if (c->monitor_lost)
		monitor_send_lost(c, (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec);
	else
		watch_writable(c, false);
}

void mfd_event(struct mfd *d, struct mf_event *ev)
{
	struct conn *c;

	ev->seq = ++d->event_seq;
	ev->time_ns = now_realtime_ns();
	if (d->history)
		history_add(d->history, d, ev);
	list_for_each_entry(c, &d->conns, node)
		if (c->monitor && !c->closing)
			monitor_send(c, ev);
}

void mfd_events_flush(struct mfd *d)
{
	if (d->history)
		history_commit(d->history, d);
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
