// SPDX-License-Identifier: MIT
/*
 * Unit tests: the memory-failure engine in one process, through a fake
 * peer interface that plays the mapping processes: what each reports
 * (mapped or not, which thread is early-kill, whether it answers), and a
 * record of what the engine asked of them (fences, zaps, signals, kills)
 * and what it logged.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../src/mm/mm.h"
#include "../../src/nvdimm/nvdimm.h"
#include "../../src/uapi/mf_proto.h"
#include "../../src/util/util.h"

#define MAX 16

/* What one fake process reports and what was asked of it. */
struct fake {
	struct mf_task task;
	bool present;		/* the unit is in its page tables */
	pid_t early_tid;	/* its early-kill thread, as the sysctl decides */
	bool mute;		/* never answers */
	int fence_err;		/* answers, but its fences fail so */
	unsigned fences, zaps, unfences;
	uint64_t zap_addr, zap_len;
	int signals;
	pid_t sig_tid;
	int sig_code;
	uint64_t sig_addr;
	unsigned sig_lsb;
	int kills;
};

struct world {
	char dir[64];
	struct nd_region *region;
	struct nd_namespace *ns;
	struct mf_engine mf;
	struct fake f[MAX];
	int nr;
	char log[64][256];
	int nr_log;
	int panics;
};

static struct world w;

static void fake_shootdown(struct mf_engine *mf, struct mf_shootdown *sd, unsigned n)
{
	unsigned i, j;

	(void)mf;
	for (i = 0; i < n; i++) {
		struct fake *f = container_of(sd[i].task, struct fake, task);

		sd[i].acked = !f->mute;
		if (f->mute)
			continue;
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
				x->error = f->fence_err;
			}
			if (x->ops & MF_OP_UNFENCE)
				f->unfences++;
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
	f->signals++;
	f->sig_tid = tid;
	f->sig_code = code;
	f->sig_addr = addr;
	f->sig_lsb = lsb;
	return 0;
}

static int fake_kill(struct mf_engine *mf, struct mf_task *t)
{
	(void)mf;
	container_of(t, struct fake, task)->kills++;
	return 0;
}

