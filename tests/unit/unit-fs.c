// SPDX-License-Identifier: MIT
/*
 * Unit tests: the file system of an fsdax namespace (src/fs), on a real
 * emulated namespace in a temporary state directory.  After each test
 * the invariants are checked (fs_check); the crash test kills a real
 * child process with SIGKILL in the middle of its operations, remounts
 * and checks that the files are as of its last completed operation.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <linux/falloc.h>
#include <pthread.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../../src/fs/fs.h"
#include "../../src/nvdimm/nvdimm.h"
#include "../../src/util/util.h"

#define MiB (1ULL << 20)

static char dir[64];
static char db[128];
static struct nd_region *region;
static struct nd_namespace *ns;
static struct fs_sb *sb;

static void ns_open(uint64_t size, bool create)
{
	assert_int_equal(nd_region_open(dir, 0, &region), 0);
	if (create) {
		struct nd_create_args a = { .size = size, .align = 2 * MiB, .mode = ND_MODE_FSDAX,
					    .perm = 0600, .sparse = true };

		assert_int_equal(nd_namespace_create(region, &a, &ns), 0);
	} else {
		ns = nd_namespace_by_id(region, 0);
		assert_non_null(ns);
	}
}

static void check(void)
{
	char why[200];
	int err = fs_check(sb, why, sizeof(why), NULL);

	if (err)
		fail_msg("fs_check: %s", why);
}

static int setup_size(uint64_t size)
{
	snprintf(dir, sizeof(dir), "/tmp/mffs.XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(db, sizeof(db), "%s/fs.db", dir);
	ns_open(size, true);
	assert_int_equal(fs_mount(ns, db, NULL, NULL, &sb), 0);
	return 0;
}

static int setup(void **state)
{
	(void)state;
	return setup_size(64 * MiB);
}

static int rm_entry(const char *p, const struct stat *s, int f, struct FTW *t)
{
	(void)s;
	(void)f;
	(void)t;
	return remove(p);
}

static int teardown(void **state)
{
	(void)state;
	if (sb)
		check();
	fs_unmount(sb);
	sb = NULL;
	nd_region_close(region);
	nftw(dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
	return 0;
}

static uint64_t mkfile(const char *name)
{
	struct fs_stat st;

	assert_int_equal(fs_create(sb, name, 0644, 1000, 1000, &st), 0);
	return st.ino;
}

static void fill(char *b, size_t n, unsigned seed)
{
	size_t i;

	for (i = 0; i < n; i++)
		b[i] = (char)(seed * 31 + i * 7 + (i >> 12));
}

static uint64_t nspage_of(uint64_t ino, uint64_t idx)
{
	struct fs_extent x;

	assert_int_equal(fs_bmap(sb, ino, idx, &x), 0);
	return x.nsoff + idx - x.foff;
}

static int count_entry(const char *name, const struct fs_stat *st, void *arg)
{
	(void)name;
	(void)st;
	(*(int *)arg)++;
	return 0;
}

static void names_and_attrs(void **state)
{
	struct fs_stat st, st2;
	char longname[300];
	int n = 0;

	(void)state;
	mkfile("a");
	assert_int_equal(fs_create(sb, "a", 0644, 0, 0, &st), -EEXIST);
	assert_int_equal(fs_create(sb, "x/y", 0644, 0, 0, &st), -EINVAL);
	assert_int_equal(fs_create(sb, "..", 0644, 0, 0, &st), -EINVAL);
	memset(longname, 'n', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = 0;
	assert_int_equal(fs_create(sb, longname, 0644, 0, 0, &st), -ENAMETOOLONG);
	assert_int_equal(fs_create(sb, "d", S_IFDIR | 0755, 0, 0, &st), -EOPNOTSUPP);
	assert_int_equal(fs_lookup(sb, "a", &st), 0);
	assert_true(S_ISREG(st.mode));
	assert_int_equal(st.mode & 07777, 0644);
	assert_int_equal(st.uid, 1000);
	assert_int_equal(st.size, 0);
	assert_int_equal(st.nlink, 1);
	mkfile("b");
	assert_int_equal(fs_readdir(sb, 0, count_entry, &n), 0);
	assert_int_equal(n, 2);
	/* rename over an existing file replaces it */
	assert_int_equal(fs_rename(sb, "a", "b", RENAME_NOREPLACE), -EEXIST);
	assert_int_equal(fs_rename(sb, "a", "b", 0), 0);
	assert_int_equal(fs_lookup(sb, "a", &st2), -ENOENT);
	assert_int_equal(fs_lookup(sb, "b", &st2), 0);
	assert_int_equal(st2.ino, st.ino);
	n = 0;
	assert_int_equal(fs_readdir(sb, 0, count_entry, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(fs_rename(sb, "nope", "c", 0), -ENOENT);
	st.mode = 0600;
	assert_int_equal(fs_setattr(sb, st.ino, FS_SET_MODE, &st, &st2), 0);
	assert_int_equal(st2.mode, S_IFREG | 0600);
	assert_int_equal(fs_unlink(sb, "b"), 0);
	assert_int_equal(fs_unlink(sb, "b"), -ENOENT);
	assert_int_equal(fs_getattr(sb, st.ino, &st2), -ENOENT);
	assert_int_equal(fs_getattr(sb, FS_ROOT_INO, &st2), 0);
	assert_true(S_ISDIR(st2.mode));
}

static void write_read_sparse(void **state)
{
	static char buf[3 * 4096], out[3 * 4096], zero[4096];
	struct fs_stat st;
	uint64_t ino;

	(void)state;
	ino = mkfile("f");
	fill(buf, sizeof(buf), 1);
	assert_int_equal(fs_write(sb, ino, 100000, buf, 5000, NULL, NULL), 5000);
	assert_int_equal(fs_getattr(sb, ino, &st), 0);
	assert_int_equal(st.size, 105000);
	/* a hole reads as zeros; a short read at EOF */
	assert_int_equal(fs_read(sb, ino, 0, out, 4096), 4096);
	assert_memory_equal(out, zero, 4096);
	assert_int_equal(fs_read(sb, ino, 100000, out, sizeof(out)), 5000);
	assert_memory_equal(out, buf, 5000);
	assert_int_equal(fs_read(sb, ino, 105000, out, 10), 0);
	/* two pages only: small files get 4 KiB blocks */
	assert_int_equal(st.blocks, 2);
	assert_false(fs_chunk_is_pmd(sb, ino, 24));
	/* overwrite across the pages */
	assert_int_equal(fs_write(sb, ino, 102000, buf + 7, 3000, NULL, NULL), 3000);
	assert_int_equal(fs_read(sb, ino, 102000, out, 3000), 3000);
	assert_memory_equal(out, buf + 7, 3000);
	assert_int_equal(fs_read(sb, 999, 0, out, 10), -ENOENT);
	assert_int_equal(fs_read(sb, FS_ROOT_INO, 0, out, 10), -EISDIR);
}

/* A 4 MiB file written 128 KiB at a time, as FUSE hands it over, gets two
 * 2 MiB-aligned extents; the reverse map names every page of it. */
static void big_file_gets_pmd_extents(void **state)
{
	static char buf[128 << 10], out[128 << 10];
	struct fs_extent x;
	uint64_t ino, off, idx, i2, ino2;

	(void)state;
	mkfile("small");
	assert_int_equal(fs_write(sb, 2, 0, "x", 1, NULL, NULL), 1);	/* misalign free space */
	ino = mkfile("big");
	for (off = 0; off < 4 * MiB; off += sizeof(buf)) {
		fill(buf, sizeof(buf), (unsigned)(off >> 17));
		assert_int_equal(fs_write(sb, ino, off, buf, sizeof(buf), NULL, NULL), sizeof(buf));
	}
	assert_true(fs_chunk_is_pmd(sb, ino, 0));
	assert_true(fs_chunk_is_pmd(sb, ino, 700));
	assert_int_equal(fs_bmap(sb, ino, 0, &x), 0);
	assert_int_equal(x.nsoff % 512, 0);
	for (idx = 0; idx < 1024; idx += 37) {
		assert_int_equal(fs_rmap(sb, nspage_of(ino, idx), &ino2, &i2), 0);
		assert_int_equal(ino2, ino);
		assert_int_equal(i2, idx);
	}
	for (off = 0; off < 4 * MiB; off += sizeof(buf)) {
		fill(buf, sizeof(buf), (unsigned)(off >> 17));
		assert_int_equal(fs_read(sb, ino, off, out, sizeof(out)), sizeof(out));
		assert_memory_equal(out, buf, sizeof(out));
	}
	/* a free page has no owner */
	assert_int_equal(fs_rmap(sb, fs_nr_pages(sb) - 1, &ino2, &i2), -ENOENT);
}

/* A mapping's faults fill a sparse file's holes page by page: never a
 * PMD-mappable chunk, past EOF nothing. */
static void map_pages_fills_holes_by_page(void **state)
{
	struct fs_extent *e;
	struct fs_stat st;
	uint64_t ino;
	size_t n;

	(void)state;
	ino = mkfile("s");
	assert_int_equal(fs_truncate(sb, ino, 4 * MiB), 0);
	assert_int_equal(fs_map_pages(sb, ino, 0, 2048, &e, &n), 0);
	assert_int_equal(n, 1024);
	assert_int_equal(e[0].len, 1);
	free(e);
	assert_false(fs_chunk_is_pmd(sb, ino, 0));
	assert_false(fs_chunk_is_pmd(sb, ino, 600));
	assert_int_equal(fs_getattr(sb, ino, &st), 0);
	assert_int_equal(st.blocks, 1024);
	assert_int_equal(st.size, 4 * MiB);
	assert_int_equal(fs_map_pages(sb, ino, 0, 0, &e, &n), -EINVAL);
	assert_int_equal(fs_map_pages(sb, 999, 0, 1, &e, &n), -ENOENT);
}

static void truncate_and_punch(void **state)
{
	static char buf[64 << 10], out[64 << 10], zero[64 << 10];
	struct fs_usage u0, u1;
	struct fs_stat st;
	uint64_t ino, old, nw;
	char why[128];

	(void)state;
	ino = mkfile("t");
	assert_int_equal(fs_check(sb, why, sizeof(why), &u0), 0);
	fill(buf, sizeof(buf), 3);
	assert_int_equal(fs_write(sb, ino, 0, buf, sizeof(buf), NULL, NULL), sizeof(buf));
	/* truncate into a page: the rest of it reads zero when extended again */
	assert_int_equal(fs_truncate(sb, ino, 5000), 0);
	assert_int_equal(fs_getattr(sb, ino, &st), 0);
	assert_int_equal(st.size, 5000);
	assert_int_equal(st.blocks, 2);
	assert_int_equal(fs_truncate(sb, ino, 8192), 0);
	assert_int_equal(fs_read(sb, ino, 0, out, 8192), 8192);
	assert_memory_equal(out, buf, 5000);
	assert_memory_equal(out + 5000, zero, 8192 - 5000);
	/* punch a whole page: freed, reads zero, size kept; a rewrite gets a new block */
	assert_int_equal(fs_write(sb, ino, 0, buf, sizeof(buf), NULL, NULL), sizeof(buf));
	old = nspage_of(ino, 3);
	assert_int_equal(fs_fallocate(sb, ino, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 3 * 4096, 4096), 0);
	assert_int_equal(fs_getattr(sb, ino, &st), 0);
	assert_int_equal(st.size, sizeof(buf));
	assert_int_equal(st.blocks, 15);
	assert_int_equal(fs_read(sb, ino, 3 * 4096, out, 4096), 4096);
	assert_memory_equal(out, zero, 4096);
	/* a partial punch zeroes and keeps the block */
	assert_int_equal(fs_fallocate(sb, ino, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 100, 200), 0);
	assert_int_equal(fs_read(sb, ino, 0, out, 400), 400);
	assert_memory_equal(out, buf, 100);
	assert_memory_equal(out + 100, zero, 200);
	assert_memory_equal(out + 300, buf + 300, 100);
	/* modes we do not do change nothing */
	assert_int_equal(fs_fallocate(sb, ino, FALLOC_FL_PUNCH_HOLE, 0, 4096), -EOPNOTSUPP);
	assert_int_equal(fs_fallocate(sb, ino, FALLOC_FL_COLLAPSE_RANGE, 0, 4096), -EOPNOTSUPP);
	assert_int_equal(fs_fallocate(sb, ino, 0, 0, 0), -EINVAL);
	assert_int_equal(fs_write(sb, ino, 3 * 4096, buf, 4096, NULL, NULL), 4096);
	nw = nspage_of(ino, 3);
	(void)old;
	assert_int_equal(fs_read(sb, ino, 3 * 4096, out, 4096), 4096);
	assert_memory_equal(out, buf, 4096);
	/* fallocate allocates and, without KEEP_SIZE, grows */
	assert_int_equal(fs_fallocate(sb, ino, 0, 0, 4 * MiB), 0);
	assert_int_equal(fs_getattr(sb, ino, &st), 0);
	assert_int_equal(st.size, 4 * MiB);
	assert_int_equal(st.blocks, 1024 - 0);
	assert_int_equal(nspage_of(ino, 3), nw);
	assert_int_equal(fs_fallocate(sb, ino, FALLOC_FL_KEEP_SIZE, 4 * MiB, 4096), 0);
	assert_int_equal(fs_getattr(sb, ino, &st), 0);
	assert_int_equal(st.size, 4 * MiB);
	/* everything goes back */
	assert_int_equal(fs_unlink(sb, "t"), 0);
	assert_int_equal(fs_check(sb, why, sizeof(why), &u1), 0);
	assert_int_equal(u1.free_pages, u0.free_pages);
	assert_int_equal(u1.owned_pages, 0);
}

static int find_page(uint64_t p, void *arg)
{
	return p == *(uint64_t *)arg;
}

struct me_find {
	uint64_t ino, idx;
	int found;
};

static int find_me(uint64_t ino, uint64_t idx, uint64_t nspage, void *arg)
{
	struct me_find *m = arg;

	(void)nspage;
	if (ino == m->ino && idx == m->idx)
		m->found++;
	return 0;
}

static void poison_read_write_recover(void **state)
{
	static char buf[16384], out[16384];
	uint64_t ino, p, *cleared;
	size_t nc;
	struct me_find m;

	(void)state;
	ino = mkfile("p");
	fill(buf, sizeof(buf), 5);
	assert_int_equal(fs_write(sb, ino, 0, buf, sizeof(buf), NULL, NULL), sizeof(buf));
	p = nspage_of(ino, 2);
	/* the media under file page 2 goes bad, and memory_failure tells the fs */
	assert_int_equal(nd_poison_pages(ns, &p, 1), 0);
	assert_int_equal(fs_note_poison(sb, p), 1);
	m = (struct me_find){ .ino = ino, .idx = 2 };
	assert_int_equal(fs_for_each_media_error(sb, find_me, &m), 0);
	assert_int_equal(m.found, 1);
	assert_true(fs_page_bad(sb, ino, 2));
	/* read() of it: EIO; what comes before is read */
	assert_int_equal(fs_read(sb, ino, 2 * 4096 + 10, out, 10), -EIO);
	assert_int_equal(fs_read(sb, ino, 0, out, sizeof(out)), 2 * 4096);
	assert_int_equal(fs_read(sb, ino, 3 * 4096, out, 4096), 4096);
	/* a partial write over it fails and changes nothing */
	assert_int_equal(fs_write(sb, ino, 2 * 4096 + 512, buf, 512, NULL, NULL), -EIO);
	assert_true(fs_page_bad(sb, ino, 2));
	/* a whole-page write is a recovery write */
	assert_int_equal(fs_write(sb, ino, 2 * 4096, buf + 100, 4096, &cleared, &nc), 4096);
	assert_int_equal(nc, 1);
	assert_int_equal(cleared[0], p);
	free(cleared);
	assert_false(fs_page_bad(sb, ino, 2));
	assert_false(nd_page_bad(ns, p));
	assert_int_equal(nspage_of(ino, 2), p);
	assert_int_equal(fs_read(sb, ino, 2 * 4096, out, 4096), 4096);
	assert_memory_equal(out, buf + 100, 4096);
}

static void freed_poison_moves_to_free_list(void **state)
{
	static char buf[8192];
	uint64_t ino, p, q, i, j;
	struct fs_usage u;
	char why[128];

	(void)state;
	ino = mkfile("q");
	fill(buf, sizeof(buf), 6);
	assert_int_equal(fs_write(sb, ino, 0, buf, sizeof(buf), NULL, NULL), sizeof(buf));
	p = nspage_of(ino, 1);
	assert_int_equal(fs_note_poison(sb, p), 1);
	/* truncate: the record moves, not lost */
	assert_int_equal(fs_truncate(sb, ino, 4096), 0);
	assert_int_equal(fs_for_each_free_poison(sb, find_page, &p), 1);
	assert_int_equal(fs_check(sb, why, sizeof(why), &u), 0);
	assert_int_equal(u.media_errors, 0);
	assert_int_equal(u.free_poison, 1);
	/* a punched page with poison on the media (never seen by memory_failure) too */
	q = nspage_of(ino, 0);
	assert_int_equal(nd_inject_error(ns, q * 8 + 3, 1, true), 0);
	assert_int_equal(fs_fallocate(sb, ino, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, 4096), 0);
	assert_int_equal(fs_for_each_free_poison(sb, find_page, &q), 1);
	/* poison of a free page is only recorded */
	assert_int_equal(fs_note_poison(sb, fs_nr_pages(sb) - 5), 0);
	/* the allocator never hands them out: fill the namespace */
	assert_int_equal(fs_fallocate(sb, ino, 0, 0, fs_nr_pages(sb) * 4096), -ENOSPC);
	assert_int_equal(fs_fallocate(sb, ino, 0, 0, (fs_nr_pages(sb) - fs_meta_pages(sb) - 3) * 4096),
			 0);
	for (i = 0; i < fs_nr_pages(sb) - fs_meta_pages(sb) - 3; i++) {
		j = nspage_of(ino, i);
		assert_true(j != p && j != q && j != fs_nr_pages(sb) - 5);
	}
	assert_int_equal(fs_check(sb, why, sizeof(why), &u), 0);
	assert_int_equal(u.free_pages, 3);
}

static void enospc_changes_nothing(void **state)
{
	static char buf[64 << 10];
	struct fs_usage a, b;
	struct fs_stat st;
	uint64_t ino;
	char why[128];

	(void)state;
	teardown(NULL);
	setup_size(4 * MiB);
	ino = mkfile("e");
	assert_int_equal(fs_fallocate(sb, ino, 0, 0, 2 * MiB), 0);
	assert_int_equal(fs_check(sb, why, sizeof(why), &a), 0);
	/* the first chunk holds the metadata area: the file got the second */
	assert_int_equal(a.free_pages, 512 - fs_meta_pages(sb));
	assert_true(fs_chunk_is_pmd(sb, ino, 0));
	/* no aligned chunk left: 4 KiB blocks from what the metadata leaves */
	assert_int_equal(fs_write(sb, ino, 2 * MiB, buf, sizeof(buf), NULL, NULL), sizeof(buf));
	assert_int_equal(fs_check(sb, why, sizeof(why), &b), 0);
	assert_int_equal(b.free_pages, 512 - fs_meta_pages(sb) - sizeof(buf) / 4096);
	assert_false(fs_chunk_is_pmd(sb, ino, 512));
	assert_int_equal(fs_truncate(sb, ino, 2 * MiB), 0);
	assert_int_equal(fs_check(sb, why, sizeof(why), &a), 0);
	assert_int_equal(a.free_pages, 512 - fs_meta_pages(sb));
	/* a page more than is free does not fit: nothing changes */
	{
		char *big = calloc(1, 2 * MiB + 4096);

		assert_non_null(big);
		assert_int_equal(fs_write(sb, ino, 2 * MiB, big, 2 * MiB + 4096, NULL, NULL), -ENOSPC);
		free(big);
	}
	assert_int_equal(fs_getattr(sb, ino, &st), 0);
	assert_int_equal(st.size, 2 * MiB);
	assert_int_equal(fs_check(sb, why, sizeof(why), &b), 0);
	assert_int_equal(b.free_pages, a.free_pages);
}

/* The metadata area: never allocated, the superblock on the media, and
 * fs_check() knows it. */
static void metadata_area_is_reserved(void **state)
{
	static char buf[64 << 10];
	struct fs_usage u;
	char page[4096], why[200];
	uint64_t ino, i;
	sqlite3 *db2;

	(void)state;
	assert_int_equal(fs_meta_pages(sb), FS_META_PAGES);
	assert_true(fs_is_meta(sb, 0));
	assert_false(fs_is_meta(sb, FS_META_PAGES));
	assert_int_equal(nd_read(ns, 0, page, sizeof(page)), 0);
	assert_memory_equal(page, FS_SB_MAGIC, 8);
	assert_string_equal(page + 8, ns->uuid);
	/* 4 KiB blocks and 2 MiB extents both avoid it */
	ino = mkfile("m");
	assert_int_equal(fs_write(sb, ino, 0, buf, sizeof(buf), NULL, NULL), sizeof(buf));
	for (i = 0; i < sizeof(buf) / 4096; i++)
		assert_true(nspage_of(ino, i) >= FS_META_PAGES);
	assert_int_equal(fs_fallocate(sb, ino, 0, 0, 8 * MiB), 0);
	assert_true(fs_chunk_is_pmd(sb, ino, 512));
	assert_int_equal(nspage_of(ino, 512) % 512, 0);
	assert_int_equal(fs_check(sb, why, sizeof(why), &u), 0);
	assert_int_equal(u.free_pages + u.owned_pages, fs_nr_pages(sb) - FS_META_PAGES);
	assert_int_equal(fs_rmap(sb, 0, &ino, &i), -ENOENT);
	fs_unmount(sb);
	sb = NULL;
	/* a free extent in the area is corruption: mount refuses */
	assert_int_equal(sqlite3_open(db, &db2), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db2, "INSERT INTO free VALUES (1, 1)", NULL, NULL, NULL),
			 SQLITE_OK);
	assert_int_equal(fs_mount(ns, db, NULL, NULL, &sb), -EUCLEAN);
	assert_int_equal(sqlite3_exec(db2, "DELETE FROM free WHERE start = 1", NULL, NULL, NULL),
			 SQLITE_OK);
	sqlite3_close(db2);
	assert_int_equal(fs_mount(ns, db, NULL, NULL, &sb), 0);
	assert_int_equal(fs_check(sb, why, sizeof(why), NULL), 0);
}

