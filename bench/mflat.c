// SPDX-License-Identifier: MIT
/*
 * bench/mflat.c: memory_failure() latency as the mappers see it, from the
 * poisoner's madvise(MADV_HWPOISON) call to the moment every mapper has
 * been unmapped and signalled, for N mapping processes.
 *
 * Shared by bench-mflat (devdax) and bench-fsdax (a file on an fsdax
 * namespace next to a devdax namespace).  One process poisons, N - 1
 * bystanders map the same namespace or file with early kill set
 * (prctl(PR_MCE_KILL_EARLY)) and have the poisoned unit in their page
 * tables, so under the linux-6.12 profile each gets BUS_MCEERR_AO and the
 * poisoner gets BUS_MCEERR_AR.  Every SIGBUS handler stamps
 * CLOCK_MONOTONIC into shared memory; the daemon signals only after
 * every mapper acknowledged its unmap, so the last stamp is the end.
 * Each repetition poisons a page of a fresh 2 MiB unit.
 *
 * With -c the poison is injected first (memfail_inject_error(), durable,
 * outside the timing) and the clock starts at the poisoner's load of the
 * page: what memory_failure() itself costs from the consuming access,
 * where hardware would raise the machine check, without the durable
 * record of a new bad sector that MADV_HWPOISON pays for.
 *
 * The floor, measured in the same run by the coordinator (which maps
 * nothing) before and after each series: one SOCK_SEQPACKET round trip
 * between two processes plus one mprotect() of a page, times N: what
 * telling N processes to unmap a page costs at the least.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/futex.h>
#include <math.h>
#include <memfail.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "mflat.h"

#ifndef MADV_HWPOISON
#define MADV_HWPOISON 100
#endif

#define MAX_PROCS	MFLAT_MAX_PROCS
#define MAX_REPS	MFLAT_MAX_REPS
#define UNIT		MFLAT_UNIT
#define PAGE		4096ULL
#define FLOOR_ITERS	2000

struct shared {
	_Atomic uint32_t ready;		/* bystanders mapped and faulted in */
	_Atomic uint32_t hits;		/* SIGBUSes of this repetition */
	_Atomic uint32_t done;
	uint64_t t_sig[MAX_PROCS];
	int32_t code[MAX_PROCS];
	uint32_t lsb[MAX_PROCS];
	/* the poisoner's results */
	double lat[MAX_REPS];		/* madvise() call to the last signal */
	double ar[MAX_REPS];		/* madvise() call to the poisoner's AR */
	uint32_t nr_lat;
	uint32_t missing;		/* repetitions where a signal never came */
	uint32_t wrong;			/* signals with an unexpected code or lsb */
	char error[128];
};

static struct shared *sh;
static int my_idx;
bool mflat_consume;		/* -c: a load mflat_consumes injected poison */
static sigjmp_buf load_jb;
static volatile sig_atomic_t in_load;

static long futex(_Atomic uint32_t *uaddr, int op, uint32_t val, const struct timespec *ts)
{
	/* not FUTEX_PRIVATE: the word is shared between processes */
	return syscall(SYS_futex, uaddr, op, val, ts, NULL, 0);
}

static void wake_all(_Atomic uint32_t *w)
{
	futex(w, FUTEX_WAKE, INT32_MAX, NULL);
}

/* Wait until *w >= want, at most ms; false on timeout. */
static bool wait_at_least(_Atomic uint32_t *w, uint32_t want, int ms)
{
	uint64_t deadline = bench_now_ns() + (uint64_t)ms * 1000000ULL;

	for (;;) {
		uint32_t v = atomic_load(w);
		uint64_t now = bench_now_ns();
		struct timespec ts;

		if (v >= want)
			return true;
		if (now >= deadline)
			return false;
		ts.tv_sec = (time_t)((deadline - now) / 1000000000ULL);
		ts.tv_nsec = (long)((deadline - now) % 1000000000ULL);
		futex(w, FUTEX_WAIT, v, &ts);
	}
}

