// SPDX-License-Identifier: MIT
/*
 * Operating memfail as ndctl and rasdaemon are operated: latent errors and
 * what finds them (a scrub, an access, a driver read), clear-errors and
 * writes, the event monitor and the event history (also across kill -9),
 * reproducible campaigns, list -D and the mappers of bad pages, and the
 * errors bad requests get.  Real daemon, real processes, the memfail
 * command as a user runs it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

static struct tdaemon d;
static struct actor a;
static pid_t monitor_pid;
static char out[4 << 20];

static int setup(void **state)
{
	(void)state;
	memset(&a, 0, sizeof(a));
	monitor_pid = 0;
	if (td_start(&d, "--unmap-timeout 2000"))
		return -1;
	return td_cli(&d, NULL, 0, "create-namespace --size 64M --align 2M") ? -1 : 0;
}

static int teardown(void **state)
{
	(void)state;
	if (monitor_pid > 0) {
		kill(monitor_pid, SIGKILL);
		waitpid(monitor_pid, NULL, 0);
	}
	actor_kill(&a);
	td_destroy(&d);
	return 0;
}

/* Run a memfail command that prints JSON; its parsed output. */
static struct json_object *cli_json(const char *fmt, ...)
{
	char args[1024];
	struct json_object *o;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	assert_int_equal(td_cli(&d, out, sizeof(out), "%s", args), 0);
	o = json_tokener_parse(out);
	if (!o)
		fail_msg("not JSON from 'memfail %s': %s", args, out);
	return o;
}

static int64_t get_int(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v))
		fail_msg("no \"%s\" in %s", key, json_object_to_json_string(o));
	return json_object_get_int64(v);
}

/* Sectors inject-error --status reports, known and latent. */
static void status_sectors(uint64_t *known, uint64_t *latent)
{
	struct json_object *o, *arr, *e, *l;
	size_t i;

	*known = *latent = 0;
	if (td_cli(&d, out, sizeof(out), "inject-error dax0.0 --status") != 0)
		fail_msg("inject-error --status failed");
	if (!out[0])
		return;	/* nothing injected: nothing printed, as ndctl */
	o = json_tokener_parse(out);
	assert_non_null(o);
	assert_true(json_object_object_get_ex(o, "badblocks", &arr));
	for (i = 0; i < json_object_array_length(arr); i++) {
		e = json_object_array_get_idx(arr, i);
		if (json_object_object_get_ex(e, "latent", &l) && json_object_get_boolean(l))
			*latent += get_int(e, "count");
		else
			*known += get_int(e, "count");
	}
	json_object_put(o);
}

static uint64_t badblock_count(void)
{
	struct json_object *o = cli_json("list -M -n dax0.0");
	struct json_object *ns = json_object_array_get_idx(o, 0), *v;
	uint64_t n = 0;

	if (json_object_object_get_ex(ns, "badblock_count", &v))
		n = (uint64_t)json_object_get_int64(v);
	json_object_put(o);
	return n;
}

/* Every event of the history, as JSON objects in an array. */
static struct json_object *history(void)
{
	return cli_json("history --errors --json");
}

static const char *event_name(struct json_object *e)
{
	struct json_object *v;

	return json_object_object_get_ex(e, "event", &v) ? json_object_get_string(v) : "";
}

/* How many events of this kind the history holds. */
static int count_events(struct json_object *h, const char *name)
{
	size_t i;
	int n = 0;

	for (i = 0; i < json_object_array_length(h); i++)
		n += !strcmp(event_name(json_object_array_get_idx(h, i)), name);
	return n;
}

static void spawn_monitor(const char *path)
{
	monitor_pid = fork();
	assert_true(monitor_pid >= 0);
	if (!monitor_pid) {
		int fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0644);

		dup2(fd, STDOUT_FILENO);
		setenv("MEMFAIL_SOCKET", d.sock, 1);
		unsetenv("LD_PRELOAD");
		execl(build_path("memfail"), "memfail", "monitor", "--json", (char *)NULL);
		_exit(127);
	}
}

/* The monitor's lines so far, as an array of events. */
static struct json_object *monitor_events(const char *path)
{
	struct json_object *arr = json_object_new_array();
	char line[2048];
	FILE *f = fopen(path, "r");

	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		struct json_object *e = json_tokener_parse(line);

