/*
 * The pointer map: page number -> one word describing the extent that owns
 * the page.  A two-level radix tree over 48-bit addresses; reads take no
 * lock (entries are written with release stores while the owner's lock is
 * held and read with relaxed loads).
 *
 * Entry layout (0 means "not ours"):
 *	bit 0		the page belongs to a slab
 *	bits 6..47	the struct extent pointer (descriptors are 64-aligned)
 *	bits 48..55	size class index, or SZ_FREE for a free extent
 *
 * Every page of a slab is mapped (interior pointers are looked up on free);
 * active large extents and free extents map their first and last pages,
 * which is all that free() and neighbour coalescing need.
 */
#ifndef MALLOC_PMAP_H
#define	MALLOC_PMAP_H

#include "compat.h"

#define	PMAP_LG_LEAF	18
#define	PMAP_LG_ROOT	(48 - LG_PAGE - PMAP_LG_LEAF)
#define	PMAP_SLAB	((uintptr_t)1)
#define	PMAP_EXT_MASK	((((uintptr_t)1 << 48) - 1) & ~(uintptr_t)63)
#define	SZ_FREE		255u

struct extent;

/*
 * Root slots hold a leaf's address minus pmap_zero_leaf's, so that the
 * all-zero root (in .bss) points every slot at the zero leaf: a lookup
 * needs no NULL test, and the zero leaf's pages are never written.
 */
extern HIDDEN uintptr_t	pmap_root[(size_t)1 << PMAP_LG_ROOT];
extern HIDDEN uintptr_t	pmap_zero_leaf[(size_t)1 << PMAP_LG_LEAF];

ALWAYS_INLINE uintptr_t
pmap_lookup(const void *ptr)
{
	uintptr_t p = (uintptr_t)ptr, *leaf;

	leaf = (uintptr_t *)((char *)pmap_zero_leaf +
	    pmap_root[(p >> (LG_PAGE + PMAP_LG_LEAF)) &
	    (((uintptr_t)1 << PMAP_LG_ROOT) - 1)]);
	return (__atomic_load_n(&leaf[(p >> LG_PAGE) &
	    (((uintptr_t)1 << PMAP_LG_LEAF) - 1)], __ATOMIC_RELAXED));
}

ALWAYS_INLINE struct extent *
pmap_entry_extent(uintptr_t entry)
{
	return ((struct extent *)(entry & PMAP_EXT_MASK));
}

ALWAYS_INLINE unsigned
pmap_entry_szind(uintptr_t entry)
{
	return ((unsigned)(entry >> 48) & 0xff);
}

ALWAYS_INLINE uintptr_t
pmap_entry_make(struct extent *ext, unsigned szind, bool slab)
{
	return ((uintptr_t)ext | ((uintptr_t)szind << 48) |
	    (slab ? PMAP_SLAB : 0));
}

/* Sets the entries of npages pages from addr; false on success. */
bool	pmap_set_range(uintptr_t addr, size_t npages, uintptr_t entry);
/* Sets the first and last page of [addr, addr + size). */
bool	pmap_set_ends(uintptr_t addr, size_t size, uintptr_t entry);

#endif /* !MALLOC_PMAP_H */
