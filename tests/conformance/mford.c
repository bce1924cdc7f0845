// SPDX-License-Identifier: MIT
/*
 * tests/conformance/mford.c: ordinary-memory scenarios whose transcripts
 * are compared with a real kernel's (scenarios o*; the engine and the
 * script language are ordscript.c's).
 *
 *   mford list [-v]        scenario names (-v: early_kill, needs, description)
 *   mford run NAME         run one scenario, print its transcript
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stddef.h>

#include "ordscript.h"

static const struct scenario scenarios[] = {
	{ "o1_anon", 0, "root", "anonymous private 4K: madvise, touches, pagemap, kpageflags, unpoison",
	  S("mapmem anon 0x400000", "fill 0 0xce", "pm 0 0x102000 =A", "hc",
	    "madvise 0 0x102000 4096 hwpoison", "touch 0 0x102000", "store 0 0x102000 1",
	    "touch 0 0x103000", "touch 0 0x101000", "pm 0 0x102000", "hc", "kpf $A",
	    "fwrite /sys/kernel/debug/hwpoison/unpoison-pfn $A", "kpf $A", "hc",
	    "fwrite /sys/kernel/debug/hwpoison/unpoison-pfn $A") },
	{ "o2_anon_shared_child_early", 0, "", "MAP_SHARED|MAP_ANONYMOUS with an early-kill child that touched it",
	  S("mapmem anon-shared 0x10000", "fill 0 0xce", "fork", "child prctl set early",
	    "child touch 0 0x2000", "madvise 0 0x2000 4096 hwpoison", "child wait-signal 2000",
	    "child touch 0 0x2000", "child touch 0 0x3000", "child pm 0 0x2000", "pm 0 0x2000") },
	{ "o3_memfd_child_late", 0, "", "memfd shared with a default-policy child; read() of it",
	  S("mapmem memfd 0x10000", "fill 0 0xce", "fork", "child touch 0 0x2000",
	    "madvise 0 0x2000 4096 hwpoison", "child wait-signal 500", "child touch 0 0x2000",
	    "pread 0 0x2000 4096", "pread 0 0x1000 8192", "pread 0 0x3000 4096") },
	{ "o4_tmpfs_file", 0, "", "a tmpfs file dirtied through the mapping; pread, fsync",
	  S("mapmem file 0x10000 $TMPFS/mford-tmpfs", "fill 0 0xce",
	    "madvise 0 0x2000 4096 hwpoison", "touch 0 0x2000", "pread 0 0x2000 4096",
	    "pread 0 0x3000 4096", "fsync 0", "fsync 0") },
	{ "o5_pagecache_clean", 0, "", "page cache of a disk file, written back: dropped",
	  S("mapmem file 0x10000 $DISK/mford-clean", "fill 0 0xce", "fsync 0", "pm 0 0x2000 =A",
	    "hc", "madvise 0 0x2000 4096 hwpoison", "touch 0 0x2000", "pm 0 0x2000",
	    "pread 0 0x2000 4096", "kpf $A", "hc") },
	/* (not read back with pread: Linux reads what was last written back,
	 * which memfail cannot know; see README) */
	{ "o6_pagecache_dirty", 0, "", "page cache of a disk file, dirty: fsync once",
	  S("mapmem file 0x10000 $DISK/mford-dirty", "fill 0 0xce",
	    "madvise 0 0x2000 4096 hwpoison", "touch 0 0x2000", "fsync 0", "fsync 0",
	    "pread 0 0x3000 4096", "touch 0 0x3000") },
	{ "o7_thp", 0, "", "anonymous THP (MADV_HUGEPAGE): split, lsb 12",
	  S("mapmem thp 0x400000", "fill 0 0xce", "madvise 0 0x102000 4096 hwpoison",
	    "touch 0 0x102000", "touch 0 0x100000", "touch 0 0x103000", "touch 0 0x300000") },
	{ "o8_hugetlb", 0, "hugetlb", "MAP_HUGETLB 2M: the whole huge page",
	  S("mapmem hugetlb 0x400000", "fill 0 0xce", "madvise 0 0x102000 4096 hwpoison",
	    "touch 0 0x102000", "touch 0 0x10000", "touch 0 0x1ff000", "touch 0 0x300000",
	    "pm 0 0x102000") },
	{ "o9_soft_offline_anon", 0, "root", "MADV_SOFT_OFFLINE of an anonymous page",
	  S("mapmem anon 0x10000", "fill 0 0xce", "pm 0 0x2000 =A", "hc",
	    "madvise 0 0x2000 4096 soft_offline", "touch 0 0x2000", "pm 0 0x2000", "kpf $A",
	    "hc", "madvise 0 0x2000 4096 soft_offline") },
	{ "o10_soft_offline_thp", 0, "", "MADV_SOFT_OFFLINE of a page of a THP",
	  S("mapmem thp 0x400000", "fill 0 0xce", "madvise 0 0x102000 4096 soft_offline",
	    "touch 0 0x102000", "touch 0 0x103000") },
	{ "o11_twice", 0, "", "the same page twice, then another page of the same 2M",
	  S("mapmem anon 0x400000", "fill 0 0xce", "madvise 0 0x102000 4096 hwpoison",
	    "madvise 0 0x102000 4096 hwpoison", "madvise 0 0x110000 4096 hwpoison",
	    "touch 0 0x110000") },
	{ "o12_range", 0, "", "MADV_HWPOISON of three pages at once",
	  S("mapmem anon 0x10000", "fill 0 0xce", "madvise 0 0x2000 12288 hwpoison",
	    "touch 0 0x2000", "touch 0 0x3000", "touch 0 0x4000", "touch 0 0x5000") },
	{ "o13_fork_after", 0, "", "a child forked after the poison inherits it",
	  S("mapmem anon 0x10000", "fill 0 0xce", "madvise 0 0x2000 4096 hwpoison", "fork",
	    "child touch 0 0x2000", "child touch 0 0x3000", "child pm 0 0x2000") },
	{ "o14_thread", 0, "", "AR to the thread that touches",
	  S("mapmem anon 0x10000", "fill 0 0xce", "madvise 0 0x2000 4096 hwpoison",
	    "thread-touch 0 0x2000") },
	{ "o15_sysctl_early_kill", 0, "root", "vm.memory_failure_early_kill=1 written by the program",
	  S("fwrite /proc/sys/vm/memory_failure_early_kill 1", "fcat /proc/sys/vm/memory_failure_early_kill",
	    "mapmem anon-shared 0x10000", "fill 0 0xce", "fork", "child touch 0 0x2000",
	    "madvise 0 0x2000 4096 hwpoison", "child wait-signal 2000",
	    "fwrite /proc/sys/vm/memory_failure_early_kill 2",
	    "fwrite /proc/sys/vm/memory_failure_early_kill 0") },
	{ "o16_corrupt_pfn", 0, "root", "debugfs corrupt-pfn of an early-kill process's page, by another",
	  S("fork", "mapmem anon 0x10000", "fill 0 0xce", "prctl set early", "pm 0 0x3000 =A",
	    "child fwrite /sys/kernel/debug/hwpoison/corrupt-pfn $A", "wait-signal 2000",
	    "touch 0 0x3000", "touch 0 0x4000", "kpf $A") },
	{ "o17_hard_offline_late", 0, "root", "hard_offline_page of a default-policy process's page",
	  S("fork", "mapmem anon 0x10000", "fill 0 0xce", "pm 0 0x3000 =A",
	    "child fwrite /sys/devices/system/memory/hard_offline_page $A@", "wait-signal 500",
	    "touch 0 0x3000", "kpf $A") },
	{ "o18_nonroot", 0, "root", "after setresuid(65534): EPERM, EACCES",
	  S("mapmem anon 0x10000", "fill 0 0xce", "pm 0 0x2000 =A", "setuid 65534",
	    "madvise 0 0x2000 4096 hwpoison", "madvise 0 0x2000 4096 soft_offline",
	    "fwrite /sys/kernel/debug/hwpoison/corrupt-pfn $A",
	    "fwrite /sys/devices/system/memory/hard_offline_page $A@", "kpf $A",
	    "touch 0 0x2000") },
	{ "o19_blocked_sigbus", 0, "", "SIGBUS blocked during madvise",
	  S("fork", "child mapmem anon 0x10000", "child fill 0 1", "child handler block",
	    "child madvise 0 0x2000 4096 hwpoison") },
	{ "o20_ignored_sigbus", 0, "", "SIGBUS ignored during madvise",
	  S("fork", "child mapmem anon 0x10000", "child fill 0 1", "child handler ignore",
	    "child madvise 0 0x2000 4096 hwpoison") },
	{ "o21_mlock", 0, "", "an mlocked anonymous page",
	  S("mapmem mlock 0x10000", "fill 0 0xce", "madvise 0 0x2000 4096 hwpoison",
	    "touch 0 0x2000", "touch 0 0x3000") },
	{ "o22_private_file", 0, "", "MAP_PRIVATE of a file: a page still the file's, one written",
	  S("mapmem pfile 0x10000 $DISK/mford-private", "touch 0 0x2000", "store 0 0x3000 7",
	    "madvise 0 0x2000 4096 hwpoison", "touch 0 0x2000", "madvise 0 0x3000 4096 hwpoison",
	    "touch 0 0x3000") },
	{ "o23_altstack", 0, "", "SIGBUS handled on a sigaltstack",
	  S("mapmem anon 0x10000", "fill 0 0xce", "madvise 0 0x2000 4096 hwpoison",
	    "altstack 0 0x2000") },
	{ NULL, 0, NULL, NULL, NULL },
};

int main(int argc, char **argv)
{
	return ord_main(argc, argv, "mford", scenarios);
}
