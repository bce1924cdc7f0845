/* SPDX-License-Identifier: MIT */
/*
 * util/u64set.h: a set of 64-bit keys (open addressing, linear probing).
 * Used for per-namespace page sets: sized by what is in it, never by the
 * key space.  Not thread-safe; the daemon is single-threaded.
 */
#ifndef MF_UTIL_U64SET_H
#define MF_UTIL_U64SET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct u64set {
	uint64_t *slot;		/* key + 1; 0 = empty, UINT64_MAX = deleted */
	size_t cap;		/* power of two */
	size_t nr;
	size_t used;		/* nr + deleted slots */
};

void u64set_init(struct u64set *s);
void u64set_free(struct u64set *s);
/* 1 if added, 0 if already there, -ENOMEM. */
int u64set_add(struct u64set *s, uint64_t key);
bool u64set_has(const struct u64set *s, uint64_t key);
/* true if it was there. */
bool u64set_del(struct u64set *s, uint64_t key);
/* Visit every key (in no order); stop when fn returns non-zero. */
int u64set_for_each(const struct u64set *s, int (*fn)(uint64_t key, void *arg),
		    void *arg);

#endif /* MF_UTIL_U64SET_H */
