// SPDX-License-Identifier: MIT
/*
 * bench-shim: what the preload library costs a program that never
 * touches poison.
 *
 *   bench-shim BUILD_DIR [-r REPS]
 *
 * 1. Start-up: spawning a trivial program (this one, doing nothing) with
 *    the preload library, against spawning it bare, alternately, REPS
 *    times each: median per spawn and the ratio.  Also `memfail run` of
 *    it, which starts an embedded daemon and a namespace: the whole cost
 *    a user sees for a one-shot run.
 * 2. A syscall-heavy loop (open/read/write/pread/fstat/close, anonymous
 *    mmap/madvise/munmap, sigaction, dup/close): the loop's own time with
 *    the preload library against bare, alternately, median of the paired
 *    ratios.  Target: under 1.05.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"

#define LOOPS	20000

static void on_usr1(int sig)
{
	(void)sig;
}

/* The child's work: LOOPS rounds of ordinary system calls; ns taken. */
static uint64_t syscall_loop(void)
{
	struct sigaction sa;
	uint64_t t0 = bench_now_ns();
	char c;
	int i;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;
	for (i = 0; i < LOOPS; i++) {
		int zero = open("/dev/zero", O_RDONLY), null = open("/dev/null", O_WRONLY), d;
		struct stat st;
		void *p;

		if (zero < 0 || null < 0)
			bench_die("open");
		if (read(zero, &c, 1) != 1 || pread(zero, &c, 1, 0) != 1 || write(null, &c, 1) != 1)
			bench_die("read/write");
		fstat(zero, &st);
		d = dup(null);
		close(d);
		p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			bench_die("mmap");
		*(volatile char *)p = 1;
		madvise(p, 4096, MADV_DONTNEED);
		munmap(p, 4096);
		sigaction(SIGUSR1, &sa, NULL);
		close(zero);
		close(null);
	}
	return bench_now_ns() - t0;
}

static char self[PATH_MAX], preload[PATH_MAX + 32], memfail[PATH_MAX + 16];

/* Spawn self with `mode`; ns from fork to reaping.  *out: what it printed. */
static uint64_t spawn(const char *mode, bool with_preload, bool via_run, uint64_t *out)
{
	uint64_t t0 = bench_now_ns();
	int pfd[2], status;
	char buf[64] = "";
	ssize_t n;
	pid_t pid;

	if (pipe(pfd))
		bench_die("pipe");
	pid = fork();
	if (pid < 0)
		bench_die("fork");
	if (!pid) {
		dup2(pfd[1], STDOUT_FILENO);
		close(pfd[0]);
		unsetenv("LD_PRELOAD");
		if (with_preload)
			setenv("LD_PRELOAD", preload, 1);
		if (via_run)
			execl(memfail, "memfail", "run", "-q", "--namespace", "2M", "--",
			      self, mode, (char *)NULL);
		else
			execl(self, "bench-shim", mode, (char *)NULL);
		_exit(127);
	}
	close(pfd[1]);
	n = read(pfd[0], buf, sizeof(buf) - 1);
	close(pfd[0]);
	waitpid(pid, &status, 0);
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		bench_die(mode);
	if (out)
		*out = n > 0 ? strtoull(buf, NULL, 10) : 0;
	return bench_now_ns() - t0;
}

int main(int argc, char **argv)
{
	static double bare[1000], shim[1000], ratio[1000], ratio_run[1000], run[100];
	unsigned reps = 200, i, nrun;
	char build[PATH_MAX];
	ssize_t k;
	int c;

	if (argc == 2 && !strcmp(argv[1], "--noop"))
		return 0;
	if (argc == 2 && !strcmp(argv[1], "--syscalls")) {
		printf("%llu\n", (unsigned long long)syscall_loop());
		return 0;
	}
	while ((c = getopt(argc, argv, "r:")) != -1) {
		if (c != 'r') {
			fprintf(stderr, "usage: bench-shim BUILD_DIR [-r REPS]\n");
			return 2;
		}
		reps = (unsigned)atoi(optarg);
	}
	if (optind != argc - 1 || !reps || reps > 1000) {
		fprintf(stderr, "usage: bench-shim BUILD_DIR [-r REPS]\n");
		return 2;
	}
	if (!realpath(argv[optind], build))
		bench_die(argv[optind]);
	k = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (k <= 0)
		bench_die("/proc/self/exe");
	self[k] = '\0';
	snprintf(preload, sizeof(preload), "%s/libmemfail-preload.so", build);
	snprintf(memfail, sizeof(memfail), "%s/memfail", build);
	/* every `memfail run` starts its own daemon, whatever runs here */
	setenv("MEMFAIL_SOCKET", "/nonexistent/memfaild.sock", 1);

	printf("shim overhead on programs that never touch poison\n");
	for (i = 0; i < reps; i++) {
		/* alternate, so that drift falls on both */
		if (i & 1) {
			bare[i] = spawn("--noop", false, false, NULL) / 1e3;
			shim[i] = spawn("--noop", true, false, NULL) / 1e3;
		} else {
			shim[i] = spawn("--noop", true, false, NULL) / 1e3;
			bare[i] = spawn("--noop", false, false, NULL) / 1e3;
		}
		ratio[i] = shim[i] / bare[i];
	}
	nrun = reps / 10 ? reps / 10 : 1;
	for (i = 0; i < nrun; i++)
		run[i] = spawn("--noop", false, true, NULL) / 1e3;
	printf("  start-up      with the shim %8.1f us   bare %8.1f us   ratio %.3f\n",
	       bench_median(shim, reps), bench_median(bare, reps), bench_median(ratio, reps));
	printf("  memfail run   (embedded daemon and a namespace) %8.1f us   ratio %.1f to bare\n",
	       bench_median(run, nrun), bench_median(run, nrun) / bench_median(bare, reps));

	/* bare, the library with no daemon, and under `memfail run` (the
	 * shim active, a daemon behind it), in rotating order */
	for (i = 0; i < reps / 4 + 1 && i < 1000; i++) {
		uint64_t t[3];
		unsigned k;

		for (k = 0; k < 3; k++) {
			unsigned which = (i + k) % 3;

			spawn("--syscalls", which == 1, which == 2, &t[which]);
		}
		bare[i] = t[0] / 1e3 / LOOPS;
		shim[i] = t[1] / 1e3 / LOOPS;
		run[i % 100] = t[2] / 1e3 / LOOPS;
		ratio[i] = (double)t[1] / (double)t[0];
		ratio_run[i] = (double)t[2] / (double)t[0];
	}
	printf("  syscall loop  bare %8.2f us/round\n", bench_median(bare, i));
	printf("    the library, no daemon     %8.2f us/round   ratio %.3f  (target < 1.05: %s)\n",
	       bench_median(shim, i), bench_median(ratio, i),
	       bench_verdict(bench_median(ratio, i) < 1.05));
	printf("    under memfail run          %8.2f us/round   ratio %.3f  (target < 1.05: %s)\n",
	       bench_median(run, i < 100 ? i : 100), bench_median(ratio_run, i),
	       bench_verdict(bench_median(ratio_run, i) < 1.05));
	return 0;
}
