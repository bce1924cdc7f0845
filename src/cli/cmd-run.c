// SPDX-License-Identifier: MIT
/*
 * cli/cmd-run.c: memfail run: a program with memfail's /dev/daxX.Y.
 *
 * With a daemon running, the program uses it.  Without one, run starts
 * an embedded memfaild with a temporary state directory, whose log lines
 * go to our stderr, and stops it and removes the state afterwards.  The
 * program gets the preload library and the daemon's socket in its
 * environment; namespaces asked for with --namespace are created before
 * it starts and destroyed after it ends, except fsdax ones where the
 * daemon outlives the run (their files live on).  run exits with the program's
 * status, and reports a death by signal as a shell does (128 + signal).
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../util/util.h"
#include "cli.h"

static const char run_usage[] =
"usage: memfail run [options] [--] PROGRAM [ARGS...]\n"
"\n"
"Run PROGRAM so that it sees memfail's namespaces as /dev/daxX.Y, with\n"
"Linux's memory-failure behaviour.  Without a running memfaild, an\n"
"embedded one serves the run and goes away with it.\n"
"\n"
"  -n, --namespace SIZE[,align=A][,mode=M]  create a namespace for the run\n"
"                       (repeat for more); A is 4K, 2M (default) or 1G; M is\n"
"                       devdax (default) or fsdax (a namespace of files)\n"
"  -m, --mount DIR      where the first fsdax namespace's files are seen\n"
"                       (default /mnt/memfail0; made if missing); without an\n"
"                       fsdax --namespace, the daemon's first fsdax namespace\n"
"  -k, --kernel PROFILE behave as linux-6.12 (default), linux-6.1, linux-4.19\n"
"                       or linux-4.19.0 (embedded daemon; must match a running one)\n"
"  -e, --early-kill 0|1 vm.memory_failure_early_kill (embedded daemon)\n"
"  -t, --unmap-timeout MS  kill mappers that do not unmap in time (embedded)\n"
"  -C, --strict-caps    madvise(MADV_HWPOISON) and the kernel's injection files\n"
"                       need a real CAP_SYS_ADMIN (default: the user who runs\n"
"                       the program has the emulated one)\n"
"  -s, --state-dir DIR  keep the embedded daemon's state in DIR\n"
"  -l, --log-file FILE  also write the daemon's log lines to FILE\n"
"  -q, --quiet          do not show the daemon's log lines\n"
"  -v, --verbose        say which devices the run created\n"
"  -h, --help\n"
"\n"
"The program sees Linux's hwpoison ABI on all of its memory, and the kernel's\n"
"files for it (/proc/meminfo, pagemap, kpageflags, the memory_failure sysctls,\n"
"debugfs hwpoison, ...): see memfail-preload(7).  A statically linked program\n"
"cannot be reached: run warns of it.\n"
"\n"
"The program's environment gets MEMFAIL_SOCKET (so 'memfail inject-error'\n"
"and friends reach the same daemon), LD_PRELOAD, and MEMFAIL_DAX: the\n"
"/dev/daxX.Y created for the run (all of them, space-separated).\n"
"\n"
"Namespaces made for the run are destroyed after it, except fsdax ones when\n"
"the daemon outlives the run (a running memfaild, or --state-dir): their files\n"
"live on, and a later 'memfail run --mount DIR' shows them again.\n";

#define MAX_NS 16

struct run {
	struct memfail_namespace_args ns_args[MAX_NS];
	struct memfail_namespace ns[MAX_NS];
	int nr_ns, made_ns;
	const char *kernel, *early_kill, *unmap_timeout, *state_dir, *log_file, *mount;
	char mounted[32];		/* the namespace whose files are shown */
	char mount_dir[PATH_MAX];	/* where */
	bool quiet, verbose, strict_caps;
	bool ran;			/* the program was started */
	char tmpdir[64];
	char sock[PATH_MAX];
	pid_t daemon;
};

