/* SPDX-License-Identifier: MIT */
/*
 * mm/mm.h: the memory-failure engine (what mm/memory-failure.c and the
 * dax parts of mm/madvise.c are in Linux).
 *
 *  - tasks (processes that map dax devices) and their mappings (vmas),
 *    linked into each device's i_mmap: the reverse map;
 *  - behaviour profiles: which kernel's rules decide who is signalled,
 *    with which address and size, and what is logged;
 *  - memory_failure(): lock the entry, mark the page poisoned, collect
 *    the mappers, unmap, signal, account;
 *  - madvise_inject_error(): MADV_HWPOISON / MADV_SOFT_OFFLINE.
 *
 * The engine never talks to processes itself: it asks through struct
 * mf_peer_ops (fence/zap/query a batch of mappings in each process and
 * wait; send a signal; kill), which the daemon implements over its
 * sockets and the unit tests implement in one process.
 */
#ifndef MF_MM_H
#define MF_MM_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "../dax/dax.h"
#include "../uapi/mf_proto.h"
#include "../util/list.h"
#include "../util/u64set.h"

#define MF_COMM_MAX	16

/* memory_failure() flags */
#define MF_ACTION_REQUIRED	(1u << 0)	/* the caller consumed the poison */
#define MF_SW_SIMULATED		(1u << 1)	/* madvise / injection */

/* shootdown operations on one mapping, done in this order */
#define MF_OP_QUERY	(1u << 0)	/* report whether the unit is mapped */
#define MF_OP_FENCE	(1u << 1)	/* fence the poisoned page */
#define MF_OP_ZAP	(1u << 2)	/* unmap the unit (the data stays) */
#define MF_OP_UNFENCE	(1u << 3)	/* lift the fence: the poison is gone */
#define MF_OP_REMAP	(1u << 4)	/* fsdax: the unit has a new block, at remap_off */

/* siginfo codes, as <signal.h> has them */
#define MF_BUS_MCEERR_AR	4
#define MF_BUS_MCEERR_AO	5

enum mf_result { MF_IGNORED, MF_FAILED, MF_DELAYED, MF_RECOVERED };

/*
 * A behaviour profile: the rules of one kernel release for dax pages.
 * See doc/profiles.md for where each rule comes from.
 */
struct mf_profile {
	unsigned id;			/* MF_PROFILE_* of the wire protocol */
	const char *name;
	const char *desc;
	/* 4.19: every mapper is collected whatever its early-kill policy,
	 * and the signal goes to its main thread */
	bool force_early;
	/* 6.12: devdax pages are compound: si_addr is the unit's start */
	bool addr_unit_start;
	/* 4.19.0-4.19.80: a mapper whose address cannot be found is
	 * SIGKILLed (4.19.81+ and 6.x drop it silently) */
	bool kill_unmapped;
	/* 4.19: madvise(MADV_HWPOISON) skips pages already poisoned */
	bool madvise_skip_poisoned;
	/* 6.12: madvise steps by the folio (the unit), 4.19 by 4 KiB */
	bool madvise_step_unit;
	/* 4.19.0-4.19.190: unmap_mapping_range(mapping, start, start + size, 0) */
	bool unmap_len_is_end;
	/* "Sending SIGBUS to" (6.12) or "Killing" (4.19) */
	const char *kill_verb;
	/*
	 * Ordinary memory (the rest of the machine's RAM, not device DAX):
	 * 6.11+ passes MF_ACTION_REQUIRED from madvise(MADV_HWPOISON), so
	 * the caller gets BUS_MCEERR_AR during the call; before, nothing
	 * until the first access.
	 */
	bool madvise_action_required;
	/* 6.3+: /sys/devices/system/node/nodeN/memory_failure/ exists */
	bool node_counters;
	/* 6.11+: vm.enable_soft_offline exists */
	bool enable_soft_offline;
	/* the swap type of a hwpoison entry in /proc/PID/pagemap */
	unsigned hwpoison_swp_type;
	/* before 6.4 unpoison_memory() printed "Unpoison: Software-unpoisoned
	 * page %#lx"; since, "Unpoison: %#lx: software-unpoisoned page" */
	bool unpoison_pfn_last;
	/* before 6.11 soft_offline_page() said "soft_offline_page: %#lx page
	 * already poisoned"; since, "Soft offline: %#lx: page already
	 * poisoned" (observed on 6.1 and 6.12) */
	bool soft_offline_func_prefix;
	/* fsdax: a fault on a page the driver lists as bad gives BUS_ADRERR
	 * (6.1) rather than BUS_MCEERR_AR with the page's size (6.12) */
	bool fsdax_badblock_adrerr;
};

