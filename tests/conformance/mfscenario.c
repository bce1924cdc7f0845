// SPDX-License-Identifier: MIT
/*
 * tests/conformance/mfscenario.c: device-dax memory-failure scenarios whose
 * transcripts are compared with a real kernel's.
 *
 *   mfscenario list [-v]        scenario names (-v: early_kill and description)
 *   mfscenario run NAME         run one scenario, print its transcript
 *
 * It uses nothing but libc and the plain Linux ABI, so the same source
 * builds with `gcc -static -O2` for the oracle's QEMU guest (real Linux)
 * and under meson for `memfail run` (LD_PRELOAD shim).
 *
 * A scenario forks roles, coordinated with pipes: a poisoner that
 * madvise()s one page of its mapping, one or two bystanders that map the
 * same 4 MiB of the device and wait blocked in read() while it happens,
 * and an outsider that maps the 2 MiB after those (same device, never the
 * poisoned page).  Each role writes what it sees into shared memory as it
 * happens, so facts survive a role being killed; the main process prints
 * them role by role once everything has ended.
 *
 * Transcript lines are "ROLE: fact".  Addresses are offsets from the
 * role's mapping start.  The only lines with pids or raw addresses are
 * "role NAME pid=N map=0xADDR+0xLEN": the scripts use them to normalize
 * the kernel log and drop them before comparing.
 *
 * No role touches a poisoned page after the injection: Linux's
 * MADV_HWPOISON leaves the page readable, memfail models real poison and
 * makes that touch a consumption.  That difference is by design, so it is
 * kept out of the comparison.
 *
 * Environment:
 *   DAX2M, DAX4K             devices (default /dev/dax0.0, /dev/dax0.1)
 *   MFSCENARIO_EARLY_KILL    the vm.memory_failure_early_kill the caller set
 *                            (sysctl on Linux, --early-kill under memfail);
 *                            default 0.  The transcript prints it.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef MADV_HWPOISON
#define MADV_HWPOISON 100
#endif
#ifndef MADV_SOFT_OFFLINE
#define MADV_SOFT_OFFLINE 101
#endif
#ifndef PR_MCE_KILL
#define PR_MCE_KILL 33
#define PR_MCE_KILL_CLEAR 0
#define PR_MCE_KILL_SET 1
#define PR_MCE_KILL_LATE 0
#define PR_MCE_KILL_EARLY 1
#define PR_MCE_KILL_DEFAULT 2
#define PR_MCE_KILL_GET 34
#endif
#ifndef BUS_MCEERR_AR
#define BUS_MCEERR_AR 4
#define BUS_MCEERR_AO 5
#endif
#ifndef EHWPOISON
#define EHWPOISON 133
#endif

#define KiB 1024UL
#define MiB (1024UL * KiB)
#define PG 4096UL

#define CHUNK (4 * MiB)			/* what the poisoner and bystanders map */
#define SLOT (8 * MiB)			/* per scenario: CHUNK, then the outsider's 2 MiB */
#define POISON_OFF (MiB + 8 * KiB)	/* the page poisoned, as the oracle's probe */
#define SAME_UNIT_OFF (64 * KiB)	/* another page of the same 2 MiB */
#define OTHER_UNIT_OFF (3 * MiB)	/* a page of the other 2 MiB */
#define SETTLE_MS 200			/* after the injection, before touching */
#define SYNC_TIMEOUT_MS 60000

/* ------------------------------------------------------------------ */
/* scenarios                                                           */
/* ------------------------------------------------------------------ */

enum op {
	OP_HWPOISON,		/* madvise(MADV_HWPOISON) one page */
	OP_HWPOISON_TWICE,	/* the same page twice, then another of the same 2M */
	OP_SOFT_OFFLINE,	/* madvise(MADV_SOFT_OFFLINE) */
	OP_NONROOT,		/* setresuid(65534) after mapping, then both */
};

enum disp {
	DISP_HANDLER,		/* SA_SIGINFO handler */
	DISP_DEFAULT,		/* SIG_DFL */
	DISP_BLOCKED,		/* handler, but SIGBUS blocked (a bystander unblocks it later) */
};

enum mce {
	MCE_NONE,		/* never calls prctl(PR_MCE_KILL) */
	MCE_EARLY,
	MCE_LATE,
	MCE_DEFAULT,		/* PR_MCE_KILL_SET, PR_MCE_KILL_DEFAULT */
};

struct bystander {
	enum disp disp;
	enum mce mce;
	int no_prefault;	/* never fault the poisoned unit before injection */
};

#define MAX_BYST 2

