// SPDX-License-Identifier: MIT
/*
 * daemon/main.c: memfaild's options, start-up, event loop and shutdown.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/file.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../dax/dax.h"
#include "../nvdimm/copy_mc.h"
#include "../util/paths.h"
#include "memfaild.h"

static void usage(FILE *f)
{
	fprintf(f,
"usage: memfaild [options]\n"
"\n"
"memfaild plays the kernel for memfail: it owns the emulated NVDIMM's\n"
"namespaces and their bad blocks, knows every process that maps them, and\n"
"runs memory_failure() when poison is consumed or injected.\n"
"\n"
"  -s, --state-dir DIR        namespaces, data and bad blocks (default\n"
"                             /var/lib/memfail for root, else\n"
"                             $XDG_STATE_HOME/memfail, ~/.local/state/memfail\n"
"                             or /tmp/memfail-UID/state)\n"
"  -S, --socket PATH          control socket (default $MEMFAIL_SOCKET, else\n"
"                             /run/memfail/memfaild.sock for root, else\n"
"                             $XDG_RUNTIME_DIR/memfail/memfaild.sock, or\n"
"                             /tmp/memfail-UID/memfaild.sock)\n"
"  -k, --kernel PROFILE       behave as this kernel: %s\n"
"                             (default linux-6.12)\n"
"  -e, --early-kill 0|1       vm.memory_failure_early_kill (default 0)\n"
"  -r, --recovery 0|1         vm.memory_failure_recovery (default 1)\n"
"  -t, --unmap-timeout MS     kill a mapper that does not unmap in time\n"
"                             (default 2000)\n"
"      --region-size SIZE     size of the emulated region (default 16T)\n"
"      --history-max N        events kept in events.db, the newest (default\n"
"                             200000; 0: all)\n"
"      --no-sync              the state need not survive a crash (a\n"
"                             throwaway state directory): no fsync()\n"
"      --strict-caps          madvise(MADV_HWPOISON) needs a real\n"
"                             CAP_SYS_ADMIN, not namespace ownership\n"
"  -l, --log-file FILE        also append the log to FILE\n"
"      --ready-fd FD          write \"ready\\n\" to FD once listening\n"
"  -h, --help                 this text\n"
"  -V, --version              print the version\n",
		mf_profile_names());
}

enum { OPT_REGION_SIZE = 256, OPT_STRICT_CAPS, OPT_READY_FD, OPT_HISTORY_MAX, OPT_NO_SYNC };

static const struct option long_opts[] = {
	{ "state-dir", required_argument, NULL, 's' },
	{ "socket", required_argument, NULL, 'S' },
	{ "kernel", required_argument, NULL, 'k' },
	{ "early-kill", required_argument, NULL, 'e' },
	{ "recovery", required_argument, NULL, 'r' },
	{ "unmap-timeout", required_argument, NULL, 't' },
	{ "region-size", required_argument, NULL, OPT_REGION_SIZE },
	{ "strict-caps", no_argument, NULL, OPT_STRICT_CAPS },
	{ "no-sync", no_argument, NULL, OPT_NO_SYNC },
	{ "history-max", required_argument, NULL, OPT_HISTORY_MAX },
	{ "log-file", required_argument, NULL, 'l' },
	{ "ready-fd", required_argument, NULL, OPT_READY_FD },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

static int parse_bool(const char *s, int *out)
{
	if (!strcmp(s, "0") || !strcmp(s, "1")) {
		*out = *s - '0';
		return 0;
	}
	return -EINVAL;
}

static void die(const char *fmt, const char *arg, int err)
{
	fprintf(stderr, "memfaild: ");
	fprintf(stderr, fmt, arg);
	if (err)
		fprintf(stderr, ": %s", strerror(err));
	fputc('\n', stderr);
	exit(1);
}

/* A data file nd_region_open() found gone or cut short, and mended. */
static void log_data_repair(struct mfd *d, const struct nd_namespace *ns)
{
	if (ns->data_repair == ND_DATA_MISSING)
		mfd_log(d, 3, "memfaild: %s: data file %s was missing: its data is lost, it starts out zeroed",
			ns->name, ns->data_path);
	else if (ns->data_repair == ND_DATA_RESIZED)
		mfd_log(d, 3, "memfaild: %s: data file %s had %llu bytes instead of %llu: restored to its size",
			ns->name, ns->data_path, (unsigned long long)ns->data_found_size,
			(unsigned long long)ns->size);
}