const struct mf_profile *mf_profile_find(const char *name);
const struct mf_profile *mf_profile_by_id(unsigned id);
/* "linux-6.12, linux-4.19, linux-4.19.0" */
const char *mf_profile_names(void);
/* linux-6.12 */
const struct mf_profile *mf_profile_default(void);

/* A process that maps dax devices (its mm_struct and thread group). */
struct mf_task {
	uint64_t id;			/* never reused (pids are) */
	pid_t pid;
	uid_t uid;
	char comm[MF_COMM_MAX];
	struct list_node vmas;
	unsigned nr_vmas;
	void *peer;			/* the daemon's session */
	struct u64set ram_private;	/* pfns of RAM frames it was shown (ram.c) */
	struct u64set ram_shared;
};

/* One mapping of a dax device in a task. */
struct mf_vma {
	struct list_node i_mmap;	/* in dax->i_mmap */
	struct list_node task_node;	/* in task->vmas */
	struct mf_task *task;
	struct dax_device *dax;
	uint64_t id;			/* chosen by the task */
	uint64_t start, len;		/* user addresses */
	uint64_t pgoff;			/* first device page mapped; of a file: file page */
	uint64_t ino;			/* fsdax: the file's inode; 0: the device itself */
	int prot;
	/*
	 * fsdax: file pages the mapping never had in its page tables, as
	 * their blocks were known bad when it was made (a fork child's copy:
	 * when it was copied; a piece: its whole's) (sorted).  Their
	 * fault is the driver's refusal, not a machine check.
	 */
	uint64_t *unfaulted;
	uint32_t nr_unfaulted;
};

void mf_task_init(struct mf_task *t, pid_t pid, uid_t uid, const char *comm,
		  void *peer);
/* Unlink every mapping of the task (it exited or execed). */
void mf_task_exit(struct mf_task *t);

#define MF_MAX_VMAS	65530	/* vm.max_map_count's default */

int mf_vma_insert(struct mf_task *t, struct dax_device *dax, uint64_t id,
		  uint64_t start, uint64_t len, uint64_t pgoff, int prot,
		  struct mf_vma **out);
/* A mapping of file `ino` of an fsdax namespace, from file page pgoff. */
int mf_vma_insert_file(struct mf_task *t, struct dax_device *dax, uint64_t id,
		       uint64_t start, uint64_t len, uint64_t ino, uint64_t pgoff, int prot,
		       struct mf_vma **out);
struct mf_vma *mf_vma_find(const struct mf_task *t, uint64_t id);
void mf_vma_remove(struct mf_vma *vma);
/* Whether file page idx was never faulted into the mapping. */
bool mf_vma_unfaulted(const struct mf_vma *vma, uint64_t idx);
/* A piece of a cut file mapping takes the unfaulted pages of the whole it
 * came from; -ENOENT: it was cut from nothing (a fork child's copy). */
int mf_vma_inherit_unfaulted(struct mf_vma *piece);

static inline bool vma_covers(const struct mf_vma *vma, uint64_t page)
{
	return page >= vma->pgoff && page < vma->pgoff + (vma->len >> 12);
}

/* User address of device page (file page, for a file) `page` in the mapping. */
static inline uint64_t vma_address(const struct mf_vma *vma, uint64_t page)
{
	return vma->start + ((page - vma->pgoff) << 12);
}

/* One batch of shootdown work for one task. */
struct mf_sd_work {
	struct mf_vma *vma;
	uint64_t page_addr;		/* fence / unfence / query */
	uint64_t page_len;
	uint64_t unit_addr;		/* zap */
	uint64_t unit_len;
	uint64_t remap_off;		/* MF_OP_REMAP: namespace bytes */
	unsigned ops;
	unsigned shift;			/* the size it maps the page at (12, 21, 30) */
	bool present;			/* result of MF_OP_QUERY */
	int error;
};

