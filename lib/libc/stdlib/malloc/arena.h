/*
 * Arenas: each a complete allocator with its own locks, hooks, extent
 * caches, decay settings and statistics.  Threads are bound to arenas
 * round-robin on first use; created arenas (arenas.create) are the same
 * object.
 *
 * Locking: bins[i].lock protects that bin's slabs and stats; extent_lock
 * protects the extent caches, large stats, decay state and the hooks
 * pointer.  A bin lock may be held while taking extent_lock, never the
 * reverse.  The slots of waiting sample extents and their counters take
 * no lock (atomics, see arena_sample_alloc).
 */
#ifndef MALLOC_ARENA_H
#define	MALLOC_ARENA_H

#include <sys/types.h>

#include "decay.h"
#include "extent.h"
#include "lock.h"
#include "malloc_np.h"
#include "sizeclass.h"

#define	ARENAS_MAX	4096		/* MALLCTL_ARENAS_ALL and beyond */
#define	SC_NLARGE	(SC_NSIZES - SC_NBINS)

struct bin_stats {
	uint64_t	nmalloc;	/* regions handed out of slabs */
	uint64_t	ndalloc;	/* regions given back to slabs */
	uint64_t	nrequests;	/* allocation requests incl. tcache hits */
	uint64_t	nfills;
	uint64_t	nflushes;
	uint64_t	nslabs;		/* slabs created */
	uint64_t	nreslabs;	/* times slabcur was replaced */
	size_t		curregs;
	size_t		curslabs;
	size_t		nonfull_slabs;
};

struct bin {
	struct mlock		lock;
	struct extent		*slabcur;	/* slab regions come from first */
	struct extent		*spare;		/* one empty slab kept back */
	struct extent_list	nonfull;	/* other slabs with free regions */
	uint64_t		prng;		/* harden: region order */
	struct bin_stats	stats;
} CACHE_ALIGNED;

struct lextent_stats {
	uint64_t	nmalloc;
	uint64_t	ndalloc;
	uint64_t	nrequests;
	size_t		curlextents;
};

struct decay_stats {
	uint64_t	npurge;		/* sweeps */
	uint64_t	nmadvise;	/* madvise (or hook) calls */
	uint64_t	purged;		/* pages */
};

#define	ARENA_SAMPLES_MAX	8

/*
 * Field order is by when a field is first written, so that a new arena
 * (zeroed memory) has few pages resident: arena_new_locked writes the
 * scalars, the decay states and caches (without their arrays) and the
 * bins' locks, all within the first two pages; the decay backlogs, the
 * cache buckets and lstats, after them, are touched only once the arena
 * frees pages or allocates large.  (With the arrays inside their structs,
 * the five small heads were spread over 10 KiB after the bins: four pages
 * written.)  Every automatic arena is created the first time a thread is
 * bound to it, so this is paid once per thread up to narenas.
 */
struct arena {
	unsigned		ind;
	unsigned		nthreads;	/* atomic */
	struct mlock		extent_lock;
	/*
	 * Freed extents of sampled small blocks (see arena_sample_alloc):
	 * slots taken and filled without the lock (atomic; NULL: empty), and
	 * the moves through them, which the large statistics of class
	 * SC_NBINS do not count: a take is an allocation, a put a free
	 * (arena_sample_moves).  A sample touches these two cache lines of
	 * its arena and no lock.
	 */
	struct extent		*samples[ARENA_SAMPLES_MAX];
	uint64_t		sample_ntake, sample_nput;	/* atomic */
	unsigned		sample_last;	/* atomic: slot last filled */
	size_t			allocated_large;
	uint64_t		nmalloc_large, ndalloc_large;
	extent_hooks_t		*hooks;
	ssize_t			dirty_decay_ms;
	ssize_t			muzzy_decay_ms;
	size_t			grow_next;	/* next mapping size under retain */
	size_t			grow_limit;	/* retain_grow_limit */
	size_t			mapped;		/* bytes obtained from hooks */
	/* Of those, bytes in superpage-aligned, superpage-sized mappings. */
	size_t			mapped_superpage;
	struct decay_stats	decay_dirty, decay_muzzy;
	struct extent_list	active;		/* slabs and large, by lru link */
	struct decay		dirty_decay, muzzy_decay;
	struct ecache		dirty, retained, muzzy;
	struct bin		bins[SC_NBINS];
	/*
	 * The arrays of the caches and decay states above.  The retained
	 * buckets first: the first slab puts the rest of the arena's first
	 * mapping there, in a bucket that lands on the bins' second page.
	 */
	struct extent_list	retained_buckets[PSZ_N];
	struct extent_list	dirty_buckets[PSZ_N];
	struct extent_list	muzzy_buckets[PSZ_N];
	size_t			dirty_backlog[DECAY_NSTEPS];
	size_t			muzzy_backlog[DECAY_NSTEPS];
	struct lextent_stats	lstats[SC_NLARGE];
};