/* Refuse to start beside a live daemon on the same socket. */
static void check_socket_free(const char *path)
{
	int fd = unix_connect_seqpacket(path);

	if (fd >= 0) {
		close(fd);
		die("another memfaild is running on %s", path, 0);
	}
}

static void setup_signals(struct mfd *d)
{
	struct epoll_event ev = { .events = EPOLLIN };
	sigset_t set;

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);
	d->sig_fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (d->sig_fd < 0)
		die("signalfd", NULL, errno);
	d->sig_watch.type = W_SIGNAL;
	ev.data.ptr = &d->sig_watch;
	epoll_ctl(d->epfd, EPOLL_CTL_ADD, d->sig_fd, &ev);
}

static void signal_readable(struct mfd *d)
{
	struct signalfd_siginfo si;

	while (read(d->sig_fd, &si, sizeof(si)) == sizeof(si))
		if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT)
			d->stop = true;
}

/* Free what was closed or exited during this iteration. */
static void reap(struct mfd *d)
{
	struct proc *p, *ptmp;
	struct conn *c, *ctmp;
	bool freed = false;

	list_for_each_entry_safe(p, ptmp, &d->procs, node) {
		if (!p->exited)
			continue;
		/* its request and fault connections go with it */
		list_for_each_entry(c, &d->conns, node) {
			if (c->proc != p)
				continue;
			c->proc = NULL;
			conn_close(c);
		}
		mf_task_exit(&p->task);
		mf_ram_task_exit(&d->mf, &p->task);
		epoll_ctl(d->epfd, EPOLL_CTL_DEL, p->pidfd, NULL);
		close(p->pidfd);
		list_del(&p->node);
		free(p);
	}
	list_for_each_entry_safe(c, ctmp, &d->conns, node) {
		if (!c->closing)
			continue;
		/* a live process whose control connection this was has
		 * exited by now (conn_close), and was reaped above */
		close(c->fd);
		if (c->peer_pidfd >= 0)
			close(c->peer_pidfd);
		list_del(&c->node);
		free(c->monitor_msg);
		free(c);
		freed = true;
	}
	if (freed && d->listen_paused) {
		struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &d->listen_watch };

		if (!epoll_ctl(d->epfd, EPOLL_CTL_ADD, d->listen_fd, &ev))
			d->listen_paused = false;
	}
}

static void run_loop(struct mfd *d)
{
	struct epoll_event ev[64];

	while (!d->stop) {
		/* a scrub runs a slice between two looks at the sockets */
		bool scrubbing = d->scrub && scrub_step(d);
		int n, i;

		/* what the slice did is told before we may sleep */
		mfd_log_flush();
		mfd_events_flush(d);
		n = epoll_wait(d->epfd, ev, ARRAY_SIZE(ev), scrubbing ? 0 : -1);

		if (n < 0 && errno != EINTR)
			die("epoll_wait", NULL, errno);
		for (i = 0; i < n; i++) {
			struct watch *w = ev[i].data.ptr;

			switch (w->type) {
			case W_LISTEN:
				while (conn_accept(d) == 0)
					;
				break;
			case W_CONN:
				if (!((struct conn *)w->ptr)->closing && (ev[i].events & EPOLLOUT))
					monitor_writable(w->ptr);
				if (!((struct conn *)w->ptr)->closing &&
				    (ev[i].events & ~(uint32_t)EPOLLOUT))
					conn_readable(w->ptr);
				break;
			case W_PIDFD:
				proc_pidfd_ready(w->ptr);
				break;
			case W_SIGNAL:
				signal_readable(d);
				break;
			case W_FUSE:
				fsdax_readable(w->ptr);
				break;
			}
			/* something above may have freed what a later event points
			 * to: nothing is freed before reap() */
		}
		mfd_log_flush();
		mfd_events_flush(d);
		reap(d);
	}
}