		if (!e)
			fail_msg("monitor printed a line that is not JSON: %s", line);
		json_object_array_add(arr, e);
	}
	fclose(f);
	return arr;
}

static size_t count_lines(const char *path)
{
	size_t n = 0;
	FILE *f = fopen(path, "r");
	int c;

	if (!f)
		return 0;
	while ((c = getc(f)) != EOF)
		n += c == '\n';
	fclose(f);
	return n;
}

/* Wait (up to ms) until the monitor has printed at least n events. */
static struct json_object *monitor_wait(const char *path, size_t n, int ms)
{
	while (count_lines(path) < n && ms > 0) {
		usleep(20000);
		ms -= 20;
	}
	return monitor_events(path);
}

static void latent_found_by_access(void **state)
{
	struct json_object *h;
	uint64_t known, latent;
	const char *r;

	(void)state;
	assert_int_equal(actor_map(&a, &d, "mapper", "/dev/dax0.0", 0x400000, 0x5a), 0);
	assert_int_equal(td_cli(&d, NULL, 0, "inject-error dax0.0 --block 16 --count 2 --no-notify"), 0);
	/* known to nobody: not in the bad blocks */
	assert_int_equal(badblock_count(), 0);
	status_sectors(&known, &latent);
	assert_int_equal(known, 0);
	assert_int_equal(latent, 2);
	/* but the media is bad: the first touch consumes it */
	r = actor_cmd(&a, "touch 0 0x2000");
	assert_true(reply_has(r, "sigbus"));
	assert_int_equal(reply_int(r, "code", -1), 4);
	assert_int_equal(reply_int(r, "lsb", -1), 21);
	/* and the machine check told the driver */
	assert_int_equal(badblock_count(), 2);
	status_sectors(&known, &latent);
	assert_int_equal(latent, 0);
	h = history();
	assert_int_equal(count_events(h, "found"), 1);
	assert_int_equal(count_events(h, "memory_failure"), 1);
	assert_int_equal(count_events(h, "signal"), 1);
	json_object_put(h);
	/* the healthy pages of the unit come back */
	assert_int_equal(reply_int(actor_cmd(&a, "touch 0 0x300000"), "value", -1), 0x5a);
}

static void latent_found_by_read(void **state)
{
	struct json_object *h, *e;

	(void)state;
	assert_int_equal(td_cli(&d, NULL, 0, "inject-error dax0.0 --block 40 --no-notify"), 0);
	assert_int_equal(badblock_count(), 0);
	assert_int_not_equal(td_cli(&d, out, sizeof(out), "read dax0.0 --offset 20480 --length 512"), 0);
	assert_int_equal(badblock_count(), 1);
	/* a read beside it is fine, and found nothing */
	assert_int_equal(td_cli(&d, out, sizeof(out), "read dax0.0 --offset 20992 --length 512"), 0);
	assert_int_equal(badblock_count(), 1);
	/* the event names the sector found, not the range read */
	h = history();
	e = json_object_array_get_idx(h, json_object_array_length(h) - 1);
	assert_string_equal(event_name(e), "found");
	assert_int_equal(get_int(e, "offset"), 40);
	assert_int_equal(get_int(e, "length"), 1);
	assert_string_equal(json_object_get_string(json_object_object_get(e, "by")), "read");
	json_object_put(h);
}

