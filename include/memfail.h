/* SPDX-License-Identifier: MIT */
/*
 * memfail.h: libmemfail, the client library of memfail.
 *
 * memfail is Linux's memory-failure handling for DAX device memory, in
 * user space: emulated persistent-memory namespaces served by memfaild.
 * This library manages them: create and destroy namespaces, inject and
 * clear media errors, list bad blocks, read counters and settings, and
 * read or write a namespace through the driver.
 *
 * Programs that map namespaces need no library call at all: run them
 * under `memfail run` (the preload library) and use /dev/daxX.Y with
 * open(2), mmap(2), madvise(2) and prctl(2) as on Linux.
 *
 * Every function returns 0 (or a count) on success and a negative errno
 * on failure; nothing is changed on failure.  A context is one
 * connection; use one per thread.
 */
#ifndef MEMFAIL_H
#define MEMFAIL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MEMFAIL_SECTOR_SIZE	512

struct memfail_ctx;

/* Connect to memfaild.  socket_path NULL: $MEMFAIL_SOCKET, else the
 * default socket (see memfaild(8)). */
int memfail_connect(const char *socket_path, struct memfail_ctx **ctx);
void memfail_disconnect(struct memfail_ctx *ctx);
/* The daemon's kernel behaviour profile, e.g. "linux-6.12". */
const char *memfail_kernel_profile(const struct memfail_ctx *ctx);

struct memfail_namespace {
	char dev[32];			/* namespace0.N */
	char chardev[32];		/* dax0.N */
	char uuid[40];
	unsigned id;
	const char *mode;		/* "devdax" or "fsdax" */
	uint64_t size;			/* bytes */
	uint64_t align;			/* 4096, 2 MiB or 1 GiB */
	uint64_t phys_start;		/* emulated physical address range */
	uint64_t phys_end;		/* last byte */
	uid_t uid;
	gid_t gid;
	mode_t perm;
	unsigned nr_mappings;		/* mappings registered right now */
	uint64_t badblock_count;	/* bad sectors */
	uint64_t latent_count;		/* poisoned sectors not found yet */
	uint64_t hwpoison_pages;	/* pages memory_failure() marked */
	int fs_shutdown;		/* fsdax: file system shut down (metadata lost) */
	char fs_why[100];		/* and why */
};

struct memfail_namespace_args {
	uint64_t size;			/* bytes, a multiple of align */
	uint64_t align;			/* 0: 2 MiB */
	const char *mode;		/* NULL or "devdax"; "fsdax" for files */
	int set_uid, set_gid, set_perm;	/* non-zero: use the values below */
	uid_t uid;
	gid_t gid;
	mode_t perm;			/* default 0600 */
	int sparse;			/* do not reserve disk space */
};

int memfail_namespace_create(struct memfail_ctx *ctx,
			     const struct memfail_namespace_args *args,
			     struct memfail_namespace *out);
/* name: namespaceX.Y, daxX.Y or pmemX.Y.  -EBUSY while mapped. */
int memfail_namespace_destroy(struct memfail_ctx *ctx, const char *name);
/*
 * fsdax: show the namespace's files at directory `dir` (absolute, an
 * existing directory), served by the daemon through FUSE; _umount takes
 * them away from dir (NULL: from everywhere).  -EINVAL for a devdax
 * namespace.
 */
int memfail_fs_mount(struct memfail_ctx *ctx, const char *name, const char *dir);
int memfail_fs_umount(struct memfail_ctx *ctx, const char *name, const char *dir);

/* One bad byte range of a file on an fsdax namespace. */
struct memfail_file_error {
	uint64_t ino;
	char name[256];			/* "" once unlinked */
	uint64_t offset;		/* bytes into the file */
	uint64_t length;		/* bytes */
};

/*
 * The media errors of every file of an fsdax namespace, in (inode,
 * offset) order, as pmem2_badblock iteration gives a program the bad
 * ranges of its file; *out malloc()ed.  free_pages (may be NULL): how
 * many free pages of the namespace are poisoned.  -EINVAL for devdax,
 * -EPERM for who may not manage the namespace.
 */
int memfail_fs_media_errors(struct memfail_ctx *ctx, const char *name,
			    struct memfail_file_error **out, size_t *count,
			    uint64_t *free_pages);
int memfail_namespace_get(struct memfail_ctx *ctx, const char *name,
			  struct memfail_namespace *out);
/* *out is malloc()ed; free() it. */
int memfail_namespace_list(struct memfail_ctx *ctx, struct memfail_namespace **out,
			   size_t *count);

struct memfail_badblock {
	uint64_t sector;		/* 512-byte sectors from the data start */
	uint64_t count;
};

