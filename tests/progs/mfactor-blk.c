// SPDX-License-Identifier: MIT
/*
 * tests/progs/mfactor-blk.c: mfactor's commands for a file system's block
 * device (pmem in fsdax mode), using nothing but the Linux ABI.
 *
 *   fiemap PATH OFF [LEN [COUNT]]   FS_IOC_FIEMAP (FIEMAP_FLAG_SYNC) of
 *                            the page at OFF: its sector on the block
 *                            device; of [OFF, OFF + LEN) with room for
 *                            COUNT extents, each listed
 *   badblocks-add DEV SECTOR COUNT   write "SECTOR COUNT" to
 *                            /sys/block/DEV/badblocks (SECTOR base 0)
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/fiemap.h>
#include <linux/fs.h>

#include "mfactor.h"

/*
 * The page at off of the file: its sector on the block device, as the
 * extent holding it says, and how many extents the query gave.  With
 * len, the query is [off, off + len) with room for count extents, and
 * each is listed too (ext=LOGICAL/PHYSICAL/LENGTH/FLAGS,...).
 */
static void fiemap_of(const char *path, unsigned long long off, unsigned long long len,
		      unsigned count, char *out, size_t n)
{
	struct {
		struct fiemap fm;
		struct fiemap_extent ext[16];
	} x;
	int fd = open(path, O_RDONLY), r, e;
	const char *sector = "none";
	char sbuf[32];
	size_t k;
	unsigned i;

	if (fd < 0) {
		snprintf(out, n, "err errno=%d", errno);
		return;
	}
	memset(&x, 0, sizeof(x));
	x.fm.fm_start = off;
	x.fm.fm_length = len ? len : 4096;
	x.fm.fm_flags = FIEMAP_FLAG_SYNC;
	x.fm.fm_extent_count = len ? (count < 16 ? count : 16) : 16;
	r = ioctl(fd, FS_IOC_FIEMAP, &x.fm);
	e = r < 0 ? errno : 0;
	close(fd);
	if (r < 0) {
		snprintf(out, n, "ok ret=%d errno=%d", r, e);
		return;
	}
	for (i = 0; i < x.fm.fm_mapped_extents && i < x.fm.fm_extent_count; i++) {
		struct fiemap_extent *fe = &x.fm.fm_extents[i];

		if (off >= fe->fe_logical && off < fe->fe_logical + fe->fe_length) {
			snprintf(sbuf, sizeof(sbuf), "%llu",
				 (unsigned long long)(fe->fe_physical + (off - fe->fe_logical)) / 512);
			sector = sbuf;
			break;
		}
	}
	k = (size_t)snprintf(out, n, "ok ret=0 extents=%u sector=%s", x.fm.fm_mapped_extents, sector);
	if (!len)
		return;
	for (i = 0; i < x.fm.fm_mapped_extents && i < x.fm.fm_extent_count && k < n; i++) {
		struct fiemap_extent *fe = &x.fm.fm_extents[i];

		k += (size_t)snprintf(out + k, n - k, "%s%#llx/%#llx/%#llx/%#x", i ? "," : " ext=",
				      (unsigned long long)fe->fe_logical,
				      (unsigned long long)fe->fe_physical,
				      (unsigned long long)fe->fe_length, fe->fe_flags);
	}
}

/* badblocks_store(): one write of "SECTOR COUNT" */
static void badblocks_add(const char *dev, const char *sector, const char *count, char *out,
			  size_t n)
{
	char path[128], text[64];
	int fd, e;
	ssize_t r;

	snprintf(path, sizeof(path), "/sys/block/%s/badblocks", dev);
	fd = open(path, O_WRONLY);
	if (fd < 0) {
		snprintf(out, n, "ok ret=-1 errno=%d at=open", errno);
		return;
	}
	snprintf(text, sizeof(text), "%llu %s", strtoull(sector, NULL, 0), count);
	r = write(fd, text, strlen(text));
	e = r < 0 ? errno : 0;
	close(fd);
	/* the text's length is the sector's: only whether all of it went */
	snprintf(out, n, "ok ret=%d errno=%d at=write", r == (ssize_t)strlen(text) ? 0 : -1, e);
}

int blk_command(int argc, char **argv, char *out, size_t n)
{
	if (!strcmp(argv[0], "fiemap") && argc >= 3) {
		fiemap_of(argv[1], strtoull(argv[2], NULL, 0), argc > 3 ? strtoull(argv[3], NULL, 0) : 0,
			  argc > 4 ? (unsigned)strtoul(argv[4], NULL, 0) : 16, out, n);
		return 1;
	}
	if (!strcmp(argv[0], "badblocks-add") && argc >= 4) {
		badblocks_add(argv[1], argv[2], argv[3], out, n);
		return 1;
	}
	return 0;
}