/* A database made before the area existed: page 0 is a file's block. */
static void old_database_has_no_area(void **state)
{
	char why[200];
	uint64_t ino, idx;
	sqlite3 *db2;

	(void)state;
	fs_unmount(sb);
	sb = NULL;
	assert_int_equal(sqlite3_open(db, &db2), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db2, "DELETE FROM meta WHERE key = 'meta_pages';"
				      "INSERT INTO files VALUES (2, 'old', 4096, 33188, 0, 0, 1, 0, 0, 0);"
				      "INSERT INTO extents VALUES (2, 0, 0, 1);"
				      "INSERT INTO free VALUES (1, 3);"
				      "UPDATE meta SET value = 3 WHERE key = 'next_ino';",
				      NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db2);
	assert_int_equal(fs_mount(ns, db, NULL, NULL, &sb), 0);
	assert_int_equal(fs_meta_pages(sb), 0);
	assert_false(fs_is_meta(sb, 0));
	assert_int_equal(fs_rmap(sb, 0, &ino, &idx), 0);
	assert_int_equal(ino, 2);
	assert_int_equal(fs_write(sb, 2, 0, "old!", 4, NULL, NULL), 4);
	assert_int_equal(fs_check(sb, why, sizeof(why), NULL), 0);
}

/* Shut down: every file operation -EIO; poisoned metadata: no mount until
 * cleared, then the superblock is written again. */