static void scrub_finds_exactly_the_latent(void **state)
{
	struct json_object *o, *h;
	uint64_t known, latent;

	(void)state;
	assert_int_equal(td_cli(&d, NULL, 0, "inject-error dax0.0 --block 8 --count 3 --no-notify"), 0);
	assert_int_equal(td_cli(&d, NULL, 0, "inject-error dax0.0 --block 9000 --no-notify"), 0);
	assert_int_equal(td_cli(&d, NULL, 0, "inject-error dax0.0 --block 100000 --count 16 --no-notify"), 0);
	assert_int_equal(td_cli(&d, NULL, 0, "inject-error dax0.0 --block 500 --count 2"), 0);
	assert_int_equal(td_cli(&d, NULL, 0, "inject-error dax0.0 --block 11 --count 2"), 0);
	/* --status in block order, known and latent interleaved, with -u too */
	assert_int_equal(td_cli(&d, out, sizeof(out), "inject-error dax0.0 --status -u"), 0);
	assert_true(strstr(out, "0x8") < strstr(out, "0xb"));
	assert_true(strstr(out, "0xb") < strstr(out, "0x1f4"));
	assert_true(strstr(out, "0x1f4") < strstr(out, "0x2328"));
	status_sectors(&known, &latent);
	assert_int_equal(known, 4);
	assert_int_equal(latent, 20);
	o = cli_json("start-scrub --wait --quiet");
	assert_string_equal(json_object_get_string(json_object_object_get(
		json_object_array_get_idx(o, 0), "scrub_state")), "idle");
	assert_int_equal(get_int(json_object_array_get_idx(o, 0), "latent_found"), 20);
	assert_int_equal(get_int(json_object_array_get_idx(o, 0), "scrub_count"), 1);
	json_object_put(o);
	status_sectors(&known, &latent);
	assert_int_equal(known, 24);
	assert_int_equal(latent, 0);
	/* 8..12 merged with the known 11..12 into one range of 5 */
	assert_int_equal(badblock_count(), 24);
	h = history();
	/* one event per latent range found: 8+3, 9000+1, 100000+16 */
	assert_int_equal(count_events(h, "found"), 3);
	assert_int_equal(count_events(h, "scrub_start"), 1);
	assert_int_equal(count_events(h, "scrub_end"), 1);
	json_object_put(h);
	/* nothing left to find */
	o = cli_json("start-scrub --wait --quiet dax0.0");
	assert_int_equal(get_int(json_object_array_get_idx(o, 0), "latent_found"), 0);
	json_object_put(o);
}

static void full_scrub_can_be_cancelled(void **state)
{
	struct json_object *o;
	int i;

	(void)state;
	/* big enough that reading it all takes a while */
	assert_int_equal(td_cli(&d, NULL, 0, "create-namespace --size 64G --sparse"), 0);
	assert_int_equal(td_cli(&d, NULL, 0, "inject-error dax0.1 --block 1000 --no-notify"), 0);
	o = cli_json("start-scrub --full dax0.1");
	assert_string_equal(json_object_get_string(json_object_object_get(
		json_object_array_get_idx(o, 0), "scrub_state")), "active");
	json_object_put(o);
	/* the daemon serves requests while it scrubs */
	for (i = 0; i < 3; i++)
		assert_int_equal(td_cli(&d, NULL, 0, "list"), 0);
	/* one at a time */
	assert_int_equal(td_cli(&d, NULL, 0, "start-scrub"), 1);
	o = cli_json("cancel-scrub");
	assert_string_equal(json_object_get_string(json_object_object_get(
		json_object_array_get_idx(o, 0), "scrub_state")), "idle");
	assert_true(json_object_get_boolean(json_object_object_get(
		json_object_array_get_idx(o, 0), "cancelled")));
	json_object_put(o);
	/* a full scrub of a small namespace runs to its end */
	assert_int_equal(td_cli(&d, NULL, 0, "inject-error dax0.0 --block 77 --no-notify"), 0);
	o = cli_json("start-scrub --full --wait --quiet dax0.0");
	assert_int_equal(get_int(json_object_array_get_idx(o, 0), "latent_found"), 1);
	assert_int_equal(get_int(json_object_array_get_idx(o, 0), "bytes_done"), 64 << 20);
	json_object_put(o);
}

