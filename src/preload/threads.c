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
 *
 * Reading them costs a few system calls per thread, and the daemon asks
 * on every shootdown, so the answer is kept until something that could
 * change it happens: a prctl(PR_MCE_KILL) or a name change (both pass
 * through here), a new thread (pthread_create passes through here), or
 * the death of the thread the answer names.  Threads made with a raw
 * clone() are not seen until one of those happens.
 */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <stdarg.h>
#include <sys/prctl.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../util/util.h"
#include "preload.h"

#define PF_MCE_PROCESS	0x00000080UL
#define PF_MCE_EARLY	0x08000000UL

pid_t service_tid;

static atomic_uint policy_gen;

/* the service thread's cache; it is the only one to use it */
static struct {
	bool valid;
	unsigned gen;
	int sysctl;
	pid_t early;
	char early_comm[16];
	char main_comm[16];
} cache;

void threads_changed(void)
{
	atomic_fetch_add_explicit(&policy_gen, 1, memory_order_release);
}

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

static pid_t scan_early_kill(int sysctl_early_kill)
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
	/* signal 0: the permission and existence checks, nothing sent */
	return tid > 0 && syscall(SYS_tgkill, getpid(), tid, 0) == 0;
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

void threads_policy(int sysctl_early_kill, pid_t *early, char *early_comm,
		    char *main_comm, size_t n)
{
	unsigned gen = atomic_load_explicit(&policy_gen, memory_order_acquire);

	if (!cache.valid || cache.gen != gen || cache.sysctl != sysctl_early_kill ||
	    (cache.early && !thread_alive(cache.early))) {
		cache.early = scan_early_kill(sysctl_early_kill);
		cache.early_comm[0] = '\0';
		if (cache.early)
			thread_comm(cache.early, cache.early_comm, sizeof(cache.early_comm));
		thread_comm(getpid(), cache.main_comm, sizeof(cache.main_comm));
		cache.gen = gen;
		cache.sysctl = sysctl_early_kill;
		cache.valid = true;
	}
	*early = cache.early;
	strlcpy_mf(early_comm, cache.early_comm, n);
	strlcpy_mf(main_comm, cache.main_comm, n);
}

PRELOAD_ENTRY int prctl(int option, ...)
{
	unsigned long a2, a3, a4, a5;
	va_list ap;
	int ret;

	va_start(ap, option);
	a2 = va_arg(ap, unsigned long);
	a3 = va_arg(ap, unsigned long);
	a4 = va_arg(ap, unsigned long);
	a5 = va_arg(ap, unsigned long);
	va_end(ap);
	EARLY(real.prctl(option, a2, a3, a4, a5));
	/* the kernel's own PR_MCE_KILL: we only learn that it changed */
	ret = real.prctl(option, a2, a3, a4, a5);
	if (option == PR_MCE_KILL || option == PR_SET_NAME)
		threads_changed();
	return ret;
}

/*
 * A thread being started is inside the C library and any sanitizer
 * runtime until its start routine runs: ASan's pthread_create and the new
 * thread's start-up allocate and free.  GCC 12's ASan takes no allocator
 * lock across fork(), so a child forked then inherits an allocator lock
 * held by a thread it does not have, and its first allocation waits for
 * it forever; ours is at once, as the child's fork handler starts its
 * service thread (init.c).  So pthread_create() returns only once the
 * new thread is in its start routine, and fork() waits for every
 * pthread_create() under way; none begins while a fork() waits or runs.
 * No lock is held across fork(): a sanitizer's own fork handler in the
 * child starts a thread through here before ours runs, and is let
 * through (in_fork) as the thread that forks.  The two counters are
 * sequentially consistent: a creator sees the fork, or the fork sees it.
 */
static atomic_int threads_starting, forks_waiting;
static __thread bool in_fork;

struct thread_start {
	void *(*fn)(void *);
	void *arg;
	sem_t started;
};

static void *thread_start_main(void *p)
{
	struct thread_start *ts = p;
	void *(*fn)(void *) = ts->fn;
	void *arg = ts->arg;

	/* ts is on the creator's stack: not to be touched after this */
	sem_post(&ts->started);
	return fn(arg);
}

/* fork(): from here to threads_fork_unlock(), no thread is being started
 * (a start takes a few system calls: yielding is enough) */
void threads_fork_lock(void)
{
	atomic_fetch_add(&forks_waiting, 1);
	in_fork = true;
	while (atomic_load(&threads_starting))
		sched_yield();
}

void threads_fork_unlock(bool child)
{
	in_fork = false;
	if (child) {
		/* the other threads, starting or forking, are not here */
		atomic_store(&threads_starting, 0);
		atomic_store(&forks_waiting, 0);
	} else {
		atomic_fetch_sub(&forks_waiting, 1);
	}
}

static void thread_start_enter(void)
{
	for (;;) {
		while (atomic_load(&forks_waiting))
			sched_yield();
		atomic_fetch_add(&threads_starting, 1);
		if (!atomic_load(&forks_waiting))
			return;
		atomic_fetch_sub(&threads_starting, 1);
	}
}

PRELOAD_ENTRY int pthread_create(pthread_t *t, const pthread_attr_t *attr,
				 void *(*fn)(void *), void *arg)
{
	struct thread_start ts = { .fn = fn, .arg = arg };
	int ret;

	EARLY(real.pthread_create(t, attr, fn, arg));
	if (in_fork)
		return real.pthread_create(t, attr, fn, arg);
	sem_init(&ts.started, 0, 0);
	thread_start_enter();
	ret = real.pthread_create(t, attr, thread_start_main, &ts);
	while (!ret && sem_wait(&ts.started) && errno == EINTR)
		;
	atomic_fetch_sub(&threads_starting, 1);
	sem_destroy(&ts.started);
	/* it inherited its creator's policy, and may come first */
	threads_changed();
	return ret;
}