struct mf_shootdown {
	struct mf_task *task;
	struct mf_sd_work *w;
	unsigned n;
	/* filled in by the peer */
	bool acked;
	int fence_error;		/* answered, but a fence failed (-errno) */
	pid_t early_tid;		/* first early-kill thread, 0 if none */
	pid_t main_tid;
	char early_comm[MF_COMM_MAX];
	char main_comm[MF_COMM_MAX];
};

struct mf_engine;
struct mf_frame;
struct mf_ram_sd;

struct mf_peer_ops {
	/*
	 * Send each task its batch, wait for every answer or the timeout,
	 * fill in the results.  A task that does not answer is left with
	 * acked == false: the engine kills it.
	 */
	void (*shootdown)(struct mf_engine *mf, struct mf_shootdown *sd, unsigned n);
	/* Deliver SIGBUS with this code to one thread of the task.  It may
	 * return before the signal is queued; signal_sync() waits for that. */
	int (*signal)(struct mf_engine *mf, struct mf_task *t, pid_t tid, int code,
		      uint64_t addr, unsigned lsb);
	/* Every signal sent so far is queued to its thread (or failed). */
	void (*signal_sync)(struct mf_engine *mf);
	/* SIGKILL the task (through its pidfd). */
	int (*kill)(struct mf_engine *mf, struct mf_task *t);
	/* memory_failure_recovery is 0: kill every client. */
	void (*panic)(struct mf_engine *mf);
	/* One log line, without the newline. level: 3 err, 6 info. */
	void (*log)(struct mf_engine *mf, int level, const char *line);
	/* Something happened (seq and time are the callee's to fill). */
	void (*event)(struct mf_engine *mf, struct mf_event *ev);
	/*
	 * Ordinary memory: ask the processes that may map frame f (its
	 * owner, for a private frame; every process, for a shared one) to do
	 * ops (MF_OP_*) on every mapping of it they have, and wait.  *out
	 * gets one entry per process that maps it or did not answer (acked
	 * false), to be freed by the caller.  0 or -ENOMEM.
	 */
	int (*ram_shootdown)(struct mf_engine *mf, const struct mf_frame *f, unsigned ops,
			     struct mf_ram_sd **out, unsigned *n);
};

/* The thread on whose behalf memory_failure() runs ("current"). */
struct mf_current {
	struct mf_task *task;		/* NULL: not a mapping process */
	pid_t tid;
	char comm[MF_COMM_MAX];
};

/* What the current thread must raise on itself before it goes on. */
struct mf_raise {
	int signo;			/* 0, SIGBUS */
	int code;
	uint64_t addr;
	unsigned lsb;
};

struct mf_ram;

struct mf_engine {
	const struct mf_profile *profile;
	struct nd_region *region;
	int early_kill;			/* vm.memory_failure_early_kill */
	int recovery;			/* vm.memory_failure_recovery */
	unsigned unmap_timeout_ms;
	bool panicked;
	struct mf_stat node;		/* node0's memory_failure counters */
	uint64_t poisoned_pages;	/* HardwareCorrupted, in pages */
	uint64_t frame_gen;		/* bumps when a RAM page moves (ram.c) */
	int enable_soft_offline;	/* vm.enable_soft_offline */
	bool hw_memory_failure;		/* a failure not simulated: no more unpoison */
	struct mf_ram *ram;		/* ordinary memory (ram.c), made on first use */
	const struct mf_peer_ops *ops;
	void *priv;			/* the ops' context */
};

void mf_engine_init(struct mf_engine *mf, struct nd_region *region,
		    const struct mf_profile *profile,
		    const struct mf_peer_ops *ops, void *priv);

/*
 * memory_failure(): handle poison at pfn.  With MF_ACTION_REQUIRED and a
 * current task that maps the page, *raise says what that thread must
 * raise (BUS_MCEERR_AR).  Returns 0 (recovered), -ENXIO (not device
 * memory), -EBUSY (no owner), -EIO (after a panic), or another -errno.
 */
int memory_failure(struct mf_engine *mf, uint64_t pfn, unsigned flags,
		   const struct mf_current *cur, struct mf_raise *raise);

#define MF_MADV_HWPOISON	100
#define MF_MADV_SOFT_OFFLINE	101

