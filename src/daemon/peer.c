// SPDX-License-Identifier: MIT
/*
 * daemon/peer.c: registered processes, and the engine's peer interface
 * over their control connections.
 *
 * A process registers through its service thread's connection; the
 * daemon takes a pidfd for it at once, so that a signal or a kill can
 * never reach a recycled pid.  The process is gone when its control
 * connection closes (exit, exec) or its pidfd says so; its mappings leave
 * the rmap then.  Freeing is deferred to the end of the loop iteration,
 * so that a process dying in the middle of memory_failure() never pulls
 * a mapping out from under the engine.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "memfaild.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif

static int pidfd_open(pid_t pid)
{
	return (int)syscall(SYS_pidfd_open, pid, 0);
}

static int pidfd_send_signal(int pidfd, int sig)
{
	return (int)syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0);
}

static bool pidfd_exited(int pidfd)
{
	struct pollfd p = { .fd = pidfd, .events = POLLIN };

	return pidfd >= 0 && poll(&p, 1, 0) == 1;
}

struct proc *proc_find(struct mfd *d, pid_t pid)
{
	struct proc *p;

	list_for_each_entry(p, &d->procs, node)
		if (p->task.pid == pid && !p->exited)
			return p;
	return NULL;
}

struct proc *proc_register(struct mfd *d, struct conn *ctl, const char *comm)
{
	struct epoll_event ev = { .events = EPOLLIN };
	struct proc *p, *old;
	struct stat st;
	int pidfd;

	/*
	 * The pid already has a registration: the old image exec()ed and its
	 * control connection has not been seen to close yet.  Its mappings
	 * are gone with the old image.
	 */
	old = proc_find(d, ctl->peer.pid);
	if (old)
		proc_exit(old);

	/* SO_PEERPIDFD names the very process that connected */
	if (ctl->peer_pidfd >= 0) {
		pidfd = ctl->peer_pidfd;
		ctl->peer_pidfd = -1;
	} else {
		pidfd = pidfd_open(ctl->peer.pid);
		if (pidfd < 0)
			return NULL;
	}
	p = calloc(1, sizeof(*p));
	if (!p) {
		close(pidfd);
		return NULL;
	}
	p->d = d;
	mf_task_init(&p->task, ctl->peer.pid, ctl->peer.uid, comm, p);
	p->task.id = d->next_order + 1;
	p->ctl = ctl;
	p->pidfd = pidfd;
	if (!fstat(pidfd, &st))
		p->pidfd_ino = st.st_ino;
	p->order = d->next_order++;
	p->pidfd_watch.type = W_PIDFD;
	p->pidfd_watch.ptr = p;
	ev.data.ptr = &p->pidfd_watch;
	if (epoll_ctl(d->epfd, EPOLL_CTL_ADD, pidfd, &ev)) {
		close(pidfd);
		free(p);
		return NULL;
	}
	list_add_tail(&p->node, &d->procs);
	return p;
}

/* Mark the process gone; main.c's reaper frees it after this iteration. */
struct proc *proc_of_conn(struct mfd *d, struct conn *c)
{
	struct proc *p = proc_find(d, c->peer.pid);
	struct stat st;

	/*
	 * A connection made by a process that has died since, whose pid went
	 * to a new process, must not speak for the new one: with pidfs
	 * (Linux 6.9+) the two pidfds name one process only if their inodes
	 * agree.
	 */
	if (p && c->peer_pidfd >= 0 && p->pidfd_ino && !fstat(c->peer_pidfd, &st) &&
	    st.st_ino != p->pidfd_ino)
		return NULL;
	return p;
}

void proc_exit(struct proc *p)
{
	if (p->exited)
		return;
	p->exited = true;
	if (p->ctl) {
		p->ctl->proc = NULL;
		conn_close(p->ctl);
		p->ctl = NULL;
	}
}

void proc_pidfd_ready(struct proc *p)
{
	proc_exit(p);
}

bool proc_gone(struct proc *p)
{
	if (!p->exited && (!p->ctl || pidfd_exited(p->pidfd)))
		proc_exit(p);
	return p->exited;
}

static struct mfd *engine_mfd(struct mf_engine *mf)
{
	return mf->priv;
}

/* ---- the engine's peer interface ---- */

struct pending {
	struct peer_req rq;
	struct mf_shootdown *sd;
	unsigned first, count;		/* the chunk of sd->w this message carries */
	bool answered;
	bool unsent;			/* the send failed: it cannot have answered */
};

