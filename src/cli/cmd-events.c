// SPDX-License-Identifier: MIT
/*
 * cli/cmd-events.c: memfail monitor (events as they happen) and memfail
 * history (what the event database kept, as ras-mc-ctl --summary and
 * --errors show rasdaemon's).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

static const char monitor_usage[] =
"usage: memfail monitor [options] [NAME...]\n"
"\n"
"Print memfail's events as they happen, until interrupted: memory\n"
"failures (pfn, page type, action result), the signals and kills they\n"
"cause, injections, latent errors found, clears and scrubs.  With NAMEs,\n"
"only the events of those namespaces (and of the region).\n"
"\n"
"  -j, --json           one JSON object per line\n"
"  -h, --help\n";

static const char history_usage[] =
"usage: memfail history [--summary | --errors] [options]\n"
"\n"
"What the event database holds, as ras-mc-ctl reports rasdaemon's.\n"
"\n"
"  -s, --summary        events counted by kind (the default)\n"
"  -e, --errors         every event, oldest first\n"
"  -S, --since T        only from T on: 30s, 10m, 2h, 7d ago, a date\n"
"                       \"YYYY-MM-DD[ HH:MM[:SS]]\" (local time) or @EPOCH\n"
"  -t, --type EVENT     --errors: only this kind (memory_failure, signal,\n"
"                       kill, inject, uninject, clear, found, scrub_start,\n"
"                       scrub_end, panic)\n"
"  -j, --json           JSON instead of text\n"
"  -h, --help\n";

static volatile sig_atomic_t stop;

static void on_stop(int sig)
{
	(void)sig;
	stop = 1;
}

/* One line of text for an event, without the newline. */
static void event_text(const struct memfail_event *ev, char *buf, size_t n)
{
	const char *name = memfail_event_type_name(ev->type);
	char t[64];
	int k;

	cli_format_time(ev->time_ns, t, sizeof(t));
	if (ev->type == MEMFAIL_EV_LOST) {
		snprintf(buf, n, "%s lost: %" PRIu64 " events (the monitor fell behind)", t, ev->count);
		return;
	}
	k = snprintf(buf, n, "%s %s %s:", t, name ? name : "unknown",
		     ev->dev[0] ? ev->dev : "-");
	if (k < 0 || (size_t)k >= n)
		return;
	buf += k;
	n -= (size_t)k;
	switch (ev->type) {
	case MEMFAIL_EV_MEMORY_FAILURE:
		snprintf(buf, n, " pfn=%#" PRIx64 ", page_type=%s, action_result=%s", ev->pfn,
			 memfail_page_type_name(ev->page_type),
			 memfail_action_result_name(ev->result));
		break;
	case MEMFAIL_EV_SIGNAL:
		snprintf(buf, n, " SIGBUS %s to %s:%d (tid %d), si_addr=%#" PRIx64
			 ", si_addr_lsb=%u, pfn=%#" PRIx64, cli_si_code_name(ev->code),
			 ev->comm, ev->pid, ev->tid, ev->addr, ev->lsb, ev->pfn);
		break;
	case MEMFAIL_EV_KILL:
		snprintf(buf, n, " SIGKILL to %s:%d, pfn=%#" PRIx64, ev->comm, ev->pid, ev->pfn);
		break;
	case MEMFAIL_EV_INJECT:
		snprintf(buf, n, " sectors %" PRIu64 "+%" PRIu64 "%s", ev->sector, ev->count,
			 (ev->flags & MEMFAIL_EVF_LATENT) ? " (latent)" : "");
		break;
	case MEMFAIL_EV_UNINJECT:
	case MEMFAIL_EV_CLEAR:
	case MEMFAIL_EV_FOUND:
		snprintf(buf, n, " sectors %" PRIu64 "+%" PRIu64 "%s%s", ev->sector, ev->count,
			 ev->type == MEMFAIL_EV_CLEAR ? ((ev->flags & MEMFAIL_EVF_BY_WRITE) ?
							 " by a write" : " by clear-errors") : "",
			 ev->type != MEMFAIL_EV_FOUND ? "" :
			 (ev->flags & MEMFAIL_EVF_BY_SCRUB) ? " by a scrub" :
			 (ev->flags & MEMFAIL_EVF_BY_ACCESS) ? " by an access" : " by a read");
		break;
	case MEMFAIL_EV_SCRUB_START:
		snprintf(buf, n, " %s", (ev->flags & MEMFAIL_SCRUB_FULL) ? "full" : "poisoned sectors only");
		break;
	case MEMFAIL_EV_SCRUB_END:
		snprintf(buf, n, " %" PRIu64 " latent sectors found%s", ev->count,
			 (ev->flags & MEMFAIL_EVF_CANCELLED) ? ", cancelled" : "");
		break;
	case MEMFAIL_EV_PANIC:
		snprintf(buf, n, " pfn=%#" PRIx64, ev->pfn);
		break;
	}
}

