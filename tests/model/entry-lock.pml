/* SPDX-License-Identifier: MIT */
/*
 * tests/model/entry-lock.pml: the fsdax entry-lock protocol, for spin.
 *
 * memfail's rendition of Linux 4.19's dax_lock_mapping_entry(): the
 * entry of (file, index) is locked by memory_failure() from the lookup of
 * the poisoned block's owner to the end of signalling, and by truncate /
 * hole punch and by a new fault of that index while they change who maps
 * it.  The model plays one file index I of one file, two blocks of the
 * namespace (B, the block with the media error, and C, a clean one), one
 * memory_failure(pfn of B), one hole punch of I, and NP processes that
 * mmap, fault and munmap I.  spin checks every interleaving of them.
 *
 * What each process plays in memfail's code:
 *   memory_failure()  src/mm/memory-failure.c: memory_failure() and
 *                     mf_generic_kill_procs() (lookup, dax_lock_entry(),
 *                     poison, collect_mappings()/collect_procs(),
 *                     shootdown(), kill_procs(), dax_unlock_entry())
 *   punch()           the fsdax truncate / fallocate(PUNCH_HOLE) of I:
 *                     lock the entry, unmap I in every mapper, free the
 *                     block (its poison record moves to the free-space
 *                     poison list), remove the entry, unlock
 *   user(p)           a process under the shim: mmap of the file (its
 *                     vma joins the file's i_mmap), a fault of I (the
 *                     daemon maps the block, or gives SIGBUS on a
 *                     poisoned one), munmap
 *   invariants()      no code: watches the global invariants in every
 *                     state
 *
 * Shootdowns: memory_failure() asks each mapper's service thread to unmap
 * and waits for its answer (daemon/peer.c: peer_shootdown()); here that
 * is one step of memory_failure() per mapper, the answer immediate.  The
 * i_mmap walk (collect) and the vma list changes of mmap/munmap are each
 * one step, as under i_mmap_lock; `immap` is that lock where a step must
 * hold it across others (the broken lock order below).
 *
 * memfaild's event loop serialises its own work, so it runs a subset of
 * these interleavings; the model checks the protocol itself, as a kernel
 * with real concurrency would need it.
 *
 * Broken variants (each must FAIL; tests/scripts/model-check.sh checks
 * that spin catches them):
 *   -DBROKEN_NO_ENTRY_LOCK  memory_failure() does not lock the entry
 *   -DBROKEN_FAULT_NO_LOCK  a fault does not lock the entry
 *   -DBROKEN_NO_RECHECK     memory_failure() locks the entry but does not
 *                           check, under the lock, that I still holds B
 *   -DBROKEN_LOCK_ORDER     punch takes i_mmap_lock before the entry lock
 *                           and holds it across (order inversion)
 *   -DBROKEN_PUNCH_DROPS_POISON  punch frees a poisoned block without
 *                           moving its record to the free-space list
 */

#define NP	3		/* processes mapping the file (the invariants
			 * below spell out p = 0 .. 2) */
#define CUR	0		/* the one that injected / consumed: gets AR */

#define BLK_B	0		/* the block with the media error (the pfn) */
#define BLK_C	1		/* a clean block */
#define NOBLK	2		/* a hole: no block */

#define SIG_NONE 0
#define SIG_AR	1
#define SIG_AO	2

#ifndef MAXOPS
#define MAXOPS	3		/* mmap/fault/munmap calls per process */
#endif

/* the file */
byte entry = BLK_B;		/* I's entry: the block it maps, or NOBLK */
bool owned[2];			/* rmap: block b belongs to (file, I) */
bool elock;			/* I's entry lock */
bool immap;			/* i_mmap_lock held across steps */

/* poison records of block B */
bool rec_file;			/* recorded against the file's block */
bool rec_free;			/* on the free-space poison list */

/* the processes */
bool vma[NP];			/* a vma of p covers I (p is in i_mmap) */
byte pte[NP];			/* the block p's page table maps at I */
bool early[NP];			/* PR_MCE_KILL_EARLY */
byte sig[NP];			/* what memory_failure() sent p */

