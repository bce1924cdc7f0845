// SPDX-License-Identifier: MIT
/* util/u64map.c: see u64map.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "u64map.h"
#include "util.h"

#define EMPTY	0
#define DELETED	UINT64_MAX

void u64map_init(struct u64map *m)
{
	memset(m, 0, sizeof(*m));
}

void u64map_free(struct u64map *m)
{
	free(m->slot);
	u64map_init(m);
}

static int u64map_resize(struct u64map *m, size_t cap)
{
	struct u64map_slot *old = m->slot;
	size_t oldcap = m->cap, i;

	m->slot = calloc(cap, sizeof(*m->slot));
	if (!m->slot) {
		m->slot = old;
		return -ENOMEM;
	}
	m->cap = cap;
	m->nr = m->used = 0;
	for (i = 0; i < oldcap; i++) {
		if (old[i].key != EMPTY && old[i].key != DELETED) {
			size_t h = mf_hash64(old[i].key) & (cap - 1);

			while (m->slot[h].key != EMPTY)
				h = (h + 1) & (cap - 1);
			m->slot[h] = old[i];
			m->nr++;
			m->used++;
		}
	}
	free(old);
	return 0;
}

/* The slot holding k (stored form), or NULL. */
static struct u64map_slot *find(const struct u64map *m, uint64_t k)
{
	size_t h, i;

	/* keys UINT64_MAX - 1 and UINT64_MAX cannot be stored (put refuses
	 * them); their stored forms would be the empty and deleted marks */
	if (!m->cap || k == EMPTY || k == DELETED)
		return NULL;
	h = mf_hash64(k) & (m->cap - 1);
	for (i = 0; i < m->cap; i++, h = (h + 1) & (m->cap - 1)) {
		if (m->slot[h].key == EMPTY)
			return NULL;
		if (m->slot[h].key == k)
			return &m->slot[h];
	}
	return NULL;
}

int u64map_put(struct u64map *m, uint64_t key, uint64_t val)
{
	uint64_t k = key + 1;
	struct u64map_slot *s;
	size_t h, del = SIZE_MAX;

	if (key >= UINT64_MAX - 1)
		return -EINVAL;
	s = find(m, k);
	if (s) {
		s->val = val;
		return 0;
	}
	if ((m->used + 1) * 4 > m->cap * 3) {
		size_t cap = m->cap ? m->cap : 16;

		if ((m->nr + 1) * 2 > cap)
			cap *= 2;
		if (u64map_resize(m, cap))
			return -ENOMEM;
	}
	h = mf_hash64(k) & (m->cap - 1);
	while (m->slot[h].key != EMPTY) {
		if (m->slot[h].key == DELETED && del == SIZE_MAX)
			del = h;
		h = (h + 1) & (m->cap - 1);
	}
	if (del != SIZE_MAX) {
		h = del;
	} else {
		m->used++;
	}
	m->slot[h].key = k;
	m->slot[h].val = val;
	m->nr++;
	return 0;
}

bool u64map_get(const struct u64map *m, uint64_t key, uint64_t *val)
{
	const struct u64map_slot *s = find(m, key + 1);

	if (s && val)
		*val = s->val;
	return s != NULL;
}

bool u64map_del(struct u64map *m, uint64_t key)
{
	struct u64map_slot *s = find(m, key + 1);

	if (!s)
		return false;
	s->key = DELETED;
	s->val = 0;
	m->nr--;
	return true;
}

int u64map_for_each(const struct u64map *m, int (*fn)(uint64_t key, uint64_t val, void *arg),
		    void *arg)
{
	size_t i;
	int r;

	for (i = 0; i < m->cap; i++) {
		if (m->slot[i].key == EMPTY || m->slot[i].key == DELETED)
			continue;
		r = fn(m->slot[i].key - 1, m->slot[i].val, arg);
		if (r)
			return r;
	}
	return 0;
}