static void shutdown_and_repair(void **state)
{
	struct fs_extent *e;
	struct fs_stat st;
	char why[128], page[4096];
	uint64_t ino;
	size_t n;

	(void)state;
	ino = mkfile("s");
	assert_int_equal(fs_write(sb, ino, 0, "keep", 4, NULL, NULL), 4);
	assert_false(fs_is_shut_down(sb, why, sizeof(why)));
	assert_int_equal(nd_inject_error(ns, 0, 8, true), 0);
	fs_shutdown(sb, "metadata page 0 (superblock) poisoned");
	fs_shutdown(sb, "a later reason");
	assert_true(fs_is_shut_down(sb, why, sizeof(why)));
	assert_string_equal(why, "metadata page 0 (superblock) poisoned");
	assert_int_equal(fs_lookup(sb, "s", &st), -EIO);
	assert_int_equal(fs_getattr(sb, ino, &st), -EIO);
	assert_int_equal(fs_read(sb, ino, 0, page, 4), -EIO);
	assert_int_equal(fs_write(sb, ino, 0, "x", 1, NULL, NULL), -EIO);
	assert_int_equal(fs_create(sb, "t", 0644, 0, 0, &st), -EIO);
	assert_int_equal(fs_truncate(sb, ino, 0), -EIO);
	assert_int_equal(fs_map_pages(sb, ino, 0, 1, &e, &n), -EIO);
	assert_int_equal(fs_iget(sb, ino), -EIO);
	fs_unmount(sb);
	sb = NULL;
	assert_int_equal(fs_mount(ns, db, NULL, NULL, &sb), -EHWPOISON);
	assert_int_equal(nd_clear_errors(ns, 0, 8), 8);
	assert_int_equal(fs_mount(ns, db, NULL, NULL, &sb), 0);
	assert_false(fs_is_shut_down(sb, NULL, 0));
	assert_int_equal(nd_read(ns, 0, page, sizeof(page)), 0);
	assert_memory_equal(page, FS_SB_MAGIC, 8);
	assert_int_equal(fs_read(sb, ino, 0, page, 4), 4);
	assert_memory_equal(page, "keep", 4);
}