struct scen {
	const char *name;
	const char *desc;
	int dax4k;		/* 0: the 2M-aligned device, 1: the 4K one */
	int slot;		/* which 8 MiB slot of the device (one per scenario) */
	int early_kill;		/* vm.memory_failure_early_kill it is meant for */
	enum op op;
	enum disp poisoner_disp;
	int nr_byst;
	struct bystander byst[MAX_BYST];
};

#define BY(d, m, n) { .disp = (d), .mce = (m), .no_prefault = (n) }
#define BY_PLAIN BY(DISP_HANDLER, MCE_NONE, 0)

static const struct scen scens[] = {
	{ "s1_devdax2m_madvise",
	  "align 2M: madvise one page; bystander with handler and default policy",
	  0, 1, 0, OP_HWPOISON, DISP_HANDLER, 1, { BY_PLAIN } },
	{ "s2_devdax4k_madvise",
	  "align 4K: madvise one page; bystander with handler and default policy",
	  1, 1, 0, OP_HWPOISON, DISP_HANDLER, 1, { BY_PLAIN } },
	{ "s3a_devdax2m_bystander_default_disposition",
	  "bystander keeps the default SIGBUS disposition, default policy",
	  0, 2, 0, OP_HWPOISON, DISP_HANDLER, 1, { BY(DISP_DEFAULT, MCE_NONE, 0) } },
	{ "s3b_devdax2m_prctl_early",
	  "bystander PR_MCE_KILL_EARLY with a handler",
	  0, 3, 0, OP_HWPOISON, DISP_HANDLER, 1, { BY(DISP_HANDLER, MCE_EARLY, 0) } },
	{ "s3c_devdax2m_prctl_early_default_disposition",
	  "bystander PR_MCE_KILL_EARLY, default SIGBUS disposition",
	  0, 4, 0, OP_HWPOISON, DISP_HANDLER, 1, { BY(DISP_DEFAULT, MCE_EARLY, 0) } },
	{ "s3d_devdax2m_prctl_late",
	  "bystander PR_MCE_KILL_LATE with a handler",
	  0, 5, 0, OP_HWPOISON, DISP_HANDLER, 1, { BY(DISP_HANDLER, MCE_LATE, 0) } },
	{ "s3e_devdax2m_sysctl_early",
	  "vm.memory_failure_early_kill=1, bystander without prctl, handler",
	  0, 6, 1, OP_HWPOISON, DISP_HANDLER, 1, { BY_PLAIN } },
	{ "s3f_devdax2m_sysctl_early_default_disposition",
	  "vm.memory_failure_early_kill=1, bystander without prctl, default disposition",
	  0, 7, 1, OP_HWPOISON, DISP_HANDLER, 1, { BY(DISP_DEFAULT, MCE_NONE, 0) } },
	{ "s3g_devdax2m_sysctl_early_prctl_late",
	  "vm.memory_failure_early_kill=1, bystander PR_MCE_KILL_LATE",
	  0, 8, 1, OP_HWPOISON, DISP_HANDLER, 1, { BY(DISP_HANDLER, MCE_LATE, 0) } },
	{ "s3h_devdax2m_sysctl_early_prctl_default",
	  "vm.memory_failure_early_kill=1, bystander PR_MCE_KILL_DEFAULT (follows the sysctl)",
	  0, 9, 1, OP_HWPOISON, DISP_HANDLER, 1, { BY(DISP_HANDLER, MCE_DEFAULT, 0) } },
	{ "s3i_devdax2m_early_not_faulted",
	  "bystander PR_MCE_KILL_EARLY that never faulted the poisoned 2M unit",
	  0, 10, 0, OP_HWPOISON, DISP_HANDLER, 1, { BY(DISP_HANDLER, MCE_EARLY, 1) } },
	{ "s3j_devdax4k_prctl_early",
	  "align 4K: bystander PR_MCE_KILL_EARLY with a handler",
	  1, 2, 0, OP_HWPOISON, DISP_HANDLER, 1, { BY(DISP_HANDLER, MCE_EARLY, 0) } },
	{ "s3k_devdax4k_early_not_faulted",
	  "align 4K: bystander PR_MCE_KILL_EARLY that faulted every page but the poisoned one",
	  1, 3, 0, OP_HWPOISON, DISP_HANDLER, 1, { BY(DISP_HANDLER, MCE_EARLY, 1) } },
	{ "s3l_devdax4k_sysctl_early_default_disposition",
	  "align 4K: vm.memory_failure_early_kill=1, bystander with default disposition",
	  1, 4, 1, OP_HWPOISON, DISP_HANDLER, 1, { BY(DISP_DEFAULT, MCE_NONE, 0) } },
	{ "s3m_devdax2m_two_bystanders",
	  "vm.memory_failure_early_kill=1: bystander1 without prctl, bystander2 PR_MCE_KILL_LATE",
	  0, 11, 1, OP_HWPOISON, DISP_HANDLER, 2,
	  { BY(DISP_HANDLER, MCE_NONE, 0), BY(DISP_HANDLER, MCE_LATE, 0) } },
	{ "s3n_devdax2m_early_sigbus_blocked",
	  "bystander PR_MCE_KILL_EARLY with SIGBUS blocked: AO waits for the unblock",
	  0, 12, 0, OP_HWPOISON, DISP_HANDLER, 1, { BY(DISP_BLOCKED, MCE_EARLY, 0) } },
	{ "s3o_devdax2m_poisoner_sigbus_blocked",
	  "poisoner has SIGBUS blocked: the action-required signal is forced",
	  0, 13, 0, OP_HWPOISON, DISP_BLOCKED, 1, { BY_PLAIN } },
	{ "s4_devdax2m_double_madvise",
	  "align 2M: madvise the same page twice, then another page of the same 2M",
	  0, 14, 0, OP_HWPOISON_TWICE, DISP_HANDLER, 1, { BY_PLAIN } },
	{ "s4_devdax4k_double_madvise",
	  "align 4K: madvise the same page twice, then another page of the same 2M",
	  1, 5, 0, OP_HWPOISON_TWICE, DISP_HANDLER, 1, { BY_PLAIN } },
	{ "s4b_devdax2m_double_madvise_early_bystander",
	  "as s4 on align 2M, with a PR_MCE_KILL_EARLY bystander",
	  0, 17, 0, OP_HWPOISON_TWICE, DISP_HANDLER, 1, { BY(DISP_HANDLER, MCE_EARLY, 0) } },
	{ "s4b_devdax4k_double_madvise_early_bystander",
	  "as s4 on align 4K, with a PR_MCE_KILL_EARLY bystander",
	  1, 7, 0, OP_HWPOISON_TWICE, DISP_HANDLER, 1, { BY(DISP_HANDLER, MCE_EARLY, 0) } },
	{ "s5_devdax2m_soft_offline",
	  "align 2M: madvise(MADV_SOFT_OFFLINE)",
	  0, 15, 0, OP_SOFT_OFFLINE, DISP_HANDLER, 1, { BY_PLAIN } },
	{ "s5_devdax4k_soft_offline",
	  "align 4K: madvise(MADV_SOFT_OFFLINE)",
	  1, 6, 0, OP_SOFT_OFFLINE, DISP_HANDLER, 1, { BY_PLAIN } },
	{ "s9_devdax2m_nonroot",
	  "map as root, setresuid(65534), then MADV_HWPOISON and MADV_SOFT_OFFLINE",
	  0, 16, 0, OP_NONROOT, DISP_HANDLER, 1, { BY_PLAIN } },
};

