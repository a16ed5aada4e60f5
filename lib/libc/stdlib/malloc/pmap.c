/*
 * Pointer map maintenance.  Leaves (4 MiB of zeroed metadata each, one per
 * GiB of address space in use; only pages touched become resident) are
 * created on first use and never freed, so a lock-free reader never sees a
 * leaf disappear.
 */
#include "base.h"
#include "pmap.h"

struct pmap	pmap;

static struct pmap_leaf *
pmap_leaf(uintptr_t addr)
{
	uintptr_t *slot, off, expected;
	struct pmap_leaf *leaf;

	slot = &pmap.root[(addr >> (LG_PAGE + PMAP_LG_LEAF)) &
	    (((uintptr_t)1 << PMAP_LG_ROOT) - 1)];
	off = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
	if (off != 0)
		return ((struct pmap_leaf *)((char *)&pmap.zero_leaf + off));
	leaf = base_alloc(sizeof(struct pmap_leaf), PAGE);
	if (leaf == NULL)
		return (NULL);
	off = (uintptr_t)leaf - (uintptr_t)&pmap.zero_leaf;
	expected = 0;
	/* A racing thread may win; its leaf is used and ours is wasted. */
	if (!__atomic_compare_exchange_n(slot, &expected, off, false,
	    __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		off = expected;
	return ((struct pmap_leaf *)((char *)&pmap.zero_leaf + off));
}

bool
pmap_set_range(uintptr_t addr, size_t npages, struct pmap_entry e)
{
	struct pmap_leaf *leaf = NULL;
	uintptr_t page;
	size_t i;

	for (i = 0; i < npages; i++, addr += PAGE) {
		page = (addr >> LG_PAGE) & (((uintptr_t)1 << PMAP_LG_LEAF) - 1);
		if (leaf == NULL || page == 0) {
			leaf = pmap_leaf(addr);
			if (leaf == NULL)
				return (true);
		}
		__atomic_store_n(&leaf->ext[page], e.ext, __ATOMIC_RELAXED);
		__atomic_store_n(&leaf->bits[page], e.bits, __ATOMIC_RELEASE);
	}
	return (false);
}

bool
pmap_set_ends(uintptr_t addr, size_t size, struct pmap_entry e)
{
	if (pmap_set_range(addr, 1, e))
		return (true);
	if (size > PAGE && pmap_set_range(addr + size - PAGE, 1, e))
		return (true);
	return (false);
}
