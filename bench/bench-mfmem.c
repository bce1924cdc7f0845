// SPDX-License-Identifier: MIT
/*
 * bench-mfmem: memfaild's memory with a big namespace, many poisoned
 * pages and many mappers, against the same daemon idle.
 *
 *   bench-mfmem BUILD_DIR [-p PAGES] [-m MAPPERS] [-a PAGES_AFTER]
 *
 * Starts its own memfaild (--region-size 4T, private state and socket),
 * reads its VmRSS/VmHWM idle, creates a 1 TiB sparse namespace with
 * `memfail create-namespace`, poisons PAGES distinct pages with
 * inject-error (libmemfail, the same request as the command), starts
 * MAPPERS processes under the preload library that each map the whole
 * namespace, and poisons PAGES_AFTER more of the PAGES while they are
 * attached, so the daemon's shootdown path runs too.  The pages are
 * spread evenly over the namespace, one per 2 MiB unit at least: no two
 * bad ranges merge, the worst case for per-range bookkeeping.
 *
 * The daemon's hot state must be sized by what is poisoned and mapped,
 * never by the namespace size (DESIGN.md, section 6): target < 64 MiB.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "memfail.h"
#include "bench.h"

#define NS_SIZE		(1ULL << 40)
#define NS_ALIGN	(2ULL << 20)
#define PAGE		4096ULL
#define SECTORS_PER_PAGE (PAGE / MEMFAIL_SECTOR_SIZE)
#define MAX_MAPPERS	256
#define TARGET_KB	(64 * 1024)

static char build[PATH_MAX], dir[64], sock[128];
static pid_t daemon_pid;

/* ---- a mapper: runs under the preload library ---- */

static int mapper(const char *dax, int ready_fd)
{
	unsigned char *p;
	char c;
	int fd;

	fd = open(dax, O_RDWR);
	if (fd < 0)
		bench_die(dax);
	p = mmap(NULL, NS_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		bench_die("mmap of the whole namespace");
	close(fd);
	/* a healthy page in the page tables, as a real user would have */
	p[PAGE / 2] = 1;
	if (write(ready_fd, "r", 1) != 1)
		bench_die("ready");
	close(ready_fd);
	/* hold the mapping until the coordinator closes our stdin */
	while (read(STDIN_FILENO, &c, 1) > 0)
		;
	return 0;
}

/* ---- the coordinator ---- */

static void cleanup(void)
{
	char cmd[128];
	int status;

	if (daemon_pid > 0) {
		kill(daemon_pid, SIGTERM);
		waitpid(daemon_pid, &status, 0);
		daemon_pid = 0;
	}
	if (dir[0]) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd)) {}
		dir[0] = '\0';
	}
}

static void fail(const char *what, int err)
{
	fprintf(stderr, "bench-mfmem: %s: %s\n", what, strerror(err));
	cleanup();
	exit(1);
}

static void start_daemon(void)
{
	char path[PATH_MAX + 16], state[128], log[128], rfd[16], buf[8];
	int pfd[2];

	snprintf(path, sizeof(path), "%s/memfaild", build);
	snprintf(state, sizeof(state), "%s/state", dir);
	snprintf(log, sizeof(log), "%s/log", dir);
	if (pipe(pfd))
		fail("pipe", errno);
	snprintf(rfd, sizeof(rfd), "%d", pfd[1]);
	daemon_pid = fork();
	if (daemon_pid < 0)
		fail("fork", errno);
	if (!daemon_pid) {
		int null = open("/dev/null", O_WRONLY);

		/* its log goes to a file; the terminal stays for the figures */
		dup2(null, STDERR_FILENO);
		close(pfd[0]);
		unsetenv("LD_PRELOAD");
		execl(path, "memfaild", "--state-dir", state, "--socket", sock,
		      "--region-size", "4T", "--log-file", log, "--ready-fd", rfd, (char *)NULL);
		_exit(127);
	}
	close(pfd[1]);
	if (read(pfd[0], buf, sizeof(buf)) != 6)
		fail("memfaild did not start", EIO);
	close(pfd[0]);
}