static void clear_leaves_latent_unless_scrubbed(void **state)
{
	struct json_object *h, *e;
	uint64_t known, latent;
	const char *r;

	(void)state;
	assert_int_equal(actor_map(&a, &d, "mapper", "/dev/dax0.0", 0x400000, 0x5a), 0);
	assert_int_equal(td_cli(&d, NULL, 0, "inject-error dax0.0 --block 16 --count 8"), 0);
	assert_int_equal(td_cli(&d, NULL, 0, "inject-error dax0.0 --block 4096 --count 8 --no-notify"), 0);
	/* clear-errors clears what is known, as ndctl's */
	assert_int_equal(td_cli(&d, NULL, 0, "clear-errors dax0.0"), 0);
	h = history();
	e = json_object_array_get_idx(h, json_object_array_length(h) - 1);
	assert_string_equal(event_name(e), "clear");
	assert_int_equal(get_int(e, "offset"), 16);
	assert_int_equal(get_int(e, "length"), 8);
	json_object_put(h);
	status_sectors(&known, &latent);
	assert_int_equal(known, 0);
	assert_int_equal(latent, 8);
	assert_int_equal(reply_int(actor_cmd(&a, "touch 0 0x2000"), "value", -1), 0);
	/* the latent page is still fenced */
	r = actor_cmd(&a, "touch 0 0x200000");
	assert_true(reply_has(r, "sigbus"));
	assert_int_equal(td_cli(&d, NULL, 0, "inject-error dax0.0 --block 9000 --count 8 --no-notify"), 0);
	/* with --scrub, the latent ones are found first and cleared too */
	assert_int_equal(td_cli(&d, NULL, 0, "clear-errors --scrub dax0.0"), 0);
	status_sectors(&known, &latent);
	assert_int_equal(known + latent, 0);
	assert_int_equal(reply_int(actor_cmd(&a, "touch 0 0x200000"), "value", -1), 0);
	assert_int_equal(reply_int(actor_cmd(&a, "touch 0 0x201000"), "value", -1), 0x5a);
}

static void write_makes_latent_good(void **state)
{
	char path[256];
	uint64_t known, latent;
	FILE *f;
	int i;

	(void)state;
	assert_int_equal(actor_map(&a, &d, "mapper", "/dev/dax0.0", 0x400000, 0x5a), 0);
	assert_int_equal(td_cli(&d, NULL, 0, "inject-error dax0.0 --block 24 --count 8 --no-notify"), 0);
	snprintf(path, sizeof(path), "%s/page", d.dir);
	f = fopen(path, "w");
	assert_non_null(f);
	for (i = 0; i < 4096; i++)
		fputc(0x33, f);
	fclose(f);
	assert_int_equal(td_cli(&d, NULL, 0, "write dax0.0 --offset 12288 --input %s", path), 0);
	status_sectors(&known, &latent);
	assert_int_equal(known + latent, 0);
	assert_int_equal(reply_int(actor_cmd(&a, "touch 0 0x3000"), "value", -1), 0x33);
}