static int send_chunk(struct pending *pd, int early_kill)
{
	static char buf[MF_MSG_MAX];
	struct mf_ctl_shootdown *m = (void *)buf;
	size_t len = sizeof(*m) + pd->count * sizeof(m->e[0]);
	unsigned i;

	memset(m, 0, len);
	m->hdr.magic = MF_PROTO_MAGIC;
	m->hdr.type = MF_CTL_SHOOTDOWN;
	m->hdr.len = (uint32_t)len;
	m->hdr.seq = pd->rq.seq;
	m->early_kill = (uint32_t)early_kill;
	m->count = pd->count;
	for (i = 0; i < pd->count; i++) {
		const struct mf_sd_work *w = &pd->sd->w[pd->first + i];

		m->e[i].map_id = w->vma->id;
		m->e[i].page_addr = w->page_addr;
		m->e[i].page_len = w->page_len;
		m->e[i].unit_addr = w->unit_addr;
		m->e[i].unit_len = w->unit_len;
		m->e[i].remap_off = w->remap_off;
		m->e[i].unit_shift = w->vma->ino ? w->shift : 0;
		m->e[i].ops = w->ops;
	}
	return conn_send(pd->rq.p->ctl, buf, len, -1);
}

static bool take_answer(struct peer_req *rq, const void *buf, size_t n)
{
	struct pending *pd = container_of(rq, struct pending, rq);
	const struct mf_ctl_shootdown_reply *r = buf;
	unsigned i;

	if (n < sizeof(*r) || r->count != pd->count ||
	    n < sizeof(*r) + pd->count * sizeof(r->res[0]))
		return false;	/* garbled: counts as no answer */
	for (i = 0; i < pd->count; i++) {
		struct mf_sd_work *w = &pd->sd->w[pd->first + i];

		w->present = r->res[i].present != 0;
		w->error = r->res[i].error;
	}
	pd->sd->early_tid = r->early_tid;
	pd->sd->main_tid = r->main_tid;
	memcpy(pd->sd->early_comm, r->early_comm, MF_COMM_LEN);
	pd->sd->early_comm[MF_COMM_LEN - 1] = '\0';
	memcpy(pd->sd->main_comm, r->main_comm, MF_COMM_LEN);
	pd->sd->main_comm[MF_COMM_LEN - 1] = '\0';
	pd->answered = true;
	return true;
}

/* Drain a process's control connection, matching answers to requests. */
static void read_answers(struct proc *p, struct peer_req **rq, unsigned n,
			 bool (*take)(struct peer_req *, const void *, size_t))
{
	static char buf[MF_MSG_MAX];
	const struct mf_reply *r = (const void *)buf;
	unsigned i;

	while (!p->exited && p->ctl) {
		ssize_t len = sock_recv(p->ctl->fd, buf, sizeof(buf), NULL, NULL, MSG_DONTWAIT);

		if (len == -EAGAIN)
			return;
		if (len <= 0) {
			/* closed: exit or exec, its mappings went with it */
			proc_exit(p);
			return;
		}
		if ((size_t)len < sizeof(*r) || r->hdr.magic != MF_PROTO_MAGIC ||
		    r->hdr.type != MF_REPLY)
			continue;
		/* anything else is a late answer to something older */
		for (i = 0; i < n; i++)
			if (rq[i]->p == p && !rq[i]->done && rq[i]->seq == r->hdr.seq &&
			    take(rq[i], buf, (size_t)len))
				rq[i]->done = true;
	}
}

/*
 * Wait for the answers.  Each process is polled once (its control
 * connection and its pidfd) and only the ones poll() names are read:
 * with N mappers, N wakeups must not cost N system calls each.
 */
void peer_await(struct peer_req **rq, unsigned n, uint64_t deadline,
		bool (*take)(struct peer_req *, const void *, size_t))
{
	struct pollfd *pfd = calloc(n ? n * 2 : 1, sizeof(*pfd));
	struct proc **owner = calloc(n ? n : 1, sizeof(*owner));
	unsigned i, j;

	if (!pfd || !owner)
		goto out;	/* nobody answered */
	for (;;) {
		uint64_t now = now_monotonic_ns();
		unsigned np = 0, left = 0;

		for (i = 0; i < n; i++) {
			struct proc *p = rq[i]->p;

			if (rq[i]->done || p->exited || !p->ctl)
				continue;
			left++;
			/* one pair of entries per process, however many requests */
			for (j = 0; j < np / 2; j++)
				if (owner[j] == p)
					break;
			if (j < np / 2)
				continue;
			owner[np / 2] = p;
			pfd[np].fd = p->ctl->fd;
			pfd[np++].events = POLLIN;
			pfd[np].fd = p->pidfd;
			pfd[np++].events = POLLIN;
		}
		if (!left || now >= deadline)
			break;
		if (poll(pfd, np, (int)((deadline - now + 999999) / 1000000)) < 0 && errno != EINTR)
			break;
		for (i = 0; i < np; i += 2) {
			struct proc *p = owner[i / 2];

			if (p->exited)
				continue;
			if (pfd[i].revents)
				read_answers(p, rq, n, take);
			if (!p->exited && pfd[i + 1].revents)
				proc_exit(p);
		}
	}
out:
	free(pfd);
	free(owner);
}

