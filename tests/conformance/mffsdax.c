// SPDX-License-Identifier: MIT
/*
 * tests/conformance/mffsdax.c: fsdax scenarios whose transcripts are
 * compared with a real kernel's (scenarios f*): a file of a filesystem
 * mounted -o dax on a pmem namespace in fsdax mode ($DAX: the oracle's
 * /mnt/ext4dax, memfail's namespace mount), fallocate()d and mapped
 * MAP_SHARED at a 2 MiB aligned address, poisoned with MADV_HWPOISON;
 * pread() of the page, punch hole and rewrite; a second process mapping
 * the same file with a handler, with and without PR_MCE_KILL_EARLY;
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

static const struct scenario scenarios[] = {
	{ "f1_fsdax_file", 0, "", "an fsdax file written, fsynced, mapped 2M-aligned: madvise, pread, punch, rewrite",
	  S("mapmem dax 0x400000 $DAX/mffsdax-f1", "fill 0 0xce", "fsync 0",
	    "madvise 0 0x102000 4096 hwpoison", "touch 0 0x103000", "touch 0 0x302000",
	    "pread 0 0x102000 4096", "punch 0 0x102000 4096", "pwrite 0 0x102000 4096 7", "fsync 0",
	    "touch 0 0x102000", "pread 0 0x102000 4096") },
	{ "f2_fsdax_bystander_handler", 0, "", "an fsdax file mapped by 2 processes; the bystander has a handler, no early kill",
	  S("mapmem dax 0x400000 $DAX/mffsdax-f2", "fill 0 0xce", "fsync 0", "fork",
	    "child touch 0 0x102000", "madvise 0 0x102000 4096 hwpoison", "child sleep 100",
	    "child wait-signal 500", "child touch 0 0x103000", "child touch 0 0x302000") },
	{ "f3_fsdax_bystander_early", 0, "", "an fsdax file mapped by 2 processes; the bystander PR_MCE_KILL_EARLY",
	  S("mapmem dax 0x400000 $DAX/mffsdax-f3", "fill 0 0xce", "fsync 0", "fork",
	    "child prctl set early", "child touch 0 0x102000", "madvise 0 0x102000 4096 hwpoison",
	    "child sleep 100", "child wait-signal 2000", "child touch 0 0x103000",
	    "child touch 0 0x302000") },
	{ "f4_fsdax_hard_offline_bystander_early", 0, "root", "hard_offline_page of an fsdax page by a process not mapping it; the mapper PR_MCE_KILL_EARLY",
	  S("fork", "child prctl set early", "child mapmem dax 0x400000 $DAX/mffsdax-f4",
	    "child fill 0 0xce", "child fsync 0", "child pm 0 0x102000 =A",
	    "fwrite /sys/devices/system/memory/hard_offline_page $A@", "child sleep 100",
	    "child wait-signal 2000", "child pm 0 0x102000", "child touch 0 0x103000",
	    "child touch 0 0x302000") },
	{ NULL, 0, NULL, NULL, NULL },
};

int main(int argc, char **argv)
{
	return ord_main(argc, argv, "mffsdax", scenarios);
}
