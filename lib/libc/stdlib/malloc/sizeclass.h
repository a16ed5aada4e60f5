/*
 * Size classes: the only module that knows the size-class formula.
 *
 * Classes are 16, 32, 48, 64 and then four per doubling (80, 96, 112, 128,
 * 160, ...), as jemalloc's with a 16-byte quantum.  Classes up to
 * SC_SMALL_MAX are "small" and live in slabs; larger ones are page runs.
 * Sizes up to SC_LOOKUP_MAX are mapped to a class by one table load.
 * The constants and table types are in sztab.h.
 */
#ifndef MALLOC_SIZECLASS_H
#define	MALLOC_SIZECLASS_H

#include "sztab.h"
#include "pmap.h"
/*
 * The tables live in struct pmap (pmap.h), behind the pointer map's root:
 * free() reads both, and one object is one base address (one lea) for
 * position-independent code.
 */
#define	sz_tab	(pmap.sz)
extern HIDDEN struct bin_info	bin_infos[SC_NBINS];

void	sizeclass_boot(void);
unsigned sz_size2index_compute(size_t size);

/*
 * The class of a size up to SC_LOOKUP_MAX: one table load.  Up to
 * SC_DIRECT_MAX the table has an entry per byte, which saves malloc the
 * rounding (an add and a shift) for the sizes most programs use, at one
 * compare more for the sizes above.
 */
ALWAYS_INLINE unsigned
sz_lookup_index(size_t size)
{
	if (likely(size <= SC_DIRECT_MAX))
		return (sz_tab.lookup_direct[size]);
	return (sz_tab.lookup[(size + QUANTUM - 1) >> LG_QUANTUM]);
}

ALWAYS_INLINE unsigned
sz_size2index(size_t size)
{
	if (likely(size <= SC_LOOKUP_MAX))
		return (sz_lookup_index(size));
	return (sz_size2index_compute(size));
}

ALWAYS_INLINE size_t
sz_index2size(unsigned ind)
{
	return (sz_tab.index2size[ind]);
}

/*
 * Whether size rounds to class ind: above the class below, up to ind's
 * size (two compares where rounding size costs a computation above
 * SC_LOOKUP_MAX).
 */
ALWAYS_INLINE bool
sz_fits_class(size_t size, unsigned ind)
{
	return (size <= sz_index2size(ind) &&
	    (ind == 0 || size > sz_index2size(ind - 1)));
}

/* Usable size of a request, or 0 when it exceeds SC_MAX. */
ALWAYS_INLINE size_t
sz_s2u(size_t size)
{
	if (unlikely(size > SC_MAX))
		return (0);
	return (sz_index2size(sz_size2index(size)));
}

/* Region index of off within a slab of class ind (a valid region start). */
ALWAYS_INLINE uint64_t
sz_region_index(unsigned ind, uintptr_t off)
{
	uint64_t q = (uint64_t)off * sz_tab.div_inv[ind];
	unsigned k = sz_tab.div_shift[ind];

	return ((q >> k) | (q << ((64 - k) & 63)));
}

/*
 * Whether p is a region start of the slab page whose pointer-map word is
 * bits; fi is the word's fast index (pmap.h).
 */
ALWAYS_INLINE bool
sz_region_start(uintptr_t fi, uintptr_t p, uintptr_t bits)
{
	/* (bits - p) * -m: gcc subtracts into bits, where p needs a copy. */
	return ((bits - p) * sz_tab.region_negmul[fi] + sz_tab.region_add[fi] <
	    sz_tab.region_lim[fi]);
}

/* Whether off is a region start within a slab of class ind. */
ALWAYS_INLINE bool
sz_region_valid(unsigned ind, uintptr_t off)
{
	return ((0 - (uint64_t)off) * sz_tab.region_negmul[ind + 1] <
	    sz_tab.region_lim[ind + 1]);
}

unsigned	psz_floor_index(size_t npages);
unsigned	psz_ceil_index(size_t npages);

#endif /* !MALLOC_SIZECLASS_H */