static void monitor_sees_every_event_in_order(void **state)
{
	static const char *const expect[] = {
		"inject", "inject", "found", "signal", "memory_failure",
		"scrub_start", "found", "scrub_end", "clear", "clear", "inject", "uninject",
	};
	struct json_object *ev = NULL, *all, *h;
	char path[256];
	int64_t before;
	size_t i;

	(void)state;
	snprintf(path, sizeof(path), "%s/monitor.json", d.dir);
	assert_int_equal(actor_map(&a, &d, "consumer", "/dev/dax0.0", 0x400000, 0x5a), 0);
	spawn_monitor(path);
	/* until the monitor is attached, inject and uninject a probe */
	for (i = 0; i < 100; i++) {
		assert_int_equal(td_cli(&d, NULL, 0, "inject-error dax0.0 --block 60000"), 0);
		assert_int_equal(td_cli(&d, NULL, 0, "inject-error dax0.0 --block 60000 --uninject"), 0);
		ev = monitor_wait(path, 1, 100);
		if (json_object_array_length(ev))
			break;
		json_object_put(ev);
		ev = NULL;
	}
	assert_non_null(ev);
	json_object_put(ev);
	h = history();
	before = get_int(json_object_array_get_idx(h, json_object_array_length(h) - 1), "seq");
	json_object_put(h);
	/* the scripted sequence */
	assert_int_equal(td_cli(&d, NULL, 0, "inject-error dax0.0 --block 16 --no-notify"), 0);
	assert_int_equal(td_cli(&d, NULL, 0, "inject-error dax0.0 --block 5000 --no-notify"), 0);
	assert_true(reply_has(actor_cmd(&a, "touch 0 0x2000"), "sigbus"));
	assert_int_equal(td_cli(&d, NULL, 0, "start-scrub --wait --quiet"), 0);
	assert_int_equal(td_cli(&d, NULL, 0, "clear-errors dax0.0"), 0);
	assert_int_equal(td_cli(&d, NULL, 0, "inject-error dax0.0 --block 70000 --no-notify"), 0);
	assert_int_equal(td_cli(&d, NULL, 0, "inject-error dax0.0 --block 70000 --uninject"), 0);
	/* the events after the probes' */
	h = history();
	for (i = 0; i < 250; i++) {
		size_t n;

		all = monitor_events(path);
		n = json_object_array_length(all);
		if (n && get_int(json_object_array_get_idx(all, n - 1), "seq") >= before + 12)
			break;
		json_object_put(all);
		all = NULL;
		usleep(20000);
	}
	if (!all)
		all = monitor_events(path);
	ev = json_object_new_array();
	for (i = 0; i < json_object_array_length(all); i++) {
		struct json_object *e = json_object_array_get_idx(all, i);

		if (get_int(e, "seq") > before)
			json_object_array_add(ev, json_object_get(e));
	}
	json_object_put(all);
	/* one clear event per range cleared: 16 and 5000 */
	assert_int_equal(json_object_array_length(ev), 12);
	for (i = 0; i < 12; i++) {
		struct json_object *e = json_object_array_get_idx(ev, i);
		struct json_object *x = json_object_array_get_idx(h, json_object_array_length(h) - 12 + i);

		assert_string_equal(event_name(e), expect[i]);
		/* the monitor and the history tell the same story */
		assert_int_equal(get_int(e, "seq"), get_int(x, "seq"));
		if (i)
			assert_int_equal(get_int(e, "seq"),
					 get_int(json_object_array_get_idx(ev, i - 1), "seq") + 1);
	}
	/* the signal and the memory failure, in rasdaemon's words */
	assert_string_equal(json_object_get_string(json_object_object_get(
		json_object_array_get_idx(ev, 3), "si_code")), "BUS_MCEERR_AR");
	assert_string_equal(json_object_get_string(json_object_object_get(
		json_object_array_get_idx(ev, 4), "action_result")), "Recovered");
	assert_string_equal(json_object_get_string(json_object_object_get(
		json_object_array_get_idx(ev, 4), "page_type")), "dax page");
	json_object_put(ev);
	json_object_put(h);
}

static void history_survives_kill9(void **state)
{
	struct json_object *h;
	size_t before;
	int64_t last;

	(void)state;
	assert_int_equal(td_cli(&d, NULL, 0, "inject-error dax0.0 --block 1 --no-notify"), 0);
	assert_int_equal(td_cli(&d, NULL, 0, "inject-error dax0.0 --block 2"), 0);
	assert_int_equal(td_cli(&d, NULL, 0, "start-scrub --wait --quiet"), 0);
	assert_int_equal(td_cli(&d, NULL, 0, "clear-errors dax0.0"), 0);
	h = history();
	before = json_object_array_length(h);
	assert_true(before >= 6);
	last = get_int(json_object_array_get_idx(h, before - 1), "seq");
	json_object_put(h);
	td_kill9(&d);
	assert_int_equal(td_restart(&d), 0);
	h = history();
	assert_int_equal(json_object_array_length(h), before);
	assert_int_equal(get_int(json_object_array_get_idx(h, before - 1), "seq"), last);
	json_object_put(h);
	/* numbering goes on past every number handed out before the crash
	 * (they are taken in blocks: a restart leaves a gap, never a reuse) */
	assert_int_equal(td_cli(&d, NULL, 0, "inject-error dax0.0 --block 3"), 0);
	assert_int_equal(td_cli(&d, NULL, 0, "inject-error dax0.0 --block 4"), 0);
	h = history();
	assert_true(get_int(json_object_array_get_idx(h, before), "seq") > last);
	assert_int_equal(get_int(json_object_array_get_idx(h, before + 1), "seq"),
			 get_int(json_object_array_get_idx(h, before), "seq") + 1);
	json_object_put(h);
	/* the summary counts what --errors lists */
	assert_int_equal(td_cli(&d, out, sizeof(out), "history --summary"), 0);
	assert_non_null(strstr(out, "Error injection events summary:\n\tnamespace0.0: 4\n"));
	assert_non_null(strstr(out, "No Memory failure errors."));
	/* --since in the future: nothing */
	assert_int_equal(td_cli(&d, out, sizeof(out), "history --errors --since @4102444800"), 0);
	assert_string_equal(out, "No events.\n");
}

