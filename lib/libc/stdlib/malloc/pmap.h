/*
 * The pointer map: page number -> one word describing the extent that owns
 * the page.  A two-level radix tree over 48-bit addresses; reads take no
 * lock (entries are written with release stores while the owner's lock is
 * held and read with relaxed loads).
 *
 * An entry is two words.  The first is all free()'s fast path reads:
 *	bits 0..7	size class index (SZ_FREE for a free extent)
 *	bit 8		the page belongs to a slab
 *	bits 12..47	the extent's first byte (for a slab: the slab's base,
 *			so a region's offset needs no further load)
 * The second is the struct extent pointer, NULL when the page is not ours.
 * Writers store the extent before the bits; readers load the bits first.
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
#define	PMAP_SLAB	((uintptr_t)0x100)
#define	PMAP_SZIND_MASK	((uintptr_t)0xff)
#define	SZ_FREE		255u

struct extent;

struct pmap_entry {
	uintptr_t	bits;
	struct extent	*ext;
};

#define	PMAP_NONE	((struct pmap_entry){ 0, NULL })

/*
 * A leaf keeps the two words in separate arrays, so that the first words
 * free() reads are dense: one cache line covers 8 pages.
 */
struct pmap_leaf {
	uintptr_t	bits[(size_t)1 << PMAP_LG_LEAF];
	struct extent	*ext[(size_t)1 << PMAP_LG_LEAF];
};

/*
 * Root slots hold a leaf's address minus zero_leaf's, so that the all-zero
 * root (in .bss) points every slot at the zero leaf: a lookup needs no
 * NULL test, and the zero leaf's pages are never written.  Both live in
 * one object so that position-independent code finds both from one
 * address.
 */
struct pmap {
	struct pmap_leaf	zero_leaf;
	uintptr_t		root[(size_t)1 << PMAP_LG_ROOT];
};

extern HIDDEN struct pmap	pmap;

ALWAYS_INLINE struct pmap_leaf *
pmap_leaf_of(const void *ptr)
{
	uintptr_t p = (uintptr_t)ptr;

	return ((struct pmap_leaf *)((char *)&pmap.zero_leaf +
	    pmap.root[(p >> (LG_PAGE + PMAP_LG_LEAF)) &
	    (((uintptr_t)1 << PMAP_LG_ROOT) - 1)]));
}

ALWAYS_INLINE size_t
pmap_index(const void *ptr)
{
	return (((uintptr_t)ptr >> LG_PAGE) &
	    (((uintptr_t)1 << PMAP_LG_LEAF) - 1));
}

/* The first word only: what free()'s fast path needs. */
ALWAYS_INLINE uintptr_t
pmap_lookup_bits(const void *ptr)
{
	return (__atomic_load_n(&pmap_leaf_of(ptr)->bits[pmap_index(ptr)],
	    __ATOMIC_ACQUIRE));
}

ALWAYS_INLINE struct pmap_entry
pmap_lookup(const void *ptr)
{
	struct pmap_leaf *leaf = pmap_leaf_of(ptr);
	size_t i = pmap_index(ptr);
	struct pmap_entry e;

	e.bits = __atomic_load_n(&leaf->bits[i], __ATOMIC_ACQUIRE);
	e.ext = __atomic_load_n(&leaf->ext[i], __ATOMIC_RELAXED);
	return (e);
}

ALWAYS_INLINE struct extent *
pmap_entry_extent(struct pmap_entry e)
{
	return (e.ext);
}

ALWAYS_INLINE unsigned
pmap_entry_szind(struct pmap_entry e)
{
	return ((unsigned)(e.bits & PMAP_SZIND_MASK));
}

ALWAYS_INLINE bool
pmap_entry_is_slab(struct pmap_entry e)
{
	return ((e.bits & PMAP_SLAB) != 0);
}

/* The entry of a page of ext; ext_addr is ext->addr (extent.h). */
ALWAYS_INLINE struct pmap_entry
pmap_entry_make_at(struct extent *ext, uintptr_t ext_addr, unsigned szind,
    bool slab)
{
	struct pmap_entry e;

	e.bits = ext_addr | szind | (slab ? PMAP_SLAB : 0);
	e.ext = ext;
	return (e);
}

#define	pmap_entry_make(ext, szind, slab)				\
	pmap_entry_make_at((ext), (ext)->addr, (szind), (slab))

/* Sets the entries of npages pages from addr; false on success. */
bool	pmap_set_range(uintptr_t addr, size_t npages, struct pmap_entry e);
/* Sets the first and last page of [addr, addr + size). */
bool	pmap_set_ends(uintptr_t addr, size_t size, struct pmap_entry e);

#endif /* !MALLOC_PMAP_H */
