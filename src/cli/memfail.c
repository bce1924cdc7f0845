// SPDX-License-Identifier: MIT
/*
 * cli/memfail.c: the memfail command: dispatch, and what every command
 * shares (connecting, error messages, number parsing).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "../util/util.h"
#include "cli.h"

const char *cmd_name = "memfail";

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
} commands[] = {
	{ "run", cmd_run, "run a program with memfail's /dev/dax devices" },
	{ "create-namespace", cmd_create_namespace, "create an emulated namespace" },
	{ "destroy-namespace", cmd_destroy_namespace, "destroy a namespace" },
	{ "list", cmd_list, "list the region, namespaces and media errors" },
	{ "inject-error", cmd_inject_error, "inject media errors into a namespace" },
	{ "clear-errors", cmd_clear_errors, "rewrite and clear bad blocks" },
	{ "read", cmd_read, "read a namespace through the driver" },
	{ "write", cmd_write, "write a namespace through the driver (clears what it covers)" },
	{ "stats", cmd_stats, "memory_failure counters" },
	{ "config", cmd_config, "show or set daemon-wide settings" },
	{ "start-scrub", cmd_start_scrub, "scrub for latent media errors" },
	{ "wait-scrub", cmd_wait_scrub, "wait for the scrub to end" },
	{ "cancel-scrub", cmd_cancel_scrub, "stop the running scrub" },
	{ "inject-campaign", cmd_inject_campaign, "inject a reproducible stream of errors" },
	{ "monitor", cmd_monitor, "print events as they happen" },
	{ "history", cmd_history, "the recorded events, summed up or listed" },
};

static void main_usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: memfail [-S|--socket PATH] COMMAND [ARGS]\n"
		   "       memfail -V|--version | -h|--help\n\n"
		   "Linux's memory-failure handling for DAX device memory, in user space.\n\n"
		   "Commands:\n");
	for (i = 0; i < ARRAY_SIZE(commands); i++)
		fprintf(f, "  %-19s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\n'memfail COMMAND --help' for a command's options; man memfail-COMMAND.\n"
		   "The daemon's socket: --socket, else $MEMFAIL_SOCKET, else the default\n"
		   "(see memfaild(8)).\n");
}

const char *cli_strerror_daemon_user(int err)
{
	return err == -EPERM ? "operation not permitted (needs root or the daemon's user)"
			     : cli_strerror(err);
}

void cli_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", cmd_name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

const char *cli_strerror(int err)
{
	switch (err) {
	case -ENODEV:
		return "no such namespace";
	case -ERANGE:
		return "offset or length past the end of the namespace";
	case -EBUSY:
		return "namespace is mapped by a running process";
	case -EPERM:
		return "operation not permitted (needs root or the namespace's owner)";
	case -E2BIG:
		return "too many sectors at once (at most 8388608, 4 GiB)";
	case -ENOSPC:
		return "no space left (region or disk)";
	case -EOPNOTSUPP:
		return "not supported";
	case -ECONNREFUSED:
	case -ECONNRESET:
	case -EPIPE:
		return "memfaild went away";
	default:
		return strerror(-err);
	}
}

struct memfail_ctx *cli_connect(void)
{
	struct memfail_ctx *ctx;
	int err = memfail_connect(NULL, &ctx);

	if (err) {
		if (err == -ENOENT || err == -ECONNREFUSED)
			cli_error("cannot reach memfaild (%s): start it, or use 'memfail run'",
				  getenv("MEMFAIL_SOCKET") ? getenv("MEMFAIL_SOCKET")
							   : "the default socket");
		else
			cli_error("cannot talk to memfaild: %s", strerror(-err));
		return NULL;
	}
	return ctx;
}

int cli_usage(const char *usage, bool error)
{
	fputs(usage, error ? stderr : stdout);
	return error ? EXIT_USAGE : 0;
}

int cli_parse_u64(const char *opt, const char *s, uint64_t *out)
{
	if (parse_u64(s, out)) {
		cli_error("%s: '%s' is not a number", opt, s);
		exit(EXIT_USAGE);
	}
	return 0;
}

int cli_parse_size(const char *opt, const char *s, uint64_t *out)
{
	if (parse_size(s, out)) {
		cli_error("%s: '%s' is not a size (e.g. 4096, 2M, 1G)", opt, s);
		exit(EXIT_USAGE);
	}
	return 0;
}

int main(int argc, char **argv)
{
	static char name[64];
	int i = 1;
	size_t k;

	while (i < argc && argv[i][0] == '-') {
		if (!strcmp(argv[i], "--socket") || !strcmp(argv[i], "-S")) {
			if (i + 1 >= argc) {
				cli_error("--socket needs a path");
				return EXIT_USAGE;
			}
			setenv("MEMFAIL_SOCKET", argv[i + 1], 1);
			i += 2;
		} else if (!strncmp(argv[i], "--socket=", 9)) {
			setenv("MEMFAIL_SOCKET", argv[i] + 9, 1);
			i++;
		} else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			main_usage(stdout);
			return 0;
		} else if (!strcmp(argv[i], "--version") || !strcmp(argv[i], "-V")) {
			printf("memfail %s\n", MF_VERSION);
			return 0;
		} else {
			cli_error("unknown option '%s'", argv[i]);
			main_usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (i >= argc) {
		main_usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[i], "help")) {
		main_usage(stdout);
		return 0;
	}
	if (!strcmp(argv[i], "version")) {
		printf("memfail %s\n", MF_VERSION);
		return 0;
	}
	for (k = 0; k < ARRAY_SIZE(commands); k++) {
		if (strcmp(argv[i], commands[k].name))
			continue;
		snprintf(name, sizeof(name), "memfail %s", commands[k].name);
		cmd_name = name;
		return commands[k].fn(argc - i, argv + i);
	}
	cli_error("'%s' is not a memfail command; see 'memfail --help'", argv[i]);
	return EXIT_USAGE;
}
