/*
 * Size classes: the only module that knows the size-class formula.
 *
 * Classes are 16, 32, 48, 64 and then four per doubling (80, 96, 112, 128,
 * 160, ...), as jemalloc's with a 16-byte quantum.  Classes up to
 * SC_SMALL_MAX are "small" and live in slabs; larger ones are page runs.
 * Sizes up to SC_LOOKUP_MAX are mapped to a class by one table load.
 */
#ifndef MALLOC_SIZECLASS_H
#define	MALLOC_SIZECLASS_H

#include "compat.h"

#define	LG_QUANTUM	4
#define	QUANTUM		((size_t)1 << LG_QUANTUM)
#define	SC_NBINS	35			/* small classes: 16..14336 */
#define	SC_SMALL_MAX	((size_t)14336)
#define	SC_LARGE_MIN	((size_t)16384)
#define	SC_LOOKUP_MAX	((size_t)32768)
#define	SC_DIRECT_MAX	((size_t)1024)		/* lookup_direct's sizes */
#define	SC_LG_MAX	46			/* largest class: 64 TiB */
#define	SC_NSIZES	(4 + 4 * (SC_LG_MAX - 6))
#define	SC_MAX		((size_t)1 << SC_LG_MAX)
#define	SC_SLAB_MAXREGS	512
#define	SC_BITMAP_WORDS	(SC_SLAB_MAXREGS / 64)

/* Page-size classes, for the extent caches' best-fit buckets. */
#define	PSZ_N		136

/* Slab geometry of one small class. */
struct bin_info {
	uint32_t	reg_size;
	uint16_t	nregs;
	uint8_t		slab_npages;
};

/*
 * The tables the fast paths read, in one object so that position-
 * independent code reaches all of them from one address: malloc reads
 * lookup, free the region_* tables, each one instruction off the same
 * base register.
 *
 * free() validates a pointer with one multiply (Lemire, Kaser and Kurz,
 * "Faster remainder by direct computation", 2019): with d a class's size
 * and m = ceil(2^64 / d), an offset off < 2^32 is a multiple of d exactly
 * when off * m mod 2^64 < m, and the product is then (off / d) * e, where
 * e = m * d - 2^64 < d.  So off is the start of one of a slab's nregs
 * regions exactly when off * m < lim, lim = nregs * e; when d is a power
 * of two e is 0, lim is 1 and the slab has no tail (sizeclass.c checks).
 * The region_* tables are indexed by a pointer-map entry's fast index
 * (pmap.h: class + 1 for a slab page, else 0, whose lim of 0 refuses every
 * pointer), and region_add[i] is the product of the entry's non-address
 * bits, so that (p - entry) * m + add is off * m with no masking.
 *
 * ror(off * div_inv, div_shift) is a region's index (arena.c), the odd
 * part's inverse times the offset rotated past the power of two.
 */
struct sz_tables {
	size_t		index2size[SC_NSIZES];
	uint64_t	region_negmul[SC_NBINS + 1];	/* -m */
	uint64_t	region_add[SC_NBINS + 1];
	uint64_t	region_lim[SC_NBINS + 1];
	uint64_t	div_inv[SC_NBINS];	/* inverse of reg_size's odd part */
	uint8_t		div_shift[SC_NBINS];	/* log2 of reg_size's power of 2 */
	uint8_t		lookup[(SC_LOOKUP_MAX >> LG_QUANTUM) + 1];
	uint8_t		lookup_direct[SC_DIRECT_MAX + 1];
};

extern HIDDEN struct sz_tables	sz_tab;
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
