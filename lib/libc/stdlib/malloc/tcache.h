/*
 * Thread caches: per size class a LIFO stack of pointers, as jemalloc's
 * cache_bin.  A pop is a load and a decrement, a push a store and an
 * increment; batches move between a stack and the arena under one lock.
 *
 * Bin ind's items are [low[ind], top[ind]).  free's fast path compares
 * top with high (full?); high is where the fast path stops pushing, below
 * the real capacity when a mode needs every free on the slow path (junk
 * on free, quarantine).  malloc's fast path makes no empty test: the slot
 * below every bin's low holds tcache_empty_block, whose key word is never
 * free_key (not even 0, free_key before initialisation), so popping it
 * fails the double-free check that malloc makes anyway, and the slow path
 * then sees top == low.  A disabled bin is low == top == high ==
 * TCACHE_EMPTY, one slot past a static one holding the empty block: both
 * paths slow.  A fresh thread's bins start so (tsd.c initialises the TLS),
 * and so do a new cache's until a slow path first uses them (open).
 *
 * A small-class bin opens in the nursery at the start of the stack,
 * TCACHE_NURSERY_NSLOTS slots (and the empty block's) per class, and
 * moves to its own region of tcache_ncached_max[ind] slots when a push
 * finds it full or a refill wants more (tcache_bin_grow): a refill and
 * the bin's pushes write the slots they use, and with every bin's region
 * apart, a program that used one block of each of 20 classes wrote the
 * first slots of 20 regions spread over the whole stack (5 pages of 18
 * KiB); in the nursery, its 20 bins share one page.
 *
 * The fields are parallel arrays rather than an array of bin structs: in
 * the thread's own cache (at offset 0 of initial-exec TLS, see tsd.h)
 * top[ind] is then one %fs-relative load with ind as a scaled index, where
 * a struct would first need its address computed.
 */
#ifndef MALLOC_TCACHE_H
#define	MALLOC_TCACHE_H

#include "compat.h"
#include "sizeclass.h"

#define	TCACHE_NBINS_MAX	40	/* classes up to SC_LOOKUP_MAX */

struct arena;

struct tcache {
	void		**top[TCACHE_NBINS_MAX];
	void		**low[TCACHE_NBINS_MAX];
	void		**high[TCACHE_NBINS_MAX];
	/* Hits and misses since the bin was last flushed. */
	uint64_t	nrequests[TCACHE_NBINS_MAX];
	/*
	 * Frees into the cache are not counted where they happen (free's
	 * fast path stores no counter): ncached + nrequests grows by one with
	 * each, and every other change to that sum is added to moved, so the
	 * fast path's frees since the bin's last fold (tcache.c) number
	 * ncached + nrequests - moved, modulo 2^64.  freed_bytes holds the
	 * folded ones.  Only the thread's own cache gets fast-path frees.
	 */
	uint64_t	moved[TCACHE_NBINS_MAX];
	uint64_t	freed_bytes;
	void		**stack;	/* memory behind the bins */
	struct arena	*arena;		/* arena stats are merged to */
	bool		frees_slow;	/* every free on the slow path */
};

/*
 * Double frees, without loading a freed block in free().  Two random
 * per-process words (malloc.c; never zero, never equal): free_key and
 * slab_mark, kept in a small block's second word, its key word.
 * Invariants:
 *	- every block a thread cache holds has free_key in its key word:
 *	  free stores it when it pushes, a refill when it fills;
 *	- every block back in its slab has slab_mark there: both ways back
 *	  write it, a flush (tcache_block_release) and a direct free
 *	  (arena_dalloc), before the region's bit is set;
 *	- a block handed out has neither: malloc clears the word;
 *	- regions of a slab from its untouched index up were never handed
 *	  out and carry anything (arena.c); arena_bin_fill tags them.
 * A block freed twice is in a cache twice, or in a cache and its slab.
 * Whichever entry is met second finds the word wrong: a malloc or a
 * flush (or a thread's exit, or exit()) meeting the cached entry finds
 * no key (the first entry's malloc cleared it, its flush marked it); a
 * refill taking the slab's entry, or the slab's destruction once all of
 * its regions read as free, finds no mark (the second free wrote the key
 * over it, or the cached entry was handed out and cleared).  Either way
 * double_free_found() stops the process before the block can have two
 * owners: its memory is neither handed out again nor given to another
 * extent.  free()'s fast path itself only compares the block with the
 * top of its bin (free(p); free(p)); its slow path (validate) loads the
 * key word and catches a block cached or back in its slab at once.
 *
 * One word rather than a key and a separate slab mark (until 2026-11):
 * malloc checks one load, 3 instructions fewer, and the refill, which
 * writes every block it caches anyway, checks the mark.
 */
#define	FREE_KEY_WORD(p)	(((uintptr_t *)(p))[1])
extern HIDDEN uintptr_t	free_key;
extern HIDDEN uintptr_t	slab_mark;
COLD __attribute__((noreturn)) void
	double_free_found(const void *ptr, const char *fn);

/* Whether a cache entry's block reads as one cached block should. */
ALWAYS_INLINE bool
tcache_block_ok(const void *p)
{
	return (FREE_KEY_WORD(p) == free_key);
}

