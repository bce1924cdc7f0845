/* SPDX-License-Identifier: MIT */
/*
 * uapi/mf_proto.h: the wire protocol between memfaild and its clients
 * (the memfail command, libmemfail, the preload library).
 *
 * Transport: AF_UNIX SOCK_SEQPACKET, so one message is one send and a
 * request is never seen half-written.  Every message starts with struct
 * mf_hdr; every request gets exactly one reply (type MF_REPLY) with the
 * same seq, except where noted.  All integers are host-endian: client and
 * daemon always share a machine.  Strings are fixed-size, NUL-terminated
 * and validated by the receiver.
 *
 * Connections have a role, set by the first message:
 *  - MF_ROLE_ADMIN: the memfail command and library calls that manage
 *    namespaces, inject and clear errors, read counters.
 *  - MF_ROLE_CONTROL: a mapping process's service thread.  The daemon
 *    sends it MF_CTL_* requests (fence, zap, signal) and it replies; this
 *    connection's lifetime is the process's registration.
 *  - MF_ROLE_REQUEST: a mapping process's program threads (open, mmap,
 *    madvise), attached to the process registered by its control
 *    connection (same pid).
 *  - a connection whose first message is MF_CONSUME is a one-shot fault
 *    report from a fault handler.
 */
#ifndef MF_UAPI_PROTO_H
#define MF_UAPI_PROTO_H

#include <stdint.h>

#define MF_PROTO_MAGIC		0x6d66706bU	/* "mfpk" */
#define MF_PROTO_VERSION	1
#define MF_MSG_MAX		(64 * 1024)

#define MF_NAME_LEN		32
#define MF_COMM_LEN		16
#define MF_PROFILE_LEN		32

enum mf_msg_type {
	MF_REPLY = 1,

	/* any role */
	MF_HELLO = 10,

	/* admin */
	MF_NS_CREATE = 20,
	MF_NS_DESTROY,
	MF_NS_LIST,
	MF_INJECT,
	MF_CLEAR,
	MF_BADBLOCKS,
	MF_STATS,
	MF_CONFIG_GET,
	MF_CONFIG_SET,
	MF_READ,
	MF_WRITE,
	MF_NS_GET,
	MF_INJECT_BATCH,
	MF_SCRUB_START,
	MF_SCRUB_STATUS,
	MF_SCRUB_CANCEL,
	MF_MONITOR,
	MF_HISTORY,
	MF_HISTORY_SUMMARY,
	MF_MAPPERS,

	/* request (a mapping process) */
	MF_NS_OPEN = 40,
	MF_MAP_REGISTER,
	MF_MAP_UNREGISTER,
	MF_POISON_LIST,
	MF_MADVISE,
	MF_CONSUME,

	/* daemon -> control connection */
	MF_CTL_SHOOTDOWN = 60,
	MF_CTL_SIGNAL,

	/* daemon -> monitor connection */
	MF_EVENT = 70,

	/* 80-99: fsdax, files on a namespace (request and admin) */
	/* admin */
	MF_FS_MOUNT = 80,
	MF_FS_UMOUNT,
	MF_FS_MEDIA_ERRORS,
	/* request (a mapping process) */
	MF_FS_MAP = 90,
	MF_FS_MAP_REGISTER,
	MF_FS_FIEMAP = 95,

	/* 100-129: ordinary memory and the emulated /proc and /sys views */
	/* request (a mapping process) */
	MF_RAM_MADVISE = 100,
	MF_RAM_TOUCH,
	MF_RAM_PFNS,
	MF_RAM_FILES,
	MF_RAM_TRUNCATE,
	/* request or admin */
	MF_RAM_KPAGEFLAGS = 110,
	MF_PFN_WRITE,
	MF_KMSG_READ,
	MF_KMSG_WRITE,
	/* daemon -> control connection */
	MF_CTL_RAM = 120,
};

enum mf_role {
	MF_ROLE_ADMIN = 1,
	MF_ROLE_CONTROL = 2,
	MF_ROLE_REQUEST = 3,
	MF_ROLE_FAULT = 4,
};

struct mf_hdr {
	uint32_t magic;
	uint16_t type;
	uint16_t flags;
	uint32_t len;		/* whole message, header included */
	uint32_t pad;
	uint64_t seq;
};

/* Every reply: header, then status (0 or -errno), then the payload. */
struct mf_reply {
	struct mf_hdr hdr;
	int32_t error;
	uint32_t pad;
};

/* MF_HELLO */
struct mf_hello {
	struct mf_hdr hdr;
	uint32_t version;
	uint32_t role;
	char comm[MF_COMM_LEN];
};

#define MF_PROFILE_LINUX_6_12	1
#define MF_PROFILE_LINUX_4_19	2
#define MF_PROFILE_LINUX_4_19_0	3
#define MF_PROFILE_LINUX_6_1	4

struct mf_hello_reply {
	struct mf_reply r;
	uint32_t version;
	uint32_t profile;
	char profile_name[MF_PROFILE_LEN];
	uint64_t pid;		/* the daemon's */
};

