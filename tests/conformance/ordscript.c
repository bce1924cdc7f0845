// SPDX-License-Identifier: MIT
/*
 * tests/conformance/ordscript.c: runs one scenario of an ordinary-memory
 * scenario program (mford.c, mfmemcases.c) and prints its transcript.
 *
 * A scenario is a script of mfactor commands (tests/progs/mfactor.c and
 * mfactor-mem.c: the same code, linked in), run in this process, with
 * "child ..." for a forked one.  It uses nothing but libc and the Linux
 * ABI: built with meson for `memfail run`, and as one file (see
 * record-oracle.sh) with gcc -static for the oracle's guest.
 *
 * The transcript is "> command" and "< answer" lines.  Answers are made
 * comparable between kernels: addresses, thread and process ids become
 * A and T, raw pagemap words and page flags go (their decoded fields
 * stay), and pfns become P1, P2, ... in the order they are first seen, so
 * that "the same pfn as before" survives, and HardwareCorrupted counts
 * from its first reading.  "pfnmap Pn 0x..." and "role
 * NAME pid=N" lines at the end let normalize-ord.pl put the same names in
 * the kernel's log lines; it drops them.
 *
 * In scripts: $DISK, $TMPFS and $DAX are directories (MFORD_DISK_DIR, default
 * /tmp; MFORD_TMPFS_DIR, default /dev/shm; MFORD_DAX_DIR, an fsdax mount,
 * default /mnt/ext4dax); $BLK is that file system's block device
 * (MFORD_DAX_BLK, default pmem0.2); "=X" at the end of a command
 * keeps the pfn (or the sector) of its answer as X; $X is that pfn, $X@
 * its physical address.  Sectors are a machine's own: answers show S.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../progs/mfactor.h"
#include "ordscript.h"

/* ---- making answers comparable ---- */

#define MAX_PFNS 64
static unsigned long long pfns[MAX_PFNS];
static int nr_pfns;

struct var {
	char name[8];
	unsigned long long raw;
};
static struct var vars[16];
static int nr_vars;
static pid_t roles[4];
static int nr_roles;
static long kb_base = -1;	/* HardwareCorrupted when first read */

static int pfn_name(unsigned long long raw)
{
	int i;

	for (i = 0; i < nr_pfns; i++)
		if (pfns[i] == raw)
			return i + 1;
	if (nr_pfns == MAX_PFNS)
		return 0;
	pfns[nr_pfns++] = raw;
	return nr_pfns;
}

/* key=value: the value, or NULL */
static const char *value_of(const char *reply, const char *key, char *buf, size_t n)
{
	size_t kl = strlen(key);
	const char *p = reply;

	while ((p = strstr(p, key))) {
		if ((p == reply || p[-1] == ' ' || p[-1] == '[') && p[kl] == '=') {
			size_t len = strcspn(p + kl + 1, " ]");

			snprintf(buf, n, "%.*s", (int)len, p + kl + 1);
			return buf;
		}
		p += kl;
	}
	return NULL;
}

static void normalize(const char *reply, char *out, size_t n)
{
	char tmp[4096], *save = NULL, *tok;
	size_t len = 0;

	snprintf(tmp, sizeof(tmp), "%s", reply);
	out[0] = '\0';
	for (tok = strtok_r(tmp, " ", &save); tok && len < n; tok = strtok_r(NULL, " ", &save)) {
		char word[256];
		char *eq = strchr(tok, '=');
		const char *bracket = tok[0] == '[' ? "[" : "";
		char *key = tok + (tok[0] == '[');

		snprintf(word, sizeof(word), "%s", tok);
		if (eq) {
			size_t kl = (size_t)(eq - key);
			const char *val = eq + 1;
			int close = val[strlen(val) - 1] == ']';

			if ((kl == 3 && !strncmp(key, "raw", 3)) || (kl == 5 && !strncmp(key, "flags", 5)))
				continue;
			if ((kl == 4 && !strncmp(key, "addr", 4)) || (kl == 3 && !strncmp(key, "tid", 3)) ||
			    (kl == 3 && !strncmp(key, "pid", 3)) || (kl == 6 && !strncmp(key, "thread", 6)) ||
			    (kl == 4 && !strncmp(key, "main", 4)) ||
			    (kl == 6 && !strncmp(key, "sector", 6) && strcmp(val, "none")))
				snprintf(word, sizeof(word), "%s%.*s=%s%s", bracket, (int)kl, key,
					 !strncmp(key, "addr", 4) ? "A" :
					 !strncmp(key, "sector", 6) ? "S" : "T", close ? "]" : "");
			else if (kl == 2 && !strncmp(key, "kb", 2)) {
				/* what the kernel had before the scenario is not ours */
				long kb = strtol(val, NULL, 10);

				if (kb_base < 0)
					kb_base = kb;
				snprintf(word, sizeof(word), "kb=%+ld", kb - kb_base);
			} else if ((kl == 3 && !strncmp(key, "pfn", 3)) || (kl == 7 && !strncmp(key, "swp_off", 7))) {
				unsigned long long raw = strtoull(val, NULL, 0);

				if (raw)
					snprintf(word, sizeof(word), "%s%.*s=P%d%s", bracket, (int)kl, key,
						 pfn_name(raw), close ? "]" : "");
			}
		}
		len += (size_t)snprintf(out + len, n - len, "%s%s", len ? " " : "", word);
	}
}