static void shutdown_daemon(struct mfd *d)
{
	struct nd_namespace *ns;
	struct conn *c;
	struct proc *p;

	list_for_each_entry(p, &d->procs, node)
		proc_exit(p);
	list_for_each_entry(c, &d->conns, node)
		conn_close(c);
	reap(d);
	close(d->listen_fd);
	unlink(d->opt.socket_path);
	fsdax_shutdown(d);
	list_for_each_entry(ns, &d->region->namespaces, node) {
		fsdax_detach(d, ns, false);
		dax_device_detach(ns);
	}
	nd_region_close(d->region);
	scrub_free(d);
	history_close(d->history);
	ram_shutdown(d);
}

int main(int argc, char **argv)
{
	static char state_buf[PATH_MAX], sock_buf[PATH_MAX], lock_path[PATH_MAX + 16];
	struct mfd d;
	struct epoll_event ev = { .events = EPOLLIN };
	struct nd_namespace *ns;
	char dir[PATH_MAX];
	int opt, err, ready_fd = -1, lock_fd, recovery = 1;
	uint64_t v;

	memset(&d, 0, sizeof(d));
	list_init(&d.conns);
	list_init(&d.procs);
	/* state, history and log are for the daemon's user alone */
	umask(077);
	d.opt.profile = mf_profile_default();
	d.opt.unmap_timeout_ms = 2000;
	d.opt.history_max = 200000;
	d.uid = geteuid();

	while ((opt = getopt_long(argc, argv, "s:S:k:e:r:t:l:hV", long_opts, NULL)) != -1) {
		switch (opt) {
		case 's': d.opt.state_dir = optarg; break;
		case 'S': d.opt.socket_path = optarg; break;
		case 'k':
			d.opt.profile = mf_profile_find(optarg);
			if (!d.opt.profile)
				die("unknown kernel profile '%s'", optarg, 0);
			break;
		case 'e':
			if (parse_bool(optarg, &d.opt.early_kill))
				die("--early-kill takes 0 or 1, not '%s'", optarg, 0);
			break;
		case 'r':
			if (parse_bool(optarg, &recovery))
				die("--recovery takes 0 or 1, not '%s'", optarg, 0);
			break;
		case 't':
			if (parse_u64(optarg, &v) || !v || v > 600000)
				die("--unmap-timeout takes milliseconds (1..600000), not '%s'", optarg, 0);
			d.opt.unmap_timeout_ms = (unsigned)v;
			break;
		case OPT_REGION_SIZE:
			if (parse_size(optarg, &d.opt.region_size) || d.opt.region_size < (1ULL << 30))
				die("--region-size takes a size of at least 1G, not '%s'", optarg, 0);
			break;
		case OPT_STRICT_CAPS: d.opt.strict_caps = true; break;
		case OPT_NO_SYNC: mf_set_durable(false); break;
		case OPT_HISTORY_MAX:
			if (parse_u64(optarg, &d.opt.history_max))
				die("--history-max takes a number of events, not '%s'", optarg, 0);
			break;
		case 'l': d.opt.log_file = optarg; break;
		case OPT_READY_FD:
			if (parse_u64(optarg, &v) || v > INT_MAX)
				die("--ready-fd takes a file descriptor, not '%s'", optarg, 0);
			ready_fd = (int)v;
			break;
		case 'h': usage(stdout); return 0;
		case 'V': printf("memfaild %s\n", MF_VERSION); return 0;
		default: usage(stderr); return 129;
		}
	}
	if (optind < argc)
		die("unexpected argument '%s'", argv[optind], 0);
	if (!d.opt.state_dir) {
		if (mf_default_state_dir(state_buf, sizeof(state_buf)))
			die("state directory path too long", NULL, 0);
		d.opt.state_dir = state_buf;
	}
	if (!d.opt.socket_path) {
		if (mf_default_socket(sock_buf, sizeof(sock_buf)))
			die("socket path too long", NULL, 0);
		d.opt.socket_path = sock_buf;
	}

	mfd_log_init(&d, d.opt.log_file);
	err = mkdir_parents(d.opt.state_dir, 0700);
	if (err)
		die("cannot create %s", d.opt.state_dir, -err);
	/* one daemon per state directory */
	snprintf(lock_path, sizeof(lock_path), "%s/memfaild.lock", d.opt.state_dir);
	lock_fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (lock_fd < 0)
		die("cannot open %s", lock_path, errno);
	if (flock(lock_fd, LOCK_EX | LOCK_NB))
		die("another memfaild is using %s", d.opt.state_dir, 0);

	err = nd_region_open(d.opt.state_dir, d.opt.region_size, &d.region);
	if (err)
		die("cannot open the state in %s", d.opt.state_dir, -err);
	list_init(&d.fs_mounts);
	list_for_each_entry(ns, &d.region->namespaces, node) {
		if (dax_device_attach(ns))
			die("out of memory", NULL, 0);
		log_data_repair(&d, ns);
		err = fsdax_attach(&d, ns);
		if (err)
			die("cannot open the file system of %s", ns->name, -err);
	}
	/* the history is a record, not the machine: without it we still serve */
	err = history_open(d.opt.state_dir, d.opt.history_max, &d.history, &d.event_seq);
	if (err)
		mfd_log(&d, 3, "memfaild: cannot open the event history %s/events.db: %s; events are not recorded",
			d.opt.state_dir, strerror(-err));
	events_init(&d);
	mf_engine_init(&d.mf, d.region, d.opt.profile, &mfd_peer_ops, &d);
	d.mf.early_kill = d.opt.early_kill;
	d.mf.recovery = recovery;
	d.mf.unmap_timeout_ms = d.opt.unmap_timeout_ms;
	if (copy_mc_init())
		die("cannot install the fault handler", NULL, errno);

	d.epfd = epoll_create1(EPOLL_CLOEXEC);
	if (d.epfd < 0)
		die("epoll_create1", NULL, errno);
	setup_signals(&d);

	strlcpy_mf(dir, d.opt.socket_path, sizeof(dir));
	err = mkdir_parents(dirname(dir), 0755);
	if (err)
		die("cannot create the directory of %s", d.opt.socket_path, -err);
	check_socket_free(d.opt.socket_path);
	/* anyone may connect: every request is authorised on its own */
	d.listen_fd = unix_listen_seqpacket(d.opt.socket_path, 0666);
	if (d.listen_fd < 0)
		die("cannot listen on %s", d.opt.socket_path, -d.listen_fd);
	err = ram_init(&d);
	if (err)
		die("cannot create %s.status", d.opt.socket_path, -err);
	d.listen_watch.type = W_LISTEN;
	ev.data.ptr = &d.listen_watch;
	epoll_ctl(d.epfd, EPOLL_CTL_ADD, d.listen_fd, &ev);
	fsdax_restore_mounts(&d);

	mfd_log(&d, 6, "memfaild %s: %s, %u namespace%s, state %s, socket %s",
		MF_VERSION, d.mf.profile->name, d.region->nr_namespaces,
		d.region->nr_namespaces == 1 ? "" : "s", d.opt.state_dir, d.opt.socket_path);
	mfd_log_flush();
	if (ready_fd >= 0) {
		if (write(ready_fd, "ready\n", 6) != 6) {
			/* the starter went away: carry on */
		}
		close(ready_fd);
	}

	run_loop(&d);
	shutdown_daemon(&d);
	mfd_log_flush();
	close(lock_fd);
	return 0;
}
