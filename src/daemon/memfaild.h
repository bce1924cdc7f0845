/* SPDX-License-Identifier: MIT */
/*
 * daemon/memfaild.h: memfaild, the process that plays the kernel.
 *
 * One thread, one epoll loop.  It owns the region (nvdimm), the dax
 * devices, the engine (mm), every client connection and every registered
 * process.  A request runs to completion before the next is read; while
 * memory_failure() waits for mappers to answer, the loop only reads
 * those answers (see peer.c), which is what makes the engine's entry lock
 * and rmap walk safe without locks.
 */
#ifndef MF_DAEMON_H
#define MF_DAEMON_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "../mm/mm.h"
#include "../nvdimm/nvdimm.h"
#include "../uapi/mf_proto.h"
#include "../util/list.h"
#include "../util/util.h"

struct mfd;

enum watch_type { W_LISTEN, W_CONN, W_SIGNAL, W_PIDFD, W_FUSE };

struct watch {
	enum watch_type type;
	void *ptr;
};

/* A registered mapping process. */
struct proc {
	struct list_node node;
	struct mfd *d;
	struct mf_task task;
	struct conn *ctl;		/* its service thread */
	int pidfd;
	ino_t pidfd_ino;		/* pidfs: one inode per process */
	struct watch pidfd_watch;
	uint64_t order;			/* registration order */
	bool exited;
};

struct conn {
	struct list_node node;
	struct mfd *d;
	int fd;
	struct watch watch;
	enum mf_role role;		/* 0 until MF_HELLO */
	struct mf_cred peer;		/* SO_PEERCRED at accept */
	int peer_pidfd;			/* SO_PEERPIDFD, or -1 */
	struct proc *proc;		/* control, request, fault */
	struct mf_cred cred;		/* SCM_CREDENTIALS of the current message */
	bool monitor;			/* receives MF_EVENT (MF_MONITOR) */
	struct mf_event_msg *monitor_msg;	/* events not sent yet */
	uint64_t monitor_lost;		/* events it could not take */
	bool closing;
};

struct mfd_options {
	const char *state_dir;
	const char *socket_path;
	const char *log_file;
	const struct mf_profile *profile;
	int early_kill;
	unsigned unmap_timeout_ms;
	uint64_t region_size;
	bool strict_caps;
	bool foreground;
	uint64_t history_max;		/* events kept in events.db */
};

struct history;
struct scrub;

/* What is known of files (ram.c): poisoned shmem pages, lost dirty pages. */
struct ram_files {
	struct mf_ram_file_entry *e;	/* sorted */
	size_t n, cap;
};

struct mfd {
	struct mfd_options opt;
	struct nd_region *region;
	struct mf_engine mf;
	int epfd;
	int listen_fd;
	int sig_fd;
	struct watch listen_watch, sig_watch;
	struct list_node conns;
	struct list_node procs;
	uint64_t next_order;
	uint64_t next_seq;		/* daemon -> client requests */
	uint64_t boot_ns;
	struct history *history;	/* the event database */
	uint64_t event_seq;		/* of the last event */
	uint64_t seq_reserved;		/* numbers up to this are durably taken */
	int seq_fd;			/* events.seq: where that is kept */
	struct scrub *scrub;		/* the region's scrub (scrub.c) */
	struct ram_files files;
	struct mf_status_page *status;	/* beside the socket: ram.c */
	char status_path[PATH_MAX + 8];
	uid_t uid;			/* the daemon's own */
	bool listen_paused;		/* out of fds: see conn_accept() */
	struct list_node fs_mounts;	/* fsdax file systems shown (fsdax.c) */
	uint64_t fs_map_gen;		/* bumps when file blocks leave their mappers */
	bool stop;
};

