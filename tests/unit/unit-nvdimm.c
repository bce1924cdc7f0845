// SPDX-License-Identifier: MIT
/*
 * Unit tests: the emulated NVDIMM.  Namespaces and their bad sectors in
 * the store, driver reads and writes, clearing, reopening after a crash,
 * and the daemon's protected view of poisoned pages (copy_mc).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../../src/nvdimm/copy_mc.h"
#include "../../src/nvdimm/nvdimm.h"
#include "../../src/util/fence.h"

static char dir[64];

static int rm_entry(const char *p, const struct stat *s, int f, struct FTW *t)
{
	(void)s;
	(void)f;
	(void)t;
	return remove(p);
}

static int fresh_dir(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/mfnvdimm.XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int drop_dir(void **state)
{
	(void)state;
	nftw(dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
	return 0;
}

static struct nd_namespace *create(struct nd_region *r, uint64_t size, uint64_t align)
{
	struct nd_create_args a = {
		.size = size, .align = align, .mode = ND_MODE_DEVDAX, .perm = 0600,
	};
	struct nd_namespace *ns = NULL;

	assert_int_equal(nd_namespace_create(r, &a, &ns), 0);
	return ns;
}

static void namespaces_and_names(void **state)
{
	struct nd_create_args bad = { .size = 3 << 20, .align = 2 << 20, .mode = ND_MODE_DEVDAX };
	struct nd_namespace *a, *b, *c, *out;
	struct nd_region *r;

	(void)state;
	assert_int_equal(nd_region_open(dir, 1ULL << 34, &r), 0);
	a = create(r, 64 << 20, 2 << 20);
	b = create(r, 1ULL << 30, 1ULL << 30);
	c = create(r, 8 << 20, 4096);
	assert_string_equal(a->name, "namespace0.0");
	assert_string_equal(c->chardev, "dax0.2");
	/* physical ranges: aligned, disjoint, inside the region */
	assert_int_equal(a->phys_base, ND_REGION_BASE);
	assert_int_equal(b->phys_base % (1ULL << 30), 0);
	assert_true(b->phys_base >= a->phys_base + a->size);
	/* first fit: the small one goes in the gap before the 1 GiB one */
	assert_int_equal(c->phys_base, a->phys_base + a->size);
	assert_true(c->phys_base + c->size <= b->phys_base);
	assert_ptr_equal(nd_namespace_find(r, "dax0.1"), b);
	assert_ptr_equal(nd_namespace_find(r, "pmem0.1"), b);
	assert_ptr_equal(nd_namespace_find(r, "pmem0"), a);
	assert_null(nd_namespace_find(r, "dax0.01"));
	assert_null(nd_namespace_find(r, "dax0.0x1"));
	assert_null(nd_namespace_find(r, "dax1.0"));
	assert_ptr_equal(nd_namespace_by_pfn(r, (b->phys_base >> 12) + 5), b);
	assert_null(nd_namespace_by_pfn(r, 5));
	/* bad sizes and alignments change nothing */
	assert_int_equal(nd_namespace_create(r, &bad, &out), -EINVAL);
	bad.size = 2 << 20;
	bad.align = 8192;
	assert_int_equal(nd_namespace_create(r, &bad, &out), -EINVAL);
	bad.align = 4096;
	bad.size = 1ULL << 40;
	assert_int_equal(nd_namespace_create(r, &bad, &out), -ENOSPC);
	assert_int_equal(r->nr_namespaces, 3);
	/* a destroyed id is reused, its space too */
	assert_int_equal(nd_namespace_destroy(a), 0);
	a = create(r, 64 << 20, 2 << 20);
	assert_string_equal(a->name, "namespace0.0");
	assert_int_equal(a->phys_base, ND_REGION_BASE);
	nd_region_close(r);
}