static void orphans_live_until_closed(void **state)
{
	struct fs_usage u;
	struct fs_stat st;
	char why[128], out[4];
	uint64_t ino;

	(void)state;
	ino = mkfile("o");
	assert_int_equal(fs_write(sb, ino, 0, "data", 4, NULL, NULL), 4);
	assert_int_equal(fs_iget(sb, ino), 0);
	assert_int_equal(fs_unlink(sb, "o"), 0);
	assert_int_equal(fs_lookup(sb, "o", &st), -ENOENT);
	assert_int_equal(fs_read(sb, ino, 0, out, 4), 4);
	assert_memory_equal(out, "data", 4);
	fs_iput(sb, ino);
	assert_int_equal(fs_getattr(sb, ino, &st), -ENOENT);
	/* open and unlinked at a crash: freed at the next mount */
	ino = mkfile("o2");
	assert_int_equal(fs_write(sb, ino, 0, "data", 4, NULL, NULL), 4);
	assert_int_equal(fs_iget(sb, ino), 0);
	assert_int_equal(fs_unlink(sb, "o2"), 0);
	fs_unmount(sb);
	assert_int_equal(fs_mount(ns, db, NULL, NULL, &sb), 0);
	assert_int_equal(fs_getattr(sb, ino, &st), -ENOENT);
	assert_int_equal(fs_check(sb, why, sizeof(why), &u), 0);
	assert_int_equal(u.owned_pages, 0);
}

