// SPDX-License-Identifier: MIT
/*
 * demo/dax-demo.c: the processes of memfail's demo.  Plain Linux code:
 * open /dev/dax0.0, mmap it, handle SIGBUS the way a careful storage
 * engine would.  Nothing here knows about memfail.
 *
 *   dax-demo consumer OFF   map, read the page at OFF, report the SIGBUS
 *                           it gets and die of it (default action)
 *   dax-demo bystander OFF  map, touch the unit at OFF, then wait for
 *                           commands on stdin: "touch" reads OFF again,
 *                           "quit" ends; any SIGBUS is reported, and
 *                           after one it carries on
 *   dax-demo worker         map another part of the device and keep
 *                           checksumming it until stdin closes
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>

#define MAP_LEN (8UL << 20)

static char *base;
static const char *role = "?";
static sigjmp_buf jb;
static volatile sig_atomic_t in_access;

static const char *code_name(int code)
{
	switch (code) {
	case BUS_MCEERR_AR: return "BUS_MCEERR_AR";
	case BUS_MCEERR_AO: return "BUS_MCEERR_AO";
	case BUS_ADRERR: return "BUS_ADRERR";
	default: return "other";
	}
}

static void report(const siginfo_t *si)
{
	char line[160];
	int n;

	/* snprintf is not async-signal-safe in general; glibc's is fine
	 * for integers and strings, and this is a demo */
	n = snprintf(line, sizeof(line), "%-10s SIGBUS %s at mapping+%#lx, si_addr_lsb %d\n",
		     role, code_name(si->si_code), (unsigned long)((char *)si->si_addr - base),
		     si->si_addr_lsb);
	if (write(STDOUT_FILENO, line, n) < 0) {
		/* nothing to do */
	}
}

static void on_sigbus(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	report(si);
	if (!strcmp(role, "consumer")) {
		/* log it, then let the signal do what it does by default */
		signal(sig, SIG_DFL);
		raise(sig);
	}
	if (in_access)
		siglongjmp(jb, 1);
}

static void map_device(void)
{
	struct sigaction sa;
	int fd = open("/dev/dax0.0", O_RDWR);

	if (fd < 0) {
		fprintf(stderr, "%s: /dev/dax0.0: %s\n", role, strerror(errno));
		exit(1);
	}
	base = mmap(NULL, MAP_LEN, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (base == MAP_FAILED) {
		fprintf(stderr, "%s: mmap: %s\n", role, strerror(errno));
		exit(1);
	}
	close(fd);
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_sigbus;
	/* an AO may come while we wait for a command: the read goes on */
	sa.sa_flags = SA_SIGINFO | SA_NODEFER | SA_RESTART;
	sigaction(SIGBUS, &sa, NULL);
}

/* Read one byte; false if it raised SIGBUS. */
static int read_byte(unsigned long off, unsigned char *v)
{
	in_access = 1;
	if (sigsetjmp(jb, 1)) {
		in_access = 0;
		return 0;
	}
	*v = *(volatile unsigned char *)(base + off);
	in_access = 0;
	return 1;
}

int main(int argc, char **argv)
{
	unsigned long off = argc > 2 ? strtoul(argv[2], NULL, 0) : 0;
	unsigned char v;
	char cmd[64];

	if (argc < 2) {
		fprintf(stderr, "usage: dax-demo consumer|bystander|worker [OFFSET]\n");
		return 2;
	}
	role = argv[1];
	/* the kernel's log lines name processes by comm */
	prctl(PR_SET_NAME, role, 0, 0, 0);
	setvbuf(stdout, NULL, _IOLBF, 0);
	map_device();

	if (!strcmp(role, "consumer")) {
		printf("%-10s reads mapping+%#lx\n", role, off);
		read_byte(off, &v);
		printf("%-10s read %#x: no poison there\n", role, v);
		return 0;
	}
	if (!strcmp(role, "bystander")) {
		read_byte(off & ~((2UL << 20) - 1), &v);	/* fault the unit in */
		printf("%-10s mapped, has the 2 MiB unit at +%#lx in its page tables\n",
		       role, off & ~((2UL << 20) - 1));
		while (fgets(cmd, sizeof(cmd), stdin)) {
			if (!strncmp(cmd, "touch", 5)) {
				if (read_byte(off, &v))
					printf("%-10s reads mapping+%#lx: %#x\n", role, off, v);
				else
					printf("%-10s survived the SIGBUS and carries on\n", role);
			} else if (!strncmp(cmd, "quit", 4)) {
				break;
			}
		}
		printf("%-10s done\n", role);
		return 0;
	}
	if (!strcmp(role, "worker")) {
		struct pollfd p = { .fd = STDIN_FILENO, .events = POLLIN };
		unsigned long rounds = 0, sum = 0, i;

		/* the second 4 MiB: far from the poison */
		memset(base + (4UL << 20), 1, 4UL << 20);
		while (poll(&p, 1, 0) == 0) {
			for (sum = 0, i = 4UL << 20; i < MAP_LEN; i += 64)
				sum += (unsigned char)base[i];
			rounds++;
		}
		printf("%-10s still running: %lu checksum rounds over its 4 MiB, sum %lu (expected %lu)\n",
		       role, rounds, sum, (4UL << 20) / 64);
		return sum == (4UL << 20) / 64 ? 0 : 1;
	}
	fprintf(stderr, "dax-demo: unknown role %s\n", role);
	return 2;
}