static void campaign_same_seed_same_errors(void **state)
{
	struct json_object *o, *s1, *s2, *dry;
	char a1[1 << 16], a2[1 << 16];
	size_t i;

	(void)state;
	o = cli_json("inject-campaign dax0.0 --rate 2000 --duration 0.25 --seed 42 --pattern clustered");
	assert_int_equal(get_int(o, "injected"), 500);
	json_object_put(o);
	s1 = cli_json("inject-error dax0.0 --status");
	snprintf(a1, sizeof(a1), "%s", json_object_to_json_string(s1));
	assert_int_equal(td_cli(&d, NULL, 0, "inject-error dax0.0 --block 0 --count 131072 --uninject"), 0);
	o = cli_json("inject-campaign dax0.0 --rate 5000 --duration 0.1 --seed 42 --pattern clustered");
	assert_int_equal(get_int(o, "injected"), 500);
	json_object_put(o);
	s2 = cli_json("inject-error dax0.0 --status");
	snprintf(a2, sizeof(a2), "%s", json_object_to_json_string(s2));
	/* another rate, the same errors */
	assert_string_equal(a1, a2);
	/* and --dry-run names them without injecting */
	dry = cli_json("inject-campaign dax0.0 --rate 2000 --duration 0.25 --seed 42 --pattern clustered --dry-run");
	assert_int_equal(json_object_array_length(json_object_object_get(dry, "sectors")), 500);
	for (i = 0; i < 500; i++) {
		int64_t sec = json_object_get_int64(json_object_array_get_idx(
			json_object_object_get(dry, "sectors"), i));
		struct json_object *bb = json_object_object_get(s2, "badblocks");
		size_t k;
		bool in = false;

		for (k = 0; k < json_object_array_length(bb) && !in; k++) {
			struct json_object *e = json_object_array_get_idx(bb, k);

			in = sec >= get_int(e, "block") && sec < get_int(e, "block") + get_int(e, "count");
		}
		assert_true(in);
	}
	json_object_put(dry);
	json_object_put(s1);
	json_object_put(s2);
	/* another seed, other errors */
	assert_int_equal(td_cli(&d, NULL, 0, "inject-error dax0.0 --block 0 --count 131072 --uninject"), 0);
	o = cli_json("inject-campaign dax0.0 --rate 2000 --duration 0.25 --seed 43 --pattern clustered");
	json_object_put(o);
	s2 = cli_json("inject-error dax0.0 --status");
	assert_string_not_equal(a1, json_object_to_json_string(s2));
	json_object_put(s2);
}

static void slow_monitor_loses_events_not_the_daemon(void **state)
{
	struct json_object *ev, *o;
	char path[256];
	size_t i;
	int64_t lost = 0, seen = 0;

	(void)state;
	snprintf(path, sizeof(path), "%s/monitor.json", d.dir);
	spawn_monitor(path);
	usleep(300 * 1000);
	/* it stops reading; the events keep coming */
	kill(monitor_pid, SIGSTOP);
	/* more than its socket holds, 8 MiB of events */
	o = cli_json("inject-campaign dax0.0 --rate 200000 --duration 0.5 --seed 7 --no-notify");
	assert_int_equal(get_int(o, "injected"), 100000);
	json_object_put(o);
	/* the daemon is not held up by it */
	assert_int_equal(td_cli(&d, NULL, 0, "list"), 0);
	assert_int_equal(td_cli(&d, NULL, 0, "inject-error dax0.0 --block 1"), 0);
	kill(monitor_pid, SIGCONT);
	ev = monitor_wait(path, 100000, 1500);
	for (i = 0; i < json_object_array_length(ev); i++) {
		if (!strcmp(event_name(json_object_array_get_idx(ev, i)), "lost"))
			lost += get_int(json_object_array_get_idx(ev, i), "count");
		else
			seen++;
	}
	/* it is told what it missed: nothing goes silently */
	assert_true(lost > 0);
	assert_int_equal(seen + lost, 100001);
	json_object_put(ev);
}

