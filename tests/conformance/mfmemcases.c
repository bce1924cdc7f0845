// SPDX-License-Identifier: MIT
/*
 * tests/conformance/mfmemcases.c: more ordinary-memory scenarios whose
 * transcripts are compared with a real kernel's (scenarios m*, the cases
 * mford.c's o* do not cover): shared pages a forked child never touched,
 * pages shared copy-on-write with a child, fork and exec after poison,
 * PR_MCE_KILL's inheritance and its bad arguments, madvise on what it
 * cannot poison, soft offline of hugetlb and shared pages and through
 * sysfs, unpoison, the thread an early-kill AO goes to.  The engine and
 * the script language are ordscript.c's.
 *
 *   mfmemcases list [-v]   scenario names (-v: early_kill, needs, description)
 *   mfmemcases run NAME    run one scenario, print its transcript
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stddef.h>

#include "ordscript.h"

#define UNPOISON "fwrite /sys/kernel/debug/hwpoison/unpoison-pfn "
#define SOFT_OFFLINE "fwrite /sys/devices/system/memory/soft_offline_page "

static const struct scenario scenarios[] = {
	{ "m1_shared_untouched_early", 0, "", "MAP_SHARED|MAP_ANONYMOUS, an early-kill child that never touched it",
	  S("mapmem anon-shared 0x10000", "fill 0 0xce", "fork", "child prctl set early",
	    "child pm 0 0x2000", "madvise 0 0x2000 4096 hwpoison", "child sleep 100", "child wait-signal 2000",
	    "child pm 0 0x2000", "child touch 0 0x2000", "child touch 0 0x3000", "pm 0 0x2000") },
	{ "m2_memfd_untouched_late", 0, "", "memfd, a default-policy child that never touched it",
	  S("mapmem memfd 0x10000", "fill 0 0xce", "fork", "madvise 0 0x2000 4096 hwpoison",
	    "child wait-signal 500", "child pm 0 0x2000", "child touch 0 0x2000",
	    "child touch 0 0x3000", "child pread 0 0x2000 4096") },
	{ "m3_cow_child_default", 0, "root", "a private page shared copy-on-write with a default-policy child",
	  S("mapmem anon 0x10000", "fill 0 0xce", "fork", "child touch 0 0x2000", "pm 0 0x2000 =A",
	    "child pm 0 0x2000", "madvise 0 0x2000 4096 hwpoison", "child wait-signal 500",
	    "child pm 0 0x2000", "child touch 0 0x2000", "child touch 0 0x3000", "touch 0 0x2000",
	    "pm 0 0x2000", "kpf $A") },
	{ "m4_cow_child_early", 0, "root", "a private page shared copy-on-write with an early-kill child",
	  S("mapmem anon 0x10000", "fill 0 0xce", "fork", "child prctl set early",
	    "child touch 0 0x2000", "pm 0 0x2000 =A", "child pm 0 0x2000",
	    "madvise 0 0x2000 4096 hwpoison", "child sleep 100", "child wait-signal 2000", "child pm 0 0x2000",
	    "child touch 0 0x2000", "child touch 0 0x3000") },
	{ "m5_cow_child_wrote", 0, "root", "the child wrote its copy before the parent's page was poisoned",
	  S("mapmem anon 0x10000", "fill 0 0xce", "fork", "child prctl set early",
	    "child store 0 0x2000 7", "pm 0 0x2000 =A", "child pm 0 0x2000 =B",
	    "madvise 0 0x2000 4096 hwpoison", "child wait-signal 500", "child touch 0 0x2000",
	    "child pm 0 0x2000", "touch 0 0x2000") },
	{ "m6_cow_child_poisons", 0, "", "the child poisons a page it shares copy-on-write with its parent",
	  S("mapmem anon 0x10000", "fill 0 0xce", "fork", "child touch 0 0x2000",
	    "child madvise 0 0x2000 4096 hwpoison", "child touch 0 0x2000", "pm 0 0x2000",
	    "touch 0 0x2000", "touch 0 0x3000") },
	{ "m7_poison_fork_exec", 0, "root", "poison, fork, exec in the child: the policy stays, the mapping goes",
	  S("prctl set early", "mapmem anon 0x10000", "fill 0 0xce", "pm 0 0x2000 =A",
	    "madvise 0 0x2000 4096 hwpoison", "hc", "fork", "child prctl get",
	    "child touch 0 0x2000", "child execserve", "child prctl get", "child touch 0 0x2000",
	    "child kpf $A", "child hc", "child mapmem anon 0x10000", "child touch 0 0x2000") },
	{ "m8_prctl_fork_exec", 0, "", "PR_MCE_KILL_GET after fork and after exec",
	  S("prctl get", "prctl set late", "prctl get", "fork", "child prctl get",
	    "child prctl set early", "child prctl get", "child execserve", "child prctl get",
	    "child prctl clear", "child prctl get", "prctl get") },
	{ "m9_prctl_bad_args", 0, "", "PR_MCE_KILL and PR_MCE_KILL_GET with bad arguments",
	  S("prctlraw 34 0 0 0 0", "prctlraw 34 1 0 0 0", "prctlraw 34 0 0 0 1", "prctlraw 33 2 0 0 0",
	    "prctlraw 33 0 1 0 0", "prctlraw 33 1 1 1 0", "prctlraw 33 1 1 0 1", "prctlraw 34 0 0 0 0",
	    "prctlraw 33 1 5 0 0", "prctlraw 34 0 0 0 0", "prctlraw 33 1 1 0 0", "prctlraw 33 1 7 0 0",
	    "prctlraw 34 0 0 0 0", "prctlraw 33 0 0 0 0", "prctlraw 34 0 0 0 0") },
	{ "m10_madvise_bad_args", 0, "", "madvise HWPOISON/SOFT_OFFLINE: unaligned, empty, unmapped, PROT_NONE, across a hole",
	  S("mapmem anon 0x10000", "fill 0 0xce", "hc", "madvise 0 0x2001 4096 hwpoison",
	    "madvise 0 0x2000 0 hwpoison", "munmap 0 0x5000 0x1000",
	    "madvise 0 0x5000 4096 hwpoison", "madvise 0 0x5000 4096 soft_offline",
	    "mprotect 0 0x8000 0x1000 none", "madvise 0 0x8000 4096 hwpoison",
	    "madvise 0 0x8000 4096 soft_offline", "hc", "madvise 0 0x4000 0x2000 hwpoison",
	    "touch 0 0x4000", "touch 0 0x6000", "hc") },
	{ "m11_ro_private_file", 0, "root", "a read-only MAP_PRIVATE file mapping: a page read, one never touched",
	  S("mapmem pfile 0x10000 $DISK/mfm-ro", "mprotect 0 0 0x10000 r", "touch 0 0x2000",
	    "pm 0 0x2000 =A", "madvise 0 0x2000 4096 hwpoison", "touch 0 0x2000", "pm 0 0x2000",
	    "kpf $A", "madvise 0 0x5000 4096 hwpoison", "touch 0 0x5000") },
	{ "m12_untouched_shared_file", 0, "", "a MAP_SHARED page of a disk file never touched before the madvise",
	  S("mapmem file 0x10000 $DISK/mfm-untouched", "madvise 0 0x2000 4096 hwpoison",
	    "touch 0 0x2000", "pread 0 0x2000 4096", "fsync 0") },
	{ "m13_soft_offline_hugetlb", 0, "hugetlb", "MADV_SOFT_OFFLINE of a page of a hugetlb 2M page",
	  S("mapmem hugetlb 0x400000", "fill 0 0xce", "pm 0 0x102000 =A", "hc",
	    "madvise 0 0x102000 4096 soft_offline", "touch 0 0x102000", "touch 0 0x100000",
	    "touch 0 0x300000", "pm 0 0x102000", "hc") },
	{ "m14_soft_offline_memfd_shared", 0, "root", "MADV_SOFT_OFFLINE of a memfd page a child maps too",
	  S("mapmem memfd 0x10000", "fill 0 0xce", "fork", "child touch 0 0x2000", "pm 0 0x2000 =A",
	    "child pm 0 0x2000", "hc", "madvise 0 0x2000 4096 soft_offline", "pm 0 0x2000",
	    "child pm 0 0x2000", "child touch 0 0x2000", "touch 0 0x2000", "kpf $A", "hc",
	    "pread 0 0x2000 4096") },
	{ "m15_soft_offline_sysfs_anon", 0, "root", "soft_offline_page (sysfs) of an anonymous page's address",
	  S("mapmem anon 0x10000", "fill 0 0xce", "pm 0 0x2000 =A", "hc", SOFT_OFFLINE "$A@",
	    "pm 0 0x2000", "touch 0 0x2000", "kpf $A", "hc", SOFT_OFFLINE "$A@", "hc") },
	{ "m16_unpoison_then_touch", 0, "root", "unpoison-pfn of a poisoned anonymous page, then touch it",
	  S("mapmem anon 0x10000", "fill 0 0xce", "pm 0 0x2000 =A", "madvise 0 0x2000 4096 hwpoison",
	    "touch 0 0x2000", UNPOISON "$A", "kpf $A", "touch 0 0x2000", "pm 0 0x2000",
	    "store 0 0x2000 1") },
	{ "m17_hc_several", 0, "root", "HardwareCorrupted over three poisoned pages and their unpoison",
	  S("mapmem anon 0x10000", "fill 0 0xce", "pm 0 0x2000 =A", "pm 0 0x4000 =B", "pm 0 0x6000 =C",
	    "hc", "madvise 0 0x2000 4096 hwpoison", "madvise 0 0x4000 4096 hwpoison",
	    "madvise 0 0x6000 4096 hwpoison", "hc", UNPOISON "$B", "hc", "kpf $A", "kpf $B", "kpf $C",
	    UNPOISON "$A", UNPOISON "$C", "hc") },
	{ "m18_soft_offline_unpoison", 0, "root", "unpoison-pfn of a soft-offlined pfn",
	  S("mapmem anon 0x10000", "fill 0 0xce", "pm 0 0x2000 =A", "hc",
	    "madvise 0 0x2000 4096 soft_offline", "kpf $A", "hc", UNPOISON "$A", "kpf $A", "hc",
	    UNPOISON "$A", "pm 0 0x2000", "touch 0 0x2000") },
	{ "m19_thread_early_ao", 0, "", "an early-kill thread in a default-policy child gets the AO",
	  S("mapmem anon-shared 0x10000", "fill 0 0xce", "fork", "child thread prctl early",
	    "child touch 0 0x2000", "madvise 0 0x2000 4096 hwpoison", "child sleep 100", "child wait-signal 2000",
	    "child sigwho", "child touch 0 0x2000", "child sigwho") },
	{ "m20_thread_early_main", 0, "", "an early-kill main thread and a late thread: the AO to the main one",
	  S("mapmem anon-shared 0x10000", "fill 0 0xce", "fork", "child prctl set early",
	    "child thread prctl late", "child touch 0 0x2000", "madvise 0 0x2000 4096 hwpoison",
	    "child sleep 100", "child wait-signal 2000", "child sigwho") },
	{ "m21_thread_sysctl_early", 1, "", "vm.memory_failure_early_kill=1, a late main thread, a default-policy thread",
	  S("mapmem anon-shared 0x10000", "fill 0 0xce", "fork", "child prctl set late",
	    "child thread prctl default", "child touch 0 0x2000", "madvise 0 0x2000 4096 hwpoison",
	    "child sleep 100", "child wait-signal 2000", "child sigwho") },
	{ "m22_memfd_truncate", 0, "", "a poisoned memfd page: a new mapping faults, truncation takes it away",
	  S("mapmem memfd 0x10000", "fill 0 0xce", "hc", "madvise 0 0x2000 4096 hwpoison",
	    "mapsame 0 1", "touchsame 0x2000", "touchsame 0x3000", "ftruncate 0 0x1000",
	    "ftruncate 0 0x10000", "touch 0 0x2000", "touch 0 0x3000", "pread 0 0x2000 4096", "hc") },
	{ "m23_memfd_poison_then_fork", 0, "", "a memfd page poisoned, then fork(): the child's pagemap and touch",
	  S("mapmem memfd 0x10000", "fill 0 0xce", "madvise 0 0x2000 4096 hwpoison", "fork",
	    "child pm 0 0x2000", "child touch 0 0x2000", "child touch 0 0x3000", "child pm 0 0x2000",
	    "pm 0 0x2000") },
	{ "m24_thread_madvise", 0, "", "madvise from a second thread: the thread the AR goes to",
	  S("mapmem anon 0x10000", "fill 0 0xce", "thread-madvise 0 0x2000 4096 hwpoison",
	    "touch 0 0x2000", "thread-touch 0 0x2000", "thread-madvise 0 0x4000 4096 soft_offline",
	    "touch 0 0x4000") },
	{ "m25_sysv_shm", 0, "", "SysV shared memory (shmat)",
	  S("mapmem sysv 0x10000", "fill 0 0xce", "madvise 0 0x2000 4096 hwpoison", "touch 0 0x2000",
	    "touch 0 0x3000", "pm 0 0x2000") },
	/* last: the kernel panics (record-oracle.sh boots it on its own) */
	{ "m26_recovery_off", 0, "panic", "vm.memory_failure_recovery=0: memory_failure() panics",
	  S("fcat /proc/sys/vm/memory_failure_recovery",
	    "fwrite /proc/sys/vm/memory_failure_recovery 0",
	    "fcat /proc/sys/vm/memory_failure_recovery", "mapmem anon 0x10000", "fill 0 0xce",
	    "madvise 0 0x2000 4096 hwpoison", "touch 0 0x2000") },
	{ NULL, 0, NULL, NULL, NULL },
};

int main(int argc, char **argv)
{
	return ord_main(argc, argv, "mfmemcases", scenarios);
}