/* Events of the region, or of one of the namespaces asked for (none: all). */
static bool dev_matches(const char *dev, char (*names)[32], int n)
{
	int i;

	if (!n || !strcmp(dev, "region0") || !dev[0])
		return true;
	for (i = 0; i < n; i++)
		if (!strcmp(dev, names[i]))
			return true;
	return false;
}

int cmd_monitor(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct memfail_ctx *ctx;
	struct sigaction sa;
	char (*names)[32] = NULL;
	bool json = false;
	int c, i, err, ret = 0;

	while ((c = getopt_long(argc, argv, "jh", opts, NULL)) != -1) {
		switch (c) {
		case 'j': json = true; break;
		case 'h': return cli_usage(monitor_usage, false);
		default: return cli_usage(monitor_usage, true);
		}
	}
	ctx = cli_connect();
	if (!ctx)
		return 1;
	/* namespaceX.Y, daxX.Y, pmemX.Y: the events name namespaceX.Y */
	names = calloc((size_t)(argc - optind) + 1, sizeof(*names));
	if (!names) {
		memfail_disconnect(ctx);
		return 1;
	}
	for (i = optind; i < argc; i++) {
		struct memfail_namespace ns;

		err = memfail_namespace_get(ctx, argv[i], &ns);
		if (err) {
			cli_error("%s: %s", argv[i], cli_strerror(err));
			free(names);
			memfail_disconnect(ctx);
			return 1;
		}
		snprintf(names[i - optind], sizeof(names[0]), "%s", ns.dev);
	}
	err = memfail_monitor_start(ctx);
	if (err) {
		cli_error("%s", cli_strerror_daemon_user(err));
		free(names);
		memfail_disconnect(ctx);
		return 1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* a line as soon as it happens, even into a pipe */
	setvbuf(stdout, NULL, _IOLBF, 0);
	while (!stop) {
		struct memfail_event ev;
		char line[512];

		err = memfail_monitor_next(ctx, &ev, 500);
		if (err == -EINTR || err == 0)
			continue;
		if (err < 0) {
			cli_error("%s", err == -ECONNRESET ? "the daemon went away" : cli_strerror(err));
			ret = 1;
			break;
		}
		if (!dev_matches(ev.dev, names, argc - optind))
			continue;
		if (json) {
			struct json_object *o = json_event(&ev);

			printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
							       JSON_C_TO_STRING_NOSLASHESCAPE));
			json_object_put(o);
		} else {
			event_text(&ev, line, sizeof(line));
			printf("%s\n", line);
		}
		if (ferror(stdout))
			break;	/* the reader is gone */
	}
	free(names);
	memfail_disconnect(ctx);
	return ret;
}

/* --since: how long ago, a local date, or @epoch; 0 on success */
static int parse_since(const char *s, uint64_t *out)
{
	struct tm tm;
	char *end;
	time_t t;

	if (*s == '@') {
		long long v = strtoll(s + 1, &end, 10);

		if (end == s + 1 || *end || v < 0)
			return -1;
		*out = (uint64_t)v * 1000000000ULL;
		return 0;
	}
	if (*s >= '0' && *s <= '9') {
		unsigned long long v = strtoull(s, &end, 10);
		uint64_t unit = 0;

		if (end[0] && !end[1])
			unit = *end == 's' ? 1 : *end == 'm' ? 60 : *end == 'h' ? 3600 :
			       *end == 'd' ? 86400 : 0;
		if (unit && end != s) {
			t = time(NULL);
			*out = (uint64_t)(t - (time_t)(v * unit)) * 1000000000ULL;
			return 0;
		}
	}
	memset(&tm, 0, sizeof(tm));
	end = strptime(s, "%Y-%m-%d", &tm);
	if (end && *end == ' ')
		end = strptime(end + 1, strchr(end + 1, ':') && strchr(strchr(end + 1, ':') + 1, ':') ?
			       "%H:%M:%S" : "%H:%M", &tm);
	if (!end || *end)
		return -1;
	tm.tm_isdst = -1;
	t = mktime(&tm);
	if (t == (time_t)-1)
		return -1;
	*out = (uint64_t)t * 1000000000ULL;
	return 0;
}

static unsigned type_by_name(const char *name)
{
	unsigned t;

	for (t = 1; memfail_event_type_name(t); t++)
		if (!strcmp(memfail_event_type_name(t), name) && t != MEMFAIL_EV_LOST)
			return t;
	return 0;
}

