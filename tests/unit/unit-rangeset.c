// SPDX-License-Identifier: MIT
/* Unit tests: util/rangeset (bad sectors) and util/u64set (page sets), util/u64map. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdlib.h>

#include "../../src/util/rangeset.h"
#include "../../src/util/u64map.h"
#include "../../src/util/u64set.h"

static void expect_ranges(const struct rangeset *rs, const uint64_t *want, size_t n)
{
	uint64_t total = 0;
	size_t i;

	assert_int_equal(rs->nr, n);
	for (i = 0; i < n; i++) {
		assert_int_equal(rs->r[i].start, want[2 * i]);
		assert_int_equal(rs->r[i].count, want[2 * i + 1]);
		total += want[2 * i + 1];
	}
	assert_int_equal(rs->total, total);
}

static void set_merges(void **state)
{
	struct rangeset rs;

	(void)state;
	rangeset_init(&rs);
	assert_int_equal(rangeset_set(&rs, 10, 5), 0);
	assert_int_equal(rangeset_set(&rs, 30, 5), 0);
	expect_ranges(&rs, (uint64_t[]){ 10, 5, 30, 5 }, 2);
	/* touching on the left and right merges */
	assert_int_equal(rangeset_set(&rs, 15, 5), 0);
	assert_int_equal(rangeset_set(&rs, 25, 5), 0);
	expect_ranges(&rs, (uint64_t[]){ 10, 10, 25, 10 }, 2);
	/* a span over both */
	assert_int_equal(rangeset_set(&rs, 12, 20), 0);
	expect_ranges(&rs, (uint64_t[]){ 10, 25 }, 1);
	/* contained, and before everything */
	assert_int_equal(rangeset_set(&rs, 11, 2), 0);
	assert_int_equal(rangeset_set(&rs, 0, 1), 0);
	expect_ranges(&rs, (uint64_t[]){ 0, 1, 10, 25 }, 2);
	assert_int_equal(rangeset_set(&rs, UINT64_MAX - 1, 4), -ERANGE);
	rangeset_free(&rs);
}

static void clear_splits(void **state)
{
	struct rangeset rs;

	(void)state;
	rangeset_init(&rs);
	rangeset_set(&rs, 0, 32);
	assert_int_equal(rangeset_clear(&rs, 8, 16), 16);
	expect_ranges(&rs, (uint64_t[]){ 0, 8, 24, 8 }, 2);
	assert_int_equal(rangeset_clear(&rs, 4, 24), 8);
	expect_ranges(&rs, (uint64_t[]){ 0, 4, 28, 4 }, 2);
	assert_int_equal(rangeset_clear(&rs, 100, 5), 0);
	assert_int_equal(rangeset_clear(&rs, 0, 100), 8);
	expect_ranges(&rs, NULL, 0);
	rangeset_free(&rs);
}

static void check_and_lookup(void **state)
{
	struct rangeset rs;

	(void)state;
	rangeset_init(&rs);
	rangeset_set(&rs, 16, 1);
	rangeset_set(&rs, 100, 10);
	assert_false(rangeset_check(&rs, 0, 16));
	assert_true(rangeset_check(&rs, 0, 17));
	assert_true(rangeset_check(&rs, 109, 5));
	assert_false(rangeset_check(&rs, 110, 5));
	assert_false(rangeset_check(&rs, 17, 83));
	assert_false(rangeset_check(&rs, 16, 0));
	assert_int_equal(rangeset_lookup(&rs, 0), 0);
	assert_int_equal(rangeset_lookup(&rs, 17), 1);
	assert_int_equal(rangeset_lookup(&rs, 200), 2);
	rangeset_free(&rs);
}

static int collect(uint64_t b, void *arg)
{
	uint64_t **p = arg;

	*(*p)++ = b;
	return 0;
}

static void blocks(void **state)
{
	struct rangeset rs;
	uint64_t got[16], *p = got;

	(void)state;
	rangeset_init(&rs);
	/* sectors 7-8 straddle pages 0 and 1; 9 is page 1 again; 40 page 5 */
	rangeset_set(&rs, 7, 2);
	rangeset_set(&rs, 10, 1);
	rangeset_set(&rs, 40, 1);
	assert_int_equal(rangeset_nr_blocks(&rs, 3), 3);
	rangeset_for_each_block(&rs, 3, 0, 100, collect, &p);
	assert_int_equal(p - got, 3);
	assert_int_equal(got[0], 0);
	assert_int_equal(got[1], 1);
	assert_int_equal(got[2], 5);
	p = got;
	rangeset_for_each_block(&rs, 3, 1, 5, collect, &p);
	assert_int_equal(p - got, 1);
	assert_int_equal(got[0], 1);
	rangeset_free(&rs);
}

