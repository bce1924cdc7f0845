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
	add(o, "chardev", json_object_new_string(ns->chardev));
	add(o, "align", json_object_new_int64((int64_t)ns->align));
	if (ns->badblock_count)
		add(o, "badblock_count", json_object_new_int64((int64_t)ns->badblock_count));
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
	add(o, "hwpoison_pages", json_object_new_int64((int64_t)ns->hwpoison_pages));
	return o;
}

struct json_object *json_badblock_status(const struct memfail_badblock *bb, size_t nbb,
					 unsigned flags)
{
	struct json_object *o = json_object_new_object();
	struct json_object *a = json_object_new_array();
	size_t i;

	for (i = 0; i < nbb; i++) {
		struct json_object *e = json_object_new_object();

		add(e, "block", (flags & JF_HUMAN) ? hex(bb[i].sector)
			       : json_object_new_int64((int64_t)bb[i].sector));
		add(e, "count", (flags & JF_HUMAN) ? hex(bb[i].count)
			       : json_object_new_int64((int64_t)bb[i].count));
		json_object_array_add(a, e);
	}
	add(o, "badblocks", a);
	return o;
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
	for (i = 0; i < n; i++) {
		struct json_object *e = json_object_new_object();

		add(e, "dev", json_object_new_string(ns[i].dev));
		json_object_array_add(a, counters(e, &ns[i].c));
	}
	add(o, "namespaces", a);
	return o;
}

void json_print(struct json_object *o)
{
	printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
						       JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
}
