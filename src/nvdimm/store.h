/* SPDX-License-Identifier: MIT */
/*
 * nvdimm/store.h: durable state of the emulated NVDIMM in SQLite (WAL,
 * synchronous=FULL): namespaces and two sets of sector ranges each: the
 * known bad sectors (badblock) and every poisoned sector (poison).
 * A call that returns 0 has reached the disk; the in-memory state is
 * changed by the caller only after that, so a crash (kill -9) at any
 * point leaves either the old or the new state, never a half.
 */
#ifndef MF_NVDIMM_STORE_H
#define MF_NVDIMM_STORE_H

#include <stdbool.h>
#include <stdint.h>

struct nd_store;
struct range;

enum nd_store_set { ND_STORE_BADBLOCK, ND_STORE_POISON };

struct nd_store_ns {
	uint32_t id;
	const char *uuid;
	uint32_t mode;
	uint64_t size, align, phys_base;
	uint32_t uid, gid, perm;
	const char *data_path;
};

int nd_store_open(const char *path, struct nd_store **out);
void nd_store_close(struct nd_store *st);

int nd_store_begin(struct nd_store *st);
int nd_store_commit(struct nd_store *st);
void nd_store_rollback(struct nd_store *st);

int nd_store_ns_insert(struct nd_store *st, const struct nd_store_ns *ns);
/* Deletes the namespace with its sector ranges. */
int nd_store_ns_delete(struct nd_store *st, uint32_t id);
/* Replace the ranges of one set of namespace `ns` that start in [lo, hi)
 * by r[0..n). */
int nd_store_ranges_replace(struct nd_store *st, enum nd_store_set set, uint32_t ns,
			    uint64_t lo, uint64_t hi, const struct range *r, size_t n);

int nd_store_for_each_ns(struct nd_store *st,
			 int (*fn)(const struct nd_store_ns *ns, void *arg), void *arg);
int nd_store_for_each_range(struct nd_store *st, enum nd_store_set set,
			    int (*fn)(uint32_t ns, uint64_t sector, uint64_t count, void *arg),
			    void *arg);

#endif /* MF_NVDIMM_STORE_H */