static int parse_ns(const char *arg, struct memfail_namespace_args *a)
{
	char buf[128], *comma;

	memset(a, 0, sizeof(*a));
	if (strlcpy_mf(buf, arg, sizeof(buf)) >= sizeof(buf))
		return -1;
	comma = strchr(buf, ',');
	while (comma) {
		char *opt = comma + 1;

		*comma = '\0';
		comma = strchr(opt, ',');
		if (comma)
			*comma = '\0';
		if (!strncmp(opt, "align=", 6)) {
			if (parse_size(opt + 6, &a->align))
				return -1;
			if (a->align != 4096 && a->align != (2ULL << 20) && a->align != (1ULL << 30))
				return -1;
		} else if (!strcmp(opt, "mode=fsdax")) {
			a->mode = "fsdax";
		} else if (!strcmp(opt, "mode=devdax")) {
			a->mode = "devdax";
		} else {
			return -1;
		}
		if (comma)
			*comma = ',';
	}
	if (parse_size(buf, &a->size) || !a->size ||
	    a->size % (a->align ? a->align : (2ULL << 20)))
		return -1;
	return 0;
}

/* Show the files of fsdax namespace dev at --mount's directory. */
static int show_files(struct run *r, struct memfail_ctx *ctx, const char *dev)
{
	const char *dir = r->mount ? r->mount : "/mnt/memfail0";
	int err = mkdir_parents(dir, 0755);

	if (err) {
		cli_error("--mount %s: %s", dir, strerror(-err));
		return -1;
	}
	if (!realpath(dir, r->mount_dir)) {
		cli_error("--mount %s: %s", dir, strerror(errno));
		return -1;
	}
	err = memfail_fs_mount(ctx, dev, r->mount_dir);
	if (err) {
		cli_error("cannot show the files of %s at %s: %s", dev, dir,
			  err == -EBUSY ? "memfail shows files there already (--mount DIR)" :
			  cli_strerror(err));
		return -1;
	}
	strlcpy_mf(r->mounted, dev, sizeof(r->mounted));
	if (r->verbose)
		fprintf(stderr, "%s: %s: files at %s\n", cmd_name, dev, r->mount_dir);
	return 0;
}

/* The daemon's first fsdax namespace (lowest id). */
static int first_fsdax(struct memfail_ctx *ctx, char *dev, size_t n)
{
	struct memfail_namespace *v = NULL;
	size_t count = 0, i;
	int found = -ENOENT;

	if (memfail_namespace_list(ctx, &v, &count))
		return -ENOENT;
	for (i = 0; i < count; i++) {
		if (strcmp(v[i].mode, "fsdax"))
			continue;
		strlcpy_mf(dev, v[i].dev, n);
		found = 0;
		break;
	}
	free(v);
	return found;
}