/* ghosts: where memory_failure() is, for the invariants */
bool noted;			/* memory_failure() recorded the poison */
bool mf_unmapped;		/* ... and unmapped B everywhere */
bool mf_done, punch_done;

/*
 * memory_failure() is about to use (file, I)'s metadata for B: the
 * entry, the file's poison record, its i_mmap, its mappers' addresses.
 * Truncate must not have freed them.
 */
#define touch()	assert(owned[BLK_B] && entry == BLK_B)

/* p maps B as memory_failure() should see it at this instant */
#define maps_b(p)	(vma[p] && entry == BLK_B && owned[BLK_B])

proctype memory_failure()
{
	bool coll[NP];		/* the mappers collected (struct collect) */
	byte p;

	/*
	 * pfn -> (file, I) through the extent rmap.  A free block is only
	 * recorded, on the free-space poison list, in the same transaction
	 * that found it free.
	 */
	atomic {
		if
		:: !owned[BLK_B] ->
			rec_free = true;
			noted = true;
			goto done
		:: else
		fi
	}

#ifndef BROKEN_NO_ENTRY_LOCK
	/* dax_lock_entry(): wait while punch or a fault holds it */
	atomic { !elock -> elock = true }
#endif

#ifndef BROKEN_NO_RECHECK
	/*
	 * Under the lock, I must still map B: punch may have freed it
	 * between the rmap lookup and the lock (and a fault may have
	 * filled the hole with another block).  Then B has no owner: it
	 * is free, and its poison goes on the free-space list.
	 */
	atomic {
		if
		:: entry != BLK_B ->
			assert(!owned[BLK_B]);
			rec_free = true;
			noted = true;
			goto unlock
		:: else
		fi
	}
#endif

	/* PageHWPoison: the error is recorded against the file's block */
	atomic {
		touch();
		rec_file = true;
		noted = true
	}

	/*
	 * collect_mappings(): every vma of I in i_mmap, one walk.  That
	 * set must be exactly the processes that map B now: none missed
	 * (a page table that maps B is always in it), none that no
	 * longer maps it.
	 */
	atomic {
		!immap;
		touch();
		for (p : 0 .. NP - 1) {
			coll[p] = vma[p];
			assert(coll[p] == maps_b(p));
			assert(pte[p] != BLK_B || coll[p])
		}
	}

	/* shootdown(): each mapper unmaps I and answers */
	p = 0;
	do
	:: p < NP ->
		atomic {
			if
			:: coll[p] ->
				touch();
				if
				:: pte[p] == BLK_B -> pte[p] = NOBLK
				:: else
				fi
			:: else
			fi;
			p++
		}
	:: else -> break
	od;
	mf_unmapped = true;

	/*
	 * kill_procs(): AR to the task that injected or consumed it, AO to
	 * early-kill mappers; late-kill ones are only unmapped.
	 */
	p = 0;
	do
	:: p < NP ->
		atomic {
			if
			:: coll[p] && (p == CUR || early[p]) ->
				touch();
				assert(sig[p] == SIG_NONE);
				sig[p] = (p == CUR -> SIG_AR : SIG_AO)
			:: else ->
				/* signalled only if collected */
				assert(sig[p] == SIG_NONE)
			fi;
			p++
		}
	:: else -> break
	od;

unlock:
#ifndef BROKEN_NO_ENTRY_LOCK
	elock = false;
#endif
done:
	assert(noted);
	mf_done = true
}