/* log.c: kernel-style lines, "[    5.123456] text" */
void mfd_log_init(struct mfd *d, const char *log_file);
void mfd_log(struct mfd *d, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Write what was logged since the last flush. */
void mfd_log_flush(void);
/* The ring of records /dev/kmsg shows: up to max after `after`. */
unsigned mfd_kmsg_read(uint64_t after, struct mf_kmsg_rec *out, unsigned max,
		       uint64_t *first, uint64_t *next);

/* events.c: every event goes to the monitors and into the history */
/* Numbering goes on past every number ever handed out (events.seq). */
void events_init(struct mfd *d);
void mfd_event(struct mfd *d, struct mf_event *ev);
/* An event about sectors of a namespace (NULL: the region). */
void mfd_event_ns(struct mfd *d, enum mf_event_type type, const struct nd_namespace *ns,
		  uint64_t sector, uint64_t count, uint32_t flags);
/* The connection becomes a monitor: 0 or -ENOMEM. */
int monitor_start(struct conn *c);
/* A monitor that lost events can take messages again. */
void monitor_writable(struct conn *c);
/* Commit the events so far to the history (before any reply). */
void mfd_events_flush(struct mfd *d);

/* history.c: the event database (SQLite, events.db in the state dir) */
/* Keeps the newest max_rows events (0: all). */
int history_open(const char *state_dir, uint64_t max_rows, struct history **out,
		 uint64_t *last_seq);
void history_close(struct history *h);
void history_add(struct history *h, struct mfd *d, const struct mf_event *ev);
void history_commit(struct history *h, struct mfd *d);
/* Up to max events after after_seq, from since_ns on, of one type (0:
 * all); returns how many, *more if there are others. */
int history_query(struct history *h, uint64_t after_seq, uint64_t since_ns, uint32_t type,
		  struct mf_event *out, uint32_t max, bool *more);
/* Rows of the summary from `offset` on, at most max; *more if others. */
int history_summary(struct history *h, uint64_t since_ns, uint32_t offset,
		    struct mf_summary_row *out, uint32_t max, bool *more);

/* conn.c */
int conn_accept(struct mfd *d);
void conn_readable(struct conn *c);
void conn_close(struct conn *c);
int conn_send(struct conn *c, const void *msg, size_t len, int pass_fd);
/* Fill a reply header for request `req`. */
void reply_init(struct mf_reply *r, const struct mf_hdr *req, size_t len, int error);
int send_error(struct conn *c, const struct mf_hdr *req, int error);

/* peer.c: processes, and the engine's peer interface over sockets */
extern const struct mf_peer_ops mfd_peer_ops;
struct proc *proc_register(struct mfd *d, struct conn *ctl, const char *comm);
struct proc *proc_find(struct mfd *d, pid_t pid);
/* The registered process a connection comes from (pid and pidfd agree). */
struct proc *proc_of_conn(struct mfd *d, struct conn *c);
void proc_exit(struct proc *p);
/* A request out to a process's service thread, waiting for its answer. */
struct peer_req {
	struct proc *p;
	uint64_t seq;
	bool done;		/* answered (take() said so), or not to wait for */
};
/* Wait until every request is done, its process gone, or the deadline:
 * take() gets each answer with its request's seq and says if it will do. */
void peer_await(struct peer_req **rq, unsigned n, uint64_t deadline,
		bool (*take)(struct peer_req *rq, const void *buf, size_t n));
void proc_pidfd_ready(struct proc *p);
/* Has it exited, even if the loop has not seen it yet? */
bool proc_gone(struct proc *p);

/* admin.c: namespaces, counters, settings; the admin dispatch */
void ns_info_fill(struct mf_ns_info *i, const struct nd_namespace *ns);
/* A namespace named in a request (NULL if unknown or not terminated). */
struct nd_namespace *ns_by_wire_name(struct mfd *d, const char *name);
void handle_admin(struct conn *c, const struct mf_hdr *h, const void *buf, size_t len);

/* errors.c: media errors and driver I/O; 0 or -errno (the caller
 * replies), or void (they reply themselves) */
int errors_inject(struct conn *c, const struct mf_range_req *m);
int errors_inject_batch(struct conn *c, const struct mf_inject_batch *m, size_t len);
int errors_clear(struct conn *c, const struct mf_hdr *h, const struct mf_range_req *m);
void errors_list(struct conn *c, const struct mf_hdr *h, const struct mf_badblocks_req *m);
void errors_mappers(struct conn *c, const struct mf_hdr *h, const struct mf_mappers_req *m);
int errors_read(struct conn *c, const struct mf_hdr *h, const struct mf_io_req *m);
int errors_write(struct conn *c, const struct mf_io_req *m, size_t len);
/* Latent poison among the sectors is found (how: MF_EVF_BY_*). */
int64_t found_latent(struct mfd *d, struct nd_namespace *ns, uint64_t sector,
		     uint64_t count, uint32_t how);

/* scrub.c: the region's scrub, run a slice per loop iteration */
int scrub_request(struct conn *c, const struct mf_hdr *h, const struct mf_scrub_req *m);
/* Run a slice if a scrub is active; true if one still is. */
bool scrub_step(struct mfd *d);
void scrub_free(struct mfd *d);

/* watch.c: monitors and the history */
int watch_monitor(struct conn *c, const struct mf_hdr *h, const struct mf_monitor_req *m);
int watch_history(struct conn *c, const struct mf_hdr *h, const struct mf_history_req *m);
int watch_summary(struct conn *c, const struct mf_hdr *h, const struct mf_summary_req *m);

/* ram.c: ordinary memory */
int ram_init(struct mfd *d);
void ram_shutdown(struct mfd *d);
/* The status page shows the counters and settings as they are now. */
void ram_status_sync(struct mfd *d);
/* A file event (MF_FILE_*) about frame f's file; returns its gen. */
uint64_t ram_file_event(struct mfd *d, const struct mf_frame *f, uint32_t what);
/* A mapping process's requests about its memory; 0 or -errno (the
 * caller replies with the error). */
int ram_request(struct conn *c, const struct mf_hdr *h, const void *buf, size_t len);
/* Those that need no mapping process: kpageflags, the injection files. */
int ram_admin(struct conn *c, const struct mf_hdr *h, const void *buf, size_t len);

/* peer-ram.c: the engine's ram_shootdown over the control connections */
int peer_ram_shootdown(struct mf_engine *mf, const struct mf_frame *f, unsigned ops,
		       struct mf_ram_sd **out, unsigned *n);

/* process.c: a mapping process's requests */
void handle_request(struct conn *c, const struct mf_hdr *h, const void *buf, size_t len);

/* auth.c: who may do what */
bool cred_is_admin_of(struct mfd *d, const struct mf_cred *cr, const struct nd_namespace *ns);
/* access: MF_ACCESS_READ and/or MF_ACCESS_WRITE */
bool cred_may_open(const struct mf_cred *cr, const struct nd_namespace *ns, unsigned access);
bool cred_may_configure(struct mfd *d, const struct mf_cred *cr);
/* The emulated CAP_SYS_ADMIN over memory owned by `owner` (a
 * namespace's owner, or the user whose process has the page). */
bool cred_has_sys_admin(struct mfd *d, const struct mf_cred *cr, pid_t tid, uid_t owner);
/* A part of a file a process maps: file offsets [lo, hi). */
struct file_window {
	uint64_t dev, ino, lo, hi;
};
/* Does process pid map offset off of file (dev, ino)?  (true when its
 * maps cannot be read.)  The mapping's window goes to *w if found. */
bool proc_maps_file(pid_t pid, uint64_t dev, uint64_t ino, uint64_t off, struct file_window *w);
struct stat;
/* Process pid's descriptor fd, as /proc shows it: the file it is open on
 * (*st) and whether for writing.  0 or -errno. */
int proc_fd_file(pid_t pid, int fd, struct stat *st, bool *writable);

/* fsdax.c, fsdax-map.c: files on fsdax namespaces, through FUSE */
struct fsdax_mnt;
/* The namespace's file system (an fsdax one; others: nothing to do). */
int fsdax_attach(struct mfd *d, struct nd_namespace *ns);
/* Unmount and close it; with destroy, its metadata goes too. */
void fsdax_detach(struct mfd *d, struct nd_namespace *ns, bool destroy);
void fsdax_shutdown(struct mfd *d);
/* At startup: mount again where the files were shown before. */
void fsdax_restore_mounts(struct mfd *d);
void fsdax_repair(struct mfd *d, struct nd_namespace *ns);
/* Known poison among these sectors: memory_failure() of the file
 * system's metadata pages in them (which shuts it down). */
void fsdax_meta_bad(struct mfd *d, struct nd_namespace *ns, uint64_t sector, uint64_t count);
/* MF_FS_MEDIA_ERRORS (replies itself). */
void fsdax_media_errors(struct conn *c, const struct mf_hdr *h,
			const struct mf_fs_media_errors_req *m);
void fsdax_readable(struct fsdax_mnt *m);
int fsdax_mount_req(struct conn *c, const struct mf_fs_mount *m, bool mount);
struct nd_namespace *fsdax_ns_of_dev(struct mfd *d, uint64_t dev);
int fsdax_map(struct conn *c, const struct mf_hdr *h, const struct mf_fs_map *m);
int fsdax_fiemap(struct conn *c, const struct mf_hdr *h, const struct mf_fs_fiemap *m);
int fsdax_map_register(struct conn *c, const struct mf_hdr *h,
		       const struct mf_fs_map_register *m);
int fsdax_consume(struct conn *c, struct mf_vma *vma, uint64_t offset,
		  const struct mf_current *cur, struct mf_raise *raise);

#endif /* MF_DAEMON_H */