/* Namespace description, as create/list/open report it. */
#define MF_MODE_DEVDAX		1
#define MF_MODE_FSDAX		2

struct mf_ns_info {
	char name[MF_NAME_LEN];		/* namespace0.N */
	char chardev[MF_NAME_LEN];	/* dax0.N */
	char blockdev[MF_NAME_LEN];	/* pmem0.N (reserved for fsdax) */
	char uuid[40];
	uint32_t id;
	uint32_t mode;
	uint64_t size;
	uint64_t align;
	uint64_t phys_base;		/* emulated physical address */
	uint32_t uid, gid;
	uint32_t perm;			/* st_mode permission bits */
	uint32_t nr_mappings;
	uint64_t gen;			/* which namespace of that name: ids are reused */
	uint64_t badblock_count;	/* sectors */
	uint64_t nr_badblock_ranges;
	uint64_t nr_hwpoison;		/* pages memory_failure() marked */
	uint64_t latent_count;		/* poisoned sectors not in badblocks */
	uint32_t fs_shutdown;		/* fsdax: its file system is shut down */
	char fs_why[100];		/* and why */
};

/* MF_NS_CREATE */
#define MF_NS_CREATE_UID	(1u << 0)
#define MF_NS_CREATE_GID	(1u << 1)
#define MF_NS_CREATE_PERM	(1u << 2)
#define MF_NS_CREATE_SPARSE	(1u << 3)	/* do not reserve disk space */

struct mf_ns_create {
	struct mf_hdr hdr;
	uint64_t size;
	uint64_t align;
	uint32_t mode;
	uint32_t set;		/* MF_NS_CREATE_* */
	uint32_t uid, gid, perm;
	uint32_t pad;
};

struct mf_ns_reply {
	struct mf_reply r;
	struct mf_ns_info ns;
};

/* MF_NS_DESTROY, MF_NS_GET: a request that names one namespace */
struct mf_ns_name {
	struct mf_hdr hdr;
	char name[MF_NAME_LEN];	/* namespaceX.Y, daxX.Y or pmemX.Y */
};

/* MF_NS_LIST: reply is a page of namespaces starting at id >= cursor. */
struct mf_ns_list {
	struct mf_hdr hdr;
	uint32_t cursor;
	uint32_t pad;
};

#define MF_NS_LIST_MAX	64
struct mf_ns_list_reply {
	struct mf_reply r;
	uint32_t count;
	uint32_t next;		/* cursor for the next page, 0 = done */
	struct mf_ns_info ns[];
};

/* MF_INJECT / MF_CLEAR */
#define MF_INJECT_NOTIFY	(1u << 0)	/* enter into badblocks at once */
#define MF_CLEAR_ALL		(1u << 1)	/* clear every bad block */
#define MF_INJECT_REMOVE	(1u << 2)	/* uninject: forget, do not rewrite */

struct mf_range_req {
	struct mf_hdr hdr;
	char name[MF_NAME_LEN];
	uint64_t sector;
	uint64_t count;
	uint32_t flags;
	uint32_t pad;
};

struct mf_clear_reply {
	struct mf_reply r;
	uint64_t cleared;	/* sectors */
	uint64_t pages_restored;
};

/* MF_INJECT_BATCH: several ranges of one namespace, one transaction. */
#define MF_INJECT_BATCH_MAX	2048
struct mf_inject_batch {
	struct mf_hdr hdr;
	char name[MF_NAME_LEN];
	uint32_t flags;		/* MF_INJECT_NOTIFY or 0 (latent) */
	uint32_t count;
	struct {
		uint64_t sector;
		uint64_t count;
	} range[];
};

/* MF_BADBLOCKS: a page of ranges starting at sector >= cursor. */
#define MF_BB_KNOWN	0	/* the badblocks list */
#define MF_BB_LATENT	1	/* poison not found yet */
struct mf_badblocks_req {
	struct mf_hdr hdr;
	char name[MF_NAME_LEN];
	uint64_t cursor;
	uint32_t which;		/* MF_BB_* */
	uint32_t pad;
};

struct mf_bb_range {
	uint64_t sector;
	uint64_t count;
};

#define MF_BB_LIST_MAX	2048
struct mf_badblocks_reply {
	struct mf_reply r;
	uint32_t count;
	uint32_t more;
	uint64_t next;
	struct mf_bb_range range[];
};

/* MF_STATS: node counters, then one entry per namespace. */
struct mf_counters {
	uint64_t total, ignored, failed, delayed, recovered;
};

struct mf_stats_reply {
	struct mf_reply r;
	struct mf_counters node;
	uint64_t hardware_corrupted_kb;
	uint32_t count;
	uint32_t pad;
	struct {
		char name[MF_NAME_LEN];
		struct mf_counters c;
	} ns[];
};

