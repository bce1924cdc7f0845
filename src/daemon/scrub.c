// SPDX-License-Identifier: MIT
/*
 * daemon/scrub.c: the address range scrub (ARS) of the emulated region.
 *
 * A scrub walks the namespaces it covers in order and makes latent poison
 * known: into badblocks, with an MF_EV_FOUND event per range it finds.  It
 * runs a slice per loop iteration, so requests and mappers are served
 * while it runs, and can be cancelled.
 *
 * By default it visits only what is poisoned: its cost follows the poison,
 * not the size (a 1 TiB namespace with a few errors is done at once).
 * MF_SCRUB_FULL reads every block of the media as well, as a real ARS
 * does, and costs what reading the whole namespace costs.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "memfaild.h"

#define SCRUB_RANGES_PER_STEP	1024		/* poison ranges a slice visits */
#define SCRUB_BYTES_PER_STEP	(8u << 20)	/* full mode: bytes read a slice */

struct scrub {
	bool active;
	bool cancelled;			/* by request, or its namespace went */
	bool failed;			/* an error stopped it */
	uint32_t flags;
	char name[MF_NAME_LEN];		/* region0, or one namespace */
	uint32_t only_ns;		/* with one namespace: its id */
	bool one_ns;
	uint64_t count;			/* scrubs completed */
	uint64_t done, total;		/* bytes */
	uint64_t found;			/* sectors */
	/* where it is: namespace id and generation, sector in it */
	uint32_t ns_id;
	uint64_t ns_gen;
	uint64_t sector;
	bool started_ns;
	char *buf;			/* full mode */
};

static struct scrub *scrub_of(struct mfd *d)
{
	if (!d->scrub)
		d->scrub = calloc(1, sizeof(*d->scrub));
	return d->scrub;
}

void scrub_free(struct mfd *d)
{
	if (!d->scrub)
		return;
	free(d->scrub->buf);
	free(d->scrub);
	d->scrub = NULL;
}

/* The namespace after id `after` that the scrub covers, in id order. */
static struct nd_namespace *next_ns(struct mfd *d, struct scrub *s, bool first, uint32_t after)
{
	struct nd_namespace *ns, *best = NULL;

	list_for_each_entry(ns, &d->region->namespaces, node) {
		if (s->one_ns && ns->id != s->only_ns)
			continue;
		if (!first && ns->id <= after)
			continue;
		if (!best || ns->id < best->id)
			best = ns;
	}
	return best;
}

static void scrub_finish(struct mfd *d, struct scrub *s)
{
	struct mf_event ev;

	s->active = false;
	if (!s->cancelled && !s->failed)
		s->count++;
	free(s->buf);
	s->buf = NULL;
	memset(&ev, 0, sizeof(ev));
	ev.type = MF_EV_SCRUB_END;
	ev.flags = (s->flags & MF_SCRUB_FULL) | (s->cancelled ? MF_EVF_CANCELLED : 0) |
		   (s->failed ? MF_EVF_FAILED : 0);
	ev.count = s->found;
	strlcpy_mf(ev.dev, s->name, sizeof(ev.dev));
	mfd_event(d, &ev);
	mfd_log(d, 6, "memfaild: scrub of %s %s: %llu latent sectors found",
		s->name, s->failed ? "failed" : s->cancelled ? "cancelled" : "done",
		(unsigned long long)s->found);
}

/* Full mode: read the media of [from, to) as the scrubber does. */
static void read_media(struct scrub *s, struct nd_namespace *ns, uint64_t from, uint64_t to)
{
	uint64_t off = from << MF_SECTOR_SHIFT, end = to << MF_SECTOR_SHIFT;

	while (off < end) {
		size_t len = end - off < SCRUB_BYTES_PER_STEP ? end - off : SCRUB_BYTES_PER_STEP;
		ssize_t r = pread(ns->data_fd, s->buf, len, (off_t)off);

		if (r <= 0)
			break;	/* what is poisoned is found below all the same */
		off += (uint64_t)r;
	}
}