#define NR_SCENS (sizeof(scens) / sizeof(scens[0]))

/* ------------------------------------------------------------------ */
/* roles and their shared record                                       */
/* ------------------------------------------------------------------ */

enum phase { PH_SETUP, PH_MADVISE, PH_BLOCKED, PH_SETTLE, PH_UNBLOCK, PH_TOUCH, PH_DONE };

static const char *const phase_names[] = {
	[PH_SETUP] = "setup",
	[PH_MADVISE] = "madvise",
	[PH_BLOCKED] = "blocked",
	[PH_SETTLE] = "settle",
	[PH_UNBLOCK] = "unblock",
	[PH_TOUCH] = "touch",
	[PH_DONE] = "done",
};

#define MAX_ROLES (2 + MAX_BYST)
#define TEXT_SIZE 8192

struct role {
	char name[16];
	pid_t pid;
	uintptr_t base;		/* mapping start, 0 before mmap */
	size_t len;
	volatile int phase;
	size_t used;		/* bytes of text, reserved atomically */
	char text[TEXT_SIZE];
	int go[2];		/* main -> role */
	int ready[2];		/* role -> main */
};

static struct role *roles;	/* MAP_SHARED, MAX_ROLES of them */
static int nr_roles;
static struct role *me;		/* the role of this process */
static const struct scen *sc;
static sigjmp_buf touch_jb;

/* Append to our role's text; a signal handler may append in between. */
static void put(const char *s, size_t n)
{
	size_t at = __atomic_fetch_add(&me->used, n, __ATOMIC_SEQ_CST);

	if (at + n > TEXT_SIZE)
		return;
	memcpy(me->text + at, s, n);
}