static void errors_reads_writes(void **state)
{
	struct nd_namespace *ns;
	struct nd_region *r;
	char buf[8192], page[4096];

	(void)state;
	assert_int_equal(nd_region_open(dir, 0, &r), 0);
	ns = create(r, 4 << 20, 2 << 20);
	memset(page, 0x5a, sizeof(page));
	assert_int_equal(nd_write(ns, 8192, page, sizeof(page)), 0);
	assert_int_equal(nd_inject_error(ns, 17, 1, true), 0);
	assert_true(nd_page_bad(ns, 2));
	assert_false(nd_page_bad(ns, 1));
	/* a read touching the bad sector fails; good sectors of its page read */
	assert_int_equal(nd_read(ns, 8192 + 512, buf, 512), -EIO);
	assert_int_equal(nd_read(ns, 8192, buf, 512), 0);
	assert_int_equal((unsigned char)buf[0], 0x5a);
	assert_int_equal(nd_read(ns, 8192 + 1024, buf, 100), 0);
	/* out of range */
	assert_int_equal(nd_inject_error(ns, 8192, 1, true), -ERANGE);
	assert_int_equal(nd_inject_error(ns, 8191, 2, true), -ERANGE);
	assert_int_equal(nd_read(ns, 4 << 20, buf, 1), -ERANGE);
	/* a write covering part of the sector fails and changes nothing */
	assert_int_equal(nd_write(ns, 8192 + 512 + 8, page, 100), -EIO);
	assert_int_equal(nd_write(ns, 8192, page, 512 + 8), -EIO);
	assert_true(nd_page_bad(ns, 2));
	/* one that covers it whole clears it */
	assert_int_equal(nd_write(ns, 8192 + 512, page, 512), 0);
	assert_false(nd_page_bad(ns, 2));
	assert_int_equal(nd_read(ns, 8192, buf, 4096), 0);
	/* clear-errors writes zeros and clears */
	assert_int_equal(nd_inject_error(ns, 24, 8, true), 0);
	assert_int_equal(nd_page_set_hwpoison(ns, 3), 0);
	assert_int_equal(nd_clear_errors(ns, 0, 8192), 8);
	assert_false(nd_page_bad(ns, 3));
	assert_false(nd_page_hwpoison(ns, 3));
	assert_int_equal(nd_read(ns, 3 * 4096, buf, 4096), 0);
	assert_int_equal(buf[0], 0);
	nd_region_close(r);
}

static void survives_reopen(void **state)
{
	struct nd_namespace *ns;
	struct nd_region *r;
	char byte = 0x42, got;

	(void)state;
	assert_int_equal(nd_region_open(dir, 0, &r), 0);
	ns = create(r, 4 << 20, 4096);
	assert_int_equal(nd_write(ns, 100, &byte, 1), 0);
	assert_int_equal(nd_inject_error(ns, 40, 3, true), 0);
	assert_int_equal(nd_inject_error(ns, 43, 1, true), 0);	/* merges */
	assert_int_equal(nd_inject_error(ns, 100, 2, true), 0);
	assert_int_equal(nd_uninject_error(ns, 101, 1), 1);
	assert_int_equal(nd_page_set_hwpoison(ns, 5), 0);
	/* no clean shutdown: what was acknowledged is there */
	nd_region_close(r);
	assert_int_equal(nd_region_open(dir, 0, &r), 0);
	ns = nd_namespace_find(r, "namespace0.0");
	assert_non_null(ns);
	assert_int_equal(ns->bb.nr, 2);
	assert_int_equal(ns->bb.r[0].start, 40);
	assert_int_equal(ns->bb.r[0].count, 4);
	assert_int_equal(ns->bb.r[1].start, 100);
	assert_int_equal(ns->bb.r[1].count, 1);
	/* the page flag, like the kernel's, does not outlive a restart */
	assert_false(nd_page_hwpoison(ns, 5));
	assert_int_equal(nd_read(ns, 100, &got, 1), 0);
	assert_int_equal(got, 0x42);
	nd_region_close(r);
}

/*
 * Latent poison: bad media the driver does not know.  Reads fail, the
 * badblocks list does not show it until it is found; clear-errors leaves
 * it (it clears what is known), a write over it makes it good, and it
 * survives a reopen as latent.
 */
