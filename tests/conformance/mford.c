// SPDX-License-Identifier: MIT
/*
 * tests/conformance/mford.c: ordinary-memory scenarios whose transcripts
 * are compared with a real kernel's.
 *
 *   mford list [-v]        scenario names (-v: early_kill, needs, description)
 *   mford run NAME         run one scenario, print its transcript
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
 * In scripts: $DISK and $TMPFS are directories (MFORD_DISK_DIR, default
 * /tmp; MFORD_TMPFS_DIR, default /dev/shm); "=X" at the end of a command
 * keeps the pfn of its answer as X; $X is that pfn, $X@ its physical
 * address.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../progs/mfactor.h"

struct scenario {
	const char *name;
	int early_kill;		/* what vm.memory_failure_early_kill is meant to be */
	const char *needs;	/* "", "hugetlb", "root" */
	const char *desc;
	const char *const *lines;
};

#define S(...) ((const char *const[]){ __VA_ARGS__, NULL })

static const struct scenario scenarios[] = {
	{ "o1_anon", 0, "root", "anonymous private 4K: madvise, touches, pagemap, kpageflags, unpoison",
	  S("mapmem anon 0x400000", "fill 0 0xce", "pm 0 0x102000 =A", "hc",
	    "madvise 0 0x102000 4096 hwpoison", "touch 0 0x102000", "store 0 0x102000 1",
	    "touch 0 0x103000", "touch 0 0x101000", "pm 0 0x102000", "hc", "kpf $A",
	    "fwrite /sys/kernel/debug/hwpoison/unpoison-pfn $A", "kpf $A", "hc",
	    "fwrite /sys/kernel/debug/hwpoison/unpoison-pfn $A") },
	{ "o2_anon_shared_child_early", 0, "", "MAP_SHARED|MAP_ANONYMOUS with an early-kill child that touched it",
	  S("mapmem anon-shared 0x10000", "fill 0 0xce", "fork", "child prctl set early",
	    "child touch 0 0x2000", "madvise 0 0x2000 4096 hwpoison", "child wait-signal 2000",
	    "child touch 0 0x2000", "child touch 0 0x3000", "child pm 0 0x2000", "pm 0 0x2000") },
	{ "o3_memfd_child_late", 0, "", "memfd shared with a default-policy child; read() of it",
	  S("mapmem memfd 0x10000", "fill 0 0xce", "fork", "child touch 0 0x2000",
	    "madvise 0 0x2000 4096 hwpoison", "child wait-signal 500", "child touch 0 0x2000",
	    "pread 0 0x2000 4096", "pread 0 0x1000 8192", "pread 0 0x3000 4096") },
	{ "o4_tmpfs_file", 0, "", "a tmpfs file dirtied through the mapping; pread, fsync",
	  S("mapmem file 0x10000 $TMPFS/mford-tmpfs", "fill 0 0xce",
	    "madvise 0 0x2000 4096 hwpoison", "touch 0 0x2000", "pread 0 0x2000 4096",
	    "pread 0 0x3000 4096", "fsync 0", "fsync 0") },
	{ "o5_pagecache_clean", 0, "", "page cache of a disk file, written back: dropped",
	  S("mapmem file 0x10000 $DISK/mford-clean", "fill 0 0xce", "fsync 0", "pm 0 0x2000 =A",
	    "hc", "madvise 0 0x2000 4096 hwpoison", "touch 0 0x2000", "pm 0 0x2000",
	    "pread 0 0x2000 4096", "kpf $A", "hc") },
	/* (not read back with pread: Linux reads what was last written back,
	 * which memfail cannot know; see README) */
	{ "o6_pagecache_dirty", 0, "", "page cache of a disk file, dirty: fsync once",
	  S("mapmem file 0x10000 $DISK/mford-dirty", "fill 0 0xce",
	    "madvise 0 0x2000 4096 hwpoison", "touch 0 0x2000", "fsync 0", "fsync 0",
	    "pread 0 0x3000 4096", "touch 0 0x3000") },
	{ "o7_thp", 0, "", "anonymous THP (MADV_HUGEPAGE): split, lsb 12",
	  S("mapmem thp 0x400000", "fill 0 0xce", "madvise 0 0x102000 4096 hwpoison",
	    "touch 0 0x102000", "touch 0 0x100000", "touch 0 0x103000", "touch 0 0x300000") },
	{ "o8_hugetlb", 0, "hugetlb", "MAP_HUGETLB 2M: the whole huge page",
	  S("mapmem hugetlb 0x400000", "fill 0 0xce", "madvise 0 0x102000 4096 hwpoison",
	    "touch 0 0x102000", "touch 0 0x10000", "touch 0 0x1ff000", "touch 0 0x300000",
	    "pm 0 0x102000") },
	{ "o9_soft_offline_anon", 0, "root", "MADV_SOFT_OFFLINE of an anonymous page",
	  S("mapmem anon 0x10000", "fill 0 0xce", "pm 0 0x2000 =A", "hc",
	    "madvise 0 0x2000 4096 soft_offline", "touch 0 0x2000", "pm 0 0x2000", "kpf $A",
	    "hc", "madvise 0 0x2000 4096 soft_offline") },
	{ "o10_soft_offline_thp", 0, "", "MADV_SOFT_OFFLINE of a page of a THP",
	  S("mapmem thp 0x400000", "fill 0 0xce", "madvise 0 0x102000 4096 soft_offline",
	    "touch 0 0x102000", "touch 0 0x103000") },
	{ "o11_twice", 0, "", "the same page twice, then another page of the same 2M",
	  S("mapmem anon 0x400000", "fill 0 0xce", "madvise 0 0x102000 4096 hwpoison",
	    "madvise 0 0x102000 4096 hwpoison", "madvise 0 0x110000 4096 hwpoison",
	    "touch 0 0x110000") },
	{ "o12_range", 0, "", "MADV_HWPOISON of three pages at once",
	  S("mapmem anon 0x10000", "fill 0 0xce", "madvise 0 0x2000 12288 hwpoison",
	    "touch 0 0x2000", "touch 0 0x3000", "touch 0 0x4000", "touch 0 0x5000") },
	{ "o13_fork_after", 0, "", "a child forked after the poison inherits it",
	  S("mapmem anon 0x10000", "fill 0 0xce", "madvise 0 0x2000 4096 hwpoison", "fork",
	    "child touch 0 0x2000", "child touch 0 0x3000", "child pm 0 0x2000") },
	{ "o14_thread", 0, "", "AR to the thread that touches",
	  S("mapmem anon 0x10000", "fill 0 0xce", "madvise 0 0x2000 4096 hwpoison",
	    "thread-touch 0 0x2000") },
	{ "o15_sysctl_early_kill", 0, "root", "vm.memory_failure_early_kill=1 written by the program",
	  S("fwrite /proc/sys/vm/memory_failure_early_kill 1", "fcat /proc/sys/vm/memory_failure_early_kill",
	    "mapmem anon-shared 0x10000", "fill 0 0xce", "fork", "child touch 0 0x2000",
	    "madvise 0 0x2000 4096 hwpoison", "child wait-signal 2000",
	    "fwrite /proc/sys/vm/memory_failure_early_kill 2",
	    "fwrite /proc/sys/vm/memory_failure_early_kill 0") },
	{ "o16_corrupt_pfn", 0, "root", "debugfs corrupt-pfn of an early-kill process's page, by another",
	  S("fork", "mapmem anon 0x10000", "fill 0 0xce", "prctl set early", "pm 0 0x3000 =A",
	    "child fwrite /sys/kernel/debug/hwpoison/corrupt-pfn $A", "wait-signal 2000",
	    "touch 0 0x3000", "touch 0 0x4000", "kpf $A") },
	{ "o17_hard_offline_late", 0, "root", "hard_offline_page of a default-policy process's page",
	  S("fork", "mapmem anon 0x10000", "fill 0 0xce", "pm 0 0x3000 =A",
	    "child fwrite /sys/devices/system/memory/hard_offline_page $A@", "wait-signal 500",
	    "touch 0 0x3000", "kpf $A") },
	{ "o18_nonroot", 0, "root", "after setresuid(65534): EPERM, EACCES",
	  S("mapmem anon 0x10000", "fill 0 0xce", "pm 0 0x2000 =A", "setuid 65534",
	    "madvise 0 0x2000 4096 hwpoison", "madvise 0 0x2000 4096 soft_offline",
	    "fwrite /sys/kernel/debug/hwpoison/corrupt-pfn $A",
	    "fwrite /sys/devices/system/memory/hard_offline_page $A@", "kpf $A",
	    "touch 0 0x2000") },
	{ "o19_blocked_sigbus", 0, "", "SIGBUS blocked during madvise",
	  S("fork", "child mapmem anon 0x10000", "child fill 0 1", "child handler block",
	    "child madvise 0 0x2000 4096 hwpoison") },
	{ "o20_ignored_sigbus", 0, "", "SIGBUS ignored during madvise",
	  S("fork", "child mapmem anon 0x10000", "child fill 0 1", "child handler ignore",
	    "child madvise 0 0x2000 4096 hwpoison") },
	{ "o21_mlock", 0, "", "an mlocked anonymous page",
	  S("mapmem mlock 0x10000", "fill 0 0xce", "madvise 0 0x2000 4096 hwpoison",
	    "touch 0 0x2000", "touch 0 0x3000") },
	{ "o22_private_file", 0, "", "MAP_PRIVATE of a file: a page still the file's, one written",
	  S("mapmem pfile 0x10000 $DISK/mford-private", "touch 0 0x2000", "store 0 0x3000 7",
	    "madvise 0 0x2000 4096 hwpoison", "touch 0 0x2000", "madvise 0 0x3000 4096 hwpoison",
	    "touch 0 0x3000") },
	{ "o23_altstack", 0, "", "SIGBUS handled on a sigaltstack",
	  S("mapmem anon 0x10000", "fill 0 0xce", "madvise 0 0x2000 4096 hwpoison",
	    "altstack 0 0x2000") },
	{ NULL, 0, NULL, NULL, NULL },
};

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
			    (kl == 4 && !strncmp(key, "main", 4)))
				snprintf(word, sizeof(word), "%s%.*s=%s%s", bracket, (int)kl, key,
					 !strncmp(key, "addr", 4) ? "A" : "T", close ? "]" : "");
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

/* $DISK, $TMPFS, $X, $X@ */
static void expand(const char *line, char *out, size_t n)
{
	const char *disk = getenv("MFORD_DISK_DIR"), *tmpfs = getenv("MFORD_TMPFS_DIR");
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
		if (keep && nr_vars < 16 && value_of(out, "pfn", val, sizeof(val))) {
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

int main(int argc, char **argv)
{
	const struct scenario *sc;

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
		fprintf(stderr, "usage: mford list [-v] | mford run NAME\n");
		return 2;
	}
	for (sc = scenarios; sc->name; sc++)
		if (!strcmp(sc->name, argv[2]))
			break;
	if (!sc->name) {
		fprintf(stderr, "mford: no scenario %s\n", argv[2]);
		return 2;
	}
	actor_init("mford");
	return run(sc);
}
