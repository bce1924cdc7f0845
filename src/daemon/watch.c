// SPDX-License-Identifier: MIT
/*
 * daemon/watch.c: requests to watch what happens: a monitor (the
 * connection receives every event from then on), the history of events,
 * and its summary.  Events name processes and what befell them, so, as
 * with the kernel's trace events and rasdaemon's database, only root and
 * the daemon's own user may see them.
 */
#include <errno.h>
#include <string.h>

#include "memfaild.h"

static char reply_buf[MF_MSG_MAX];

int watch_monitor(struct conn *c, const struct mf_hdr *h, const struct mf_monitor_req *m)
{
	int err;

	if (m->flags)
		return -EINVAL;
	if (!cred_may_configure(c->d, &c->cred))
		return -EPERM;
	if (c->monitor)
		return -EALREADY;
	err = monitor_start(c);
	if (err)
		return err;
	/* the reply first: every event after it reaches the monitor (events
	 * of this iteration are flushed with the reply, after it) */
	send_error(c, h, 0);
	return 0;
}

int watch_history(struct conn *c, const struct mf_hdr *h, const struct mf_history_req *m)
{
	struct mf_history_reply *r = (void *)reply_buf;
	bool more = false;
	int n;

	if (m->type >= MF_EV_NR)
		return -EINVAL;
	if (!cred_may_configure(c->d, &c->cred))
		return -EPERM;
	if (!c->d->history)
		return -EIO;	/* it could not be opened: see the log */
	/* what happened up to this request is in the answer */
	mfd_events_flush(c->d);
	n = history_query(c->d->history, m->after_seq, m->since_ns, m->type, r->ev,
			  MF_HISTORY_MAX, &more);
	if (n < 0)
		return n;
	reply_init(&r->r, h, sizeof(*r) + (size_t)n * sizeof(r->ev[0]), 0);
	r->count = (uint32_t)n;
	r->more = more;
	conn_send(c, r, r->r.hdr.len, -1);
	return 0;
}

int watch_summary(struct conn *c, const struct mf_hdr *h, const struct mf_summary_req *m)
{
	struct mf_summary_reply *r = (void *)reply_buf;
	bool more = false;
	int n;

	if (!cred_may_configure(c->d, &c->cred))
		return -EPERM;
	if (!c->d->history)
		return -EIO;
	mfd_events_flush(c->d);
	n = history_summary(c->d->history, m->since_ns, m->offset, r->row, MF_SUMMARY_MAX, &more);
	if (n < 0)
		return n;
	reply_init(&r->r, h, sizeof(*r) + (size_t)n * sizeof(r->row[0]), 0);
	r->count = (uint32_t)n;
	r->more = more;
	conn_send(c, r, r->r.hdr.len, -1);
	return 0;
}
