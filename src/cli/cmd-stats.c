// SPDX-License-Identifier: MIT
/* cli/cmd-stats.c: memfail stats and memfail config. */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "../util/util.h"
#include "cli.h"

static const char stats_usage[] =
"usage: memfail stats [--node] [--text]\n"
"\n"
"The memory_failure counters: node0's (total ignored failed delayed\n"
"recovered, as /sys/devices/system/node/node0/memory_failure/), the pages\n"
"HardwareCorrupted counts, and each namespace's share.  The counters start\n"
"at zero when the daemon starts, as a kernel's do at boot.\n"
"\n"
"  -N, --node           node0's counters only\n"
"  -t, --text           \"name value\" lines instead of JSON\n"
"  -h, --help\n";

int cmd_stats(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "node", no_argument, NULL, 'N' },
		{ "text", no_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct memfail_ns_counters *ns = NULL;
	struct memfail_counters node;
	struct memfail_ctx *ctx;
	uint64_t hw;
	bool text = false, node_only = false;
	size_t n = 0;
	int c, err;

	while ((c = getopt_long(argc, argv, "Nth", opts, NULL)) != -1) {
		switch (c) {
		case 'N': node_only = true; break;
		case 't': text = true; break;
		case 'h': return cli_usage(stats_usage, false);
		default: return cli_usage(stats_usage, true);
		}
	}
	if (optind < argc) {
		cli_error("unexpected argument '%s'", argv[optind]);
		return EXIT_USAGE;
	}
	ctx = cli_connect();
	if (!ctx)
		return 1;
	err = memfail_stats(ctx, &node, &hw, &ns, &n);
	memfail_disconnect(ctx);
	if (err) {
		cli_error("%s", cli_strerror(err));
		return 1;
	}
	if (text)
		printf("total %llu\nignored %llu\nfailed %llu\ndelayed %llu\nrecovered %llu\n"
		       "HardwareCorrupted %llu kB\n",
		       (unsigned long long)node.total, (unsigned long long)node.ignored,
		       (unsigned long long)node.failed, (unsigned long long)node.delayed,
		       (unsigned long long)node.recovered, (unsigned long long)hw);
	else
		json_print(json_stats(&node, hw, node_only ? NULL : ns, n));
	free(ns);
	return 0;
}

static const char config_usage[] =
"usage: memfail config [KEY[=VALUE]]...\n"
"\n"
"Show the daemon-wide settings as JSON, or set some first.  Keys:\n"
"  memory_failure_early_kill 0|1   AO to processes that did not choose with\n"
"                                  prctl(PR_MCE_KILL) (vm.memory_failure_early_kill)\n"
"  memory_failure_recovery   0|1   0: a memory failure panics the emulated kernel:\n"
"                                  every client is killed and the daemon refuses\n"
"                                  service until restarted (vm.memory_failure_recovery)\n"
"  unmap_timeout_ms          N     a mapper that does not unmap in time is killed\n"
"  enable_soft_offline       0|1   0: MADV_SOFT_OFFLINE fails with EOPNOTSUPP\n"
"                                  (vm.enable_soft_offline; linux-6.12 only)\n"
"Read-only: kernel (the behaviour profile), panicked, strict_caps, and the\n"
"emulated region's region_base, region_size and region_available (bytes).\n"
"\n"
"  -h, --help\n";

static const char *const keys[] = {
	"memory_failure_early_kill", "memory_failure_recovery", "unmap_timeout_ms",
	"enable_soft_offline",
};

static bool known_key(const char *k)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(keys); i++)
		if (!strcmp(k, keys[i]))
			return true;
	return !strcmp(k, "kernel") || !strcmp(k, "panicked") || !strcmp(k, "strict_caps") ||
	       !strcmp(k, "region_base") ||
	       !strcmp(k, "region_size") || !strcmp(k, "region_available");
}

static void add_key(struct memfail_ctx *ctx, struct json_object *o, const char *k)
{
	int64_t v;

	if (!strcmp(k, "kernel"))
		json_object_object_add(o, k, json_object_new_string(memfail_kernel_profile(ctx)));
	else if ((!strcmp(k, "panicked") || !strcmp(k, "strict_caps")) &&
		 !memfail_config_get(ctx, k, &v))
		json_object_object_add(o, k, json_object_new_boolean(v != 0));
	else if (!memfail_config_get(ctx, k, &v))
		json_object_object_add(o, k, json_object_new_int64(v));
}

int cmd_config(int argc, char **argv)
{
	struct json_object *o;
	struct memfail_ctx *ctx;
	bool named = false;
	int i, err;
	size_t k;

	for (i = 1; i < argc; i++) {
		char key[64];
		const char *eq = strchr(argv[i], '=');

		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
			return cli_usage(config_usage, false);
		if (argv[i][0] == '-')
			return cli_usage(config_usage, true);
		snprintf(key, sizeof(key), "%.*s", eq ? (int)(eq - argv[i]) : (int)strlen(argv[i]),
			 argv[i]);
		if (!known_key(key)) {
			cli_error("%s: no such setting (see 'memfail config --help')", key);
			return EXIT_USAGE;
		}
		if (!eq)
			named = true;
	}
	ctx = cli_connect();
	if (!ctx)
		return 1;
	for (i = 1; i < argc; i++) {
		char key[64], *eq = strchr(argv[i], '=');
		uint64_t val;

		if (!eq)
			continue;
		snprintf(key, sizeof(key), "%.*s", (int)(eq - argv[i]), argv[i]);
		if (parse_u64(eq + 1, &val)) {
			cli_error("%s: '%s' is not a number", key, eq + 1);
			memfail_disconnect(ctx);
			return EXIT_USAGE;
		}
		err = memfail_config_set(ctx, key, (int64_t)val);
		if (err) {
			cli_error("%s: %s", key,
				  err == -EROFS ? "read-only" :
				  err == -EINVAL ? "value out of range" :
				  err == -EPERM ? "operation not permitted (needs root or the daemon's user)" :
				  cli_strerror(err));
			memfail_disconnect(ctx);
			return 1;
		}
	}
	/* KEY alone: just those; nothing named: everything */
	o = json_object_new_object();
	if (named) {
		for (i = 1; i < argc; i++)
			if (!strchr(argv[i], '='))
				add_key(ctx, o, argv[i]);
	} else {
		for (k = 0; k < ARRAY_SIZE(keys); k++)
			add_key(ctx, o, keys[k]);
		add_key(ctx, o, "kernel");
		add_key(ctx, o, "panicked");
		add_key(ctx, o, "strict_caps");
	}
	json_print(o);
	memfail_disconnect(ctx);
	return 0;
}