/* MF_CONFIG_GET / MF_CONFIG_SET */
enum mf_config_key {
	MF_CFG_EARLY_KILL = 1,		/* memory_failure_early_kill */
	MF_CFG_RECOVERY,		/* memory_failure_recovery */
	MF_CFG_UNMAP_TIMEOUT_MS,
	MF_CFG_PROFILE,			/* read-only */
	MF_CFG_PANICKED,		/* read-only */
	MF_CFG_REGION_BASE,		/* read-only */
	MF_CFG_REGION_SIZE,		/* read-only */
	MF_CFG_REGION_AVAILABLE,	/* read-only */
	MF_CFG_ENABLE_SOFT_OFFLINE,	/* vm.enable_soft_offline */
	MF_CFG_STRICT_CAPS,		/* read-only: --strict-caps */
};

struct mf_config_req {
	struct mf_hdr hdr;
	uint32_t key;
	uint32_t pad;
	int64_t value;
};

struct mf_config_reply {
	struct mf_reply r;
	int64_t value;
};

/* MF_READ / MF_WRITE: driver I/O (reads of bad sectors fail with EIO;
 * writes clear the bad sectors they cover). */
#define MF_IO_MAX	(32 * 1024)

struct mf_io_req {
	struct mf_hdr hdr;
	char name[MF_NAME_LEN];
	uint64_t offset;
	uint32_t len;
	uint32_t pad;
	uint8_t data[];		/* MF_WRITE only */
};

struct mf_io_reply {
	struct mf_reply r;
	uint32_t len;
	uint32_t pad;
	uint8_t data[];		/* MF_READ only */
};

/* MF_NS_OPEN: the reply carries the namespace's data fd (SCM_RIGHTS). */
struct mf_ns_open {
	struct mf_hdr hdr;
	char name[MF_NAME_LEN];
	uint32_t access;	/* MF_ACCESS_READ | MF_ACCESS_WRITE, as open()'s mode */
	uint32_t pad;
};

#define MF_ACCESS_READ		(1u << 0)
#define MF_ACCESS_WRITE		(1u << 1)

/* MF_MAP_REGISTER: a new mapping of a namespace in the calling process.
 * map_id is chosen by the client and unique within it. */
struct mf_map_register {
	struct mf_hdr hdr;
	uint64_t map_id;
	uint64_t ns_gen;	/* from MF_NS_OPEN: a destroyed namespace's fd is refused */
	uint32_t ns_id;
	uint32_t prot;
	uint64_t offset;	/* in the namespace, bytes */
	uint64_t len;
	uint64_t addr;		/* user address of the mapping */
};

struct mf_map_register_reply {
	struct mf_reply r;
	uint64_t nr_poisoned;	/* pages to fence, fetch with MF_POISON_LIST */
};

struct mf_map_unregister {
	struct mf_hdr hdr;
	uint64_t map_id;
};

/* MF_POISON_LIST: poisoned pages of a namespace in [first, last). */
struct mf_poison_list {
	struct mf_hdr hdr;
	uint32_t ns_id;
	uint32_t pad;
	uint64_t first_page;
	uint64_t last_page;
};

#define MF_POISON_LIST_MAX	4096
struct mf_poison_list_reply {
	struct mf_reply r;
	uint32_t count;
	uint32_t more;
	uint64_t next_page;
	uint64_t page[];
};

/* MF_MADVISE: MADV_HWPOISON / MADV_SOFT_OFFLINE over part of a mapping. */
struct mf_madvise {
	struct mf_hdr hdr;
	uint64_t map_id;
	uint64_t offset;	/* from the start of the mapping */
	uint64_t len;
	uint32_t advice;
	int32_t tid;
	uint32_t euid;
	uint32_t pad;
	char comm[MF_COMM_LEN];
};

/* What the calling thread must raise on itself before returning. */
struct mf_raise_msg {
	int32_t signo;		/* 0: nothing, or SIGBUS */
	int32_t code;		/* BUS_MCEERR_AR ... */
	uint64_t addr;
	uint32_t lsb;
	uint32_t pad;
};

struct mf_madvise_reply {
	struct mf_reply r;	/* error: madvise's -errno */
	struct mf_raise_msg raise;
};

/* MF_CONSUME: a thread touched a fenced (poisoned) page. */
struct mf_consume {
	struct mf_hdr hdr;
	uint64_t map_id;
	uint64_t offset;	/* of the touched byte, from the mapping start */
	int32_t tid;
	uint32_t pad;
	char comm[MF_COMM_LEN];
};

struct mf_consume_reply {
	struct mf_reply r;
	struct mf_raise_msg raise;
};

/*
 * MF_CTL_SHOOTDOWN: for each entry, in this order, the client records
 * whether the unit at unit_addr is present in its page tables
 * (MF_SD_QUERY), fences the pages [page_addr, page_addr + page_len)
 * (MF_SD_FENCE) or lifts their fence (MF_SD_UNFENCE), and zaps
 * [unit_addr, unit_addr + unit_len) (MF_SD_ZAP).  It replies with what it
 * saw, and which of its threads would take an early-kill signal under
 * the given memory_failure_early_kill value.
 */
#define MF_SD_QUERY	(1u << 0)
#define MF_SD_FENCE	(1u << 1)
#define MF_SD_ZAP	(1u << 2)
#define MF_SD_UNFENCE	(1u << 3)
/* fsdax: map [unit_addr, unit_addr + unit_len) of the mapping to the
 * namespace's data at remap_off (the file page has a new block), and lift
 * the fences of that range */