static void print_summary(const struct memfail_summary_row *r, size_t n)
{
	static const unsigned sections[] = {
		MEMFAIL_EV_MEMORY_FAILURE, MEMFAIL_EV_SIGNAL, MEMFAIL_EV_KILL,
		MEMFAIL_EV_INJECT, MEMFAIL_EV_UNINJECT, MEMFAIL_EV_FOUND, MEMFAIL_EV_CLEAR,
		MEMFAIL_EV_SCRUB_START, MEMFAIL_EV_SCRUB_END, MEMFAIL_EV_PANIC,
	};
	static const char *const titles[] = {
		"Memory failure events", "SIGBUS signal events", "Kill events",
		"Error injection events", "Error uninjection events", "Latent error found events",
		"Error clear events", "Scrub start events", "Scrub end events", "Panic events",
	};
	size_t s, i;

	for (s = 0; s < sizeof(sections) / sizeof(sections[0]); s++) {
		bool any = false;

		for (i = 0; i < n; i++) {
			if (r[i].type != sections[s])
				continue;
			if (!any)
				printf("%s summary:\n", titles[s]);
			any = true;
			if (r[i].type == MEMFAIL_EV_MEMORY_FAILURE)
				printf("\t%s errors: %" PRIu64 "\n",
				       memfail_action_result_name(r[i].result), r[i].count);
			else if (r[i].type == MEMFAIL_EV_SIGNAL)
				printf("\t%s: %" PRIu64 "\n", cli_si_code_name(r[i].code), r[i].count);
			else
				printf("\t%s: %" PRIu64 "\n", r[i].dev[0] ? r[i].dev : "all",
				       r[i].count);
		}
		if (any)
			printf("\n");
		else if (sections[s] == MEMFAIL_EV_MEMORY_FAILURE)
			printf("No Memory failure errors.\n\n");
	}
}

int cmd_history(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "summary", no_argument, NULL, 's' },
		{ "errors", no_argument, NULL, 'e' },
		{ "since", required_argument, NULL, 'S' },
		{ "type", required_argument, NULL, 't' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct memfail_ctx *ctx;
	bool summary = false, errors = false, json = false;
	uint64_t since = 0;
	unsigned type = 0;
	size_t n = 0, i;
	int c, err;

	while ((c = getopt_long(argc, argv, "seS:t:jh", opts, NULL)) != -1) {
		switch (c) {
		case 's': summary = true; break;
		case 'e': errors = true; break;
		case 'S':
			if (parse_since(optarg, &since)) {
				cli_error("--since: '%s' is not a time (30s, 10m, 2h, 7d, YYYY-MM-DD[ HH:MM[:SS]], @EPOCH)",
					  optarg);
				return EXIT_USAGE;
			}
			break;
		case 't':
			type = type_by_name(optarg);
			if (!type) {
				cli_error("--type: unknown event '%s'", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'j': json = true; break;
		case 'h': return cli_usage(history_usage, false);
		default: return cli_usage(history_usage, true);
		}
	}
	if (optind < argc) {
		cli_error("unexpected argument '%s'", argv[optind]);
		return EXIT_USAGE;
	}
	if (summary && errors) {
		cli_error("--summary or --errors, not both");
		return EXIT_USAGE;
	}
	if (type && !errors) {
		cli_error("--type goes with --errors");
		return EXIT_USAGE;
	}
	ctx = cli_connect();
	if (!ctx)
		return 1;
	if (errors) {
		struct memfail_event *ev = NULL;

		err = memfail_history(ctx, 0, since, type, &ev, &n);
		if (!err && json) {
			struct json_object *a = json_object_new_array();

			for (i = 0; i < n; i++)
				json_object_array_add(a, json_event(&ev[i]));
			json_print(a);
		} else if (!err) {
			if (!n)
				printf("No events.\n");
			for (i = 0; i < n; i++) {
				char line[512], t[64];

				/* rasdaemon's memory_failure line, the rest in memfail's words */
				if (ev[i].type == MEMFAIL_EV_MEMORY_FAILURE) {
					cli_format_time(ev[i].time_ns, t, sizeof(t));
					printf("%" PRIu64 " %s error: pfn=%#" PRIx64 ", page_type=%s, action_result=%s\n",
					       ev[i].seq, t, ev[i].pfn,
					       memfail_page_type_name(ev[i].page_type),
					       memfail_action_result_name(ev[i].result));
					continue;
				}
				event_text(&ev[i], line, sizeof(line));
				printf("%" PRIu64 " %s\n", ev[i].seq, line);
			}
		}
		free(ev);
	} else {
		struct memfail_summary_row *rows = NULL;

		err = memfail_history_summary(ctx, since, &rows, &n);
		if (!err && json)
			json_print(json_summary(rows, n));
		else if (!err)
			print_summary(rows, n);
		free(rows);
	}
	if (err)
		cli_error("%s", cli_strerror_daemon_user(err));
	memfail_disconnect(ctx);
	return err ? 1 : 0;
}
