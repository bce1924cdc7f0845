/* SPDX-License-Identifier: MIT */
/*
 * cli/cli.h: the memfail command.  One file per command, each a
 * cmd_<name>(argc, argv) that parses its own options; JSON is built in
 * json.c only.  Exit status: 0 success, 1 failure, 129 usage error (as
 * ndctl).
 */
#ifndef MF_CLI_H
#define MF_CLI_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "memfail.h"

#define EXIT_USAGE 129

/* The command's name, for messages: "memfail inject-error: ...". */
extern const char *cmd_name;

void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Connect to the daemon or explain why not (returns NULL). */
struct memfail_ctx *cli_connect(void);
/* An error from the daemon, worded for a user. */
const char *cli_strerror(int err);
/* The same for what only root and the daemon's user may do (events,
 * region-wide scrubs): EPERM says so. */
const char *cli_strerror_daemon_user(int err);
/* Print a command's help (from its usage text) and return exit status. */
int cli_usage(const char *usage, bool error);
/* --block/--count style number; exits with usage on garbage. */
int cli_parse_u64(const char *opt, const char *s, uint64_t *out);
int cli_parse_size(const char *opt, const char *s, uint64_t *out);

int cmd_create_namespace(int argc, char **argv);
int cmd_destroy_namespace(int argc, char **argv);
int cmd_list(int argc, char **argv);
int cmd_inject_error(int argc, char **argv);
int cmd_clear_errors(int argc, char **argv);
int cmd_stats(int argc, char **argv);
int cmd_config(int argc, char **argv);
int cmd_read(int argc, char **argv);
int cmd_write(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_start_scrub(int argc, char **argv);
int cmd_wait_scrub(int argc, char **argv);
int cmd_cancel_scrub(int argc, char **argv);
int cmd_monitor(int argc, char **argv);
int cmd_history(int argc, char **argv);
int cmd_inject_campaign(int argc, char **argv);

/* cmd-scrub.c: scrub one namespace and wait for it (after any other). */
int cli_scrub_and_wait(struct memfail_ctx *ctx, const char *name);

/* json.c */
#define JF_HUMAN	(1u << 0)	/* sizes as "2.00 MiB", as ndctl -u */
#define JF_MEDIA_ERRORS	(1u << 1)	/* badblock lists, as ndctl -M */
#define JF_DEVICES	(1u << 2)	/* dax devices inside namespaces, as -N -D */

struct json_object *json_namespace(const struct memfail_namespace *ns,
				   const struct memfail_badblock *bb, size_t nbb,
				   const struct memfail_mapper *mappers, size_t nmappers,
				   uint64_t sector_base, unsigned flags);
/* Who maps the poisoned pages (memfail's addition to -M). */
struct json_object *json_mappers(const struct memfail_mapper *m, size_t n, unsigned flags);
/* daxctl list -D's device object. */
struct json_object *json_daxdev(const struct memfail_namespace *ns, unsigned flags);
/* inject-error --status: known ranges, and latent ones marked so. */
struct json_object *json_badblock_status(const struct memfail_badblock *bb, size_t nbb,
					 const struct memfail_badblock *lat, size_t nlat,
					 unsigned flags);
struct json_object *json_scrub(const struct memfail_scrub *s);
struct json_object *json_event(const struct memfail_event *ev);
struct json_object *json_summary(const struct memfail_summary_row *r, size_t n);
/* "2026-11-25 09:10:11 +0000" */
void cli_format_time(uint64_t time_ns, char *buf, size_t n);
const char *cli_si_code_name(int code);
struct json_object *json_stats(const struct memfail_counters *node, uint64_t hw_kb,
			       const struct memfail_ns_counters *ns, size_t n);
struct json_object *json_size(uint64_t v, unsigned flags);
/* cmd-list.c: a namespace as JSON, its bad blocks fetched if asked. */
struct json_object *namespace_object(struct memfail_ctx *ctx, const struct memfail_namespace *ns,
				     uint64_t sector_base, unsigned flags);
/* Print as ndctl does (pretty, two-space indent) and drop the object. */
void json_print(struct json_object *o);

#endif /* MF_CLI_H */
