// SPDX-License-Identifier: MIT
/*
 * cli/json.c: every JSON object memfail prints is built here, in
 * ndctl's shapes: ndctl's fields keep ndctl's names and units (offsets and
 * lengths in 512-byte sectors), and memfail's own additions have names of
 * their own with the unit in them.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli.h"

struct json_object *json_size(uint64_t v, unsigned flags)
{
	static const char *const bin[] = { "KiB", "MiB", "GiB", "TiB", "PiB" };
	static const char *const dec[] = { "KB", "MB", "GB", "TB", "PB" };
	char buf[64];
	double b = (double)v, d = (double)v;
	int i = -1, j = -1;

	/* ndctl leaves small values as plain numbers */
	if (!(flags & JF_HUMAN) || v < 5000 * 1024ULL)
		return json_object_new_int64((int64_t)v);
	while (b >= 1024.0 && i < 4) {
		b /= 1024.0;
		i++;
	}
	while (d >= 1000.0 && j < 4) {
		d /= 1000.0;
		j++;
	}
	snprintf(buf, sizeof(buf), "%.2f %s (%.2f %s)", b, bin[i], d, dec[j]);
	return json_object_new_string(buf);
}

static struct json_object *hex(uint64_t v)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%#" PRIx64, v);
	return json_object_new_string(buf);
}

static void add(struct json_object *o, const char *k, struct json_object *v)
{
	json_object_object_add(o, k, v);
}

struct json_object *json_namespace(const struct memfail_namespace *ns,
				   const struct memfail_badblock *bb, size_t nbb,
				   const struct memfail_mapper *mappers, size_t nmappers,
				   uint64_t sector_base, unsigned flags)
{
	struct json_object *o = json_object_new_object();
	char perm[8];
	size_t i;

	/* ndctl list -N, in its order */
	add(o, "dev", json_object_new_string(ns->dev));
	add(o, "mode", json_object_new_string(ns->mode));
	add(o, "map", json_object_new_string("dev"));
	add(o, "size", json_size(ns->size, flags));
	add(o, "uuid", json_object_new_string(ns->uuid));
	if (ns->mode && !strcmp(ns->mode, "fsdax")) {
		char blockdev[40];

		/* ndctl shows an fsdax namespace's block device: pmem0.N here */
		snprintf(blockdev, sizeof(blockdev), "pmem%s", ns->chardev + 3);
		add(o, "align", json_object_new_int64((int64_t)ns->align));
		add(o, "blockdev", json_object_new_string(blockdev));
		/* memfail's own: the file system refuses all use (notify_failure) */
		if (ns->fs_shutdown) {
			add(o, "fs_state", json_object_new_string("shutdown"));
			add(o, "fs_shutdown_reason", json_object_new_string(ns->fs_why));
		}
	} else {
		add(o, "chardev", json_object_new_string(ns->chardev));
		add(o, "align", json_object_new_int64((int64_t)ns->align));
	}
	if (ns->badblock_count)
		add(o, "badblock_count", json_object_new_int64((int64_t)ns->badblock_count));
	/* memfail's own: poison nothing has found yet (ndctl cannot know) */
	if ((flags & JF_MEDIA_ERRORS) && ns->latent_count)
		add(o, "latent_count", json_object_new_int64((int64_t)ns->latent_count));
	if (flags & JF_MEDIA_ERRORS) {
		struct json_object *a = json_object_new_array();

		for (i = 0; i < nbb; i++) {
			struct json_object *e = json_object_new_object();

			add(e, "offset", json_object_new_int64((int64_t)(sector_base + bb[i].sector)));
			add(e, "length", json_object_new_int64((int64_t)bb[i].count));
			json_object_array_add(a, e);
		}
		add(o, "badblocks", a);
	}
	/* memfail's own */
	add(o, "phys_addr_start", hex(ns->phys_start));
	add(o, "phys_addr_end", hex(ns->phys_end));
	add(o, "owner_uid", json_object_new_int64(ns->uid));
	add(o, "owner_gid", json_object_new_int64(ns->gid));
	snprintf(perm, sizeof(perm), "%04o", (unsigned)ns->perm);
	add(o, "permissions", json_object_new_string(perm));
	add(o, "mappings", json_object_new_int64(ns->nr_mappings));
	if (mappers)
		add(o, "mappers", json_mappers(mappers, nmappers, flags));
	add(o, "hwpoison_pages", json_object_new_int64((int64_t)ns->hwpoison_pages));
	return o;
}

struct json_object *json_mappers(const struct memfail_mapper *m, size_t n, unsigned flags)
{
	struct json_object *a = json_object_new_array();
	size_t i;

