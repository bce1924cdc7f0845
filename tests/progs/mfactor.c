// SPDX-License-Identifier: MIT
/*
 * tests/progs/mfactor.c: a scriptable process for memfail's tests.
 *
 * It reads one command per line on stdin and answers one line on stdout,
 * "ok key=value ..." or "err errno=N" or "sigbus ...".  It uses nothing
 * but libc and the plain Linux ABI (open, mmap, madvise, prctl), so the
 * same binary runs under `memfail run` and, built static, on a real
 * kernel with real /dev/dax devices.
 *
 * Commands:
 *   open PATH [ro|wo]              open a device; later mmaps use it
 *   fdio read|readv|preadv|sendfile   one 512-byte transfer from the open
 *                                  device (sendfile: into a pipe)
 *   mmap LEN OFF [private] [fixed=ADDR]   map; the mapping gets the next index
 *   munmap IDX OFF LEN             unmap part of mapping IDX
 *   fill IDX BYTE                  store BYTE into every byte of the mapping
 *   handler longjmp|none|block|ignore|signal-ignore   SIGBUS disposition
 *                                  (default longjmp; signal-ignore uses signal())
 *   prctl set early|late|default|N / prctl clear / prctl get
 *   touch IDX OFF                  load one byte
 *   store IDX OFF BYTE             store one byte
 *   scan IDX                       load one byte of every 4 KiB page
 *   madvise IDX OFF LEN hwpoison|soft_offline|N
 *   signals                        the asynchronous SIGBUSes so far
 *   wait-signal MS                 block in read() until one arrives
 *   rcvwait MS                     block in a socket read with an MS timeout;
 *                                  errno says whether a signal cut it short
 *   thread prctl early|late|default   a thread that sets its policy and sleeps
 *   pagemap IDX OFF                is the page present in our page tables
 *   fork                           a child actor; "child CMD" talks to it
 *   setuid UID                     setresuid(UID, UID, UID)
 *   segv ignore|default            SIGSEGV disposition
 *   raise SIG                      send ourselves a signal
 *   mapmany N LEN OFF              map the device N more times (kept, unnamed)
 *   forkstress N [spawn]           fork N children while a thread opens and
 *                                  closes files, each child unmapping
 *                                  mapping 0 and exiting; with spawn, each
 *                                  fork() right after starting a thread
 *                                  (that stays)
 *   fwrite PATH OFF LEN BYTE       write LEN bytes of BYTE (creating the file), fsync
 *   fread PATH OFF LEN             one pread: ret, errno, the first byte
 *   fpunch PATH OFF LEN            fallocate(PUNCH_HOLE | KEEP_SIZE)
 *   pid | sleep MS | exit CODE
 * and the ordinary-memory commands of mfactor-mem.c.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/sendfile.h>
#include <sys/uio.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef MADV_HWPOISON
#define MADV_HWPOISON 100
#endif
#ifndef MADV_SOFT_OFFLINE
#define MADV_SOFT_OFFLINE 101
#endif

#include "mfactor.h"

struct mapping maps[MAX_MAPS];
int nr_maps;
static int cur_fd = -1;

struct sig_rec sigs[MAX_SIGS];
static sig_atomic_t nr_sigs;

/* records are published with a release store by the handler */
int sigs_seen(void)
{
	return __atomic_load_n(&nr_sigs, __ATOMIC_ACQUIRE);
}
volatile sig_atomic_t reported_sigs;
static sig_atomic_t phase_touch;	/* a load or store is in progress */
const char *phase = "idle";	/* read by handlers on any thread */
static sigjmp_buf touch_jb;
static int wake_pipe[2];

pid_t gettid_(void)
{
	return (pid_t)syscall(SYS_gettid);
}

