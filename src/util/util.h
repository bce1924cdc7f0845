/* SPDX-License-Identifier: MIT */
/*
 * util/util.h: small helpers shared by every part of memfail: size
 * parsing, monotonic time, unix sockets with credential and fd passing,
 * directories.  Nothing here allocates behind the caller's back, and the
 * socket helpers are async-signal-safe (the preload library's fault
 * handler uses them).
 */
#ifndef MF_UTIL_H
#define MF_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define MF_PAGE_SHIFT	12
#define MF_PAGE_SIZE	(1ULL << MF_PAGE_SHIFT)
#define MF_SECTOR_SHIFT	9
#define MF_SECTOR_SIZE	512ULL
#define MF_SECTORS_PER_PAGE (MF_PAGE_SIZE / MF_SECTOR_SIZE)

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define MF_ALIGN_DOWN(x, a) ((x) & ~((__typeof__(x))(a) - 1))
#define MF_ALIGN_UP(x, a) MF_ALIGN_DOWN((x) + (a) - 1, (a))
#define MF_IS_ALIGNED(x, a) (((x) & ((__typeof__(x))(a) - 1)) == 0)

/* "4096", "4K", "2M", "1G", "1T" (binary units); 0 or -EINVAL/-ERANGE. */
int parse_size(const char *s, uint64_t *out);
/* Plain unsigned integer, decimal or 0x hex; 0 or -EINVAL/-ERANGE. */
int parse_u64(const char *s, uint64_t *out);
/* "4.00 KiB", "2.00 MiB"... as ndctl --human prints sizes. */
const char *format_size_human(uint64_t v, char *buf, size_t n);
/* log2 of a power of two, or -1. */
int size_shift(uint64_t v);

uint64_t now_monotonic_ns(void);

/*
 * Whether the daemon's state must survive a crash (the default).  Off
 * for a state directory that goes with the process that made it (memfail
 * run's own): there a crash loses nothing that outlives the run, and the
 * syncs are most of a one-shot run's start-up.  mf_fsync() and
 * mf_fdatasync() are fsync() and fdatasync(), or nothing when off.
 */
void mf_set_durable(bool on);
bool mf_durable(void);
int mf_fsync(int fd);
int mf_fdatasync(int fd);

/* A 64-bit mix (murmur3's finalizer): the hash tables' hash. */
uint64_t mf_hash64(uint64_t k);

/* Copy at most n-1 bytes and always terminate. Returns strlen(src). */
size_t strlcpy_mf(char *dst, const char *src, size_t n);

/* mkdir -p with the given mode for the directories it creates. */
int mkdir_parents(const char *path, mode_t mode);

/*
 * Unix sockets.  All sockets are SOCK_SEQPACKET: one send is one message,
 * so a request can never be half-read.  The sender's credentials go with
 * every message (SCM_CREDENTIALS) when `creds` is set; the receiver must
 * have SO_PASSCRED on.
 */
int unix_listen_seqpacket(const char *path, mode_t mode);
int unix_connect_seqpacket(const char *path);

struct mf_cred {
	pid_t pid;
	uid_t uid;
	gid_t gid;
	bool valid;
};

/* Send one message, optionally with one fd and our credentials. */
ssize_t sock_send(int fd, const void *buf, size_t len, int pass_fd,
		  bool creds, int flags);
/*
 * Receive one message.  *fd_out gets a passed fd or -1; *cred_out the
 * sender's credentials if they came along.  A truncated message
 * (longer than len) is an error: -EMSGSIZE.
 */
ssize_t sock_recv(int fd, void *buf, size_t len, int *fd_out,
		  struct mf_cred *cred_out, int flags);

#endif /* MF_UTIL_H */