	for (i = 0; i < n; i++) {
		struct json_object *e = json_object_new_object();

		add(e, "page_offset", json_size(m[i].page * 4096, flags));
		add(e, "pid", json_object_new_int64(m[i].pid));
		add(e, "comm", json_object_new_string(m[i].comm));
		add(e, "map_size", json_size(m[i].size, flags));
		add(e, "address", hex(m[i].addr));
		json_object_array_add(a, e);
	}
	return a;
}

struct json_object *json_daxdev(const struct memfail_namespace *ns, unsigned flags)
{
	struct json_object *o = json_object_new_object();

	/* daxctl list -D */
	add(o, "chardev", json_object_new_string(ns->chardev));
	add(o, "size", json_size(ns->size, flags));
	add(o, "target_node", json_object_new_int64(0));
	add(o, "align", json_object_new_int64((int64_t)ns->align));
	add(o, "mode", json_object_new_string("devdax"));
	return o;
}

static struct json_object *status_range(const struct memfail_badblock *r, bool latent,
					unsigned flags)
{
	struct json_object *e = json_object_new_object();

	add(e, "block", (flags & JF_HUMAN) ? hex(r->sector)
		       : json_object_new_int64((int64_t)r->sector));
	add(e, "count", (flags & JF_HUMAN) ? hex(r->count)
		       : json_object_new_int64((int64_t)r->count));
	if (latent)
		add(e, "latent", json_object_new_boolean(1));
	return e;
}

struct json_object *json_badblock_status(const struct memfail_badblock *bb, size_t nbb,
					 const struct memfail_badblock *lat, size_t nlat,
					 unsigned flags)
{
	struct json_object *o = json_object_new_object();
	struct json_object *a = json_object_new_array();
	size_t i = 0, j = 0;

	/* ndctl's: every injected error in order, the latent ones marked;
	 * both lists come sorted and never overlap */
	while (i < nbb || j < nlat) {
		if (j == nlat || (i < nbb && bb[i].sector < lat[j].sector))
			json_object_array_add(a, status_range(&bb[i++], false, flags));
		else
			json_object_array_add(a, status_range(&lat[j++], true, flags));
	}
	add(o, "badblocks", a);
	return o;
}

struct json_object *json_scrub(const struct memfail_scrub *s)
{
	struct json_object *o = json_object_new_object();

	/* ndctl's bus object: dev and scrub_state; then memfail's own */
	add(o, "dev", json_object_new_string(s->dev));
	add(o, "scrub_state", json_object_new_string(s->active ? "active" : "idle"));
	add(o, "scrub_count", json_object_new_int64((int64_t)s->count));
	add(o, "full", json_object_new_boolean(!!(s->flags & MEMFAIL_SCRUB_FULL)));
	add(o, "bytes_done", json_object_new_int64((int64_t)s->done));
	add(o, "bytes_total", json_object_new_int64((int64_t)s->total));
	add(o, "latent_found", json_object_new_int64((int64_t)s->found));
	if (s->cancelled)
		add(o, "cancelled", json_object_new_boolean(1));
	if (s->failed)
		add(o, "failed", json_object_new_boolean(1));
	return o;
}

static const char *by_name(unsigned flags)
{
	return (flags & MEMFAIL_EVF_BY_SCRUB) ? "scrub" :
	       (flags & MEMFAIL_EVF_BY_ACCESS) ? "access" :
	       (flags & MEMFAIL_EVF_BY_READ) ? "read" :
	       (flags & MEMFAIL_EVF_BY_WRITE) ? "write" : "clear-errors";
}

void cli_format_time(uint64_t time_ns, char *buf, size_t n)
{
	time_t t = (time_t)(time_ns / 1000000000ULL);
	struct tm tm;

	localtime_r(&t, &tm);
	strftime(buf, n, "%Y-%m-%d %H:%M:%S %z", &tm);
}

const char *cli_si_code_name(int code)
{
	return code == 4 ? "BUS_MCEERR_AR" : code == 5 ? "BUS_MCEERR_AO" : "?";
}

struct json_object *json_event(const struct memfail_event *ev)
{
	struct json_object *o = json_object_new_object();
	const char *name = memfail_event_type_name(ev->type);
	char t[64];