static void say(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n;

	n = snprintf(buf, sizeof(buf), "%s: ", me->name);
	va_start(ap, fmt);
	n += vsnprintf(buf + n, sizeof(buf) - n - 1, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(buf) - 2)
		n = sizeof(buf) - 2;
	buf[n++] = '\n';
	put(buf, n);
}

static const char *errname(int e)
{
	static char buf[16];

	switch (e) {
	case EPERM: return "EPERM";
	case ENOENT: return "ENOENT";
	case EINTR: return "EINTR";
	case EIO: return "EIO";
	case ENXIO: return "ENXIO";
	case EBADF: return "EBADF";
	case EAGAIN: return "EAGAIN";
	case ENOMEM: return "ENOMEM";
	case EACCES: return "EACCES";
	case EFAULT: return "EFAULT";
	case EBUSY: return "EBUSY";
	case ENODEV: return "ENODEV";
	case EINVAL: return "EINVAL";
	case ENOSYS: return "ENOSYS";
	case EOPNOTSUPP: return "EOPNOTSUPP";
	case EHWPOISON: return "EHWPOISON";
	}
	snprintf(buf, sizeof(buf), "E%d", e);
	return buf;
}

static const char *signame(int sig)
{
	switch (sig) {
	case SIGBUS: return "SIGBUS";
	case SIGSEGV: return "SIGSEGV";
	case SIGKILL: return "SIGKILL";
	case SIGTERM: return "SIGTERM";
	case SIGABRT: return "SIGABRT";
	case SIGPIPE: return "SIGPIPE";
	case SIGALRM: return "SIGALRM";
	}
	return NULL;
}

static const char *codename(int sig, int code)
{
	if (sig == SIGBUS) {
		switch (code) {
		case BUS_ADRALN: return "BUS_ADRALN";
		case BUS_ADRERR: return "BUS_ADRERR";
		case BUS_OBJERR: return "BUS_OBJERR";
		case BUS_MCEERR_AR: return "BUS_MCEERR_AR";
		case BUS_MCEERR_AO: return "BUS_MCEERR_AO";
		}
	} else if (sig == SIGSEGV) {
		switch (code) {
		case SEGV_MAPERR: return "SEGV_MAPERR";
		case SEGV_ACCERR: return "SEGV_ACCERR";
		}
	}
	switch (code) {
	case SI_USER: return "SI_USER";
	case SI_KERNEL: return "SI_KERNEL";
	case SI_QUEUE: return "SI_QUEUE";
	case SI_TKILL: return "SI_TKILL";
	}
	return NULL;
}

/* async-signal-safe string building for the handler */
static size_t cat(char *b, size_t n, size_t cap, const char *s)
{
	while (*s && n < cap)
		b[n++] = *s++;
	return n;
}

static size_t cat_num(char *b, size_t n, size_t cap, unsigned long v, int hex, int neg)
{
	char t[24];
	int i = 0;

	if (hex)
		n = cat(b, n, cap, "0x");
	else if (neg)
		n = cat(b, n, cap, "-");
	do {
		t[i++] = "0123456789abcdef"[v % (hex ? 16 : 10)];
		v /= hex ? 16 : 10;
	} while (v);
	while (i && n < cap)
		b[n++] = t[--i];
	return n;
}

static size_t cat_int(char *b, size_t n, size_t cap, long v)
{
	return cat_num(b, n, cap, v < 0 ? -(unsigned long)v : (unsigned long)v, 0, v < 0);
}

static void on_signal(int sig, siginfo_t *si, void *uc)
{
	int saved = errno, phase = me->phase;
	uintptr_t a = (uintptr_t)si->si_addr;
	const char *s;
	char b[256];
	size_t n = 0, cap = sizeof(b) - 1;

	(void)uc;
	n = cat(b, n, cap, me->name);
	n = cat(b, n, cap, ": signal ");
	s = signame(sig);
	n = s ? cat(b, n, cap, s) : cat_int(b, n, cap, sig);
	n = cat(b, n, cap, " ");
	s = codename(sig, si->si_code);
	n = s ? cat(b, n, cap, s) : cat_int(b, n, cap, si->si_code);
	n = cat(b, n, cap, " addr=");
	if (me->base && a >= me->base && a < me->base + me->len) {
		n = cat(b, n, cap, "+");
		n = cat_num(b, n, cap, a - me->base, 1, 0);
	} else {
		n = cat(b, n, cap, a ? "outside-mapping" : "0");
	}
	n = cat(b, n, cap, " lsb=");
	/* si_addr_lsb is only defined for the machine-check codes */
	if (sig == SIGBUS && (si->si_code == BUS_MCEERR_AR || si->si_code == BUS_MCEERR_AO))
		n = cat_int(b, n, cap, si->si_addr_lsb);
	else
		n = cat(b, n, cap, "-");
	n = cat(b, n, cap, " phase=");
	n = cat(b, n, cap, phase_names[phase]);
	b[n++] = '\n';
	put(b, n);
	errno = saved;
	/* a touch would fault again on return: abandon it */
	if (phase == PH_TOUCH)
		siglongjmp(touch_jb, 1);
}