static void list_devices_and_mappers(void **state)
{
	struct json_object *o, *m, *e;

	(void)state;
	o = cli_json("list -D");
	e = json_object_array_get_idx(o, 0);
	assert_string_equal(json_object_get_string(json_object_object_get(e, "chardev")), "dax0.0");
	assert_string_equal(json_object_get_string(json_object_object_get(e, "mode")), "devdax");
	assert_int_equal(get_int(e, "align"), 2 << 20);
	assert_int_equal(get_int(e, "size"), 64 << 20);
	json_object_put(o);
	o = cli_json("list -N -X");
	e = json_object_object_get(json_object_array_get_idx(o, 0), "daxregion");
	assert_non_null(e);
	assert_int_equal(get_int(e, "id"), 0);
	json_object_put(o);
	assert_int_equal(actor_map(&a, &d, "mapper", "/dev/dax0.0", 0x400000, -1), 0);
	assert_int_equal(td_cli(&d, NULL, 0, "inject-error dax0.0 --block 4104"), 0);
	o = cli_json("list -M");
	m = json_object_object_get(json_object_array_get_idx(o, 0), "mappers");
	assert_int_equal(json_object_array_length(m), 1);
	e = json_object_array_get_idx(m, 0);
	assert_int_equal(get_int(e, "pid"), a.pid);
	assert_string_equal(json_object_get_string(json_object_object_get(e, "comm")), "mapper");
	assert_int_equal(get_int(e, "map_size"), 2 << 20);
	assert_int_equal(get_int(e, "page_offset"), 0x201000);
	json_object_put(o);
}

/* More mappers of one page than one reply holds: none goes missing. */
static void many_mappers_of_one_page(void **state)
{
	struct json_object *o, *m;

	(void)state;
	assert_int_equal(actor_map(&a, &d, "hoarder", "/dev/dax0.0", 0x400000, -1), 0);
	assert_int_equal(reply_int(actor_cmd(&a, "mapmany 700 0x200000 0"), "mapped", -1), 700);
	assert_int_equal(td_cli(&d, NULL, 0, "inject-error dax0.0 --block 8"), 0);
	o = cli_json("list -M");
	m = json_object_object_get(json_object_array_get_idx(o, 0), "mappers");
	assert_int_equal(json_object_array_length(m), 701);
	json_object_put(o);
}

/* A scrub's end is told at once, with nobody else talking to the daemon. */
static void scrub_end_reaches_a_monitor_at_once(void **state)
{
	struct json_object *ev;
	char path[256];
	size_t i;
	bool end = false;

	(void)state;
	snprintf(path, sizeof(path), "%s/monitor.json", d.dir);
	assert_int_equal(td_cli(&d, NULL, 0, "inject-error dax0.0 --block 300 --no-notify"), 0);
	spawn_monitor(path);
	usleep(300 * 1000);
	assert_int_equal(td_cli(&d, NULL, 0, "start-scrub"), 0);
	ev = monitor_wait(path, 3, 3000);
	for (i = 0; i < json_object_array_length(ev); i++)
		end |= !strcmp(event_name(json_object_array_get_idx(ev, i)), "scrub_end");
	assert_true(end);
	json_object_put(ev);
}

/* The namespace it scrubs goes away: the scrub ends, cancelled, not done. */
static void scrub_of_a_destroyed_namespace_is_cancelled(void **state)
{
	struct json_object *o, *e;

	(void)state;
	assert_int_equal(td_cli(&d, NULL, 0, "create-namespace --size 64G --sparse"), 0);
	assert_int_equal(td_cli(&d, NULL, 0, "start-scrub --full dax0.1"), 0);
	assert_int_equal(td_cli(&d, NULL, 0, "destroy-namespace dax0.1"), 0);
	o = cli_json("wait-scrub --quiet");
	e = json_object_array_get_idx(o, 0);
	assert_true(json_object_get_boolean(json_object_object_get(e, "cancelled")));
	assert_int_equal(get_int(e, "scrub_count"), 0);
	json_object_put(o);
}