static void many_ranges(void **state)
{
	struct rangeset rs;
	uint64_t i;

	(void)state;
	rangeset_init(&rs);
	/* 10,000 poisoned pages, in a scattered order */
	for (i = 0; i < 10000; i++)
		assert_int_equal(rangeset_set(&rs, ((i * 7919) % 10000) * 64, 8), 0);
	assert_int_equal(rs.nr, 10000);
	assert_int_equal(rangeset_nr_blocks(&rs, 3), 10000);
	for (i = 1; i < rs.nr; i++)
		assert_true(rs.r[i - 1].start + rs.r[i - 1].count < rs.r[i].start);
	rangeset_free(&rs);
}

/* Runs within a window, clipped, less another set's members. */
static void runs_less_another_set(void **state)
{
	struct rangeset rs, minus;
	struct range *r;

	(void)state;
	rangeset_init(&rs);
	rangeset_init(&minus);
	assert_int_equal(rangeset_set(&rs, 10, 20), 0);		/* 10..29 */
	assert_int_equal(rangeset_set(&rs, 40, 5), 0);		/* 40..44 */
	assert_int_equal(rangeset_set(&minus, 15, 3), 0);	/* 15..17 */
	assert_int_equal(rangeset_set(&minus, 40, 5), 0);
	assert_int_equal(rangeset_runs(&rs, NULL, 12, 42, &r), 2);
	assert_int_equal(r[0].start, 12);
	assert_int_equal(r[0].count, 18);
	assert_int_equal(r[1].start, 40);
	assert_int_equal(r[1].count, 2);
	free(r);
	assert_int_equal(rangeset_runs(&rs, &minus, 0, 100, &r), 2);
	assert_int_equal(r[0].start, 10);
	assert_int_equal(r[0].count, 5);
	assert_int_equal(r[1].start, 18);
	assert_int_equal(r[1].count, 12);
	free(r);
	assert_int_equal(rangeset_runs(&rs, NULL, 30, 40, &r), 0);
	free(r);
	rangeset_free(&rs);
	rangeset_free(&minus);
}

static void u64set_basics(void **state)
{
	struct u64set s;
	uint64_t i;

	(void)state;
	u64set_init(&s);
	assert_false(u64set_has(&s, 0));
	for (i = 0; i < 5000; i++)
		assert_int_equal(u64set_add(&s, i * 3), 1);
	assert_int_equal(u64set_add(&s, 3), 0);
	assert_int_equal(s.nr, 5000);
	for (i = 0; i < 5000; i += 2)
		assert_true(u64set_del(&s, i * 3));
	assert_false(u64set_del(&s, 0));
	for (i = 0; i < 5000; i++)
		assert_int_equal(u64set_has(&s, i * 3), i % 2 == 1);
	assert_false(u64set_has(&s, 1));
	assert_int_equal(u64set_add(&s, UINT64_MAX), -EINVAL);
	u64set_free(&s);
}

/* The two keys a table cannot hold are never found, even where deleted
 * entries left their marks. */
static void reserved_keys_never_match(void **state)
{
	struct u64map m;
	struct u64set s;
	uint64_t i, v = 0;

	(void)state;
	u64map_init(&m);
	u64set_init(&s);
	for (i = 0; i < 64; i++) {
		assert_int_equal(u64map_put(&m, i, i + 100), 0);
		assert_int_equal(u64set_add(&s, i), 1);
	}
	for (i = 0; i < 64; i++) {
		assert_true(u64map_del(&m, i));
		assert_true(u64set_del(&s, i));
	}
	assert_int_equal(u64map_put(&m, UINT64_MAX - 1, 1), -EINVAL);
	assert_false(u64map_get(&m, UINT64_MAX - 1, &v));
	assert_false(u64map_get(&m, UINT64_MAX, &v));
	assert_false(u64map_del(&m, UINT64_MAX - 1));
	assert_false(u64set_has(&s, UINT64_MAX - 1));
	assert_false(u64set_del(&s, UINT64_MAX - 1));
	assert_int_equal(m.nr, 0);
	assert_int_equal(s.nr, 0);
	u64map_free(&m);
	u64set_free(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(set_merges),
		cmocka_unit_test(clear_splits),
		cmocka_unit_test(check_and_lookup),
		cmocka_unit_test(blocks),
		cmocka_unit_test(many_ranges),
		cmocka_unit_test(runs_less_another_set),
		cmocka_unit_test(u64set_basics),
		cmocka_unit_test(reserved_keys_never_match),
	};

	return cmocka_run_group_tests_name("rangeset", tests, NULL, NULL);
}
