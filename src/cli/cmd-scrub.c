// SPDX-License-Identifier: MIT
/*
 * cli/cmd-scrub.c: memfail start-scrub, wait-scrub and cancel-scrub,
 * shaped like ndctl's: the scrub runs in the daemon, these start it,
 * wait for it (with a progress bar on a terminal) and stop it.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

static const char start_usage[] =
"usage: memfail start-scrub [NAME] [options]\n"
"\n"
"Start a scrub (ARS) of one namespace, or of the whole region: latent\n"
"media errors it finds enter the bad blocks.  By default it visits only\n"
"what is poisoned, so its cost follows the poison, not the size.\n"
"\n"
"  -f, --full           read every block of the media too (as long as\n"
"                       reading the whole namespace takes)\n"
"  -w, --wait           wait for it to end (Ctrl-C cancels it)\n"
"  -q, --quiet          no progress bar\n"
"  -h, --help\n";

static const char wait_usage[] =
"usage: memfail wait-scrub [options]\n"
"\n"
"Wait for the running scrub to end, then print its state.  On a terminal\n"
"a progress bar shows how far it is; Ctrl-C stops waiting (the scrub goes\n"
"on).\n"
"\n"
"  -q, --quiet          no progress bar\n"
"  -h, --help\n";

static const char cancel_usage[] =
"usage: memfail cancel-scrub\n"
"\n"
"Stop the running scrub.  What it found so far stays found.\n"
"\n"
"  -h, --help\n";

static volatile sig_atomic_t interrupted;

static void on_sigint(int sig)
{
	(void)sig;
	interrupted = 1;
}

static void print_state(const struct memfail_scrub *s)
{
	struct json_object *a = json_object_new_array();

	json_object_array_add(a, json_scrub(s));
	json_print(a);
}

static void progress(const struct memfail_scrub *s, bool done)
{
	char bar[41];
	unsigned pct = s->total ? (unsigned)(s->done * 100 / s->total) : 100, i;

	if (pct > 100)
		pct = 100;
	for (i = 0; i < 40; i++)
		bar[i] = i < pct * 40 / 100 ? '#' : '.';
	bar[40] = '\0';
	fprintf(stderr, "\rscrub %s [%s] %3u%%  %.1f of %.1f GiB, %llu latent sectors found%s",
		s->dev, bar, pct, s->done / 1073741824.0, s->total / 1073741824.0,
		(unsigned long long)s->found, done ? "\n" : "");
}

/*
 * Poll until the scrub is idle; cancel it on Ctrl-C when asked to.
 * Returns 0, 1 on an error, or 130 when interrupted (after cancelling,
 * if asked to).
 */
static int wait_idle(struct memfail_ctx *ctx, struct memfail_scrub *s, bool bar,
		     bool cancel_on_int)
{
	struct sigaction sa;
	int err = 0;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigint;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	while (s->active) {
		struct timespec ts = { 0, 50 * 1000 * 1000 };

		if (bar)
			progress(s, false);
		nanosleep(&ts, NULL);
		if (interrupted) {
			if (!cancel_on_int) {
				if (bar)
					fputc('\n', stderr);
				return 130;
			}
			err = memfail_scrub_cancel(ctx, s);
		} else {
			err = memfail_scrub_status(ctx, s);
		}
		if (err) {
			if (bar)
				fputc('\n', stderr);
			cli_error("%s", cli_strerror(err));
			return 1;
		}
	}
	if (bar)
		progress(s, true);
	if (interrupted)
		return 130;
	if (s->failed) {
		cli_error("the scrub stopped on an error (see memfaild's log)");
		return 1;
	}
	return 0;
}

/* --quiet (unless quiet is NULL) and --help: 0 go on, else exit status + 1 */
static int parse_quiet_help(int argc, char **argv, const char *usage, bool *quiet)
{
	static const struct option opts[] = {
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, quiet ? "qh" : "h", opts, NULL)) != -1) {
		switch (c) {
		case 'q':
			if (!quiet)
				return cli_usage(usage, true) + 1;
			*quiet = true;
			break;
		case 'h': return cli_usage(usage, false) + 1;
		default: return cli_usage(usage, true) + 1;
		}
	}
	if (optind < argc) {
		cli_error("unexpected argument '%s'", argv[optind]);
		return EXIT_USAGE + 1;
	}
	return 0;
}