/*
 * madvise(start, len, MADV_HWPOISON or MADV_SOFT_OFFLINE) over device
 * memory mapped by vma, for cur (the caller checked privilege).  Every
 * page it poisons becomes real poison: its sectors go bad on the media.
 */
int madvise_inject_error(struct mf_engine *mf, struct mf_vma *vma, uint64_t start,
			 uint64_t len, int advice, const struct mf_current *cur,
			 struct mf_raise *raise);

/*
 * Poison that arrived on the media without memory_failure() (an injected
 * error): fence the pages (sorted, distinct) in every mapper, so that the
 * first touch is a consumption.  mf_media_cleared() gives them back after
 * the error was cleared.  Mappers that do not answer are killed.
 */
int mf_media_poisoned(struct mf_engine *mf, struct dax_device *dax,
		      const uint64_t *pages, size_t n);
int mf_media_cleared(struct mf_engine *mf, struct dax_device *dax,
		     const uint64_t *pages, size_t n);

/* action_result(): one log line, one event, the counters. */
void mf_action_result(struct mf_engine *mf, uint64_t pfn, unsigned page_type,
		      enum mf_result result, struct mf_stat *dev_stat);
/* memory_failure_recovery is 0: the kernel panics. */
void mf_panic(struct mf_engine *mf, uint64_t pfn);

/* Report an event about the page at pfn (dev filled from it). */
void mf_event_pfn(struct mf_engine *mf, struct mf_event *ev, uint64_t pfn);

/* After a shootdown: a mapper that failed to fence counts as silent. */
void mf_shootdown_check_fences(struct mf_shootdown *sd, unsigned n);

/*
 * ---- ordinary memory: the machine's RAM (ram.c, memory-failure-ram.c) ----
 *
 * The rest of a program's memory is the real kernel's, but its poison is
 * memfail's: a program under the shim sees emulated page frames.  A frame
 * is made the first time a page is named to the daemon (its pfn shown in
 * /proc/self/pagemap, or the page poisoned) and keyed by what the page is:
 * a private page by its process and address, a shared one (shmem, memfd,
 * tmpfs, page cache, shared hugetlb) by (device, inode, offset), so that
 * every process mapping it sees the same pfn.  Frames are sized by what
 * programs were shown, never by the size of their memory.
 */
enum mf_ram_kind {
	MF_RAM_ANON = 1,		/* anonymous private (THP too) */
	MF_RAM_SHMEM,			/* shared anonymous, memfd, tmpfs, SysV shm */
	MF_RAM_FILE,			/* page cache of a disk file system */
	MF_RAM_HUGETLB,			/* hugetlb, private or shared */
};

/* what a page is like now, as a mapper sees it */
#define MF_RAM_DIRTY		(1u << 0)	/* page cache written since writeback */
#define MF_RAM_MLOCKED		(1u << 1)
#define MF_RAM_THP		(1u << 2)

/* the emulated RAM: pfns [MF_RAM_PFN_START, MF_RAM_PFN_END), below the region */
#define MF_RAM_PFN_START	0x1000ULL
#define MF_RAM_PFN_END		0x100000ULL

struct mf_ram_key {
	uint64_t a, b, c;		/* private: task id, address, 0; shared: dev, ino, offset */
	uint32_t shared;
	uint32_t pad;
};

struct mf_frame {
	uint64_t pfn;			/* a hugetlb page's head: it spans 1 << (shift - 12) */
	struct mf_ram_key key;
	unsigned kind;			/* MF_RAM_*; 0: a free page */
	unsigned state;			/* MF_RAM_DIRTY ... */
	unsigned shift;			/* 12, or the hugetlb page's */
	bool hwpoison;			/* PageHWPoison (of the head, for hugetlb) */
	bool attached;			/* its key still names it */
	uint32_t *raw_hwp;		/* hugetlb: which of its pages were hit */
	unsigned nr_raw_hwp;
	unsigned users;			/* shared: live tasks that were shown its pfn */
	uid_t uid;			/* whose memory it is */
	pid_t pid;			/* the process that named it */
	/* private: as its owner saw it when it poisoned it, shared
	 * copy-on-write with relatives (family 0: not) */
	struct mf_ram_cow cow;
	struct mf_frame *key_next;	/* in its key's hash chain (ram.c) */
};