struct trunc_arg {
	uint64_t ino;
	volatile int done;
};

static void *truncate_thread(void *p)
{
	struct trunc_arg *a = p;

	assert_int_equal(fs_truncate(sb, a->ino, 0), 0);
	a->done = 1;
	return NULL;
}

/* memory_failure's entry lock holds off truncate of that index; a lock
 * on a page truncate already freed finds no owner. */
static void entry_lock_holds_off_truncate(void **state)
{
	static char buf[8192];
	struct trunc_arg a = { 0 };
	struct timespec ts = { 0, 100 * 1000 * 1000 };
	uint64_t p, ino, idx;
	pthread_t t;

	(void)state;
	a.ino = mkfile("l");
	assert_int_equal(fs_write(sb, a.ino, 0, buf, sizeof(buf), NULL, NULL), sizeof(buf));
	p = nspage_of(a.ino, 1);
	assert_int_equal(fs_lock_entry(sb, p, &ino, &idx), 0);
	assert_int_equal(ino, a.ino);
	assert_int_equal(idx, 1);
	assert_true(fs_entry_locked(sb, ino, 1));
	assert_int_equal(pthread_create(&t, NULL, truncate_thread, &a), 0);
	nanosleep(&ts, NULL);
	assert_int_equal(a.done, 0);
	/* still owned while we hold it */
	assert_int_equal(fs_rmap(sb, p, &ino, &idx), 0);
	fs_unlock_entry(sb, a.ino, 1);
	pthread_join(t, NULL);
	assert_int_equal(a.done, 1);
	assert_int_equal(fs_lock_entry(sb, p, &ino, &idx), -ENOENT);
	assert_false(fs_entry_locked(sb, a.ino, 1));
}

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

