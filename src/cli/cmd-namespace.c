// SPDX-License-Identifier: MIT
/* cli/cmd-namespace.c: memfail create-namespace, destroy-namespace. */
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../util/util.h"
#include "cli.h"

static const char create_usage[] =
"usage: memfail create-namespace --size SIZE [options]\n"
"\n"
"Create an emulated devdax namespace and print it as JSON.\n"
"\n"
"  -s, --size SIZE      size, a multiple of the alignment (e.g. 1G)\n"
"  -a, --align ALIGN    4K, 2M (default) or 1G: the mapping size of its pages\n"
"  -m, --mode MODE      devdax (default), or fsdax: a namespace that holds files\n"
"                       ('memfail run --namespace SIZE,mode=fsdax' shows them)\n"
"      --uid UID        owner (default: you; others need root)\n"
"      --gid GID        group (default: your group)\n"
"      --perm MODE      permission bits, octal (default 0600)\n"
"      --mount DIR      fsdax: show its files at DIR (an existing directory;\n"
"                       served by the daemon while it runs)\n"
"      --sparse         do not reserve disk space for the data (stores to a\n"
"                       full disk then fault with SIGBUS)\n"
"  -u, --human          sizes for people\n"
"  -h, --help\n";

static int parse_id(const char *opt, const char *s, bool group, unsigned *out)
{
	uint64_t v;

	if (!parse_u64(s, &v) && v <= 0xfffffffeULL) {
		*out = (unsigned)v;
		return 0;
	}
	if (group) {
		struct group *g = getgrnam(s);

		if (g) {
			*out = g->gr_gid;
			return 0;
		}
	} else {
		struct passwd *p = getpwnam(s);

		if (p) {
			*out = p->pw_uid;
			return 0;
		}
	}
	cli_error("%s: no such %s '%s'", opt, group ? "group" : "user", s);
	exit(EXIT_USAGE);
}

int cmd_create_namespace(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "size", required_argument, NULL, 's' },
		{ "align", required_argument, NULL, 'a' },
		{ "mode", required_argument, NULL, 'm' },
		{ "uid", required_argument, NULL, 'U' },
		{ "gid", required_argument, NULL, 'G' },
		{ "perm", required_argument, NULL, 'P' },
		{ "sparse", no_argument, NULL, 'S' },
		{ "mount", required_argument, NULL, 'M' },
		{ "human", no_argument, NULL, 'u' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct memfail_namespace_args a = { 0 };
	struct memfail_namespace ns;
	struct memfail_ctx *ctx;
	const char *mount = NULL;
	unsigned flags = 0, id;
	char *end;
	int c, err;

	while ((c = getopt_long(argc, argv, "s:a:m:uh", opts, NULL)) != -1) {
		switch (c) {
		case 's': cli_parse_size("--size", optarg, &a.size); break;
		case 'a': cli_parse_size("--align", optarg, &a.align); break;
		case 'm':
			if (strcmp(optarg, "devdax") && strcmp(optarg, "fsdax")) {
				cli_error("--mode %s: devdax or fsdax", optarg);
				return EXIT_USAGE;
			}
			a.mode = !strcmp(optarg, "fsdax") ? "fsdax" : "devdax";
			break;
		case 'U': parse_id("--uid", optarg, false, &id); a.uid = id; a.set_uid = 1; break;
		case 'G': parse_id("--gid", optarg, true, &id); a.gid = id; a.set_gid = 1; break;
		case 'P':
			a.perm = (mode_t)strtoul(optarg, &end, 8);
			if (!*optarg || *end || a.perm > 0777) {
				cli_error("--perm: '%s' is not an octal mode like 0660", optarg);
				return EXIT_USAGE;
			}
			a.set_perm = 1;
			break;
		case 'S': a.sparse = 1; break;
		case 'M':
			if (optarg[0] != '/') {
				cli_error("--mount %s: an absolute path, please", optarg);
				return EXIT_USAGE;
			}
			mount = optarg;
			break;
		case 'u': flags |= JF_HUMAN; break;
		case 'h': return cli_usage(create_usage, false);
		default: return cli_usage(create_usage, true);
		}
	}
	if (optind < argc) {
		cli_error("unexpected argument '%s'", argv[optind]);
		return EXIT_USAGE;
	}
	if (mount && (!a.mode || strcmp(a.mode, "fsdax"))) {
		cli_error("--mount is for --mode fsdax");
		return EXIT_USAGE;
	}
	if (!a.size) {
		cli_error("--size is required");
		return cli_usage(create_usage, true);
	}
	if (a.align && a.align != 4096 && a.align != (2ULL << 20) && a.align != (1ULL << 30)) {
		cli_error("--align must be 4K, 2M or 1G");
		return EXIT_USAGE;
	}
	if (a.size % (a.align ? a.align : (2ULL << 20))) {
		cli_error("--size must be a multiple of the alignment (%s)",
			  a.align == 4096 ? "4K" : a.align == (1ULL << 30) ? "1G" : "2M");
		return EXIT_USAGE;
	}
	ctx = cli_connect();
	if (!ctx)
		return 1;
	err = memfail_namespace_create(ctx, &a, &ns);
	if (err) {
		cli_error("failed to create namespace: %s",
			  err == -EPERM ? "operation not permitted (giving a namespace to another user needs root or the daemon's user)"
					: cli_strerror(err));
		memfail_disconnect(ctx);
		return 1;
	}
	if (mount) {
		err = memfail_fs_mount(ctx, ns.dev, mount);
		if (err) {
			cli_error("%s: cannot show its files at %s: %s", ns.dev, mount,
				  err == -EBUSY ? "memfail shows files there already" : cli_strerror(err));
			memfail_namespace_destroy(ctx, ns.dev);
			memfail_disconnect(ctx);
			return 1;
		}
	}
	json_print(json_namespace(&ns, NULL, 0, NULL, 0, 0, flags));
	memfail_disconnect(ctx);
	return 0;
}

static const char destroy_usage[] =
"usage: memfail destroy-namespace NAME...\n"
"\n"
"Destroy namespaces (namespaceX.Y, daxX.Y or pmemX.Y), their data and\n"
"their bad-block records.  A namespace that a process maps is busy.\n"
"\n"
"  -h, --help\n";

int cmd_destroy_namespace(int argc, char **argv)
{
	struct memfail_ctx *ctx;
	int i, done = 0, failed = 0, err;

	if (argc > 1 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")))
		return cli_usage(destroy_usage, false);
	if (argc < 2)
		return cli_usage(destroy_usage, true);
	for (i = 1; i < argc; i++) {
		if (argv[i][0] == '-') {
			cli_error("unknown option '%s'", argv[i]);
			return cli_usage(destroy_usage, true);
		}
	}
	ctx = cli_connect();
	if (!ctx)
		return 1;
	for (i = 1; i < argc; i++) {
		err = memfail_namespace_destroy(ctx, argv[i]);
		if (err) {
			cli_error("%s: %s", argv[i], cli_strerror(err));
			failed++;
		} else {
			done++;
		}
	}
	memfail_disconnect(ctx);
	fprintf(stderr, "destroyed %d namespace%s\n", done, done == 1 ? "" : "s");
	return failed ? 1 : 0;
}