/* The process is gone: nothing of it can consume anything any more. */
static void sd_gone(struct mf_shootdown *sd)
{
	unsigned i;

	sd->acked = true;
	sd->early_tid = 0;
	for (i = 0; i < sd->n; i++)
		sd->w[i].present = false;
}

static void peer_shootdown(struct mf_engine *mf, struct mf_shootdown *sd, unsigned n)
{
	struct mfd *d = engine_mfd(mf);
	struct pending *pd = NULL;
	struct peer_req **rq = NULL;
	unsigned npd = 0, i, j;

	for (i = 0; i < n; i++) {
		sd[i].acked = false;
		sd[i].main_tid = sd[i].task->pid;
		memcpy(sd[i].main_comm, sd[i].task->comm, MF_COMM_LEN);
		npd += (sd[i].n + MF_SD_MAX - 1) / MF_SD_MAX;
	}
	pd = calloc(npd ? npd : 1, sizeof(*pd));
	rq = calloc(npd ? npd : 1, sizeof(*rq));
	if (!pd || !rq)
		goto out;	/* nobody acked: the engine kills them all */

	/* send everything first: the mappers work in parallel */
	npd = 0;
	for (i = 0; i < n; i++) {
		struct proc *p = sd[i].task->peer;

		/* a process that died is seen by poll() on its pidfd below */
		if (p->exited || !p->ctl) {
			sd_gone(&sd[i]);
			continue;
		}
		for (j = 0; j < sd[i].n; j += MF_SD_MAX) {
			struct pending *x = &pd[npd];

			rq[npd++] = &x->rq;
			x->sd = &sd[i];
			x->rq.p = p;
			x->rq.seq = ++d->next_seq;
			x->first = j;
			x->count = sd[i].n - j < MF_SD_MAX ? sd[i].n - j : MF_SD_MAX;
			/*
			 * A mapper that does not take its requests (its socket is
			 * full, or it closed it) has not unmapped anything: it is
			 * killed, not taken for gone.  Its connection is closed by
			 * now, so nothing more is sent to it.
			 */
			if (!p->ctl || send_chunk(x, mf->early_kill) < 0) {
				x->rq.done = x->unsent = true;
				break;
			}
		}
	}
	peer_await(rq, npd, now_monotonic_ns() + (uint64_t)mf->unmap_timeout_ms * 1000000ULL,
		   take_answer);

	/* a task is acked when every chunk was answered, or it is gone */
	for (i = 0; i < n; i++) {
		struct proc *p = sd[i].task->peer;
		bool all = true, unsent = false;

		if (sd[i].acked)
			continue;
		for (j = 0; j < npd; j++) {
			if (pd[j].sd != &sd[i])
				continue;
			if (!pd[j].answered)
				all = false;
			if (pd[j].unsent)
				unsent = true;
		}
		if (p->exited && !unsent) {
			sd_gone(&sd[i]);
			continue;
		}
		sd[i].acked = all && !unsent;
	}
out:
	free(pd);
	free(rq);
}

/* AO signals sent and not yet confirmed queued (peer_signal_sync) */
#define MAX_PENDING_SIGNALS 1024
static struct {
	struct proc *p;
	uint64_t seq;
} pending_sig[MAX_PENDING_SIGNALS];
static unsigned nr_pending_sig;

static void peer_signal_sync(struct mf_engine *mf);

