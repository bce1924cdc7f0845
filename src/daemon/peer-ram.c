// SPDX-License-Identifier: MIT
/*
 * daemon/peer-ram.c: the engine's ram_shootdown() over the processes'
 * control connections.
 *
 * The daemon does not know the processes' ordinary mappings (the real
 * kernel keeps them): it asks.  A private page is its process's alone; a
 * shared one (a file's page) is asked about of every registered process,
 * each of which looks it up in its own /proc/self/maps, all in parallel.
 * A process that does not answer in time is killed if it maps the file
 * (the kernel kills what it cannot unmap), which the daemon can tell
 * from /proc/PID/maps; one that does not map it is left alone.
 *
 * A private page its owner saw shared copy-on-write since fork() is one
 * page of the real kernel in several processes: the owner's relatives of
 * the same user are asked too (a cow probe), and each fences its page at
 * that address only if it is still the same page: of the same fork
 * lineage, not exclusive, same real pfn when both are known, same
 * content.  One that does not answer a probe is not killed: it may not
 * have the page at all.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/sysmacros.h>

#include "memfaild.h"

struct ram_pending {
	struct peer_req rq;
	bool answered;
	bool unsent;			/* the send failed: it cannot have answered */
	bool probe;			/* a relative asked about its copy-on-write page */
	struct mf_ctl_ram_reply r;
};

static unsigned wire_ops(unsigned ops)
{
	return ((ops & MF_OP_QUERY) ? MF_SD_QUERY : 0) | ((ops & MF_OP_FENCE) ? MF_SD_FENCE : 0) |
	       ((ops & MF_OP_ZAP) ? MF_SD_ZAP : 0) | ((ops & MF_OP_UNFENCE) ? MF_SD_UNFENCE : 0);
}

static bool take_reply(struct peer_req *rq, const void *buf, size_t n)
{
	struct ram_pending *pd = container_of(rq, struct ram_pending, rq);
	const struct mf_ctl_ram_reply *r = buf;

	if (n != sizeof(*r) || r->count > MF_RAM_MAPS_MAX)
		return false;	/* garbled: no answer */
	pd->r = *r;
	pd->r.early_comm[MF_COMM_LEN - 1] = '\0';
	pd->r.main_comm[MF_COMM_LEN - 1] = '\0';
	pd->answered = true;
	return true;
}

static void fill_sd(struct mf_ram_sd *s, const struct ram_pending *pd)
{
	unsigned j;

	memset(s, 0, sizeof(*s));
	s->task = &pd->rq.p->task;
	s->acked = pd->answered;
	if (!pd->answered)
		return;
	s->error = pd->r.fence_error;
	s->nr = pd->r.count;
	for (j = 0; j < s->nr; j++) {
		s->map[j].addr = pd->r.map[j].addr;
		s->map[j].present = pd->r.map[j].present != 0;
		s->map[j].state = pd->r.map[j].state;
	}
	s->early_tid = pd->r.early_tid;
	s->main_tid = pd->r.main_tid ? pd->r.main_tid : pd->rq.p->task.pid;
	memcpy(s->early_comm, pd->r.early_comm, MF_COMM_MAX);
	memcpy(s->main_comm, pd->r.main_comm, MF_COMM_MAX);
}

static int pending_by_age(const void *a, const void *b)
{
	const struct ram_pending *x = a, *y = b;

	return (x->rq.p->order > y->rq.p->order) - (x->rq.p->order < y->rq.p->order);
}

/* Is p a relative that may share frame f copy-on-write, to be probed? */
static bool cow_probe_to(const struct mf_frame *f, unsigned ops, const struct proc *p)
{
	return !f->key.shared && f->kind == MF_RAM_ANON && f->cow.family &&
	       (ops & MF_OP_FENCE) && p->task.id != f->key.a && p->task.uid == f->uid;
}

int peer_ram_shootdown(struct mf_engine *mf, const struct mf_frame *f, unsigned ops,
		       struct mf_ram_sd **out, unsigned *nout)
{
	struct mfd *d = mf->priv;
	struct ram_pending *pd = NULL;
	struct peer_req **rq = NULL;
	struct mf_ram_sd *sd = NULL;
	struct mf_ctl_ram m;
	struct proc *p;
	unsigned npd = 0, i, nsd = 0, pass;
	int err = 0;

