/* SPDX-License-Identifier: MIT */
/*
 * preload/vfs.h: the kernel files memfail emulates (/proc, /sys,
 * debugfs), between the interposed file calls (vfs.c) and what each file
 * shows and takes (vfs-files.c).
 *
 * An emulated file is opened as a memfd holding what it shows at open
 * time, like a seq_file's first read: reads need nothing more, through
 * stdio too.  Writes are the file's own: a write() is taken at once, as
 * the kernel's store would (its errors are write()'s); what stdio or
 * another program after exec() wrote into the memfd is taken when the
 * descriptor is flushed, closed, or the program ends.  pagemap and
 * kpageflags are read through (pagemap.c, the daemon) at each read.
 */
#ifndef MF_PRELOAD_VFS_H
#define MF_PRELOAD_VFS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

enum vf_kind {
	VF_TEXT = 1,		/* content at open, writes to store() */
	VF_DIR,			/* only stat() and access() */
	VF_PAGEMAP,		/* the real file, memfail's view laid over */
	VF_KPAGEFLAGS,		/* the daemon's page flags */
	VF_KMSG,		/* the daemon's log, one record per read */
};

/* What a show() writes into. */
struct vbuf {
	char *p;
	size_t len, cap;
	bool oom;
};

void vbuf_printf(struct vbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void vbuf_put(struct vbuf *b, const char *s, size_t n);

struct vfile {
	const char *path;	/* exact, or a pattern with one %s (a device name) */
	enum vf_kind kind;
	mode_t mode;		/* type and permission bits; owned by root */
	/* does it exist (under this profile, for this device)? NULL: yes */
	bool (*exists)(const char *arg);
	/* its content; NULL: nothing to read (a write-only attribute) */
	int (*show)(struct vbuf *b, const char *arg);
	/* one write of it: 0 or -errno; NULL: read-only */
	int (*store)(const char *buf, size_t len, const char *arg);
};

/* The table (vfs-files.c), ending with a NULL path. */
extern const struct vfile vfs_files[];

#endif /* MF_PRELOAD_VFS_H */