/* Bad sectors of a namespace (the badblocks list: known poison), merged
 * ranges in order; *out malloc()ed. */
int memfail_badblocks(struct memfail_ctx *ctx, const char *name,
		      struct memfail_badblock **out, size_t *count);
/* Latent poison: injected without notification and not found yet. */
int memfail_latent_errors(struct memfail_ctx *ctx, const char *name,
			  struct memfail_badblock **out, size_t *count);

#define MEMFAIL_INJECT_NOTIFY	(1u << 0)	/* into badblocks at once (default) */
#define MEMFAIL_INJECT_LATENT	(1u << 1)	/* found only by a scrub or an access */

/*
 * Poison sectors [sector, sector + count) of the media, known to the
 * driver at once or latent.  Mappers notice nothing until one of them
 * touches it.
 */
int memfail_inject_error(struct memfail_ctx *ctx, const char *name,
			 uint64_t sector, uint64_t count, unsigned flags);
/* Several ranges in one transaction: all of them or none. */
#define MEMFAIL_INJECT_MANY_MAX	2048
int memfail_inject_many(struct memfail_ctx *ctx, const char *name,
			const struct memfail_badblock *ranges, size_t n, unsigned flags);

/* Who maps each poisoned page of a namespace (*out malloc()ed). */
struct memfail_mapper {
	uint64_t page;			/* page of the namespace (4 KiB) */
	pid_t pid;
	char comm[16];
	uint64_t size;			/* the mapping's unit: 4 KiB, 2 MiB or 1 GiB */
	uint64_t addr;			/* the page's address in that process */
};
int memfail_mappers(struct memfail_ctx *ctx, const char *name,
		    struct memfail_mapper **out, size_t *count);

/* Forget injected errors in [sector, sector + count) without rewriting
 * them (ndctl inject-error --uninject): the data there is what it was. */
int memfail_uninject_error(struct memfail_ctx *ctx, const char *name,
			   uint64_t sector, uint64_t count);

#define MEMFAIL_CLEAR_ALL	(1u << 1)

/* Rewrite bad sectors (their data is lost) and clear them, giving the
 * pages back to every mapper.  *cleared: sectors cleared (may be NULL). */
int memfail_clear_errors(struct memfail_ctx *ctx, const char *name,
			 uint64_t sector, uint64_t count, unsigned flags,
			 uint64_t *cleared);

/* Driver I/O: a read that touches a bad sector fails with -EIO; a write
 * clears the bad sectors it covers whole, once its data is durable. */
int memfail_read(struct memfail_ctx *ctx, const char *name, uint64_t offset,
		 void *buf, size_t len);
int memfail_write(struct memfail_ctx *ctx, const char *name, uint64_t offset,
		  const void *buf, size_t len);

struct memfail_counters {
	uint64_t total, ignored, failed, delayed, recovered;
};

struct memfail_ns_counters {
	char dev[32];
	struct memfail_counters c;
};

/* node0's memory_failure counters, HardwareCorrupted in kB, and the
 * counters of each namespace (*per_ns malloc()ed; may be NULL). */
int memfail_stats(struct memfail_ctx *ctx, struct memfail_counters *node,
		  uint64_t *hardware_corrupted_kb,
		  struct memfail_ns_counters **per_ns, size_t *count);

/*
 * Daemon-wide settings: "memory_failure_early_kill" (0/1),
 * "memory_failure_recovery" (0/1), "unmap_timeout_ms"; read-only
 * "kernel" (the profile's number), "panicked", and the emulated region's
 * "region_base", "region_size" and "region_available" (bytes).
 */
int memfail_config_get(struct memfail_ctx *ctx, const char *key, int64_t *value);
int memfail_config_set(struct memfail_ctx *ctx, const char *key, int64_t value);

/*
 * Scrub (ARS): make latent poison known, of one namespace or (name NULL)
 * of the whole region.  It runs in the daemon; status says how far it is.
 * One at a time (-EBUSY).
 */
#define MEMFAIL_SCRUB_FULL	(1u << 0)	/* read every block, not just poison */

struct memfail_scrub {
	int active;			/* running now */
	int cancelled;			/* the last one was cancelled (or its namespace went) */
	int failed;			/* the last one stopped on an error */
	unsigned flags;			/* MEMFAIL_SCRUB_* of the current or last */
	char dev[32];			/* region0, or the namespace */
	uint64_t count;			/* scrubs completed since the daemon started */
	uint64_t done, total;		/* bytes scrubbed, of */
	uint64_t found;			/* latent sectors it found */
};

int memfail_scrub_start(struct memfail_ctx *ctx, const char *name, unsigned flags,
			struct memfail_scrub *state);