/* One mapping of a frame in a process, as its answer says. */
#define MF_RAM_SD_MAPS	16
struct mf_ram_map {
	uint64_t addr;			/* user address of the frame (the unit, for hugetlb) */
	bool present;			/* in its page tables */
	unsigned state;			/* MF_RAM_DIRTY ... as it sees the page */
};

struct mf_ram_sd {
	struct mf_task *task;
	bool acked;
	int error;			/* a fence failed */
	unsigned nr;
	struct mf_ram_map map[MF_RAM_SD_MAPS];
	pid_t early_tid, main_tid;
	char early_comm[MF_COMM_MAX];
	char main_comm[MF_COMM_MAX];
};

/* The frame a page is (made if new), shown to t: 0, -ENOSPC (the RAM is
 * full) or -ENOMEM. */
int mf_ram_frame(struct mf_engine *mf, const struct mf_ram_key *key, unsigned kind,
		 unsigned shift, struct mf_task *t, struct mf_frame **out);
/* The frame at pfn (a hugetlb page's for any of its pfns), or NULL. */
struct mf_frame *mf_ram_lookup(struct mf_engine *mf, uint64_t pfn);
/* The frame a key names now, if any (nothing is made). */
struct mf_frame *mf_ram_find(struct mf_engine *mf, const struct mf_ram_key *key);
/* A poisoned shmem page truncated or punched out of its file. */
int truncate_ram_page(struct mf_engine *mf, struct mf_frame *f);
bool mf_ram_pfn_valid(uint64_t pfn);
/* The frame leaves its key: the page moved (soft offline) or was dropped. */
void mf_ram_detach(struct mf_engine *mf, struct mf_frame *f);
/* Free a frame that left its key (once no live task was shown its pfn). */
void mf_ram_release(struct mf_engine *mf, struct mf_frame *f);
/* The task is gone: its private frames that are not poisoned are freed,
 * and the shared ones nobody else was shown. */
void mf_ram_task_exit(struct mf_engine *mf, struct mf_task *t);
/* PageHWPoison of the page at pfn (of a hugetlb page: that page hit). */
bool mf_frame_poisoned_at(const struct mf_frame *f, uint64_t pfn);
void mf_frame_set_poison(struct mf_frame *f, uint64_t pfn);
/* Unpoison: how many pages were poisoned. */
unsigned mf_frame_clear_poison(struct mf_frame *f);
/* /proc/kpageflags of one pfn (RAM or device). */
uint64_t mf_kpageflags(struct mf_engine *mf, uint64_t pfn);
void mf_ram_free(struct mf_engine *mf);
/* Record a free pfn that was poisoned (no process has it); NULL: no room. */
struct mf_frame *mf_ram_take_free(struct mf_engine *mf, uint64_t pfn);

/* memory_failure() of RAM: the caller's address of the page in cur_addr
 * (0: cur does not map it). */
int memory_failure_ram(struct mf_engine *mf, uint64_t pfn, unsigned flags,
		       const struct mf_current *cur, uint64_t cur_addr, struct mf_raise *raise);
/*
 * madvise(MADV_HWPOISON or MADV_SOFT_OFFLINE) of one page of ordinary
 * memory at addr in cur, which is frame f (the caller checked privilege).
 */
int madvise_inject_ram(struct mf_engine *mf, struct mf_frame *f, uint64_t addr, int advice,
		       const struct mf_current *cur, struct mf_raise *raise);
/* soft_offline_page(): the page's content moves to a new frame, made
 * at once if t (NULL: unknown) may be shown it. */
int soft_offline_ram(struct mf_engine *mf, uint64_t pfn, struct mf_task *t);
/* unpoison_memory() (debugfs unpoison-pfn). */
int unpoison_memory(struct mf_engine *mf, uint64_t pfn);
/*
 * The whole memory_failure(pfn, flags) of a pfn named from outside
 * (debugfs corrupt-pfn, hard_offline_page): RAM or device memory.
 */
int memory_failure_pfn(struct mf_engine *mf, uint64_t pfn, unsigned flags);

/* printk for the engine and its callers: "fmt" without the newline. */
void mf_printk(struct mf_engine *mf, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif /* MF_MM_H */