	*out = NULL;
	*nout = 0;
	list_for_each_entry(p, &d->procs, node)
		npd++;
	pd = calloc(npd ? npd : 1, sizeof(*pd));
	rq = calloc(npd ? npd : 1, sizeof(*rq));
	if (!pd || !rq) {
		err = -ENOMEM;
		goto out;
	}

	memset(&m, 0, sizeof(m));
	m.hdr.magic = MF_PROTO_MAGIC;
	m.hdr.type = MF_CTL_RAM;
	m.hdr.len = sizeof(m);
	m.page.kind = f->kind;
	m.page.shift = f->shift;
	m.page.shared = f->key.shared;
	m.page.state = f->state;
	if (f->key.shared) {
		m.page.dev = f->key.a;
		m.page.ino = f->key.b;
		m.page.off = f->key.c;
	} else {
		m.page.addr = f->key.b;
	}
	m.pfn = f->pfn;
	m.ops = wire_ops(ops);
	m.early_kill = (uint32_t)mf->early_kill;
	/*
	 * The file learns of it whoever maps it: a shmem page stays poisoned
	 * in its file (reads fail, new mappings fault); a page-cache page is
	 * truncated and its error kept for fsync().
	 */
	if (f->key.shared && (ops & MF_OP_FENCE)) {
		m.file = f->kind == MF_RAM_FILE ? MF_FILE_WB_ERR : MF_FILE_POISON;
		m.gen = ram_file_event(d, f, m.file);
	}

	/*
	 * Send everything first: the processes work in parallel.  Relatives
	 * probed about a copy-on-write page go first: once the owner has
	 * unmapped its copy, theirs no longer looks shared.
	 */
	npd = 0;
	for (pass = 0; pass < 2; pass++) {
		unsigned first = npd;

		list_for_each_entry(p, &d->procs, node) {
			bool probe = cow_probe_to(f, ops, p);
			struct ram_pending *x;

			if (p->exited || !p->ctl || probe != !pass)
				continue;
			if (!f->key.shared && p->task.id != f->key.a && !probe)
				continue;
			x = &pd[npd];
			rq[npd++] = &x->rq;
			x->rq.p = p;
			x->rq.seq = m.hdr.seq = ++d->next_seq;
			x->probe = probe;
			m.cow = probe ? f->cow : (struct mf_ram_cow){ 0 };
			/* one that cannot take requests has not unmapped anything:
			 * killed, not taken for gone (its connection is closed now) */
			if (conn_send(p->ctl, &m, sizeof(m), -1) < 0)
				x->rq.done = x->unsent = true;
		}
		if (npd > first)
			peer_await(rq + first, npd - first,
				   now_monotonic_ns() + (uint64_t)mf->unmap_timeout_ms * 1000000ULL,
				   take_reply);
	}

	/* kill_procs() goes through them in the kernel's task-list order,
	 * oldest first, whoever was asked first */
	qsort(pd, npd, sizeof(*pd), pending_by_age);
	sd = calloc(npd ? npd : 1, sizeof(*sd));
	if (!sd) {
		err = -ENOMEM;
		goto out;
	}
	for (i = 0; i < npd; i++) {
		struct proc *q = pd[i].rq.p;

		/* gone: nothing of it can touch anything any more */
		if (!pd[i].unsent && (q->exited || proc_gone(q)))
			continue;
		if (pd[i].answered) {
			if (!pd[i].r.count && !pd[i].r.fence_error)
				continue;
		} else if (pd[i].probe) {
			continue;	/* it may not share the page: left alone */
		} else if (f->key.shared &&
			   !proc_maps_file(q->task.pid, f->key.a, f->key.b, f->key.c, NULL)) {
			continue;	/* silent, but it has nothing of the file */
		}
		fill_sd(&sd[nsd++], &pd[i]);
	}
	*out = sd;
	*nout = nsd;
	sd = NULL;
out:
	free(sd);
	free(pd);
	free(rq);
	return err;
}