/*
 * A block goes back to its slab or extent from a cache: checks it and
 * marks it, so that a second entry in the same flush fails the check.
 */
ALWAYS_INLINE void
tcache_block_release(void *p, const char *fn)
{
	if (unlikely(!tcache_block_ok(p)))
		double_free_found(p, fn);
	FREE_KEY_WORD(p) = slab_mark;
}

/*
 * arena_bin_fill() tags the regions it hands out that were never handed
 * out before; the others must carry the slab's mark.  Returns the block.
 */
#define	FILL_UNTOUCHED	((uintptr_t)1)
ALWAYS_INLINE void *
tcache_block_from_slab(void *tagged, const char *fn)
{
	uintptr_t p = (uintptr_t)tagged;

	if (p & FILL_UNTOUCHED)
		return ((void *)(p & ~FILL_UNTOUCHED));
	if (unlikely(FREE_KEY_WORD(p) != slab_mark))
		double_free_found((void *)p, fn);
	return ((void *)p);
}

/* The slot below every bin (see the top of this file). */
extern HIDDEN const uintptr_t	tcache_empty_block[2];
extern HIDDEN void *const	tcache_empty_slot[1];
#define	TCACHE_EMPTY	((void **)&tcache_empty_slot[1])

/* Classes the caches hold, and each bin's capacity; set at boot. */
extern HIDDEN unsigned	tcache_nbins;
extern HIDDEN uint16_t	tcache_ncached_max[TCACHE_NBINS_MAX];
/* How many blocks a refill asks for. */
extern HIDDEN uint16_t	tcache_nfill[TCACHE_NBINS_MAX];
#define	TCACHE_FILL_BYTES	((size_t)16 << 10)
extern HIDDEN size_t	tcache_stack_nslots;
/* Where bin ind's slots start in a stack, past the nursery. */
extern HIDDEN uint32_t	tcache_bin_start[TCACHE_NBINS_MAX];
/*
 * The nursery: TCACHE_NURSERY_NSLOTS slots for each small class, below
 * them one for the empty block (192 bytes a class), at the stack's start.
 */
#define	TCACHE_NURSERY_NSLOTS	23
#define	TCACHE_NURSERY_STRIDE	(TCACHE_NURSERY_NSLOTS + 1)

void	tcache_boot(void);
/* Gives the bins storage; false on success. */
bool	tcache_init(struct tcache *tcache, struct arena *arena);
/* Flushes everything and returns the storage; the bins end disabled. */
void	tcache_destroy(struct tcache *tcache);
void	tcache_flush(struct tcache *tcache);
/*
 * Checks every entry as a flush would, giving nothing back: a block
 * freed twice whose entries nothing met yet is reported (at exit).
 */
void	tcache_check(struct tcache *tcache, const char *fn);
void	tcache_bin_open(struct tcache *tcache, unsigned ind);
/* Bytes freed into the cache by free's fast path, ever. */
uint64_t tcache_fast_freed(const struct tcache *tcache);
/* From now on every free into the cache takes the slow path. */
void	tcache_frees_slow(struct tcache *tcache);

/* Bin ind (< tcache_nbins) of a cache with a stack, ready to push into. */
ALWAYS_INLINE void
tcache_bin_ready(struct tcache *tcache, unsigned ind)
{
	if (unlikely(tcache->low[ind] == TCACHE_EMPTY))
		tcache_bin_open(tcache, ind);
}

/* Refills an empty bin and pops one item, or NULL. */
void	*tcache_fill_pop(struct tcache *tcache, struct arena *arena,
	    unsigned ind);
/* Makes room in a full bin by flushing its oldest half, then pushes. */
void	tcache_flush_push(struct tcache *tcache, unsigned ind, void *ptr);
void	tcache_bin_flush(struct tcache *tcache, unsigned ind, unsigned keep);
void	tcache_prefork(void);
void	tcache_postfork_parent(void);
void	tcache_postfork_child(void);

ALWAYS_INLINE unsigned
tcache_bin_ncached(const struct tcache *tcache, unsigned ind)
{
	return ((unsigned)(tcache->top[ind] - tcache->low[ind]));
}

/* Whether open bin ind is in the nursery (see the top of this file). */
ALWAYS_INLINE bool
tcache_bin_in_nursery(const struct tcache *tcache, unsigned ind)
{
	return (tcache->low[ind] < tcache->stack + tcache_bin_start[0]);
}

/* How many blocks open bin ind can hold where it is. */
ALWAYS_INLINE unsigned
tcache_bin_cap(const struct tcache *tcache, unsigned ind)
{
	return (tcache_bin_in_nursery(tcache, ind) ? TCACHE_NURSERY_NSLOTS :
	    tcache_ncached_max[ind]);
}

/* A push off free's fast path, which must not count as one of its frees. */
ALWAYS_INLINE void
tcache_bin_push(struct tcache *tcache, unsigned ind, void *ptr)
{
	*tcache->top[ind]++ = ptr;
	tcache->moved[ind]++;
}

#endif /* !MALLOC_TCACHE_H */
