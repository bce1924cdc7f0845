// SPDX-License-Identifier: MIT
/* cli/cmd-clear.c: memfail clear-errors, shaped like ndctl clear-errors. */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char clear_usage[] =
"usage: memfail clear-errors NAME... | all [--block N --count M]\n"
"\n"
"Rewrite the bad blocks of namespaces with zeros and clear them: the data\n"
"that was there is lost, as with ndctl.  Every process that maps a page\n"
"whose last bad sector is cleared can touch it again.\n"
"\n"
"  -s, --scrub          scrub each namespace first, so that latent errors\n"
"                       are found and cleared too\n"
"  -B, --block N        clear only from this sector (memfail extension)\n"
"  -n, --count M        this many sectors (with --block; default 1)\n"
"  -u, --human          sizes for people\n"
"  -h, --help\n";

int cmd_clear_errors(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "block", required_argument, NULL, 'B' },
		{ "count", required_argument, NULL, 'n' },
		{ "human", no_argument, NULL, 'u' },
		{ "scrub", no_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct memfail_namespace *v = NULL;
	struct memfail_ctx *ctx;
	uint64_t block = 0, count = 1;
	bool have_block = false, all = false, scrub = false;
	unsigned flags = JF_MEDIA_ERRORS;
	size_t n = 0, i;
	int c, k, err, cleared = 0, failed = 0;

	while ((c = getopt_long(argc, argv, "B:n:ush", opts, NULL)) != -1) {
		switch (c) {
		case 'B': cli_parse_u64("--block", optarg, &block); have_block = true; break;
		case 'n': cli_parse_u64("--count", optarg, &count); break;
		case 'u': flags |= JF_HUMAN; break;
		case 's': scrub = true; break;
		case 'h': return cli_usage(clear_usage, false);
		default: return cli_usage(clear_usage, true);
		}
	}
	if (optind >= argc) {
		cli_error("specify a namespace to clear, or \"all\"");
		return cli_usage(clear_usage, true);
	}
	if (have_block && !count) {
		cli_error("--count must be at least 1");
		return EXIT_USAGE;
	}
	for (k = optind; k < argc; k++)
		if (!strcmp(argv[k], "all"))
			all = true;
	ctx = cli_connect();
	if (!ctx)
		return 1;
	err = memfail_namespace_list(ctx, &v, &n);
	if (err) {
		cli_error("%s", cli_strerror(err));
		memfail_disconnect(ctx);
		return 1;
	}
	for (k = optind; k < argc; k++) {
		struct memfail_namespace ns;

		if (all && k > optind)
			break;
		if (!all && memfail_namespace_get(ctx, argv[k], &ns)) {
			cli_error("%s: no such namespace", argv[k]);
			failed++;
		}
	}
	if (failed)
		goto out;
	for (i = 0; i < n; i++) {
		bool chosen = all;

		for (k = optind; !chosen && k < argc; k++) {
			struct memfail_namespace ns;

			chosen = !memfail_namespace_get(ctx, argv[k], &ns) && !strcmp(ns.dev, v[i].dev);
		}
		if (!chosen)
			continue;
		err = scrub ? cli_scrub_and_wait(ctx, v[i].dev) : 0;
		if (err == -EINTR || err == -EIO) {
			if (err == -EINTR)
				cli_error("interrupted: nothing more cleared");
			failed++;
			break;
		}
		if (!err)
			err = memfail_clear_errors(ctx, v[i].dev, block, count,
					   have_block ? 0 : MEMFAIL_CLEAR_ALL, NULL);
		if (err) {
			cli_error("%s: %s", v[i].dev, cli_strerror(err));
			failed++;
			continue;
		}
		cleared++;
		if (!memfail_namespace_get(ctx, v[i].dev, &v[i]))
			json_print(namespace_object(ctx, &v[i], 0, flags));
	}
	fprintf(stderr, "cleared %d namespace%s\n", cleared, cleared == 1 ? "" : "s");
out:
	free(v);
	memfail_disconnect(ctx);
	return failed ? 1 : 0;
}