static void on_sigbus(int sig, siginfo_t *si, void *uctx)
{
	uint64_t t = bench_now_ns();

	(void)sig;
	(void)uctx;
	sh->t_sig[my_idx] = t;
	sh->code[my_idx] = si->si_code;
	sh->lsb[my_idx] = si->si_addr_lsb;
	atomic_fetch_add(&sh->hits, 1);
	wake_all(&sh->hits);
	/* the load would mflat_consume again on return */
	if (in_load)
		siglongjmp(load_jb, 1);
}

static unsigned char *map_dax(const char *dax, size_t need)
{
	struct sigaction sa;
	unsigned char *p;
	struct stat st;
	int fd;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_sigbus;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigaction(SIGBUS, &sa, NULL);
	fd = open(dax, O_RDWR);
	if (fd < 0)
		bench_die(dax);
	if (fstat(fd, &st))
		bench_die("fstat");
	if ((size_t)st.st_size < need) {
		snprintf(sh->error, sizeof(sh->error), "%s has %lld MiB, needs %zu MiB",
			 dax, (long long)st.st_size >> 20, need >> 20);
		exit(1);
	}
	p = mmap(NULL, need, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		bench_die("mmap");
	close(fd);
	return p;
}

/* The units this series poisons are in every bystander's page tables:
 * 6.12 sends AO only to an early-kill mapper that has the page mapped. */
static void fault_in(volatile unsigned char *p, unsigned base, unsigned reps)
{
	unsigned u;

	for (u = base; u < base + reps; u++)
		(void)p[u * UNIT];
}

static void bystander(const char *dax, int idx, unsigned base, unsigned reps, size_t need)
{
	unsigned char *p;

	my_idx = idx;
	if (prctl(PR_MCE_KILL, PR_MCE_KILL_SET, PR_MCE_KILL_EARLY, 0, 0))
		bench_die("prctl(PR_MCE_KILL_EARLY)");
	p = map_dax(dax, need);
	fault_in(p, base, reps);
	atomic_fetch_add(&sh->ready, 1);
	wake_all(&sh->ready);
	while (!atomic_load(&sh->done))
		futex(&sh->done, FUTEX_WAIT, 0, NULL);
	_exit(0);
}

static void poisoner(const char *dax, int n, unsigned base, unsigned reps, size_t need)
{
	unsigned char *p;
	unsigned r;
	int i;

	struct memfail_ctx *ctx = NULL;
	const char *name = strrchr(dax, '/') ? strrchr(dax, '/') + 1 : dax;

	my_idx = 0;
	p = map_dax(dax, need);
	fault_in(p, base, reps);
	if (mflat_consume && memfail_connect(NULL, &ctx)) {
		snprintf(sh->error, sizeof(sh->error), "cannot reach memfaild");
		exit(1);
	}
	if (!wait_at_least(&sh->ready, (uint32_t)n - 1, 60000)) {
		snprintf(sh->error, sizeof(sh->error), "only %u of %d bystanders mapped",
			 atomic_load(&sh->ready), n - 1);
		exit(1);
	}
	for (r = 0; r < reps; r++) {
		/* a fresh unit, and a different page within it each time */
		unsigned char *page = p + (base + r) * UNIT + ((r * 37) % 512) * PAGE;
		volatile uint64_t t0 = 0;
		uint64_t end = 0;
		bool ok = true;

		memset(sh->t_sig, 0, sizeof(sh->t_sig[0]) * (size_t)n);
		atomic_store(&sh->hits, 0);
		if (mflat_consume) {
			/* the bad sector is recorded (and fenced) before the clock */
			int err = memfail_inject_error(ctx, name, (uint64_t)(page - p) / 512, 1,
						       MEMFAIL_INJECT_NOTIFY);

			if (err) {
				snprintf(sh->error, sizeof(sh->error), "inject-error: %s",
					 strerror(-err));
				exit(1);
			}
			t0 = bench_now_ns();
			in_load = 1;
			if (!sigsetjmp(load_jb, 1))
				(void)*(volatile unsigned char *)page;
			in_load = 0;
		} else {
			t0 = bench_now_ns();
			if (madvise(page, PAGE, MADV_HWPOISON)) {
				snprintf(sh->error, sizeof(sh->error), "madvise(MADV_HWPOISON): %s",
					 strerror(errno));
				exit(1);
			}
		}
		if (!wait_at_least(&sh->hits, (uint32_t)n, 5000)) {
			/* a mapper was killed or never signalled: stop soon */
			if (++sh->missing == 3) {
				snprintf(sh->error, sizeof(sh->error),
					 "%u of %d signals arrived, 3 times", atomic_load(&sh->hits), n);
				exit(1);
			}
			continue;
		}
		for (i = 0; i < n; i++) {
			if (sh->code[i] != (i ? BUS_MCEERR_AO : BUS_MCEERR_AR) || sh->lsb[i] != 21)
				ok = false;
			if (sh->t_sig[i] > end)
				end = sh->t_sig[i];
		}
		if (!ok)
			sh->wrong++;
		sh->lat[sh->nr_lat] = (double)(end - t0) / 1000.0;
		sh->ar[sh->nr_lat++] = (double)(sh->t_sig[0] - t0) / 1000.0;
	}
	atomic_store(&sh->done, 1);
	wake_all(&sh->done);
	_exit(0);
}

/* ---- the floor ---- */

static void pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

/*
 * Median round trip (µs) of a 96-byte SOCK_SEQPACKET ping-pong, the two
 * ends pinned to CPUs a and b.  On this kind of machine the figure is
 * bimodal: a wakeup on the same CPU costs a few µs, one that must wake
 * another (idle, virtual) CPU several times that.
 */
static double floor_rtt(int a, int b)
{
	static double v[FLOOR_ITERS];
	cpu_set_t old;
	char buf[96];
	int sv[2], i, status;
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv))
		bench_die("socketpair");
	pid = fork();
	if (pid < 0)
		bench_die("fork");
	if (!pid) {
		pin(b);
		close(sv[0]);
		while (recv(sv[1], buf, sizeof(buf), 0) > 0)
			if (send(sv[1], buf, sizeof(buf), 0) < 0)
				break;
		_exit(0);
	}
	close(sv[1]);
	sched_getaffinity(0, sizeof(old), &old);
	pin(a);
	memset(buf, 0x5a, sizeof(buf));
	for (i = 0; i < FLOOR_ITERS; i++) {
		uint64_t t0 = bench_now_ns();

		if (send(sv[0], buf, sizeof(buf), 0) < 0 || recv(sv[0], buf, sizeof(buf), 0) <= 0)
			bench_die("ping-pong");
		v[i] = (double)(bench_now_ns() - t0) / 1000.0;
	}
	sched_setaffinity(0, sizeof(old), &old);
	close(sv[0]);
	waitpid(pid, &status, 0);
	return bench_median(v, FLOOR_ITERS);
}