int memfail_scrub_status(struct memfail_ctx *ctx, struct memfail_scrub *state);
int memfail_scrub_cancel(struct memfail_ctx *ctx, struct memfail_scrub *state);

/*
 * Events: what the daemon did and saw, as the monitor streams them and the
 * history keeps them.  Fields a type does not use are 0.
 */
enum memfail_event_type {
	MEMFAIL_EV_MEMORY_FAILURE = 1,	/* pfn, page_type, result */
	MEMFAIL_EV_SIGNAL,		/* pid, tid, comm, code, addr, lsb */
	MEMFAIL_EV_KILL,		/* pid, comm: could not be unmapped */
	MEMFAIL_EV_INJECT,		/* sector, count; MEMFAIL_EVF_LATENT */
	MEMFAIL_EV_UNINJECT,		/* sector, count */
	MEMFAIL_EV_CLEAR,		/* sector, count; MEMFAIL_EVF_BY_WRITE */
	MEMFAIL_EV_FOUND,		/* latent poison found: sector, count, how */
	MEMFAIL_EV_SCRUB_START,		/* dev, flags */
	MEMFAIL_EV_SCRUB_END,		/* dev, count: sectors found */
	MEMFAIL_EV_PANIC,		/* pfn */
	MEMFAIL_EV_LOST,		/* monitor: count events it missed */
};

#define MEMFAIL_EVF_LATENT	(1u << 0)
#define MEMFAIL_EVF_BY_WRITE	(1u << 1)
#define MEMFAIL_EVF_BY_SCRUB	(1u << 2)
#define MEMFAIL_EVF_BY_ACCESS	(1u << 3)
#define MEMFAIL_EVF_BY_READ	(1u << 4)
#define MEMFAIL_EVF_CANCELLED	(1u << 5)
#define MEMFAIL_EVF_FAILED	(1u << 6)

struct memfail_event {
	uint64_t seq;			/* increasing, never reused (gaps after a restart) */
	uint64_t time_ns;		/* CLOCK_REALTIME */
	unsigned type;			/* enum memfail_event_type */
	unsigned flags;			/* MEMFAIL_EVF_* */
	char dev[32];			/* namespace0.Y, or region0 */
	uint64_t pfn;
	uint64_t sector, count;
	pid_t pid, tid;
	char comm[16];
	int code;			/* si_code: 4 BUS_MCEERR_AR, 5 BUS_MCEERR_AO; 9 SIGKILL */
	unsigned lsb;			/* si_addr_lsb */
	uint64_t addr;
	unsigned result;		/* 0 Ignored, 1 Failed, 2 Delayed, 3 Recovered */
	unsigned page_type;		/* "dax page", "dirty LRU page"...: memfail_page_type_name() */
};

/* "memory_failure", "signal", ...; NULL for an unknown type. */
const char *memfail_event_type_name(unsigned type);
/* "Ignored", "Failed", "Delayed", "Recovered", as rasdaemon names them. */
const char *memfail_action_result_name(unsigned result);
/* "dax page", "dirty LRU page", ...: the kernel's action_page_types. */
const char *memfail_page_type_name(unsigned page_type);

/*
 * Turn the context into a monitor: from now on it receives every event
 * (root or the daemon's user only), and serves no other call (-EBUSY).
 * next() waits up to timeout_ms (-1: for ever): 1 an event, 0 none yet.
 * Events arrive several to a message and the context holds the rest:
 * after poll() on monitor_fd() wakes, call next() with timeout 0 until it
 * returns 0.
 */
int memfail_monitor_start(struct memfail_ctx *ctx);
int memfail_monitor_fd(const struct memfail_ctx *ctx);
int memfail_monitor_next(struct memfail_ctx *ctx, struct memfail_event *ev, int timeout_ms);

/* The history: events with seq > after_seq and time >= since_ns, of one
 * type (0: all), oldest first (*out malloc()ed). */
int memfail_history(struct memfail_ctx *ctx, uint64_t after_seq, uint64_t since_ns,
		    unsigned type, struct memfail_event **out, size_t *count);

/* The history counted, as ras-mc-ctl --summary counts it. */
struct memfail_summary_row {
	unsigned type;
	unsigned result;		/* MEMORY_FAILURE */
	unsigned page_type;
	int code;			/* SIGNAL */
	char dev[32];			/* media events: the namespace */
	uint64_t count;
};
int memfail_history_summary(struct memfail_ctx *ctx, uint64_t since_ns,
			    struct memfail_summary_row **out, size_t *count);

#ifdef __cplusplus
}
#endif

#endif /* MEMFAIL_H */
