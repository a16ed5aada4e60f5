/*
 * Size classes and slab geometry.  The tables are computed once at boot,
 * before any allocation, and are read-only afterwards.
 */
#include <stdlib.h>

#include "pmap.h"
#include "sizeclass.h"

struct bin_info	bin_infos[SC_NBINS];

static size_t
class_size(unsigned ind)
{
	unsigned lg, k;

	if (ind < 4)
		return ((size_t)(ind + 1) << LG_QUANTUM);
	lg = 6 + (ind - 4) / 4;
	k = (ind - 4) % 4 + 1;
	return (((size_t)1 << lg) + (size_t)k * ((size_t)1 << (lg - 2)));
}

unsigned
sz_size2index_compute(size_t size)
{
	unsigned lg;
	size_t delta;

	if (size <= 64)
		return (size == 0 ? 0 : (unsigned)((size - 1) >> LG_QUANTUM));
	lg = 63 - (unsigned)__builtin_clzll(size - 1);
	delta = (size_t)1 << (lg - 2);
	return (4 + 4 * (lg - 6) +
	    (unsigned)((size - ((size_t)1 << lg) + delta - 1) >> (lg - 2)) - 1);
}

/*
 * The fewest pages (at most 16) that hold the class with at most 1/64
 * waste and at least 8 regions (or as many as 16 pages can hold): slabs of
 * big classes then hold enough regions that a thread cache refill does not
 * create and destroy a slab each time, and small classes still pack
 * superpages densely.
 */
static void
bin_info_init(unsigned ind, size_t reg_size)
{
	struct bin_info *bi = &bin_infos[ind];
	size_t npages, best = 0, best_waste = SIZE_MAX, slab, nregs, waste;
	size_t want = 16 * PAGE / reg_size;
	uint64_t d0, inv, m, e;
	unsigned i;

	if (want > 8)
		want = 8;
	for (npages = 1; npages <= 16; npages++) {
		slab = npages * PAGE;
		nregs = slab / reg_size;
		if (nregs < want || nregs > SC_SLAB_MAXREGS)
			continue;
		waste = slab - nregs * reg_size;
		if (waste * 64 <= slab) {
			best = npages;
			break;
		}
		if (best == 0 || waste * best * PAGE < best_waste * slab) {
			best = npages;
			best_waste = waste;
		}
	}
	bi->reg_size = (uint32_t)reg_size;
	bi->slab_npages = (uint8_t)best;
	bi->nregs = (uint16_t)(best * PAGE / reg_size);
	/* The region check of sizeclass.h; its m * d wraps to e. */
	m = UINT64_MAX / reg_size + 1;
	e = m * reg_size;
	if (e == 0 && bi->nregs * reg_size != best * PAGE)
		abort();	/* a power of two that leaves a slab tail */
	sz_tab.region_negmul[ind + 1] = 0 - m;
	sz_tab.region_add[ind + 1] = (uint64_t)PMAP_SLAB_TAG(ind) * m;
	sz_tab.region_lim[ind + 1] = e == 0 ? 1 : bi->nregs * e;
	sz_tab.div_shift[ind] = (uint8_t)__builtin_ctzll(reg_size);
	d0 = reg_size >> sz_tab.div_shift[ind];
	/* Newton's iteration doubles the correct low bits each step. */
	inv = d0;
	for (i = 0; i < 6; i++)
		inv *= 2 - d0 * inv;
	sz_tab.div_inv[ind] = inv;
}

void
sizeclass_boot(void)
{
	unsigned ind;
	size_t s;

	for (ind = 0; ind < SC_NSIZES; ind++)
		sz_tab.index2size[ind] = class_size(ind);
	for (s = 0, ind = 0; s <= SC_LOOKUP_MAX; s += QUANTUM) {
		while (class_size(ind) < s)
			ind++;
		sz_tab.lookup[s >> LG_QUANTUM] = (uint8_t)ind;
	}
	for (s = 0; s <= SC_DIRECT_MAX; s++)
		sz_tab.lookup_direct[s] =
		    sz_tab.lookup[(s + QUANTUM - 1) >> LG_QUANTUM];
	for (ind = 0; ind < SC_NBINS; ind++)
		bin_info_init(ind, class_size(ind));
}

/* Page-size classes: 1, 2, 3 pages, then four per doubling. */
unsigned
psz_floor_index(size_t npages)
{
	unsigned lg;

	if (npages < 4)
		return ((unsigned)npages - 1);
	lg = 63 - (unsigned)__builtin_clzll(npages);
	return (3 + 4 * (lg - 2) +
	    (unsigned)((npages - ((size_t)1 << lg)) >> (lg - 2)));
}

static size_t
psz_class_npages(unsigned ind)
{
	unsigned lg;

	if (ind < 3)
		return (ind + 1);
	lg = 2 + (ind - 3) / 4;
	return (((size_t)1 << lg) + (size_t)((ind - 3) % 4) * ((size_t)1 << (lg - 2)));
}

unsigned
psz_ceil_index(size_t npages)
{
	unsigned f = psz_floor_index(npages);

	return (psz_class_npages(f) == npages ? f : f + 1);
}