static void on_sigbus(int sig, siginfo_t *si, void *uc)
{
	int i = sigs_seen();

	(void)sig;
	(void)uc;
	if (i < MAX_SIGS) {
		sigs[i].code = si->si_code;
		sigs[i].addr = (uintptr_t)si->si_addr;
		sigs[i].lsb = (si->si_code == 4 || si->si_code == 5) ? si->si_addr_lsb : -1;
		sigs[i].tid = gettid_();
		strncpy(sigs[i].phase, __atomic_load_n(&phase, __ATOMIC_RELAXED),
			sizeof(sigs[i].phase) - 1);
		/* the record is complete before the main thread can see it */
		__atomic_store_n(&nr_sigs, i + 1, __ATOMIC_RELEASE);
	}
	if (write(wake_pipe[1], "s", 1) < 0) {
		/* nothing to do in a handler */
	}
	/* an access would fault again: leave it; other phases return */
	if (__atomic_load_n(&phase_touch, __ATOMIC_RELAXED))
		siglongjmp(touch_jb, 1);
}

/* Describe an address as mapping index and offset. */
static void where(uintptr_t a, char *buf, size_t n)
{
	int i;

	for (i = 0; i < nr_maps; i++) {
		if (maps[i].addr && a >= (uintptr_t)maps[i].addr &&
		    a < (uintptr_t)maps[i].addr + maps[i].len) {
			snprintf(buf, n, "map=%d addr_off=%#lx", i, (unsigned long)(a - (uintptr_t)maps[i].addr));
			return;
		}
	}
	snprintf(buf, n, "map=-1 addr=%#lx", (unsigned long)a);
}

void sig_text(const struct sig_rec *s, char *buf, size_t n)
{
	char w[64];

	where(s->addr, w, sizeof(w));
	snprintf(buf, n, "code=%d %s lsb=%d tid=%d phase=%s", s->code, w, s->lsb, (int)s->tid,
		 s->phase);
}

static void set_handler(const char *mode)
{
	struct sigaction sa;
	sigset_t set;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&set);
	sigaddset(&set, SIGBUS);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	if (!strcmp(mode, "signal-ignore")) {
		signal(SIGBUS, SIG_IGN);
		return;
	}
	if (!strcmp(mode, "none")) {
		sa.sa_handler = SIG_DFL;
	} else if (!strcmp(mode, "ignore")) {
		sa.sa_handler = SIG_IGN;
	} else {
		sa.sa_sigaction = on_sigbus;
		sa.sa_flags = SA_SIGINFO | SA_NODEFER;
	}
	sigaction(SIGBUS, &sa, NULL);
	if (!strcmp(mode, "block"))
		sigprocmask(SIG_BLOCK, &set, NULL);
}

struct mapping *get_map(const char *idx)
{
	int i = atoi(idx);

	if (i < 0 || i >= nr_maps || !maps[i].addr)
		return NULL;
	return &maps[i];
}

static int parse_advice(const char *s)
{
	if (!strcmp(s, "hwpoison"))
		return MADV_HWPOISON;
	if (!strcmp(s, "soft_offline"))
		return MADV_SOFT_OFFLINE;
	return atoi(s);
}

/* arg: 0 late, 1 early, 2 default (PF_MCE_PROCESS cleared) */
static void *thread_main(void *arg)
{
	long which = (long)arg;

	prctl(PR_MCE_KILL, PR_MCE_KILL_SET, which == 2 ? PR_MCE_KILL_DEFAULT :
	      which ? PR_MCE_KILL_EARLY : PR_MCE_KILL_LATE, 0, 0);
	for (;;)
		pause();
	return NULL;
}

/* Access one byte; reports the value, or the SIGBUS it raised. */
void access_byte(char *p, int store, int byte, char *out, size_t n)
{
	int before = sigs_seen();

	__atomic_store_n(&phase, store ? "store" : "touch", __ATOMIC_RELAXED);
	__atomic_store_n(&phase_touch, 1, __ATOMIC_SEQ_CST);
	if (!sigsetjmp(touch_jb, 1)) {
		if (store) {
			*(volatile char *)p = (char)byte;
			snprintf(out, n, "ok");
		} else {
			snprintf(out, n, "ok value=%#x", (unsigned char)*(volatile char *)p);
		}
	} else {
		char t[160];

		sig_text(&sigs[before < MAX_SIGS ? before : MAX_SIGS - 1], t, sizeof(t));
		snprintf(out, n, "sigbus %s", t);
		reported_sigs = sigs_seen();
	}
	__atomic_store_n(&phase_touch, 0, __ATOMIC_SEQ_CST);
	__atomic_store_n(&phase, "idle", __ATOMIC_RELAXED);
}

