/*
 * The pointer map: page number -> one word describing the extent that owns
 * the page.  A two-level radix tree over 48-bit addresses; reads take no
 * lock (entries are written with release stores while the owner's lock is
 * held and read with relaxed loads).
 *
 * An entry is two words.  The first is all free()'s fast path reads:
 *	bits 0..7	the fast index: a slab's class + 1, else 0
 *	bits 12..47	the extent's first byte (for a slab: the slab's base,
 *			so a region's offset needs no further load)
 *	bits 48..55	size class index (SZ_FREE for a free extent)
 *	bit 56		the page belongs to a slab
 * The fast index is what free() indexes its tables with: one byte load
 * names the class and, being 0 for everything that is not a slab page
 * (large and free extents, pages that are not ours), refuses those in
 * the same compare that refuses a pointer into a region (sizeclass.h).
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
#include "sztab.h"

#define	PMAP_LG_LEAF	18
#define	PMAP_LG_ROOT	(48 - LG_PAGE - PMAP_LG_LEAF)
#define	PMAP_FAST_MASK	((uintptr_t)0xff)
#define	PMAP_ADDR_MASK	((((uintptr_t)1 << 48) - 1) & ~PAGE_MASK)
#define	PMAP_SZIND_SHIFT 48
#define	PMAP_SLAB	((uintptr_t)1 << 56)
/* An entry's bits other than the address, for a page of a slab of ind. */
#define	PMAP_SLAB_TAG(ind)						\
	(((uintptr_t)(ind) + 1) | (uintptr_t)(ind) << PMAP_SZIND_SHIFT | PMAP_SLAB)
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
 * address, and so do the size-class tables, which free() reads with the
 * root (one lea fewer; it costs a page of .bss of their own).
 */
struct pmap {
	struct pmap_leaf	zero_leaf;
	uintptr_t		root[(size_t)1 << PMAP_LG_ROOT];
	struct sz_tables	sz;	/* sizeclass.h's tables: sz_tab */
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

/*
 * The first word only: what free()'s fast path needs.  The leaf offset
 * and the word's index are added before the base, so that the load is
 * one base + index instruction.
 */
ALWAYS_INLINE uintptr_t
pmap_lookup_bits(const void *ptr)
{
	uintptr_t p = (uintptr_t)ptr;
	uintptr_t off = pmap.root[(p >> (LG_PAGE + PMAP_LG_LEAF)) &
	    (((uintptr_t)1 << PMAP_LG_ROOT) - 1)] +
	    pmap_index(ptr) * sizeof(uintptr_t);

	/* Keeps the compiler from adding the base first (one more add). */
	__asm__("" : "+r" (off));
	return (__atomic_load_n((uintptr_t *)((char *)&pmap.zero_leaf + off),
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
	return ((unsigned)(e.bits >> PMAP_SZIND_SHIFT) & 0xff);
}

/* The extent's first byte (a slab's base). */
ALWAYS_INLINE uintptr_t
pmap_entry_base(struct pmap_entry e)
{
	return (e.bits & PMAP_ADDR_MASK);
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

	e.bits = ext_addr | (slab ? PMAP_SLAB_TAG(szind) :
	    (uintptr_t)szind << PMAP_SZIND_SHIFT);
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
