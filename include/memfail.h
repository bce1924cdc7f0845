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
	const char *mode;		/* "devdax" */
	uint64_t size;			/* bytes */
	uint64_t align;			/* 4096, 2 MiB or 1 GiB */
	uint64_t phys_start;		/* emulated physical address range */
	uint64_t phys_end;		/* last byte */
	uid_t uid;
	gid_t gid;
	mode_t perm;
	unsigned nr_mappings;		/* mappings registered right now */
	uint64_t badblock_count;	/* bad sectors */
	uint64_t hwpoison_pages;	/* pages memory_failure() marked */
};

struct memfail_namespace_args {
	uint64_t size;			/* bytes, a multiple of align */
	uint64_t align;			/* 0: 2 MiB */
	const char *mode;		/* NULL or "devdax" */
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
int memfail_namespace_get(struct memfail_ctx *ctx, const char *name,
			  struct memfail_namespace *out);
/* *out is malloc()ed; free() it. */
int memfail_namespace_list(struct memfail_ctx *ctx, struct memfail_namespace **out,
			   size_t *count);

struct memfail_badblock {
	uint64_t sector;		/* 512-byte sectors from the data start */
	uint64_t count;
};

/* Bad sectors of a namespace, merged ranges in order; *out malloc()ed. */
int memfail_badblocks(struct memfail_ctx *ctx, const char *name,
		      struct memfail_badblock **out, size_t *count);

#define MEMFAIL_INJECT_NOTIFY	(1u << 0)	/* into badblocks at once (default) */

/* Poison sectors [sector, sector + count) of the media.  Mappers notice
 * nothing until one of them touches it. */
int memfail_inject_error(struct memfail_ctx *ctx, const char *name,
			 uint64_t sector, uint64_t count, unsigned flags);

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

#ifdef __cplusplus
}
#endif

#endif /* MEMFAIL_H */