static void set_disposition(enum disp d)
{
	struct sigaction sa;
	sigset_t set;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	if (d == DISP_DEFAULT) {
		sa.sa_handler = SIG_DFL;
	} else {
		/* no SA_RESTART: a blocked read() returns EINTR and we loop */
		sa.sa_sigaction = on_signal;
		sa.sa_flags = SA_SIGINFO;
	}
	sigaction(SIGBUS, &sa, NULL);
	sigemptyset(&set);
	sigaddset(&set, SIGBUS);
	sigprocmask(d == DISP_BLOCKED ? SIG_BLOCK : SIG_UNBLOCK, &set, NULL);
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* role side of the pipes */
static void role_ready(void)
{
	ssize_t r;

	do {
		r = write(me->ready[1], "r", 1);
	} while (r < 0 && errno == EINTR);
}

static void role_wait_go(void)
{
	char c;
	ssize_t r;

	me->phase = PH_BLOCKED;
	do {
		r = read(me->go[0], &c, 1);
	} while (r < 0 && errno == EINTR);
	if (r <= 0)
		_exit(3);	/* main is gone */
	me->phase = PH_SETUP;
}

/* ------------------------------------------------------------------ */
/* memory                                                              */
/* ------------------------------------------------------------------ */

static const char *dev_path(void)
{
	const char *e = getenv(sc->dax4k ? "DAX4K" : "DAX2M");

	if (e && *e)
		return e;
	return sc->dax4k ? "/dev/dax0.1" : "/dev/dax0.0";
}

static unsigned long dev_align(void)
{
	return sc->dax4k ? 4 * KiB : 2 * MiB;
}

/* the word stored at the start of each page: a function of the device offset */
static uint64_t pattern(uint64_t devoff)
{
	return (devoff * 0x9e3779b97f4a7c15ULL) ^ 0x6d66736365ULL;
}

static uint64_t slot_off(void)
{
	return (uint64_t)sc->slot * SLOT;
}

/* open the device and map len bytes at slot offset + off; 0 on success */
static int map_dev(size_t off, size_t len)
{
	void *p;
	int fd;

	fd = open(dev_path(), O_RDWR);
	if (fd < 0) {
		say("open = -1 %s", errname(errno));
		return -1;
	}
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (off_t)(slot_off() + off));
	if (p == MAP_FAILED) {
		say("mmap(%luK at slot+0x%lx) = -1 %s", (unsigned long)(len / KiB),
		    (unsigned long)off, errname(errno));
		close(fd);
		return -1;
	}
	me->len = len;
	me->base = (uintptr_t)p;
	say("mmap(%luK at slot+0x%lx, MAP_SHARED) = ok, %saligned to %luK", (unsigned long)(len / KiB),
	    (unsigned long)off, me->base % dev_align() ? "not " : "", dev_align() / KiB);
	return 0;
}

/* Load the first word of a page; says whether it is intact or what hit it. */
static void touch(size_t off, uint64_t devoff)
{
	volatile uint64_t *p = (volatile uint64_t *)(me->base + off);
	uint64_t v;

	me->phase = PH_TOUCH;
	if (!sigsetjmp(touch_jb, 1)) {
		v = *p;
		me->phase = PH_SETUP;
		say("touch +0x%lx = %s", (unsigned long)off, v == pattern(devoff) ? "intact" : "changed");
	} else {
		me->phase = PH_SETUP;
		say("touch +0x%lx = signal", (unsigned long)off);
	}
}

static int is_poisoned(size_t off)
{
	if (sc->op == OP_SOFT_OFFLINE || sc->op == OP_NONROOT)
		return 0;
	if (off / PG == POISON_OFF / PG)
		return 1;
	return sc->op == OP_HWPOISON_TWICE && off / PG == SAME_UNIT_OFF / PG;
}

