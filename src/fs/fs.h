/* SPDX-License-Identifier: MIT */
/*
 * fs/fs.h: the file system of an fsdax namespace (what XFS or ext4 are to
 * fs/dax.c in Linux): one flat directory of regular files whose blocks
 * are 4 KiB pages of the namespace.
 *
 * Offers:
 *  - files by name: create, lookup, unlink, rename, stat, setattr,
 *    readdir; truncate, fallocate (0, KEEP_SIZE, PUNCH_HOLE|KEEP_SIZE),
 *    read, write, fsync;
 *  - the block map (file page -> namespace page, fs_bmap()) and the
 *    reverse map (namespace page -> file page, fs_rmap()), as XFS's rmapbt;
 *  - poison bookkeeping: the media errors of each file (by file page),
 *    and the poisoned free blocks (the free-space poison list);
 *  - entry locks on (inode, page index): memory_failure() holds one from
 *    the reverse-map lookup to the end of its signalling, and truncate,
 *    hole punch and faults of that index wait for it;
 *  - fs_check(), the invariants, for tests and for mount.
 *
 * Metadata lives in SQLite (WAL, synchronous=FULL), one transaction per
 * operation: a kill -9 at any point leaves files, sizes and extents as of
 * the last completed operation, and no block both free and owned.  File
 * data goes through the namespace's driver (nd_read/nd_write): a read of
 * poison fails with -EIO, and a write of whole pages over poison is a
 * recovery write, durable before its metadata commits.
 *
 * Allocation: a wholly unallocated 2 MiB chunk of a file gets one 2 MiB
 * aligned extent when the operation filling it is large (128 KiB or more)
 * or the file is or becomes at least 2 MiB long, so that aligned mappings
 * of it are PMD-sized; otherwise 4 KiB blocks, contiguous where free
 * space allows.  Poisoned free blocks are never handed out.  New blocks
 * read as zeros.
 *
 * Every call takes the file system's lock; all of them may be called from
 * any thread.  Units: bytes for sizes and offsets of I/O, pages (4 KiB)
 * for the block maps.
 */
#ifndef MF_FS_H
#define MF_FS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "../nvdimm/nvdimm.h"

#define FS_NAME_MAX	255
#define FS_ROOT_INO	1
#define FS_CHUNK_PAGES	512		/* 2 MiB */
#define FS_BIG_OP	(128u << 10)	/* an operation this large gets 2 MiB chunks */
#define FS_MAX_BYTES	(1ULL << 52)	/* the largest file offset */
#define FS_META_PAGES	4		/* page 0 the superblock, 1-3 the log */
#define FS_SB_MAGIC	"MFFSDAX1"

struct fs_sb;

struct fs_stat {
	uint64_t ino;
	uint64_t size;			/* bytes */
	uint64_t blocks;		/* 4 KiB pages allocated */
	uint32_t mode;			/* S_IFREG | perm, S_IFDIR for the root */
	uint32_t uid, gid, nlink;
	int64_t atime_ns, mtime_ns, ctime_ns;
};

/* One extent: file pages [foff, foff + len) live at namespace pages
 * [nsoff, nsoff + len). */
struct fs_extent {
	uint64_t foff, nsoff, len;
};

/*
 * Told before blocks of a file stop belonging to it (truncate, punch,
 * unlink of the last name, rename over a file): the mappers of those
 * pages must lose them first, as unmap_mapping_range() does.  Called with
 * the file system's lock held: it must not call back into the fs.
 */
struct fs_ops {
	void (*unmap_pages)(struct fs_sb *sb, uint64_t ino, uint64_t first, uint64_t n,
			    void *priv);
};

/*
 * Mount the file system of `ns` kept in the database at `db_path`; an
 * empty database is formatted (mkfs).  Files left unlinked but open at a
 * crash are freed (the orphan list).  -EUCLEAN if the metadata fails
 * fs_check() or does not match the namespace's size; -EHWPOISON if a
 * page of the metadata area is poisoned.
 */
int fs_mount(struct nd_namespace *ns, const char *db_path, const struct fs_ops *ops,
	     void *priv, struct fs_sb **out);