static void latent_poison(void **state)
{
	struct nd_namespace *ns;
	struct nd_region *r;
	char buf[512];

	(void)state;
	assert_int_equal(nd_region_open(dir, 0, &r), 0);
	ns = create(r, 4 << 20, 4096);
	assert_int_equal(nd_inject_error(ns, 16, 2, false), 0);
	assert_int_equal(nd_inject_error(ns, 80, 8, false), 0);
	assert_int_equal(nd_inject_error(ns, 200, 1, true), 0);
	assert_int_equal(ns->bb.total, 1);
	assert_int_equal(nd_latent_sectors(ns, 0, 8192), 10);
	assert_true(nd_page_bad(ns, 2));
	assert_int_equal(nd_read(ns, 16 * 512, buf, 16), -EIO);
	/* clear-errors clears the known sector only */
	assert_int_equal(nd_clear_errors(ns, 0, 8192), 1);
	assert_int_equal(nd_latent_sectors(ns, 0, 8192), 10);
	assert_true(nd_page_bad(ns, 2));
	/* found: known from now on, counted once */
	assert_int_equal(nd_find_latent(ns, 0, 24), 2);
	assert_int_equal(nd_find_latent(ns, 0, 24), 0);
	assert_int_equal(ns->bb.total, 2);
	assert_int_equal(nd_latent_sectors(ns, 0, 8192), 8);
	/* a write over latent poison makes it good */
	memset(buf, 1, sizeof(buf));
	assert_int_equal(nd_write(ns, 80 * 512, buf, 512), 0);
	assert_int_equal(nd_latent_sectors(ns, 0, 8192), 7);
	nd_region_close(r);
	assert_int_equal(nd_region_open(dir, 0, &r), 0);
	ns = nd_namespace_find(r, "namespace0.0");
	assert_int_equal(ns->bb.total, 2);
	assert_int_equal(ns->poison.total, 9);
	assert_int_equal(nd_latent_sectors(ns, 81, 7), 7);
	/* uninject forgets both kinds */
	assert_int_equal(nd_uninject_error(ns, 0, 8192), 9);
	assert_int_equal(ns->poison.total, 0);
	assert_int_equal(ns->bb.total, 0);
	assert_false(nd_page_bad(ns, 2));
	nd_region_close(r);
}

static void copy_mc_survives_poison(void **state)
{
	char *src, dst[3 * 4096];

	(void)state;
	assert_int_equal(copy_mc_init(), 0);
	src = mmap(NULL, 3 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(src != MAP_FAILED);
	memset(src, 7, 3 * 4096);
	assert_true(fence_range(src + 4096, 4096) > 0);
	assert_int_equal(copy_mc(dst, src, 4096), 0);
	assert_int_equal(dst[4095], 7);
	/* the copy stops at the fenced page and reports it */
	assert_int_equal(copy_mc(dst, src, 3 * 4096), -EIO);
	assert_int_equal(copy_mc(dst, src + 2 * 4096, 4096), 0);
	munmap(src, 3 * 4096);
}

static void view_is_fenced(void **state)
{
	struct nd_namespace *ns;
	struct nd_region *r;
	char buf[16];

	(void)state;
	/* cmocka has its own SIGSEGV handler for each test: ours goes on top */
	assert_int_equal(copy_mc_init(), 0);
	assert_int_equal(nd_region_open(dir, 0, &r), 0);
	ns = create(r, 4 << 20, 4096);
	assert_int_equal(nd_read(ns, 0, buf, 16), 0);	/* maps the view */
	assert_non_null(ns->view);
	assert_int_equal(nd_page_set_hwpoison(ns, 9), 0);
	/* the daemon's own accidental read of the page survives */
	assert_int_equal(copy_mc(buf, (char *)ns->view + 9 * 4096, 16), -EIO);
	assert_int_equal(copy_mc(buf, (char *)ns->view + 8 * 4096, 16), 0);
	nd_region_close(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(namespaces_and_names, fresh_dir, drop_dir),
		cmocka_unit_test_setup_teardown(errors_reads_writes, fresh_dir, drop_dir),
		cmocka_unit_test_setup_teardown(latent_poison, fresh_dir, drop_dir),
		cmocka_unit_test_setup_teardown(survives_reopen, fresh_dir, drop_dir),
		cmocka_unit_test(copy_mc_survives_poison),
		cmocka_unit_test_setup_teardown(view_is_fenced, fresh_dir, drop_dir),
	};

	return cmocka_run_group_tests_name("nvdimm", tests, NULL, NULL);
}
