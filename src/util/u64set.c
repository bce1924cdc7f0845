// SPDX-License-Identifier: MIT
/* util/u64set.c: see u64set.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "u64set.h"
#include "util.h"

#define EMPTY	0
#define DELETED	UINT64_MAX

void u64set_init(struct u64set *s)
{
	memset(s, 0, sizeof(*s));
}

void u64set_free(struct u64set *s)
{
	free(s->slot);
	u64set_init(s);
}

static int u64set_resize(struct u64set *s, size_t cap)
{
	uint64_t *old = s->slot;
	size_t oldcap = s->cap, i;

	s->slot = calloc(cap, sizeof(*s->slot));
	if (!s->slot) {
		s->slot = old;
		return -ENOMEM;
	}
	s->cap = cap;
	s->nr = s->used = 0;
	for (i = 0; i < oldcap; i++) {
		uint64_t v = old[i];

		if (v != EMPTY && v != DELETED) {
			size_t h = mf_hash64(v) & (cap - 1);

			while (s->slot[h] != EMPTY)
				h = (h + 1) & (cap - 1);
			s->slot[h] = v;
			s->nr++;
			s->used++;
		}
	}
	free(old);
	return 0;
}

int u64set_add(struct u64set *s, uint64_t key)
{
	uint64_t v = key + 1;
	size_t h, del = SIZE_MAX;

	if (key == UINT64_MAX - 1 || key == UINT64_MAX)
		return -EINVAL;
	if ((s->used + 1) * 4 > s->cap * 3) {
		size_t cap = s->cap ? s->cap : 16;

		if ((s->nr + 1) * 2 > cap)
			cap *= 2;
		if (u64set_resize(s, cap))
			return -ENOMEM;
	}
	h = mf_hash64(v) & (s->cap - 1);
	while (s->slot[h] != EMPTY) {
		if (s->slot[h] == v)
			return 0;
		if (s->slot[h] == DELETED && del == SIZE_MAX)
			del = h;
		h = (h + 1) & (s->cap - 1);
	}
	if (del != SIZE_MAX)
		h = del;
	else
		s->used++;
	s->slot[h] = v;
	s->nr++;
	return 1;
}

static size_t u64set_find(const struct u64set *s, uint64_t key)
{
	uint64_t v = key + 1;
	size_t h;

	/* as in u64map: the two keys that cannot be stored are never found */
	if (!s->cap || v == EMPTY || v == DELETED)
		return SIZE_MAX;
	h = mf_hash64(v) & (s->cap - 1);
	while (s->slot[h] != EMPTY) {
		if (s->slot[h] == v)
			return h;
		h = (h + 1) & (s->cap - 1);
	}
	return SIZE_MAX;
}

bool u64set_has(const struct u64set *s, uint64_t key)
{
	return u64set_find(s, key) != SIZE_MAX;
}

bool u64set_del(struct u64set *s, uint64_t key)
{
	size_t h = u64set_find(s, key);

	if (h == SIZE_MAX)
		return false;
	s->slot[h] = DELETED;
	s->nr--;
	return true;
}

int u64set_for_each(const struct u64set *s, int (*fn)(uint64_t key, void *arg),
		    void *arg)
{
	size_t i;
	int ret;

	for (i = 0; i < s->cap; i++) {
		uint64_t v = s->slot[i];

		if (v == EMPTY || v == DELETED)
			continue;
		ret = fn(v - 1, arg);
		if (ret)
			return ret;
	}
	return 0;
}