/* A file beside our own executable (build tree) or in the install tree. */
static int find_beside(const char *rel_build, const char *rel_install, const char *fallback,
		       char *out, size_t n)
{
	char exe[PATH_MAX], *dir;
	ssize_t len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	if (len > 0) {
		exe[len] = '\0';
		dir = dirname(exe);
		snprintf(out, n, "%s/%s", dir, rel_build);
		if (!access(out, R_OK))
			return 0;
		snprintf(out, n, "%s/%s", dir, rel_install);
		if (!access(out, R_OK))
			return 0;
	}
	if (fallback && !access(fallback, R_OK)) {
		strlcpy_mf(out, fallback, n);
		return 0;
	}
	return -ENOENT;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

static void stop_daemon(struct run *r)
{
	int status;

	if (r->daemon > 0) {
		kill(r->daemon, SIGTERM);
		waitpid(r->daemon, &status, 0);
		r->daemon = 0;
	}
	if (r->tmpdir[0]) {
		nftw(r->tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
		r->tmpdir[0] = '\0';
	}
}

static int start_daemon(struct run *r)
{
	char daemon_path[PATH_MAX], state[PATH_MAX + 16], ready_fd[16], buf[8];
	const char *argv[24];
	int pfd[2], k = 0;
	ssize_t n;

	if (find_beside("memfaild", "memfaild", NULL, daemon_path, sizeof(daemon_path))) {
		cli_error("cannot find memfaild beside %s", "the memfail command");
		return -1;
	}
	snprintf(r->tmpdir, sizeof(r->tmpdir), "/tmp/memfail-run.XXXXXX");
	if (!mkdtemp(r->tmpdir)) {
		cli_error("mkdtemp: %s", strerror(errno));
		r->tmpdir[0] = '\0';
		return -1;
	}
	/* a program that drops privileges must still reach the socket */
	chmod(r->tmpdir, 0755);
	snprintf(r->sock, sizeof(r->sock), "%s/memfaild.sock", r->tmpdir);
	snprintf(state, sizeof(state), "%s/state", r->tmpdir);
	if (pipe2(pfd, O_CLOEXEC)) {
		cli_error("pipe: %s", strerror(errno));
		return -1;
	}
	snprintf(ready_fd, sizeof(ready_fd), "%d", pfd[1]);
	argv[k++] = "memfaild";
	argv[k++] = "--state-dir";
	argv[k++] = r->state_dir ? r->state_dir : state;
	argv[k++] = "--socket";
	argv[k++] = r->sock;
	argv[k++] = "--ready-fd";
	argv[k++] = ready_fd;
	/* the run's own state goes with it: nothing to keep across a crash */
	if (!r->state_dir)
		argv[k++] = "--no-sync";
	if (r->kernel) {
		argv[k++] = "--kernel";
		argv[k++] = r->kernel;
	}
	if (r->early_kill) {
		argv[k++] = "--early-kill";
		argv[k++] = r->early_kill;
	}
	if (r->unmap_timeout) {
		argv[k++] = "--unmap-timeout";
		argv[k++] = r->unmap_timeout;
	}
	if (r->log_file) {
		argv[k++] = "--log-file";
		argv[k++] = r->log_file;
	}
	if (r->strict_caps)
		argv[k++] = "--strict-caps";
	argv[k] = NULL;
	r->daemon = fork();
	if (r->daemon < 0) {
		cli_error("fork: %s", strerror(errno));
		return -1;
	}
	if (!r->daemon) {
		/* its own process group: a ^C for the program is not for it */
		setpgid(0, 0);
		fcntl(pfd[1], F_SETFD, 0);
		if (r->quiet) {
			int null = open("/dev/null", O_WRONLY);

			if (null >= 0)
				dup2(null, STDERR_FILENO);
		}
		unsetenv("LD_PRELOAD");
		execv(daemon_path, (char *const *)argv);
		_exit(127);
	}
	close(pfd[1]);
	n = read(pfd[0], buf, sizeof(buf));
	close(pfd[0]);
	if (n != 6 || memcmp(buf, "ready\n", 6)) {
		int status;

		waitpid(r->daemon, &status, 0);
		r->daemon = 0;
		cli_error("the embedded memfaild did not start%s",
			  r->quiet ? " (run without -q to see why)" : "");
		return -1;
	}
	setenv("MEMFAIL_SOCKET", r->sock, 1);
	return 0;
}

static const char *signal_text(int sig)
{
	switch (sig) {
	case SIGBUS: return "Bus error";
	case SIGSEGV: return "Segmentation fault";
	case SIGKILL: return "Killed";
	case SIGTERM: return "Terminated";
	case SIGABRT: return "Aborted";
	case SIGINT: return "Interrupt";
	default: return strsignal(sig);
	}
}

static int set_env(struct run *r)
{
	char preload[PATH_MAX], list[MAX_NS * 48] = "", path[48];
	const char *old = getenv("LD_PRELOAD");
	char *val;
	int i;

	if (find_beside("libmemfail-preload.so", "../lib/libmemfail-preload.so",
			MF_LIBDIR "/libmemfail-preload.so", preload, sizeof(preload))) {
		const char *env = getenv("MEMFAIL_PRELOAD");

		if (!env) {
			cli_error("cannot find libmemfail-preload.so (set MEMFAIL_PRELOAD)");
			return -1;
		}
		strlcpy_mf(preload, env, sizeof(preload));
	}
	if (getenv("MEMFAIL_PRELOAD"))
		strlcpy_mf(preload, getenv("MEMFAIL_PRELOAD"), sizeof(preload));
	if (old && *old) {
		val = malloc(strlen(preload) + strlen(old) + 2);
		if (!val)
			return -1;
		sprintf(val, "%s:%s", preload, old);
		setenv("LD_PRELOAD", val, 1);
		free(val);
	} else {
		setenv("LD_PRELOAD", preload, 1);
	}
	for (i = 0; i < r->made_ns; i++) {
		snprintf(path, sizeof(path), "%s/dev/%s", i ? " " : "", r->ns[i].chardev);
		strcat(list, path);
	}
	if (r->made_ns)
		setenv("MEMFAIL_DAX", list, 1);
	return 0;
}

/* The program's file, as execvp() would find it. */
static int find_program(const char *name, char *out, size_t n)
{
	const char *path = getenv("PATH"), *p;

	if (strchr(name, '/'))
		return strlcpy_mf(out, name, n) < n ? 0 : -ENAMETOOLONG;
	for (p = path ? path : "/usr/bin:/bin"; *p; ) {
		const char *end = strchr(p, ':');
		size_t len = end ? (size_t)(end - p) : strlen(p);

		snprintf(out, n, "%.*s/%s", (int)len, len ? p : ".", name);
		if (!access(out, X_OK))
			return 0;
		p += len + (end ? 1 : 0);
	}
	return -ENOENT;
}

/*
 * LD_PRELOAD reaches only dynamically linked programs: an ELF file
 * without an interpreter (PT_INTERP) sees the machine's own kernel.
 */
static void warn_if_static(const char *name)
{
	unsigned char buf[4096];
	char path[PATH_MAX];
	Elf64_Ehdr eh;
	ssize_t n;
	int fd, i;

	if (find_program(name, path, sizeof(path)))
		return;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	n = read(fd, buf, sizeof(buf));
	close(fd);
	if (n < (ssize_t)sizeof(eh) || memcmp(buf, ELFMAG, SELFMAG) || buf[EI_CLASS] != ELFCLASS64)
		return;		/* a script: its interpreter is what runs */
	memcpy(&eh, buf, sizeof(eh));
	for (i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr ph;
		uint64_t off = eh.e_phoff + (uint64_t)i * eh.e_phentsize;

		if (off + sizeof(ph) > (uint64_t)n)
			return;	/* cannot tell */
		memcpy(&ph, buf + off, sizeof(ph));
		if (ph.p_type == PT_INTERP)
			return;
	}
	fprintf(stderr, "%s: warning: %s is statically linked: memfail's shim cannot reach it; "
		"it sees the machine's own kernel (madvise(MADV_HWPOISON), /proc, /sys), not memfail's\n",
		cmd_name, path);
}

static int run_program(char **argv)
{
	struct sigaction ign, old_int, old_quit;
	pid_t pid;
	int status;

	pid = fork();
	if (pid < 0) {
		cli_error("fork: %s", strerror(errno));
		return 1;
	}
	if (!pid) {
		execvp(argv[0], argv);
		cli_error("%s: %s", argv[0], strerror(errno));
		_exit(errno == ENOENT ? 127 : 126);
	}
	/* as system(): the terminal's signals are the program's */
	memset(&ign, 0, sizeof(ign));
	ign.sa_handler = SIG_IGN;
	sigaction(SIGINT, &ign, &old_int);
	sigaction(SIGQUIT, &ign, &old_quit);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGQUIT, &old_quit, NULL);
	if (WIFSIGNALED(status)) {
		fprintf(stderr, "%s: %s%s\n", argv[0], signal_text(WTERMSIG(status)),
			WCOREDUMP(status) ? " (core dumped)" : "");
		return 128 + WTERMSIG(status);
	}
	return WEXITSTATUS(status);
}

int cmd_run(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "namespace", required_argument, NULL, 'n' },
		{ "mount", required_argument, NULL, 'm' },
		{ "kernel", required_argument, NULL, 'k' },
		{ "early-kill", required_argument, NULL, 'e' },
		{ "unmap-timeout", required_argument, NULL, 't' },
		{ "strict-caps", no_argument, NULL, 'C' },
		{ "state-dir", required_argument, NULL, 's' },
		{ "log-file", required_argument, NULL, 'l' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct memfail_ctx *ctx = NULL;
	struct run r;
	int c, i, err, ret = 1;

	memset(&r, 0, sizeof(r));
	/* "+": options stop at the program's name */
	while ((c = getopt_long(argc, argv, "+n:m:k:e:t:s:l:Cqvh", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			if (r.nr_ns == MAX_NS) {
				cli_error("at most %d namespaces", MAX_NS);
				return EXIT_USAGE;
			}
			if (parse_ns(optarg, &r.ns_args[r.nr_ns])) {
				cli_error("--namespace %s: expected SIZE[,align=4K|2M|1G][,mode=devdax|fsdax], SIZE a multiple of the alignment", optarg);
				return EXIT_USAGE;
			}
			r.nr_ns++;
			break;
		case 'm':
			if (optarg[0] != '/') {
				cli_error("--mount %s: an absolute path, please", optarg);
				return EXIT_USAGE;
			}
			r.mount = optarg;
			break;
		case 'k': r.kernel = optarg; break;
		case 'e':
			if (strcmp(optarg, "0") && strcmp(optarg, "1")) {
				cli_error("--early-kill takes 0 or 1");
				return EXIT_USAGE;
			}
			r.early_kill = optarg;
			break;
		case 't': r.unmap_timeout = optarg; break;
		case 'C': r.strict_caps = true; break;
		case 's': r.state_dir = optarg; break;
		case 'l': r.log_file = optarg; break;
		case 'q': r.quiet = true; break;
		case 'v': r.verbose = true; break;
		case 'h': return cli_usage(run_usage, false);
		default: return cli_usage(run_usage, true);
		}
	}
	if (optind >= argc) {
		cli_error("which program?");
		return cli_usage(run_usage, true);
	}

	/* a running daemon serves the run, unless there is none */
	if (memfail_connect(NULL, &ctx) == 0) {
		if (r.kernel && strcmp(r.kernel, memfail_kernel_profile(ctx))) {
			cli_error("the running memfaild behaves as %s, not %s (one profile per daemon)",
				  memfail_kernel_profile(ctx), r.kernel);
			goto out;
		}
		if (r.strict_caps) {
			int64_t v = 0;

			if (memfail_config_get(ctx, "strict_caps", &v) || !v) {
				cli_error("the running memfaild grants the emulated CAP_SYS_ADMIN; --strict-caps needs a daemon started with it");
				goto out;
			}
		}
		if (r.early_kill || r.unmap_timeout || r.state_dir) {
			cli_error("a memfaild is running: its settings are its own (see 'memfail config')");
			goto out;
		}
	} else {
		ctx = NULL;
		if (start_daemon(&r))
			goto out;
		err = memfail_connect(NULL, &ctx);
		if (err) {
			cli_error("cannot reach the embedded memfaild: %s", strerror(-err));
			ctx = NULL;
			goto out;
		}
	}
	for (i = 0; i < r.nr_ns; i++) {
		err = memfail_namespace_create(ctx, &r.ns_args[i], &r.ns[i]);
		if (err) {
			cli_error("--namespace: %s", cli_strerror(err));
			goto out;
		}
		r.made_ns++;
		if (r.verbose)
			fprintf(stderr, "%s: /dev/%s: %s, align %llu\n", cmd_name, r.ns[i].chardev,
				r.ns[i].dev, (unsigned long long)r.ns[i].align);
		if (!r.mounted[0] && r.ns_args[i].mode && !strcmp(r.ns_args[i].mode, "fsdax")) {
			if (show_files(&r, ctx, r.ns[i].dev))
				goto out;
		}
	}
	/* --mount alone: the files of a namespace a daemon kept */
	if (r.mount && !r.mounted[0]) {
		char dev[32];

		if (first_fsdax(ctx, dev, sizeof(dev))) {
			cli_error("--mount: no fsdax namespace (--namespace SIZE,mode=fsdax)");
			goto out;
		}
		if (show_files(&r, ctx, dev))
			goto out;
	}
	if (set_env(&r))
		goto out;
	warn_if_static(argv[optind]);
	r.ran = true;
	ret = run_program(argv + optind);
out:
	if (r.mounted[0])
		memfail_fs_umount(ctx, r.mounted, r.mount_dir);
	/*
	 * Namespaces made for the run go with it, but the files of an fsdax
	 * one live on where a daemon keeps them: a running daemon, or an
	 * embedded one whose state stays in --state-dir.
	 */
	for (i = 0; ctx && i < r.made_ns; i++) {
		if (r.ran && !strcmp(r.ns[i].mode, "fsdax") && (!r.daemon || r.state_dir)) {
			if (!r.quiet)
				fprintf(stderr, "%s: %s kept with its files ('memfail destroy-namespace %s' removes it)\n",
					cmd_name, r.ns[i].dev, r.ns[i].dev);
			continue;
		}
		err = memfail_namespace_destroy(ctx, r.ns[i].dev);
		if (err && !r.daemon)
			cli_error("%s: not destroyed: %s", r.ns[i].dev, cli_strerror(err));
	}
	memfail_disconnect(ctx);
	stop_daemon(&r);
	return ret;
}
