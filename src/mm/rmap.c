// SPDX-License-Identifier: MIT
/*
 * mm/rmap.c: tasks and their mappings of dax devices.  Each mapping is
 * linked twice: into its task (so a task's exit drops them all) and into
 * its device's i_mmap (so memory_failure() finds every mapper of a page).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../util/util.h"
#include "../fs/fs.h"
#include "mm.h"

void mf_task_init(struct mf_task *t, pid_t pid, uid_t uid, const char *comm,
		  void *peer)
{
	memset(t, 0, sizeof(*t));
	t->pid = pid;
	t->uid = uid;
	strlcpy_mf(t->comm, comm ? comm : "", sizeof(t->comm));
	list_init(&t->vmas);
	t->peer = peer;
}

void mf_task_exit(struct mf_task *t)
{
	struct mf_vma *vma, *tmp;

	list_for_each_entry_safe(vma, tmp, &t->vmas, task_node)
		mf_vma_remove(vma);
}

struct mf_vma *mf_vma_find(const struct mf_task *t, uint64_t id)
{
	struct mf_vma *vma;

	list_for_each_entry(vma, &t->vmas, task_node)
		if (vma->id == id)
			return vma;
	return NULL;
}

static int vma_insert(struct mf_task *t, struct dax_device *dax, uint64_t id,
		      uint64_t start, uint64_t len, uint64_t ino, uint64_t pgoff, int prot,
		      struct mf_vma **out)
{
	struct mf_vma *vma;
	int err;

	if (!len || start + len < start || (start | len) & (MF_PAGE_SIZE - 1))
		return -EINVAL;
	/*
	 * Ranges may overlap for a moment: a mapping cut in two registers its
	 * pieces before the whole goes, so that its pages never leave the
	 * rmap.  Ids are unique.
	 */
	/* as vm.max_map_count bounds a process's VMAs */
	if (t->nr_vmas >= MF_MAX_VMAS)
		return -ENOMEM;
	list_for_each_entry(vma, &t->vmas, task_node)
		if (vma->id == id)
			return -EEXIST;
	vma = calloc(1, sizeof(*vma));
	if (!vma)
		return -ENOMEM;
	/* the pages get their owner before anyone can map them (a file's
	 * pages have theirs in the file system's block map) */
	err = ino ? 0 : dax_set_owner(dax, pgoff, len >> MF_PAGE_SHIFT);
	if (err) {
		free(vma);
		return err;
	}
	vma->task = t;
	vma->dax = dax;
	vma->id = id;
	vma->start = start;
	vma->len = len;
	vma->pgoff = pgoff;
	vma->ino = ino;
	vma->prot = prot;
	list_add_tail(&vma->i_mmap, &dax->i_mmap);
	list_add_tail(&vma->task_node, &t->vmas);
	dax->nr_mmap++;
	t->nr_vmas++;
	if (out)
		*out = vma;
	return 0;
}

int mf_vma_insert(struct mf_task *t, struct dax_device *dax, uint64_t id,
		  uint64_t start, uint64_t len, uint64_t pgoff, int prot,
		  struct mf_vma **out)
{
	return vma_insert(t, dax, id, start, len, 0, pgoff, prot, out);
}

int mf_vma_insert_file(struct mf_task *t, struct dax_device *dax, uint64_t id,
		       uint64_t start, uint64_t len, uint64_t ino, uint64_t pgoff, int prot,
		       struct mf_vma **out)
{
	int err;

	if (!ino || !dax->fs)
		return -EINVAL;
	/* a mapping keeps its file, as vm_file does: unlink frees it later */
	err = fs_iget(dax->fs, ino);
	if (err)
		return err;
	err = vma_insert(t, dax, id, start, len, ino, pgoff, prot, out);
	if (err)
		fs_iput(dax->fs, ino);
	return err;
}

bool mf_vma_unfaulted(const struct mf_vma *vma, uint64_t idx)
{
	uint32_t lo = 0, hi = vma->nr_unfaulted;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (vma->unfaulted[mid] == idx)
			return true;
		if (vma->unfaulted[mid] < idx)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

/*
 * The mapping a piece was cut from: it is still registered (a cut mapping
 * registers its pieces before the whole goes), maps the same file and has
 * the piece's pages at the piece's addresses.
 */
static struct mf_vma *vma_whole_of(const struct mf_vma *piece)
{
	struct mf_vma *vma;

	list_for_each_entry(vma, &piece->task->vmas, task_node)
		if (vma != piece && vma->dax == piece->dax && vma->ino == piece->ino &&
		    vma->start <= piece->start &&
		    piece->start + piece->len <= vma->start + vma->len &&
		    vma_covers(vma, piece->pgoff) &&
		    vma_address(vma, piece->pgoff) == piece->start)
			return vma;
	return NULL;
}

int mf_vma_inherit_unfaulted(struct mf_vma *piece)
{
	const struct mf_vma *whole = vma_whole_of(piece);
	uint64_t end = piece->pgoff + (piece->len >> MF_PAGE_SHIFT);
	uint32_t i, n = 0;

	if (!whole)
		return -ENOENT;
	for (i = 0; i < whole->nr_unfaulted; i++)
		n += whole->unfaulted[i] >= piece->pgoff && whole->unfaulted[i] < end;
	if (!n)
		return 0;
	piece->unfaulted = malloc(n * sizeof(*piece->unfaulted));
	if (!piece->unfaulted)
		return 0;	/* its touch is then a machine check, as for note_unfaulted() */
	for (i = 0; i < whole->nr_unfaulted; i++)
		if (whole->unfaulted[i] >= piece->pgoff && whole->unfaulted[i] < end)
			piece->unfaulted[piece->nr_unfaulted++] = whole->unfaulted[i];
	return 0;
}

void mf_vma_remove(struct mf_vma *vma)
{
	struct fs_sb *fs = vma->ino ? vma->dax->fs : NULL;
	uint64_t ino = vma->ino;

	list_del(&vma->i_mmap);
	list_del(&vma->task_node);
	vma->dax->nr_mmap--;
	vma->task->nr_vmas--;
	free(vma->unfaulted);
	free(vma);
	/* the last reference to an unlinked file frees it: nothing of this
	 * mapping may be asked to unmap it */
	if (fs)
		fs_iput(fs, ino);
}
