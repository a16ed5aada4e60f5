/*
 * Thread-cache fill, flush and storage.  Bins are filled to half their
 * capacity on a miss and flushed down to half on overflow, so a thread
 * alternating around a boundary pays one batch per half-capacity ops.
 * The oldest items (bottom of the stack) are the ones flushed.
 *
 * Stack storage is recycled through stack_pool under pool_lock, so
 * thousands of short-lived threads reuse the same metadata.
 */
#include <string.h>

#include "arena.h"
#include "base.h"
#include "conf.h"
#include "harden.h"
#include "lock.h"
#include "pmap.h"
#include "tcache.h"

unsigned	tcache_nbins;
uint16_t	tcache_ncached_max[TCACHE_NBINS_MAX];
uint16_t	tcache_nfill[TCACHE_NBINS_MAX];
size_t		tcache_stack_nslots;
uint32_t	tcache_bin_start[TCACHE_NBINS_MAX];

/* Its key word (1) is neither a key (bit 63 set) nor 0. */
const uintptr_t	tcache_empty_block[2] = { 0, 1 };
void *const	tcache_empty_slot[1] = { (void *)tcache_empty_block };

static struct mlock	pool_lock = { PTHREAD_MUTEX_INITIALIZER, 0, 0,
			    RANK_TCACHES, false, false };
static void		**stack_pool;

void
tcache_boot(void)
{
	unsigned ind, n;

	tcache_nbins = 0;
	if (opt.tcache) {
		tcache_nbins = opt.tcache_max == 0 ? 0 :
		    sz_size2index(opt.tcache_max > SC_LOOKUP_MAX ?
		    SC_LOOKUP_MAX : opt.tcache_max) + 1;
		/* A class above tcache_max is not cached. */
		if (tcache_nbins > 0 &&
		    sz_index2size(tcache_nbins - 1) > opt.tcache_max)
			tcache_nbins--;
	}
	/* The nursery, for the small classes cached. */
	tcache_stack_nslots = (size_t)(tcache_nbins < SC_NBINS ? tcache_nbins :
	    SC_NBINS) * TCACHE_NURSERY_STRIDE;
	for (ind = 0; ind < tcache_nbins; ind++) {
		/*
		 * Twice a slab's regions, within [100, 200].  A bin's count
		 * is a random walk under mixed sizes, and a bin refilled or
		 * flushed to half of n needs some (n/2)^2 of its class's
		 * steps to refill or flush again, each moving n/2 blocks: the
		 * cost per operation falls as 1/n.  jemalloc's minimum is 20;
		 * 40 (until 2026-11) made window and larson 5% faster, and 100
		 * larson another 4% at 1 thread and 9% at 8 (5 interleaved
		 * runs; perf had 7% of larson -t 8 in refills, flushes and
		 * their locks, tcmalloc's 0.3%).  Peak RSS: larson -t 8 -10%,
		 * prodcons -p 4 +8% (consumers keep more blocks), the others
		 * unchanged.  Small programs are unaffected: bins start in the
		 * nursery.
		 */
		if (ind < SC_NBINS) {
			n = 2u * bin_infos[ind].nregs;
			n = n < 100 ? 100 : n > 200 ? 200 : n;
		} else
			n = 20;
		tcache_ncached_max[ind] = (uint16_t)n;
		/* Each bin's slots follow the slot for its empty block. */
		tcache_bin_start[ind] = (uint32_t)tcache_stack_nslots + 1;
		tcache_stack_nslots += n + 1;
		/*
		 * A refill is half the capacity, but at most TCACHE_FILL_BYTES
		 * (and at least 2 blocks): it writes the key into every block,
		 * and a program that uses one big block should not get twenty
		 * touched.  16 KiB rather than 64: python -c pass 256 KiB and
		 * perl -e 1 260 KiB smaller at peak, window and frag no slower.
		 */
		n = (n + 1) / 2;
		if (ind < SC_NBINS &&
		    n * sz_index2size(ind) > TCACHE_FILL_BYTES)
			n = (unsigned)(TCACHE_FILL_BYTES / sz_index2size(ind));
		tcache_nfill[ind] = (uint16_t)(n < 2 ? 2 : n);
	}
}

/* Every bin disabled: low == top == high == TCACHE_EMPTY. */
static void
tcache_bins_clear(struct tcache *tcache)
{
	unsigned ind;

	for (ind = 0; ind < TCACHE_NBINS_MAX; ind++)
		tcache->top[ind] = tcache->low[ind] = tcache->high[ind] =
		    TCACHE_EMPTY;
	memset(tcache->nrequests, 0, sizeof(tcache->nrequests));
	memset(tcache->moved, 0, sizeof(tcache->moved));
}

/*
 * Bytes of the fast path's frees into bin ind since its counts last
 * started over (tcache.h): a flush or the cache's destruction adds them to
 * freed_bytes (the fold) before it resets moved with nrequests and ncached.
 */
static uint64_t
tcache_bin_fast_freed(const struct tcache *tcache, unsigned ind)
{
	return ((tcache_bin_ncached(tcache, ind) + tcache->nrequests[ind] -
	    tcache->moved[ind]) * sz_index2size(ind));
}