void fs_unmount(struct fs_sb *sb);
struct nd_namespace *fs_namespace(const struct fs_sb *sb);
uint64_t fs_nr_pages(const struct fs_sb *sb);

/*
 * The metadata area: namespace pages [0, fs_meta_pages()) hold the
 * superblock (page 0, written at mkfs and at every mount through the
 * namespace's driver) and stand for the internal log, as XFS's
 * superblock, AG headers and log do.  The allocator never hands them out.
 * A file system made before the area existed has none (0 pages).
 * fs_mount() fails with -EHWPOISON while a page of it is poisoned: the
 * superblock is rewritten from the database (the authoritative copy) only
 * once its media is good again (memfail's stand-in for xfs_repair).
 */
uint64_t fs_meta_pages(const struct fs_sb *sb);
bool fs_is_meta(const struct fs_sb *sb, uint64_t nspage);
/*
 * xfs_force_shutdown(SHUTDOWN_CORRUPT_ONDISK): from now on every file
 * operation fails with -EIO (the block maps included, so new mappings
 * fail); the first reason is kept.  Existing mappings are not touched.
 */
void fs_shutdown(struct fs_sb *sb, const char *why);
/* Shut down? why (if not NULL) gets the reason. */
bool fs_is_shut_down(struct fs_sb *sb, char *why, size_t n);

/* ---- the namespace of names (only the root directory, FS_ROOT_INO) ---- */
int fs_lookup(struct fs_sb *sb, const char *name, struct fs_stat *st);
int fs_getattr(struct fs_sb *sb, uint64_t ino, struct fs_stat *st);
/* -EEXIST, -ENAMETOOLONG, -EINVAL (empty, "/" in it, "." or "..") */
int fs_create(struct fs_sb *sb, const char *name, mode_t mode, uid_t uid, gid_t gid,
	      struct fs_stat *st);
/* The name goes; the file goes with it unless it is open (fs_iget), then
 * at its last fs_iput(). */
int fs_unlink(struct fs_sb *sb, const char *name);
/* RENAME_NOREPLACE is honoured; a file renamed over is unlinked. */
int fs_rename(struct fs_sb *sb, const char *from, const char *to, unsigned flags);

#define FS_SET_MODE	(1u << 0)
#define FS_SET_UID	(1u << 1)
#define FS_SET_GID	(1u << 2)
#define FS_SET_ATIME	(1u << 3)
#define FS_SET_MTIME	(1u << 4)
#define FS_SET_SIZE	(1u << 5)
int fs_setattr(struct fs_sb *sb, uint64_t ino, unsigned what, const struct fs_stat *to,
	       struct fs_stat *st);

/* One entry per call of fn, in inode order from `after` (exclusive);
 * fn returns nonzero to stop (its value is returned). */
int fs_readdir(struct fs_sb *sb, uint64_t after,
	       int (*fn)(const char *name, const struct fs_stat *st, void *arg), void *arg);

/* Open files: an unlinked file lives while it is open. */
int fs_iget(struct fs_sb *sb, uint64_t ino);
void fs_iput(struct fs_sb *sb, uint64_t ino);

/* ---- data ---- */
int fs_truncate(struct fs_sb *sb, uint64_t ino, uint64_t size);
/* mode: 0, FALLOC_FL_KEEP_SIZE, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE;
 * anything else -EOPNOTSUPP. */
int fs_fallocate(struct fs_sb *sb, uint64_t ino, int mode, uint64_t off, uint64_t len);
/* Bytes read (short at EOF), or -EIO if any page read holds poison. */
ssize_t fs_read(struct fs_sb *sb, uint64_t ino, uint64_t off, void *buf, size_t len);
/*
 * Bytes written, or -errno with nothing changed: -EIO for a write that
 * covers part of a poisoned page; -ENOSPC.  Whole pages written over
 * poison are good again: their media errors go, and `cleared` (if not
 * NULL) gets the namespace pages made good, for the caller to give back
 * to their mappers (*nr_cleared of them; the caller frees the array).
 */