proctype punch()
{
	byte b, p;

#ifdef BROKEN_LOCK_ORDER
	atomic { !immap -> immap = true }
#endif
	/* lock I's entry; memory_failure() may hold it: wait */
	atomic { !elock -> elock = true }
	if
	:: entry == NOBLK -> goto unlock	/* already a hole */
	:: else
	fi;

	/* unmap_mapping_range() of I: every mapper, one i_mmap walk */
	atomic {
#ifndef BROKEN_LOCK_ORDER
		!immap;
#endif
		for (p : 0 .. NP - 1) {
			if
			:: pte[p] == entry -> pte[p] = NOBLK
			:: else
			fi
		}
	}

	/*
	 * Free the block and remove the entry, one metadata transaction:
	 * the block's poison record moves to the free-space poison list.
	 */
	atomic {
		b = entry;
		owned[b] = false;
		entry = NOBLK;
		if
		:: b == BLK_B && rec_file ->
			rec_file = false;
#ifndef BROKEN_PUNCH_DROPS_POISON
			rec_free = true
#else
			skip
#endif
		:: else
		fi
	}
unlock:
	elock = false;
#ifdef BROKEN_LOCK_ORDER
	immap = false;
#endif
	punch_done = true
}

proctype user(byte p)
{
	byte n, e;
	bool poisoned;

	do
	:: n < MAXOPS ->
		n++;
		if
		:: atomic { !vma[p] && !immap -> vma[p] = true }	/* mmap */
		:: atomic { vma[p] && !immap ->				/* munmap */
			vma[p] = false;
			pte[p] = NOBLK
		   }
		:: vma[p] && pte[p] == NOBLK ->				/* fault of I */
#ifndef BROKEN_FAULT_NO_LOCK
			/* wait on a locked entry */
			atomic { !elock -> elock = true };
#endif
			/* a hole: a write fault allocates a clean free block */
			atomic {
				if
				:: entry == NOBLK && !owned[BLK_B] && !rec_free ->
					owned[BLK_B] = true;
					entry = BLK_B
				:: entry == NOBLK && !owned[BLK_C] ->
					owned[BLK_C] = true;
					entry = BLK_C
				:: else		/* mapped already, or ENOSPC */
				fi
			};
			/* look the entry up ... */
			atomic {
				e = entry;
				poisoned = (e == BLK_B && rec_file)
			};
			/* ... and map it: a poisoned block is SIGBUS, not mapped */
			if
			:: e != NOBLK && !poisoned -> pte[p] = e
			:: else
			fi;
#ifndef BROKEN_FAULT_NO_LOCK
			elock = false
#else
			skip
#endif
		fi
	:: else -> break
	od
}

/*
 * The invariants, in every reachable state:
 *   poison never lost: once recorded, it is on the file's block while
 *     the file owns B, on the free-space list once B is free;
 *   nobody maps B once memory_failure() has unmapped it (a later fault
 *     gets SIGBUS, a freed poisoned block is never handed out again);
 *   no page table maps a freed block.
 */
#define POISON_KEPT	(!noted || \
			 (owned[BLK_B] && rec_file && !rec_free) || \
			 (!owned[BLK_B] && rec_free && !rec_file))
#define NOT_B(p)	(pte[p] != BLK_B)
#define B_UNMAPPED	(!mf_unmapped || (NOT_B(0) && NOT_B(1) && NOT_B(2)))
#define LIVE(p)		(pte[p] == NOBLK || owned[pte[p]])
#define NO_FREED_MAPPED	(LIVE(0) && LIVE(1) && LIVE(2))

proctype invariants()
{
end:
	atomic {
		!(POISON_KEPT && B_UNMAPPED && NO_FREED_MAPPED) ->
		assert(POISON_KEPT);
		assert(B_UNMAPPED);
		assert(NO_FREED_MAPPED)
	}
}

/* every run ends with memory_failure() and the punch done */
ltl terminates { <> (mf_done && punch_done) }

init {
	atomic {
		owned[BLK_B] = true;
		/* p0 (the injector) and p1 (early kill) map B; p2 (late kill)
		 * has a vma of I it never faulted */
		vma[0] = true; pte[0] = BLK_B;
		vma[1] = true; pte[1] = BLK_B; early[1] = true;
		vma[2] = true; pte[2] = NOBLK;
		run memory_failure();
		run punch();
		run user(0);
		run user(1);
		run user(2);
		run invariants()
	}
}