/* wait_idle()'s exit status as -errno: 0, -EIO (said), -EINTR */
static int wait_status(int ret)
{
	return ret == 130 ? -EINTR : ret ? -EIO : 0;
}

int cli_scrub_and_wait(struct memfail_ctx *ctx, const char *name)
{
	struct memfail_scrub s;
	int err;

	for (;;) {
		err = memfail_scrub_start(ctx, name, 0, &s);
		if (err != -EBUSY)
			break;
		/* another scrub first: ARS runs one at a time */
		err = memfail_scrub_status(ctx, &s);
		if (!err)
			err = wait_status(wait_idle(ctx, &s, false, false));
		if (err)
			return err;
	}
	if (err)
		return err;
	/* ours: Ctrl-C cancels it, as start-scrub --wait does */
	return wait_status(wait_idle(ctx, &s, false, true));
}

int cmd_start_scrub(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "full", no_argument, NULL, 'f' },
		{ "wait", no_argument, NULL, 'w' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct memfail_scrub s;
	struct memfail_ctx *ctx;
	bool wait = false, quiet = false;
	const char *name = NULL;
	unsigned flags = 0;
	int c, err, ret = 1;

	while ((c = getopt_long(argc, argv, "fwqh", opts, NULL)) != -1) {
		switch (c) {
		case 'f': flags |= MEMFAIL_SCRUB_FULL; break;
		case 'w': wait = true; break;
		case 'q': quiet = true; break;
		case 'h': return cli_usage(start_usage, false);
		default: return cli_usage(start_usage, true);
		}
	}
	if (argc - optind > 1) {
		cli_error("one namespace, or none for the whole region");
		return EXIT_USAGE;
	}
	if (optind < argc)
		name = argv[optind];
	ctx = cli_connect();
	if (!ctx)
		return 1;
	err = memfail_scrub_start(ctx, name, flags, &s);
	if (err == -EBUSY) {
		cli_error("a scrub is already running (memfail wait-scrub, memfail cancel-scrub)");
		goto out;
	}
	if (err) {
		cli_error("%s%s%s", name ? name : "", name ? ": " : "", name ? cli_strerror(err) : cli_strerror_daemon_user(err));
		goto out;
	}
	ret = 0;
	if (wait)
		ret = wait_idle(ctx, &s, !quiet && isatty(STDERR_FILENO), true);
	if (ret != 1)
		print_state(&s);
out:
	memfail_disconnect(ctx);
	return ret;
}

int cmd_wait_scrub(int argc, char **argv)
{
	struct memfail_scrub s;
	struct memfail_ctx *ctx;
	bool quiet = false;
	int ret, err;

	ret = parse_quiet_help(argc, argv, wait_usage, &quiet);
	if (ret)
		return ret - 1;
	ctx = cli_connect();
	if (!ctx)
		return 1;
	err = memfail_scrub_status(ctx, &s);
	if (err) {
		cli_error("%s", cli_strerror(err));
		ret = 1;
	} else {
		ret = wait_idle(ctx, &s, !quiet && isatty(STDERR_FILENO), false);
		if (ret != 1)
			print_state(&s);
	}
	memfail_disconnect(ctx);
	return ret;
}

int cmd_cancel_scrub(int argc, char **argv)
{
	struct memfail_scrub s;
	struct memfail_ctx *ctx;
	int ret, err;

	ret = parse_quiet_help(argc, argv, cancel_usage, NULL);
	if (ret)
		return ret - 1;
	ctx = cli_connect();
	if (!ctx)
		return 1;
	err = memfail_scrub_cancel(ctx, &s);
	if (err) {
		cli_error("%s", cli_strerror_daemon_user(err));
		ret = 1;
	} else {
		print_state(&s);
	}
	memfail_disconnect(ctx);
	return ret;
}