/* $DISK, $TMPFS, $DAX, $BLK, $X, $X@ */
static void expand(const char *line, char *out, size_t n)
{
	const char *disk = getenv("MFORD_DISK_DIR"), *tmpfs = getenv("MFORD_TMPFS_DIR");
	const char *dax = getenv("MFORD_DAX_DIR"), *blk = getenv("MFORD_DAX_BLK");
	size_t len = 0;
	const char *p;

	for (p = line; *p && len < n - 1; ) {
		if (*p != '$') {
			out[len++] = *p++;
			continue;
		}
		if (!strncmp(p, "$DISK", 5)) {
			len += (size_t)snprintf(out + len, n - len, "%s", disk ? disk : "/tmp");
			p += 5;
		} else if (!strncmp(p, "$DAX", 4)) {
			/* a filesystem mounted -o dax (fsdax) */
			len += (size_t)snprintf(out + len, n - len, "%s", dax ? dax : "/mnt/ext4dax");
			p += 4;
		} else if (!strncmp(p, "$BLK", 4)) {
			/* its block device, pmemX.Y */
			len += (size_t)snprintf(out + len, n - len, "%s", blk ? blk : "pmem0.2");
			p += 4;
		} else if (!strncmp(p, "$TMPFS", 6)) {
			len += (size_t)snprintf(out + len, n - len, "%s", tmpfs ? tmpfs : "/dev/shm");
			p += 6;
		} else {
			char name[8] = "";
			int i, k = 0;

			for (p++; *p && *p != ' ' && *p != '@' && k < 7; p++)
				name[k++] = *p;
			for (i = 0; i < nr_vars && strcmp(vars[i].name, name); i++)
				;
			if (i < nr_vars)
				len += (size_t)snprintf(out + len, n - len, "%#llx",
							*p == '@' ? vars[i].raw << 12 : vars[i].raw);
			if (*p == '@')
				p++;
		}
	}
	out[len < n ? len : n - 1] = '\0';
}

static int run(const struct scenario *sc)
{
	char line[512], out[4096], norm[4096], val[64];
	const char *const *l;
	int i;

	printf("scenario %s\n", sc->name);
	printf("desc %s\n", sc->desc);
	printf("early_kill %s\n", getenv("MFORD_EARLY_KILL") ? getenv("MFORD_EARLY_KILL") : "0");
	roles[nr_roles++] = getpid();
	for (l = sc->lines; *l; l++) {
		char *keep = NULL;
		size_t len;

		expand(*l, line, sizeof(line));
		len = strlen(line);
		if (len > 2 && line[len - 2] == '=' && strchr(line, ' ')) {
			keep = &line[len - 1];
			line[len - 3] = '\0';
		}
		printf("> %s\n", *l);
		fflush(stdout);
		{
			char cmd[512];

			snprintf(cmd, sizeof(cmd), "%s", line);
			do_command(cmd, out, sizeof(out));
		}
		if (keep && nr_vars < 16 && (value_of(out, "pfn", val, sizeof(val)) ||
					     value_of(out, "sector", val, sizeof(val)))) {
			snprintf(vars[nr_vars].name, sizeof(vars[nr_vars].name), "%c", *keep);
			vars[nr_vars++].raw = strtoull(val, NULL, 0);
		}
		if (!strcmp(line, "fork") && value_of(out, "pid", val, sizeof(val)) && nr_roles < 4)
			roles[nr_roles++] = (pid_t)atoi(val);
		normalize(out, norm, sizeof(norm));
		printf("< %s\n", norm);
		fflush(stdout);
	}
	/* the child, if any, ends with us */
	do_command((char[]){ "child exit 0" }, out, sizeof(out));
	for (i = 0; i < nr_pfns; i++)
		printf("pfnmap P%d %#llx\n", i + 1, pfns[i]);
	for (i = 0; i < nr_roles; i++)
		printf("role %s pid=%d\n", i ? "child" : "main", (int)roles[i]);
	fflush(stdout);
	return 0;
}

int ord_main(int argc, char **argv, const char *prog, const struct scenario *scenarios)
{
	const struct scenario *sc;

	/* an actor exec()ed by execserve: answer on stdin/stdout */
	if (argc >= 2 && !strcmp(argv[1], "serve")) {
		actor_init(prog);
		actor_serve(stdin, stdout);
		return 0;
	}

	if (argc >= 2 && !strcmp(argv[1], "list")) {
		for (sc = scenarios; sc->name; sc++) {
			if (argc > 2)
				printf("%s early_kill=%d needs=%s %s\n", sc->name, sc->early_kill,
				       sc->needs[0] ? sc->needs : "-", sc->desc);
			else
				printf("%s\n", sc->name);
		}
		return 0;
	}
	if (argc < 3 || strcmp(argv[1], "run")) {
		fprintf(stderr, "usage: %s list [-v] | %s run NAME\n", prog, prog);
		return 2;
	}
	for (sc = scenarios; sc->name; sc++)
		if (!strcmp(sc->name, argv[2]))
			break;
	if (!sc->name) {
		fprintf(stderr, "%s: no scenario %s\n", prog, argv[2]);
		return 2;
	}
	actor_init(prog);
	return run(sc);
}