#define MF_SD_REMAP	(1u << 4)

struct mf_sd_entry {
	uint64_t map_id;
	uint64_t page_addr;
	uint64_t page_len;
	uint64_t unit_addr;
	uint64_t unit_len;
	uint32_t ops;
	/* MF_SD_QUERY of a file mapping: the size it maps the page at (a
	 * PMD is in the page tables if any page of it is); 0: the mapping's
	 * alignment */
	uint32_t unit_shift;
	uint64_t remap_off;	/* MF_SD_REMAP: namespace bytes */
};

struct mf_ctl_shootdown {
	struct mf_hdr hdr;
	uint32_t early_kill;
	uint32_t count;
	struct mf_sd_entry e[];
};

#define MF_SD_MAX	256

struct mf_sd_result {
	uint32_t present;
	int32_t error;
};

struct mf_ctl_shootdown_reply {
	struct mf_reply r;
	int32_t early_tid;		/* 0: no early-kill thread */
	int32_t main_tid;
	char early_comm[MF_COMM_LEN];
	char main_comm[MF_COMM_LEN];
	uint32_t count;
	uint32_t pad;
	struct mf_sd_result res[];
};

/*
 * The real-time signal a client reserves for the daemon's requests to
 * raise BUS_MCEERR_AO: si_code SI_QUEUE, si_pid the sender (the daemon or
 * the client's own service thread), si_value the 4 KiB-aligned address
 * with the size shift (si_addr_lsb) in its low bits.  Only a thread can
 * give itself a positive si_code, so the handler raises the SIGBUS.
 */
#define MF_AO_SIGNAL	63	/* SIGRTMAX - 1 */

/* MF_CTL_SIGNAL: raise BUS_MCEERR_AO on thread tid, when the daemon may
 * not signal it itself (another user's process). */
struct mf_ctl_signal {
	struct mf_hdr hdr;
	int32_t tid;
	int32_t code;
	uint64_t addr;
	uint32_t lsb;
	uint32_t pad;
};


/*
 * Ordinary memory.  A page is named by what it is (struct mf_ram_page):
 * a private one by the process and its address, a shared one by the file
 * behind it (shmem, memfd, tmpfs, page cache, hugetlbfs: st_dev, st_ino
 * and the byte offset of the page, or of its hugetlb page).  The daemon
 * keeps a page frame for each (emulated pfns, below the region).
 */
#define MF_RAM_ANON_PAGE	1	/* the kinds: as mm.h's MF_RAM_* */
#define MF_RAM_SHMEM_PAGE	2
#define MF_RAM_FILE_PAGE	3
#define MF_RAM_HUGETLB_PAGE	4

#define MF_RAM_STATE_DIRTY	(1u << 0)
#define MF_RAM_STATE_MLOCKED	(1u << 1)
#define MF_RAM_STATE_THP	(1u << 2)

struct mf_ram_page {
	uint64_t addr;		/* user address of the 4 KiB page */
	uint32_t kind;		/* MF_RAM_*_PAGE */
	uint32_t state;		/* MF_RAM_STATE_* */
	uint32_t shift;		/* 12, or the hugetlb page's (21, 30) */
	uint32_t shared;	/* named by the file below, not by the process */
	uint64_t dev, ino;
	uint64_t off;		/* of the 4 KiB page in the file */
};

/*
 * A private page the real kernel shares copy-on-write since fork()
 * (PM_MMAP_EXCLUSIVE clear): what a relative checks its own page at the
 * same address against before it takes it for the same page.  family 0:
 * not shared.
 */
struct mf_ram_cow {
	uint64_t family;	/* the fork lineage: made at exec, inherited by fork() */
	uint64_t hash;		/* of the page's content, never 0 (an all-zero page) */
	uint64_t real_pfn;	/* the real kernel's pfn; 0: its pagemap hides it */
};

/* MF_RAM_MADVISE: MADV_HWPOISON / MADV_SOFT_OFFLINE of one page. */
struct mf_ram_madvise {
	struct mf_hdr hdr;
	struct mf_ram_page page;
	uint32_t advice;
	int32_t tid;
	char comm[MF_COMM_LEN];
	struct mf_ram_cow cow;
};

#define MF_RAM_MOVED	(1u << 0)	/* the page has a new frame now (forget its pfn) */

struct mf_ram_madvise_reply {
	struct mf_reply r;	/* error: madvise's -errno */
	struct mf_raise_msg raise;
	uint64_t pfn;		/* of the page, before */
	uint32_t flags;		/* MF_RAM_MOVED */
	uint32_t pad;
};

/* MF_RAM_TOUCH: a thread touched a page of ordinary memory it has fenced
 * (the hwpoison entry faults). */
struct mf_ram_touch {
	struct mf_hdr hdr;
	uint64_t addr;		/* the byte touched */
	uint64_t pfn;
	uint32_t shift;
	int32_t tid;
	char comm[MF_COMM_LEN];
};

