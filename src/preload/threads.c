// SPDX-License-Identifier: MIT
/*
 * preload/threads.c: which thread of this process takes an early-kill
 * signal, read from the kernel's own per-thread flags.
 *
 * Linux's find_early_kill_thread(): the first thread, in thread-list
 * order, that has PF_MCE_PROCESS and PF_MCE_EARLY, or lacks
 * PF_MCE_PROCESS while vm.memory_failure_early_kill is 1.  The flags are
 * the 9th field of /proc/self/task/<tid>/stat; the directory lists the
 * threads in thread-list order, the leader first.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../util/util.h"
#include "preload.h"

#define PF_MCE_PROCESS	0x00000080UL
#define PF_MCE_EARLY	0x08000000UL

pid_t service_tid;

static bool task_flags(pid_t tid, unsigned long *flags)
{
	char path[64], buf[1024], *p;
	int fd, i;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", (int)tid);
	fd = real.open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = real.read(fd, buf, sizeof(buf) - 1);
	real.close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	/* comm may hold spaces and parentheses: fields start after the last ')' */
	p = strrchr(buf, ')');
	if (!p)
		return false;
	p++;
	/* ") state ppid pgrp session tty_nr tpgid flags": six blanks on */
	for (i = 0; i < 6 && p; i++)
		p = strchr(p + 1, ' ');
	if (!p)
		return false;
	*flags = strtoul(p + 1, NULL, 10);
	return true;
}

pid_t threads_early_kill(int sysctl_early_kill)
{
	struct dirent *de;
	pid_t found = 0;
	DIR *d;

	d = opendir("/proc/self/task");
	if (!d)
		return 0;
	while (!found && (de = readdir(d))) {
		pid_t tid = (pid_t)atoi(de->d_name);
		unsigned long f;

		if (tid <= 0 || tid == service_tid || !task_flags(tid, &f))
			continue;
		if (f & PF_MCE_PROCESS) {
			if (f & PF_MCE_EARLY)
				found = tid;
		} else if (sysctl_early_kill) {
			found = tid;
		}
	}
	closedir(d);
	return found;
}

bool thread_alive(pid_t tid)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/self/task/%d", (int)tid);
	return tid > 0 && access(path, F_OK) == 0;
}

void thread_comm(pid_t tid, char *buf, size_t n)
{
	char path[64];
	ssize_t r;
	int fd;

	buf[0] = '\0';
	snprintf(path, sizeof(path), "/proc/self/task/%d/comm", (int)tid);
	fd = real.open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	r = real.read(fd, buf, n - 1);
	real.close(fd);
	if (r <= 0) {
		buf[0] = '\0';
		return;
	}
	buf[r] = '\0';
	if (buf[r - 1] == '\n')
		buf[r - 1] = '\0';
}
