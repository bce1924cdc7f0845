/* SPDX-License-Identifier: MIT */
/*
 * util/u64map.h: a map from 64-bit keys to 64-bit values (open
 * addressing, linear probing), the u64set's sibling.  Sized by what is in
 * it.  Not thread-safe; the daemon is single-threaded.
 */
#ifndef MF_UTIL_U64MAP_H
#define MF_UTIL_U64MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct u64map_slot {
	uint64_t key;		/* key + 1; 0 = empty, UINT64_MAX = deleted */
	uint64_t val;
};

struct u64map {
	struct u64map_slot *slot;
	size_t cap;		/* power of two */
	size_t nr;
	size_t used;		/* nr + deleted slots */
};

void u64map_init(struct u64map *m);
void u64map_free(struct u64map *m);
/* Set key to val (replacing any value): 0 or -ENOMEM/-EINVAL. */
int u64map_put(struct u64map *m, uint64_t key, uint64_t val);
/* true and *val if key is there. */
bool u64map_get(const struct u64map *m, uint64_t key, uint64_t *val);
/* true if it was there. */
bool u64map_del(struct u64map *m, uint64_t key);
/* Visit every entry (in no order); stop when fn returns non-zero.  fn
 * must not change the map. */
int u64map_for_each(const struct u64map *m, int (*fn)(uint64_t key, uint64_t val, void *arg),
		    void *arg);

#endif /* MF_UTIL_U64MAP_H */
