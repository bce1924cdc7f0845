// SPDX-License-Identifier: MIT
/* tests/lib/harness.c: see harness.h. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

const char *build_path(const char *rel)
{
	static char buf[8][PATH_MAX];
	static int k;
	char exe[PATH_MAX], *p = buf[k++ % 8];
	const char *env = getenv("MF_BUILD_DIR");
	ssize_t n;

	if (env) {
		snprintf(p, PATH_MAX, "%s/%s", env, rel);
		return p;
	}
	/* tests live in BUILD/tests/ */
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	exe[n > 0 ? n : 0] = '\0';
	snprintf(p, PATH_MAX, "%s/../%s", dirname(exe), rel);
	return p;
}

static int wait_ready(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	char buf[8];

	if (poll(&p, 1, ms) != 1)
		return -1;
	return read(fd, buf, sizeof(buf)) == 6 ? 0 : -1;
}

static int spawn_daemon(struct tdaemon *d)
{
	char ready[16];
	int pfd[2];

	if (pipe2(pfd, O_CLOEXEC))
		return -1;
	d->pid = fork();
	if (d->pid < 0)
		return -1;
	if (!d->pid) {
		char cmd[1024];
		int log = open(d->log, O_WRONLY | O_CREAT | O_APPEND, 0644);

		/* a test killed by its time limit takes its daemon along */
		prctl(PR_SET_PDEATHSIG, SIGKILL);

		if (log >= 0) {
			dup2(log, STDERR_FILENO);
			dup2(log, STDOUT_FILENO);
		}
		fcntl(pfd[1], F_SETFD, 0);
		snprintf(ready, sizeof(ready), "%d", pfd[1]);
		snprintf(cmd, sizeof(cmd), "exec '%s' --state-dir '%s' --socket '%s' --ready-fd %s %s",
			 build_path("memfaild"), d->state, d->sock, ready, d->args);
		unsetenv("LD_PRELOAD");
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	close(pfd[1]);
	if (wait_ready(pfd[0], 10000)) {
		close(pfd[0]);
		kill(d->pid, SIGKILL);
		waitpid(d->pid, NULL, 0);
		d->pid = 0;
		return -1;
	}
	close(pfd[0]);
	return 0;
}

int td_prepare(struct tdaemon *d, const char *args)
{
	memset(d, 0, sizeof(*d));
	snprintf(d->dir, sizeof(d->dir), "/tmp/mftest.XXXXXX");
	if (!mkdtemp(d->dir))
		return -1;
	chmod(d->dir, 0755);
	snprintf(d->sock, sizeof(d->sock), "%s/sock", d->dir);
	snprintf(d->state, sizeof(d->state), "%s/state", d->dir);
	snprintf(d->log, sizeof(d->log), "%s/log", d->dir);
	snprintf(d->args, sizeof(d->args), "%s", args ? args : "");
	return 0;
}

int td_start(struct tdaemon *d, const char *args)
{
	return td_prepare(d, args) ? -1 : spawn_daemon(d);
}

int td_start_fsdax(struct tdaemon *d, const char *args, const char *size,
		   char *mnt, size_t n)
{
	if (td_start(d, args))
		return -1;
	snprintf(mnt, n, "%s/mnt", d->dir);
	if (mkdir(mnt, 0755))
		return -1;
	return td_cli(d, NULL, 0, "create-namespace --size %s --mode fsdax --mount %s", size, mnt) ? -1 : 0;
}

int td_restart(struct tdaemon *d)
{
	return spawn_daemon(d);
}

static void reap(struct tdaemon *d, int sig)
{
	int i;

	if (d->pid <= 0)
		return;
	kill(d->pid, sig);
	for (i = 0; i < 500; i++) {
		if (waitpid(d->pid, NULL, WNOHANG) == d->pid)
			break;
		usleep(10000);
	}
	if (i == 500) {
		kill(d->pid, SIGKILL);
		waitpid(d->pid, NULL, 0);
	}
	d->pid = 0;
}

void td_stop(struct tdaemon *d)
{
	reap(d, SIGTERM);
}

void td_kill9(struct tdaemon *d)
{
	reap(d, SIGKILL);
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

void td_destroy(struct tdaemon *d)
{
	td_stop(d);
	if (d->dir[0] && !getenv("MF_KEEP_TEST_DIRS"))
		nftw(d->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	d->dir[0] = '\0';
}

int td_cli(struct tdaemon *d, char *out, size_t n, const char *fmt, ...)
{
	char args[1024], cmd[2048];
	va_list ap;
	size_t len = 0;
	FILE *f;
	int status;

	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	snprintf(cmd, sizeof(cmd), "env -u LD_PRELOAD MEMFAIL_SOCKET='%s' '%s' %s 2>>'%s.cli'",
		 d->sock, build_path("memfail"), args, d->log);
	f = popen(cmd, "r");
	if (!f)
		return -1;
	if (out && n) {
		len = fread(out, 1, n - 1, f);
		out[len] = '\0';
	} else {
		char sink[4096];

		while (fread(sink, 1, sizeof(sink), f) > 0)
			;
	}
	status = pclose(f);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

const char *td_log_text(struct tdaemon *d)
{
	static char buf[16384];
	size_t len = 0;
	FILE *f = fopen(d->log, "r");

	buf[0] = '\0';
	if (!f)
		return buf;
	len = fread(buf, 1, sizeof(buf) - 1, f);
	buf[len] = '\0';
	fclose(f);
	return buf;
}

int td_log_count(struct tdaemon *d, const char *needle)
{
	char line[1024];
	int count = 0;
	FILE *f = fopen(d->log, "r");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (strstr(line, needle))
			count++;
	fclose(f);
	return count;
}

int td_log_wait(struct tdaemon *d, const char *needle, int count, int ms)
{
	int got;

	while ((got = td_log_count(d, needle)) < count && ms > 0) {
		usleep(20000);
		ms -= 20;
	}
	return got;
}

int actor_start(struct actor *a, struct tdaemon *d, const char *name)
{
	int to[2], from[2];

	memset(a, 0, sizeof(*a));
	snprintf(a->name, sizeof(a->name), "%s", name);
	if (pipe2(to, O_CLOEXEC) || pipe2(from, O_CLOEXEC))
		return -1;
	a->pid = fork();
	if (a->pid < 0)
		return -1;
	if (!a->pid) {
		dup2(to[0], STDIN_FILENO);
		dup2(from[1], STDOUT_FILENO);
		setenv("MEMFAIL_SOCKET", d->sock, 1);
		setenv("LD_PRELOAD", build_path("libmemfail-preload.so"), 1);
		execl(build_path("tests/mfactor"), name, name, (char *)NULL);
		_exit(127);
	}
	close(to[0]);
	close(from[1]);
	a->to = to[1];
	a->from = from[0];
	return 0;
}

static int actor_vsend(struct actor *a, const char *fmt, va_list ap)
{
	char cmd[1024];

	if (a->exited)
		return -1;
	vsnprintf(cmd, sizeof(cmd) - 1, fmt, ap);
	strcat(cmd, "\n");
	return write(a->to, cmd, strlen(cmd)) < 0 ? -1 : 0;
}

int actor_send(struct actor *a, const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = actor_vsend(a, fmt, ap);
	va_end(ap);
	return ret;
}

const char *actor_cmd(struct actor *a, const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = actor_vsend(a, fmt, ap);
	va_end(ap);
	if (ret) {
		if (!a->exited)
			actor_wait(a, 5000);
		return NULL;
	}
	return actor_reply(a);
}

const char *actor_reply(struct actor *a)
{
	size_t len = 0;
	int waited = 0;

	if (a->exited)
		return NULL;
	while (len < sizeof(a->reply) - 1) {
		struct pollfd p = { .fd = a->from, .events = POLLIN };
		ssize_t r;

		if (poll(&p, 1, 100) == 0) {
			if ((waited += 100) >= 20000)
				goto dead;
			continue;
		}
		r = read(a->from, a->reply + len, 1);
		if (r <= 0)
			goto dead;
		if (a->reply[len] == '\n')
			break;
		len++;
	}
	a->reply[len] = '\0';
	return a->reply;
dead:
	actor_wait(a, 5000);
	return NULL;
}

int actor_map(struct actor *a, struct tdaemon *d, const char *name, const char *dev,
	      size_t len, int fill)
{
	if (actor_start(a, d, name) ||
	    !reply_has(actor_cmd(a, "open %s", dev), "ok") ||
	    !reply_has(actor_cmd(a, "mmap %#zx 0", len), "ok"))
		return -1;
	if (fill >= 0 && !reply_has(actor_cmd(a, "fill 0 %#x", fill), "ok"))
		return -1;
	return 0;
}

int actor_wait(struct actor *a, int ms)
{
	int status;

	if (a->exited)
		return a->status;
	for (;;) {
		pid_t r = waitpid(a->pid, &status, WNOHANG);

		if (r == a->pid) {
			a->exited = true;
			a->status = status;
			close(a->to);
			close(a->from);
			return status;
		}
		if (ms <= 0)
			return -1;
		usleep(10000);
		ms -= 10;
	}
}

void actor_kill(struct actor *a)
{
	if (!a->pid || a->exited)
		return;
	kill(a->pid, SIGKILL);
	actor_wait(a, 5000);
}

bool actor_killed_by(struct actor *a, int sig)
{
	return a->exited && WIFSIGNALED(a->status) && WTERMSIG(a->status) == sig;
}

long long reply_int(const char *reply, const char *key, long long def)
{
	char pat[64];
	const char *p;
	size_t kl;

	if (!reply)
		return def;
	snprintf(pat, sizeof(pat), "%s=", key);
	kl = strlen(pat);
	for (p = reply; (p = strstr(p, pat)); p += kl)
		if (p == reply || p[-1] == ' ' || p[-1] == '[')
			return strtoll(p + kl, NULL, 0);
	return def;
}

bool reply_has(const char *reply, const char *word)
{
	size_t wl = strlen(word);

	return reply && !strncmp(reply, word, wl) && (reply[wl] == ' ' || !reply[wl]);
}
