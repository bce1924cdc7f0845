/* SPDX-License-Identifier: MIT */
/*
 * tests/progs/mfactor.h: what mfactor.c shares with its ordinary-memory
 * commands (mfactor-mem.c): the mappings, the SIGBUSes seen, one access.
 */
#ifndef MFACTOR_H
#define MFACTOR_H

#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdint.h>
#include <sys/types.h>

#define MAX_MAPS 16
#define MAX_SIGS 2048
#define MAX_ARGS 32

struct mapping {
	char *addr;
	size_t len;
	int fd;			/* the file it maps, or -1 */
};

/* what the SIGBUS handler saw */
struct sig_rec {
	int code;
	uintptr_t addr;
	int lsb;
	pid_t tid;
	char phase[16];
};

extern struct mapping maps[MAX_MAPS];
extern int nr_maps;
extern struct sig_rec sigs[MAX_SIGS];
extern volatile sig_atomic_t reported_sigs;
extern const char *phase;

int sigs_seen(void);
pid_t gettid_(void);
void sig_text(const struct sig_rec *s, char *buf, size_t n);
struct mapping *get_map(const char *idx);
void access_byte(char *p, int store, int byte, char *out, size_t n);

/* One command line, its answer (the actor's protocol). */
void do_command(char *line, char *out, size_t n);
/* What main() does before serving: name, handlers, wake pipe. */
void actor_init(const char *name);
/* Answer command lines from in on outf until end of file. */
void actor_serve(FILE *in, FILE *outf);
/* What this actor serves on: 0 and 1, or a forked child's pipes. */
extern int serve_in_fd, serve_out_fd;

/* The ordinary-memory commands; false if argv[0] is not one. */
int mem_command(int argc, char **argv, char *out, size_t n);
/* Threads churning mappings of one file (mfactor-churn.c). */
int churn_command(int argc, char **argv, char *out, size_t n);
/* mfactor-blk.c: fiemap, badblocks-add */
int blk_command(int argc, char **argv, char *out, size_t n);

#endif /* MFACTOR_H */
