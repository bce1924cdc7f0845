// SPDX-License-Identifier: MIT
/*
 * lib/watch.c: libmemfail's scrub, monitor and history calls; see
 * include/memfail.h.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "ctx.h"

static void scrub_from_wire(struct memfail_scrub *o, const struct mf_scrub_reply *r)
{
	memset(o, 0, sizeof(*o));
	o->active = r->state == MF_SCRUB_ACTIVE;
	o->cancelled = r->cancelled != 0;
	o->failed = r->failed != 0;
	o->flags = r->flags;
	memcpy(o->dev, r->name, sizeof(o->dev));
	o->dev[sizeof(o->dev) - 1] = '\0';
	o->count = r->count;
	o->done = r->done;
	o->total = r->total;
	o->found = r->found;
}

static int scrub_call(struct memfail_ctx *ctx, uint16_t type, const char *name,
		      unsigned flags, struct memfail_scrub *state)
{
	struct mf_scrub_req m;
	int err = 0;

	memset(&m, 0, sizeof(m));
	m.hdr.type = type;
	m.flags = flags;
	if (name)
		err = set_name(m.name, name);
	if (!err)
		err = call(ctx, &m, sizeof(m), sizeof(struct mf_scrub_reply), NULL);
	if (!err && state)
		scrub_from_wire(state, (const void *)ctx->buf);
	return err;
}

MF_EXPORT int memfail_scrub_start(struct memfail_ctx *ctx, const char *name, unsigned flags,
				  struct memfail_scrub *state)
{
	if (flags & ~MEMFAIL_SCRUB_FULL)
		return -EINVAL;
	return scrub_call(ctx, MF_SCRUB_START, name, flags, state);
}

MF_EXPORT int memfail_scrub_status(struct memfail_ctx *ctx, struct memfail_scrub *state)
{
	return scrub_call(ctx, MF_SCRUB_STATUS, NULL, 0, state);
}

MF_EXPORT int memfail_scrub_cancel(struct memfail_ctx *ctx, struct memfail_scrub *state)
{
	return scrub_call(ctx, MF_SCRUB_CANCEL, NULL, 0, state);
}

static const char *const type_names[] = {
	[MEMFAIL_EV_MEMORY_FAILURE] = "memory_failure",
	[MEMFAIL_EV_SIGNAL] = "signal",
	[MEMFAIL_EV_KILL] = "kill",
	[MEMFAIL_EV_INJECT] = "inject",
	[MEMFAIL_EV_UNINJECT] = "uninject",
	[MEMFAIL_EV_CLEAR] = "clear",
	[MEMFAIL_EV_FOUND] = "found",
	[MEMFAIL_EV_SCRUB_START] = "scrub_start",
	[MEMFAIL_EV_SCRUB_END] = "scrub_end",
	[MEMFAIL_EV_PANIC] = "panic",
	[MEMFAIL_EV_LOST] = "lost",
};

MF_EXPORT const char *memfail_event_type_name(unsigned type)
{
	return type < sizeof(type_names) / sizeof(type_names[0]) ? type_names[type] : NULL;
}

MF_EXPORT const char *memfail_action_result_name(unsigned result)
{
	static const char *const names[] = { "Ignored", "Failed", "Delayed", "Recovered" };

	return result < 4 ? names[result] : "Unknown";
}

MF_EXPORT const char *memfail_page_type_name(unsigned page_type)
{
	return mf_page_type_name(page_type);
}

static void event_from_wire(struct memfail_event *o, const struct mf_event *e)
{
	memset(o, 0, sizeof(*o));
	o->seq = e->seq;
	o->time_ns = e->time_ns;
	o->type = e->type;
	o->flags = e->flags;
	memcpy(o->dev, e->dev, sizeof(o->dev));
	o->dev[sizeof(o->dev) - 1] = '\0';
	o->pfn = e->pfn;
	o->sector = e->sector;
	o->count = e->count;
	o->pid = e->pid;
	o->tid = e->tid;
	memcpy(o->comm, e->comm, sizeof(o->comm));
	o->comm[sizeof(o->comm) - 1] = '\0';
	o->code = e->code;
	o->lsb = e->lsb;
	o->addr = e->addr;
	o->result = e->result;
	o->page_type = e->page_type;
}

MF_EXPORT int memfail_monitor_start(struct memfail_ctx *ctx)
{
	struct mf_monitor_req m;
	int err;

	if (ctx->monitoring)
		return -EALREADY;
	memset(&m, 0, sizeof(m));
	m.hdr.type = MF_MONITOR;
	err = call(ctx, &m, sizeof(m), 0, NULL);
	if (!err)
		ctx->monitoring = true;
	return err;
}

MF_EXPORT int memfail_monitor_fd(const struct memfail_ctx *ctx)
{
	return ctx->monitoring ? ctx->c.fd : -EINVAL;
}

MF_EXPORT int memfail_monitor_next(struct memfail_ctx *ctx, struct memfail_event *ev,
				   int timeout_ms)
{
	const struct mf_event_msg *m = (const void *)ctx->buf;
	struct pollfd p = { .fd = ctx->c.fd, .events = POLLIN };
	ssize_t n;
	int r;

	if (!ctx->monitoring)
		return -EINVAL;
	/* a message holds several events: hand them out one by one */
	if (ctx->ev_next < ctx->ev_count) {
		event_from_wire(ev, &m->ev[ctx->ev_next++]);
		return 1;
	}
	r = poll(&p, 1, timeout_ms);
	if (r < 0)
		return -errno;
	if (!r)
		return 0;
	n = sock_recv(ctx->c.fd, ctx->buf, sizeof(ctx->buf), NULL, NULL, MSG_DONTWAIT);
	if (n == -EAGAIN)
		return 0;
	if (n < 0)
		return (int)n;
	if (n == 0)
		return -ECONNRESET;	/* the daemon went away */
	if ((size_t)n < sizeof(*m) || m->hdr.magic != MF_PROTO_MAGIC ||
	    m->hdr.type != MF_EVENT || m->hdr.len != (size_t)n || !m->count ||
	    (size_t)n != sizeof(*m) + m->count * sizeof(m->ev[0]))
		return -EPROTO;
	ctx->ev_count = m->count;
	ctx->ev_next = 1;
	event_from_wire(ev, &m->ev[0]);
	return 1;
}