static void fake_panic(struct mf_engine *mf)
{
	(void)mf;
	w.panics++;
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
	.kill = fake_kill,
	.panic = fake_panic,
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

/* A world with one namespace of the given alignment, under a profile. */
static void world_init(const char *profile, uint64_t align)
{
	struct nd_create_args a = {
		.size = 4ULL << 30, .align = align, .mode = ND_MODE_DEVDAX,
		.perm = 0600, .sparse = true,
	};

	memset(&w, 0, sizeof(w));
	snprintf(w.dir, sizeof(w.dir), "/tmp/mfunit.XXXXXX");
	assert_non_null(mkdtemp(w.dir));
	assert_int_equal(nd_region_open(w.dir, 0, &w.region), 0);
	assert_int_equal(nd_namespace_create(w.region, &a, &w.ns), 0);
	assert_int_equal(dax_device_attach(w.ns), 0);
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
	int i;

	(void)state;
	for (i = 0; i < w.nr; i++) {
		mf_task_exit(&w.f[i].task);
		mf_ram_task_exit(&w.mf, &w.f[i].task);
	}
	mf_ram_free(&w.mf);
	dax_device_detach(w.ns);
	nd_region_close(w.region);
	nftw(w.dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
	return 0;
}

/* A process mapping the first 8 MiB of the namespace at `start`. */
static struct fake *proc(const char *comm, uint64_t start, bool present, pid_t early)
{
	struct fake *f = &w.f[w.nr];

	mf_task_init(&f->task, 1000 + w.nr, 0, comm, NULL);
	f->present = present;
	f->early_tid = early;
	assert_int_equal(mf_vma_insert(&f->task, ns_to_dax(w.ns), 1, start, 8 << 20, 0, 3, NULL), 0);
	w.nr++;
	return f;
}

#define PAGE	0x102ULL			/* 1 MiB + 8 KiB into the device */
#define PFN	(0x100000ULL + PAGE)

static struct mf_current cur_of(struct fake *f)
{
	struct mf_current c = { .task = &f->task, .tid = f->task.pid + 50000 };

	snprintf(c.comm, sizeof(c.comm), "%s", f->task.comm);
	return c;
}

static void linux612_ar_and_early_ao(void **state)
{
	struct fake *p, *late, *early, *cold;
	struct mf_current cur;
	struct mf_raise r;

	(void)state;
	world_init("linux-6.12", 2 << 20);
	p = proc("poisoner", 0x40000000, true, 0);
	late = proc("late", 0x80000000, true, 0);
	early = proc("early", 0xc0000000, true, 4242);
	cold = proc("cold", 0x100000000, false, 4343);
	cur = cur_of(p);
	assert_int_equal(memory_failure(&w.mf, PFN, MF_ACTION_REQUIRED, &cur, &r), 0);
	/* AR to current: the unit's start, lsb 21 */
	assert_int_equal(r.signo, SIGBUS);
	assert_int_equal(r.code, MF_BUS_MCEERR_AR);
	assert_int_equal(r.addr, 0x40000000);
	assert_int_equal(r.lsb, 21);
	/* AO only to the early-kill mapper that has it mapped, to its thread */
	assert_int_equal(late->signals, 0);
	assert_int_equal(cold->signals, 0);
	assert_int_equal(early->signals, 1);
	assert_int_equal(early->sig_tid, 4242);
	assert_int_equal(early->sig_code, MF_BUS_MCEERR_AO);
	assert_int_equal(early->sig_addr, 0xc0000000);
	assert_int_equal(early->sig_lsb, 21);
	/* everybody fenced and zapped: the unit, 2 MiB */
	assert_int_equal(late->fences, 1);
	assert_int_equal(cold->zaps, 1);
	assert_int_equal(late->zap_addr, 0x80000000);
	assert_int_equal(late->zap_len, 2 << 20);
	assert_int_equal(logged("Memory failure: 0x100102: Sending SIGBUS to poisoner:"), 1);
	assert_int_equal(logged("Sending SIGBUS to early:4242"), 1);
	assert_int_equal(logged("Memory failure: 0x100102: recovery action for dax page: Recovered"), 1);
	assert_true(nd_page_hwpoison(w.ns, PAGE));
	assert_int_equal(w.mf.node.total, 1);
	assert_int_equal(w.mf.node.recovered, 1);
	assert_int_equal(w.mf.poisoned_pages, 1);
}

static void linux612_no_consumer_no_zap(void **state)
{
	struct fake *late;
	struct mf_raise r;

	(void)state;
	world_init("linux-6.12", 2 << 20);
	late = proc("late", 0x40000000, true, 0);
	/* a non-mapping injector, nobody early: fenced, nothing unmapped */
	assert_int_equal(memory_failure(&w.mf, PFN, 0, NULL, &r), 0);
	assert_int_equal(r.signo, 0);
	assert_int_equal(late->fences, 1);
	assert_int_equal(late->zaps, 0);
	assert_int_equal(late->signals, 0);
	assert_int_equal(logged("Recovered"), 1);
}

static void linux612_early_injector_zaps_in_second_round(void **state)
{
	struct fake *late, *early;
	struct mf_raise r;

	(void)state;
	world_init("linux-6.12", 2 << 20);
	late = proc("late", 0x40000000, true, 0);
	early = proc("early", 0x80000000, true, 77);
	assert_int_equal(memory_failure(&w.mf, PFN, 0, NULL, &r), 0);
	assert_int_equal(early->signals, 1);
	/* one early mapper collected: the unit goes from every mapper */
	assert_int_equal(late->zaps, 1);
	assert_int_equal(early->zaps, 1);
}

static void linux612_4k_exact_page(void **state)
{
	struct fake *p, *early;
	struct mf_current cur;
	struct mf_raise r;

	(void)state;
	world_init("linux-6.12", 4096);
	p = proc("poisoner", 0x40000000, true, 0);
	early = proc("early", 0x80000000, true, 9);
	cur = cur_of(p);
	assert_int_equal(memory_failure(&w.mf, PFN, MF_ACTION_REQUIRED, &cur, &r), 0);
	assert_int_equal(r.addr, 0x40000000 + (PAGE << 12));
	assert_int_equal(r.lsb, 12);
	assert_int_equal(early->sig_addr, 0x80000000 + (PAGE << 12));
	assert_int_equal(early->zap_len, 4096);
}

static void linux419_everybody_exact_page(void **state)
{
	struct fake *p, *late, *cold;
	struct mf_current cur;
	struct mf_raise r;

	(void)state;
	world_init("linux-4.19", 2 << 20);
	p = proc("poisoner", 0x40000000, true, 0);
	late = proc("late", 0x80000000, true, 0);
	cold = proc("cold", 0xc0000000, false, 0);
	cur = cur_of(p);
	assert_int_equal(memory_failure(&w.mf, PFN, MF_ACTION_REQUIRED, &cur, &r), 0);
	assert_int_equal(r.addr, 0x40000000 + (PAGE << 12));
	assert_int_equal(r.lsb, 21);
	/* AO to the main thread whatever the policy, the exact page */
	assert_int_equal(late->signals, 1);
	assert_int_equal(late->sig_tid, late->task.pid);
	assert_int_equal(late->sig_addr, 0x80000000 + (PAGE << 12));
	/* not mapped: dropped without a word (4.19.81+) */
	assert_int_equal(cold->signals, 0);
	assert_int_equal(cold->kills, 0);
	/* 4.19 names the process's main thread, "Killing" */
	assert_int_equal(logged("Memory failure: 0x100102: Killing poisoner:1000 due to hardware memory corruption"), 1);
	assert_int_equal(logged("Killing late:1001"), 1);
	/* the length given to unmap_mapping_range() is right again (4.19.191) */
	assert_int_equal(late->zap_len, 2 << 20);
}

static void linux4190_kills_unmapped_and_overunmaps(void **state)
{
	struct fake *p, *cold;
	struct mf_current cur;
	struct mf_raise r;

	(void)state;
	world_init("linux-4.19.0", 2 << 20);
	p = proc("poisoner", 0x40000000, true, 0);
	cold = proc("cold", 0xc0000000, false, 0);
	cur = cur_of(p);
	/* a page in the second unit: start 2 MiB, "length" start + size */
	assert_int_equal(memory_failure(&w.mf, 0x100000ULL + 0x202, MF_ACTION_REQUIRED, &cur, &r), 0);
	assert_int_equal(cold->kills, 1);
	assert_int_equal(logged("Memory failure: Unable to find user space address 100202 in cold"), 1);
	assert_int_equal(logged("forcibly killing cold:1001 because of failure to unmap corrupted page"), 1);
	assert_int_equal(p->zap_addr, 0x40000000 + (2 << 20));
	assert_int_equal(p->zap_len, 4 << 20);
}

static void mute_mapper_is_killed(void **state)
{
	struct fake *p, *mute;
	struct mf_current cur;
	struct mf_raise r;

	(void)state;
	world_init("linux-6.12", 2 << 20);
	p = proc("poisoner", 0x40000000, true, 0);
	mute = proc("mute", 0x80000000, true, 0);
	mute->mute = true;
	cur = cur_of(p);
	assert_int_equal(memory_failure(&w.mf, PFN, MF_ACTION_REQUIRED, &cur, &r), 0);
	assert_int_equal(mute->kills, 1);
	assert_int_equal(logged("forcibly killing mute:1001"), 1);
	assert_int_equal(r.signo, SIGBUS);
}

static void unfenceable_mapper_is_killed(void **state)
{
	struct fake *p, *full;
	struct mf_current cur;
	struct mf_raise r;

	(void)state;
	world_init("linux-6.12", 2 << 20);
	p = proc("poisoner", 0x40000000, true, 0);
	full = proc("full", 0x80000000, true, 0);
	/* its fallback fences ran out: it could read the poison */
	full->fence_err = -ENOSPC;
	cur = cur_of(p);
	assert_int_equal(memory_failure(&w.mf, PFN, MF_ACTION_REQUIRED, &cur, &r), 0);
	assert_int_equal(full->kills, 1);
	assert_int_equal(logged("forcibly killing full:1001"), 1);
	/* a mapping that went away meanwhile is nobody's concern */
	full->fence_err = -ENOENT;
	full->kills = 0;
	assert_int_equal(memory_failure(&w.mf, PFN, MF_ACTION_REQUIRED, &cur, &r), 0);
	assert_int_equal(full->kills, 0);
}

static void outside_and_unowned(void **state)
{
	struct mf_raise r;

	(void)state;
	world_init("linux-6.12", 2 << 20);
	/* below the region */
	assert_int_equal(memory_failure(&w.mf, 0x1000, 0, NULL, &r), -ENXIO);
	assert_int_equal(logged("Memory failure: 0x1000: memory outside kernel control"), 1);
	assert_int_equal(w.mf.node.total, 0);
	/* a page never mapped has no owner: the entry cannot be locked */
	assert_int_equal(memory_failure(&w.mf, PFN, 0, NULL, &r), -EBUSY);
	assert_int_equal(logged("recovery action for dax page: Failed"), 1);
	assert_int_equal(w.mf.node.failed, 1);
	assert_false(nd_page_hwpoison(w.ns, PAGE));
}

static void owner_outlives_mapping(void **state)
{
	struct fake *f;
	struct mf_raise r;

	(void)state;
	world_init("linux-6.12", 2 << 20);
	f = proc("gone", 0x40000000, true, 0);
	mf_task_exit(&f->task);
	/* the last mapper went away: the page keeps its owner */
	assert_int_equal(memory_failure(&w.mf, PFN, 0, NULL, &r), 0);
	assert_int_equal(logged("Recovered"), 1);
}

static void panic_without_recovery(void **state)
{
	struct fake *p;
	struct mf_current cur;
	struct mf_raise r;

	(void)state;
	world_init("linux-6.12", 2 << 20);
	p = proc("poisoner", 0x40000000, true, 0);
	cur = cur_of(p);
	w.mf.recovery = 0;
	assert_int_equal(memory_failure(&w.mf, PFN, MF_ACTION_REQUIRED, &cur, &r), -EIO);
	assert_int_equal(w.panics, 1);
	assert_true(w.mf.panicked);
	assert_int_equal(logged("Kernel panic - not syncing: Memory failure on page 100102"), 1);
	/* and nothing more after a panic */
	assert_int_equal(memory_failure(&w.mf, PFN, MF_ACTION_REQUIRED, &cur, &r), -EIO);
	assert_int_equal(w.panics, 1);
}

static void madvise_steps_per_profile(void **state)
{
	struct fake *p;
	struct mf_current cur;
	struct mf_raise r;
	struct mf_vma *vma;

	(void)state;
	world_init("linux-6.12", 2 << 20);
	p = proc("poisoner", 0x40000000, true, 0);
	cur = cur_of(p);
	vma = mf_vma_find(&p->task, 1);
	/* 6.12 steps by the folio: two pages of one unit, one memory_failure */
	assert_int_equal(madvise_inject_error(&w.mf, vma, 0x40102000, 0x2000,
					      MF_MADV_HWPOISON, &cur, &r), 0);
	assert_int_equal(logged("Injecting memory failure"), 1);
	assert_int_equal(r.code, MF_BUS_MCEERR_AR);
	/* the media under the page went bad */
	assert_true(nd_page_bad(w.ns, PAGE));
	assert_false(nd_page_bad(w.ns, PAGE + 1));
	/* past the mapping: -EFAULT; soft offline: -EIO */
	assert_int_equal(madvise_inject_error(&w.mf, vma, 0x40000000 + (8 << 20), 4096,
					      MF_MADV_HWPOISON, &cur, &r), -EFAULT);
	assert_int_equal(madvise_inject_error(&w.mf, vma, 0x40200000, 4096,
					      MF_MADV_SOFT_OFFLINE, &cur, &r), -EIO);
	assert_int_equal(logged("Soft offlining pfn 0x100200 at process virtual address 0x40200000"), 1);
	world_free(NULL);

	world_init("linux-4.19", 2 << 20);
	p = proc("poisoner", 0x40000000, true, 0);
	cur = cur_of(p);
	vma = mf_vma_find(&p->task, 1);
	/* 4.19 steps by 4 KiB and skips pages already poisoned */
	assert_int_equal(madvise_inject_error(&w.mf, vma, 0x40102000, 0x2000,
					      MF_MADV_HWPOISON, &cur, &r), 0);
	assert_int_equal(logged("Injecting memory failure"), 2);
	assert_int_equal(madvise_inject_error(&w.mf, vma, 0x40102000, 0x1000,
					      MF_MADV_HWPOISON, &cur, &r), 0);
	assert_int_equal(logged("Injecting memory failure"), 2);
	assert_int_equal(r.signo, 0);
}

static void media_poison_and_clear(void **state)
{
	struct fake *a, *b;
	uint64_t pages[3] = { 1, 2, 9 };

	(void)state;
	world_init("linux-6.12", 2 << 20);
	a = proc("a", 0x40000000, true, 0);
	b = proc("b", 0x80000000, true, 0);
	/* pages 1 and 2 are one run: one fence entry per mapper for them */
	assert_int_equal(mf_media_poisoned(&w.mf, ns_to_dax(w.ns), pages, 3), 0);
	assert_int_equal(a->fences, 2);
	assert_int_equal(b->fences, 2);
	assert_int_equal(a->signals + b->signals, 0);
	assert_int_equal(mf_media_cleared(&w.mf, ns_to_dax(w.ns), pages, 1), 0);
	assert_int_equal(a->unfences, 1);
	b->mute = true;
	assert_int_equal(mf_media_poisoned(&w.mf, ns_to_dax(w.ns), pages + 2, 1), 0);
	assert_int_equal(b->kills, 1);
}

/* ---- the emulated RAM's frames ---- */

static struct mf_frame *frame_of(struct fake *t, uint64_t a, uint64_t b, uint64_t c, bool shared,
				 unsigned kind, unsigned shift)
{
	struct mf_ram_key k = { .a = a, .b = b, .c = c, .shared = shared };
	struct mf_frame *f = NULL;

	assert_int_equal(mf_ram_frame(&w.mf, &k, kind, shift, &t->task, &f), 0);
	assert_non_null(f);
	return f;
}

/* A page cache page keeps its pfn while any task that was shown it lives. */
static void shared_frame_outlives_its_namer(void **state)
{
	struct fake *a, *b;
	struct mf_frame *f;
	uint64_t pfn;

	(void)state;
	world_init("linux-6.12", 2 << 20);
	a = proc("a", 0x40000000, true, 0);
	b = proc("b", 0x50000000, true, 0);
	f = frame_of(a, 8, 99, 0x3000, true, MF_RAM_FILE, MF_PAGE_SHIFT);
	pfn = f->pfn;
	assert_ptr_equal(frame_of(b, 8, 99, 0x3000, true, MF_RAM_FILE, MF_PAGE_SHIFT), f);
	mf_ram_task_exit(&w.mf, &a->task);
	assert_ptr_equal(mf_ram_lookup(&w.mf, pfn), f);
	mf_ram_task_exit(&w.mf, &b->task);
	assert_null(mf_ram_lookup(&w.mf, pfn));
}

/* Unpoisoned while a task still holds its pfn: a free page of that pfn,
 * not handed out again until the task is gone. */
static void unpoisoned_shared_frame_is_not_reused(void **state)
{
	struct fake *a, *b;
	struct mf_frame *f, *g;
	uint64_t pfn;
	int i;

	(void)state;
	world_init("linux-6.12", 2 << 20);
	a = proc("a", 0x40000000, true, 0);
	b = proc("b", 0x50000000, true, 0);
	f = frame_of(a, 8, 99, 0, true, MF_RAM_FILE, MF_PAGE_SHIFT);
	pfn = f->pfn;
	assert_int_equal(memory_failure_pfn(&w.mf, pfn, MF_SW_SIMULATED), 0);
	assert_true(mf_kpageflags(&w.mf, pfn) & (1ULL << 19));
	assert_int_equal(unpoison_memory(&w.mf, pfn), 0);
	assert_int_equal(mf_kpageflags(&w.mf, pfn), 1ULL << 10);	/* KPF_BUDDY */
	for (i = 0; i < 8; i++) {
		g = frame_of(b, 8, 99, (uint64_t)(i + 1) << 12, true, MF_RAM_FILE, MF_PAGE_SHIFT);
		assert_int_not_equal(g->pfn, pfn);
	}
	mf_ram_task_exit(&w.mf, &a->task);
	assert_null(mf_ram_lookup(&w.mf, pfn));
}

/* A private frame given back and its pfn reused by another task: the
 * first task's exit leaves the new page alone. */
static void private_pfn_reused_survives_old_owner(void **state)
{
	struct fake *a, *b;
	struct mf_frame *f, *g;
	uint64_t pfn;

	(void)state;
	world_init("linux-6.12", 2 << 20);
	a = proc("a", 0x40000000, true, 0);
	b = proc("b", 0x50000000, true, 0);
	f = frame_of(a, a->task.id, 0x7000, 0, false, MF_RAM_ANON, MF_PAGE_SHIFT);
	pfn = f->pfn;
	assert_int_equal(memory_failure_pfn(&w.mf, pfn, MF_SW_SIMULATED), 0);
	assert_int_equal(unpoison_memory(&w.mf, pfn), 0);
	g = frame_of(b, 8, 5, 0, true, MF_RAM_SHMEM, MF_PAGE_SHIFT);
	assert_int_equal(g->pfn, pfn);
	mf_ram_task_exit(&w.mf, &a->task);
	assert_ptr_equal(mf_ram_lookup(&w.mf, pfn), g);
	assert_int_equal(g->users, 1);
}

/* A 1 GiB hugetlb page records which of its 262144 pages were hit. */
static void gigantic_page_records_the_page_hit(void **state)
{
	struct fake *a;
	struct mf_frame *f;
	uint64_t hit;

	(void)state;
	world_init("linux-6.12", 2 << 20);
	a = proc("a", 0x40000000, true, 0);
	f = frame_of(a, a->task.id, 0x80000000ULL, 0, false, MF_RAM_HUGETLB, 30);
	hit = f->pfn + 200000;
	mf_frame_set_poison(f, hit);
	assert_true(mf_frame_poisoned_at(f, hit));
	assert_false(mf_frame_poisoned_at(f, f->pfn + 5));
	assert_true(mf_kpageflags(&w.mf, hit) & (1ULL << 19));
	assert_false(mf_kpageflags(&w.mf, hit + 1) & (1ULL << 19));
	/* soft offline of the page hit: already poisoned, nothing done */
	assert_int_equal(soft_offline_ram(&w.mf, hit, NULL), 0);
	assert_int_equal(logged("page already poisoned"), 1);
	assert_int_equal(mf_frame_clear_poison(f), 1);
	assert_false(mf_frame_poisoned_at(f, hit));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(linux612_ar_and_early_ao, world_free),
		cmocka_unit_test_teardown(linux612_no_consumer_no_zap, world_free),
		cmocka_unit_test_teardown(linux612_early_injector_zaps_in_second_round, world_free),
		cmocka_unit_test_teardown(linux612_4k_exact_page, world_free),
		cmocka_unit_test_teardown(linux419_everybody_exact_page, world_free),
		cmocka_unit_test_teardown(linux4190_kills_unmapped_and_overunmaps, world_free),
		cmocka_unit_test_teardown(mute_mapper_is_killed, world_free),
		cmocka_unit_test_teardown(unfenceable_mapper_is_killed, world_free),
		cmocka_unit_test_teardown(outside_and_unowned, world_free),
		cmocka_unit_test_teardown(owner_outlives_mapping, world_free),
		cmocka_unit_test_teardown(panic_without_recovery, world_free),
		cmocka_unit_test_teardown(madvise_steps_per_profile, world_free),
		cmocka_unit_test_teardown(media_poison_and_clear, world_free),
		cmocka_unit_test_teardown(shared_frame_outlives_its_namer, world_free),
		cmocka_unit_test_teardown(unpoisoned_shared_frame_is_not_reused, world_free),
		cmocka_unit_test_teardown(private_pfn_reused_survives_old_owner, world_free),
		cmocka_unit_test_teardown(gigantic_page_records_the_page_hit, world_free),
	};

	return cmocka_run_group_tests_name("engine", tests, NULL, NULL);
}
