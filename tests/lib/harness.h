/* SPDX-License-Identifier: MIT */
/*
 * tests/lib/harness.h: what memfail's integration tests drive: a private
 * memfaild per test (its own state directory, socket and log), the
 * memfail command against it, and actors: mfactor processes running
 * under the preload library, one command line in, one answer line out.
 */
#ifndef MF_TEST_HARNESS_H
#define MF_TEST_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct tdaemon {
	pid_t pid;
	char dir[64];
	char sock[128];
	char state[128];
	char log[128];
	char args[256];
};

/* Start memfaild with extra options ("--kernel linux-4.19"); 0 or -1. */
int td_start(struct tdaemon *d, const char *args);
/* Start it, and make an fsdax namespace of that size mounted at mnt
 * (d->dir/mnt, made here). */
int td_start_fsdax(struct tdaemon *d, const char *args, const char *size,
		   char *mnt, size_t n);
/* Only choose the paths (the test may prepare d->state), then start. */
int td_prepare(struct tdaemon *d, const char *args);
/* Start it again on the same state directory (or the first time after
 * td_prepare). */
int td_restart(struct tdaemon *d);
void td_stop(struct tdaemon *d);	/* SIGTERM, wait */
void td_kill9(struct tdaemon *d);	/* SIGKILL, wait */
/* Stop (if running) and remove the directory. */
void td_destroy(struct tdaemon *d);

/* Run the memfail command against the daemon; stdout into out (may be
 * NULL).  Returns the exit status (or 128 + signal). */
int td_cli(struct tdaemon *d, char *out, size_t n, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Lines of the daemon's log containing needle. */
int td_log_count(struct tdaemon *d, const char *needle);
/* Wait for at least `count` such lines (up to ms); returns the count. */
int td_log_wait(struct tdaemon *d, const char *needle, int count, int ms);
/* The whole log, for a failing test's message (static buffer). */
const char *td_log_text(struct tdaemon *d);

struct actor {
	pid_t pid;
	int to, from;
	char name[16];
	char reply[4096];
	int status;
	bool exited;
};

/* Start an mfactor under the preload library, talking to d. */
int actor_start(struct actor *a, struct tdaemon *d, const char *name);
/*
 * An actor that opened `dev` and mapped its first `len` bytes (mapping
 * 0), then stored `fill` in every byte of it unless fill < 0.  0 or -1
 * (the actor's last answer says why).
 */
int actor_map(struct actor *a, struct tdaemon *d, const char *name, const char *dev,
	      size_t len, int fill);
/* Send a command, return its answer (a->reply), or NULL if the actor
 * died (a->status then says how).  Waits up to 20 s. */
const char *actor_cmd(struct actor *a, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* The two halves of actor_cmd(), for a command that blocks while the
 * test does something else: 0 or -1; then the answer, or NULL. */
int actor_send(struct actor *a, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
const char *actor_reply(struct actor *a);
/* Wait for the actor to end; returns its wait status, or -1 on timeout. */
int actor_wait(struct actor *a, int ms);
void actor_kill(struct actor *a);
/* SIGBUS death: true if the actor was killed by signal sig. */
bool actor_killed_by(struct actor *a, int sig);

/* From an answer "ok a=1 b=0x2": the value of key, or def. */
long long reply_int(const char *reply, const char *key, long long def);
bool reply_has(const char *reply, const char *word);

/* Paths of the built programs (from MF_BUILD_DIR or beside the test). */
const char *build_path(const char *rel);

#endif /* MF_TEST_HARNESS_H */