/* MF_RAM_PFNS: the pfns of pages (made on first sight), for pagemap. */
#define MF_RAM_PFNS_MAX	256
struct mf_ram_pfns {
	struct mf_hdr hdr;
	uint32_t count;
	uint32_t pad;
	struct mf_ram_page page[];
};

struct mf_ram_pfns_reply {
	struct mf_reply r;
	uint32_t count;
	uint32_t pad;
	uint64_t pfn[];		/* 0: no frame could be made (the RAM is full) */
};

/* MF_RAM_FILES: the files with poisoned pages, and the writeback errors
 * files had (what read(), fsync() and mmap() must report).  A page past
 * `cursor` in (dev, ino, off) order; one reply, `more` if there are others. */
#define MF_RAM_FILES_MAX	1024
struct mf_ram_files {
	struct mf_hdr hdr;
	uint64_t dev, ino, off;	/* cursor: entries after this one */
};

#define MF_FILE_POISON		1	/* the page stays in the file, poisoned (shmem) */
#define MF_FILE_WB_ERR		2	/* the file lost a dirty page: gen is when */

struct mf_ram_file_entry {
	uint64_t dev, ino, off;	/* off: of the page, or of the hugetlb page */
	uint32_t what;		/* MF_FILE_* */
	uint32_t shift;
	uint64_t gen;		/* the status page's file_gen when it happened */
};

struct mf_ram_files_reply {
	struct mf_reply r;
	uint32_t count;
	uint32_t more;
	struct mf_ram_file_entry e[];
};

/*
 * MF_RAM_TRUNCATE: the caller cut [from, end) out of a shmem file
 * (ftruncate() below it: end UINT64_MAX; fallocate(PUNCH_HOLE)): its
 * poisoned pages there leave the file with the rest (Linux's
 * truncate_inode_pages()), and every mapping of them loses its hwpoison
 * entry.  fd is the caller's descriptor of the file, open for writing;
 * the daemon checks it and, for a truncation, the file's size.  A plain
 * reply.
 */
struct mf_ram_truncate {
	struct mf_hdr hdr;
	uint64_t dev, ino;
	uint64_t from, end;
	int32_t fd;
	uint32_t pad;
};

/* MF_RAM_KPAGEFLAGS: /proc/kpageflags of pfns [first, first + count). */
#define MF_KPAGEFLAGS_MAX	4096
struct mf_ram_kpageflags {
	struct mf_hdr hdr;
	uint64_t first;
	uint32_t count;
	uint32_t pad;
};

struct mf_ram_kpageflags_reply {
	struct mf_reply r;
	uint32_t count;
	uint32_t pad;
	uint64_t flags[];
};

/* MF_PFN_WRITE: a write to one of the kernel's injection files. */
enum mf_pfn_op {
	MF_PFN_CORRUPT = 1,	/* debugfs hwpoison/corrupt-pfn: a pfn */
	MF_PFN_UNPOISON,	/* debugfs hwpoison/unpoison-pfn: a pfn */
	MF_PFN_HARD_OFFLINE,	/* /sys/devices/system/memory/hard_offline_page: an address */
	MF_PFN_SOFT_OFFLINE,	/* .../soft_offline_page: an address */
};

struct mf_pfn_write {
	struct mf_hdr hdr;
	uint32_t op;
	int32_t tid;
	uint64_t value;
	char comm[MF_COMM_LEN];
};

/*
 * MF_KMSG_READ: the daemon's log records after after_seq (the emulated
 * kernel's ring buffer, as /dev/kmsg shows it), oldest first.  MF_KMSG_WRITE:
 * a line for it ("<N>" in front sets the priority, as /dev/kmsg takes it).
 */
#define MF_KMSG_TEXT	256
#define MF_KMSG_MAX	128
struct mf_kmsg_read {
	struct mf_hdr hdr;
	uint64_t after_seq;	/* 0: from the oldest */
	uint32_t max;
	uint32_t pad;
};

struct mf_kmsg_rec {
	uint64_t seq;		/* from 1 */
	uint64_t ts_usec;	/* since the daemon started */
	uint32_t prio;		/* facility << 3 | level */
	uint32_t len;
	char text[MF_KMSG_TEXT];
};

struct mf_kmsg_reply {
	struct mf_reply r;
	uint64_t first_seq;	/* the oldest record kept */
	uint64_t next_seq;	/* the one the next line gets */
	uint32_t count;
	uint32_t pad;
	struct mf_kmsg_rec rec[];
};

struct mf_kmsg_write {
	struct mf_hdr hdr;
	uint32_t len;
	uint32_t pad;
	char text[1024];
};

/*
 * MF_CTL_RAM: every mapping of a frame in the process: report whether it
 * is in the page tables and what the page is like (MF_SD_QUERY), fence it
 * (MF_SD_FENCE: the hwpoison entry, pfn and shift kept for the fault
 * handler and pagemap), lift the fence (MF_SD_UNFENCE) or drop it from
 * the page tables (MF_SD_ZAP, a clean page-cache page).  A shared page is
 * looked for by its file; a private one is at page.addr.  `file` also
 * tells every process that the file has a poisoned page or lost one
 * (MF_FILE_*), whether it maps it or not.  With cow.family set, the
 * private page is another process's, shared copy-on-write: a relative
 * acts only on its page at page.addr that is still that page (count 0
 * otherwise).
 */
