/*
 * Thread caches: per size class a LIFO stack of pointers, as jemalloc's
 * cache_bin.  A pop is a load and a decrement, a push a store and an
 * increment; batches move between a stack and the arena under one lock.
 *
 * Bin ind's items are [low[ind], top[ind]).  The fast paths compare top
 * with low (malloc: empty?) and with high (free: full?).  high is where the
 * fast path stops pushing; it is below the real capacity (cap) when a mode
 * needs every free on the slow path (junk on free, quarantine), and equal
 * to low when the bin is disabled (low == top == high: both paths slow).
 * The all-zero bin of a fresh thread is therefore disabled too.
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
	void		**stack;	/* memory behind the bins */
	struct arena	*arena;		/* arena stats are merged to */
};

/*
 * Double frees, without loading a freed block in free().  Two random
 * per-process words (malloc.c; never zero, never a user-space address):
 * free_key and slab_mark.  A small block's second word is its key word,
 * its first word its mark word.  Invariants:
 *	- every block a thread cache holds has free_key in its key word:
 *	  free stores it when it pushes, a refill when it fills;
 *	- every block back in its slab has slab_mark in its mark word and
 *	  not free_key in its key word: the flush (or direct free) that
 *	  gives it back checks the key and writes both;
 *	- a block handed out has neither: malloc clears the key word, and
 *	  blocks leaving a slab get both words cleared.
 * A block freed twice is in a cache twice, or in a cache and its slab.
 * Whichever entry is met second, by an allocation or a flush, finds no
 * key, or finds the slab's mark under the key written by the second free:
 * double_free_found() stops the process before the block can have two
 * owners.  free()'s fast path itself only compares the block with the
 * top of its bin (free(p); free(p)); its slow path (validate) loads the
 * key word and catches the rest at once.  The words are those of the
 * smallest class (16 bytes).
 */
#define	FREE_KEY_WORD(p)	(((uintptr_t *)(p))[1])
#define	SLAB_MARK_WORD(p)	(((uintptr_t *)(p))[0])
extern HIDDEN uintptr_t	free_key;
extern HIDDEN uintptr_t	slab_mark;
COLD __attribute__((noreturn)) void
	double_free_found(const void *ptr, const char *fn);

/* Whether a cache entry's block reads as one cached block should. */
ALWAYS_INLINE bool
tcache_block_ok(const void *p)
{
	return (FREE_KEY_WORD(p) == free_key && SLAB_MARK_WORD(p) != slab_mark);
}

/* A block goes back to its slab: the words of one there. */
ALWAYS_INLINE void
tcache_block_mark_slab(void *p)
{
	SLAB_MARK_WORD(p) = slab_mark;
	FREE_KEY_WORD(p) = 0;
}

/* A block goes back to its slab or extent from a cache: checks and marks. */
ALWAYS_INLINE void
tcache_block_release(void *p, const char *fn)
{
	if (unlikely(!tcache_block_ok(p)))
		double_free_found(p, fn);
	tcache_block_mark_slab(p);
}

/* Classes the caches hold, and each bin's capacity; set at boot. */
extern HIDDEN unsigned	tcache_nbins;
extern HIDDEN uint16_t	tcache_ncached_max[TCACHE_NBINS_MAX];
/* How many blocks a refill asks for. */
extern HIDDEN uint16_t	tcache_nfill[TCACHE_NBINS_MAX];
#define	TCACHE_FILL_BYTES	((size_t)16 << 10)
extern HIDDEN size_t	tcache_stack_nslots;

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

#endif /* !MALLOC_TCACHE_H */
