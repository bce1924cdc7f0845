// SPDX-License-Identifier: MIT
/*
 * preload/cow.c: private pages shared copy-on-write since fork().
 *
 * After fork() the parent's and the child's private pages are one page
 * of the real kernel until either writes it.  Poisoned, Linux unmaps it
 * from every process that still has it (its anon_vma).  memfail keys a
 * private page by process and address, so the poisoner tells memfaild
 * what the page is like (struct mf_ram_cow) and memfaild asks the
 * poisoner's relatives; each takes its page at the same address for the
 * same page only if the real kernel still shows it shared, in the same
 * fork lineage, with the same real pfn (when pagemap shows pfns) and the
 * same content.
 *
 * The lineage is a token made when the program starts (exec) and copied
 * by fork() with the rest of the memory: exactly the processes that can
 * share a private page have the same one.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/random.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "../util/util.h"
#include "preload.h"

#define PM_PFN_MASK	((1ULL << 55) - 1)
#define PM_EXCLUSIVE	(1ULL << 56)
#define PM_PRESENT	(1ULL << 63)

void cow_family_init(void)
{
	uint64_t t = 0;
	struct timespec ts;

	if (getrandom(&t, sizeof(t), GRND_NONBLOCK) != (ssize_t)sizeof(t)) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		t = ((uint64_t)getpid() << 40) ^ (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 20);
	}
	shim.family = t ? t : 1;
}

/*
 * A hash of the 4 KiB page at addr; 0 if it is all zeros (the zero page,
 * or a page anybody may have).  The page is the program's: another of
 * its threads may write it as we read (then it is no longer shared, and
 * the hash says so or the race is lost as the kernel's would be).
 */
__attribute__((no_sanitize_thread))
static uint64_t page_hash(uintptr_t addr)
{
	const volatile uint64_t *w = (const volatile uint64_t *)addr;
	uint64_t h = 0xcbf29ce484222325ULL, any = 0;
	size_t i;

	for (i = 0; i < MF_PAGE_SIZE / sizeof(*w); i++) {
		uint64_t x = w[i];

		any |= x;
		h = (h ^ x) * 0x100000001b3ULL;
		h ^= h >> 31;
	}
	if (!any)
		return 0;
	return h ? h : 1;
}

/*
 * The poisoner: is the private page at addr (faulted in, readable) shared
 * copy-on-write?  PM_MMAP_EXCLUSIVE clear says that the real kernel maps
 * it more than once.  Fills *c (family 0: not shared, or cannot tell).
 */
void cow_note_page(uintptr_t addr, int advice, struct mf_ram_cow *c)
{
	uint64_t e = pagemap_entry(addr);

	memset(c, 0, sizeof(*c));
	if (!(e & PM_PRESENT) || (e & PM_EXCLUSIVE))
		return;
	c->hash = advice == MADV_HWPOISON ? page_hash(addr) : 0;
	if (!c->hash) {
		/* all zeros (most likely the zero page, which Linux does not
		 * poison), or soft offline, which moves the page for all */
		if (advice == MADV_HWPOISON)
			shim_warn_once(4, "madvise(MADV_HWPOISON) at %#lx: a page of zeros not exclusive to this process (the zero page, or shared copy-on-write since fork()): memfail poisons it here only",
				       (unsigned long)addr);
		else
			shim_warn_once(5, "madvise(MADV_SOFT_OFFLINE) at %#lx: the page is shared copy-on-write since fork(); Linux moves it for every process that has it, memfail only here (the content is the same)",
				       (unsigned long)addr);
		return;
	}
	c->family = shim.family;
	c->real_pfn = e & PM_PFN_MASK;
	if (shim.relatives_unknown)
		shim_warn_once(6, "madvise(MADV_HWPOISON) at %#lx: the page is shared copy-on-write since fork(); a relative forked while memfail was idle in its parent keeps its copy unless it has used memfail since (Linux would unmap it there too)",
			       (unsigned long)addr);
}

/*
 * A relative, asked about a page another process poisoned (m->cow set):
 * is our page at m->page.addr still that page?  Private, anonymous,
 * present, not exclusive, ours not fenced already, same lineage, same
 * real pfn when both are known, same content.  *v gets the mapping.
 */
bool cow_same_page(const struct mf_ctl_ram *m, struct vma_info *v)
{
	uintptr_t addr = (uintptr_t)m->page.addr;
	struct mf_ram_page pg;
	struct ram_poison p;
	uint64_t e, pfn;

	if (m->cow.family != shim.family || m->page.shift != MF_PAGE_SHIFT ||
	    m->page.kind != MF_RAM_ANON_PAGE || addr % MF_PAGE_SIZE)
		return false;
	if (vma_find(addr, v, false) || !v->readable || v->hugetlb)
		return false;
	if (vma_page_nostate(v, addr, &pg) || pg.kind != MF_RAM_ANON_PAGE)
		return false;
	if (ram_poison_lookup(addr, &p))
		return false;	/* unmapped already: another page */
	e = pagemap_entry(addr);
	if (!(e & PM_PRESENT) || (e & PM_EXCLUSIVE))
		return false;
	pfn = e & PM_PFN_MASK;
	if (m->cow.real_pfn && pfn && pfn != m->cow.real_pfn)
		return false;
	return page_hash(addr) == m->cow.hash;
}