struct mf_ctl_ram {
	struct mf_hdr hdr;
	struct mf_ram_page page;	/* addr: the private page's; for a shared one 0 */
	uint64_t pfn;			/* of the frame (its head, for hugetlb) */
	uint64_t gen;			/* MF_FILE_*: the status page's file_gen */
	uint32_t ops;			/* MF_SD_* */
	uint32_t early_kill;
	uint32_t file;			/* MF_FILE_* or 0 */
	uint32_t pad;
	struct mf_ram_cow cow;
};

#define MF_RAM_MAPS_MAX	16
struct mf_ctl_ram_reply {
	struct mf_reply r;
	int32_t early_tid;
	int32_t main_tid;
	char early_comm[MF_COMM_LEN];
	char main_comm[MF_COMM_LEN];
	uint32_t count;
	int32_t fence_error;
	struct {
		uint64_t addr;
		uint32_t present;
		uint32_t state;
	} map[MF_RAM_MAPS_MAX];
};

/*
 * The status page: a file beside the socket (its path + ".status"), that
 * the daemon keeps and every client may map read-only, so that the
 * common answer to "is any file poisoned?" costs a load, not a request.
 */
#define MF_STATUS_MAGIC		0x6d667374U	/* "mfst" */
struct mf_status_page {
	uint32_t magic;
	uint32_t version;	/* MF_PROTO_VERSION */
	uint64_t file_gen;	/* bumps with every MF_FILE_* event */
	uint64_t daemon_pid;
	uint32_t profile;	/* MF_PROFILE_* */
	uint32_t strict_caps;	/* capabilities are the real ones */
	uint32_t daemon_uid;
	/* the sysctls and counters the kernel's files show, kept current
	 * before every reply */
	int32_t early_kill, recovery, enable_soft_offline;
	uint64_t hardware_corrupted_pages;
	struct mf_counters node;
	/* bumps when a page of RAM moves to a new frame (soft offline, a
	 * dropped clean page, unpoison): pfns read from pagemap before are
	 * stale */
	uint64_t frame_gen;
};

/*
 * Scrub (ARS): MF_SCRUB_START names a namespace, or none for the whole
 * region.  All three answer with the scrub's state.
 */
#define MF_SCRUB_FULL		(1u << 0)	/* read every block, not just poison */

/* (MF_SCRUB_STATUS and MF_SCRUB_CANCEL send the same request; its name
 * and flags must be 0.) */

struct mf_scrub_req {
	struct mf_hdr hdr;
	char name[MF_NAME_LEN];	/* "" or "region0": the whole region */
	uint32_t flags;
	uint32_t pad;
};

#define MF_SCRUB_IDLE		0
#define MF_SCRUB_ACTIVE		1

struct mf_scrub_reply {
	struct mf_reply r;
	uint32_t state;		/* MF_SCRUB_* */
	uint32_t flags;		/* of the current or last scrub */
	uint64_t count;		/* scrubs completed since the daemon started */
	uint64_t done, total;	/* bytes of the current or last scrub */
	uint64_t found;		/* latent sectors it found */
	uint32_t cancelled;	/* the last one was cancelled (or its namespace went) */
	uint32_t failed;	/* the last one stopped on an error (see the log) */
	char name[MF_NAME_LEN];	/* what it scrubs */
};

/*
 * Events: what happened, as the monitor streams it and the history keeps
 * it.  The fields a type does not use are 0.
 */
enum mf_event_type {
	MF_EV_MEMORY_FAILURE = 1,	/* pfn, page_type, result (rasdaemon's) */
	MF_EV_SIGNAL,			/* pid, tid, comm, code, addr, lsb */
	MF_EV_KILL,			/* pid, comm: could not be unmapped */
	MF_EV_INJECT,			/* sector, count; flags: MF_EVF_LATENT */
	MF_EV_UNINJECT,			/* sector, count */
	MF_EV_CLEAR,			/* sector, count; flags: MF_EVF_BY_WRITE */
	MF_EV_FOUND,			/* latent poison found: sector, count, flags */
	MF_EV_SCRUB_START,		/* dev; flags: MF_SCRUB_FULL */
	MF_EV_SCRUB_END,		/* dev, count (sectors found); flags */
	MF_EV_PANIC,			/* pfn */
	MF_EV_LOST,			/* monitor only: count events it missed */
	MF_EV_NR
};

#define MF_EVF_LATENT		(1u << 0)	/* INJECT: not notified */
#define MF_EVF_BY_WRITE		(1u << 1)	/* CLEAR: by a driver write */
#define MF_EVF_BY_SCRUB		(1u << 2)	/* FOUND */
#define MF_EVF_BY_ACCESS	(1u << 3)	/* FOUND: a touch through a mapping */
#define MF_EVF_BY_READ		(1u << 4)	/* FOUND: a driver read */
#define MF_EVF_CANCELLED	(1u << 5)	/* SCRUB_END */
#define MF_EVF_FAILED		(1u << 6)	/* SCRUB_END: stopped on an error */

