// SPDX-License-Identifier: MIT
/*
 * tests/progs/mfactor-mem.c: mfactor's commands for ordinary memory and
 * for the kernel's files that tell what poison did, using nothing but
 * the Linux ABI.
 *
 *   mapmem KIND LEN [PATH]   a mapping of ordinary memory (next index):
 *                            anon, anon-shared, memfd, file PATH (MAP_SHARED),
 *                            pfile PATH (MAP_PRIVATE), mlock, thp (2 MiB
 *                            aligned, MADV_HUGEPAGE), hugetlb, hugetlb-shared
 *                            dax PATH (fallocate()d, MAP_SHARED at a 2 MiB
 *                            aligned address: an fsdax file PMD-mappable),
 *                            (a MFD_HUGETLB memfd), sysv (shmget);
 *                            anon LEN at=ADDR: at that address
 *   pm IDX OFF               the page's /proc/self/pagemap entry, decoded
 *   kpf PFN                  /proc/kpageflags of a pfn
 *   hc                       /proc/meminfo HardwareCorrupted, kB
 *   fwrite PATH TEXT         open(O_WRONLY) + write(TEXT "\n")
 *   fcat PATH                the first line of a file
 *   pread IDX OFF LEN        pread() of the mapping's file
 *   pwrite IDX OFF LEN BYTE  pwrite() of LEN bytes BYTE to the mapping's file
 *   mapfd IDX                the descriptor of mapping IDX's file
 *   readfile PATH            open() and read() to the end: bytes, errno
 *   appendfile PATH TEXT     open(O_APPEND) and one write() of TEXT
 *   openfd PATH              open(O_RDWR): the descriptor, kept open
 *   dupfd FD [TO]            dup(FD), or dup2(FD, TO) (RLIMIT_NOFILE
 *                            raised to fit TO): the new descriptor
 *   fsyncfd FD | closefd FD  fsync() / close() of a descriptor
 *   svc                      is the shim's service thread running here
 *   capdrop CAP              take capability CAP out of the effective set
 *   mapsame IDX N            N more MAP_SHARED mappings of mapping IDX's
 *                            file (kept apart, unnamed)
 *   touchsame OFF            load OFF in each of them: how many faulted
 *   fsync IDX | msync IDX    of the mapping's file / the mapping
 *   thread-touch IDX OFF     a new thread loads the byte; who got the SIGBUS
 *   execself NAME            exec() this program again (stdin/stdout stay)
 *   system CMD...            system(CMD)
 *   spawn CMD...             posix_spawn("/bin/sh", "-c", CMD)
 *   segvhandler              a SIGSEGV handler of the program's own
 *   nullsegv                 load from address 0 (the program's own fault)
 *   altstack                 SIGBUS handled on a sigaltstack
 *   prctlraw OPT A2 A3 A4 A5 prctl() with these arguments as given
 *   mprotect IDX OFF LEN none|r|rw
 *   ftruncate IDX LEN        of the mapping's file
 *   punch IDX OFF LEN        fallocate(PUNCH_HOLE|KEEP_SIZE) of it
 *   truncate PATH LEN        truncate() by path
 *   execserve                exec() this program again, serving the same
 *                            pipes (a forked child) or stdin/stdout
 *   sigwho                   which thread got the last SIGBUS: main|thread
 *   unshare-ipc              a SysV IPC namespace of our own (ids from 0)
 *   thread-madvise IDX OFF LEN ADVICE   madvise from a new thread: who got
 *                            the SIGBUS of the call (thread, main, none)
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/capability.h>

#include "mfactor.h"

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif
#ifndef MFD_HUGETLB
#define MFD_HUGETLB 4U
#endif

extern char **environ;

static int add_map(void *p, size_t len, int fd, char *out, size_t n)
{
	if (p == MAP_FAILED) {
		snprintf(out, n, "err errno=%d", errno);
		if (fd >= 0)
			close(fd);
		return 1;
	}
	if (nr_maps == MAX_MAPS) {
		snprintf(out, n, "err too-many");
		return 1;
	}
	maps[nr_maps].addr = p;
	maps[nr_maps].len = len;
	maps[nr_maps].fd = fd;
	snprintf(out, n, "ok idx=%d addr=%#lx", nr_maps, (unsigned long)p);
	nr_maps++;
	return 1;
}

static int map_mem(const char *kind, size_t len, const char *path, char *out, size_t n)
{
	const int rw = PROT_READ | PROT_WRITE;
	int fd = -1;
	void *p;

	if (!strcmp(kind, "anon") || !strcmp(kind, "mlock")) {
		/* at=ADDR: there, or fail (another process's layout) */
		void *at = path && !strncmp(path, "at=", 3) ?
			   (void *)(uintptr_t)strtoull(path + 3, NULL, 0) : NULL;

		p = mmap(at, len, rw, MAP_PRIVATE | MAP_ANONYMOUS |
			 (at ? MAP_FIXED_NOREPLACE : 0) |
			 (kind[0] == 'm' ? MAP_LOCKED : 0), -1, 0);
		if (p != MAP_FAILED && kind[0] == 'a')
			madvise(p, len, MADV_NOHUGEPAGE);
	} else if (!strcmp(kind, "anon-shared")) {
		p = mmap(NULL, len, rw, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	} else if (!strcmp(kind, "memfd") || !strcmp(kind, "hugetlb-shared")) {
		fd = memfd_create("mfactor", kind[0] == 'h' ? MFD_HUGETLB : 0);
		if (fd < 0 || ftruncate(fd, (off_t)len)) {
			snprintf(out, n, "err errno=%d", errno);
			return 1;
		}
		p = mmap(NULL, len, rw, MAP_SHARED, fd, 0);
	} else if ((!strcmp(kind, "file") || !strcmp(kind, "pfile")) && path) {
		struct stat st;

		fd = open(path, O_RDWR | O_CREAT, 0644);
		if (fd < 0 || fstat(fd, &st) ||
		    ((size_t)st.st_size < len && ftruncate(fd, (off_t)len))) {
			snprintf(out, n, "err errno=%d", errno);
			return 1;
		}
		p = mmap(NULL, len, rw, kind[0] == 'p' ? MAP_PRIVATE : MAP_SHARED, fd, 0);
	} else if (!strcmp(kind, "dax") && path) {
		char *q;

		fd = open(path, O_RDWR | O_CREAT, 0644);
		if (fd < 0 || fallocate(fd, 0, 0, (off_t)len)) {
			snprintf(out, n, "err errno=%d", errno);
			return 1;
		}
		/* a 2 MiB aligned hole for it, so that a fault may map a PMD */
		q = mmap(NULL, len + (2 << 20), PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (q == MAP_FAILED) {
			snprintf(out, n, "err errno=%d", errno);
			return 1;
		}
		p = (void *)(((uintptr_t)q + (2 << 20) - 1) & ~((uintptr_t)(2 << 20) - 1));
		p = mmap(p, len, rw, MAP_SHARED | MAP_FIXED, fd, 0);
	} else if (!strcmp(kind, "thp")) {
		char *q = mmap(NULL, len + (2 << 20), rw, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (q == MAP_FAILED) {
			snprintf(out, n, "err errno=%d", errno);
			return 1;
		}
		p = (void *)(((uintptr_t)q + (2 << 20) - 1) & ~((uintptr_t)(2 << 20) - 1));
		madvise(p, len, MADV_HUGEPAGE);
	} else if (!strcmp(kind, "hugetlb")) {
		p = mmap(NULL, len, rw, MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
	} else if (!strcmp(kind, "sysv")) {
		int id = shmget(IPC_PRIVATE, len, IPC_CREAT | 0600);

		p = id < 0 ? MAP_FAILED : shmat(id, NULL, 0);
		if (id >= 0)
			shmctl(id, IPC_RMID, NULL);
		if (p == (void *)-1)
			p = MAP_FAILED;
	} else {
		snprintf(out, n, "err usage");
		return 1;
	}
	return add_map(p, len, fd, out, n);
}

static uint64_t pagemap_of(const void *a)
{
	uint64_t e = 0;
	int fd = open("/proc/self/pagemap", O_RDONLY);

	if (fd < 0 || pread(fd, &e, 8, (off_t)(((uintptr_t)a / 4096) * 8)) != 8)
		e = 0;
	if (fd >= 0)
		close(fd);
	return e;
}

static volatile int alt_on;
static stack_t alt;
static sigjmp_buf alt_jb;

static void on_alt(int sig, siginfo_t *si, void *uc)
{
	char here;

	(void)sig;
	(void)si;
	(void)uc;
	alt_on = (uintptr_t)&here >= (uintptr_t)alt.ss_sp &&
		 (uintptr_t)&here < (uintptr_t)alt.ss_sp + alt.ss_size;
	siglongjmp(alt_jb, si->si_code);
}

static volatile int segv_code = -1;
static volatile uintptr_t segv_addr;
static sigjmp_buf segv_jb;

static void on_segv(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	segv_code = si->si_code;
	segv_addr = (uintptr_t)si->si_addr;
	siglongjmp(segv_jb, 1);
}

struct touch_arg {
	char *p;
	pid_t tid;
	char out[256];
};

static void *touch_thread(void *arg)
{
	struct touch_arg *t = arg;

	t->tid = gettid_();
	access_byte(t->p, 0, 0, t->out, sizeof(t->out));
	return NULL;
}

struct madvise_arg {
	char cmd[160];
	pid_t tid;
	char out[512];
};

static void *madvise_thread(void *arg)
{
	struct madvise_arg *t = arg;

	t->tid = gettid_();
	do_command(t->cmd, t->out, sizeof(t->out));
	return NULL;
}

static void read_file(const char *path, char *out, size_t n)
{
	static char buf[1 << 16];
	size_t total = 0;
	ssize_t r;
	int fd = open(path, O_RDONLY);

	if (fd < 0) {
		snprintf(out, n, "err errno=%d", errno);
		return;
	}
	while ((r = read(fd, buf, sizeof(buf))) > 0)
		total += (size_t)r;
	snprintf(out, n, "ok total=%#zx errno=%d", total, r < 0 ? errno : 0);
	close(fd);
}

/* Threads are named in their comm; stdio reads it (not read()). */
static int has_thread(const char *name)
{
	struct dirent *de;
	char path[300], comm[32];
	int found = 0;
	DIR *d = opendir("/proc/self/task");

	while (d && !found && (de = readdir(d))) {
		FILE *f;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%s/comm", de->d_name);
		f = fopen(path, "r");
		if (f && fgets(comm, sizeof(comm), f))
			found = !strncmp(comm, name, strlen(name));
		if (f)
			fclose(f);
	}
	if (d)
		closedir(d);
	return found;
}

/* capset(2) of the calling thread: CAP out of its effective set */
static int cap_drop(unsigned cap)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct c[2];

	if (cap >= 64 || syscall(SYS_capget, &h, c))
		return -1;
	c[cap / 32].effective &= ~(1u << (cap % 32));
	return (int)syscall(SYS_capset, &h, c);
}

#define MAX_SAME 64
static char *same[MAX_SAME];
static int nr_same;

static void map_same(struct mapping *m, int k, char *out, size_t n)
{
	int i;

	for (i = 0; i < k && nr_same < MAX_SAME; i++) {
		void *p = mmap(NULL, m->len, PROT_READ | PROT_WRITE, MAP_SHARED, m->fd, 0);

		if (p == MAP_FAILED)
			break;
		same[nr_same++] = p;
	}
	snprintf(out, n, "ok mapped=%d errno=%d", i, i < k ? errno : 0);
}

static void touch_same(size_t off, char *out, size_t n)
{
	char tmp[256];
	int i, bad = 0;

	for (i = 0; i < nr_same; i++) {
		access_byte(same[i] + off, 0, 0, tmp, sizeof(tmp));
		bad += !strncmp(tmp, "sigbus", 6);
	}
	snprintf(out, n, "ok maps=%d faulted=%d", nr_same, bad);
}

/* the rest of the words, as one string */
static void join(int argc, char **argv, int from, char *buf, size_t n)
{
	size_t len = 0;
	int i;

	buf[0] = '\0';
	for (i = from; i < argc && len < n; i++)
		len += (size_t)snprintf(buf + len, n - len, "%s%s", i > from ? " " : "", argv[i]);
}

int mem_command(int argc, char **argv, char *out, size_t n)
{
	struct mapping *m;

	if (churn_command(argc, argv, out, n) || blk_command(argc, argv, out, n))
		return 1;

	if (!strcmp(argv[0], "mapmem") && argc >= 3)
		return map_mem(argv[1], strtoull(argv[2], NULL, 0), argc > 3 ? argv[3] : NULL, out, n);
	if (!strcmp(argv[0], "pm") && argc >= 3) {
		uint64_t e;

		m = get_map(argv[1]);
		if (!m) {
			snprintf(out, n, "err no-map");
			return 1;
		}
		e = pagemap_of(m->addr + strtoull(argv[2], NULL, 0));
		snprintf(out, n, "ok raw=%#llx present=%d swap=%d file=%d exclusive=%d softdirty=%d pfn=%#llx swp_type=%d swp_off=%#llx",
			 (unsigned long long)e, (int)(e >> 63), (int)((e >> 62) & 1), (int)((e >> 61) & 1),
			 (int)((e >> 56) & 1), (int)((e >> 55) & 1),
			 (unsigned long long)((e >> 63) ? e & ((1ULL << 55) - 1) : 0),
			 ((e >> 62) & 1) ? (int)(e & 31) : -1,
			 (unsigned long long)(((e >> 62) & 1) ? (e & ((1ULL << 55) - 1)) >> 5 : 0));
		return 1;
	}
	if (!strcmp(argv[0], "kpf") && argc >= 2) {
		uint64_t f = 0, pfn = strtoull(argv[1], NULL, 0);
		int fd = open("/proc/kpageflags", O_RDONLY);
		ssize_t r = fd < 0 ? -1 : pread(fd, &f, 8, (off_t)(pfn * 8));

		snprintf(out, n, "ok ret=%zd errno=%d flags=%#llx hwpoison=%d", r, r < 0 ? errno : 0,
			 (unsigned long long)f, (int)((f >> 19) & 1));
		if (fd >= 0)
			close(fd);
		return 1;
	}
	if (!strcmp(argv[0], "hc")) {
		FILE *f = fopen("/proc/meminfo", "r");
		char line[256];
		long kb = -1;

		while (f && fgets(line, sizeof(line), f))
			if (sscanf(line, "HardwareCorrupted: %ld kB", &kb) == 1)
				break;
		if (f)
			fclose(f);
		snprintf(out, n, "ok kb=%ld", kb);
		return 1;
	}
	if (!strcmp(argv[0], "fwrite") && argc >= 3) {
		char text[128];
		int fd = open(argv[1], O_WRONLY), e;
		ssize_t r;

		if (fd < 0) {
			snprintf(out, n, "ok ret=-1 errno=%d at=open", errno);
			return 1;
		}
		snprintf(text, sizeof(text), "%s\n", argv[2]);
		r = write(fd, text, strlen(text));
		e = r < 0 ? errno : 0;
		close(fd);
		snprintf(out, n, "ok ret=%zd errno=%d at=write", r, e);
		return 1;
	}
	if (!strcmp(argv[0], "fcat") && argc >= 2) {
		FILE *f = fopen(argv[1], "r");
		char line[256] = "", *c;

		if (!f) {
			snprintf(out, n, "err errno=%d", errno);
			return 1;
		}
		if (!fgets(line, sizeof(line), f))
			line[0] = '\0';
		fclose(f);
		line[strcspn(line, "\n")] = '\0';
		for (c = line; *c; c++)
			if (*c == ' ')
				*c = '_';
		snprintf(out, n, "ok text=%s", line);
		return 1;
	}
	if (!strcmp(argv[0], "pwrite") && argc >= 5) {
		static char wbuf[1 << 16];
		size_t len = strtoull(argv[3], NULL, 0);
		ssize_t r;

		m = get_map(argv[1]);
		if (!m || m->fd < 0 || len > sizeof(wbuf)) {
			snprintf(out, n, "err no-map");
			return 1;
		}
		memset(wbuf, (int)strtoul(argv[4], NULL, 0), len);
		r = pwrite(m->fd, wbuf, len, (off_t)strtoull(argv[2], NULL, 0));
		snprintf(out, n, "ok ret=%zd errno=%d", r, r < 0 ? errno : 0);
		return 1;
	}
	if ((!strcmp(argv[0], "pread") && argc >= 4) || (!strcmp(argv[0], "fsync") && argc >= 2) ||
	    (!strcmp(argv[0], "msync") && argc >= 2)) {
		static char buf[1 << 16];
		ssize_t r;

		m = get_map(argv[1]);
		if (!m || (argv[0][0] != 'm' && m->fd < 0)) {
			snprintf(out, n, "err no-map");
			return 1;
		}
		if (argv[0][0] == 'p') {
			size_t len = strtoull(argv[3], NULL, 0);

			r = pread(m->fd, buf, len < sizeof(buf) ? len : sizeof(buf),
				  (off_t)strtoull(argv[2], NULL, 0));
			snprintf(out, n, "ok ret=%zd errno=%d first=%#x", r, r < 0 ? errno : 0,
				 r > 0 ? (unsigned char)buf[0] : 0);
		} else {
			r = argv[0][0] == 'f' ? fsync(m->fd) : msync(m->addr, m->len, MS_SYNC);
			snprintf(out, n, "ok ret=%zd errno=%d", r, r < 0 ? errno : 0);
		}
		return 1;
	}
	if (!strcmp(argv[0], "mapfd") && argc >= 2) {
		m = get_map(argv[1]);
		snprintf(out, n, m ? "ok fd=%d" : "err no-map", m ? m->fd : -1);
		return 1;
	}
	if (!strcmp(argv[0], "readfile") && argc >= 2) {
		read_file(argv[1], out, n);
		return 1;
	}
	if (!strcmp(argv[0], "appendfile") && argc >= 3) {
		int fd = open(argv[1], O_WRONLY | O_APPEND);
		ssize_t r = fd < 0 ? -1 : write(fd, argv[2], strlen(argv[2]));

		snprintf(out, n, "ok ret=%zd errno=%d", r, r < 0 ? errno : 0);
		if (fd >= 0)
			close(fd);
		return 1;
	}
	if (!strcmp(argv[0], "openfd") && argc >= 2) {
		int fd = open(argv[1], O_RDWR);

		snprintf(out, n, "ok fd=%d errno=%d", fd, fd < 0 ? errno : 0);
		return 1;
	}
	if (!strcmp(argv[0], "dupfd") && argc >= 2) {
		int fd = atoi(argv[1]), to = argc >= 3 ? atoi(argv[2]) : -1, r;

		if (to >= 0) {
			struct rlimit rl;

			if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur <= (rlim_t)to) {
				rl.rlim_cur = (rlim_t)to + 1;
				if (rl.rlim_max < rl.rlim_cur)
					rl.rlim_max = rl.rlim_cur;
				setrlimit(RLIMIT_NOFILE, &rl);
			}
			r = dup2(fd, to);
		} else {
			r = dup(fd);
		}
		snprintf(out, n, "ok fd=%d errno=%d", r, r < 0 ? errno : 0);
		return 1;
	}
	if ((!strcmp(argv[0], "fsyncfd") || !strcmp(argv[0], "closefd")) && argc >= 2) {
		int fd = atoi(argv[1]);
		int r = argv[0][0] == 'f' ? fsync(fd) : close(fd);

		snprintf(out, n, "ok ret=%d errno=%d", r, r < 0 ? errno : 0);
		return 1;
	}
	if (!strcmp(argv[0], "capdrop") && argc >= 2) {
		int r = cap_drop((unsigned)atoi(argv[1]));

		snprintf(out, n, "ok ret=%d errno=%d", r, r < 0 ? errno : 0);
		return 1;
	}
	if (!strcmp(argv[0], "svc")) {
		snprintf(out, n, "ok svc=%d", has_thread("memfail-svc"));
		return 1;
	}
	if (!strcmp(argv[0], "mapsame") && argc >= 3) {
		m = get_map(argv[1]);
		if (!m || m->fd < 0) {
			snprintf(out, n, "err no-map");
			return 1;
		}
		map_same(m, atoi(argv[2]), out, n);
		return 1;
	}
	if (!strcmp(argv[0], "touchsame") && argc >= 2) {
		touch_same(strtoull(argv[1], NULL, 0), out, n);
		return 1;
	}
	if (!strcmp(argv[0], "thread-touch") && argc >= 3) {
		struct touch_arg t = { 0 };
		pthread_t th;

		m = get_map(argv[1]);
		if (!m) {
			snprintf(out, n, "err no-map");
			return 1;
		}
		t.p = m->addr + strtoull(argv[2], NULL, 0);
		pthread_create(&th, NULL, touch_thread, &t);
		pthread_join(th, NULL);
		snprintf(out, n, "%s thread=%d main=%d", t.out, (int)t.tid, (int)getpid());
		return 1;
	}
	if (!strcmp(argv[0], "execself") && argc >= 2) {
		char *args[] = { (char *)"mfactor", argv[1], NULL };

		fflush(stdout);
		/* the answer comes from the new image's first line */
		printf("ok exec\n");
		fflush(stdout);
		execve("/proc/self/exe", args, environ);
		snprintf(out, n, "err errno=%d", errno);
		return 1;
	}
	if ((!strcmp(argv[0], "system") || !strcmp(argv[0], "spawn")) && argc >= 2) {
		char cmd[512];
		int status = -1;

		join(argc, argv, 1, cmd, sizeof(cmd));
		fflush(stdout);
		if (argv[0][1] == 'y') {
			status = system(cmd);
		} else {
			char *args[] = { (char *)"sh", (char *)"-c", cmd, NULL };
			pid_t pid;

			if (!posix_spawn(&pid, "/bin/sh", NULL, NULL, args, environ))
				waitpid(pid, &status, 0);
		}
		snprintf(out, n, "ok status=%d exited=%d code=%d signal=%d", status,
			 WIFEXITED(status), WIFEXITED(status) ? WEXITSTATUS(status) : -1,
			 WIFSIGNALED(status) ? WTERMSIG(status) : 0);
		return 1;
	}
	if (!strcmp(argv[0], "prctlraw") && argc >= 6) {
		int r = prctl(atoi(argv[1]), strtoul(argv[2], NULL, 0), strtoul(argv[3], NULL, 0),
			      strtoul(argv[4], NULL, 0), strtoul(argv[5], NULL, 0));

		snprintf(out, n, "ok ret=%d errno=%d", r, r < 0 ? errno : 0);
		return 1;
	}
	if (!strcmp(argv[0], "mprotect") && argc >= 5) {
		int prot = !strcmp(argv[4], "none") ? PROT_NONE : !strcmp(argv[4], "r") ? PROT_READ :
			   PROT_READ | PROT_WRITE;
		int r;

		m = get_map(argv[1]);
		if (!m) {
			snprintf(out, n, "err no-map");
			return 1;
		}
		r = mprotect(m->addr + strtoull(argv[2], NULL, 0), strtoull(argv[3], NULL, 0), prot);
		snprintf(out, n, "ok ret=%d errno=%d", r, r < 0 ? errno : 0);
		return 1;
	}
	if (!strcmp(argv[0], "ftruncate") && argc >= 3) {
		int r;

		m = get_map(argv[1]);
		if (!m || m->fd < 0) {
			snprintf(out, n, "err no-map");
			return 1;
		}
		r = ftruncate(m->fd, (off_t)strtoull(argv[2], NULL, 0));
		snprintf(out, n, "ok ret=%d errno=%d", r, r < 0 ? errno : 0);
		return 1;
	}
	if (!strcmp(argv[0], "truncate") && argc >= 3) {
		int r = truncate(argv[1], (off_t)strtoull(argv[2], NULL, 0));

		snprintf(out, n, "ok ret=%d errno=%d", r, r < 0 ? errno : 0);
		return 1;
	}
	if (!strcmp(argv[0], "punch") && argc >= 4) {
		int r;

		m = get_map(argv[1]);
		if (!m || m->fd < 0) {
			snprintf(out, n, "err no-map");
			return 1;
		}
		r = fallocate(m->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			      (off_t)strtoull(argv[2], NULL, 0), (off_t)strtoull(argv[3], NULL, 0));
		snprintf(out, n, "ok ret=%d errno=%d", r, r < 0 ? errno : 0);
		return 1;
	}
	if (!strcmp(argv[0], "execserve")) {
		char *args[] = { (char *)"mfactor", (char *)"serve", NULL };
		static const char ok[] = "ok exec\n";

		/* the new image answers on the same descriptors */
		if ((serve_in_fd != 0 && dup2(serve_in_fd, 0) < 0) ||
		    (serve_out_fd != 1 && dup2(serve_out_fd, 1) < 0)) {
			snprintf(out, n, "err errno=%d", errno);
			return 1;
		}
		fflush(stdout);
		if (write(1, ok, sizeof(ok) - 1) < 0) {
			snprintf(out, n, "err errno=%d", errno);
			return 1;
		}
		execve("/proc/self/exe", args, environ);
		snprintf(out, n, "err errno=%d", errno);
		return 1;
	}
	if (!strcmp(argv[0], "thread-madvise") && argc >= 5) {
		struct madvise_arg t = { .tid = 0 };
		int before = sigs_seen();
		const char *by = "none";
		pthread_t th;

		snprintf(t.cmd, sizeof(t.cmd), "madvise %s %s %s %s", argv[1], argv[2], argv[3], argv[4]);
		pthread_create(&th, NULL, madvise_thread, &t);
		pthread_join(th, NULL);
		if (sigs_seen() > before)
			by = sigs[before].tid == t.tid ? "thread" : "main";
		snprintf(out, n, "%s by=%s", t.out, by);
		return 1;
	}
	if (!strcmp(argv[0], "unshare-ipc")) {
		int r = unshare(CLONE_NEWIPC);

		snprintf(out, n, "ok ret=%d errno=%d", r, r < 0 ? errno : 0);
		return 1;
	}
	if (!strcmp(argv[0], "sigwho")) {
		int i = sigs_seen();

		if (!i)
			snprintf(out, n, "ok n=0");
		else
			snprintf(out, n, "ok n=%d who=%s code=%d", i,
				 sigs[i - 1].tid == getpid() ? "main" : "thread", sigs[i - 1].code);
		return 1;
	}
	if (!strcmp(argv[0], "segvhandler")) {
		struct sigaction sa;

		memset(&sa, 0, sizeof(sa));
		sa.sa_sigaction = on_segv;
		sa.sa_flags = SA_SIGINFO | SA_NODEFER;
		sigaction(SIGSEGV, &sa, NULL);
		snprintf(out, n, "ok");
		return 1;
	}
	if (!strcmp(argv[0], "nullsegv")) {
		segv_code = -1;
		if (!sigsetjmp(segv_jb, 1))
			(void)*(volatile char *)(uintptr_t)strtoull(argc > 1 ? argv[1] : "0", NULL, 0);
		snprintf(out, n, "ok segv_code=%d segv_addr=%#lx", segv_code, (unsigned long)segv_addr);
		return 1;
	}
	if (!strcmp(argv[0], "altstack") && argc >= 3) {
		struct sigaction sa, old;
		int code;

		m = get_map(argv[1]);
		if (!m) {
			snprintf(out, n, "err no-map");
			return 1;
		}
		alt.ss_size = 1 << 16;
		alt.ss_sp = malloc(alt.ss_size);
		alt.ss_flags = 0;
		sigaltstack(&alt, NULL);
		memset(&sa, 0, sizeof(sa));
		sa.sa_sigaction = on_alt;
		sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
		sigaction(SIGBUS, &sa, &old);
		alt_on = 0;
		code = sigsetjmp(alt_jb, 1);
		if (!code)
			(void)*(volatile char *)(m->addr + strtoull(argv[2], NULL, 0));
		sigaction(SIGBUS, &old, NULL);
		snprintf(out, n, "ok code=%d on_altstack=%d", code, alt_on);
		return 1;
	}
	return 0;
}
