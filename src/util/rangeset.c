// SPDX-License-Identifier: MIT
/* util/rangeset.c: see rangeset.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "rangeset.h"

void rangeset_init(struct rangeset *rs)
{
	memset(rs, 0, sizeof(*rs));
}

void rangeset_free(struct rangeset *rs)
{
	free(rs->r);
	rangeset_init(rs);
}

static int rs_reserve(struct rangeset *rs, size_t extra)
{
	size_t cap;
	struct range *r;

	if (rs->nr + extra <= rs->cap)
		return 0;
	cap = rs->cap ? rs->cap * 2 : 16;
	while (cap < rs->nr + extra)
		cap *= 2;
	r = realloc(rs->r, cap * sizeof(*r));
	if (!r)
		return -ENOMEM;
	rs->r = r;
	rs->cap = cap;
	return 0;
}

int rangeset_reserve(struct rangeset *rs, size_t extra)
{
	return rs_reserve(rs, extra);
}

size_t rangeset_lookup(const struct rangeset *rs, uint64_t x)
{
	size_t lo = 0, hi = rs->nr;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (rs->r[mid].start + rs->r[mid].count <= x)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int rangeset_set(struct rangeset *rs, uint64_t start, uint64_t count)
{
	uint64_t end = start + count;
	size_t i, j;

	if (!count)
		return 0;
	if (end < start)
		return -ERANGE;
	if (rs_reserve(rs, 1))
		return -ENOMEM;
	/* first range that ends at or after `start`: touching ranges merge */
	i = rangeset_lookup(rs, start ? start - 1 : 0);
	for (j = i; j < rs->nr && rs->r[j].start <= end; j++) {
		if (rs->r[j].start < start)
			start = rs->r[j].start;
		if (rs->r[j].start + rs->r[j].count > end)
			end = rs->r[j].start + rs->r[j].count;
		rs->total -= rs->r[j].count;
	}
	if (j == i) {
		memmove(&rs->r[i + 1], &rs->r[i], (rs->nr - i) * sizeof(*rs->r));
		rs->nr++;
	} else if (j > i + 1) {
		memmove(&rs->r[i + 1], &rs->r[j], (rs->nr - j) * sizeof(*rs->r));
		rs->nr -= j - i - 1;
	}
	rs->r[i].start = start;
	rs->r[i].count = end - start;
	rs->total += end - start;
	return 0;
}

int64_t rangeset_clear(struct rangeset *rs, uint64_t start, uint64_t count)
{
	uint64_t end = start + count, cleared = 0;
	size_t i;

	if (!count)
		return 0;
	if (end < start)
		return -ERANGE;
	/* a clear in the middle of one range splits it: keep a slot ready */
	if (rs_reserve(rs, 1))
		return -ENOMEM;
	i = rangeset_lookup(rs, start);
	while (i < rs->nr && rs->r[i].start < end) {
		struct range *r = &rs->r[i];
		uint64_t rend = r->start + r->count;
		uint64_t cs = r->start > start ? r->start : start;
		uint64_t ce = rend < end ? rend : end;

		cleared += ce - cs;
		if (cs > r->start && ce < rend) {
			memmove(&rs->r[i + 2], &rs->r[i + 1],
				(rs->nr - i - 1) * sizeof(*rs->r));
			rs->nr++;
			rs->r[i + 1].start = ce;
			rs->r[i + 1].count = rend - ce;
			r->count = cs - r->start;
			break;
		} else if (cs > r->start) {
			r->count = cs - r->start;
			i++;
		} else if (ce < rend) {
			r->count = rend - ce;
			r->start = ce;
			i++;
		} else {
			memmove(r, r + 1, (rs->nr - i - 1) * sizeof(*rs->r));
			rs->nr--;
		}
	}
	rs->total -= cleared;
	return (int64_t)cleared;
}

bool rangeset_check(const struct rangeset *rs, uint64_t start, uint64_t count)
{
	size_t i = rangeset_lookup(rs, start);

	return count && i < rs->nr && rs->r[i].start < start + count;
}

uint64_t rangeset_count(const struct rangeset *rs, uint64_t start, uint64_t count)
{
	uint64_t end = start + count, n = 0;
	size_t i;

	for (i = rangeset_lookup(rs, start); i < rs->nr && rs->r[i].start < end; i++) {
		uint64_t s = rs->r[i].start > start ? rs->r[i].start : start;
		uint64_t e = rs->r[i].start + rs->r[i].count;

		n += (e < end ? e : end) - s;
	}
	return n;
}

ssize_t rangeset_runs(const struct rangeset *rs, const struct rangeset *minus,
		      uint64_t s, uint64_t e, struct range **out)
{
	struct range *v = NULL;
	size_t n = 0, cap = 0, i;

	for (i = rangeset_lookup(rs, s); i < rs->nr && rs->r[i].start < e; i++) {
		uint64_t a = rs->r[i].start > s ? rs->r[i].start : s;
		uint64_t b = rs->r[i].start + rs->r[i].count < e ? rs->r[i].start + rs->r[i].count : e;

		while (a < b) {
			uint64_t run_end = b;

			if (minus) {
				size_t k = rangeset_lookup(minus, a);

				if (k < minus->nr && minus->r[k].start <= a) {
					a = minus->r[k].start + minus->r[k].count;
					continue;
				}
				if (k < minus->nr && minus->r[k].start < b)
					run_end = minus->r[k].start;
			}
			if (n == cap) {
				struct range *nv;

				cap = cap ? cap * 2 : 16;
				nv = realloc(v, cap * sizeof(*nv));
				if (!nv) {
					free(v);
					return -ENOMEM;
				}
				v = nv;
			}
			v[n].start = a;
			v[n++].count = run_end - a;
			a = run_end;
		}
	}
	*out = v;
	return (ssize_t)n;
}

int rangeset_for_each_block(const struct rangeset *rs, unsigned shift,
			    uint64_t first, uint64_t last,
			    int (*fn)(uint64_t block, void *arg), void *arg)
{
	uint64_t next = first;	/* blocks below this were visited */
	size_t i;
	int ret;

	if (first >= last)
		return 0;
	for (i = rangeset_lookup(rs, first << shift); i < rs->nr && next < last; i++) {
		uint64_t b = rs->r[i].start >> shift;
		uint64_t bend = (rs->r[i].start + rs->r[i].count - 1) >> shift;

		if (b < next)
			b = next;
		for (; b <= bend && b < last; b++) {
			ret = fn(b, arg);
			if (ret)
				return ret;
		}
		if (b > next)
			next = b;
	}
	return 0;
}

uint64_t rangeset_nr_blocks(const struct rangeset *rs, unsigned shift)
{
	uint64_t n = 0, next = 0;	/* next: first block not yet counted */
	size_t i;

	for (i = 0; i < rs->nr; i++) {
		uint64_t b = rs->r[i].start >> shift;
		uint64_t bend = (rs->r[i].start + rs->r[i].count - 1) >> shift;

		if (b < next)
			b = next;
		if (bend >= b)
			n += bend - b + 1;
		if (bend + 1 > next)
			next = bend + 1;
	}
	return n;
}