/* MF_EV_MEMORY_FAILURE page_type: the kernel's action_page_types */
enum mf_page_type {
	MF_PAGE_DAX = 1,		/* "dax page" */
	MF_PAGE_DIRTY_LRU,
	MF_PAGE_CLEAN_LRU,
	MF_PAGE_HUGE,
	MF_PAGE_FREE_HUGE,
	MF_PAGE_BUDDY,
	MF_PAGE_DIRTY_UNEVICTABLE_LRU,
	MF_PAGE_CLEAN_UNEVICTABLE_LRU,
	MF_PAGE_DIRTY_MLOCKED_LRU,
	MF_PAGE_CLEAN_MLOCKED_LRU,
	MF_PAGE_ALREADY_POISONED,
	MF_PAGE_UNKNOWN,
	MF_PAGE_NR
};

static inline const char *mf_page_type_name(unsigned type)
{
	static const char *const names[MF_PAGE_NR] = {
		[MF_PAGE_DAX] = "dax page",
		[MF_PAGE_DIRTY_LRU] = "dirty LRU page",
		[MF_PAGE_CLEAN_LRU] = "clean LRU page",
		[MF_PAGE_HUGE] = "huge page",
		[MF_PAGE_FREE_HUGE] = "free huge page",
		[MF_PAGE_BUDDY] = "free buddy page",
		[MF_PAGE_DIRTY_UNEVICTABLE_LRU] = "dirty unevictable LRU page",
		[MF_PAGE_CLEAN_UNEVICTABLE_LRU] = "clean unevictable LRU page",
		[MF_PAGE_DIRTY_MLOCKED_LRU] = "dirty mlocked LRU page",
		[MF_PAGE_CLEAN_MLOCKED_LRU] = "clean mlocked LRU page",
		[MF_PAGE_ALREADY_POISONED] = "already poisoned",
		[MF_PAGE_UNKNOWN] = "unknown page",
	};

	return type < MF_PAGE_NR && names[type] ? names[type] : "unknown page";
}

struct mf_event {
	uint64_t seq;			/* increasing, never reused */
	uint64_t time_ns;		/* CLOCK_REALTIME */
	uint32_t type;			/* MF_EV_* */
	uint32_t flags;			/* MF_EVF_* */
	char dev[MF_NAME_LEN];		/* namespace0.Y, or region0 */
	uint64_t pfn;
	uint64_t sector, count;
	int32_t pid, tid;
	char comm[MF_COMM_LEN];
	int32_t code;			/* si_code */
	uint32_t lsb;
	uint64_t addr;
	uint32_t result;		/* MEMORY_FAILURE: 0 ignored, 1 failed, 2 delayed, 3 recovered */
	uint32_t page_type;		/* MF_PAGE_* */
};

/*
 * MF_EVENT: the daemon to a monitor, the events of one loop iteration
 * together (a socket queues a few hundred messages, not events).
 */
#define MF_EVENTS_PER_MSG	((MF_MSG_MAX - 64) / sizeof(struct mf_event))
struct mf_event_msg {
	struct mf_hdr hdr;
	uint32_t count;
	uint32_t pad;
	struct mf_event ev[];
};

/* MF_MONITOR: from its reply on, the connection receives MF_EVENT. */
struct mf_monitor_req {
	struct mf_hdr hdr;
	uint32_t flags;
	uint32_t pad;
};

/* MF_HISTORY: events with seq > after_seq and time >= since_ns, oldest first. */
#define MF_HISTORY_MAX	256
struct mf_history_req {
	struct mf_hdr hdr;
	uint64_t after_seq;
	uint64_t since_ns;
	uint32_t type;			/* 0: all, else MF_EV_* */
	uint32_t pad;
};

struct mf_history_reply {
	struct mf_reply r;
	uint32_t count;
	uint32_t more;
	struct mf_event ev[];
};

/* MF_HISTORY_SUMMARY: events counted by type, flags-free class and result. */
#define MF_SUMMARY_MAX	256
struct mf_summary_row {
	uint32_t type;
	uint32_t result;		/* MEMORY_FAILURE; else 0 */
	uint32_t page_type;
	uint32_t code;			/* SIGNAL: si_code */
	uint64_t count;
	char dev[MF_NAME_LEN];
};

struct mf_summary_req {
	struct mf_hdr hdr;
	uint64_t since_ns;
	uint32_t offset;		/* rows handed out already */
	uint32_t pad;
};

struct mf_summary_reply {
	struct mf_reply r;
	uint32_t count;
	uint32_t more;			/* ask again from offset + count */
	struct mf_summary_row row[];
};

/* MF_MAPPERS: who maps each poisoned page of a namespace, and how. */
struct mf_mappers_req {
	struct mf_hdr hdr;
	char name[MF_NAME_LEN];
	uint64_t cursor;		/* first page */
	uint32_t skip;			/* mappers of that page handed out already */
	uint32_t pad;
};

