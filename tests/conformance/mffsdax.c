// SPDX-License-Identifier: MIT
/*
 * tests/conformance/mffsdax.c: fsdax scenarios whose transcripts are
 * compared with a real kernel's (scenarios f*): a file of a filesystem
 * mounted -o dax on a pmem namespace in fsdax mode ($DAX: the oracle's
 * /mnt/ext4dax, or /mnt/xfsdax for f1x-f3x; memfail's namespace mount),
 * fallocate()d and mapped MAP_SHARED at a 2 MiB aligned address,
 * poisoned with MADV_HWPOISON; pread() of the page, punch hole and
 * rewrite; a second process mapping the same file with a handler, with
 * and without PR_MCE_KILL_EARLY;
 * hard_offline_page of the page by a process that does not map it.
 * The engine and the script language are ordscript.c's.
 *
 *   mffsdax list [-v]   scenario names (-v: early_kill, needs, description)
 *   mffsdax run NAME    run one scenario, print its transcript
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stddef.h>

#include "ordscript.h"

/*
 * f1-f3 run on the oracle's ext4 (/mnt/ext4dax), f1x-f3x, the same
 * scripts, on its xfs (/mnt/xfsdax, rmapbt: XFS's memory-failure
 * notifier); record-oracle.sh gives an fNx scenario the xfs directory.
 * XFS names the 2 MiB unit's first pfn in "Sending SIGBUS", ext4 the
 * page's: a pfn no answer showed, which the transcripts' PFN hides.
 */
#define F1(file)							\
	S("mapmem dax 0x400000 $DAX/" file, "fill 0 0xce", "fsync 0",	\
	  "madvise 0 0x102000 4096 hwpoison", "touch 0 0x103000", "touch 0 0x302000", \
	  "pread 0 0x102000 4096", "punch 0 0x102000 4096", "pwrite 0 0x102000 4096 7", "fsync 0", \
	  "touch 0 0x102000", "pread 0 0x102000 4096")
#define F2(file)							\
	S("mapmem dax 0x400000 $DAX/" file, "fill 0 0xce", "fsync 0", "fork", \
	  "child touch 0 0x102000", "madvise 0 0x102000 4096 hwpoison", "child sleep 100", \
	  "child wait-signal 500", "child touch 0 0x103000", "child touch 0 0x302000")
#define F3(file)							\
	S("mapmem dax 0x400000 $DAX/" file, "fill 0 0xce", "fsync 0", "fork", \
	  "child prctl set early", "child touch 0 0x102000", "madvise 0 0x102000 4096 hwpoison", \
	  "child sleep 100", "child wait-signal 2000", "child touch 0 0x103000", \
	  "child touch 0 0x302000")

static const struct scenario scenarios[] = {
	{ "f1_fsdax_file", 0, "", "an fsdax file written, fsynced, mapped 2M-aligned: madvise, pread, punch, rewrite",
	  F1("mffsdax-f1") },
	{ "f2_fsdax_bystander_handler", 0, "", "an fsdax file mapped by 2 processes; the bystander has a handler, no early kill",
	  F2("mffsdax-f2") },
	{ "f3_fsdax_bystander_early", 0, "", "an fsdax file mapped by 2 processes; the bystander PR_MCE_KILL_EARLY",
	  F3("mffsdax-f3") },
	{ "f4_fsdax_hard_offline_bystander_early", 0, "root", "hard_offline_page of an fsdax page by a process not mapping it; the mapper PR_MCE_KILL_EARLY",
	  S("fork", "child prctl set early", "child mapmem dax 0x400000 $DAX/mffsdax-f4",
	    "child fill 0 0xce", "child fsync 0", "child pm 0 0x102000 =A",
	    "fwrite /sys/devices/system/memory/hard_offline_page $A@", "child sleep 100",
	    "child wait-signal 2000", "child pm 0 0x102000", "child touch 0 0x103000",
	    "child touch 0 0x302000") },
	/*
	 * A block the driver lists as bad (written into its badblocks file)
	 * under a page of a file; a mapping made before is not touched after
	 * (QEMU has no real poison there, memfail a machine check).  A new
	 * mapping's fault asks the driver, which refuses that page alone.
	 */
	{ "f5_fsdax_listed_bad_block", 0, "", "a block the driver lists as bad under an fsdax file page: a new mapping's touch, pread",
	  S("mapmem dax 0x400000 $DAX/mffsdax-f5", "fill 0 0xce", "fsync 0",
	    "fiemap $DAX/mffsdax-f5 0x103000 =S", "badblocks-add $BLK $S 8",
	    "mapmem dax 0x400000 $DAX/mffsdax-f5", "touch 1 0x103000", "touch 1 0x102000",
	    "touch 1 0x302000", "pread 1 0x103000 4096", "pread 1 0x104000 4096") },
	{ "f1x_fsdax_xfs_file", 0, "", "f1 on xfs: an fsdax file written, fsynced, mapped 2M-aligned: madvise, pread, punch, rewrite",
	  F1("mffsdax-f1x") },
	{ "f2x_fsdax_xfs_bystander_handler", 0, "", "f2 on xfs: an fsdax file mapped by 2 processes; the bystander has a handler, no early kill",
	  F2("mffsdax-f2x") },
	{ "f3x_fsdax_xfs_bystander_early", 0, "", "f3 on xfs: an fsdax file mapped by 2 processes; the bystander PR_MCE_KILL_EARLY",
	  F3("mffsdax-f3x") },
	{ NULL, 0, NULL, NULL, NULL },
};

int main(int argc, char **argv)
{
	return ord_main(argc, argv, "mffsdax", scenarios);
}