/* after the injection: pages that Linux and memfail both define as intact */
static void touch_healthy(void)
{
	static const size_t offs[] = { SAME_UNIT_OFF, POISON_OFF, POISON_OFF + PG, OTHER_UNIT_OFF };
	size_t i;

	for (i = 0; i < sizeof(offs) / sizeof(offs[0]); i++)
		if (!is_poisoned(offs[i]))
			touch(offs[i], slot_off() + offs[i]);
}

static void do_madvise(size_t off, int advice)
{
	const char *name = advice == MADV_HWPOISON ? "MADV_HWPOISON" :
			   advice == MADV_SOFT_OFFLINE ? "MADV_SOFT_OFFLINE" : "?";
	int r, e;

	me->phase = PH_MADVISE;
	r = madvise((void *)(me->base + off), PG, advice);
	e = errno;
	me->phase = PH_SETUP;
	if (r)
		say("madvise(+0x%lx, 4K, %s) = %d %s", (unsigned long)off, name, r, errname(e));
	else
		say("madvise(+0x%lx, 4K, %s) = 0", (unsigned long)off, name);
}

static void do_prctl_get(void)
{
	int g = prctl(PR_MCE_KILL_GET, 0, 0, 0, 0);

	if (g < 0)
		say("prctl(PR_MCE_KILL_GET) = -1 %s", errname(errno));
	else
		say("prctl(PR_MCE_KILL_GET) = %s", g == PR_MCE_KILL_EARLY ? "PR_MCE_KILL_EARLY" :
		    g == PR_MCE_KILL_LATE ? "PR_MCE_KILL_LATE" :
		    g == PR_MCE_KILL_DEFAULT ? "PR_MCE_KILL_DEFAULT" : "other");
}

/* ------------------------------------------------------------------ */
/* the roles                                                           */
/* ------------------------------------------------------------------ */

static void poisoner(void)
{
	size_t off;
	int r;

	set_disposition(sc->poisoner_disp);
	if (sc->poisoner_disp == DISP_BLOCKED)
		say("SIGBUS blocked");
	if (map_dev(0, CHUNK)) {
		role_ready();
		_exit(1);
	}
	for (off = 0; off < CHUNK; off += PG)
		*(volatile uint64_t *)(me->base + off) = pattern(slot_off() + off);
	role_ready();
	role_wait_go();

	switch (sc->op) {
	case OP_HWPOISON:
		do_madvise(POISON_OFF, MADV_HWPOISON);
		break;
	case OP_HWPOISON_TWICE:
		/*
		 * SIGBUS is not a queued signal: give a bystander time to
		 * take one AO before the next injection may send another.
		 */
		do_madvise(POISON_OFF, MADV_HWPOISON);
		sleep_ms(SETTLE_MS);
		do_madvise(POISON_OFF, MADV_HWPOISON);
		sleep_ms(SETTLE_MS);
		do_madvise(SAME_UNIT_OFF, MADV_HWPOISON);
		break;
	case OP_SOFT_OFFLINE:
		do_madvise(POISON_OFF, MADV_SOFT_OFFLINE);
		break;
	case OP_NONROOT:
		/* the group first: setresgid needs the privilege we drop */
		r = setresgid(65534, 65534, 65534);
		r |= setresuid(65534, 65534, 65534);
		say("setresuid(65534) = %d", r ? -1 : 0);
		do_madvise(POISON_OFF, MADV_HWPOISON);
		do_madvise(POISON_OFF, MADV_SOFT_OFFLINE);
		break;
	}
	role_ready();
	role_wait_go();
	touch_healthy();
	me->phase = PH_DONE;
	role_ready();
	_exit(0);
}