#define NFILES 4

static void (*before_op)(const int64_t *want);

/*
 * One random operation on files f0..f3; size[] is the model (-1: no such
 * file).  want[] gets the model after it; before_op (if set) is told that
 * before the operation starts.
 */
static void random_op(uint64_t *seed, const int64_t *size, int64_t *want)
{
	static char buf[300 << 10];
	char name[8], to[8];
	int f = (int)(rnd(seed) % NFILES), g = (int)(rnd(seed) % NFILES);
	unsigned op = (unsigned)(rnd(seed) % 8);
	struct fs_stat st;
	uint64_t off = rnd(seed) % (6 * MiB), len = 1 + rnd(seed) % sizeof(buf);
	int err = 0;

	memcpy(want, size, NFILES * sizeof(*want));
	snprintf(name, sizeof(name), "f%d", f);
	snprintf(to, sizeof(to), "f%d", g);
	if (size[f] < 0)
		op = 0;
	switch (op) {
	case 0:
		want[f] = size[f] < 0 ? 0 : size[f];
		break;
	case 1: case 2: case 3:
		want[f] = (int64_t)(off + len) > size[f] ? (int64_t)(off + len) : size[f];
		break;
	case 4:
		want[f] = (int64_t)off;
		break;
	case 6:
		want[f] = -1;
		break;
	case 7:
		if (f != g) {
			want[g] = size[f];
			want[f] = -1;
		}
		break;
	}
	if (before_op)
		before_op(want);
	if (op && op != 6 && op != 7)
		assert_int_equal(fs_lookup(sb, name, &st), 0);
	switch (op) {
	case 0:
		err = size[f] < 0 ? fs_create(sb, name, 0644, 0, 0, &st) : 0;
		break;
	case 1: case 2: case 3:
		fill(buf, len, (unsigned)off);
		err = (int)fs_write(sb, st.ino, off, buf, len, NULL, NULL);
		err = err == (int)len ? 0 : err;
		break;
	case 4:
		err = fs_truncate(sb, st.ino, off);
		break;
	case 5:
		err = fs_fallocate(sb, st.ino, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, off, len);
		break;
	case 6:
		err = fs_unlink(sb, name);
		break;
	case 7:
		err = fs_rename(sb, name, to, 0);
		break;
	}
	if (err == -ENOSPC)
		memcpy(want, size, NFILES * sizeof(*want));
	else
		assert_int_equal(err, 0);
}

