/*
 * The size classes' constants and table types, without the functions
 * (sizeclass.h): pmap.h needs struct sz_tables, which struct pmap holds,
 * before sizeclass.h's functions can be compiled against it.
 */
#ifndef MALLOC_SZTAB_H
#define	MALLOC_SZTAB_H

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
/*
 * The most regions a slab may have: the 16-byte class's page holds 256.
 * (512 until 2026-11, which no class used: the bitmap's 4 words more made
 * an extent descriptor 192 bytes instead of 128.)
 */
#define	SC_SLAB_MAXREGS	256
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
 * base register.  The object is a member of struct pmap (pmap.h), so that
 * free() reaches it and the pointer map's root from one register.
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

#endif /* !MALLOC_SZTAB_H */
