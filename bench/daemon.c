// SPDX-License-Identifier: MIT
/*
 * bench/daemon.c: a private memfaild for a benchmark, the memfail command
 * against it, and mapper processes (the benchmark itself again, under the
 * preload library); see bench.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"

static struct bench_daemon *current;	/* for bench_fail() */

void bench_fail(const char *what, int err)
{
	fprintf(stderr, "bench: %s: %s\n", what, strerror(err));
	if (current)
		bench_daemon_stop(current);
	exit(1);
}

void bench_daemon_start(struct bench_daemon *b, const char *build, const char *region_size)
{
	char path[PATH_MAX + 16], state[128], log[128], rfd[16], buf[8];
	int pfd[2];

	memset(b, 0, sizeof(*b));
	if (!realpath(build, b->build))
		bench_die(build);
	snprintf(b->dir, sizeof(b->dir), "/tmp/mf-bench.XXXXXX");
	if (!mkdtemp(b->dir))
		bench_die("mkdtemp");
	current = b;
	snprintf(b->sock, sizeof(b->sock), "%s/sock", b->dir);
	snprintf(path, sizeof(path), "%s/memfaild", b->build);
	snprintf(state, sizeof(state), "%s/state", b->dir);
	snprintf(log, sizeof(log), "%s/log", b->dir);
	if (pipe(pfd))
		bench_fail("pipe", errno);
	snprintf(rfd, sizeof(rfd), "%d", pfd[1]);
	b->pid = fork();
	if (b->pid < 0)
		bench_fail("fork", errno);
	if (!b->pid) {
		int null = open("/dev/null", O_WRONLY);

		/* its log goes to a file; the terminal stays for the figures */
		dup2(null, STDERR_FILENO);
		close(pfd[0]);
		unsetenv("LD_PRELOAD");
		execl(path, "memfaild", "--state-dir", state, "--socket", b->sock,
		      "--region-size", region_size, "--log-file", log, "--ready-fd", rfd,
		      (char *)NULL);
		_exit(127);
	}
	close(pfd[1]);
	if (read(pfd[0], buf, sizeof(buf)) != 6)
		bench_fail("memfaild did not start", EIO);
	close(pfd[0]);
}

void bench_daemon_stop(struct bench_daemon *b)
{
	char cmd[128];
	int status;

	if (b->pid > 0) {
		kill(b->pid, SIGTERM);
		waitpid(b->pid, &status, 0);
		b->pid = 0;
	}
	if (b->dir[0]) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", b->dir);
		if (system(cmd)) {}
		b->dir[0] = '\0';
	}
	current = NULL;
}

int bench_cli(struct bench_daemon *b, ...)
{
	char path[PATH_MAX + 16];
	char *argv[16];
	va_list ap;
	pid_t pid;
	int status, n = 0;

	argv[n++] = "memfail";
	argv[n++] = "--socket";
	argv[n++] = b->sock;
	va_start(ap, b);
	while (n < 15 && (argv[n] = va_arg(ap, char *)))
		n++;
	va_end(ap);
	argv[n] = NULL;
	snprintf(path, sizeof(path), "%s/memfail", b->build);
	pid = fork();
	if (pid < 0)
		return -1;
	if (!pid) {
		int null = open("/dev/null", O_WRONLY);

		dup2(null, STDOUT_FILENO);
		execv(path, argv);
		_exit(127);
	}
	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

void bench_print_mem(pid_t pid, const char *when)
{
	printf("  %-44s VmRSS %7.1f MiB   VmHWM %7.1f MiB\n", when,
	       bench_status_kb(pid, "VmRSS") / 1024.0, bench_status_kb(pid, "VmHWM") / 1024.0);
	fflush(stdout);
}

int bench_mapper_main(int argc, char **argv)
{
	unsigned char *p;
	size_t len;
	int fd, ready;
	char c;

	if (argc != 5 || strcmp(argv[1], "--mapper"))
		return -1;
	len = strtoull(argv[3], NULL, 0);
	ready = atoi(argv[4]);
	fd = open(argv[2], O_RDWR);
	if (fd < 0)
		bench_die(argv[2]);
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		bench_die("mmap of the namespace");
	close(fd);
	/* a healthy page in the page tables, as a real user would have */
	p[2048] = 1;
	if (write(ready, "r", 1) != 1)
		bench_die("ready");
	close(ready);
	/* hold the mapping until the coordinator closes our stdin */
	while (read(STDIN_FILENO, &c, 1) > 0)
		;
	return 0;
}

void bench_mappers_start(struct bench_mappers *m, struct bench_daemon *b, const char *dax,
			 uint64_t len, unsigned n)
{
	char self[PATH_MAX], preload[PATH_MAX + 32], lentxt[32], c;
	int rfd[2];
	unsigned i;
	ssize_t k;

	memset(m, 0, sizeof(*m));
	if (n > BENCH_MAX_MAPPERS)
		bench_fail("too many mappers", EINVAL);
	k = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (k <= 0)
		bench_fail("/proc/self/exe", errno);
	self[k] = '\0';
	snprintf(preload, sizeof(preload), "%s/libmemfail-preload.so", b->build);
	snprintf(lentxt, sizeof(lentxt), "%llu", (unsigned long long)len);
	if (pipe(rfd))
		bench_fail("pipe", errno);
	for (i = 0; i < n; i++) {
		char fdtxt[16];
		int in[2];

		if (pipe(in))
			bench_fail("pipe", errno);
		m->pid[i] = fork();
		if (m->pid[i] < 0)
			bench_fail("fork", errno);
		if (!m->pid[i]) {
			dup2(in[0], STDIN_FILENO);
			close(in[0]);
			close(in[1]);
			close(rfd[0]);
			snprintf(fdtxt, sizeof(fdtxt), "%d", rfd[1]);
			setenv("LD_PRELOAD", preload, 1);
			setenv("MEMFAIL_SOCKET", b->sock, 1);
			execl(self, "bench-mapper", "--mapper", dax, lentxt, fdtxt, (char *)NULL);
			_exit(127);
		}
		close(in[0]);
		m->stdin_fd[i] = in[1];
		m->n++;
	}
	close(rfd[1]);
	for (i = 0; i < n; i++)
		if (read(rfd[0], &c, 1) != 1)
			bench_fail("a mapper died before mapping", EIO);
	close(rfd[0]);
}

void bench_mappers_stop(struct bench_mappers *m)
{
	unsigned i;
	int status;

	for (i = 0; i < m->n; i++)
		close(m->stdin_fd[i]);
	for (i = 0; i < m->n; i++)
		waitpid(m->pid[i], &status, 0);
	m->n = 0;
}