static int peer_signal(struct mf_engine *mf, struct mf_task *t, pid_t tid, int code,
		       uint64_t addr, unsigned lsb)
{
	struct mfd *d = engine_mfd(mf);
	struct proc *p = t->peer;
	struct mf_ctl_signal m;

	if (p->exited || !p->ctl)
		return -ESRCH;
	/*
	 * Straight to the thread when we may signal it: the signal is pending
	 * on it when the call returns, as send_sig_mceerr() leaves it.
	 * Otherwise (another user's process) its service thread does it.
	 */
	if (!pidfd_exited(p->pidfd)) {
		siginfo_t si;

		memset(&si, 0, sizeof(si));
		si.si_signo = MF_AO_SIGNAL;
		si.si_code = SI_QUEUE;
		si.si_pid = getpid();
		si.si_uid = getuid();
		si.si_value.sival_ptr = (void *)(uintptr_t)((addr & ~(MF_PAGE_SIZE - 1)) | (lsb & 0x3f));
		if (!syscall(SYS_rt_tgsigqueueinfo, p->task.pid, tid, MF_AO_SIGNAL, &si))
			return 0;
		if (errno == ESRCH)
			return -ESRCH;
	}
	if (nr_pending_sig == MAX_PENDING_SIGNALS)
		peer_signal_sync(mf);
	memset(&m, 0, sizeof(m));
	m.hdr.magic = MF_PROTO_MAGIC;
	m.hdr.type = MF_CTL_SIGNAL;
	m.hdr.len = sizeof(m);
	m.hdr.seq = ++d->next_seq;
	m.tid = tid;
	m.code = code;
	m.addr = addr;
	m.lsb = lsb;
	if (conn_send(p->ctl, &m, sizeof(m), -1) < 0)
		return -ESRCH;
	pending_sig[nr_pending_sig].p = p;
	pending_sig[nr_pending_sig].seq = m.hdr.seq;
	nr_pending_sig++;
	return 0;
}

/*
 * The kernel's send_sig_mceerr() leaves the signal pending on the thread
 * before memory_failure() goes on: the consumer's madvise() cannot return
 * before the bystanders have their AO.  Wait until every service thread
 * has queued its signal (or is gone).
 */
static void peer_signal_sync(struct mf_engine *mf)
{
	uint64_t deadline = now_monotonic_ns() + (uint64_t)mf->unmap_timeout_ms * 1000000ULL;
	static struct pollfd pfd[MAX_PENDING_SIGNALS];
	static struct proc *owner[MAX_PENDING_SIGNALS];
	char buf[256];
	const struct mf_reply *r = (const void *)buf;
	unsigned i, k, np;

	for (;;) {
		uint64_t now = now_monotonic_ns();

		np = 0;
		for (i = 0; i < nr_pending_sig; i++) {
			struct proc *p = pending_sig[i].p;

			if (!p)
				continue;
			if (p->exited || !p->ctl) {
				pending_sig[i].p = NULL;
				continue;
			}
			for (k = 0; k < np && owner[k] != p; k++)
				;
			if (k < np)
				continue;
			owner[np] = p;
			pfd[np].fd = p->ctl->fd;
			pfd[np++].events = POLLIN;
		}
		if (!np || now >= deadline)
			break;
		if (poll(pfd, np, (int)((deadline - now + 999999) / 1000000)) < 0 && errno != EINTR)
			break;
		for (i = 0; i < np; i++) {
			struct proc *p = owner[i];
			ssize_t n;

			if (!pfd[i].revents)
				continue;
			n = sock_recv(p->ctl->fd, buf, sizeof(buf), NULL, NULL, MSG_DONTWAIT);
			if (n == -EAGAIN)
				continue;
			if (n <= 0) {
				proc_exit(p);
				continue;
			}
			if ((size_t)n < sizeof(*r) || r->hdr.magic != MF_PROTO_MAGIC ||
			    r->hdr.type != MF_REPLY)
				continue;
			for (k = 0; k < nr_pending_sig; k++)
				if (pending_sig[k].p == p && pending_sig[k].seq == r->hdr.seq)
					pending_sig[k].p = NULL;
		}
	}
	nr_pending_sig = 0;
}

static int peer_kill(struct mf_engine *mf, struct mf_task *t)
{
	struct proc *p = t->peer;

	(void)mf;
	if (p->pidfd < 0)
		return -ESRCH;
	return pidfd_send_signal(p->pidfd, SIGKILL) ? -errno : 0;
}

static void peer_panic(struct mf_engine *mf)
{
	struct mfd *d = engine_mfd(mf);
	struct proc *p;

	list_for_each_entry(p, &d->procs, node)
		if (!p->exited)
			pidfd_send_signal(p->pidfd, SIGKILL);
}

static void peer_log(struct mf_engine *mf, int level, const char *line)
{
	mfd_log(engine_mfd(mf), level, "%s", line);
}

static void peer_event(struct mf_engine *mf, struct mf_event *ev)
{
	mfd_event(engine_mfd(mf), ev);
}

const struct mf_peer_ops mfd_peer_ops = {
	.shootdown = peer_shootdown,
	.signal = peer_signal,
	.signal_sync = peer_signal_sync,
	.kill = peer_kill,
	.panic = peer_panic,
	.log = peer_log,
	.event = peer_event,
	.ram_shootdown = peer_ram_shootdown,
};