static void model_read(int64_t *size)
{
	int f;

	for (f = 0; f < NFILES; f++) {
		struct fs_stat st;
		char name[8];

		snprintf(name, sizeof(name), "f%d", f);
		size[f] = fs_lookup(sb, name, &st) ? -1 : (int64_t)st.size;
	}
}

static void model_matches(const int64_t *size, const int64_t *alt)
{
	int64_t got[NFILES];
	int f;

	model_read(got);
	for (f = 0; f < NFILES; f++)
		if (got[f] != size[f] && !(alt && got[f] == alt[f]))
			fail_msg("f%d: size %lld, expected %lld or %lld", f, (long long)got[f],
				 (long long)size[f], alt ? (long long)alt[f] : -2LL);
}

static void random_ops_keep_invariants(void **state)
{
	int64_t size[NFILES] = { -1, -1, -1, -1 }, want[NFILES];
	uint64_t seed = 0x9e3779b97f4a7c15ULL;
	int i;

	(void)state;
	for (i = 0; i < 600; i++) {
		random_op(&seed, size, want);
		memcpy(size, want, sizeof(size));
		if (i % 20 == 0)
			check();
	}
	check();
	model_matches(size, NULL);
}

static int report_fd;

static void report(char tag, const int64_t *s)
{
	dprintf(report_fd, "%c %lld %lld %lld %lld\n", tag, (long long)s[0], (long long)s[1],
		(long long)s[2], (long long)s[3]);
}

