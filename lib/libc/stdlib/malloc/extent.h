/*
 * Extents: page runs and the per-arena caches of free ones.
 *
 * An extent is either active (a slab or a large allocation) or free in one
 * of its arena's three caches, named for the state of its pages:
 *	dirty		freed, pages still resident
 *	muzzy		purged lazily (MADV_FREE): the kernel may take them
 *	retained	purged for good (MADV_DONTNEED) or never touched: only
 *			address space, zero-filled on reuse
 * Free extents coalesce with free neighbours of the same cache at once.
 * Allocation searches dirty, then muzzy, then retained, best fit by
 * page-size class and, within a class, the smallest of its oldest few
 * extents (the lowest address among equals), and grows the arena
 * through its hooks only when all three miss.  Before leaving the dirty
 * cache it tries a dirty extent joined with the muzzy or retained
 * neighbour part it lacks, and a grown mapping that borders a dirty
 * extent is joined the same way, so that freed pages are reused rather
 * than fresh ones faulted in (arena.c).  Decay moves extents from dirty
 * to muzzy to retained as they age (decay.c).
 *
 * Everything here runs under the arena's extent_lock.
 */
#ifndef MALLOC_EXTENT_H
#define	MALLOC_EXTENT_H

#include "compat.h"
#include "sizeclass.h"

struct arena;

enum extent_state {
	EXTENT_ACTIVE,
	EXTENT_DIRTY,
	EXTENT_MUZZY,
	EXTENT_RETAINED,
};

struct extent_link {
	struct extent	*prev, *next;
};

struct extent_list {
	struct extent	*head, *tail;
};

/*
 * Invariants: addr and size are page multiples; addr is the first field,
 * read by free()'s fast path.  A slab maps every page in the pointer map,
 * any other extent its first and last page only.  bitmap bit i set means
 * region i is free; nfree counts the set bits.
 */
struct extent {
	/* What freeing a region reads and writes, in the first cache line. */
	uintptr_t		addr;
	struct arena		*arena;
	uint8_t			state;
	uint8_t			szind;		/* active: size class */
	bool			slab;
	bool			in_nonfull;	/* slab on its bin's list */
	uint16_t		nfree;
	uint16_t		untouched;	/* slab: regions from here up
						   never handed out */
	bool			zeroed;		/* every page reads as zero */
	bool			decommitted;	/* retained, decommitted by hooks */
	union {
		/* A slab's regions. */
		uint64_t	bitmap[SC_BITMAP_WORDS];
		/*
		 * Any other extent, read only when it is not a slab: a
		 * sampled allocation's record (prof.c), or
		 * EXTENT_SAMPLE_FREED while the extent of a freed sample
		 * waits in its arena for the next one (arena_sample_dalloc;
		 * freeing its block again then is a double free), and then
		 * sample_szind, the class its pointer-map entries give.  In
		 * the first cache line, with addr: a sample's free reads
		 * no other.
		 */
		struct {
			void	*prof_tctx;
			uint8_t	 sample_szind;
		};
	};
	size_t			size;
	bool			guarded;	/* last page is a guard (harden) */
	struct extent_link	link;		/* cache bucket or bin list */
	struct extent_link	lru;		/* cache age order */
} CACHE_ALIGNED;

#define	EXTENT_SAMPLE_FREED	((void *)1)

/*
 * The buckets (PSZ_N lists) are an array of the owner's, apart from these
 * fields: a new arena writes only the state, beside its other small
 * fields, and the buckets' pages stay untouched until it caches pages
 * (arena.h).
 */
struct ecache {
	enum extent_state	state;
	size_t			npages;
	struct extent_list	lru;		/* oldest at head */
	uint64_t		nonempty[(PSZ_N + 63) / 64];
	struct extent_list	*buckets;
};

/* cache's memory and buckets are zero (a new arena's). */
void	ecache_init(struct ecache *cache, enum extent_state state,
	    struct extent_list *buckets);
void	ecache_insert(struct ecache *cache, struct extent *ext);
/* Inserts as the oldest extent (the unpurged rest of a partial purge). */
void	ecache_insert_oldest(struct ecache *cache, struct extent *ext);
void	ecache_remove(struct ecache *cache, struct extent *ext);
/*
 * A best-fit extent that can hold size bytes at alignment (the smallest of
 * its class's oldest few: extent.c, bucket_best), removed.
 */
struct extent *ecache_take(struct ecache *cache, size_t size, size_t alignment);
/* Whether ecache_take would find an extent of size bytes (page-aligned). */
bool	ecache_has_fit(const struct ecache *cache, size_t size);
/* The highest non-empty bucket below bucket b, or -1 if there is none. */
int	ecache_bucket_below(const struct ecache *cache, int b);

struct extent	*extent_desc_alloc(void);
void		 extent_desc_free(struct extent *ext);
void		 extent_desc_prefork(void);
void		 extent_desc_postfork_parent(void);
void		 extent_desc_postfork_child(void);

void	extent_list_append(struct extent_list *list, struct extent *ext,
	    size_t link_off);
void	extent_list_remove(struct extent_list *list, struct extent *ext,
	    size_t link_off);

#define	LINK_OFF	offsetof(struct extent, link)
#define	LRU_OFF		offsetof(struct extent, lru)

#endif /* !MALLOC_EXTENT_H */