#define MF_MAPPERS_MAX	512
struct mf_mapper {
	uint64_t page;			/* page of the namespace */
	int32_t pid;
	uint32_t shift;			/* the mapping's unit: 12, 21 or 30 */
	uint64_t addr;			/* the page's address in the process */
	char comm[MF_COMM_LEN];
};

struct mf_mappers_reply {
	struct mf_reply r;
	uint32_t count;
	uint32_t more;
	uint64_t next;			/* cursor of the next page */
	uint32_t next_skip;		/* and its skip */
	uint32_t pad;
	struct mf_mapper m[];
};

/*
 * ---- fsdax: files on a namespace ----
 *
 * The daemon serves each fsdax namespace's file system (src/fs) at a
 * directory through FUSE.  MF_FS_MOUNT (admin, the namespace's admin)
 * mounts it at `path` (an existing empty directory), MF_FS_UMOUNT
 * unmounts it.  A mapping process maps a file of it in two steps:
 * MF_FS_MAP (the file by the st_dev and st_ino of its descriptor) gives
 * the file's extents over [offset, offset + len), its holes below EOF
 * allocated, and the namespace's data file as the reply's descriptor;
 * the process maps each extent of that file in place and registers the
 * mapping with MF_FS_MAP_REGISTER, which fails with -EAGAIN if the
 * file's blocks changed in between (map_gen), to be done again.
 */
#define MF_PATH_LEN		512
#define MF_FS_MAP_MAX		128
#define MF_FS_MAX_BYTES		(1ULL << 52)	/* the largest file offset a request may name */

struct mf_fs_mount {
	struct mf_hdr hdr;
	char name[MF_NAME_LEN];
	char path[MF_PATH_LEN];
};

struct mf_fs_map {
	struct mf_hdr hdr;
	uint64_t dev;		/* st_dev of the file */
	uint64_t ino;		/* st_ino */
	uint64_t offset;	/* bytes, page aligned */
	uint64_t len;
	uint32_t prot;
	uint32_t pad;
};

struct mf_fs_extent {
	uint64_t foff;		/* file page */
	uint64_t nsoff;		/* namespace page */
	uint64_t len;		/* pages */
};

struct mf_fs_map_reply {
	struct mf_reply r;
	uint32_t ns_id;
	uint32_t count;
	uint64_t ns_gen;
	uint64_t map_gen;	/* for MF_FS_MAP_REGISTER */
	uint64_t size;		/* of the file, bytes */
	uint32_t more;		/* more extents past the last one */
	uint32_t pad;
	uint64_t pfn_base;	/* pfn of the namespace's first page: a page
				 * at nsoff is pfn pfn_base + nsoff */
	struct mf_fs_extent e[MF_FS_MAP_MAX];
};

struct mf_fs_map_register {
	struct mf_hdr hdr;
	uint64_t map_id;
	uint64_t ns_gen;
	uint64_t map_gen;
	uint64_t dev;
	uint64_t ino;
	uint64_t offset;	/* in the file, bytes */
	uint64_t len;
	uint64_t addr;
	uint32_t prot;
	uint32_t ns_id;
};

/*
 * MF_FS_MEDIA_ERRORS (admin, the namespace's admin): the byte ranges of
 * each file that are bad, in (inode, offset) order, from after the cursor
 * (ino 0: from the start), as PMDK's pmem2_badblock iteration gives them;
 * and how many free pages are poisoned.
 */
struct mf_fs_media_errors_req {
	struct mf_hdr hdr;
	char name[MF_NAME_LEN];
	uint64_t after_ino;
	uint64_t after_page;
};

#define MF_FS_ERR_MAX		64

struct mf_fs_error {
	uint64_t ino;
	uint64_t offset;	/* bytes */
	uint64_t length;
	char name[256];		/* "" once unlinked */
};

struct mf_fs_media_errors_reply {
	struct mf_reply r;
	uint32_t count;
	uint32_t more;
	uint64_t next_ino, next_page;	/* the cursor to go on from */
	uint64_t free_poison_pages;
	struct mf_fs_error e[];
};

#define MF_FS_POISON_MAX	256

struct mf_fs_map_register_reply {
	struct mf_reply r;
	uint32_t count;		/* poisoned pages to fence now */
	uint32_t pad;
	uint64_t page[MF_FS_POISON_MAX];	/* offsets from the mapping's start, pages */
};

/*
 * MF_FS_FIEMAP (request): the extents of a file (by st_dev and st_ino)
 * over the file pages [first, first + n), as they are: holes stay holes,
 * nothing is allocated (FS_IOC_FIEMAP).  nsoff is the page's offset on
 * the block device (/dev/pmemX.Y: the namespace's data, the file
 * system's metadata area included), in pages.  At most MF_FS_MAP_MAX in
 * file order; `more` if there are others past the last one.
 */
struct mf_fs_fiemap {
	struct mf_hdr hdr;
	uint64_t dev;
	uint64_t ino;
	uint64_t first;		/* file page */
	uint64_t n;		/* pages */
};

struct mf_fs_fiemap_reply {
	struct mf_reply r;
	uint32_t count;
	uint32_t more;
	struct mf_fs_extent e[MF_FS_MAP_MAX];
};

#endif /* MF_UAPI_PROTO_H */
