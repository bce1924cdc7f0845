// SPDX-License-Identifier: MIT
/* cli/cmd-inject.c: memfail inject-error, shaped like ndctl inject-error. */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char inject_usage[] =
"usage: memfail inject-error NAME --block N --count M [options]\n"
"       memfail inject-error NAME --status\n"
"\n"
"Poison sectors of a namespace's media.  The error is entered in the\n"
"namespace's bad blocks at once, or with --no-notify stays latent until a\n"
"scrub or an access finds it.  Either way nothing happens to processes that\n"
"map it until one touches it: that access runs memory_failure() with the\n"
"toucher as the consumer.\n"
"\n"
"  -B, --block N        first 512-byte sector, from the data start\n"
"  -n, --count M        number of sectors (default 1)\n"
"  -d, --uninject       remove injected errors instead (the data stays)\n"
"  -t, --status         print the injected errors as JSON (latent ones\n"
"                       marked \"latent\":true)\n"
"  -N, --no-notify      a latent error, found only by a scrub or an access\n"
"  -S, --saturate       poison the whole sector (always the case here)\n"
"  -u, --human          numbers for people\n"
"  -h, --help\n";

int cmd_inject_error(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "block", required_argument, NULL, 'B' },
		{ "count", required_argument, NULL, 'n' },
		{ "uninject", no_argument, NULL, 'd' },
		{ "status", no_argument, NULL, 't' },
		{ "no-notify", no_argument, NULL, 'N' },
		{ "saturate", no_argument, NULL, 'S' },
		{ "human", no_argument, NULL, 'u' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct memfail_namespace ns;
	struct memfail_ctx *ctx;
	uint64_t block = 0, count = 1;
	bool have_block = false, uninject = false, status = false, no_notify = false;
	unsigned flags = 0;
	const char *name;
	int c, err, ret = 1;

	while ((c = getopt_long(argc, argv, "B:n:dtNSuh", opts, NULL)) != -1) {
		switch (c) {
		case 'B': cli_parse_u64("--block", optarg, &block); have_block = true; break;
		case 'n': cli_parse_u64("--count", optarg, &count); break;
		case 'd': uninject = true; break;
		case 't': status = true; break;
		case 'N': no_notify = true; break;
		case 'S': break;
		case 'u': flags |= JF_HUMAN; break;
		case 'h': return cli_usage(inject_usage, false);
		default: return cli_usage(inject_usage, true);
		}
	}
	if (optind + 1 != argc) {
		cli_error(optind < argc ? "one namespace at a time" : "specify a namespace to inject error to");
		return cli_usage(inject_usage, true);
	}
	name = argv[optind];
	if (status && (uninject || have_block)) {
		cli_error("status is invalid with inject or uninject");
		return EXIT_USAGE;
	}
	if (!status && !have_block) {
		cli_error("block and count required for inject/uninject");
		return EXIT_USAGE;
	}
	if (!status && !count) {
		cli_error("--count must be at least 1");
		return EXIT_USAGE;
	}
	if (no_notify && (status || uninject)) {
		cli_error("--no-notify is for injecting");
		return EXIT_USAGE;
	}
	ctx = cli_connect();
	if (!ctx)
		return 1;
	err = memfail_namespace_get(ctx, name, &ns);
	if (err) {
		cli_error("%s: %s", name, cli_strerror(err));
		goto out;
	}
	if (status) {
		struct memfail_badblock *bb = NULL, *lat = NULL;
		size_t n = 0, nl = 0;

		err = memfail_badblocks(ctx, name, &bb, &n);
		if (!err)
			err = memfail_latent_errors(ctx, name, &lat, &nl);
		if (err) {
			free(bb);
			cli_error("%s: %s", name, cli_strerror(err));
			goto out;
		}
		if (n || nl)
			json_print(json_badblock_status(bb, n, lat, nl, flags));
		free(bb);
		free(lat);
		ret = 0;
		goto out;
	}
	if (uninject) {
		fprintf(stderr, "Warning: Un-injecting an error removes it from the bad-block list;\n"
				"the data in those sectors is whatever was last written there.\n\n");
		err = memfail_uninject_error(ctx, name, block, count);
	} else {
		err = memfail_inject_error(ctx, name, block, count,
					   no_notify ? MEMFAIL_INJECT_LATENT : MEMFAIL_INJECT_NOTIFY);
	}
	if (err) {
		cli_error("%s: %s", name, cli_strerror(err));
		goto out;
	}
	if (!memfail_namespace_get(ctx, name, &ns))
		json_print(namespace_object(ctx, &ns, 0, flags | JF_MEDIA_ERRORS));
	ret = 0;
out:
	memfail_disconnect(ctx);
	return ret;
}