/* Median time (µs) of mprotect(PROT_NONE) of one faulted-in page. */
static double floor_mprotect(void)
{
	static double v[FLOOR_ITERS];
	const size_t len = 512 * PAGE;
	unsigned char *p;
	int i;

	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		bench_die("mmap");
	memset(p, 1, len);
	for (i = 0; i < FLOOR_ITERS; i++) {
		unsigned char *page = p + (size_t)(i % 510 + 1) * PAGE;
		uint64_t t0 = bench_now_ns();

		mprotect(page, PAGE, PROT_NONE);
		v[i] = (double)(bench_now_ns() - t0) / 1000.0;
		mprotect(page, PAGE, PROT_READ | PROT_WRITE);
	}
	munmap(p, len);
	return bench_median(v, FLOOR_ITERS);
}

static int cpu_a, cpu_b;		/* two CPUs we may run on */

void mflat_init(void)
{
	cpu_set_t set;
	int cpu, k = 0;

	/* the first two CPUs we are allowed on (one, if that is all) */
	sched_getaffinity(0, sizeof(set), &set);
	for (cpu = 0; cpu < CPU_SETSIZE && k < 2; cpu++)
		if (CPU_ISSET(cpu, &set))
			*(k++ ? &cpu_b : &cpu_a) = cpu;
	if (k < 2)
		cpu_b = cpu_a;
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		bench_die("mmap");
}