static void bystander(const struct bystander *b)
{
	static const char *const disp_names[] = { "handler", "default", "handler, SIGBUS blocked" };
	static const char *const mce_names[] = {
		NULL, "PR_MCE_KILL_EARLY", "PR_MCE_KILL_LATE", "PR_MCE_KILL_DEFAULT"
	};
	static const int mce_vals[] = { 0, PR_MCE_KILL_EARLY, PR_MCE_KILL_LATE, PR_MCE_KILL_DEFAULT };
	size_t off, skip_lo = 0, skip_hi = 0, n = 0, bad = 0;
	sigset_t set;

	set_disposition(b->disp);
	say("SIGBUS disposition: %s", disp_names[b->disp]);
	if (b->mce != MCE_NONE) {
		int r = prctl(PR_MCE_KILL, PR_MCE_KILL_SET, mce_vals[b->mce], 0, 0);

		if (r)
			say("prctl(PR_MCE_KILL, PR_MCE_KILL_SET, %s) = -1 %s", mce_names[b->mce],
			    errname(errno));
		else
			say("prctl(PR_MCE_KILL, PR_MCE_KILL_SET, %s) = 0", mce_names[b->mce]);
	}
	do_prctl_get();
	if (map_dev(0, CHUNK)) {
		role_ready();
		_exit(1);
	}
	/* fault in the mapping, all of it or all but the poisoned unit */
	if (b->no_prefault) {
		skip_lo = POISON_OFF & ~(dev_align() - 1);
		skip_hi = skip_lo + dev_align();
	}
	for (off = 0; off < CHUNK; off += PG) {
		if (off >= skip_lo && off < skip_hi)
			continue;
		n++;
		if (*(volatile uint64_t *)(me->base + off) != pattern(slot_off() + off))
			bad++;
	}
	if (b->no_prefault)
		say("faulted %zu pages, not [+0x%zx, +0x%zx), %zu changed", n, skip_lo, skip_hi, bad);
	else
		say("faulted %zu pages, %zu changed", n, bad);
	role_ready();
	role_wait_go();

	/*
	 * The injection is over: Linux queues the early-kill signal before
	 * madvise() returns, so one that shows up only now came late.
	 */
	me->phase = PH_SETTLE;
	sleep_ms(SETTLE_MS);
	if (b->disp == DISP_BLOCKED) {
		sigpending(&set);
		say("SIGBUS pending while blocked: %s", sigismember(&set, SIGBUS) ? "yes" : "no");
		me->phase = PH_UNBLOCK;
		sigemptyset(&set);
		sigaddset(&set, SIGBUS);
		sigprocmask(SIG_UNBLOCK, &set, NULL);
		me->phase = PH_SETTLE;
	}
	me->phase = PH_SETUP;
	touch_healthy();
	me->phase = PH_DONE;
	role_ready();
	_exit(0);
}

/* maps the 2 MiB after the poisoner's 4 MiB: same device, never the page */
static void outsider(void)
{
	size_t off;
	int r;

	set_disposition(DISP_HANDLER);
	/* early kill: if it were taken for a mapper, it would be told */
	r = prctl(PR_MCE_KILL, PR_MCE_KILL_SET, PR_MCE_KILL_EARLY, 0, 0);
	if (r)
		say("prctl(PR_MCE_KILL, PR_MCE_KILL_SET, PR_MCE_KILL_EARLY) = -1 %s", errname(errno));
	else
		say("prctl(PR_MCE_KILL, PR_MCE_KILL_SET, PR_MCE_KILL_EARLY) = 0");
	if (map_dev(CHUNK, 2 * MiB)) {
		role_ready();
		_exit(1);
	}
	for (off = 0; off < 2 * MiB; off += PG)
		*(volatile uint64_t *)(me->base + off) = pattern(slot_off() + CHUNK + off);
	role_ready();
	role_wait_go();
	me->phase = PH_SETTLE;
	sleep_ms(SETTLE_MS);
	me->phase = PH_SETUP;
	touch(0, slot_off() + CHUNK);
	touch(POISON_OFF, slot_off() + CHUNK + POISON_OFF);
	me->phase = PH_DONE;
	role_ready();
	_exit(0);
}

/* ------------------------------------------------------------------ */
/* main: fork, sequence, report                                        */
/* ------------------------------------------------------------------ */

static struct role *spawn(const char *name, void (*fn)(const void *), const void *arg)
{
	struct role *r = &roles[nr_roles++];
	pid_t pid;

	snprintf(r->name, sizeof(r->name), "%s", name);
	if (pipe(r->go) || pipe(r->ready)) {
		printf("main: pipe = -1 %s\n", errname(errno));
		exit(1);
	}
	fflush(stdout);
	/* the child must not store its 0 into the shared record */
	pid = fork();
	if (pid < 0) {
		printf("main: fork = -1 %s\n", errname(errno));
		exit(1);
	}
	if (!pid) {
		me = r;
		close(r->go[1]);
		close(r->ready[0]);
		fn(arg);
		_exit(0);
	}
	r->pid = pid;
	close(r->go[0]);
	close(r->ready[1]);
	return r;
}

static void run_poisoner(const void *arg)
{
	(void)arg;
	poisoner();
}

static void run_bystander(const void *arg)
{
	bystander(arg);
}

static void run_outsider(const void *arg)
{
	(void)arg;
	outsider();
}

/* 0: the role is ready; -1: it ended (or timed out) instead */
static int await(struct role *r)
{
	struct pollfd pfd = { .fd = r->ready[0], .events = POLLIN };
	char c;
	int n;

	do {
		n = poll(&pfd, 1, SYNC_TIMEOUT_MS);
	} while (n < 0 && errno == EINTR);
	if (n == 0) {
		/* stuck: kill it so that its end can still be reported */
		printf("main: timeout waiting for %s, SIGKILL\n", r->name);
		kill(r->pid, SIGKILL);
		return -1;
	}
	return read(r->ready[0], &c, 1) == 1 ? 0 : -1;
}

