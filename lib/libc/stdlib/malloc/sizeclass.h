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
 * lookup and index2size, free div_inv, div_shift, nregs and index2size,
 * each one instruction off the same base register.
 *
 * A pointer p of the slab at base is the start of region i exactly when
 * ror(off * div_inv, div_shift) == i < nregs, with off = p - base: one
 * multiply validates and indexes a pointer.
 */
struct sz_tables {
	size_t		index2size[SC_NSIZES];
	uint64_t	div_inv[SC_NBINS];	/* inverse of reg_size's odd part */
	uint64_t	nregs[SC_NBINS];	/* 64-bit: compared with a product */
	uint8_t		div_shift[SC_NBINS];	/* log2 of reg_size's power of 2 */
	uint8_t		lookup[(SC_LOOKUP_MAX >> LG_QUANTUM) + 1];
};

extern HIDDEN struct sz_tables	sz_tab;
extern HIDDEN struct bin_info	bin_infos[SC_NBINS];

void	sizeclass_boot(void);
unsigned sz_size2index_compute(size_t size);

/* The class of a size up to SC_LOOKUP_MAX: one table load. */
ALWAYS_INLINE unsigned
sz_lookup_index(size_t size)
{
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

/* Region index of off within a slab of class ind, or >= nregs if invalid. */
ALWAYS_INLINE uint64_t
sz_region_index(unsigned ind, uintptr_t off)
{
	uint64_t q = (uint64_t)off * sz_tab.div_inv[ind];
	unsigned k = sz_tab.div_shift[ind];

	return ((q >> k) | (q << ((64 - k) & 63)));
}

/* Whether off is a region start within a slab of class ind. */
ALWAYS_INLINE bool
sz_region_valid(unsigned ind, uintptr_t off)
{
	return (sz_region_index(ind, off) < sz_tab.nregs[ind]);
}

unsigned	psz_floor_index(size_t npages);
unsigned	psz_ceil_index(size_t npages);

#endif /* !MALLOC_SIZECLASS_H */