ssize_t fs_write(struct fs_sb *sb, uint64_t ino, uint64_t off, const void *buf, size_t len,
		 uint64_t **cleared, size_t *nr_cleared);
int fs_fsync(struct fs_sb *sb, uint64_t ino);

/* ---- fs/dax.c's view: block map, reverse map, entry locks ---- */
/* The extent holding file page idx; -ENOENT: a hole. */
int fs_bmap(struct fs_sb *sb, uint64_t ino, uint64_t idx, struct fs_extent *ext);
/*
 * Every extent of file pages [first, first + n), allocating the holes
 * among them that lie below EOF (a shared mapping's write faults, done at
 * once, in 4 KiB blocks as faults allocate them).  *out (to be freed)
 * gets them in file order.
 */
int fs_map_pages(struct fs_sb *sb, uint64_t ino, uint64_t first, uint64_t n,
		 struct fs_extent **out, size_t *nr);
/* The extents of file pages [first, first + n), allocating nothing. */
int fs_extents_of(struct fs_sb *sb, uint64_t ino, uint64_t first, uint64_t n,
		  struct fs_extent **out, size_t *nr);
/* Is the 2 MiB chunk holding file page idx one 2 MiB-aligned extent? */
bool fs_chunk_is_pmd(struct fs_sb *sb, uint64_t ino, uint64_t idx);
/* Namespace page -> (inode, file page); -ENOENT: a free block. */
int fs_rmap(struct fs_sb *sb, uint64_t nspage, uint64_t *ino, uint64_t *idx);

/*
 * dax_lock_mapping_entry(): resolve namespace page `nspage` through the
 * reverse map and lock its entry (inode, index), waiting while someone
 * else holds it.  -ENOENT: a free block (nothing locked).
 */
int fs_lock_entry(struct fs_sb *sb, uint64_t nspage, uint64_t *ino, uint64_t *idx);
void fs_unlock_entry(struct fs_sb *sb, uint64_t ino, uint64_t idx);
bool fs_entry_locked(struct fs_sb *sb, uint64_t ino, uint64_t idx);

/* ---- poison ---- */
/*
 * A namespace page went bad: recorded against the file that owns it (a
 * media error at that file page) or in the free-space poison list.
 * Returns 1 (a file's), 0 (a free block's) or -errno; -EUCLEAN for a
 * page of the metadata area (nothing is recorded: see fs_shutdown()).
 */
int fs_note_poison(struct fs_sb *sb, uint64_t nspage);
/* The media under these namespace pages is good again (a clear, a
 * driver write): their records go, from the files and the free list. */
int fs_clear_poison(struct fs_sb *sb, const uint64_t *nspages, size_t n);
/* fn(ino, file page, namespace page) per media error, in file order. */
int fs_for_each_media_error(struct fs_sb *sb,
			    int (*fn)(uint64_t ino, uint64_t idx, uint64_t nspage, void *arg),
			    void *arg);
/* fn(namespace page) per poisoned free block. */
int fs_for_each_free_poison(struct fs_sb *sb, int (*fn)(uint64_t nspage, void *arg),
			    void *arg);
/* The name of a file ("" if unlinked); -ENOENT. */
int fs_name_of(struct fs_sb *sb, uint64_t ino, char *buf, size_t n);
/* Is this file page a known media error? */
bool fs_page_bad(struct fs_sb *sb, uint64_t ino, uint64_t idx);

/* Pages in the namespace and free pages (for statfs). */
int fs_statfs(struct fs_sb *sb, uint64_t *total, uint64_t *free_pages, uint64_t *files);

/* ---- invariants ---- */
struct fs_usage {
	uint64_t files, free_pages, owned_pages, free_poison, media_errors;
};
/*
 * Every namespace page is either free or owned by exactly one file page,
 * extents of a file do not overlap, media errors name owned pages, the
 * free-space poison list names free pages.  0, or -EUCLEAN with the first
 * violation in why.
 */
int fs_check(struct fs_sb *sb, char *why, size_t whylen, struct fs_usage *u);

#endif /* MF_FS_H */