/* The history keeps the newest events, as many as it is told. */
static void history_keeps_the_newest(void **state)
{
	struct json_object *h, *o;
	size_t n;

	(void)state;
	td_stop(&d);
	snprintf(d.args + strlen(d.args), sizeof(d.args) - strlen(d.args), " --history-max 100");
	assert_int_equal(td_restart(&d), 0);
	o = cli_json("inject-campaign dax0.0 --rate 100000 --duration 0.005 --seed 3 --no-notify");
	json_object_put(o);
	o = cli_json("inject-campaign dax0.0 --rate 100000 --duration 0.005 --seed 4 --no-notify");
	json_object_put(o);
	assert_int_equal(td_cli(&d, NULL, 0, "inject-error dax0.0 --block 7"), 0);
	h = history();
	n = json_object_array_length(h);
	assert_true(n >= 100 && n <= 110);
	/* the last one is the newest event, the single injection */
	assert_int_equal(get_int(json_object_array_get_idx(h, n - 1), "offset"), 7);
	json_object_put(h);
}

static void bad_requests_are_refused(void **state)
{
	uint64_t known, latent;

	(void)state;
	assert_int_equal(td_cli(&d, NULL, 0, "start-scrub dax0.9"), 1);
	assert_int_equal(td_cli(&d, NULL, 0, "monitor dax0.9"), 1);
	assert_int_equal(td_cli(&d, NULL, 0, "history --since yesterday-ish"), 129);
	assert_int_equal(td_cli(&d, NULL, 0, "history --summary --errors"), 129);
	assert_int_equal(td_cli(&d, NULL, 0, "history --errors --type nonsense"), 129);
	assert_int_equal(td_cli(&d, NULL, 0, "inject-campaign dax0.0 --rate 10 --duration 1"), 129);
	assert_int_equal(td_cli(&d, NULL, 0, "inject-campaign dax0.0 --rate -3 --duration 1 --seed 1"), 129);
	assert_int_equal(td_cli(&d, NULL, 0, "inject-campaign dax0.0 --rate 10 --duration 1 --seed 1 --pattern spiral"), 129);
	assert_int_equal(td_cli(&d, NULL, 0, "inject-campaign dax0.9 --rate 10 --duration 1 --seed 1"), 1);
	assert_int_equal(td_cli(&d, NULL, 0, "inject-error dax0.0 --block 131072 --no-notify"), 1);
	assert_int_equal(td_cli(&d, NULL, 0, "inject-error dax0.0 --status --no-notify"), 129);
	assert_int_equal(td_cli(&d, NULL, 0, "cancel-scrub"), 0);	/* none running: idle */
	status_sectors(&known, &latent);
	assert_int_equal(known + latent, 0);
	assert_int_equal(td_cli(&d, NULL, 0, "stats --node"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(latent_found_by_access, setup, teardown),
		cmocka_unit_test_setup_teardown(latent_found_by_read, setup, teardown),
		cmocka_unit_test_setup_teardown(scrub_finds_exactly_the_latent, setup, teardown),
		cmocka_unit_test_setup_teardown(full_scrub_can_be_cancelled, setup, teardown),
		cmocka_unit_test_setup_teardown(clear_leaves_latent_unless_scrubbed, setup, teardown),
		cmocka_unit_test_setup_teardown(write_makes_latent_good, setup, teardown),
		cmocka_unit_test_setup_teardown(monitor_sees_every_event_in_order, setup, teardown),
		cmocka_unit_test_setup_teardown(history_survives_kill9, setup, teardown),
		cmocka_unit_test_setup_teardown(campaign_same_seed_same_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(slow_monitor_loses_events_not_the_daemon, setup, teardown),
		cmocka_unit_test_setup_teardown(list_devices_and_mappers, setup, teardown),
		cmocka_unit_test_setup_teardown(many_mappers_of_one_page, setup, teardown),
		cmocka_unit_test_setup_teardown(scrub_end_reaches_a_monitor_at_once, setup, teardown),
		cmocka_unit_test_setup_teardown(scrub_of_a_destroyed_namespace_is_cancelled, setup, teardown),
		cmocka_unit_test_setup_teardown(history_keeps_the_newest, setup, teardown),
		cmocka_unit_test_setup_teardown(bad_requests_are_refused, setup, teardown),
	};

	return cmocka_run_group_tests_name("test-operations", tests, NULL, NULL);
}