static void report_before(const int64_t *want)
{
	report('B', want);
}

static void __attribute__((noreturn)) crash_child(unsigned round)
{
	int64_t size[NFILES], want[NFILES];
	uint64_t seed = 0x1234567ULL + round * 7919;

	ns_open(0, false);
	if (fs_mount(ns, db, NULL, NULL, &sb))
		_exit(3);
	model_read(size);
	report('D', size);
	before_op = report_before;
	for (;;) {
		random_op(&seed, size, want);
		memcpy(size, want, sizeof(size));
		report('D', size);
	}
}

/*
 * A child does random operations and reports, before each, the state it
 * expects after, and after each, the state it reached; it is killed with
 * SIGKILL at a random moment.  After a remount the invariants hold and
 * the files are as of the last reported operation, or of the one that
 * was in progress.
 */
static void crash_at_any_point(void **state)
{
	int64_t prev[NFILES] = { -1, -1, -1, -1 };
	unsigned round, ops = 0, pendings = 0;

	(void)state;
	fs_unmount(sb);
	sb = NULL;
	nd_region_close(region);
	region = NULL;
	for (round = 0; round < 16; round++) {
		int64_t done[NFILES], pending[NFILES];
		bool have_pending = false;
		struct timespec ts = { 0, (long)(40 + (round * 53) % 160) * 1000000L };
		char line[256];
		int pfd[2];
		pid_t pid;
		FILE *in;

		memcpy(done, prev, sizeof(done));
		assert_int_equal(pipe(pfd), 0);
		pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			close(pfd[0]);
			report_fd = pfd[1];
			crash_child(round);
		}
		close(pfd[1]);
		nanosleep(&ts, NULL);
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		in = fdopen(pfd[0], "r");
		assert_non_null(in);
		while (fgets(line, sizeof(line), in)) {
			long long v[NFILES];
			char tag;

			if (sscanf(line, "%c %lld %lld %lld %lld", &tag, &v[0], &v[1], &v[2], &v[3]) != 5)
				continue;	/* cut short by the kill */
			for (int f = 0; f < NFILES; f++)
				(tag == 'D' ? done : pending)[f] = v[f];
			have_pending = tag == 'B';
			ops += tag == 'D';
		}
		fclose(in);
		pendings += have_pending;
		ns_open(0, false);
		assert_int_equal(fs_mount(ns, db, NULL, NULL, &sb), 0);
		check();
		model_matches(done, have_pending ? pending : NULL);
		model_read(prev);
		fs_unmount(sb);
		sb = NULL;
		nd_region_close(region);
		region = NULL;
	}
	/* the kills did land in the middle of operations */
	assert_true(ops > 16);
	assert_true(pendings > 0);
	print_message("# %u operations, %u kills mid-operation\n", ops, pendings);
	ns_open(0, false);
	assert_int_equal(fs_mount(ns, db, NULL, NULL, &sb), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(names_and_attrs, setup, teardown),
		cmocka_unit_test_setup_teardown(write_read_sparse, setup, teardown),
		cmocka_unit_test_setup_teardown(big_file_gets_pmd_extents, setup, teardown),
		cmocka_unit_test_setup_teardown(map_pages_fills_holes_by_page, setup, teardown),
		cmocka_unit_test_setup_teardown(truncate_and_punch, setup, teardown),
		cmocka_unit_test_setup_teardown(poison_read_write_recover, setup, teardown),
		cmocka_unit_test_setup_teardown(freed_poison_moves_to_free_list, setup, teardown),
		cmocka_unit_test_setup_teardown(enospc_changes_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(orphans_live_until_closed, setup, teardown),
		cmocka_unit_test_setup_teardown(entry_lock_holds_off_truncate, setup, teardown),
		cmocka_unit_test_setup_teardown(random_ops_keep_invariants, setup, teardown),
		cmocka_unit_test_setup_teardown(crash_at_any_point, setup, teardown),
		cmocka_unit_test_setup_teardown(metadata_area_is_reserved, setup, teardown),
		cmocka_unit_test_setup_teardown(old_database_has_no_area, setup, teardown),
		cmocka_unit_test_setup_teardown(shutdown_and_repair, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