	cli_format_time(ev->time_ns, t, sizeof(t));
	if (ev->type != MEMFAIL_EV_LOST)
		add(o, "seq", json_object_new_int64((int64_t)ev->seq));
	add(o, "time", json_object_new_string(t));
	add(o, "time_ns", json_object_new_int64((int64_t)ev->time_ns));
	add(o, "event", json_object_new_string(name ? name : "unknown"));
	if (ev->dev[0])
		add(o, "dev", json_object_new_string(ev->dev));
	switch (ev->type) {
	case MEMFAIL_EV_MEMORY_FAILURE:
		/* rasdaemon's memory_failure_event */
		add(o, "pfn", hex(ev->pfn));
		add(o, "page_type", json_object_new_string(memfail_page_type_name(ev->page_type)));
		add(o, "action_result",
		    json_object_new_string(memfail_action_result_name(ev->result)));
		break;
	case MEMFAIL_EV_SIGNAL:
	case MEMFAIL_EV_KILL:
		add(o, "pfn", hex(ev->pfn));
		add(o, "pid", json_object_new_int64(ev->pid));
		add(o, "tid", json_object_new_int64(ev->tid));
		add(o, "comm", json_object_new_string(ev->comm));
		add(o, "signal", json_object_new_string(ev->type == MEMFAIL_EV_KILL ?
							 "SIGKILL" : "SIGBUS"));
		if (ev->type == MEMFAIL_EV_SIGNAL) {
			add(o, "si_code", json_object_new_string(cli_si_code_name(ev->code)));
			add(o, "si_addr", hex(ev->addr));
			add(o, "si_addr_lsb", json_object_new_int64(ev->lsb));
		}
		break;
	case MEMFAIL_EV_INJECT:
	case MEMFAIL_EV_UNINJECT:
	case MEMFAIL_EV_CLEAR:
	case MEMFAIL_EV_FOUND:
		/* sectors from the namespace's data start, as badblocks */
		add(o, "offset", json_object_new_int64((int64_t)ev->sector));
		add(o, "length", json_object_new_int64((int64_t)ev->count));
		if (ev->type == MEMFAIL_EV_INJECT)
			add(o, "latent", json_object_new_boolean(!!(ev->flags & MEMFAIL_EVF_LATENT)));
		if (ev->type == MEMFAIL_EV_CLEAR || ev->type == MEMFAIL_EV_FOUND)
			add(o, "by", json_object_new_string(by_name(ev->flags)));
		break;
	case MEMFAIL_EV_SCRUB_START:
	case MEMFAIL_EV_SCRUB_END:
		add(o, "full", json_object_new_boolean(!!(ev->flags & MEMFAIL_SCRUB_FULL)));
		if (ev->type == MEMFAIL_EV_SCRUB_END) {
			add(o, "latent_found", json_object_new_int64((int64_t)ev->count));
			add(o, "cancelled",
			    json_object_new_boolean(!!(ev->flags & MEMFAIL_EVF_CANCELLED)));
		}
		break;
	case MEMFAIL_EV_PANIC:
		add(o, "pfn", hex(ev->pfn));
		break;
	case MEMFAIL_EV_LOST:
		add(o, "count", json_object_new_int64((int64_t)ev->count));
		break;
	}
	return o;
}

struct json_object *json_summary(const struct memfail_summary_row *r, size_t n)
{
	struct json_object *a = json_object_new_array();
	size_t i;

	for (i = 0; i < n; i++) {
		struct json_object *e = json_object_new_object();
		const char *name = memfail_event_type_name(r[i].type);

		add(e, "event", json_object_new_string(name ? name : "unknown"));
		if (r[i].type == MEMFAIL_EV_MEMORY_FAILURE) {
			add(e, "page_type",
			    json_object_new_string(memfail_page_type_name(r[i].page_type)));
			add(e, "action_result",
			    json_object_new_string(memfail_action_result_name(r[i].result)));
		}
		if (r[i].type == MEMFAIL_EV_SIGNAL)
			add(e, "si_code", json_object_new_string(cli_si_code_name(r[i].code)));
		if (r[i].dev[0])
			add(e, "dev", json_object_new_string(r[i].dev));
		add(e, "count", json_object_new_int64((int64_t)r[i].count));
		json_object_array_add(a, e);
	}
	return a;
}

static struct json_object *counters(struct json_object *o, const struct memfail_counters *c)
{
	add(o, "total", json_object_new_int64((int64_t)c->total));
	add(o, "ignored", json_object_new_int64((int64_t)c->ignored));
	add(o, "failed", json_object_new_int64((int64_t)c->failed));
	add(o, "delayed", json_object_new_int64((int64_t)c->delayed));
	add(o, "recovered", json_object_new_int64((int64_t)c->recovered));
	return o;
}

struct json_object *json_stats(const struct memfail_counters *node, uint64_t hw_kb,
			       const struct memfail_ns_counters *ns, size_t n)
{
	struct json_object *o = json_object_new_object();
	struct json_object *a = json_object_new_array();
	size_t i;

	add(o, "node0", counters(json_object_new_object(), node));
	add(o, "hardware_corrupted_kb", json_object_new_int64((int64_t)hw_kb));
	for (i = 0; ns && i < n; i++) {
		struct json_object *e = json_object_new_object();

		add(e, "dev", json_object_new_string(ns[i].dev));
		json_object_array_add(a, counters(e, &ns[i].c));
	}
	if (ns)
		add(o, "namespaces", a);
	else
		json_object_put(a);
	return o;
}

void json_print(struct json_object *o)
{
	printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
						       JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
}