bool scrub_step(struct mfd *d)
{
	struct scrub *s = d->scrub;
	struct nd_namespace *ns;
	uint64_t nr, to;
	int64_t found;
	size_t i;

	if (!s || !s->active)
		return false;
	/* a panicked kernel scrubs nothing more */
	if (d->mf.panicked) {
		s->cancelled = true;
		scrub_finish(d, s);
		return false;
	}
	ns = nd_namespace_by_id(d->region, s->ns_id);
	if (s->started_ns && s->one_ns && (!ns || ns->gen != s->ns_gen)) {
		/* the one namespace it scrubs is gone: not a finished scrub */
		s->cancelled = true;
		scrub_finish(d, s);
		return false;
	}
	if (!s->started_ns || !ns || ns->gen != s->ns_gen) {
		/* the first namespace, or the next one (this one went away) */
		ns = next_ns(d, s, !s->started_ns, s->ns_id);
		if (!ns) {
			scrub_finish(d, s);
			return false;
		}
		s->started_ns = true;
		s->ns_id = ns->id;
		s->ns_gen = ns->gen;
		s->sector = 0;
	}
	nr = ns->size >> MF_SECTOR_SHIFT;
	if (s->flags & MF_SCRUB_FULL) {
		to = s->sector + (SCRUB_BYTES_PER_STEP >> MF_SECTOR_SHIFT);
		if (to > nr)
			to = nr;
		read_media(s, ns, s->sector, to);
	} else {
		/* up to the end of the next SCRUB_RANGES_PER_STEP poison ranges */
		i = rangeset_lookup(&ns->poison, s->sector) + SCRUB_RANGES_PER_STEP;
		to = i < ns->poison.nr ? ns->poison.r[i].start : nr;
	}
	found = to > s->sector ? found_latent(d, ns, s->sector, to - s->sector, MF_EVF_BY_SCRUB) : 0;
	if (found < 0) {
		/* what it could not record stays latent: the scrub has failed */
		mfd_log(d, 3, "memfaild: scrub of %s: %s", ns->name, strerror((int)-found));
		s->failed = true;
		scrub_finish(d, s);
		return false;
	}
	s->found += (uint64_t)found;
	s->done += (to - s->sector) << MF_SECTOR_SHIFT;
	s->sector = to;
	if (s->sector >= nr) {
		/* on to the next namespace, by id */
		ns = next_ns(d, s, false, s->ns_id);
		if (!ns) {
			scrub_finish(d, s);
			return false;
		}
		s->ns_id = ns->id;
		s->ns_gen = ns->gen;
		s->sector = 0;
	}
	return true;
}

static void reply_state(struct conn *c, const struct mf_hdr *h, const struct scrub *s)
{
	struct mf_scrub_reply r;

	/* every byte goes to the client: none of it from our stack */
	memset(&r, 0, sizeof(r));
	reply_init(&r.r, h, sizeof(r), 0);
	strlcpy_mf(r.name, "region0", sizeof(r.name));
	if (s) {
		r.state = s->active ? MF_SCRUB_ACTIVE : MF_SCRUB_IDLE;
		r.flags = s->flags;
		r.count = s->count;
		r.done = s->done;
		r.total = s->total;
		r.found = s->found;
		r.cancelled = s->cancelled;
		r.failed = s->failed;
		if (s->name[0])
			strlcpy_mf(r.name, s->name, sizeof(r.name));
	}
	conn_send(c, &r, sizeof(r), -1);
}

static int scrub_start(struct conn *c, const struct mf_scrub_req *m)
{
	struct mfd *d = c->d;
	struct nd_namespace *ns = NULL, *pos;
	struct scrub *s;
	struct mf_event ev;

	if (m->flags & ~MF_SCRUB_FULL)
		return -EINVAL;
	if (!memchr(m->name, '\0', sizeof(m->name)))
		return -EINVAL;
	if (m->name[0] && strcmp(m->name, "region0")) {
		ns = ns_by_wire_name(d, m->name);
		if (!ns)
			return -ENODEV;
		if (!cred_is_admin_of(d, &c->cred, ns))
			return -EPERM;
	} else if (!cred_may_configure(d, &c->cred)) {
		return -EPERM;
	}
	s = scrub_of(d);
	if (!s)
		return -ENOMEM;
	if (s->active)
		return -EBUSY;	/* as ARS: one at a time */
	if (m->flags & MF_SCRUB_FULL) {
		s->buf = malloc(SCRUB_BYTES_PER_STEP);
		if (!s->buf)
			return -ENOMEM;
	}
	s->active = true;
	s->cancelled = false;
	s->failed = false;
	s->flags = m->flags;
	s->one_ns = ns != NULL;
	s->only_ns = ns ? ns->id : 0;
	strlcpy_mf(s->name, ns ? ns->name : "region0", sizeof(s->name));
	s->done = s->found = s->total = 0;
	s->started_ns = false;
	s->ns_id = 0;
	list_for_each_entry(pos, &d->region->namespaces, node)
		if (!ns || pos == ns)
			s->total += pos->size;
	memset(&ev, 0, sizeof(ev));
	ev.type = MF_EV_SCRUB_START;
	ev.flags = m->flags;
	strlcpy_mf(ev.dev, s->name, sizeof(ev.dev));
	mfd_event(d, &ev);
	return 0;
}

int scrub_request(struct conn *c, const struct mf_hdr *h, const struct mf_scrub_req *m)
{
	struct scrub *s;
	int err;

	if (h->type != MF_SCRUB_START && (m->flags || memchr(m->name, '\0', sizeof(m->name)) != m->name))
		return -EINVAL;	/* status and cancel name nothing */
	switch (h->type) {
	case MF_SCRUB_START:
		err = scrub_start(c, m);
		if (err)
			return err;
		break;
	case MF_SCRUB_CANCEL:
		s = c->d->scrub;
		if (!s || !s->active)
			break;
		if (!cred_may_configure(c->d, &c->cred)) {
			struct nd_namespace *ns = s->one_ns ?
				nd_namespace_by_id(c->d->region, s->only_ns) : NULL;

			/* the owner of the namespace it scrubs may stop it too */
			if (!ns || !cred_is_admin_of(c->d, &c->cred, ns))
				return -EPERM;
		}
		s->cancelled = true;
		scrub_finish(c->d, s);
		break;
	default:
		break;
	}
	reply_state(c, h, c->d->scrub);
	return 0;
}