static int run_cli(const char *a1, const char *a2, const char *a3, const char *a4,
		   const char *a5, const char *a6, const char *a7)
{
	char path[PATH_MAX + 16];
	pid_t pid;
	int status;

	snprintf(path, sizeof(path), "%s/memfail", build);
	pid = fork();
	if (pid < 0)
		return -1;
	if (!pid) {
		int null = open("/dev/null", O_WRONLY);

		dup2(null, STDOUT_FILENO);
		execl(path, "memfail", "--socket", sock, a1, a2, a3, a4, a5, a6, a7, (char *)NULL);
		_exit(127);
	}
	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void print_mem(const char *when)
{
	printf("  %-44s VmRSS %7.1f MiB   VmHWM %7.1f MiB\n", when,
	       bench_status_kb(daemon_pid, "VmRSS") / 1024.0,
	       bench_status_kb(daemon_pid, "VmHWM") / 1024.0);
	fflush(stdout);
}

/* Poison pages [from, to) of the evenly spread set; seconds taken. */
static double inject(struct memfail_ctx *ctx, const char *name, unsigned from,
		     unsigned to, unsigned total)
{
	uint64_t stride = NS_SIZE / PAGE / total, t0 = bench_now_ns();
	unsigned i;
	int err;

	for (i = from; i < to; i++) {
		/* off the unit boundary, so that no page is a unit's first */
		uint64_t page = (uint64_t)i * stride + 7;

		err = memfail_inject_error(ctx, name, page * SECTORS_PER_PAGE, SECTORS_PER_PAGE,
					   MEMFAIL_INJECT_NOTIFY);
		if (err)
			fail("inject-error", -err);
	}
	return (double)(bench_now_ns() - t0) / 1e9;
}

static int count_lines(pid_t pid, const char *file)
{
	char path[64], line[512];
	int n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		n++;
	fclose(f);
	return n;
}

int main(int argc, char **argv)
{
	unsigned pages = 10000, after = 1000, nr_mappers = 64, i;
	static pid_t mpid[MAX_MAPPERS];
	static int mstdin[MAX_MAPPERS];
	struct memfail_namespace ns;
	struct memfail_ctx *ctx;
	char self[PATH_MAX], preload[PATH_MAX + 32], dax[64], label[96], c;
	long idle_rss, idle_hwm, hwm, pte = 0, maps = 0;
	double t_inject, t_map, t_after;
	int rfd[2], k, err, status;
	uint64_t t0;
	ssize_t n;

	if (argc == 4 && !strcmp(argv[1], "--mapper"))
		return mapper(argv[2], atoi(argv[3]));

	while ((k = getopt(argc, argv, "p:m:a:")) != -1) {
		switch (k) {
		case 'p': pages = (unsigned)atoi(optarg); break;
		case 'm': nr_mappers = (unsigned)atoi(optarg); break;
		case 'a': after = (unsigned)atoi(optarg); break;
		default:
			fprintf(stderr, "usage: bench-mfmem BUILD_DIR [-p PAGES] [-m MAPPERS] [-a PAGES_AFTER]\n");
			return 2;
		}
	}
	if (optind != argc - 1 || !pages || after > pages || nr_mappers > MAX_MAPPERS) {
		fprintf(stderr, "usage: bench-mfmem BUILD_DIR [-p PAGES] [-m MAPPERS] [-a PAGES_AFTER]\n");
		return 2;
	}
	if (!realpath(argv[optind], build))
		bench_die(argv[optind]);
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		bench_die("/proc/self/exe");
	self[n] = '\0';
	snprintf(preload, sizeof(preload), "%s/libmemfail-preload.so", build);
	snprintf(dir, sizeof(dir), "/tmp/mf-bench-mem.XXXXXX");
	if (!mkdtemp(dir))
		bench_die("mkdtemp");
	snprintf(sock, sizeof(sock), "%s/sock", dir);

	printf("daemon memory: 1 TiB namespace (align 2M, sparse), %u poisoned pages, %u mappers of the whole namespace\n",
	       pages, nr_mappers);
	fflush(stdout);
	start_daemon();
	usleep(200000);
	idle_rss = bench_status_kb(daemon_pid, "VmRSS");
	idle_hwm = bench_status_kb(daemon_pid, "VmHWM");
	print_mem("idle (baseline)");

	if (run_cli("create-namespace", "--size", "1T", "--align", "2M", "--sparse", NULL))
		fail("memfail create-namespace --size 1T --align 2M --sparse", EIO);
	print_mem("1 TiB namespace created");

	err = memfail_connect(sock, &ctx);
	if (err)
		fail("connect", -err);
	err = memfail_namespace_get(ctx, "namespace0.0", &ns);
	if (err)
		fail("namespace0.0", -err);
	snprintf(dax, sizeof(dax), "/dev/%s", ns.chardev);
	t_inject = inject(ctx, ns.dev, 0, pages - after, pages);
	snprintf(label, sizeof(label), "%u pages poisoned (%.1f s)", pages - after, t_inject);
	print_mem(label);

	/* the mappers: this program again, under the preload library */
	if (pipe(rfd))
		fail("pipe", errno);
	t0 = bench_now_ns();
	for (i = 0; i < nr_mappers; i++) {
		int in[2];
		char fdtxt[16];

		if (pipe(in))
			fail("pipe", errno);
		mpid[i] = fork();
		if (mpid[i] < 0)
			fail("fork", errno);
		if (!mpid[i]) {
			dup2(in[0], STDIN_FILENO);
			close(in[0]);
			close(in[1]);
			close(rfd[0]);
			snprintf(fdtxt, sizeof(fdtxt), "%d", rfd[1]);
			setenv("LD_PRELOAD", preload, 1);
			setenv("MEMFAIL_SOCKET", sock, 1);
			execl(self, "bench-mfmem", "--mapper", dax, fdtxt, (char *)NULL);
			_exit(127);
		}
		close(in[0]);
		mstdin[i] = in[1];
	}
	close(rfd[1]);
	for (i = 0; i < nr_mappers; i++)
		if (read(rfd[0], &c, 1) != 1)
			fail("a mapper died before mapping", EIO);
	t_map = (double)(bench_now_ns() - t0) / 1e9;
	snprintf(label, sizeof(label), "%u mappers attached (%.1f s)", nr_mappers, t_map);
	print_mem(label);

	t_after = inject(ctx, ns.dev, pages - after, pages, pages);
	snprintf(label, sizeof(label), "+%u pages poisoned while mapped (%.1f s)", after, t_after);
	print_mem(label);
	hwm = bench_status_kb(daemon_pid, "VmHWM");

	for (i = 0; i < nr_mappers; i++) {
		long v = bench_status_kb(mpid[i], "VmPTE");

		pte += v > 0 ? v : 0;
		maps += count_lines(mpid[i], "maps");
	}
	printf("  mappers, mean: VmPTE %.1f MiB, %ld VMAs (how their %u fences are held)\n",
	       pte / 1024.0 / nr_mappers, maps / (long)nr_mappers, pages);
	printf("  peak %.1f MiB = idle %.1f MiB + %.1f MiB   ratio %.2f x idle   (target < 64 MiB: %s)\n",
	       hwm / 1024.0, idle_hwm / 1024.0, (hwm - idle_hwm) / 1024.0,
	       (double)hwm / (double)idle_rss, bench_verdict(hwm < TARGET_KB));

	for (i = 0; i < nr_mappers; i++)
		close(mstdin[i]);
	for (i = 0; i < nr_mappers; i++)
		waitpid(mpid[i], &status, 0);
	memfail_disconnect(ctx);
	cleanup();
	return 0;
}