static void *closer_main(void *arg)
{
	(void)arg;
	for (;;) {
		int fd = open("/dev/null", O_RDONLY);

		if (fd >= 0)
			close(fd);
	}
	return NULL;
}

static void *parked_main(void *arg)
{
	(void)arg;
	for (;;)
		pause();
	return NULL;
}

/* fork() while another thread is inside the C library and the shim, or
 * (spawn) just being started */
static void fork_stress(int n, bool spawn, char *out, size_t len)
{
	pthread_attr_t attr;
	pthread_t t;
	int i, hung = 0;

	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 256 * 1024);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_create(&t, NULL, closer_main, NULL);
	for (i = 0; i < n; i++) {
		int status, waited = 0;
		pid_t pid;

		if (spawn)
			pthread_create(&t, &attr, parked_main, NULL);
		pid = fork();

		if (!pid) {
			close(100);
			if (nr_maps)
				munmap(maps[0].addr, maps[0].len);
			_exit(0);
		}
		/* a child that does not end within 5 s is stuck */
		while (waitpid(pid, &status, WNOHANG) == 0 && waited < 5000) {
			usleep(1000);
			waited++;
		}
		if (waited >= 5000) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			hung++;
			/* a hang that repeats: three tell enough */
			if (hung >= 3) {
				i++;
				break;
			}
		}
	}
	pthread_attr_destroy(&attr);
	snprintf(out, len, "ok forks=%d hung=%d", i, hung);
}

static int child_to = -1, child_from = -1;
static pid_t child_pid;


static void relay_child(const char *cmd, char *out, size_t n)
{
	char buf[1024];
	ssize_t r;
	size_t len = 0;

	if (child_to < 0) {
		snprintf(out, n, "err no-child");
		return;
	}
	dprintf(child_to, "%s\n", cmd);
	while (len < sizeof(buf) - 1) {
		r = read(child_from, buf + len, 1);
		/* an AO to us while the child works: read on */
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			int status;

			waitpid(child_pid, &status, 0);
			if (WIFSIGNALED(status))
				snprintf(out, n, "dead signal=%d", WTERMSIG(status));
			else
				snprintf(out, n, "dead exit=%d", WEXITSTATUS(status));
			child_to = child_from = -1;
			return;
		}
		if (buf[len] == '\n')
			break;
		len++;
	}
	buf[len] = '\0';
	snprintf(out, n, "%s", buf);
}

/* the descriptors a forked actor serves on (execserve keeps them) */
int serve_in_fd = 0, serve_out_fd = 1;

void actor_serve(FILE *in, FILE *outf)
{
	char line[1024], out[2048];

	for (;;) {
		errno = 0;
		if (!fgets(line, sizeof(line), in)) {
			/* a signal (an AO) interrupted the read: read on */
			if (errno == EINTR) {
				clearerr(in);
				continue;
			}
			break;
		}
		line[strcspn(line, "\n")] = '\0';
		do_command(line, out, sizeof(out));
		fprintf(outf, "%s\n", out);
		fflush(outf);
	}
}

static void do_fork(char *out, size_t n)
{
	int to[2], from[2];
	pid_t pid;

	if (pipe(to) || pipe(from)) {
		snprintf(out, n, "err errno=%d", errno);
		return;
	}
	fflush(stdout);
	pid = fork();
	if (pid < 0) {
		snprintf(out, n, "err errno=%d", errno);
		return;
	}
	if (!pid) {
		FILE *in = fdopen(to[0], "r"), *o = fdopen(from[1], "w");

		close(to[1]);
		close(from[0]);
		__atomic_store_n(&nr_sigs, 0, __ATOMIC_RELEASE);
		reported_sigs = 0;
		serve_in_fd = to[0];
		serve_out_fd = from[1];
		actor_serve(in, o);
		_exit(0);
	}
	close(to[0]);
	close(from[1]);
	child_to = to[1];
	child_from = from[0];
	child_pid = pid;
	snprintf(out, n, "ok pid=%d", (int)pid);
}

