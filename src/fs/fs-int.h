/* SPDX-License-Identifier: MIT */
/*
 * fs/fs-int.h: what the files of src/fs share: the superblock, SQL
 * statements, the allocator (alloc.c) and the block maps (extent.c).
 */
#ifndef MF_FS_INT_H
#define MF_FS_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <sqlite3.h>

#include "fs.h"

#define FS_NR_STMT	64

struct fs_open {
	uint64_t ino;
	unsigned count;
};

struct fs_entry {
	uint64_t ino, idx;
};

struct fs_sb {
	pthread_mutex_t lock;
	pthread_cond_t entry_cv;	/* an entry lock was released */
	sqlite3 *db;
	struct nd_namespace *ns;
	uint64_t nr_pages;
	uint64_t meta_pages;		/* [0, meta_pages): superblock and log */
	_Atomic bool shutdown;		/* metadata lost: every operation -EIO */
	char shutdown_why[128];
	const struct fs_ops *ops;
	void *priv;
	struct {
		const char *sql;
		sqlite3_stmt *st;
	} stmt[FS_NR_STMT];
	struct fs_open *open;		/* open files */
	size_t nr_open, cap_open;
	struct fs_entry *entry;		/* locked entries */
	size_t nr_entry, cap_entry;
};

/* A ready statement for sql (a string literal: cached by its address). */
sqlite3_stmt *fs_stmt(struct fs_sb *sb, const char *sql);
/* Run a statement without results: 0 or -EIO. */
int fs_exec(struct fs_sb *sb, const char *sql, const int64_t *args, int n);
/* One integer from a one-row query: 1 found, 0 none, -EIO. */
int fs_query_int(struct fs_sb *sb, const char *sql, const int64_t *args, int n,
		 int64_t *out);
int fs_begin(struct fs_sb *sb);
int fs_commit(struct fs_sb *sb);
void fs_rollback(struct fs_sb *sb);
int64_t fs_now_ns(void);
/* xfs_is_shutdown(): the file operations' first check. */
#define FS_SHUTDOWN_CHECK(sb) do { if (atomic_load(&(sb)->shutdown)) return -EIO; } while (0)

/* ---- alloc.c: free space, in pages ---- */
/* Take [start, start + n) out of free space (it must be free). */
int fs_free_take(struct fs_sb *sb, uint64_t start, uint64_t n);
/* Give [start, start + n) back, merged with its neighbours. */
int fs_free_put(struct fs_sb *sb, uint64_t start, uint64_t n);
/* Up to `want` free pages at an `align`ed start, contiguous, avoiding
 * poisoned ones; with `exact`, exactly want or -ENOSPC. */
int fs_free_find(struct fs_sb *sb, uint64_t want, uint64_t align, bool exact,
		 uint64_t *start, uint64_t *got);

/* ---- extent.c: the block map of files ---- */
/* How holes are filled: 4 KiB blocks; 2 MiB chunks where they fit (fs.h);
 * or page by page as faults fill them, each page an extent of its own (a
 * PTE fault never makes a PMD mapping of its chunk). */
enum fs_alloc { FS_ALLOC_SMALL, FS_ALLOC_BIG, FS_ALLOC_FAULT };
/* Allocate the holes of [first, first + n) of ino.  New blocks are zeroed. */
int fs_alloc_range(struct fs_sb *sb, uint64_t ino, uint64_t first, uint64_t n,
		   enum fs_alloc how);
/*
 * Free what file pages [first, first + n) of ino own (n may be UINT64_MAX
 * for "to the end"): the mappers are told, the entry locks of the range
 * waited for, media errors and bad pages moved to the free-space poison
 * list.  Within the caller's transaction; the caller holds sb->lock.
 */
int fs_free_range(struct fs_sb *sb, uint64_t ino, uint64_t first, uint64_t n);
/* Extents of ino overlapping [first, first + n), in file order. */
int fs_extents(struct fs_sb *sb, uint64_t ino, uint64_t first, uint64_t n,
	       struct fs_extent **out, size_t *nr);
int fs_bmap_locked(struct fs_sb *sb, uint64_t ino, uint64_t idx, struct fs_extent *ext);
/* Wait (sb->lock held) until no entry of ino in [first, first + n) is locked. */
void fs_wait_entries(struct fs_sb *sb, uint64_t ino, uint64_t first, uint64_t n);
/* Write zeros to namespace pages [start, start + n) (fresh blocks). */
int fs_zero_pages(struct fs_sb *sb, uint64_t start, uint64_t n);

#endif /* MF_FS_INT_H */
