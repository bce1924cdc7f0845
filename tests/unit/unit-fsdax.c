// SPDX-License-Identifier: MIT
/*
 * Unit tests: memory_failure() on an fsdax namespace, in one process,
 * through a fake peer interface (as unit-engine does for device DAX):
 * the reverse map names the file page, each mapping is signalled with
 * its own size (lsb 21 for a PMD-mapped file, 12 otherwise) at the exact
 * page, poison in a free block is only recorded, and the entry lock holds
 * truncate off while memory_failure() runs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <ftw.h>
#include <linux/falloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../../src/fs/fs.h"
#include "../../src/mm/mm.h"
#include "../../src/nvdimm/nvdimm.h"
#include "../../src/util/util.h"

#define MiB (1ULL << 20)
#define MAX 8

struct fake {
	struct mf_task task;
	bool present;
	pid_t early_tid;
	unsigned fences, zaps, unfences, remaps;
	uint64_t fence_addr, zap_addr, zap_len, remap_off;
	int signals;
	int sig_code;
	uint64_t sig_addr;
	unsigned sig_lsb;
};

static struct {
	char dir[64];
	struct nd_region *region;
	struct nd_namespace *ns;
	struct fs_sb *sb;
	struct mf_engine mf;
	struct fake f[MAX];
	int nr;
	char log[64][256];
	int nr_log;
	/* run inside the first shootdown */
	void (*during)(void);
} w;

static void fake_shootdown(struct mf_engine *mf, struct mf_shootdown *sd, unsigned n)
{
	unsigned i, j;

	if (w.during) {
		void (*fn)(void) = w.during;

		w.during = NULL;
		fn();
	}
	for (i = 0; i < n; i++) {
		struct fake *f = container_of(sd[i].task, struct fake, task);

		sd[i].acked = true;
		sd[i].main_tid = f->task.pid;
		snprintf(sd[i].main_comm, sizeof(sd[i].main_comm), "%s", f->task.comm);
		sd[i].early_tid = mf->early_kill && !f->early_tid ? f->task.pid : f->early_tid;
		snprintf(sd[i].early_comm, sizeof(sd[i].early_comm), "%s", f->task.comm);
		for (j = 0; j < sd[i].n; j++) {
			struct mf_sd_work *x = &sd[i].w[j];

			if (x->ops & MF_OP_QUERY)
				x->present = f->present;
			if (x->ops & MF_OP_FENCE) {
				f->fences++;
				f->fence_addr = x->page_addr;
			}
			if (x->ops & MF_OP_UNFENCE)
				f->unfences++;
			if (x->ops & MF_OP_REMAP) {
				f->remaps++;
				f->remap_off = x->remap_off;
			}
			if (x->ops & MF_OP_ZAP) {
				f->zaps++;
				f->zap_addr = x->unit_addr;
				f->zap_len = x->unit_len;
			}
		}
	}
}

static int fake_signal(struct mf_engine *mf, struct mf_task *t, pid_t tid, int code,
		       uint64_t addr, unsigned lsb)
{
	struct fake *f = container_of(t, struct fake, task);

	(void)mf;
	(void)tid;
	f->signals++;
	f->sig_code = code;
	f->sig_addr = addr;
	f->sig_lsb = lsb;
	return 0;
}

static void fake_log(struct mf_engine *mf, int level, const char *line)
{
	(void)mf;
	(void)level;
	if (w.nr_log < 64)
		snprintf(w.log[w.nr_log++], sizeof(w.log[0]), "%s", line);
}

static const struct mf_peer_ops fake_ops = {
	.shootdown = fake_shootdown,
	.signal = fake_signal,
	.log = fake_log,
};

static int logged(const char *needle)
{
	int i, n = 0;

	for (i = 0; i < w.nr_log; i++)
		if (strstr(w.log[i], needle))
			n++;
	return n;
}