void do_command(char *line, char *out, size_t n)
{
	char *argv[MAX_ARGS] = { 0 }, *save = NULL, *tok;
	int argc = 0;

	if (!strncmp(line, "child ", 6)) {
		relay_child(line + 6, out, n);
		return;
	}
	for (tok = strtok_r(line, " ", &save); tok && argc < MAX_ARGS; tok = strtok_r(NULL, " ", &save))
		argv[argc++] = tok;
	if (!argc) {
		snprintf(out, n, "err empty");
		return;
	}
	errno = 0;
	if (!strcmp(argv[0], "open") && argc >= 2) {
		int ro = argc > 2 && !strcmp(argv[2], "ro");
		int wo = argc > 2 && !strcmp(argv[2], "wo");
		int fd = open(argv[1], ro ? O_RDONLY : wo ? O_WRONLY : O_RDWR);

		if (fd < 0) {
			snprintf(out, n, "err errno=%d", errno);
			return;
		}
		cur_fd = fd;
		snprintf(out, n, "ok fd=%d", fd);
	} else if (!strcmp(argv[0], "fdio") && argc >= 2) {
		static char buf[512];
		struct iovec iov = { buf, sizeof(buf) };
		ssize_t r = -1;
		int pfd[2];

		errno = 0;
		if (!strcmp(argv[1], "read")) {
			r = read(cur_fd, buf, sizeof(buf));
		} else if (!strcmp(argv[1], "readv")) {
			r = readv(cur_fd, &iov, 1);
		} else if (!strcmp(argv[1], "preadv")) {
			r = preadv(cur_fd, &iov, 1, 0);
		} else if (!strcmp(argv[1], "sendfile") && !pipe(pfd)) {
			r = sendfile(pfd[1], cur_fd, NULL, sizeof(buf));
			close(pfd[0]);
			close(pfd[1]);
		}
		snprintf(out, n, "ok ret=%zd errno=%d", r, r < 0 ? errno : 0);
	} else if (!strcmp(argv[0], "mmap") && argc >= 3) {
		size_t len = strtoull(argv[1], NULL, 0);
		off_t off = (off_t)strtoull(argv[2], NULL, 0);
		int flags = MAP_SHARED, prot = PROT_READ | PROT_WRITE, i;
		void *hint = NULL, *p;
		unsigned long a;

		for (i = 3; i < argc; i++) {
			if (!strcmp(argv[i], "private"))
				flags = MAP_PRIVATE;
			else if (!strncmp(argv[i], "fixed=", 6)) {
				hint = (void *)strtoul(argv[i] + 6, NULL, 0);
				flags |= MAP_FIXED;
			} else if (!strcmp(argv[i], "sync"))
				flags = MAP_SHARED_VALIDATE | MAP_SYNC;
			else if (!strcmp(argv[i], "ro"))
				prot = PROT_READ;
		}
		if (nr_maps == MAX_MAPS) {
			snprintf(out, n, "err too-many");
			return;
		}
		p = mmap(hint, len, prot, flags, cur_fd, off);
		if (p == MAP_FAILED) {
			snprintf(out, n, "err errno=%d", errno);
			return;
		}
		maps[nr_maps].addr = p;
		maps[nr_maps].len = len;
		maps[nr_maps].fd = cur_fd;
		a = (unsigned long)p;
		snprintf(out, n, "ok idx=%d addr=%#lx align=%d", nr_maps, a, __builtin_ctzl(a));
		nr_maps++;
	} else if (!strcmp(argv[0], "munmap") && argc >= 4) {
		struct mapping *m = get_map(argv[1]);

		if (!m) {
			snprintf(out, n, "err no-map");
			return;
		}
		if (munmap(m->addr + strtoull(argv[2], NULL, 0), strtoull(argv[3], NULL, 0)))
			snprintf(out, n, "err errno=%d", errno);
		else
			snprintf(out, n, "ok");
	} else if (!strcmp(argv[0], "fill") && argc >= 3) {
		struct mapping *m = get_map(argv[1]);

		if (!m) {
			snprintf(out, n, "err no-map");
			return;
		}
		memset(m->addr, (int)strtol(argv[2], NULL, 0), m->len);
		snprintf(out, n, "ok");
	} else if (!strcmp(argv[0], "handler") && argc >= 2) {
		set_handler(argv[1]);
		snprintf(out, n, "ok");
	} else if (!strcmp(argv[0], "prctl") && argc >= 2) {
		int r;

		if (!strcmp(argv[1], "get")) {
			r = prctl(PR_MCE_KILL_GET, 0, 0, 0, 0);
		} else if (!strcmp(argv[1], "clear")) {
			r = prctl(PR_MCE_KILL, PR_MCE_KILL_CLEAR, 0, 0, 0);
		} else if (!strcmp(argv[1], "set") && argc >= 3) {
			unsigned long v = !strcmp(argv[2], "early") ? PR_MCE_KILL_EARLY :
					  !strcmp(argv[2], "late") ? PR_MCE_KILL_LATE :
					  !strcmp(argv[2], "default") ? PR_MCE_KILL_DEFAULT :
					  strtoul(argv[2], NULL, 0);
			r = prctl(PR_MCE_KILL, PR_MCE_KILL_SET, v, argc > 3 ? strtoul(argv[3], NULL, 0) : 0, 0);
		} else {
			snprintf(out, n, "err usage");
			return;
		}
		snprintf(out, n, "ok ret=%d errno=%d", r, r < 0 ? errno : 0);
	} else if ((!strcmp(argv[0], "touch") && argc >= 3) ||
		   (!strcmp(argv[0], "store") && argc >= 4)) {
		struct mapping *m = get_map(argv[1]);
		size_t off = strtoull(argv[2], NULL, 0);

		if (!m || off >= m->len) {
			snprintf(out, n, "err no-map");
			return;
		}
		access_byte(m->addr + off, argv[0][0] == 's',
			    argc > 3 ? (int)strtol(argv[3], NULL, 0) : 0, out, n);
	} else if (!strcmp(argv[0], "scan") && argc >= 2) {
		struct mapping *m = get_map(argv[1]);
		size_t off, bad = 0, first = (size_t)-1;
		char tmp[256];

		if (!m) {
			snprintf(out, n, "err no-map");
			return;
		}
		for (off = 0; off < m->len; off += 4096) {
			access_byte(m->addr + off, 0, 0, tmp, sizeof(tmp));
			if (!strncmp(tmp, "sigbus", 6)) {
				bad++;
				if (first == (size_t)-1)
					first = off;
			}
		}
		snprintf(out, n, "ok pages=%zu faulted=%zu first=%#zx", m->len / 4096, bad,
			 bad ? first : 0);
	} else if (!strcmp(argv[0], "madvise") && argc >= 5) {
		struct mapping *m = get_map(argv[1]);
		int before = sigs_seen(), r, e;
		char t[200] = "";

		if (!m) {
			snprintf(out, n, "err no-map");
			return;
		}
		__atomic_store_n(&phase, "madvise", __ATOMIC_RELAXED);
		r = madvise(m->addr + strtoull(argv[2], NULL, 0), strtoull(argv[3], NULL, 0),
			    parse_advice(argv[4]));
		e = r < 0 ? errno : 0;
		__atomic_store_n(&phase, "idle", __ATOMIC_RELAXED);
		if (sigs_seen() > before) {
			sig_text(&sigs[before], t, sizeof(t));
			reported_sigs = sigs_seen();
		}
		snprintf(out, n, "ok ret=%d errno=%d during=%d %s", r, e, (int)(sigs_seen() - before), t);
	} else if (!strcmp(argv[0], "signals")) {
		int i, len = snprintf(out, n, "ok n=%d", (int)(sigs_seen() - reported_sigs));

		for (i = reported_sigs; i < sigs_seen() && len < (int)n - 200; i++) {
			char t[200];

			sig_text(&sigs[i], t, sizeof(t));
			len += snprintf(out + len, n - len, " [%s]", t);
		}
		reported_sigs = sigs_seen();
	} else if (!strcmp(argv[0], "wait-signal") && argc >= 2) {
		struct pollfd p = { .fd = wake_pipe[0], .events = POLLIN };
		int ms = atoi(argv[1]);
		char c;

		__atomic_store_n(&phase, "wait", __ATOMIC_RELAXED);
		while (sigs_seen() == reported_sigs && ms > 0) {
			/* blocked in read(), as a real process waiting for work */
			if (poll(&p, 1, 100) == 1 && read(wake_pipe[0], &c, 1) < 0)
				break;
			ms -= 100;
		}
		__atomic_store_n(&phase, "idle", __ATOMIC_RELAXED);
		if (sigs_seen() == reported_sigs) {
			snprintf(out, n, "timeout");
		} else {
			char t[200];

			sig_text(&sigs[reported_sigs], t, sizeof(t));
			reported_sigs = reported_sigs + 1;
			snprintf(out, n, "signal %s", t);
		}
	} else if (!strcmp(argv[0], "rcvwait") && argc >= 2) {
		int ms = atoi(argv[1]), sv[2], e = 0;
		struct timeval tv = { .tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000 };
		char c;

		if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv)) {
			snprintf(out, n, "err errno=%d", errno);
			return;
		}
		setsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		__atomic_store_n(&phase, "rcvwait", __ATOMIC_RELAXED);
		/* a timed socket read is never restarted: any handler ends it */
		if (read(sv[0], &c, 1) < 0)
			e = errno;
		__atomic_store_n(&phase, "idle", __ATOMIC_RELAXED);
		close(sv[0]);
		close(sv[1]);
		snprintf(out, n, "ok errno=%d", e);
	} else if (!strcmp(argv[0], "thread") && argc >= 3) {
		pthread_t t;
		long which = !strcmp(argv[2], "early") ? 1 : !strcmp(argv[2], "default") ? 2 : 0;

		pthread_create(&t, NULL, thread_main, (void *)which);
		usleep(20000);
		snprintf(out, n, "ok");
	} else if (!strcmp(argv[0], "pagemap") && argc >= 3) {
		struct mapping *m = get_map(argv[1]);
		uint64_t e = 0;
		int fd;

		if (!m) {
			snprintf(out, n, "err no-map");
			return;
		}
		fd = open("/proc/self/pagemap", O_RDONLY);
		if (fd < 0 || pread(fd, &e, 8, ((uintptr_t)(m->addr + strtoull(argv[2], NULL, 0)) / 4096) * 8) != 8)
			e = 0;
		if (fd >= 0)
			close(fd);
		snprintf(out, n, "ok present=%d", (int)(e >> 63));
	} else if (!strcmp(argv[0], "fork")) {
		do_fork(out, n);
	} else if (!strcmp(argv[0], "setuid") && argc >= 2) {
		uid_t u = (uid_t)atoi(argv[1]);

		if (setresuid(u, u, u))
			snprintf(out, n, "err errno=%d", errno);
		else
			snprintf(out, n, "ok");
	} else if (!strcmp(argv[0], "segv") && argc >= 2) {
		struct sigaction sa;

		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = !strcmp(argv[1], "ignore") ? SIG_IGN : SIG_DFL;
		sigaction(SIGSEGV, &sa, NULL);
		snprintf(out, n, "ok");
	} else if (!strcmp(argv[0], "raise") && argc >= 2) {
		raise(atoi(argv[1]));
		snprintf(out, n, "ok");
	} else if (!strcmp(argv[0], "fwrite") && argc >= 5) {
		/* fwrite PATH OFF LEN BYTE: write (creating), fsync, close */
		static char buf[1 << 20];
		off_t off = (off_t)strtoull(argv[2], NULL, 0);
		size_t len = strtoull(argv[3], NULL, 0), done = 0;
		int fd = open(argv[1], O_RDWR | O_CREAT, 0644);
		ssize_t w = 0;

		memset(buf, (int)strtol(argv[4], NULL, 0), sizeof(buf));
		while (fd >= 0 && done < len) {
			size_t c = len - done < sizeof(buf) ? len - done : sizeof(buf);

			w = pwrite(fd, buf, c, off + (off_t)done);
			if (w <= 0)
				break;
			done += (size_t)w;
		}
		if (fd < 0 || w < 0 || (done == len && fsync(fd)))
			snprintf(out, n, "err errno=%d", errno);
		else
			snprintf(out, n, "ok written=%zu", done);
		if (fd >= 0)
			close(fd);
	} else if (!strcmp(argv[0], "fread") && argc >= 4) {
		/* fread PATH OFF LEN: pread once */
		static char buf[1 << 20];
		size_t len = strtoull(argv[3], NULL, 0);
		int fd = open(argv[1], O_RDONLY);
		ssize_t r = -1;

		if (len > sizeof(buf))
			len = sizeof(buf);
		if (fd >= 0)
			r = pread(fd, buf, len, (off_t)strtoull(argv[2], NULL, 0));
		snprintf(out, n, "ok ret=%zd errno=%d first=%d", r, r < 0 ? errno : 0,
			 r > 0 ? (unsigned char)buf[0] : -1);
		if (fd >= 0)
			close(fd);
	} else if (!strcmp(argv[0], "fpunch") && argc >= 4) {
		int fd = open(argv[1], O_RDWR), r = -1;

		if (fd >= 0)
			r = fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
				      (off_t)strtoull(argv[2], NULL, 0), (off_t)strtoull(argv[3], NULL, 0));
		snprintf(out, n, r ? "err errno=%d" : "ok", errno);
		if (fd >= 0)
			close(fd);
	} else if (!strcmp(argv[0], "mapmany") && argc >= 4) {
		size_t len = strtoull(argv[2], NULL, 0);
		off_t off = (off_t)strtoull(argv[3], NULL, 0);
		int i, k = atoi(argv[1]);

		for (i = 0; i < k; i++)
			if (mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, cur_fd, off) == MAP_FAILED)
				break;
		snprintf(out, n, "ok mapped=%d errno=%d", i, i < k ? errno : 0);
	} else if (!strcmp(argv[0], "forkstress") && argc >= 2) {
		fork_stress(atoi(argv[1]), argc >= 3 && !strcmp(argv[2], "spawn"), out, n);
	} else if (!strcmp(argv[0], "pid")) {
		snprintf(out, n, "ok pid=%d tid=%d", (int)getpid(), (int)gettid_());
	} else if (!strcmp(argv[0], "sleep") && argc >= 2) {
		usleep((useconds_t)atoi(argv[1]) * 1000);
		snprintf(out, n, "ok");
	} else if (!strcmp(argv[0], "exit")) {
		fflush(stdout);
		_exit(argc > 1 ? atoi(argv[1]) : 0);
	} else if (!mem_command(argc, argv, out, n)) {
		snprintf(out, n, "err unknown-command");
	}
}

void actor_init(const char *name)
{
	if (name)
		prctl(PR_SET_NAME, name, 0, 0, 0);
	if (pipe(wake_pipe))
		exit(1);
	fcntl(wake_pipe[0], F_SETFL, O_NONBLOCK);
	fcntl(wake_pipe[1], F_SETFL, O_NONBLOCK);
	set_handler("longjmp");
	setvbuf(stdout, NULL, _IOLBF, 0);
}

#ifndef MFACTOR_NO_MAIN
int main(int argc, char **argv)
{
	actor_init(argc > 1 ? argv[1] : NULL);
	actor_serve(stdin, stdout);
	return 0;
}
#endif
