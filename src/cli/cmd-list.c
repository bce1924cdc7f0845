// SPDX-License-Identifier: MIT
/* cli/cmd-list.c: memfail list, in ndctl list's shapes. */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char list_usage[] =
"usage: memfail list [options]\n"
"\n"
"List namespaces (the default), the region with -R, or the dax devices\n"
"with -D, as JSON.\n"
"\n"
"  -N, --namespaces     list namespaces\n"
"  -R, --regions        list the region (with its namespaces if -N too)\n"
"  -D, --devices        list dax devices, as daxctl list -D (inside their\n"
"                       namespaces if -N too)\n"
"  -X, --device-dax     with namespaces: their dax devices, as ndctl -X\n"
"  -M, --media-errors   include bad blocks (512-byte sectors: from the\n"
"                       namespace's data start, or the region's start),\n"
"                       and which processes map each bad page, at which size\n"
"  -n, --namespace NAME only this namespace\n"
"  -u, --human          sizes for people; a single result unwrapped\n"
"  -h, --help\n";

/* One namespace as JSON, with its bad blocks and their mappers when asked. */
struct json_object *namespace_object(struct memfail_ctx *ctx, const struct memfail_namespace *ns,
				     uint64_t sector_base, unsigned flags)
{
	struct memfail_badblock *bb = NULL;
	struct memfail_mapper *m = NULL;
	struct json_object *o;
	size_t n = 0, nm = 0;

	if ((flags & JF_MEDIA_ERRORS) && memfail_badblocks(ctx, ns->dev, &bb, &n)) {
		bb = NULL;
		n = 0;
	}
	if ((flags & JF_MEDIA_ERRORS) && n) {
		int err = memfail_mappers(ctx, ns->dev, &m, &nm);

		/* not the owner: the list goes without them, as it should */
		if (err && err != -EPERM)
			cli_error("%s: who maps its bad pages: %s", ns->dev, cli_strerror(err));
		if (err) {
			m = NULL;
			nm = 0;
		}
	}
	o = json_namespace(ns, bb, n, m, nm, sector_base, flags);
	if ((flags & JF_MEDIA_ERRORS) && ns->mode && !strcmp(ns->mode, "fsdax")) {
		struct memfail_file_error *fe = NULL;
		size_t nf = 0, i;
		uint64_t fp = 0;
		int err = memfail_fs_media_errors(ctx, ns->dev, &fe, &nf, &fp);

		/* per file, which byte ranges are bad (memfail's own fields) */
		if (!err) {
			struct json_object *a = json_object_new_array();

			for (i = 0; i < nf; i++) {
				struct json_object *e = json_object_new_object();

				json_object_object_add(e, "file", json_object_new_string(fe[i].name));
				json_object_object_add(e, "ino", json_object_new_int64((int64_t)fe[i].ino));
				json_object_object_add(e, "offset_bytes",
						       json_object_new_int64((int64_t)fe[i].offset));
				json_object_object_add(e, "length_bytes",
						       json_object_new_int64((int64_t)fe[i].length));
				json_object_array_add(a, e);
			}
			json_object_object_add(o, "file_media_errors", a);
			json_object_object_add(o, "poisoned_free_pages",
					       json_object_new_int64((int64_t)fp));
		} else if (err != -EPERM) {
			cli_error("%s: media errors of its files: %s", ns->dev, cli_strerror(err));
		}
		free(fe);
	}
	if (flags & JF_DEVICES) {
		/* ndctl list -N -D: the device inside its namespace */
		struct json_object *r = json_object_new_object();
		struct json_object *a = json_object_new_array();

		/* every namespace is in region 0: dax0.Y */
		json_object_object_add(r, "id", json_object_new_int64(0));
		json_object_object_add(r, "size", json_size(ns->size, flags));
		json_object_object_add(r, "align", json_object_new_int64((int64_t)ns->align));
		json_object_array_add(a, json_daxdev(ns, flags));
		json_object_object_add(r, "devices", a);
		json_object_object_add(o, "daxregion", r);
	}
	free(bb);
	free(m);
	return o;
}

static bool name_matches(const struct memfail_namespace *ns, const char *name)
{
	const char *dot;

	if (!name || !strcmp(ns->dev, name) || !strcmp(ns->chardev, name))
		return true;
	if (!strcmp(name, "pmem0"))
		return ns->id == 0;
	dot = strchr(ns->dev, '.');
	return !strncmp(name, "pmem", 4) && dot && !strcmp(name + 4, dot - 1);
}