int mflat_series(const char *dax, int n, unsigned base, unsigned reps, size_t need,
		 struct mflat_result *res)
{
	static double sorted[MAX_REPS];
	pid_t pids[MAX_PROCS];
	double rtt, rtt_x, mprot;
	int i, status, failed = 0;

	if (n < 1 || n > MAX_PROCS || reps > MAX_REPS)
		return -1;
	fflush(stdout);	/* children must not print it again */
	rtt = floor_rtt(cpu_a, cpu_a);
	rtt_x = floor_rtt(cpu_a, cpu_b);
	mprot = floor_mprotect();

	memset(sh, 0, sizeof(*sh));
	for (i = n - 1; i >= 0; i--) {
		pids[i] = fork();
		if (pids[i] < 0)
			bench_die("fork");
		if (!pids[i]) {
			if (i)
				bystander(dax, i, base, reps, need);
			poisoner(dax, n, base, reps, need);
		}
	}
	/* the poisoner ends the series, even one that failed: then the rest */
	for (i = 0; i < n; i++) {
		waitpid(pids[i], &status, 0);
		if (!WIFEXITED(status) || WEXITSTATUS(status))
			failed = 1;
		if (!i) {
			atomic_store(&sh->done, 1);
			wake_all(&sh->done);
		}
	}
	if (failed || !sh->nr_lat) {
		fprintf(stderr, "%s: %s, N=%d failed: %s\n", program_invocation_short_name, dax, n,
			sh->error[0] ? sh->error : "a mapper died");
		return -1;
	}
	/*
	 * Again after the series, as a neighbour may have slowed one batch;
	 * the lower figures, and the same-CPU round trip, make the stricter
	 * floor.
	 */
	res->n = n;
	res->reps = reps;
	res->rtt = fmin(rtt, floor_rtt(cpu_a, cpu_a));
	res->rtt_x = fmin(rtt_x, floor_rtt(cpu_a, cpu_b));
	res->mprot = fmin(mprot, floor_mprotect());
	res->floor_us = n * (res->rtt + res->mprot);
	memcpy(sorted, sh->ar, sizeof(sorted[0]) * sh->nr_lat);
	res->ar = bench_median(sorted, sh->nr_lat);
	memcpy(sorted, sh->lat, sizeof(sorted[0]) * sh->nr_lat);
	res->med = bench_median(sorted, sh->nr_lat);
	res->p99 = bench_quantile(sorted, sh->nr_lat, 0.99);
	res->missing = sh->missing;
	res->wrong = sh->wrong;
	return 0;
}

const double *mflat_latencies(unsigned *n, const double **ar)
{
	*n = sh->nr_lat;
	*ar = sh->ar;
	return sh->lat;
}

void mflat_print(const struct mflat_result *r)
{
	printf("  N=%-3d median %8.1f us  p99 %8.1f us   floor %7.1f us   ratio %5.2f  (target <= 2: %s)\n",
	       r->n, r->med, r->p99, r->floor_us, r->med / r->floor_us,
	       bench_verdict(r->med / r->floor_us <= 2.0));
	printf("         poisoner's AR after %.1f us; floor = %d x (rtt %.1f + mprotect %.1f), rtt across CPUs %.1f\n",
	       r->ar, r->n, r->rtt, r->mprot, r->rtt_x);
	if (r->missing || r->wrong)
		printf("         %u of %u repetitions lost a signal, %u had a wrong code or lsb\n",
		       r->missing, r->reps, r->wrong);
}