static void go(struct role *r)
{
	/* a dead role's pipe gives EPIPE (SIGPIPE is ignored) */
	if (write(r->go[1], "g", 1) < 0) {
		/* it ended; its status says how */
	}
}

static void report(struct role *r)
{
	int st, sig, w;
	const char *s;

	/* reap first: its text is complete only once it has ended */
	w = waitpid(r->pid, &st, 0);
	printf("role %s pid=%d map=%#lx+%#lx\n", r->name, (int)r->pid, (unsigned long)r->base,
	       (unsigned long)r->len);
	fwrite(r->text, 1, r->used < TEXT_SIZE ? r->used : TEXT_SIZE, stdout);
	if (r->used > TEXT_SIZE)
		printf("%s: (transcript truncated)\n", r->name);
	if (w < 0) {
		printf("%s: end unknown (%s)\n", r->name, errname(errno));
	} else if (WIFEXITED(st)) {
		printf("%s: end exited %d\n", r->name, WEXITSTATUS(st));
	} else if (WIFSIGNALED(st)) {
		sig = WTERMSIG(st);
		s = signame(sig);
		if (s)
			printf("%s: end killed by %s in phase %s\n", r->name, s, phase_names[r->phase]);
		else
			printf("%s: end killed by signal %d in phase %s\n", r->name, sig,
			       phase_names[r->phase]);
	}
}

static int run(const struct scen *s)
{
	struct role *p, *b[MAX_BYST], *o;
	const char *ek = getenv("MFSCENARIO_EARLY_KILL");
	int early_kill = ek && *ek ? atoi(ek) : 0;
	char name[16];
	int i;

	sc = s;
	if (early_kill != s->early_kill) {
		printf("error: %s is meant for vm.memory_failure_early_kill=%d, "
		       "MFSCENARIO_EARLY_KILL says %d\n", s->name, s->early_kill, early_kill);
		return 2;
	}
	setvbuf(stdout, NULL, _IOFBF, 1 << 16);
	printf("scenario %s\n", s->name);
	printf("desc %s\n", s->desc);
	printf("device align=%s slot=%d\n", s->dax4k ? "4K" : "2M", s->slot);
	printf("early_kill %d\n", early_kill);

	roles = mmap(NULL, sizeof(*roles) * MAX_ROLES, PROT_READ | PROT_WRITE,
		     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (roles == MAP_FAILED) {
		printf("main: mmap = -1 %s\n", errname(errno));
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);

	/* the poisoner writes the data, then the others map and check it */
	p = spawn("poisoner", run_poisoner, NULL);
	await(p);
	for (i = 0; i < s->nr_byst; i++) {
		if (s->nr_byst > 1)
			snprintf(name, sizeof(name), "bystander%d", (i + 1) % 100);
		else
			snprintf(name, sizeof(name), "bystander");
		b[i] = spawn(name, run_bystander, &s->byst[i]);
		await(b[i]);
	}
	o = spawn("outsider", run_outsider, NULL);
	await(o);

	/* inject, while the others are blocked in read() */
	go(p);
	await(p);
	/* then let the others look, one after the other */
	for (i = 0; i < s->nr_byst; i++) {
		go(b[i]);
		await(b[i]);
	}
	go(o);
	await(o);
	go(p);
	await(p);

	for (i = 0; i < nr_roles; i++)
		report(&roles[i]);
	fflush(stdout);
	return 0;
}

int main(int argc, char **argv)
{
	size_t i;

	if (argc >= 2 && !strcmp(argv[1], "list")) {
		int verbose = argc >= 3 && !strcmp(argv[2], "-v");

		for (i = 0; i < NR_SCENS; i++) {
			if (verbose)
				printf("%s early_kill=%d %s\n", scens[i].name, scens[i].early_kill,
				       scens[i].desc);
			else
				printf("%s\n", scens[i].name);
		}
		return 0;
	}
	if (argc == 3 && !strcmp(argv[1], "run")) {
		for (i = 0; i < NR_SCENS; i++)
			if (!strcmp(argv[2], scens[i].name))
				return run(&scens[i]);
		printf("error: no scenario %s\n", argv[2]);
		return 2;
	}
	fprintf(stderr, "usage: mfscenario list [-v] | mfscenario run NAME\n");
	return 2;
}