static void world_init(const char *profile)
{
	struct nd_create_args a = { .size = 64 * MiB, .align = 2 * MiB, .mode = ND_MODE_FSDAX,
				    .perm = 0600, .sparse = true };
	char db[128];

	memset(&w, 0, sizeof(w));
	snprintf(w.dir, sizeof(w.dir), "/tmp/mffsdax.XXXXXX");
	assert_non_null(mkdtemp(w.dir));
	assert_int_equal(nd_region_open(w.dir, 0, &w.region), 0);
	assert_int_equal(nd_namespace_create(w.region, &a, &w.ns), 0);
	assert_int_equal(dax_device_attach(w.ns), 0);
	snprintf(db, sizeof(db), "%s/fs.db", w.dir);
	assert_int_equal(fs_mount(w.ns, db, NULL, NULL, &w.sb), 0);
	ns_to_dax(w.ns)->fs = w.sb;
	mf_engine_init(&w.mf, w.region, mf_profile_find(profile), &fake_ops, NULL);
}

static int rm_entry(const char *p, const struct stat *s, int f, struct FTW *t)
{
	(void)s;
	(void)f;
	(void)t;
	return remove(p);
}

static int world_free(void **state)
{
	char why[160];
	int i;

	(void)state;
	assert_int_equal(fs_check(w.sb, why, sizeof(why), NULL), 0);
	for (i = 0; i < w.nr; i++)
		mf_task_exit(&w.f[i].task);
	fs_unmount(w.sb);
	dax_device_detach(w.ns);
	nd_region_close(w.region);
	nftw(w.dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
	return 0;
}

/* A file of `size` bytes written `chunk` bytes at a time. */
static uint64_t file(const char *name, uint64_t size, size_t chunk)
{
	static char buf[1 << 20];
	struct fs_stat st;
	uint64_t off;

	assert_int_equal(fs_create(w.sb, name, 0644, 0, 0, &st), 0);
	memset(buf, 0x5a, sizeof(buf));
	for (off = 0; off < size; off += chunk)
		assert_int_equal(fs_write(w.sb, st.ino, off, buf, chunk, NULL, NULL), (ssize_t)chunk);
	return st.ino;
}

static uint64_t pfn_of(uint64_t ino, uint64_t idx)
{
	struct fs_extent x;

	assert_int_equal(fs_bmap(w.sb, ino, idx, &x), 0);
	return nd_pfn_base(w.ns) + x.nsoff + idx - x.foff;
}

/* A process mapping `len` bytes of file ino from file page 0 at `start`. */
static struct fake *proc(const char *comm, uint64_t ino, uint64_t start, uint64_t len,
			 bool present, pid_t early)
{
	struct fake *f = &w.f[w.nr];

	mf_task_init(&f->task, 2000 + w.nr, 0, comm, NULL);
	f->present = present;
	f->early_tid = early;
	assert_int_equal(mf_vma_insert_file(&f->task, ns_to_dax(w.ns), 1, start, len, ino, 0, 3, NULL), 0);
	w.nr++;
	return f;
}

static struct mf_current cur_of(struct fake *f)
{
	struct mf_current c = { .task = &f->task, .tid = f->task.pid };

	snprintf(c.comm, sizeof(c.comm), "%s", f->task.comm);
	return c;
}

#define IDX 0x102ULL	/* file page: 1 MiB + 8 KiB into the file */

static void pmd_file_ar_exact_page_lsb21(void **state)
{
	struct fake *p, *late, *early, *cold, *other;
	struct mf_current cur;
	struct mf_raise r;
	uint64_t ino, ino2, pfn;

	(void)state;
	world_init("linux-6.12");
	ino = file("big", 4 * MiB, 128 << 10);
	ino2 = file("other", 4 * MiB, 128 << 10);
	p = proc("poisoner", ino, 0x40000000, 4 * MiB, true, 0);
	late = proc("late", ino, 0x80000000, 4 * MiB, true, 0);
	early = proc("early", ino, 0xc0000000, 4 * MiB, true, 4242);
	cold = proc("cold", ino, 0x100000000, 4 * MiB, false, 4343);
	other = proc("other", ino2, 0x140000000, 4 * MiB, true, 4444);
	pfn = pfn_of(ino, IDX);
	cur = cur_of(p);
	assert_int_equal(memory_failure(&w.mf, pfn, MF_ACTION_REQUIRED, &cur, &r), 0);
	/* AR to the consumer at the exact page, lsb 21 */
	assert_int_equal(r.signo, SIGBUS);
	assert_int_equal(r.code, MF_BUS_MCEERR_AR);
	assert_int_equal(r.addr, 0x40000000 + (IDX << 12));
	assert_int_equal(r.lsb, 21);
	/* AO to the early-kill mapper that has it mapped, exact page, lsb 21 */
	assert_int_equal(early->signals, 1);
	assert_int_equal(early->sig_code, MF_BUS_MCEERR_AO);
	assert_int_equal(early->sig_addr, 0xc0000000 + (IDX << 12));
	assert_int_equal(early->sig_lsb, 21);
	assert_int_equal(late->signals, 0);
	assert_int_equal(cold->signals, 0);
	/* every mapper of the file fenced at its page, the 2 MiB entry zapped */
	assert_int_equal(late->fences, 1);
	assert_int_equal(late->fence_addr, 0x80000000 + (IDX << 12));
	assert_int_equal(cold->fences, 1);
	assert_int_equal(late->zap_addr, 0x80000000);
	assert_int_equal(late->zap_len, 2 * MiB);
	/* another file's mapper is not touched */
	assert_int_equal(other->fences + other->zaps + (unsigned)other->signals, 0);
	/* recorded against the file */
	assert_true(fs_page_bad(w.sb, ino, IDX));
	assert_true(nd_page_hwpoison(w.ns, pfn - nd_pfn_base(w.ns)));
	assert_int_equal(logged("recovery action for dax page: Recovered"), 1);
	assert_int_equal(ns_to_dax(w.ns)->stat.recovered, 1);
}

static void small_file_lsb12(void **state)
{
	struct fake *p, *early;
	struct mf_current cur;
	struct mf_raise r;
	uint64_t ino;

	(void)state;
	world_init("linux-6.12");
	ino = file("small", 64 << 10, 4096);	/* 4 KiB blocks */
	assert_false(fs_chunk_is_pmd(w.sb, ino, 3));
	p = proc("poisoner", ino, 0x40000000, 2 * MiB, true, 0);
	early = proc("early", ino, 0x80000000, 2 * MiB, true, 7);
	cur = cur_of(p);
	assert_int_equal(memory_failure(&w.mf, pfn_of(ino, 3), MF_ACTION_REQUIRED, &cur, &r), 0);
	assert_int_equal(r.addr, 0x40000000 + 3 * 4096);
	assert_int_equal(r.lsb, 12);
	assert_int_equal(early->sig_addr, 0x80000000 + 3 * 4096);
	assert_int_equal(early->sig_lsb, 12);
	assert_int_equal(early->zap_len, 4096);
}

/* The same PMD file mapped at an address that is not 2 MiB aligned, or
 * only in part, is PTE-mapped there. */
static void pmd_file_unaligned_mapping_lsb12(void **state)
{
	struct fake *p, *early;
	struct mf_current cur;
	struct mf_raise r;
	uint64_t ino;

	(void)state;
	world_init("linux-6.12");
	ino = file("big", 4 * MiB, 1 << 20);
	p = proc("poisoner", ino, 0x40001000, 4 * MiB, true, 0);
	early = proc("early", ino, 0x80000000, 2 * MiB, true, 7);
	cur = cur_of(p);
	assert_int_equal(memory_failure(&w.mf, pfn_of(ino, IDX), MF_ACTION_REQUIRED, &cur, &r), 0);
	assert_int_equal(r.addr, 0x40001000 + (IDX << 12));
	assert_int_equal(r.lsb, 12);
	/* the early one maps the whole first chunk, aligned: a PMD */
	assert_int_equal(early->sig_lsb, 21);
}

static void free_block_only_recorded(void **state)
{
	struct fake *p;
	struct mf_current cur;
	struct mf_raise r;
	uint64_t ino, nspage;

	(void)state;
	world_init("linux-6.12");
	ino = file("f", 8192, 8192);
	p = proc("mapper", ino, 0x40000000, 8192, true, 5);
	cur = cur_of(p);
	nspage = fs_nr_pages(w.sb) - 1;
	assert_int_equal(memory_failure(&w.mf, nd_pfn_base(w.ns) + nspage, MF_ACTION_REQUIRED,
					&cur, &r), -EBUSY);
	assert_int_equal(r.signo, 0);
	assert_int_equal(p->fences + p->zaps + (unsigned)p->signals, 0);
	{
		struct fs_usage u;
		char why[128];

		assert_int_equal(fs_check(w.sb, why, sizeof(why), &u), 0);
		assert_int_equal(u.free_poison, 1);
		assert_int_equal(u.media_errors, 0);
	}
	assert_int_equal(logged("recovery action for dax page: Failed"), 1);
}

/* Truncate got there first: the page has no owner any more. */
static void truncated_page_has_no_owner(void **state)
{
	struct fake *p;
	struct mf_raise r;
	uint64_t ino, pfn;

	(void)state;
	world_init("linux-6.12");
	ino = file("f", 4 * MiB, 1 << 20);
	p = proc("mapper", ino, 0x40000000, 4 * MiB, true, 5);
	pfn = pfn_of(ino, IDX);
	assert_int_equal(fs_truncate(w.sb, ino, 4096), 0);
	assert_int_equal(memory_failure(&w.mf, pfn, 0, NULL, &r), -EBUSY);
	assert_int_equal(p->signals, 0);
	assert_int_equal(p->fences, 0);
}

static uint64_t lock_ino;
static volatile int truncated;
static bool locked_seen, owned_seen, waited;

static void *truncate_thread(void *arg)
{
	(void)arg;
	assert_int_equal(fs_truncate(w.sb, lock_ino, 0), 0);
	truncated = 1;
	return NULL;
}

static pthread_t trunc_tid;

/* Inside memory_failure(), between collecting and signalling. */
static void truncate_meanwhile(void)
{
	struct timespec ts = { 0, 80 * 1000 * 1000 };
	uint64_t ino, idx;

	locked_seen = fs_entry_locked(w.sb, lock_ino, IDX);
	assert_int_equal(pthread_create(&trunc_tid, NULL, truncate_thread, NULL), 0);
	nanosleep(&ts, NULL);
	waited = !truncated;
	owned_seen = !fs_rmap(w.sb, pfn_of(lock_ino, IDX) - nd_pfn_base(w.ns), &ino, &idx) &&
		     ino == lock_ino && idx == IDX;
}

static void entry_lock_holds_off_truncate(void **state)
{
	struct fake *p, *early;
	struct mf_current cur;
	struct mf_raise r;

	(void)state;
	world_init("linux-6.12");
	lock_ino = file("f", 4 * MiB, 1 << 20);
	truncated = 0;
	p = proc("poisoner", lock_ino, 0x40000000, 4 * MiB, true, 0);
	early = proc("early", lock_ino, 0x80000000, 4 * MiB, true, 9);
	cur = cur_of(p);
	w.during = truncate_meanwhile;
	assert_int_equal(memory_failure(&w.mf, pfn_of(lock_ino, IDX), MF_ACTION_REQUIRED, &cur, &r), 0);
	pthread_join(trunc_tid, NULL);
	assert_true(locked_seen);
	assert_true(waited);
	assert_true(owned_seen);
	assert_int_equal(truncated, 1);
	/* the mappers of the page at the time were signalled */
	assert_int_equal(r.lsb, 21);
	assert_int_equal(early->signals, 1);
	assert_false(fs_entry_locked(w.sb, lock_ino, IDX));
	/* its poison went to the free list with the block */
	{
		struct fs_usage u;
		char why[128];

		assert_int_equal(fs_check(w.sb, why, sizeof(why), &u), 0);
		assert_int_equal(u.media_errors, 0);
		assert_int_equal(u.free_poison, 1);
	}
}

static void madvise_on_file_mapping(void **state)
{
	struct fake *p, *late;
	struct mf_current cur;
	struct mf_raise r;
	struct mf_vma *vma;
	uint64_t ino, nspage, *cleared;
	size_t nc;
	char page[4096] = { 1 };

	(void)state;
	world_init("linux-6.12");
	ino = file("f", 4 * MiB, 128 << 10);
	p = proc("poisoner", ino, 0x40000000, 4 * MiB, true, 0);
	late = proc("late", ino, 0x80000000, 4 * MiB, true, 0);
	vma = mf_vma_find(&p->task, 1);
	assert_non_null(vma);
	cur = cur_of(p);
	assert_int_equal(madvise_inject_error(&w.mf, vma, 0x40000000 + (IDX << 12), 4096,
					      MF_MADV_HWPOISON, &cur, &r), 0);
	assert_int_equal(r.code, MF_BUS_MCEERR_AR);
	assert_int_equal(r.addr, 0x40000000 + (IDX << 12));
	assert_int_equal(r.lsb, 21);
	nspage = pfn_of(ino, IDX) - nd_pfn_base(w.ns);
	assert_true(nd_page_bad(w.ns, nspage));
	assert_int_equal(fs_read(w.sb, ino, IDX << 12, page, 10), -EIO);
	/* a recovery write: the media is good again, the mappers get it back */
	assert_int_equal(fs_write(w.sb, ino, IDX << 12, page, 4096, &cleared, &nc), 4096);
	assert_int_equal(nc, 1);
	assert_int_equal(cleared[0], nspage);
	assert_false(nd_page_hwpoison(w.ns, nspage));
	assert_int_equal(mf_media_cleared(&w.mf, ns_to_dax(w.ns), cleared, nc), 0);
	free(cleared);
	/* given back from the block the file has now */
	assert_int_equal(p->remaps, 1);
	assert_int_equal(late->remaps, 1);
	assert_int_equal(late->remap_off, nspage << 12);
	assert_int_equal(p->unfences + late->unfences, 0);
	assert_int_equal(fs_read(w.sb, ino, IDX << 12, page, 10), 10);
}

static void linux419_every_mapper_ao(void **state)
{
	struct fake *p, *late, *cold;
	struct mf_current cur;
	struct mf_raise r;
	uint64_t ino;

	(void)state;
	world_init("linux-4.19");
	ino = file("f", 4 * MiB, 1 << 20);
	p = proc("poisoner", ino, 0x40000000, 4 * MiB, true, 0);
	late = proc("late", ino, 0x80000000, 4 * MiB, true, 0);
	cold = proc("cold", ino, 0xc0000000, 4 * MiB, false, 0);
	cur = cur_of(p);
	assert_int_equal(memory_failure(&w.mf, pfn_of(ino, IDX), MF_ACTION_REQUIRED, &cur, &r), 0);
	assert_int_equal(r.lsb, 21);
	assert_int_equal(late->signals, 1);
	assert_int_equal(late->sig_code, MF_BUS_MCEERR_AO);
	assert_int_equal(late->sig_addr, 0x80000000 + (IDX << 12));
	assert_int_equal(late->sig_lsb, 21);
	assert_int_equal(cold->signals, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(pmd_file_ar_exact_page_lsb21, world_free),
		cmocka_unit_test_teardown(small_file_lsb12, world_free),
		cmocka_unit_test_teardown(pmd_file_unaligned_mapping_lsb12, world_free),
		cmocka_unit_test_teardown(free_block_only_recorded, world_free),
		cmocka_unit_test_teardown(truncated_page_has_no_owner, world_free),
		cmocka_unit_test_teardown(entry_lock_holds_off_truncate, world_free),
		cmocka_unit_test_teardown(madvise_on_file_mapping, world_free),
		cmocka_unit_test_teardown(linux419_every_mapper_ao, world_free),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