int cmd_list(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "namespaces", no_argument, NULL, 'N' },
		{ "regions", no_argument, NULL, 'R' },
		{ "devices", no_argument, NULL, 'D' },
		{ "device-dax", no_argument, NULL, 'X' },
		{ "media-errors", no_argument, NULL, 'M' },
		{ "namespace", required_argument, NULL, 'n' },
		{ "human", no_argument, NULL, 'u' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct memfail_namespace *v = NULL;
	struct json_object *arr, *out;
	struct memfail_ctx *ctx;
	bool want_ns = false, want_region = false, want_dev = false;
	const char *only = NULL;
	int64_t base = 0, size = 0, avail = 0;
	unsigned flags = 0;
	size_t n = 0, i;
	int c, err;

	while ((c = getopt_long(argc, argv, "NRDXMn:uh", opts, NULL)) != -1) {
		switch (c) {
		case 'N': want_ns = true; break;
		case 'R': want_region = true; break;
		case 'D': want_dev = true; break;
		case 'X': flags |= JF_DEVICES; want_ns = true; break;
		case 'M': flags |= JF_MEDIA_ERRORS; break;
		case 'n': only = optarg; want_ns = true; break;
		case 'u': flags |= JF_HUMAN; break;
		case 'h': return cli_usage(list_usage, false);
		default: return cli_usage(list_usage, true);
		}
	}
	if (optind < argc) {
		cli_error("unexpected argument '%s'", argv[optind]);
		return EXIT_USAGE;
	}
	if (want_dev && (want_ns || want_region))
		flags |= JF_DEVICES;
	else if (!want_region && !want_dev)
		want_ns = true;
	ctx = cli_connect();
	if (!ctx)
		return 1;
	err = memfail_namespace_list(ctx, &v, &n);
	if (!err && want_region)
		err = memfail_config_get(ctx, "region_base", &base) ||
		      memfail_config_get(ctx, "region_size", &size) ||
		      memfail_config_get(ctx, "region_available", &avail) ? -EIO : 0;
	if (err) {
		cli_error("%s", cli_strerror(err));
		memfail_disconnect(ctx);
		return 1;
	}
	arr = json_object_new_array();
	for (i = 0; want_dev && !(flags & JF_DEVICES) && i < n; i++)
		if (name_matches(&v[i], only))
			json_object_array_add(arr, json_daxdev(&v[i], flags));
	for (i = 0; want_ns && i < n; i++) {
		uint64_t sb = want_region ? (v[i].phys_start - (uint64_t)base) / MEMFAIL_SECTOR_SIZE : 0;

		if (name_matches(&v[i], only))
			json_object_array_add(arr, namespace_object(ctx, &v[i], sb, flags));
	}
	if (want_region) {
		struct json_object *r = json_object_new_object();
		uint64_t bbc = 0;

		for (i = 0; i < n; i++)
			bbc += v[i].badblock_count;
		json_object_object_add(r, "dev", json_object_new_string("region0"));
		json_object_object_add(r, "size", json_size((uint64_t)size, flags));
		json_object_object_add(r, "align", json_object_new_int64(16777216));
		json_object_object_add(r, "available_size", json_size((uint64_t)avail, flags));
		json_object_object_add(r, "type", json_object_new_string("pmem"));
		if (bbc)
			json_object_object_add(r, "badblock_count", json_object_new_int64((int64_t)bbc));
		json_object_object_add(r, "persistence_domain",
				       json_object_new_string("memory_controller"));
		if (want_ns && json_object_array_length(arr))
			json_object_object_add(r, "namespaces", arr);
		else
			json_object_put(arr);
		arr = json_object_new_array();
		json_object_array_add(arr, r);
	}
	/* as ndctl: an array, unwrapped only for one result with --human */
	if ((flags & JF_HUMAN) && json_object_array_length(arr) == 1) {
		out = json_object_get(json_object_array_get_idx(arr, 0));
		json_object_put(arr);
	} else {
		out = arr;
	}
	if (json_object_is_type(out, json_type_array) && !json_object_array_length(out)) {
		json_object_put(out);
		if (only)
			fprintf(stderr, "%s: no namespace matches '%s'\n", cmd_name, only);
	} else {
		json_print(out);
	}
	free(v);
	memfail_disconnect(ctx);
	return 0;
}