uint64_t
tcache_fast_freed(const struct tcache *tcache)
{
	uint64_t bytes = tcache->freed_bytes;
	unsigned ind;

	for (ind = 0; ind < tcache_nbins; ind++)
		bytes += tcache_bin_fast_freed(tcache, ind);
	return (bytes);
}

void
tcache_frees_slow(struct tcache *tcache)
{
	unsigned ind;

	tcache->frees_slow = true;
	for (ind = 0; ind < tcache_nbins; ind++)
		if (tcache->low[ind] != TCACHE_EMPTY)
			tcache->high[ind] = tcache->low[ind];
}

/*
 * Bin ind's slots from slot, nslots of them, the n blocks it holds moved
 * there; below them the slot holding the empty block (tcache.h).
 */
static void
tcache_bin_place(struct tcache *tcache, unsigned ind, void **slot,
    unsigned nslots, unsigned n)
{
	slot[-1] = (void *)tcache_empty_block;
	if (n > 0)
		memcpy(slot, tcache->low[ind], n * sizeof(void *));
	tcache->low[ind] = slot;
	tcache->top[ind] = slot + n;
	tcache->high[ind] = opt.junk_free || opt.harden ||
	    tcache->frees_slow ? slot : slot + nslots;
}

/*
 * Opens bin ind on its first refill or push: a small class in the nursery
 * (tcache.h), a large one in its region.  Not at tcache_init(): writing
 * every bin's empty slot touched all the stack's pages (some 36 KiB) in
 * every thread, where a program uses a few classes.
 */
void
tcache_bin_open(struct tcache *tcache, unsigned ind)
{
	if (ind < SC_NBINS)
		tcache_bin_place(tcache, ind, tcache->stack +
		    ind * TCACHE_NURSERY_STRIDE + 1, TCACHE_NURSERY_NSLOTS, 0);
	else
		tcache_bin_place(tcache, ind, tcache->stack +
		    tcache_bin_start[ind], tcache_ncached_max[ind], 0);
}

/* Moves bin ind, with its blocks, from the nursery to its region. */
static void
tcache_bin_grow(struct tcache *tcache, unsigned ind)
{
	tcache_bin_place(tcache, ind, tcache->stack + tcache_bin_start[ind],
	    tcache_ncached_max[ind], tcache_bin_ncached(tcache, ind));
}

bool
tcache_init(struct tcache *tcache, struct arena *arena)
{
	void **stack;

	tcache->arena = arena;
	if (tcache_nbins == 0) {
		tcache_bins_clear(tcache);
		tcache->stack = NULL;
		return (false);
	}
	mlock_lock(&pool_lock);
	stack = stack_pool;
	if (stack != NULL)
		stack_pool = stack[0];
	mlock_unlock(&pool_lock);
	if (stack == NULL) {
		/*
		 * The nursery, then each bin's slots and the one below them
		 * (tcache_bin_open).  Page-aligned: the nursery's first 21
		 * classes (blocks up to 1280 bytes) then share one page.
		 */
		stack = base_alloc(tcache_stack_nslots * sizeof(void *), PAGE);
		if (stack == NULL)
			return (true);
	}
	tcache->stack = stack;
	tcache_bins_clear(tcache);	/* opened when first used */
	return (false);
}

void
tcache_bin_flush(struct tcache *tcache, unsigned ind, unsigned keep)
{
	void **low = tcache->low[ind];
	unsigned n, ncached = tcache_bin_ncached(tcache, ind), i;

	if (ncached <= keep)
		return;
	n = ncached - keep;
	/* Folded first, as nrequests goes to the arena and ncached to keep. */
	tcache->freed_bytes += tcache_bin_fast_freed(tcache, ind);
	tcache->moved[ind] = keep;
	/* Outside any lock: the blocks may be cold (tcache.h). */
	for (i = 0; i < n; i++)
		tcache_block_release(low[i], "free");
	if (ind < SC_NBINS)
		arena_bin_flush(low, n, ind, tcache->nrequests[ind],
		    tcache->arena);
	else {
		/*
		 * A large block's mark has done its work (a second entry in
		 * this flush failed the check above) and must not outlive it
		 * in the extent: handed out again as a class no cache holds,
		 * whose word alloc_finish() leaves alone, the block would
		 * carry it, realloc() would copy it into a small block, and
		 * that block would then read as freed.  A later free of this
		 * block finds its extent free in the pointer map.
		 */
		for (i = 0; i < n; i++) {
			FREE_KEY_WORD(low[i]) = 0;
			arena_large_dalloc(pmap_entry_extent(
			    pmap_lookup(low[i])));
		}
	}
	tcache->nrequests[ind] = 0;
	memmove(low, low + n, keep * sizeof(void *));
	tcache->top[ind] = low + keep;
}

void
tcache_flush(struct tcache *tcache)
{
	unsigned ind;

	for (ind = 0; ind < tcache_nbins; ind++)
		tcache_bin_flush(tcache, ind, 0);
}