MF_EXPORT int memfail_history(struct memfail_ctx *ctx, uint64_t after_seq, uint64_t since_ns,
			      unsigned type, struct memfail_event **out, size_t *count)
{
	struct memfail_event *v = NULL;
	size_t n = 0;
	bool more;

	do {
		const struct mf_history_reply *r = (const void *)ctx->buf;
		struct mf_history_req m;
		int i, k;

		memset(&m, 0, sizeof(m));
		m.hdr.type = MF_HISTORY;
		m.after_seq = after_seq;
		m.since_ns = since_ns;
		m.type = type;
		k = call_page(ctx, &m, sizeof(m), sizeof(*r), sizeof(r->ev[0]),
			      (void **)&v, n, sizeof(*v));
		if (k < 0)
			return k;
		for (i = 0; i < k; i++)
			event_from_wire(&v[n++], &r->ev[i]);
		more = r->more && r->count;
		if (r->count)
			after_seq = r->ev[r->count - 1].seq;
	} while (more);
	*out = v;
	*count = n;
	return 0;
}

MF_EXPORT int memfail_history_summary(struct memfail_ctx *ctx, uint64_t since_ns,
				      struct memfail_summary_row **out, size_t *count)
{
	struct memfail_summary_row *v = NULL;
	size_t n = 0;
	bool more;

	do {
		const struct mf_summary_reply *r = (const void *)ctx->buf;
		struct mf_summary_req m;
		int i, k;

		memset(&m, 0, sizeof(m));
		m.hdr.type = MF_HISTORY_SUMMARY;
		m.since_ns = since_ns;
		m.offset = (uint32_t)n;
		k = call_page(ctx, &m, sizeof(m), sizeof(*r), sizeof(r->row[0]),
			      (void **)&v, n, sizeof(*v));
		if (k < 0)
			return k;
		for (i = 0; i < k; i++, n++) {
			memset(&v[n], 0, sizeof(v[n]));
			v[n].type = r->row[i].type;
			v[n].result = r->row[i].result;
			v[n].page_type = r->row[i].page_type;
			v[n].code = (int)r->row[i].code;
			v[n].count = r->row[i].count;
			memcpy(v[n].dev, r->row[i].dev, sizeof(v[n].dev));
			v[n].dev[sizeof(v[n].dev) - 1] = '\0';
		}
		more = r->more && r->count;
	} while (more);
	*out = v;
	*count = n;
	return 0;
}