extern struct arena	*arenas[ARENAS_MAX];
extern unsigned		 narenas_auto;	/* arenas threads are spread over */
extern unsigned		 narenas_total;	/* atomic: auto + created */

/* An arena by index; create makes automatic arenas (ind < narenas_auto). */
struct arena	*arena_get(unsigned ind, bool create);
/* A new arena at the lowest free index >= narenas_auto (arenas.create). */
struct arena	*arena_create(extent_hooks_t *hooks);

/*
 * Small: fills out[] with up to n regions of class ind; returns how many.
 * nrequests is added to the bin's request count under the same lock.
 * Regions never handed out before are tagged FILL_UNTOUCHED (tcache.h).
 */
unsigned	 arena_bin_fill(struct arena *arena, unsigned ind, void **out,
		    unsigned n, uint64_t nrequests);
/*
 * Gives n small regions back to their slabs, whatever their arenas; each
 * already carries the slab mark (tcache_block_release).
 */
void		 arena_bin_flush(void **ptrs, unsigned n, unsigned ind,
		    uint64_t nrequests, struct arena *requester);
void		*arena_malloc(struct arena *arena, unsigned ind, bool zero);
void		*arena_palloc(struct arena *arena, size_t usize,
		    size_t alignment, bool zero);
void		 arena_dalloc(struct extent *ext, void *ptr, const char *fn);
void		*arena_large_alloc(struct arena *arena, unsigned ind,
		    size_t alignment, bool zero);
void		 arena_large_dalloc(struct extent *ext);
/*
 * A sampled small block of class ind (heap profiling) on an extent of its
 * own, of the smallest large class, and its free.
 */
struct extent	*arena_sample_alloc(struct arena *arena, unsigned ind,
		    bool zero);
void		 arena_sample_dalloc(struct extent *ext);

/*
 * The moves through the sample slots, which a reader of the large
 * statistics adds to class SC_NBINS's: ntake allocations, nput frees.
 */
static inline void
arena_sample_moves(struct arena *arena, uint64_t *ntake, uint64_t *nput)
{
	/* nput first: a put precedes the take of the same extent. */
	*nput = __atomic_load_n(&arena->sample_nput, __ATOMIC_ACQUIRE);
	*ntake = __atomic_load_n(&arena->sample_ntake, __ATOMIC_ACQUIRE);
}

/* allocated_large with the moves through the slots (arena_sample_moves). */
static inline size_t
arena_large_allocated(const struct arena *arena, uint64_t ntake,
    uint64_t nput)
{
	return (arena->allocated_large +
	    (size_t)(ntake - nput) * sz_index2size(SC_NBINS));
}
/* Resizes a large allocation in place; false on success. */
bool		 arena_large_resize(struct extent *ext, unsigned new_ind,
		    bool zero);
/*
 * Grows a large allocation by moving its pages (mremap) rather than
 * copying them; returns the new address, or NULL if it cannot or if a
 * copy would do better (copy_here: the caller's copy would come from
 * ext's arena, whose dirty cache has room).  zero: the new bytes read as
 * zero.
 */
void		*arena_large_remap(struct extent *ext, unsigned new_ind,
		    bool zero, bool copy_here);

void	arena_decay(struct arena *arena, bool all);
/* The periodic decay of the slow paths: skipped if the arena is busy. */
void	arena_decay_tick(struct arena *arena);
/* When arena_decay next has work, or UINT64_MAX (background threads). */
uint64_t arena_decay_next_ns(struct arena *arena);
/* Nanoseconds on the clock decay runs on. */
uint64_t arena_clock_ns(void);
/*
 * Discards every allocation of the arena (arena.<i>.reset); the caller
 * guarantees no thread cache holds its objects.  destroy also returns
 * every page through the hooks and frees the index; it fails (true) while
 * threads are bound to the arena.
 */
void	arena_reset(struct arena *arena);
bool	arena_destroy(struct arena *arena);
/* Fork: the arena table's lock and every arena's locks, in rank order. */
void	arenas_prefork(void);
void	arenas_postfork_parent(void);
void	arenas_postfork_child(void);

/* Smallest usable size >= size whose regions are aligned to alignment. */
size_t	sz_sa2u(size_t size, size_t alignment);

#endif /* !MALLOC_ARENA_H */
