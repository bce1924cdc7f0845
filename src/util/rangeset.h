/* SPDX-License-Identifier: MIT */
/*
 * util/rangeset.h: a set of 64-bit numbers kept as sorted, merged,
 * non-overlapping ranges.  A namespace's bad sectors (what the kernel's
 * badblocks list holds) and the pages a device has handed out are such
 * sets.  Memory is proportional to the number of ranges, never to the
 * span they live in.
 */
#ifndef MF_UTIL_RANGESET_H
#define MF_UTIL_RANGESET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct range {
	uint64_t start;
	uint64_t count;
};

struct rangeset {
	struct range *r;
	size_t nr;
	size_t cap;
	uint64_t total;		/* members */
};

void rangeset_init(struct rangeset *rs);
void rangeset_free(struct rangeset *rs);

/* Room for `extra` more ranges, so that no change needs to allocate. */
int rangeset_reserve(struct rangeset *rs, size_t extra);
/* Add [start, start+count); merges with neighbours. 0, -ENOMEM, -ERANGE. */
int rangeset_set(struct rangeset *rs, uint64_t start, uint64_t count);
/* Remove [start, start+count); returns how many members were removed, or
 * -ENOMEM (a range split in two needs one more slot), -ERANGE. */
int64_t rangeset_clear(struct rangeset *rs, uint64_t start, uint64_t count);
/* Is any member in [start, start+count)? */
bool rangeset_check(const struct rangeset *rs, uint64_t start, uint64_t count);
/* How many members are in [start, start+count)? */
uint64_t rangeset_count(const struct rangeset *rs, uint64_t start, uint64_t count);
/* Index of the first range that ends after `x`, or rs->nr. */
size_t rangeset_lookup(const struct rangeset *rs, uint64_t x);

/*
 * The runs of members of rs within [start, end), less the members of
 * `minus` (NULL: none), copied into *out (malloc()ed, NULL when none):
 * what a change is about to touch, taken before it changes rs.  Returns
 * how many, or -ENOMEM.
 */
ssize_t rangeset_runs(const struct rangeset *rs, const struct rangeset *minus,
		      uint64_t start, uint64_t end, struct range **out);

/*
 * Blocks of 2^shift members (e.g. pages of 8 sectors: shift 3): visit, in
 * order, every block in [first, last) that holds at least one member.
 * Stops when fn returns non-zero and returns that value.
 */
int rangeset_for_each_block(const struct rangeset *rs, unsigned shift,
			    uint64_t first, uint64_t last,
			    int (*fn)(uint64_t block, void *arg), void *arg);
/* Number of blocks of 2^shift members holding at least one member. */
uint64_t rangeset_nr_blocks(const struct rangeset *rs, unsigned shift);

#endif /* MF_UTIL_RANGESET_H */
