// SPDX-License-Identifier: MIT
/*
 * daemon/auth.c: who may do what.  Credentials come with each message
 * (SCM_CREDENTIALS), not only at connect, because a program may drop
 * privileges after it has mapped a namespace.
 *
 *  - open a namespace: the usual owner/group/other permission bits of
 *    the namespace against the caller's uid and groups; root may always;
 *  - manage one (destroy, inject, clear, write): root or its owner;
 *  - the emulated CAP_SYS_ADMIN that madvise(MADV_HWPOISON) and
 *    MADV_SOFT_OFFLINE need, and the kernel's injection files: root or
 *    the owner of the memory (the namespace's, or the user whose process
 *    has the page), or with --strict-caps, CAP_SYS_ADMIN in the calling
 *    thread's effective set;
 *  - a shared page of ordinary memory is named by its file: only a
 *    process that maps that part of the file may name it;
 *  - daemon-wide settings: root or the user the daemon runs as.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "memfaild.h"

#define CAP_SYS_ADMIN_BIT 21

/* Read one "Name:\t..." line of /proc/<pid>/task/<tid>/status. */
static bool status_field(pid_t pid, pid_t tid, const char *name, char *out, size_t n)
{
	char path[64], line[512];
	size_t nl = strlen(name);
	bool found = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/status", (int)pid, (int)tid);
	f = fopen(path, "re");
	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, name, nl) && line[nl] == ':') {
			strlcpy_mf(out, line + nl + 1, n);
			found = true;
			break;
		}
	}
	fclose(f);
	return found;
}

static bool in_groups(const struct mf_cred *cr, gid_t gid)
{
	char buf[512], *p, *end;

	if (cr->gid == gid)
		return true;
	if (!status_field(cr->pid, cr->pid, "Groups", buf, sizeof(buf)))
		return false;
	for (p = buf; *p; p = end) {
		unsigned long g = strtoul(p, &end, 10);

		if (end == p)
			break;
		if (g == gid)
			return true;
	}
	return false;
}

bool cred_may_open(const struct mf_cred *cr, const struct nd_namespace *ns, unsigned access)
{
	mode_t want = ((access & MF_ACCESS_READ) ? 04 : 0) | ((access & MF_ACCESS_WRITE) ? 02 : 0);
	mode_t bits;

	if (cr->uid == 0)
		return true;
	if (cr->uid == ns->uid)
		bits = (ns->perm >> 6) & 07;
	else if (in_groups(cr, ns->gid))
		bits = (ns->perm >> 3) & 07;
	else
		bits = ns->perm & 07;
	return (bits & want) == want;
}

bool cred_is_admin_of(struct mfd *d, const struct mf_cred *cr, const struct nd_namespace *ns)
{
	(void)d;
	return cr->uid == 0 || cr->uid == ns->uid;
}

bool cred_may_configure(struct mfd *d, const struct mf_cred *cr)
{
	return cr->uid == 0 || cr->uid == d->uid;
}

bool cred_has_sys_admin(struct mfd *d, const struct mf_cred *cr, pid_t tid, uid_t owner)
{
	char buf[64];

	if (d->opt.strict_caps) {
		unsigned long long caps;

		if (!status_field(cr->pid, tid > 0 ? tid : cr->pid, "CapEff", buf, sizeof(buf)))
			return false;
		caps = strtoull(buf, NULL, 16);
		return (caps >> CAP_SYS_ADMIN_BIT) & 1;
	}
	return cr->uid == 0 || cr->uid == owner;
}

bool proc_maps_file(pid_t pid, uint64_t dev, uint64_t ino, uint64_t off, struct file_window *w)
{
	char path[64], line[512];
	bool found = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return true;	/* cannot tell (hidepid): it may */
	while (!found && fgets(line, sizeof(line), f)) {
		unsigned long long start, end, pgoff, inode;
		unsigned maj, min;

		if (sscanf(line, "%llx-%llx %*s %llx %x:%x %llu", &start, &end, &pgoff, &maj, &min,
			   &inode) != 6)
			continue;
		found = makedev(maj, min) == dev && inode == ino && off >= pgoff &&
			off < pgoff + (end - start);
		if (found && w) {
			w->dev = dev;
			w->ino = ino;
			w->lo = pgoff;
			w->hi = pgoff + (end - start);
		}
	}
	fclose(f);
	return found;
}

int proc_fd_file(pid_t pid, int fd, struct stat *st, bool *writable)
{
	char path[64], line[128];
	unsigned long flags = 0;
	bool got = false;
	FILE *f;

	if (fd < 0)
		return -EBADF;
	snprintf(path, sizeof(path), "/proc/%d/fd/%d", (int)pid, fd);
	if (stat(path, st))
		return -errno;
	snprintf(path, sizeof(path), "/proc/%d/fdinfo/%d", (int)pid, fd);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "flags: %lo", &flags) == 1) {
			got = true;
			break;
		}
	fclose(f);
	if (!got)
		return -EIO;
	*writable = (flags & O_ACCMODE) != O_RDONLY;
	return 0;
}