void
tcache_check(struct tcache *tcache, const char *fn)
{
	unsigned ind;
	void **p;

	/* The first pass clears the keys it checked: a second entry fails. */
	for (ind = 0; ind < tcache_nbins; ind++)
		for (p = tcache->low[ind]; p < tcache->top[ind]; p++) {
			if (!tcache_block_ok(*p))
				double_free_found(*p, fn);
			FREE_KEY_WORD(*p) = 0;
		}
	for (ind = 0; ind < tcache_nbins; ind++)
		for (p = tcache->low[ind]; p < tcache->top[ind]; p++)
			FREE_KEY_WORD(*p) = free_key;
}

void
tcache_destroy(struct tcache *tcache)
{
	void **stack = tcache->stack;
	unsigned ind;

	tcache_flush(tcache);
	for (ind = 0; ind < tcache_nbins; ind++)	/* the fold, see above */
		tcache->freed_bytes += tcache_bin_fast_freed(tcache, ind);
	tcache_bins_clear(tcache);
	tcache->stack = NULL;
	if (stack == NULL)
		return;
	mlock_lock(&pool_lock);
	stack[0] = stack_pool;
	stack_pool = stack;
	mlock_unlock(&pool_lock);
}

void *
tcache_fill_pop(struct tcache *tcache, struct arena *arena, unsigned ind)
{
	unsigned got, i, n;
	uint64_t nrequests;
	uintptr_t key;
	void **low, *p;
	bool harden;

	nrequests = ++tcache->nrequests[ind];
	tcache->moved[ind]++;
	if (ind >= SC_NBINS)
		return (arena_large_alloc(arena, ind, PAGE, false));
	tcache_bin_ready(tcache, ind);
	/*
	 * Slow start: a refill takes no more blocks than the bin was asked
	 * for since its last flush, and at least a page's worth (one block
	 * for classes of a page or more), so a bin's first refills are small
	 * and the next ones double until they reach tcache_nfill.  Refilling
	 * writes the key into every block (tcache.h), so a full first refill
	 * touched up to TCACHE_FILL_BYTES for each class a program ever used
	 * once: perl -e 1 uses 28 classes.  A bin flushed to half keeps half
	 * its capacity, so by its next refill nrequests is past the full
	 * refill again; only a bin emptied by a whole flush starts over.
	 */
	n = tcache_nfill[ind];
	if (nrequests < n) {
		n = (unsigned)(PAGE / sz_index2size(ind));
		if (n < nrequests)
			n = (unsigned)nrequests;
		if (n == 0)
			n = 1;
		else if (n > tcache_nfill[ind])
			n = tcache_nfill[ind];
	}
	/*
	 * A bin in the nursery leaves it once it was asked for more blocks
	 * than the nursery holds; until then a refill fills half of it, as
	 * one fills half of a region, leaving the other half to frees.  The
	 * bin is empty.
	 */
	if (n > TCACHE_NURSERY_NSLOTS / 2 &&
	    tcache_bin_in_nursery(tcache, ind)) {
		if (nrequests > TCACHE_NURSERY_NSLOTS)
			tcache_bin_grow(tcache, ind);
		else
			n = TCACHE_NURSERY_NSLOTS / 2;
	}
	/* Requests are counted when the bin is flushed. */
	got = arena_bin_fill(arena, ind, tcache->low[ind], n, 0);
	if (got == 0)
		return (NULL);
	/*
	 * Blocks leave their slab with its mark or untouched, and cached
	 * blocks carry the key (tcache.h); the one returned is handed out,
	 * and alloc_finish() clears its word.  Under harden, cached blocks
	 * read as freed ones do (junk), so that the junk check when one is
	 * handed out holds for these too.
	 */
	low = tcache->low[ind];		/* in locals: the stores may alias */
	key = free_key;
	harden = opt.harden;
	for (i = 0; i + 1 < got; i++) {
		p = tcache_block_from_slab(low[i], "malloc");
		low[i] = p;
		if (unlikely(harden))
			memset(p, JUNK_FREE, sz_index2size(ind));
		FREE_KEY_WORD(p) = key;
	}
	p = tcache_block_from_slab(low[got - 1], "malloc");
	tcache->top[ind] = low + got - 1;
	tcache->moved[ind] += got - 1;
	return (p);
}

void
tcache_flush_push(struct tcache *tcache, unsigned ind, void *ptr)
{
	unsigned cap = tcache_bin_cap(tcache, ind);

	if (tcache_bin_ncached(tcache, ind) >= cap) {
		if (tcache_bin_in_nursery(tcache, ind))
			tcache_bin_grow(tcache, ind);
		else
			tcache_bin_flush(tcache, ind, cap / 2);
	}
	tcache_bin_push(tcache, ind, ptr);
}

void
tcache_prefork(void)
{
	mlock_lock(&pool_lock);
}

void
tcache_postfork_parent(void)
{
	mlock_unlock(&pool_lock);
}

void
tcache_postfork_child(void)
{
	mlock_postfork_child(&pool_lock);
}
